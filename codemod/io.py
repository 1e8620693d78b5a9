"""The one write path: a FileResult becomes bytes on disk here, and nowhere else.

`--no-commit` writes through `write_result`; the clean-tree commit writes the work tree with
`write_atomic` (saving each file first, see git_safety), and the dirty-tree commit writes the
same bytes into its temporary checkout before `git add` puts them in its temporary index.  The
text of a FileResult is the file as read (BOM and newlines kept by the Document), so the bytes
are that text in UTF-8, the only encoding a workflow is read in.

A file reached through a symlink (the file itself or a folder on its path) is the file the
symlink leads to: that target is written (and committed), the symlink stays as it is, and the
run says so.  A target outside the repository is never written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gha_fix.codemod.model import FileResult

OUTSIDE = "symlink leads outside the repo"


def file_bytes(result: FileResult) -> bytes:
    """What the fixed file holds on disk."""
    return result.new.encode("utf-8")


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write via a temporary file in the same folder and a rename, keeping the file's mode
    (or giving it `mode`)."""
    mode = path.stat().st_mode & 0o7777 if mode is None else mode
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


def target_path(root: Path, rel: str) -> str:
    """The path, relative to `root`, of the file `rel` is once every symlink is followed;
    ValueError when it leads outside `root`."""
    real = Path(os.path.realpath(root / rel))
    return real.relative_to(os.path.realpath(root)).as_posix()


def symlink_note(rel: str, target: str, done: str) -> str | None:
    """What to say when the file written (`done`: "written to", "committed in") is not `rel`."""
    return None if target == rel else f"{rel}: a symlink: the fix is {done} its target {target}"


def write_result(root: Path, result: FileResult) -> str | None:
    """`--no-commit`: write a changed file (its symlink's target); a failure becomes the
    file's one-line error.  Returns what to tell about a symlink."""
    if not result.changed:
        return None
    try:
        target = target_path(root, result.path)
    except ValueError:
        result.error = f"{result.path}:0: {OUTSIDE}"
        return None
    try:
        write_atomic(root / target, file_bytes(result))
    except OSError as exc:
        result.error = f"{result.path}:0: cannot write: {exc.strerror or exc}"
        return None
    result.written = True
    return symlink_note(result.path, target, "written to")
