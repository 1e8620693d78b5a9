"""What keeps a commit run from losing anything of the user's: one run at a time per repository
(a lock file), Ctrl-C noted instead of raised while git runs, and the original bytes and mode
of every file gha-fix writes, to put back exactly those files if the commit does not happen.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from gha_fix.codemod.io import write_atomic

LOCK_NAME = "gha-fix.lock"
_STARTING = 10.0  # seconds: a lock file with no pid yet is a run that is starting, until then


class GitError(Exception):
    """Why the commit could not be made, as one line."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _holder(path: Path) -> int | None:
    """The pid in a lock file; 0 when the file is gone or stale (it may be taken over)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0
    if not text.isdigit():  # created, pid not written yet, or garbage
        return None if age < _STARTING else 0
    pid = int(text)
    return pid if _alive(pid) else 0


def _take_over(path: Path) -> None:
    """Remove a stale lock, unless another run has just replaced it with a live one."""
    aside = path.with_name(f"{LOCK_NAME}.stale.{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if _holder(aside) == 0:
        os.unlink(aside)
        return
    with suppress(FileExistsError):  # a live run's lock: put it back
        os.link(aside, path)
    os.unlink(aside)


@contextmanager
def repo_lock(git_dir: Path) -> Iterator[None]:
    """Hold `git_dir/gha-fix.lock` (created with O_EXCL, holding our pid) while inside; a
    lock whose pid is dead is stale and taken over."""
    path = git_dir / LOCK_NAME
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _holder(path)
            if pid != 0:
                who = f" (pid {pid})" if pid else ""
                raise GitError(f"another gha-fix run{who} is committing in this repository; "
                               "try again when it has finished") from None
            _take_over(path)
            continue
        break
    else:
        raise GitError(f"cannot take the lock {path}: it keeps coming back")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
        yield
    finally:
        if _holder(path) == os.getpid():
            with suppress(FileNotFoundError):
                os.unlink(path)


@contextmanager
def sigint_noted() -> Iterator[Callable[[], bool]]:
    """Inside, Ctrl-C does not raise: it is noted (call the yielded function to know), so the
    caller can undo what it started and say so.  Only the main thread can catch signals."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield lambda: bool(caught)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


@dataclass
class SavedFile:
    """A file as it was before gha-fix wrote it, and what gha-fix wrote."""

    path: Path
    data: bytes
    mode: int
    written: bytes | None = None

    @classmethod
    def of(cls, path: Path) -> SavedFile:
        return cls(path, path.read_bytes(), path.stat().st_mode & 0o7777)

    def write(self, data: bytes) -> None:
        self.written = data  # first: a failed write may have left part of it (then undone)
        write_atomic(self.path, data)

    def restore(self) -> bool:
        """Put the original bytes and mode back if the file still holds what gha-fix wrote;
        False when someone changed it since (it is then left as it is)."""
        if self.written is None:
            return True
        try:
            current = self.path.read_bytes()
        except FileNotFoundError:
            current = None
        if current not in (self.written, self.data):
            return False
        write_atomic(self.path, self.data, self.mode)
        self.written = None
        return True


def worktree_of(porcelain: str, branch: str) -> str | None:
    """The worktree where `branch` is checked out, from `git worktree list --porcelain`."""
    current = None
    for line in porcelain.splitlines():
        if line.startswith("worktree "):
            current = line.removeprefix("worktree ")
        elif line == f"branch refs/heads/{branch}":
            return current
    return None
