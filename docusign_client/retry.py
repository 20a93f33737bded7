"""When to try a DocuSign call again, and how long to wait first.

Full-jitter exponential backoff (a random wait in [0, min(cap, base * 2**attempt)]) spreads retries from many
workers so they do not hit DocuSign's burst limit together. A wait DocuSign asked for (`Retry-After`, or
`X-RateLimit-Reset` once the hourly budget is spent) is honoured as a floor; if it is longer than the cap, the
call fails at once with `RateLimited.retry_after` instead of holding a tool call for up to an hour.

Only failures that may succeed later are retried (limits, 5xx, timeouts, dropped connections); any other 4xx is
DocuSign's definite answer and is raised at once. Whether a retry is *safe* is the caller's business: creating an
envelope is never retried blindly (see `DocuSignClient.create_envelope`).
"""

from __future__ import annotations

from dataclasses import dataclass

from docusign_agent.backoff import Backoff
from docusign_client.errors import DocuSignError, RateLimited


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, attempt: int) -> float:
        return Backoff(base=self.base_delay, cap=self.max_delay, jitter=1.0).delay(attempt)

    def delay(self, error: DocuSignError, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up and raise `error`."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        wait = self.backoff(attempt)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.max_delay:
                return None
            wait = max(wait, error.retry_after)
        return wait
