"""A stand-in for `time.sleep` between API retries: it records each pause and returns at once.

Pass it as `retry_wait` (a Settings field, an ImageService argument): a test then proves
the waits were the right ones (Retry-After honoured, back-off growing) without waiting.
"""

from __future__ import annotations


class RecordedWaits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)
