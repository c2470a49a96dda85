"""What importing an enrolment file can refuse with. The CSV codes are shared with the
console's upload, so the classes live in ``idsvc.errors``; they are named here so the
feature's errors are found in one place."""

from idsvc.errors import InvalidCsv, InvalidCsvRequest, UnsupportedMediaType

__all__ = ["InvalidCsv", "InvalidCsvRequest", "UnsupportedMediaType"]
