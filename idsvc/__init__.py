"""idsvc: attests U.S.-person status and nationalities, issues eligibility tokens, and lets
gateways verify them offline.

This module imports nothing on purpose: ``idsvc.verify`` is used inside gateways and must
not pull in the server (Litestar, asyncpg) through the package's ``__init__``.
"""
