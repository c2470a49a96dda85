"""The rotation schedule as pure functions: exactly one current key at every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idsvc.keys.schedule import (
    KeyTimes,
    Plan,
    RotationPolicy,
    emergency_plan,
    key_state,
    manual_rotation_plan,
    scheduled_plan,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = RotationPolicy(
    rotation_interval=timedelta(days=30),
    publish_ahead=timedelta(days=1),
    verify_window=timedelta(seconds=3660),
)


def apply(keys: list[KeyTimes], plan: Plan, counter: list[int]) -> list[KeyTimes]:
    by_kid = {k.kid: k for k in keys}
    for times in plan.reschedule:
        by_kid[times.kid] = times
    for kid in plan.revoke:
        by_kid[kid] = msgspec.structs.replace(
            by_kid[kid], revoked_at=max(k.published_at for k in by_kid.values())
        )
    for times in plan.create:
        counter[0] += 1
        kid = f"k{counter[0]}"
        by_kid[kid] = msgspec.structs.replace(times, kid=kid)
    return list(by_kid.values())


def current_keys(keys: list[KeyTimes], at: datetime) -> list[str]:
    return [k.kid for k in keys if key_state(k, at) == "current"]


def test_first_start_signs_at_once_and_publishes_a_next_key() -> None:
    counter = [0]
    keys = apply([], scheduled_plan([], T0, POLICY), counter)
    assert current_keys(keys, T0) == ["k1"]
    keys = apply(keys, scheduled_plan(keys, T0, POLICY), counter)
    assert [key_state(k, T0) for k in keys] == ["current", "next"]
    # The next key takes over exactly when the current one retires: no gap, no overlap.
    assert keys[1].activates_at == keys[0].retires_at
    assert keys[1].activates_at - keys[1].published_at >= POLICY.publish_ahead
    assert scheduled_plan(keys, T0, POLICY).empty


def test_states_follow_the_timestamps() -> None:
    key = KeyTimes(
        kid="a",
        published_at=T0,
        activates_at=T0 + timedelta(days=1),
        retires_at=T0 + timedelta(days=31),
        expires_at=T0 + timedelta(days=31, hours=2),
    )
    assert key_state(key, T0) == "next"
    assert key_state(key, T0 + timedelta(days=2)) == "current"
    assert key_state(key, T0 + timedelta(days=31, hours=1)) == "retiring"
    assert key_state(key, T0 + timedelta(days=32)) == "retired"
    revoked = msgspec.structs.replace(key, revoked_at=T0 + timedelta(days=2))
    assert key_state(revoked, T0 + timedelta(days=3)) == "retired"


def test_manual_rotation_waits_until_the_next_key_was_published_long_enough() -> None:
    counter = [0]
    keys = apply([], scheduled_plan([], T0, POLICY), counter)
    keys = apply(keys, scheduled_plan(keys, T0, POLICY), counter)
    soon = T0 + timedelta(hours=2)
    keys = apply(keys, manual_rotation_plan(keys, soon, POLICY), counter)
    assert current_keys(keys, soon) == ["k1"]
    switch = T0 + POLICY.publish_ahead
    assert current_keys(keys, switch - timedelta(seconds=1)) == ["k1"]
    assert current_keys(keys, switch) == ["k2"]


def test_emergency_rotation_revokes_and_switches_immediately() -> None:
    counter = [0]
    keys = apply([], scheduled_plan([], T0, POLICY), counter)
    keys = apply(keys, scheduled_plan(keys, T0, POLICY), counter)
    now = T0 + timedelta(days=3)
    plan = emergency_plan(keys, now, POLICY)
    assert plan.revoke == ("k1",)
    keys = apply(keys, plan, counter)
    keys = [msgspec.structs.replace(k, revoked_at=now) if k.kid == "k1" else k for k in keys]
    assert current_keys(keys, now) == ["k2"]
    assert key_state(next(k for k in keys if k.kid == "k1"), now) == "retired"


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 29 * 24), st.sampled_from(["tick", "manual"])), max_size=25
    )
)
def test_exactly_one_current_key_at_every_instant(steps: list[tuple[int, str]]) -> None:
    # The rotation job ticks at least once per rotation interval (it runs every minute);
    # a longer outage is test_all_keys_expired_while_down_recovers.
    counter = [0]
    now = T0
    keys = apply([], scheduled_plan([], now, POLICY), counter)
    for hours, action in steps:
        planner = manual_rotation_plan if action == "manual" else scheduled_plan
        keys = apply(keys, planner(keys, now, POLICY), counter)
        keys = apply(keys, scheduled_plan(keys, now, POLICY), counter)
        end = now + timedelta(hours=hours)
        # Sample the interval: there is never zero or two signing keys.
        probe = now
        while probe < end:
            assert len(current_keys(keys, probe)) == 1, (probe, keys)
            # A key never signs before it was published for publish_ahead, except the very
            # first key (nothing could have cached anything before it).
            for k in keys:
                if key_state(k, probe) == "current" and k.kid != "k1":
                    assert k.activates_at - k.published_at >= POLICY.publish_ahead
            probe += timedelta(hours=6)
        now = end


@pytest.mark.parametrize("planner", [scheduled_plan, manual_rotation_plan])
def test_all_keys_expired_while_down_recovers(planner: object) -> None:
    old = KeyTimes(
        kid="old",
        published_at=T0,
        activates_at=T0,
        retires_at=T0 + timedelta(days=30),
        expires_at=T0 + timedelta(days=30, hours=1),
    )
    later = T0 + timedelta(days=90)
    plan = planner([old], later, POLICY)  # type: ignore[operator]
    assert len(plan.create) == 1
    assert plan.create[0].activates_at == later


def test_manual_rotation_without_a_published_successor_switches_after_publish_ahead() -> None:
    counter = [0]
    keys = apply([], scheduled_plan([], T0, POLICY), counter)  # only a current key
    now = T0 + timedelta(days=2)
    keys = apply(keys, manual_rotation_plan(keys, now, POLICY), counter)
    assert current_keys(keys, now + POLICY.publish_ahead - timedelta(seconds=1)) == ["k1"]
    assert current_keys(keys, now + POLICY.publish_ahead) == ["k2"]
