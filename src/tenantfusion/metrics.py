"""Prometheus metrics shared by the domains (exposed at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "tenantfusion_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "tenantfusion_http_request_seconds", "HTTP request latency", ["method", "route"]
)
POOL_CALLS = Counter(
    "tenantfusion_pool_calls_total", "Calls into pools", ["pool", "operation", "outcome"]
)
POOL_TOKEN_ISSUES = Counter(
    "tenantfusion_pool_token_issues_total", "Keystone tokens obtained from pools", ["pool"]
)
JOB_QUEUE_DEPTH = Gauge("tenantfusion_job_queue_depth", "Jobs waiting to run")
POOL_BREAKER_STATE = Gauge(
    "tenantfusion_pool_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open", ["pool"]
)
