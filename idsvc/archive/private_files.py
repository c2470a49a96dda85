"""Writing archive files readable by their owner only, never over an existing file.

An archive holds every event of its months, and events written before migration 0022 carry
personal values in clear: the folder is 0700 and each file 0600, whatever the umask. Blocking
calls: run them in a thread.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

from idsvc.audit.errors import ArchiveExists
from idsvc.errors import BadRequest

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["private_folder", "write_new_file"]

_FOLDER_MODE = 0o700
_FILE_MODE = 0o600


def private_folder(folder: Path) -> None:
    """Create ``folder`` with mode 0700, or narrow an existing one to 0700; refuse one that
    cannot be (not a folder, or not ours to change)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, _FOLDER_MODE)
        mode = os.stat(folder).st_mode
        if not stat.S_ISDIR(mode):
            raise BadRequest(f"{folder} is not a folder")
        # chmod also when we just created it: the umask may have narrowed mkdir's mode,
        # and an existing folder may let others read or list it.
        if stat.S_IMODE(mode) != _FOLDER_MODE:
            os.chmod(folder, _FOLDER_MODE)
    except OSError as exc:
        raise BadRequest(f"{folder} cannot be made private (0700): {exc.strerror}") from exc


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that must not exist yet, mode 0600, on disk before returning
    (the partitions it holds are dropped once the caller commits)."""
    try:
        # O_EXCL: an archive is never overwritten, and a planted symbolic link is not
        # followed. The mode is given at creation, so the data is never readable by others
        # even for an instant.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE)
    except FileExistsError:
        raise ArchiveExists(
            f"{path} already exists: an archive is never overwritten (a leftover of a run "
            "that failed is recorded in no checkpoint; move it away)"
        ) from None
    try:
        # The umask can only have narrowed the mode; set it exactly.
        os.fchmod(fd, _FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    # The file's name is in its folder: that must be on disk too.
    folder = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
