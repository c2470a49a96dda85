"""docs/errors.md is generated from the error classes: one class per code, each documented."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import idsvc
from idsvc.errors import BadRequest, Conflict, IdsvcError, RateLimited
from idsvc.errors_catalogue import (
    ERRORS_DOC,
    CatalogueError,
    catalogue,
    catalogue_is_current,
    error_classes,
    error_modules,
)


def test_checked_in_errors_doc_is_current() -> None:
    assert catalogue_is_current(), f"{ERRORS_DOC} is stale: run `idsvc schemas`"


def test_every_code_has_one_class_and_a_meaning() -> None:
    entries = catalogue()  # raises CatalogueError on a shared code or a missing docstring
    own = [e.code for e in entries if e.variant_of is None]
    assert len(own) == len(set(own))
    assert all(e.meaning for e in entries)
    assert {"last_admin", "invalidValue", "invalid_grant", "csrf_failed"} <= set(own)
    assert all(e.status != IdsvcError.status for e in entries)


def test_the_package_errors_modules_are_all_collected() -> None:
    modules = error_modules()
    assert modules[0] == "idsvc.errors"
    assert {"idsvc.orgs.errors", "idsvc.scim.errors", "idsvc.oauth.errors"} <= set(modules)


def test_each_errors_module_exports_its_classes() -> None:
    for name in error_modules():
        module = importlib.import_module(name)
        exported = set(module.__all__)
        defined = {
            value.__name__
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseException)
            and value.__module__ == name
        }
        assert defined <= exported, (name, defined - exported)
        assert all(hasattr(module, item) for item in exported), name
        assert list(module.__all__) == sorted(module.__all__), name


def test_a_shared_code_fails() -> None:
    class First(Conflict):
        """One."""

        code = "same"

    class Second(BadRequest):
        """Two."""

        code = "same"

    with pytest.raises(CatalogueError, match="same"):
        catalogue([First, Second])


def test_a_class_without_docstring_fails() -> None:
    class Undocumented(Conflict):
        code = "undocumented"

    with pytest.raises(CatalogueError, match="docstring"):
        catalogue([Undocumented])


def test_a_variant_must_answer_differently() -> None:
    class Owner(Conflict):
        """Owner."""

        code = "owner"

    class Copy(Owner):
        """A copy that changes nothing."""

    with pytest.raises(CatalogueError, match="raise that instead"):
        catalogue([Owner, Copy])


def test_a_code_string_cannot_be_passed() -> None:
    assert "code" not in inspect.signature(IdsvcError.__init__).parameters
    assert "code" not in inspect.signature(RateLimited.__init__).parameters
    with pytest.raises(TypeError):
        BadRequest("stringly", code="not_a_class")  # type: ignore[call-arg]


def test_every_collected_class_answers_with_its_code() -> None:
    for cls in error_classes():
        if "code" in cls.__dict__:
            assert cls.code, cls
            assert cls.code == cls.code.strip(), cls


def _error_class_names() -> set[str]:
    found: set[str] = set()
    pending: list[type[IdsvcError]] = [IdsvcError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return found


def test_no_raise_site_passes_a_code() -> None:
    # mypy cannot see it (a code= keyword would land in **extra); the constructor refuses it
    # at run time, and this finds it without running the code.
    for module in error_modules():
        importlib.import_module(module)
    importlib.import_module("idsvc.app")  # every module that defines an error of its own
    names = _error_class_names()
    package = Path(idsvc.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in names and any(k.arg == "code" for k in node.keywords):
                offenders.append(f"{path.relative_to(package.parent)}:{node.lineno} {name}")
    assert offenders == []
