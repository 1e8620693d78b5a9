"""Run gha-fix over many checked-out repositories: find them, pick a shard, run in parallel.

A platform team fixes a fleet, not one repo.  A PATH that holds `.github/workflows/` is a repo
root (a git checkout or a plain folder); any other folder is searched, `depth` levels down,
for such roots.  `--shard K/N` keeps every N-th root of the sorted list, so N machines (a CI
matrix) given the same list split it without talking to each other.  Repos run in worker
processes (`codemod/pool.py`: a dead worker fails only its repo, Ctrl-C stops cleanly, results
are kept compressed); a repo that fails becomes an error in its own result and never stops the
others.  Everything crossing processes is picklable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import partial
from pathlib import Path

from gha_fix.codemod.diff import file_diff
from gha_fix.codemod.model import RepoResult
from gha_fix.codemod.pool import Counts, PoolRun, counts, deferred_interrupt, pack, run_pool
from gha_fix.codemod.repo import is_repo_root
from gha_fix.codemod.runner import RunOptions, process_repo
from gha_fix.codemod.transform import Transform

DEFAULT_DEPTH = 3
# folders never searched for repositories: tool caches and dependencies, not checkouts
_SKIP = {"node_modules", "__pycache__", "site-packages", "venv"}


class Mode(Enum):
    """What a run does to each repository."""

    CHECK = "check"  # report only
    DRY_RUN = "dry-run"  # compute the changes (and their diffs); write nothing
    WRITE = "write"  # write the fixed files (`--no-commit`)
    COMMIT = "commit"  # commit the fixes on a new branch


@dataclass(frozen=True)
class CommitOptions:
    """How `Mode.COMMIT` commits (`codemod/git.py`)."""

    branch: str | None = None  # default: gha-fix/<short id of the change>
    force: bool = False  # replace an existing branch
    push: str | None = None  # remote to push the branch to
    pull_request: bool = False  # --pr: then open a pull request (codemod/pull_request.py)


@dataclass(frozen=True)
class RunSpec:
    """What to do with each repository (sent to the worker processes)."""

    mode: Mode = Mode.CHECK
    options: RunOptions = field(default_factory=RunOptions)
    commit: CommitOptions = field(default_factory=CommitOptions)
    transforms: tuple[Transform, ...] | None = None  # None: the registry, as configured
    diffs: bool = False  # render the diffs in the worker (in parallel), for --dry-run
    many: bool = False  # more than one repo: diffs show paths with the repo's folder
    texts: bool = False  # keep the files' texts in the results (SARIF needs them)


@dataclass(frozen=True)
class Target:
    path: Path
    error: str | None = None  # the path cannot be processed at all (missing, not a folder)


class ShardError(ValueError):
    pass


class ReposFileError(ValueError):
    pass


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` (1-based) -> (K, N)."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ShardError(f"--shard must look like K/N (e.g. 2/8), not {text!r}") from None
    if not 1 <= k <= n:
        raise ShardError(f"--shard {text}: K must be between 1 and N")
    return k, n


def read_repos_file(path: Path) -> list[Path]:
    """One path a line; blank lines and `#` comments are skipped.  OSError if unreadable;
    ReposFileError if not UTF-8."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ReposFileError(f"{path}:{line}: not UTF-8 (one path a line)") from None
    lines = (line.strip() for line in text.splitlines())
    return [Path(line) for line in lines if line and not line.startswith("#")]


