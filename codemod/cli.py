"""The `gha-fix` command line (typer); thin: the work happens in `gha_fix.codemod.runner`."""


import gc

# Importing and parsing allocate many small objects that form no cycles: the cyclic collector
# runs less often (it cost about 8 % of a bulk run's CPU and 6 % of a short run's start-up).
gc.set_threshold(50_000, 20, 20)

import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from gha_fix.codemod.bulk import DEFAULT_DEPTH, CommitOptions, Mode
from gha_fix.codemod.config import ConfigError
from gha_fix.codemod.model import Status
from gha_fix.codemod.output import (
    MASKED_NOTE,
    applied_verb,
    finish,
    print_diffs,
    print_messages,
)
from gha_fix.codemod.paths import display_path
from gha_fix.codemod.pool import PoolRun

if TYPE_CHECKING:
    from gha_fix.transforms.diagnose.report import Diagnosis

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Repair GitHub Actions workflows before they fail with "
    "'403 Resource not accessible by integration'.",
    epilog="Examples:  gha-fix check .    gha-fix apply --dry-run .    gha-fix transforms",
)


class Format(str, Enum):
    text = "text"
    json = "json"


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


PathsArg = Annotated[
    list[Path] | None, typer.Argument(help="Repository roots, or folders to search for them "
                                   "(default: the current folder).")
]
SelectOpt = Annotated[
    str | None, typer.Option("--select", help="Only these transforms (comma-separated ids).")
]
IgnoreOpt = Annotated[
    str | None, typer.Option("--ignore", help="Skip these transforms (comma-separated ids).")
]
UnsafeOpt = Annotated[
    bool, typer.Option("--unsafe-fixes", help="Also apply fixes marked unsafe.")
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Config file to use instead of .github/gha-fix.yml."),
]
ReposFromOpt = Annotated[
    Path | None,
    typer.Option("--repos-from", help="Read repository paths from FILE (one a line).",
                 rich_help_panel="Many repositories"),
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Repositories processed in parallel "
                 "(default: CPU count).", rich_help_panel="Many repositories"),
]
ShardOpt = Annotated[
    str | None,
    typer.Option("--shard", metavar="K/N", help="Only the K-th of N deterministic parts of the "
                 "repositories (a CI matrix).", rich_help_panel="Many repositories"),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Write per-repository results (JSON) to this file.",
                 rich_help_panel="Many repositories"),
]
OfflineOpt = Annotated[
    bool,
    typer.Option("--offline", help="Never fetch action metadata from GitHub: use the cache "
                 "and the offline index only (also: GHA_FIX_OFFLINE=1)."),
]
TtlOpt = Annotated[
    str | None,
    typer.Option("--metadata-ttl", metavar="DURATION",
                 help="How long cached action metadata of a tag or branch is trusted before it "
                 "is fetched again: 90s, 30m, 12h, 7d (default 1d; also GHA_FIX_METADATA_TTL). "
                 "Metadata at a commit SHA never changes and is kept."),
]
TimeoutOpt = Annotated[
    str | None,
    typer.Option("--metadata-timeout", metavar="DURATION",
                 help="How long the whole run may spend fetching action metadata (all "
                 "workers together): 10s, 1m (default 10s; also GHA_FIX_METADATA_TIMEOUT). "
                 "Then it goes on from the cache and the offline index."),
]
DepthOpt = Annotated[
    int,
    typer.Option("--depth", min=1, help="How deep to search a PATH that is not a repo root.",
                 rich_help_panel="Many repositories"),
]


GitHubUrlOpt = Annotated[
    str | None,
    typer.Option("--github-url", metavar="URL",
                 help="GitHub Enterprise Server: its URL (https://HOST; the API is "
                 "https://HOST/api/v3). Default: GH_HOST, else github.com.",
                 rich_help_panel="GitHub"),
]


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


def _fail(message: str) -> NoReturn:
    typer.echo(f"gha-fix: {message}", err=True)
    raise typer.Exit(2)


