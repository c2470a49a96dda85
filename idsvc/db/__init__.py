"""PostgreSQL: the pool and its codecs (``pool``), where the database is (``locate``: a URL
or the embedded server, ``embedded``), and the schema migrations (``migrate``).

``from idsvc import db`` gives the query API every feature uses; the rest is for the app's
start-up and the command line.
"""

from idsvc.db.database import keeping_refusals
from idsvc.db.pool import (
    Connection,
    Pool,
    connect,
    create_pool,
    is_database_outage,
    is_transient_conflict,
    row_to,
    rows_to,
    transaction,
)

__all__ = [
    "Connection",
    "Pool",
    "connect",
    "create_pool",
    "is_database_outage",
    "is_transient_conflict",
    "keeping_refusals",
    "row_to",
    "rows_to",
    "transaction",
]
