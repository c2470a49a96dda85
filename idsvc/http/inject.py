"""How handlers receive what they need: by Litestar dependency injection, named by the
parameter and marked by its type.

    async def handler(conn: Transaction, now: Now, actor: Actor, keys: Injected[KeyService])

- ``conn`` is a pooled connection inside the request's transaction
  (:meth:`idsvc.db.database.Database.transaction`), taken once the body has arrived: it
  commits when the handler returns or raises an ``AuditedRefusal``, and rolls back on any
  other exception; the commit happens before the response is sent.
- ``now`` is the request's moment, read once from the app's clock, so every row and audit
  event the request writes carries the same time.
- ``actor`` and ``session`` are set by the route's guard (``idsvc.accounts.guards``,
  ``idsvc.orgs.guards``, ``idsvc.scim.guards``); a handler without such a guard cannot
  ask for them.
- Services (``keys``, ``policies``, ``mailer`` …) are built once by ``idsvc.app`` and
  provided under their names; ``Injected[T]`` marks such a parameter.

Guards run before dependencies and cannot be injected into, so they read the few things
they need through :func:`infrastructure` (the database, the settings, the clock) and
:func:`service` (a service by its name and type, e.g. the OAuth client registry).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from types import UnionType
from typing import Any, NamedTuple, TypeAlias, TypeVar, get_args, get_origin

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from idsvc.clock import Clock
from idsvc.db import Connection
from idsvc.db.database import Database
from idsvc.settings import Settings

__all__ = [
    "Actor",
    "Infrastructure",
    "Injected",
    "Now",
    "Transaction",
    "check_injected",
    "infrastructure",
    "install_services",
    "provide_transaction",
    "service",
]

T = TypeVar("T")

# Not validated: the values are the app's own objects, not input.
Injected: TypeAlias = NamedDependency[SkipValidation[T]]
Transaction: TypeAlias = NamedDependency[SkipValidation[Connection]]
Now: TypeAlias = NamedDependency[SkipValidation[datetime]]
# "user:<uuid>", "scim:<token id>": who the audit trail says acted.
Actor: TypeAlias = NamedDependency[SkipValidation[str]]

_STATE_KEY = "idsvc_infrastructure"
_SERVICES_KEY = "idsvc_services"
ACTOR_KEY = "idsvc_actor"


class Infrastructure(NamedTuple):
    database: Database
    settings: Settings
    clock: Clock


def install_infrastructure(state: Any, infra: Infrastructure) -> None:
    state[_STATE_KEY] = infra


def infrastructure(connection: ASGIConnection[Any, Any, Any, Any]) -> Infrastructure:
    found: Infrastructure = connection.app.state[_STATE_KEY]
    return found


def install_services(state: Any, services: dict[str, object]) -> None:
    state[_SERVICES_KEY] = dict(services)


def service(connection: ASGIConnection[Any, Any, Any, Any], name: str, kind: type[T]) -> T:
    """The app's service ``name`` for a guard; its type is checked, so a wiring mistake
    fails loudly instead of authorising against the wrong object."""
    found = connection.app.state[_SERVICES_KEY][name]
    if not isinstance(found, kind):
        raise TypeError(f"service {name!r} is a {type(found).__name__}, not a {kind.__name__}")
    return found


def set_actor(connection: ASGIConnection[Any, Any, Any, Any], actor: str) -> None:
    """Called by the guard that authenticated the caller."""
    connection.state[ACTOR_KEY] = actor


def provide_actor(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    actor = request.state.get(ACTOR_KEY)
    if not isinstance(actor, str):
        # A handler asked for an actor its route's guards do not establish: a wiring bug,
        # refused rather than answered anonymously.
        raise RuntimeError(f"{request.url.path}: no guard established the actor")
    return actor


def provide_transaction(database: Database) -> Any:
    async def transaction(request: Request[Any, Any, Any]) -> AsyncIterator[Connection]:
        # The whole body is received (and its size limit enforced) before a connection is
        # taken: a client sending its body slowly must not hold a pooled connection, and
        # an open transaction, while it does (found in review: twenty slow uploads would
        # have stalled every other request). Litestar keeps the body for the handler; a
        # guard that already parsed a multipart form has received it all.
        if request.is_connected:
            await request.body()
        async with database.transaction() as conn:
            yield conn

    return transaction


def check_injected(handlers: Iterable[Any], services: Mapping[str, object]) -> None:
    """At start-up: every handler parameter named after a service (``Injected[T]``) is given
    a ``T``. Injection goes by name alone; without this, a service renamed or rebuilt as
    another type would reach a handler and fail (or, worse, half-work) at its first
    request. Reads the signatures as Litestar resolved them."""
    for handler in handlers:
        for name, field in handler.parsed_fn_signature.parameters.items():
            if name not in services:
                continue
            kinds = _runtime_kinds(field.annotation)
            if kinds and not isinstance(services[name], kinds):
                found = type(services[name]).__name__
                raise TypeError(
                    f"{handler.fn.__module__}.{handler.fn.__name__}: {name!r} is injected as "
                    f"{field.annotation}, but the app's {name!r} is a {found}"
                )


def _runtime_kinds(annotation: Any) -> tuple[type, ...]:
    """The classes a value of ``annotation`` is an instance of (``dict`` for
    ``dict[str, X]``, both sides of ``X | None``); empty where that cannot be checked at
    run time (a protocol that is not runtime-checkable)."""
    members = get_args(annotation) if isinstance(annotation, UnionType) else (annotation,)
    kinds = []
    for member in members:
        kind = type(None) if member is None else get_origin(member) or member
        if not isinstance(kind, type) or (
            getattr(kind, "_is_protocol", False)
            and not getattr(kind, "_is_runtime_protocol", False)
        ):
            return ()
        kinds.append(kind)
    return tuple(kinds)
