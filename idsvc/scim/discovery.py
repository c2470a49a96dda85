"""What this SCIM service supports (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and
Schemas, describing exactly the behaviour of idsvc/scim/api.py."""

from __future__ import annotations

from typing import Any

from idsvc.scim.groups import GROUP_SCHEMA
from idsvc.scim.resources import USER_SCHEMA

__all__ = ["MAX_RESULTS", "resource_types", "schemas", "service_provider_config"]

MAX_RESULTS = 200


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/idsvc/idsvc/blob/main/docs/scim.md",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A token created by an organisation admin at "
                "POST /v1/orgs/{id}/scim-tokens; it only reaches that organisation.",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A member of the organisation the token belongs to",
            "schema": USER_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/User"},
        },
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of the organisation's Users; an org admin may give it a role",
            "schema": GROUP_SCHEMA,
            "meta": {
                "resourceType": "ResourceType",
                "location": f"{base_url}/ResourceTypes/Group",
            },
        },
    ]


def _attribute(name: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
        **extra,
    }


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": USER_SCHEMA,
            "name": "User",
            "description": "The User attributes idsvc keeps; others are accepted and not stored",
            "attributes": [
                _attribute(
                    "userName",
                    required=True,
                    uniqueness="server",
                    description="The person's e-mail address",
                ),
                _attribute("externalId", caseExact=True),
                _attribute("displayName"),
                _attribute(
                    "name",
                    "complex",
                    subAttributes=[
                        _attribute("formatted"),
                        _attribute("givenName"),
                        _attribute("familyName"),
                    ],
                ),
                _attribute("active", "boolean", description="false suspends the membership"),
                _attribute(
                    "emails",
                    "complex",
                    multiValued=True,
                    subAttributes=[
                        _attribute("value"),
                        _attribute("type"),
                        _attribute("primary", "boolean"),
                    ],
                ),
            ],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{USER_SCHEMA}"},
        },
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": GROUP_SCHEMA,
            "name": "Group",
            "description": "A group of the organisation's Users",
            "attributes": [
                _attribute(
                    "displayName",
                    required=True,
                    uniqueness="server",
                    description="Unique in the organisation, case-insensitively",
                ),
                _attribute("externalId", caseExact=True),
                _attribute(
                    "members",
                    "complex",
                    multiValued=True,
                    description="Users of the organisation",
                    subAttributes=[
                        _attribute("value", mutability="immutable", caseExact=True),
                        _attribute(
                            "$ref",
                            "reference",
                            mutability="immutable",
                            caseExact=True,
                            referenceTypes=["User"],
                        ),
                        _attribute("type", mutability="immutable", canonicalValues=["User"]),
                    ],
                ),
            ],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{GROUP_SCHEMA}"},
        },
    ]