def find_roots(folder: Path, depth: int) -> list[Path]:
    """Repo roots under `folder` (not descending into a root, hidden folders or symlinks)."""
    found: list[Path] = []
    level = [folder]
    for _ in range(depth):
        below: list[Path] = []
        for parent in level:
            try:
                entries = sorted(os.scandir(parent), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") or entry.name in _SKIP:
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    continue
                path = Path(entry.path)
                if is_repo_root(path):
                    found.append(path)
                else:
                    below.append(path)
        level = below
    return sorted(found)


def discover(paths: Iterable[Path], depth: int = DEFAULT_DEPTH) -> list[Target]:
    """The targets for `paths`, in order, each repository once."""
    targets: list[Target] = []
    seen: set[Path] = set()

    def add(target: Target) -> None:
        key = target.path.resolve() if target.error is None else target.path
        if key not in seen:
            seen.add(key)
            targets.append(target)

    for path in paths:
        if not path.exists():
            add(Target(path, f"{path}: no such folder"))
        elif not path.is_dir():
            add(Target(path, f"{path}: not a folder"))
        elif is_repo_root(path):
            add(Target(path))
        else:
            roots = find_roots(path, depth)
            # nothing below: the folder itself, a repo without workflows (nothing to do)
            for root in roots or [path]:
                add(Target(root))
    return targets


def shard(targets: Sequence[Target], k: int, n: int) -> list[Target]:
    """Every n-th target of the list sorted by path, starting at the k-th (1-based)."""
    order = sorted(range(len(targets)), key=lambda i: targets[i].path.as_posix())
    keep = {index for rank, index in enumerate(order) if rank % n == k - 1}
    return [t for i, t in enumerate(targets) if i in keep]


def run_one(target: Target, spec: RunSpec) -> RepoResult:
    """Process one repository; any failure becomes the result's error (runs in a worker)."""
    if target.error:
        return RepoResult(str(target.path), error=target.error)
    transforms = list(spec.transforms) if spec.transforms is not None else None
    try:
        if spec.mode is Mode.COMMIT:
            from gha_fix.codemod.git import commit_repo

            options = replace(spec.options, write=False)
            result = commit_repo(
                target.path,
                lambda folder, slug: process_repo(folder, options, transforms, slug),
                spec.commit,
            )
            if spec.commit.pull_request and result.branch and result.error is None:
                from gha_fix.codemod.pull_request import add_pull_request

                add_pull_request(target.path, result, spec.commit.push or "origin",
                                 spec.options.github_url)
        else:
            options = replace(spec.options, write=spec.mode is Mode.WRITE)
            result = process_repo(target.path, options, transforms)
            for file in result.files if spec.diffs else ():
                if file.changed:
                    file_diff(result, file, spec.many)
    except Exception as exc:  # one repo's bug must not stop the fleet
        return RepoResult(str(target.path), error=f"{target.path}: internal error: {exc!r}")
    return result if spec.texts else without_texts(result)


def without_texts(result: RepoResult) -> RepoResult:
    """The files' texts replaced by stand-ins that keep `changed` (the diffs, rendered, stay):
    a fleet's results cross processes and are kept until the summary, and the texts were
    nearly all of their size."""
    for file in result.files:
        changed = file.changed
        file.original, file.new = "", "\n" if changed else ""
    return result


def run_fleet(
    targets: Sequence[Target],
    spec: RunSpec,
    jobs: int | None = None,
    progress: ProgressBar | None = None,
) -> PoolRun:
    """Every target (in `jobs` worker processes, default: CPU count, once there are two);
    the results come back in the order of `targets`.  Ctrl-C stops handing out repositories:
    the ones in flight finish, and the run is `interrupted`."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    if len(targets) <= 1:  # one repository: in this process (Ctrl-C as usual)
        run = PoolRun(len(targets))
        with progress or nullcontext():
            for index, target in enumerate(targets):
                result = run_one(target, spec)
                run.add(index, pack(result), progress, counts(result))
        return run
    # biggest repos first, so that no big one starts last and leaves the other workers idle
    order = sorted(range(len(targets)), key=lambda i: -_weight(targets[i]))
    with deferred_interrupt() as stop, progress or nullcontext():
        return run_pool(targets, partial(run_one, spec=spec), jobs, order, _failed, stop,
                        progress)


def run_all(
    targets: Sequence[Target],
    spec: RunSpec,
    jobs: int | None = None,
    progress: ProgressBar | None = None,
) -> list[RepoResult]:
    """`run_fleet`'s results, as a list."""
    return list(run_fleet(targets, spec, jobs, progress).results)


def _failed(target: Target, why: str) -> RepoResult:
    if why == "interrupted":
        why = "interrupted while processing this repository (some files may be written)"
    return RepoResult(str(target.path), error=f"{target.path}: {why}")


def _weight(target: Target) -> int:
    """Bytes of workflows: a cheap estimate of a repo's processing time."""
    if target.error:
        return 0
    folder = target.path / ".github" / "workflows"
    try:
        return sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
    except OSError:
        return 0


class ProgressBar:
    """A rich progress bar on stderr: repos done, files, fixes, errors."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.files = self.fixes = self.errors = 0
        self.progress = Progress(
            TextColumn("repos"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        )
        self.task = self.progress.add_task("repos", total=total, stats=self._stats())

    def _stats(self) -> str:
        return f"files {self.files}  fixes {self.fixes}  errors {self.errors}"

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, done: Counts) -> None:
        files, fixes, errors = done
        self.files += files
        self.fixes += fixes
        self.errors += errors
        self.progress.update(self.task, advance=1, stats=self._stats())
