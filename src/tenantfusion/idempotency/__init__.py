"""Idempotency-Key on mutating API calls: a retried request gets the first answer back."""
