"""The tests' clocks. idsvc takes a clock that answers an aware ``datetime``; code that
takes seconds (the demo provider, Authlib's checks) gets ``clock.timestamp``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock", "WallClock"]


class FakeClock:
    """A clock tests move by hand; time never passes on its own."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        self.start = self.now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def reset(self) -> None:
        """Back to where it started (for a clock a whole session shares)."""
        self.now = self.start

    def timestamp(self) -> float:
        """The same instant in seconds since the epoch."""
        return self().timestamp()


class WallClock(FakeClock):
    """Real time, for tests where another process (a CLI, a gateway, a browser's cookie jar)
    uses the wall clock; ``advance`` still moves it forward by an offset."""

    def __call__(self) -> datetime:
        return datetime.now(UTC) + (self.now - self.start)
