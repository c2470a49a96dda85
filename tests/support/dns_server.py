"""A real authoritative DNS server on loopback (dnslib, UDP), holding TXT records that
tests publish and withdraw, so domain verification runs through dnspython's resolver and
the network stack exactly as in production."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

__all__ = ["TxtZone", "serve_dns"]


class TxtZone(BaseResolver):  # type: ignore[misc]
    """TXT records by name; every other name is NXDOMAIN. ``failing`` answers SERVFAIL."""

    def __init__(self) -> None:
        self._records: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.failing = False
        self.queries: list[str] = []

    def publish(self, name: str, *values: str) -> None:
        with self._lock:
            self._records[name.rstrip(".").lower()] = list(values)

    def withdraw(self, name: str) -> None:
        with self._lock:
            self._records.pop(name.rstrip(".").lower(), None)

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self._lock:
            self.queries.append(name)
            values = self._records.get(name)
        if self.failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(DNSLabel(name), QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


@contextmanager
def serve_dns() -> Iterator[tuple[TxtZone, int]]:
    """Serve a zone on 127.0.0.1 on a free UDP port; yields the zone and the port."""
    zone = TxtZone()
    quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=quiet)
    server.start_thread()
    try:
        yield zone, server.server.server_address[1]
    finally:
        server.stop()
        server.server.server_close()
