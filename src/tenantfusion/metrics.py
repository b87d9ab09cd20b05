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
POOL_STATUS = Gauge(
    "tenantfusion_pool_status", "Pool health: 0 ok, 1 degraded, 2 unreachable", ["pool"]
)
RECONCILE_FINDINGS = Gauge(
    "tenantfusion_reconcile_findings",
    "What the last reconcile of a pool found, by kind of finding",
    ["pool", "kind"],
)
RECONCILE_RUNS = Counter(
    "tenantfusion_reconcile_runs_total", "Reconcile loop passes and pool jobs", ["outcome"]
)
TOKEN_CACHE = Counter(
    "tenantfusion_token_cache_total",
    "Platform token checks answered from the in-process cache (hit) or the database (miss)",
    ["result"],
)
LIST_RECORDS = Counter(
    "tenantfusion_list_records_total",
    "Where a v1 list's routing records came from: kept in memory, read from the database, "
    "or read again because a pool listed an object of the tenant's they did not know",
    ["source"],
)
