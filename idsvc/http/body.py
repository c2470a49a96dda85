"""Strict JSON request bodies.

Litestar converts bodies in lax mode (``"3"`` becomes ``3``); for an identity service a
wrong type is a client bug we want reported, not guessed at, so handlers read their body
through :func:`read_json`, which decodes straight into a bounded msgspec struct.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from idsvc.errors import BadRequest, UnsupportedMediaType
from idsvc.http.control_chars import control_character_at
from idsvc.http.errors import ControlCharacters, MalformedJson
from idsvc.http.openapi import DOCUMENTED, Documented

if TYPE_CHECKING:
    from litestar import Request

__all__ = ["read_json", "refuse_control_characters"]

T = TypeVar("T")


async def read_json(request: Request[Any, Any, Any], struct_type: type[T]) -> T:
    declared = request.route_handler.opt.get(DOCUMENTED)
    if not isinstance(declared, Documented) or declared.body is not struct_type:
        # A programming error, caught by any test of the route: the OpenAPI document
        # would describe another body than the one the handler reads.
        raise TypeError(f"declare opt=documented(body={struct_type.__name__}) on the route")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() not in {"application/json", ""}:
        raise UnsupportedMediaType("send the body as application/json")
    body = await request.body()  # bounded by the app's request_max_body_size (413)
    try:
        decoded = msgspec.json.decode(body, type=struct_type, strict=True)
    except msgspec.ValidationError as exc:
        field = _field(str(exc))
        raise BadRequest(
            f"invalid request body: {exc}",
            errors=[{"field": field, "message": str(exc).rpartition(" - at `")[0] or str(exc)}],
        ) from None
    except (msgspec.DecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise MalformedJson("the request body is not valid JSON") from None
    refuse_control_characters(msgspec.to_builtins(decoded))
    return decoded


def refuse_control_characters(data: object) -> None:
    """Raise a 400 naming the field when any text holds a control character (see
    idsvc.http.control_chars): nothing of the request is acted upon."""
    field = control_character_at(data)
    if field is not None:
        raise ControlCharacters(
            f"{field}: text must not contain NUL or other control characters",
            errors=[{"field": field, "message": "control characters are not allowed"}],
        )


def _field(message: str) -> str | None:
    _, sep, path = message.rpartition(" - at `")
    if sep:
        return path.rstrip("`").removeprefix("$").lstrip(".") or None
    if message.startswith("Object contains unknown field `"):
        return message.split("`")[1]
    if message.startswith("Object missing required field `"):
        return message.split("`")[1]
    return None
