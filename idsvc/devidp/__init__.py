"""The demo OpenID Provider that ``idsvc dev`` runs, so sign-in works without a real one.

It speaks OpenID Connect (authorization code, PKCE S256, RFC 9207 ``iss``) through
Authlib's server, and attests made-up personas' nationalities and U.S.-person status as
OpenID Connect for Identity Assurance ``verified_claims``; see ``idsvc.devidp.claims``
for the claim shapes. State lives in memory: it is a development tool, never a provider
of real identities.
"""

from idsvc.devidp.app import create_demo_idp, demo_idp_mount
from idsvc.devidp.personas import PERSONAS, Persona
from idsvc.devidp.settings import DemoClient, DemoIdPSettings

__all__ = [
    "PERSONAS",
    "DemoClient",
    "DemoIdPSettings",
    "Persona",
    "create_demo_idp",
    "demo_idp_mount",
]
