"""Exponential backoff: the one way every retry loop in the product (and the emulator) spaces its attempts.

`delay(attempt)` is `min(cap, base * 2**attempt)`, minus a random share of it: `jitter=1.0` is full jitter (a
wait anywhere in [0, ceiling]), which spreads retries from many workers so they do not hit a service together;
`jitter=0` is the exact schedule (the emulator's Connect retries, which tests observe).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_MAX_DOUBLINGS = 60  # 2**60 times any base is past every cap; keeps the float finite for any attempt number


@dataclass(frozen=True)
class Backoff:
    base: float
    cap: float
    jitter: float = 1.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt + 1` (the first retry is attempt 0)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(max(0, attempt), _MAX_DOUBLINGS))
        return ceiling - ceiling * self.jitter * random.random()
