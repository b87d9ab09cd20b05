"""API keys: per-user HMAC keys that sign requests per RFC 9421 (HTTP Message Signatures)."""
