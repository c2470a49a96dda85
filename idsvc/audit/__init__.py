"""The append-only, hash-chained audit trail.

- :func:`record_event` writes one event inside the caller's transaction.
- :func:`seal_pending` chains committed events (run by one sealer at a time).
- :func:`verify_chain` recomputes the chain and names the first broken event.
- :func:`export_events` streams events as JSON lines.
"""

from idsvc.audit.chain import event_hash
from idsvc.audit.events import AuditEvent, record_event, record_events
from idsvc.audit.export import export_events
from idsvc.audit.sealer import seal_pending
from idsvc.audit.verify import ChainProblem, ChainReport, verify_chain

__all__ = [
    "AuditEvent",
    "ChainProblem",
    "ChainReport",
    "event_hash",
    "export_events",
    "record_event",
    "record_events",
    "seal_pending",
    "verify_chain",
]
