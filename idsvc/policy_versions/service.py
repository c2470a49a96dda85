"""Recording the policy versions in force, at start, in the database and the audit trail."""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.policy.country_groups import country_groups
from idsvc.policy.model import PolicySettings
from idsvc.policy_versions.errors import PolicyVersionConflict

__all__ = ["PolicyVersionConflict", "record_policy_versions"]

_INSERT = """
INSERT INTO policy_versions (policy_id, version, audience, content, content_hash, first_seen_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (policy_id, version) DO NOTHING
RETURNING policy_id
"""
_EXISTING = "SELECT content_hash FROM policy_versions WHERE policy_id = $1 AND version = $2"
_encoder = msgspec.json.Encoder(order="sorted")


def _recorded_content(policy: PolicySettings) -> dict[str, object]:
    """The policy with its country groups expanded: amending the groups data changes what a
    policy decides, so it too needs a new policy version, and is refused otherwise."""
    content: dict[str, object] = msgspec.to_builtins(policy)
    if policy.deny_nationality_groups or policy.deny_residency_groups:
        rules = policy.country_rules()
        content["resolved"] = {
            "groups_effective": country_groups().effective,
            "denied_nationalities": sorted(rules.denied_nationalities),
            "denied_residencies": sorted(rules.denied_residencies),
        }
    return content


async def record_policy_versions(
    conn: Connection, policies: tuple[PolicySettings, ...], *, now: datetime
) -> None:
    for policy in policies:
        content = _encoder.encode(_recorded_content(policy))
        digest = hashlib.sha256(content).digest()
        created = await conn.fetchval(
            _INSERT,
            policy.id,
            policy.version,
            policy.audience,
            msgspec.json.decode(content),
            digest,
            now,
        )
        if created is not None:
            await record_event(
                conn,
                at=now,
                actor="system",
                action="policy.version.recorded",
                target=f"policy:{policy.ref}",
                data={"audience": policy.audience, "sha256": digest.hex()},
            )
        elif await conn.fetchval(_EXISTING, policy.id, policy.version) != digest:
            raise PolicyVersionConflict(
                f"policies.{policy.id}: version {policy.version} was already used with other "
                "rules; give the changed policy a new version"
            )