def _check_report(report: Path) -> None:
    """Exit 2 unless `report` can be written: found out before any repository is changed."""
    import tempfile

    if report.is_dir():
        _fail(f"{report}: cannot write the report: it is a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=report.parent, prefix=".gha-fix-"):
            pass
        if report.exists():
            with report.open("r+b"):
                pass
    except OSError as exc:
        _fail(f"{report}: cannot write the report: {exc.strerror or exc}")


def _interrupted(run: PoolRun) -> None:
    """Ctrl-C stopped the run: say how far it got and exit 130 (the outputs, the summary and
    `--report` cover the repositories done)."""
    if run.interrupted:
        typer.echo(f"gha-fix: interrupted after {len(run.results)} of {run.total} "
                   "repositories; the others were not touched", err=True)
        raise typer.Exit(130)


def _run(request: RunRequest) -> PoolRun:
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
            _fail(f"{path}: no such folder (flags such as --dry-run take no value: write the "
                  "flag alone)")
    durations: dict[str, float | None] = {}
    for flag, given in (("--metadata-ttl", request.metadata_ttl),
                        ("--metadata-timeout", request.metadata_timeout)):
        durations[flag] = parse_duration(given) if given is not None else None
        if given is not None and durations[flag] is None:
            _fail(f"{flag} {given!r}: expected a duration such as 90s, 30m, 12h or 7d")
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
        _fail(f"{request.repos_from}: {exc.strerror}" if isinstance(exc, OSError) else str(exc))
    if request.report is not None:
        _check_report(request.report)
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


@app.command(
    epilog="Without --dry-run or --no-commit the fixes are committed on a new branch "
    "(from HEAD); your uncommitted work is never touched.\n\n"
    "Examples:\n\n  gha-fix apply .\n\n  gha-fix apply --dry-run .\n\n"
    "  gha-fix apply --select permissions --push ~/src/my-repo\n\n"
    "  gha-fix apply --no-commit --jobs 8 --report fixes.json ~/src\n\n"
    "  gha-fix apply --dry-run --repos-from repos.txt --shard 2/4"
)
def apply(
    paths: PathsArg = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="Write the files; do not commit.")
    ] = False,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch to commit on "
                                 "(default: gha-fix/<short id of the change>).",
                                 rich_help_panel="Committing")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the branch if it exists.",
                           rich_help_panel="Committing")
    ] = False,
    push: Annotated[
        bool, typer.Option("--push", help="Push the branch (to --remote; --push=REMOTE "
                           "also works).", rich_help_panel="Committing")
    ] = False,
    remote: Annotated[
        str, typer.Option("--remote", help="Remote for --push.", rich_help_panel="Committing")
    ] = "origin",
    pull_request: Annotated[
        bool, typer.Option("--pr", help="Push the branch and open a pull request for it (or "
                           "update the open one), with what changed and why; needs a GitHub "
                           "token.", rich_help_panel="Committing")
    ] = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    output_format: FormatOpt = Format.text,
    config: ConfigOpt = None,
    repos_from: ReposFromOpt = None,
    jobs: JobsOpt = None,
    shard: ShardOpt = None,
    report: ReportOpt = None,
    depth: DepthOpt = 3,
    offline: OfflineOpt = False,
    metadata_ttl: TtlOpt = None,
    metadata_timeout: TimeoutOpt = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option("--secrets-file", help="Write the replaced credentials as NAME=value "
                     "lines (mode 0600) for `gh secret set -f FILE`; outside the repo or "
                     "git-ignored. One repository at a time; --dry-run writes nothing."),
    ] = None,
    github_url: GitHubUrlOpt = None,
) -> None:
    """Fix the workflows of the repositories at PATHS (default: the current folder).

    A PATH holding .github/workflows/ is a repository; any other folder is searched for them.
    """
    from gha_fix.codemod.report import summary_line, text_lines, to_json

    if dry_run and no_commit:
        no_commit = False  # --dry-run wins: nothing is written
    mode = Mode.DRY_RUN if dry_run else Mode.WRITE if no_commit else Mode.COMMIT
    if mode is not Mode.COMMIT and (branch or force or push or pull_request):
        typer.echo("gha-fix: --branch, --force, --push and --pr commit: they do not go with "
                   "--dry-run or --no-commit", err=True)
        raise typer.Exit(2)
    if pull_request:  # before anything is committed or pushed
        from gha_fix.codemod.github_api import missing_access

        if why := missing_access(github_url, "--pr"):
            _fail(why)
        push = True  # --pr implies --push
    if secrets_file is not None:  # refused before any work (codemod/secrets_file.py)
        from gha_fix.codemod.secrets_file import SecretsFileError, prepare

        try:
            prepare(secrets_file, paths or [], depth, repos_from is not None)
        except SecretsFileError as exc:
            _fail(str(exc))
    commit = CommitOptions(branch=branch, force=force, push=remote if push else None,
                           pull_request=pull_request)
    run = _run(RunRequest(
        mode, tuple(paths or ()), _ids(select), _ids(ignore), unsafe_fixes, config, repos_from,
        jobs, shard, depth, commit, offline, metadata_ttl, metadata_timeout, report,
        github_url=github_url))
    # each of `run.results` is rebuilt when read (printed a repository at a time); `results`
    # are their stand-ins for what reads them all many times (the summary, the table)
    results = run.results.summaries
    if output_format is Format.json:
        typer.echo(to_json(run.results))
    elif results:
        masked = dry_run and any([print_diffs([repo]) for repo in run.results])
        for repo in run.results:
            for line in text_lines([repo]):
                typer.echo(line, err=True)
        print_messages(results)
        verb = "would be applied" if dry_run else applied_verb(results, mode is Mode.COMMIT)
        typer.echo(summary_line(results, verb), err=True)
        if masked:
            typer.echo(MASKED_NOTE, err=True)
    finish(results, report)
    if secrets_file is not None and results:
        from gha_fix.codemod.secrets_file import SecretsFileError
        from gha_fix.codemod.secrets_file import finish as finish_secrets

        try:  # a dry run writes nothing: it names the secrets it would write
            said = finish_secrets(secrets_file, run.results, dry_run)
        except SecretsFileError as exc:  # its message never holds a value
            _fail(str(exc))
        if said:
            typer.echo(said, err=True)
    _interrupted(run)
    raise typer.Exit(2 if any(r.errors for r in results) else 0)


