"""The `gha-fix` command line (typer); thin: the work happens in `gha_fix.codemod.runner`."""


import gc

# Importing and parsing allocate many small objects that form no cycles: the cyclic collector
# runs less often (it cost about 8 % of a bulk run's CPU and 6 % of a short run's start-up).
gc.set_threshold(50_000, 20, 20)

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from gha_fix.codemod.bulk import CommitOptions, Mode
from gha_fix.codemod.cli_options import (
    CheckFormat,
    ConfigOpt,
    DepthOpt,
    Format,
    FormatOpt,
    GitHubUrlOpt,
    IgnoreOpt,
    JobsOpt,
    OfflineOpt,
    PathsArg,
    ReportOpt,
    ReposFromOpt,
    SelectOpt,
    ShardOpt,
    TimeoutOpt,
    TtlOpt,
    UnsafeOpt,
    ids,
)
from gha_fix.codemod.model import Status
from gha_fix.codemod.output import (
    MASKED_NOTE,
    applied_verb,
    finish,
    print_diffs,
    print_messages,
)
from gha_fix.codemod.paths import display_path
from gha_fix.codemod.run_request import RunRequest, fail, interrupted
from gha_fix.codemod.run_request import run as run_request

if TYPE_CHECKING:
    from gha_fix.transforms.diagnose.report import Diagnosis

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Repair GitHub Actions workflows before they fail with "
    "'403 Resource not accessible by integration'.",
    epilog="Examples:  gha-fix check .    gha-fix apply --dry-run .    gha-fix transforms",
)


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
            fail(why)
        push = True  # --pr implies --push
    if secrets_file is not None:  # refused before any work (codemod/secrets_file.py)
        from gha_fix.codemod.secrets_file import SecretsFileError, prepare

        try:
            prepare(secrets_file, paths or [], depth, repos_from is not None)
        except SecretsFileError as exc:
            fail(str(exc))
    commit = CommitOptions(branch=branch, force=force, push=remote if push else None,
                           pull_request=pull_request)
    run = run_request(RunRequest(
        mode, tuple(paths or ()), ids(select), ids(ignore), unsafe_fixes, config, repos_from,
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
            fail(str(exc))
        if said:
            typer.echo(said, err=True)
    interrupted(run)
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

    run = run_request(RunRequest(
        Mode.CHECK, tuple(paths or ()), ids(select), ids(ignore), unsafe_fixes, config,
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
    interrupted(run)
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
        fail("give a log (a file, or - for stdin) or --run URL|ID, not both")
    if not apply_edit and (dry_run or no_commit or branch or force or push):
        fail("--dry-run, --no-commit, --branch, --force and --push go with --apply")
    mode = Mode.DRY_RUN if dry_run else Mode.WRITE if no_commit else Mode.COMMIT
    if mode is not Mode.COMMIT and (branch or force or push):
        fail("--branch, --force and --push commit: they do not go with --dry-run or "
              "--no-commit")
    if repo is None and (Path(".github") / "workflows").is_dir():
        repo = Path(".")
    elif repo is not None and not (repo / ".github" / "workflows").is_dir():
        fail(f"--repo {display_path(repo)}: no .github/workflows/ there")
    if run is not None:
        result = _diagnose_run(run, repo, github_repo, github_url)
    else:
        try:
            data = sys.stdin.buffer.read() if log_file == "-" else Path(log_file).read_bytes()
            lines = read_log(data, log_file)
        except OSError as exc:
            fail(f"{log_file}: {exc.strerror or exc}")
        except LogError as exc:
            fail(f"{log_file}: {exc}")
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
        fail(str(exc))


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
