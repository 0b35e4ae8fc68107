"""The service's Prometheus metrics, in a registry of its own (one per app, so tests can build several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Milliseconds matter for a 50 ms SLA: buckets from 0.5 ms to 1 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "adrank_requests", "HTTP requests answered", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "adrank_request_seconds", "HTTP request latency", ["endpoint"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.stage = Histogram(
            "adrank_stage_seconds", "Time per request-path stage, per batch", ["stage"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.batch_size = Histogram(
            "adrank_batch_size", "Requests scored together", buckets=BATCH_BUCKETS, registry=self.registry
        )
        self.tier = Counter("adrank_auctions", "Auctions per tier", ["tier"], registry=self.registry)
        self.events = Counter("adrank_events", "Events recorded", ["kind"], registry=self.registry)
        self.artifacts_loaded = Gauge(
            "adrank_artifacts_loaded_timestamp_seconds", "When the serving artifacts were loaded",
            registry=self.registry,
        )  # fmt: skip
        self.reloads = Counter("adrank_reloads", "Artifact reloads", ["outcome"], registry=self.registry)
