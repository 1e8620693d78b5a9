"""The one write path: a FileResult becomes bytes on disk here, and nowhere else.

`--no-commit` writes through `write_result`; the clean-tree commit writes the work tree with
`write_file`, and the dirty-tree commit writes the same bytes into its temporary checkout
before git hashes them into its object store.  The text of a FileResult is the file as read
(BOM and newlines kept by the Document), so the bytes are that text in UTF-8, the only
encoding a workflow is read in.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gha_fix.codemod.model import FileResult


def file_bytes(result: FileResult) -> bytes:
    """What the fixed file holds on disk."""
    return result.new.encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and a rename, keeping the file's mode."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".gha-fix")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_file(path: Path, result: FileResult) -> None:
    """Write the fixed file at `path` (atomically) and mark it written; OSError propagates."""
    write_atomic(path.resolve(), file_bytes(result))
    result.written = True


def write_result(path: Path, result: FileResult) -> None:
    """`--no-commit`: write a changed file; a failure becomes the file's one-line error."""
    if not result.changed:
        return
    try:
        write_file(path, result)
    except OSError as exc:
        result.error = f"{result.path}:0: cannot write: {exc.strerror or exc}"
