"""The in-memory tables: bounded, expiring by the injected clock, single-use where it matters."""

from __future__ import annotations

from idsvc.devidp.store import ExpiringMap


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = ManualClock()
    table: ExpiringMap[str, int] = ExpiringMap(ttl=60, capacity=10, clock=clock)
    table.put("a", 1)
    clock.now += 59.9
    assert table.get("a") == 1
    assert "a" in table
    clock.now += 0.1
    assert table.get("a") is None
    assert "a" not in table


def test_putting_purges_only_expired_entries() -> None:
    clock = ManualClock()
    table: ExpiringMap[str, int] = ExpiringMap(ttl=60, capacity=10, clock=clock)
    table.put("old", 1)
    clock.now += 30
    table.put("young", 2)
    clock.now += 31
    table.put("new", 3)
    assert (table.get("old"), table.get("young"), table.get("new")) == (None, 2, 3)
    assert len(table._entries) == 2


def test_capacity_drops_the_oldest_entry() -> None:
    clock = ManualClock()
    table: ExpiringMap[int, int] = ExpiringMap(ttl=60, capacity=3, clock=clock)
    for key in range(5):
        table.put(key, key)
    assert [table.get(key) for key in range(5)] == [None, None, 2, 3, 4]
    assert len(table._entries) == 3


def test_pop_is_single_use() -> None:
    table: ExpiringMap[str, int] = ExpiringMap(ttl=60, capacity=3, clock=ManualClock())
    table.put("a", 1)
    assert table.pop("a") == 1
    assert table.pop("a") is None
