"""What the commands print besides the findings: diffs, per-repo messages, the summary table,
the errors and `--report`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gha_fix.codemod.diff import file_diff, masked
from gha_fix.codemod.masks import Masker
from gha_fix.codemod.model import RepoResult
from gha_fix.codemod.paths import display_path

MASKED_NOTE = ("gha-fix: credentials are masked in this diff, so it does not `git apply` as "
               "printed (it would write the masks); apply the fixes with "
               "`gha-fix apply --no-commit` (or `gha-fix apply` to commit them on a branch)")


def print_diffs(results: list[RepoResult]) -> bool:
    """The unified diffs on stdout (coloured on a terminal); whether one masks a credential
    (then MASKED_NOTE is due, after the summary)."""
    many = len(results) > 1
    changed = [(repo, file) for repo in results for file in repo.files if file.changed]
    text = "".join(file_diff(repo, file, many) for repo, file in changed)
    if not text:
        return False
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(Syntax(text, "diff", background_color="default"))
    else:
        sys.stdout.write(text)
    return any(masked(file) for _, file in changed)


def print_messages(results: list[RepoResult]) -> None:
    """Per-repo messages (branch made, metadata rate limit, ...) on stderr, masked (a URL
    with user info, such as `--push=https://user:TOKEN@host/x`, loses it). A message that
    several repositories share (the metadata deadline passed, a rate limit) is said once, with
    how many repositories it concerns."""
    many = len(results) > 1
    said: dict[str, list[str]] = {}
    for repo in results:
        masker = Masker.of_results([repo])
        for message in repo.messages:
            said.setdefault(masker.text(message), []).append(display_path(repo.root))
    for message, roots in said.items():
        if not many:
            typer.echo(message, err=True)
        elif len(roots) == 1:
            typer.echo(f"{roots[0]}: {message}", err=True)
        else:
            typer.echo(f"{message} ({len(roots)} repositories: {', '.join(roots[:3])}"
                       f"{', ...' if len(roots) > 3 else ''})", err=True)


def print_errors(results: list[RepoResult]) -> None:
    from gha_fix.codemod.report import error_lines

    for line in error_lines(results):
        typer.echo(line, err=True)


def applied_verb(results: list[RepoResult], committing: bool) -> str:
    """What happened to the fixes of `apply`: a commit from a dirty work tree leaves the
    files as they were, so its fixes are committed on the branch, not applied."""
    if not committing:
        return "applied"
    branched = [repo for repo in results if repo.branch]
    only_committed = [r for r in branched if not any(f.written for f in r.files)]
    if not only_committed:
        return "applied"
    if len(only_committed) == len(branched):
        return "committed on a new branch (your work tree is untouched)"
    return "applied or committed on a new branch (work trees with changes are untouched)"


def finish(results: list[RepoResult], report: Path | None) -> None:
    """The summary table (many repos), `--report`, the errors."""
    from gha_fix.codemod.report import bulk_report

    if len(results) > 1:
        from rich.console import Console

        from gha_fix.codemod.report import summary_table

        console = Console(stderr=True)
        if not console.is_terminal:
            console.width = 120  # a log file: don't squeeze the table into 80 columns
        console.print(summary_table(results))
    print_errors(results)
    if report is not None:
        try:
            report.write_text(bulk_report(results) + "\n", encoding="utf-8")
        except OSError as exc:
            typer.echo(f"gha-fix: {report}: cannot write the report: {exc.strerror}", err=True)
            raise typer.Exit(2) from None
