"""A client for people and SDKs: sign in once with the device flow, then get eligibility
tokens (and DPoP proofs) for any audience, refreshing and caching as needed.

    client = IdsvcClient("https://idsvc.example.com")
    client.login()                       # prints a code and a URL, waits for approval
    token = client.token("https://api.example.com/mythos-5")
    proof = client.proof("POST", "https://api.example.com/v1/infer", token)
"""

from idsvc.client.client import ClientError, IdsvcClient, LoginRequired
from idsvc.client.store import CredentialStore

__all__ = ["ClientError", "CredentialStore", "IdsvcClient", "LoginRequired"]
