"""Whether the identities of one account name the same person.

An account may hold several identities (a company sign-in, a proofing provider). Linking
is confirmed by the browser that started it, but a person can still be talked into linking
someone else's identity, or hand their own to someone who is not a U.S. person. So when a
proofing provider names the verified person (OIDC4IDA ``given_name``, ``family_name``,
``birthdate``), the account keeps a keyed MAC of each, per identity, and an identity whose
verified name or date of birth differs from another identity's of the same account is
refused: its attestations never reach that account.

Only MACs are kept: equal inputs give equal MACs under the service's key, and nothing can
be read back (a plain hash of a name and a birth date would fall to a dictionary).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid

import msgspec

from idsvc.db import Connection

__all__ = [
    "PersonFingerprint",
    "PersonMismatch",
    "check_person",
    "person_fingerprint",
    "record_person",
]


class PersonMismatch(Exception):
    """The identity names another person than the account's other identities."""


class PersonFingerprint(msgspec.Struct, frozen=True, kw_only=True):
    name_mac: bytes | None = None
    birthdate_mac: bytes | None = None


def _normalised(value: str) -> str:
    # Case, Unicode form and spacing differ between providers for the same person.
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _mac(key: bytes, label: str, value: str) -> bytes:
    return hmac.new(key, f"{label}\x00{value}".encode(), hashlib.sha256).digest()


def person_fingerprint(
    key: bytes, *, given_name: object, family_name: object, birthdate: object
) -> PersonFingerprint:
    """MACs of what the provider verified; a part the provider did not give stays None.

    ``key`` is a service secret shared by every instance; the MACs use a key derived from
    it under their own label, so they can never equal another use's MACs."""
    if not key:
        raise RuntimeError("the service secrets are not loaded")  # never MAC with no key
    key = hmac.new(key, b"idsvc person fingerprint v1", hashlib.sha256).digest()
    name = None
    if isinstance(given_name, str) and isinstance(family_name, str):
        name = _normalised(f"{given_name} {family_name}")[:400] or None
    born = _normalised(birthdate)[:40] if isinstance(birthdate, str) else None
    return PersonFingerprint(
        name_mac=_mac(key, "name", name) if name else None,
        birthdate_mac=_mac(key, "birthdate", born) if born else None,
    )


_OTHER_IDENTITIES = """
SELECT verified_name_mac, verified_birthdate_mac FROM identities
WHERE user_id = $1 AND NOT (provider = $2 AND subject = $3)
"""
_STORE = """
UPDATE identities
SET verified_name_mac = coalesce($3, verified_name_mac),
    verified_birthdate_mac = coalesce($4, verified_birthdate_mac)
WHERE provider = $1 AND subject = $2
"""


async def check_person(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    provider: str,
    subject: str,
    fingerprint: PersonFingerprint,
) -> None:
    """Raise PersonMismatch when another identity of the account names someone else."""
    for row in await conn.fetch(_OTHER_IDENTITIES, user_id, provider, subject):
        for theirs, ours in (
            (row["verified_name_mac"], fingerprint.name_mac),
            (row["verified_birthdate_mac"], fingerprint.birthdate_mac),
        ):
            if theirs is not None and ours is not None and not hmac.compare_digest(theirs, ours):
                raise PersonMismatch("the identity names another person")


async def record_person(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    provider: str,
    subject: str,
    fingerprint: PersonFingerprint,
) -> None:
    """Check the identity against the account's others, then keep its fingerprint."""
    await check_person(
        conn, user_id=user_id, provider=provider, subject=subject, fingerprint=fingerprint
    )
    await conn.execute(_STORE, provider, subject, fingerprint.name_mac, fingerprint.birthdate_mac)
