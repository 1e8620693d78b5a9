"""What keeps a commit run from losing anything of the user's: one run at a time per repository
(a lock file), Ctrl-C noted instead of raised while git runs, the original bytes and mode of
every file gha-fix writes, and the undo of a clean-tree commit that does not happen (exactly
those files, their index entries, HEAD and the branch; nothing else).
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
from typing import TYPE_CHECKING, NoReturn

from gha_fix.codemod.io import write_atomic

if TYPE_CHECKING:
    from git import Git

LOCK_NAME = "gha-fix.lock"
INTERRUPTED = "interrupted: your branch and files are as they were"
_STARTING = 10.0  # seconds: a lock file with no pid yet is a run that is starting, until then


class GitError(Exception):
    """Why the commit could not be made, as one line."""


def one_line(exc: Exception) -> str:
    """The last meaningful line of a git error, without GitPython's framing."""
    stderr = getattr(exc, "stderr", "") or ""
    lines = [
        line.strip().removeprefix("stderr:").strip(" '")
        for line in str(stderr).splitlines()
        if line.strip().strip("'")
    ]
    useful = [line for line in lines if not line.startswith("hint:")]
    return (useful or [str(exc).splitlines()[0] if str(exc) else type(exc).__name__])[-1]


def killed_by_sigint(exc: BaseException | None) -> bool:
    """git (or the hook it ran) was stopped by Ctrl-C."""
    return getattr(exc, "status", None) in (-signal.SIGINT, 128 + signal.SIGINT)


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
        except OSError as exc:
            if not isinstance(exc, FileExistsError):
                raise GitError(f"cannot create the lock {path}: {exc.strerror}") from None
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


def ref_value(git: Git, ref: str) -> str:
    return git.rev_parse("--verify", "--quiet", ref, with_exceptions=False).strip()


def put_back(git: Git, ref: str, old: str, made: str | None = None) -> None:
    """`ref` back to `old` (deleted when it did not exist), if it moved (to `made`)."""
    now = ref_value(git, ref)
    if now == old or (made is not None and now != made):
        return
    if old:
        git.update_ref(ref, old)
    else:
        git.update_ref("-d", ref)


def undo_clean(git: Git, before: tuple[str, str | None], branch: str | None, old: str,
               saved: dict[str, SavedFile], why: tuple[BaseException | None, bool]) -> NoReturn:
    """Undo a clean-tree commit attempt, then raise its one-line GitError.

    `before`: HEAD's commit and branch (None: detached); `branch`: the branch switched to
    (None: not switched), `old` its previous commit; `saved`: the files written, by path;
    `why`: the failure and whether Ctrl-C was pressed.  Only those files (unless changed
    meanwhile), their index entries, HEAD and `branch` are put back: nothing else.
    """
    from git import GitCommandError

    head, head_branch = before
    failure, interrupted = why
    try:
        if branch is not None and head_branch is None:
            git.update_ref("--no-deref", "HEAD", head)
        elif branch is not None:
            git.symbolic_ref("HEAD", f"refs/heads/{head_branch}")
        if saved:  # (with no path, `git reset` would reset the whole index)
            git.reset("-q", head, "--", *saved)
        kept = [target for target, entry in saved.items() if not entry.restore()]
        if branch is not None:
            put_back(git, f"refs/heads/{branch}", old)
    except (GitCommandError, OSError) as exc:
        reason = one_line(exc) if isinstance(exc, GitCommandError) else str(exc)
        raise GitError(f"the commit failed and undoing it failed too ({reason}): check "
                       "`git status` and `git branch`") from None
    if interrupted or killed_by_sigint(failure):
        edited = f", except {', '.join(kept)} (edited meanwhile)" if kept else ""
        raise GitError(INTERRUPTED + edited)
    reason = one_line(failure) if isinstance(failure, GitCommandError) else str(failure)
    if kept:
        raise GitError(f"commit failed: {reason}; {', '.join(kept)} changed meanwhile: left "
                       "as it is, the rest as it was")
    raise GitError(f"commit failed, nothing changed: {reason}")
