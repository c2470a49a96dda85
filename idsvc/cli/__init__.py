"""The ``idsvc`` command line: the parser in ``main``, one module per command group, and
one way to reach the database (``connection.connected``)."""

from idsvc.cli.main import main

__all__ = ["main"]
