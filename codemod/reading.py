"""Reading repository files: regular files only, so that no FIFO or device can hang a run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gha_fix.codemod.document import DocumentError


def read_regular_file(path: Path, within: Path | None = None) -> bytes:
    """The bytes of a regular file (inside the folder `within`, if given, symlinks resolved);
    DocumentError for anything else: a FIFO would block the read forever, a device never ends,
    a symlink loop or a missing target cannot be read.  The type is checked before opening
    and again on the open descriptor (the file could be swapped in between)."""
    try:
        mode = os.stat(path).st_mode
        if within is not None and not path.resolve().is_relative_to(within.resolve()):
            raise DocumentError("symlink leads outside the repo", 0)
        if not stat.S_ISREG(mode):
            raise DocumentError(_not_regular(mode), 0)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise DocumentError(_not_regular(mode), 0)
            return handle.read()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}", 0) from None


_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


def _not_regular(mode: int) -> str:
    return f"cannot read: not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'unknown kind')})"
