"""Daily limits: how many images each user may make per UTC day.

The counters live in the history index, so every process on one outputs folder shares
them and a restart forgets nothing; the day comes from one clock (a test can set it).
The generator takes a slot before the API call and gives it back when no image came.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import DailyLimitError
from .history import HistoryIndex

USAGE_DAYS = 30  # what the Usage tab and `launch.py usage` show by default


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DailyLimits:
    """Images per user per UTC day; `is_admin` exempts the admin unless `admin` is set."""

    per_user: int | None = None
    admin: int | None = None
    is_admin: Callable[[str | None], bool] = lambda name: False

    def limit_for(self, user: str | None) -> int | None:
        return self.admin if self.is_admin(user) else self.per_user


@dataclass
class Quota:
    """The daily limits, counted in `index` by `clock`'s UTC day."""

    index: HistoryIndex
    limits: DailyLimits = field(default_factory=DailyLimits)
    clock: Callable[[], datetime] = utc_now

    def today(self) -> str:
        """Today's date (YYYY-MM-DD, UTC): the quota day."""
        return self.clock().astimezone(UTC).strftime("%Y-%m-%d")

    def take(self, user: str | None) -> str | None:
        """Reserve one of today's images; the day reserved, None if unlimited. DailyLimitError when used up."""
        limit = self.limits.limit_for(user)
        if limit is None:
            return None
        day = self.today()
        granted, used = self.index.reserve_quota(user or "", day, limit)
        if not granted:
            midnight = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)
            raise DailyLimitError(used, limit, midnight)
        return day

    def give_back(self, user: str | None, day: str) -> None:
        """An image reserved on `day` never came: it does not count."""
        self.index.release_quota(user or "", day)

    def allowance(self, user: str | None) -> tuple[int, int] | None:
        """(images `user` may still make today, their daily limit); None when no limit applies."""
        limit = self.limits.limit_for(user)
        if limit is None:
            return None
        return max(0, limit - self.index.quota_used(user or "", self.today())), limit

    def usage(self, days: int = USAGE_DAYS) -> list[dict[str, Any]]:
        """Images and inference time per day, user and model, for the `days` days ending today."""
        return self.index.usage(days, self.today())
