"""The wheel (what the Docker image installs with ``pip install .``) carries every file the
service reads at run time. Found: the console's copy.js and the public e-mail domain list
were left out by the package-data globs, so the image failed importing idsvc.http.pages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_data_file(tmp_path: Path) -> None:
    # A copy of the sources: setuptools would reuse a build/ directory left in the tree.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "idsvc", source / "idsvc", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = wheels.glob("idsvc-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    data_files = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "idsvc").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    assert data_files, "idsvc/ has data files (templates, country groups, lists)"
    assert not data_files - packaged
