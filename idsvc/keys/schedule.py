"""Key lifecycle as pure functions of timestamps (no I/O, no clock reads).

Every instance derives a key's state from its four timestamps, so all instances agree on
the signing key at any instant without talking to each other, and a stalled rotation job
can never make anyone sign with a key the gateways have not seen yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import msgspec

__all__ = [
    "KeyState",
    "KeyTimes",
    "RotationPolicy",
    "emergency_plan",
    "key_state",
    "manual_rotation_plan",
    "scheduled_plan",
]

KeyState = Literal["next", "current", "retiring", "retired"]


class RotationPolicy(msgspec.Struct, frozen=True, kw_only=True):
    # How long a key signs.
    rotation_interval: timedelta
    # How long a key is published before it signs: longer than any gateway's JWKS cache.
    publish_ahead: timedelta
    # How long a retired key stays published: the longest token lifetime plus clock skew.
    verify_window: timedelta


class KeyTimes(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    published_at: datetime
    activates_at: datetime
    retires_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


def key_state(key: KeyTimes, now: datetime) -> KeyState:
    if key.revoked_at is not None and key.revoked_at <= now:
        return "retired"
    if now < key.activates_at:
        return "next"
    if now < key.retires_at:
        return "current"
    if now < key.expires_at:
        return "retiring"
    return "retired"


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """What to write: schedule changes to existing keys, keys to create, keys to revoke."""

    reschedule: tuple[KeyTimes, ...] = ()
    create: tuple[KeyTimes, ...] = ()  # kid is "" : the caller generates the key
    revoke: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.reschedule or self.create or self.revoke)


def _new(published: datetime, activates: datetime, policy: RotationPolicy) -> KeyTimes:
    retires = activates + policy.rotation_interval
    return KeyTimes(
        kid="",
        published_at=published,
        activates_at=activates,
        retires_at=retires,
        expires_at=retires + policy.verify_window,
    )


def _retire_at(key: KeyTimes, when: datetime, policy: RotationPolicy) -> KeyTimes:
    return msgspec.structs.replace(key, retires_at=when, expires_at=when + policy.verify_window)


def _activate_at(key: KeyTimes, when: datetime, policy: RotationPolicy) -> KeyTimes:
    return msgspec.structs.replace(
        key,
        activates_at=when,
        retires_at=when + policy.rotation_interval,
        expires_at=when + policy.rotation_interval + policy.verify_window,
    )


def _current_and_next(
    keys: list[KeyTimes], now: datetime
) -> tuple[KeyTimes | None, KeyTimes | None]:
    current = [k for k in keys if key_state(k, now) == "current"]
    upcoming = [k for k in keys if key_state(k, now) == "next"]
    return (
        max(current, key=lambda k: k.activates_at, default=None),
        min(upcoming, key=lambda k: k.activates_at, default=None),
    )


def scheduled_plan(keys: list[KeyTimes], now: datetime, policy: RotationPolicy) -> Plan:
    """Keep exactly one current key and one published next key, seamlessly chained."""
    current, upcoming = _current_and_next(keys, now)
    if current is None:
        # First start, or every key expired while the service was down: nothing signed by a
        # new key can be in circulation, so it may sign at once.
        if upcoming is not None:
            return Plan(reschedule=(_activate_at(upcoming, now, policy),))
        return Plan(create=(_new(now, now, policy),))
    if upcoming is not None:
        if upcoming.activates_at == current.retires_at:
            return Plan()
        # Close any gap or overlap so that exactly one key is current at every instant.
        switch = max(upcoming.activates_at, current.retires_at)
        return Plan(
            reschedule=(_retire_at(current, switch, policy), _activate_at(upcoming, switch, policy))
        )
    switch = max(current.retires_at, now + policy.publish_ahead)
    reschedule = (_retire_at(current, switch, policy),) if switch != current.retires_at else ()
    return Plan(reschedule=reschedule, create=(_new(now, switch, policy),))


def manual_rotation_plan(keys: list[KeyTimes], now: datetime, policy: RotationPolicy) -> Plan:
    """Switch to the next key as soon as gateways can know it (published ``publish_ahead``)."""
    current, upcoming = _current_and_next(keys, now)
    if current is None:
        return scheduled_plan(keys, now, policy)
    if upcoming is None:
        # No successor published yet: publish one now and switch once gateways can know it.
        switch = now + policy.publish_ahead
        return Plan(
            reschedule=(_retire_at(current, switch, policy),), create=(_new(now, switch, policy),)
        )
    switch = max(now, upcoming.published_at + policy.publish_ahead)
    return Plan(
        reschedule=(_retire_at(current, switch, policy), _activate_at(upcoming, switch, policy))
    )


def emergency_plan(keys: list[KeyTimes], now: datetime, policy: RotationPolicy) -> Plan:
    """Drop the current key from the JWKS at once and sign with another key immediately.

    The already-published next key is preferred: gateways may have it cached. Gateways that
    do not will refresh their JWKS on the unknown ``kid``.
    """
    current, upcoming = _current_and_next(keys, now)
    revoke = (current.kid,) if current is not None else ()
    if upcoming is not None:
        return Plan(revoke=revoke, reschedule=(_activate_at(upcoming, now, policy),))
    return Plan(revoke=revoke, create=(_new(now, now, policy),))
