"""The test tree's layout, read with ``ast``: test modules import only ``tests.support``
(never another test module or a conftest), conftest files hold only fixtures and hooks,
and every other helper module lives in ``tests/support/``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported(path: Path) -> list[str]:
    """Every module ``path`` imports (``from a import b`` counts as both ``a`` and ``a.b``:
    ``b`` may be a module), relative imports resolved."""
    package = dotted(path).rsplit(".", 1)[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules()
        for name in imported(path)
        if name.startswith("tests.") and _is_test_or_conftest(name.rsplit(".", 1)[-1])
    ]
    assert not offences, "shared helpers belong in tests/support/:\n" + "\n".join(offences)


def _is_test_or_conftest(module: str) -> bool:
    return module.startswith("test_") or module == "conftest"


def _defines(node: ast.stmt) -> str | None:
    """The name a top-level statement defines, unless it is a fixture or a pytest hook."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        if node.name.startswith("pytest_") or any(map(_is_fixture, node.decorator_list)):
            return None
        return node.name
    if isinstance(node, ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign | ast.AnnAssign):
        name = ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
        return None if name.startswith("pytest_") else name  # pytest_plugins
    return None


def _is_fixture(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "fixture"


def test_conftest_files_hold_only_fixtures() -> None:
    offences = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules()
        if path.name == "conftest.py"
        for name in map(_defines, ast.parse(path.read_text()).body)
        if name is not None
    ]
    assert not offences, "conftest.py holds fixtures only; helpers go to tests/support/:\n" + (
        "\n".join(offences)
    )


def test_helper_modules_live_in_support() -> None:
    support = TESTS / "support"
    strays = [
        str(path.relative_to(ROOT))
        for path in modules()
        if not _is_test_or_conftest(path.stem)
        and path.name != "__init__.py"
        and support not in path.parents
    ]
    assert not strays, "helper modules belong in tests/support/: " + ", ".join(strays)


def test_the_readme_layout_names_every_package_and_nothing_else() -> None:
    """README's tree lists each package and top-level module of idsvc/ once, and nothing
    that is not there (it once still listed web/ and policies/ after they had moved)."""
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("## Architecture") :]
    tree = tree[tree.index("```\nidsvc/\n") : tree.index("\nmigrations/")]
    listed = re.findall(r"^  (\w+(?:\.py|/))", tree, re.MULTILINE)
    package = ROOT / "idsvc"
    present = [
        f"{p.name}/" if p.is_dir() else p.name
        for p in package.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name != "__init__.py")
    ]
    assert sorted(listed) == sorted(set(listed)), "listed twice"
    assert sorted(listed) == sorted(present)
    assert "docs/architecture.md" in readme
    assert "docs/routes.md" in readme


def test_an_errors_module_exists_only_where_a_feature_has_errors_of_its_own() -> None:
    empty = []
    for path in sorted((ROOT / "idsvc").rglob("errors.py")):
        tree = ast.parse(path.read_text())
        if not any(isinstance(node, ast.ClassDef) for node in tree.body):
            empty.append(str(path.relative_to(ROOT)))
    assert empty == [], "define an error of the feature's own, or import from idsvc.errors"
