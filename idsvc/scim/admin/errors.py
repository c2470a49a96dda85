"""What the SCIM administration routes can refuse with beyond the ``org_admin`` guard's
answers: a token or Group that is not the organisation's (404). A shared code, so the class
lives in ``idsvc.errors``; it is named here so the feature's errors are found in one place."""

from idsvc.errors import NotFound

__all__ = ["NotFound"]