@app.command(
    epilog="Exit codes: 0 nothing to fix, 1 fixes are due, 2 errors.\n\n"
    "Examples:\n\n  gha-fix check .\n\n  gha-fix check --format json . > findings.json"
    "\n\n  gha-fix check --format sarif . > gha-fix.sarif"
    "\n\n  gha-fix check --format github .   (annotations in a workflow run)"
)
def check(
    paths: PathsArg = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="Output format.")
    ] = CheckFormat.text,
    config: ConfigOpt = None,
    repos_from: ReposFromOpt = None,
    jobs: JobsOpt = None,
    shard: ShardOpt = None,
    report: ReportOpt = None,
    depth: DepthOpt = 3,
    offline: OfflineOpt = False,
    metadata_ttl: TtlOpt = None,
    metadata_timeout: TimeoutOpt = None,
    github_url: GitHubUrlOpt = None,
) -> None:
    """Report what `apply` would change as `file:line: \\[transform] message`; for CI."""
    from gha_fix.codemod.report import github_annotations, summary_line, text_lines, to_json

    run = _run(RunRequest(
        Mode.CHECK, tuple(paths or ()), _ids(select), _ids(ignore), unsafe_fixes, config,
        repos_from, jobs, shard, depth, offline=offline, metadata_ttl=metadata_ttl,
        metadata_timeout=metadata_timeout, report=report,
        texts=output_format is CheckFormat.sarif, github_url=github_url))
    results = run.results.summaries  # as in `apply`
    if output_format is CheckFormat.json:
        typer.echo(to_json(run.results, checking=True))
    elif output_format is CheckFormat.sarif:
        from gha_fix.codemod.sarif import to_sarif_json

        typer.echo(to_sarif_json(run.results))
    elif output_format is CheckFormat.github:
        for line in github_annotations(run.results):
            typer.echo(line)
        if results:
            typer.echo(summary_line(results, "due"), err=True)
    elif results:
        for repo in run.results:
            for line in text_lines([repo]):
                typer.echo(line)
        print_messages(results)
        typer.echo(summary_line(results, "due"), err=True)
    finish(results, report)
    _interrupted(run)
    due = any(r.status is not Status.SUPPRESSED for repo in results for r in repo.fixes())
    raise typer.Exit(2 if any(r.errors for r in results) else 1 if due else 0)


