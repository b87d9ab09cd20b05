"""The tenantfusion command-line client: talks to the HTTP API only."""
