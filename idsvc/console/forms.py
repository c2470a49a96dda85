"""Browser forms: read a POSTed form (its size and CSRF token were checked by the
``form_csrf`` guard, ``idsvc.console.guard``) and validate it field by field into a
bounded msgspec struct, so that every problem is reported next to its field and what the
person typed is shown again."""

from __future__ import annotations

import functools
import re
from typing import Any, TypeVar

import msgspec
from litestar import Request

from idsvc.http.body import refuse_control_characters

__all__ = ["FormErrors", "read_form", "validate_form"]

T = TypeVar("T", bound=msgspec.Struct)
FormErrors = dict[str, str]

_PLAIN = {
    "Expected `str` of length >= ": "Too short: at least {} characters.",
    "Expected `str` of length <= ": "Too long: at most {} characters.",
}


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form's text fields (a repeated field keeps its last value), without the CSRF
    token, and none with control characters."""
    form = await request.form()
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    refuse_control_characters(fields)
    return fields


@functools.cache
def _field_struct(struct_type: type[msgspec.Struct], name: str) -> type[msgspec.Struct]:
    field = next(f for f in msgspec.structs.fields(struct_type) if f.name == name)
    return msgspec.defstruct(f"_{struct_type.__name__}_{name}", [(name, field.type)])


def _message(error: msgspec.ValidationError) -> str:
    text = re.sub(r" - at `\$\.[a-z_]+`$", "", str(error))
    for prefix, plain in _PLAIN.items():
        if text.startswith(prefix):
            return plain.format(text[len(prefix) :].rstrip("`"))
    if text.startswith("Expected `str` matching regex"):
        return "Not in the expected format."
    if text.startswith(("Invalid enum value", "Expected `")):
        return "Choose one of the offered values."
    return text


def validate_form(struct_type: type[T], data: dict[str, str]) -> tuple[T | None, FormErrors]:
    """Each field on its own first (so every bad field gets its message), then the whole
    struct (for rules that span fields, reported under ``_form``)."""
    values: dict[str, object] = {}
    errors: FormErrors = {}
    for field in msgspec.structs.fields(struct_type):
        raw = data.get(field.name, "")
        if raw == "":
            if field.required:
                errors[field.name] = "Required."
            continue
        try:
            parsed = msgspec.convert(
                {field.name: raw}, _field_struct(struct_type, field.name), strict=False
            )
        except msgspec.ValidationError as exc:
            errors[field.name] = _message(exc)
            continue
        values[field.name] = getattr(parsed, field.name)
    if errors:
        return None, errors
    try:
        return msgspec.convert(values, struct_type), {}
    except (msgspec.ValidationError, ValueError) as exc:
        return None, {"_form": str(exc)}