@app.command(
    epilog="Examples:\n\n  gh run view 123 --log-failed | gha-fix diagnose -\n\n"
    "  gha-fix diagnose --repo . --format json logs_123.zip\n\n"
    "  gha-fix diagnose --run https://github.com/OWNER/REPO/actions/runs/123\n\n"
    "  gha-fix diagnose --run 123 --github-repo OWNER/REPO\n\n"
    "  gha-fix diagnose --apply --dry-run run.log   (the fix as a diff)"
)
def diagnose(
    log_file: Annotated[str | None, typer.Argument(
        help="The log: `gh run view --log-failed` output, a step's log from the web UI, or "
        "the log archive (.zip); - reads stdin.")] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", help="The repository the run belongs to (default: "
                                  "the current folder, if it holds .github/workflows).")
    ] = None,
    output_format: FormatOpt = Format.text,
    run: Annotated[
        str | None, typer.Option("--run", metavar="URL|ID",
                                 help="Fetch the run from GitHub (its failed jobs' logs, its "
                                 "workflow at the run's commit) instead of reading a log.",
                                 rich_help_panel="GitHub")
    ] = None,
    github_repo: Annotated[
        str | None, typer.Option("--github-repo", metavar="OWNER/REPO",
                                 help="The repository of a run given by ID (default: --repo's "
                                 "origin remote).", rich_help_panel="GitHub")
    ] = None,
    github_url: GitHubUrlOpt = None,
    apply_edit: Annotated[
        bool, typer.Option("--apply", help="Make the fix when it is a workflow edit (a missing "
                           "scope, a fork's read-only token), as `gha-fix apply` does: committed "
                           "on a new branch unless --dry-run or --no-commit.",
                           rich_help_panel="Applying the fix")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --apply: print the diff; write nothing.",
                           rich_help_panel="Applying the fix")
    ] = False,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="With --apply: write the file; do not commit.",
                           rich_help_panel="Applying the fix")
    ] = False,
    branch: Annotated[
        str | None, typer.Option("--branch", help="With --apply: the branch to commit on "
                                 "(default: gha-fix/<short id of the change>).",
                                 rich_help_panel="Applying the fix")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --apply: replace the branch if it exists.",
                           rich_help_panel="Applying the fix")
    ] = False,
    push: Annotated[
        bool, typer.Option("--push", help="With --apply: push the branch (to --remote).",
                           rich_help_panel="Applying the fix")
    ] = False,
    remote: Annotated[
        str, typer.Option("--remote", help="Remote for --push.",
                          rich_help_panel="Applying the fix")
    ] = "origin",
) -> None:
    """Say why a run failed (which known cause, the evidence, the fix) from its log."""
    from gha_fix.transforms.diagnose import LogError, diagnose, read_log, text_lines, to_json

    if (log_file is None) == (run is None):
        _fail("give a log (a file, or - for stdin) or --run URL|ID, not both")
    if not apply_edit and (dry_run or no_commit or branch or force or push):
        _fail("--dry-run, --no-commit, --branch, --force and --push go with --apply")
    mode = Mode.DRY_RUN if dry_run else Mode.WRITE if no_commit else Mode.COMMIT
    if mode is not Mode.COMMIT and (branch or force or push):
        _fail("--branch, --force and --push commit: they do not go with --dry-run or "
              "--no-commit")
    if repo is None and (Path(".github") / "workflows").is_dir():
        repo = Path(".")
    elif repo is not None and not (repo / ".github" / "workflows").is_dir():
        _fail(f"--repo {display_path(repo)}: no .github/workflows/ there")
    if run is not None:
        result = _diagnose_run(run, repo, github_repo, github_url)
    else:
        try:
            data = sys.stdin.buffer.read() if log_file == "-" else Path(log_file).read_bytes()
            lines = read_log(data, log_file)
        except OSError as exc:
            _fail(f"{log_file}: {exc.strerror or exc}")
        except LogError as exc:
            _fail(f"{log_file}: {exc}")
        result = diagnose(lines, repo)
    if output_format is Format.json:
        typer.echo(to_json(result))
    else:
        for line in text_lines(result):
            typer.echo(line)
        if result.patch and not apply_edit:  # --apply shows what it does itself
            typer.echo(result.patch, nl=False)
    code = 0 if result.cause != "unknown" else 1
    if apply_edit:
        from gha_fix.transforms.diagnose.apply import apply_and_report

        code = apply_and_report(result, repo, mode.value, output_format is Format.text,
                                branch, force, remote if push else None) or code
    raise typer.Exit(code)


def _diagnose_run(given: str, repo: Path | None, github_repo: str | None,
                  github_url: str | None) -> "Diagnosis":
    """`diagnose --run`: fetch the run and diagnose it (transforms/diagnose/run.py)."""
    from gha_fix.transforms.diagnose.run import RunError, diagnose_run

    try:
        return diagnose_run(given, repo, github_repo, github_url)
    except RunError as exc:
        _fail(str(exc))


@app.command("transforms")
def list_transforms() -> None:
    """List the transforms with what they fix and their fix safety."""
    from gha_fix.transforms import REGISTRY

    for transform_id, cls in REGISTRY.items():
        typer.echo(f"{transform_id:<12} {cls.summary}  [fix safety: {cls.fix_safety}]")


def main() -> None:
    """The `gha-fix` command.  When it is done it leaves at once: freeing every object of the
    run (the interpreter's teardown) cost about 7 % of a short run, and nothing is left to do
    then (files are written and closed, temporary folders removed, workers joined)."""
    try:
        app(args=_push_value(sys.argv[1:]))
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:  # a message: what Python would print before exiting with 1
            print(exc.code, file=sys.stderr)
            code = 1
    _leave(code)


def _leave(code: int) -> NoReturn:
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`gha-fix check | head`): nothing to say
        pass
    os._exit(code)


def _push_value(args: list[str]) -> list[str]:
    """`--push=REMOTE` -> `--push --remote REMOTE` (typer options cannot take an optional value)."""
    out: list[str] = []
    for arg in args:
        if arg == "--":
            return out + args[len(out):]
        if arg.startswith("--push="):
            out += ["--push", "--remote", arg.split("=", 1)[1]]
        else:
            out.append(arg)
    return out


if __name__ == "__main__":
    main()
