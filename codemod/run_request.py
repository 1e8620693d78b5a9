"""A run as `apply` and `check` ask for it: the command line's values checked (bad ones exit 2
before any repository is touched), the repositories found, then processed (`bulk.run_fleet`)."""

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import typer

from gha_fix.codemod.bulk import DEFAULT_DEPTH, CommitOptions, Mode
from gha_fix.codemod.config import ConfigError
from gha_fix.codemod.paths import display_path
from gha_fix.codemod.pool import PoolRun


@dataclass(frozen=True)
class RunRequest:
    """What `apply` or `check` asks of a run, from its command line."""

    mode: Mode
    paths: tuple[Path, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    config: Path | None = None
    repos_from: Path | None = None
    jobs: int | None = None
    shard: str | None = None
    depth: int = DEFAULT_DEPTH
    commit: CommitOptions = field(default_factory=CommitOptions)
    offline: bool = False
    metadata_ttl: str | None = None  # as given: 90s, 30m, 12h, 7d
    metadata_timeout: str | None = None  # as given: 10s, 1m
    report: Path | None = None  # --report: checked before anything runs
    texts: bool = False  # the results keep the files' texts (SARIF)
    github_url: str | None = None  # --github-url: where the default token is read


# what a user may type after a flag believing it takes a value (`--dry-run true`)
_FLAG_VALUES = {"true", "false", "yes", "no", "on", "off", "1", "0"}


def fail(message: str) -> NoReturn:
    typer.echo(f"gha-fix: {message}", err=True)
    raise typer.Exit(2)


def check_report(report: Path) -> None:
    """Exit 2 unless `report` can be written: found out before any repository is changed."""
    import tempfile

    if report.is_dir():
        fail(f"{report}: cannot write the report: it is a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=report.parent, prefix=".gha-fix-"):
            pass
        if report.exists():
            with report.open("r+b"):
                pass
    except OSError as exc:
        fail(f"{report}: cannot write the report: {exc.strerror or exc}")


def interrupted(run: PoolRun) -> None:
    """Ctrl-C stopped the run: say how far it got and exit 130 (the outputs, the summary and
    `--report` cover the repositories done)."""
    if run.interrupted:
        typer.echo(f"gha-fix: interrupted after {len(run.results)} of {run.total} "
                   "repositories; the others were not touched", err=True)
        raise typer.Exit(130)


def run(request: RunRequest) -> PoolRun:
    """Find the repositories and process them; bad arguments exit 2 before any is touched."""
    from gha_fix.codemod.bulk import (
        ProgressBar,
        ReposFileError,
        RunSpec,
        ShardError,
        discover,
        parse_shard,
        read_repos_file,
        run_fleet,
    )
    from gha_fix.codemod.bulk import shard as take_shard
    from gha_fix.codemod.github_files import parse_duration
    from gha_fix.codemod.repo import is_repo_root
    from gha_fix.codemod.runner import RunOptions, select_transforms

    for path in request.paths:
        if path.as_posix().lower() in _FLAG_VALUES and not path.exists():
            fail(f"{path}: no such folder (flags such as --dry-run take no value: write the "
                  "flag alone)")
    durations: dict[str, float | None] = {}
    for flag, given in (("--metadata-ttl", request.metadata_ttl),
                        ("--metadata-timeout", request.metadata_timeout)):
        durations[flag] = parse_duration(given) if given is not None else None
        if given is not None and durations[flag] is None:
            fail(f"{flag} {given!r}: expected a duration such as 90s, 30m, 12h or 7d")
    options = RunOptions(
        unsafe_fixes=request.unsafe_fixes, config=request.config, select=request.select,
        ignore=request.ignore, offline=request.offline,
        metadata_ttl=durations["--metadata-ttl"],
        metadata_timeout=durations["--metadata-timeout"], github_url=request.github_url,
    )
    try:  # fail fast on bad arguments, before touching any repo
        select_transforms({}, options) if options.select or options.ignore else None
        part = parse_shard(request.shard) if request.shard else None
        listed = read_repos_file(request.repos_from) if request.repos_from else []
    except (ConfigError, ShardError, ReposFileError, OSError) as exc:
        fail(f"{request.repos_from}: {exc.strerror}" if isinstance(exc, OSError) else str(exc))
    if request.report is not None:
        check_report(request.report)
    given = [*request.paths, *listed] or [Path(".")]
    targets = discover(given, request.depth)
    if not any(t.error or is_repo_root(t.path) for t in targets):
        shown = " ".join(display_path(p) for p in given)
        typer.echo(f"gha-fix: nothing found: no repository (a folder with .github/workflows/) "
                   f"under {shown}, {request.depth} levels deep", err=True)
        return PoolRun(0)
    if part:
        targets = take_shard(targets, *part)
    spec = RunSpec(request.mode, options, request.commit, diffs=request.mode is Mode.DRY_RUN,
                   many=len(targets) > 1, texts=request.texts)
    show = sys.stderr.isatty() and len(targets) > 1
    return run_fleet(targets, spec, request.jobs, ProgressBar(len(targets)) if show else None)
