# SPDX-License-Identifier: Apache-2.0
"""Prometheus metrics of the CDS service (own registry; no patient data in any label)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .feedback import OUTCOMES

REQUEST_OUTCOMES = (
    "cards",
    "no_card",
    "unauthorized",
    "bad_request",
    "too_large",
    "insufficient_data",
    "busy",
    "error",
)


class ServeMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("poems_fhir_cds_requests", "patient-view requests by outcome", ["outcome"], registry=r)
        self.cards = Counter("poems_fhir_cds_cards", "Cards returned by indicator", ["indicator"], registry=r)
        self.data = Counter(
            "poems_fhir_cds_data",
            "Prefetch keys answered by the EHR's prefetch or fetched from its fhirServer",
            ["source"],
            registry=r,
        )
        self.feedback = Counter(
            "poems_fhir_cds_feedback", "Card feedback received since start, by outcome", ["outcome"], registry=r
        )
        self.feedback_stored = Gauge(
            "poems_fhir_cds_feedback_stored", "Card feedback in the store, by outcome", ["outcome"], registry=r
        )
        self.seconds = Histogram(
            "poems_fhir_cds_evaluation_seconds",
            "Time from request to cards",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        for o in REQUEST_OUTCOMES:
            self.requests.labels(o)
        for o in OUTCOMES:
            self.feedback.labels(o)
        for s in ("prefetch", "fhir_server"):
            self.data.labels(s)
