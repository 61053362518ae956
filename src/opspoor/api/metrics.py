"""Prometheus metrics of one server process (each worker process exports its own; sum them in PromQL)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Latency buckets around the service's target (p99 <= 20 ms for a single-hash lookup).
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "opspoor_http_requests",
            "HTTP requests answered.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "opspoor_http_request_seconds",
            "Time to answer, by route.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "opspoor_verdicts",
            "Verdicts given, by kind of check.",
            ["kind", "verdict"],
            registry=self.registry,
        )
        self.index_entries = Gauge(
            "opspoor_index_entries", "Active entries in the index.", registry=self.registry
        )
        self.index_age = Gauge(
            "opspoor_index_age_seconds",
            "Seconds since the index last applied list changes.",
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)
