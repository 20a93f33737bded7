"""Reading `/metrics` the way Prometheus does: one sample's value, so a test asserts that it moved.

Series exist from import time (a Gauge reads 0, a Counter may have been raised by an earlier test in the same
process), so "the name appears in the text" proves nothing; tests compare a sample before and after.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name{labels}` (0 when absent, as Prometheus treats a series not yet created)."""
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return float(item.value)
    return 0.0
