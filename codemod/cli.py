"""The `gha-fix` command line (typer); thin: the work happens in `codemod.runner`."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from codemod.diff import unified_diff
from codemod.model import RepoResult, Status
from codemod.repo import ConfigError

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


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


PathsArg = Annotated[
    list[Path] | None, typer.Argument(help="Repository roots (default: the current folder).")
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


def _run(
    paths: list[Path] | None, *, write: bool, select: str | None, ignore: str | None,
    unsafe_fixes: bool, config: Path | None,
) -> list[RepoResult]:
    from codemod.runner import RunOptions, process_repo, select_transforms

    options = RunOptions(
        unsafe_fixes=unsafe_fixes, write=write, config=config,
        select=_ids(select), ignore=_ids(ignore),
    )
    try:  # fail fast on unknown transform ids, before touching any repo
        select_transforms({}, options) if options.select or options.ignore else None
    except ConfigError as exc:
        typer.echo(f"gha-fix: {exc}", err=True)
        raise typer.Exit(2) from None
    roots = paths or [Path(".")]
    results = []
    for root in roots:
        if not root.is_dir():
            results.append(RepoResult(str(root), error=f"{root}:0: not a folder"))
            continue
        results.append(process_repo(root, options))
    return results


def _print_errors(results: list[RepoResult]) -> None:
    from codemod.report import error_lines

    for line in error_lines(results):
        typer.echo(line, err=True)


def _print_diffs(results: list[RepoResult]) -> None:
    many = len(results) > 1
    chunks = []
    for repo in results:
        for file in repo.files:
            if file.changed:
                shown = f"{repo.root}/{file.path}" if many else file.path
                chunks.append(unified_diff(shown, file.original, file.new, file.secrets))
    text = "".join(chunks)
    if not text:
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(Syntax(text, "diff", background_color="default"))
    else:
        sys.stdout.write(text)


@app.command(
    epilog="Examples:\n\n  gha-fix apply --dry-run .\n\n  gha-fix apply --select permissions"
    " ~/src/my-repo\n\n  gha-fix apply --unsafe-fixes --no-commit ."
)
def apply(
    paths: PathsArg = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="Write the files; do not commit.")
    ] = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    output_format: FormatOpt = Format.text,
    config: ConfigOpt = None,
) -> None:
    """Fix the workflows of the repositories at PATHS (default: the current folder)."""
    from codemod.report import summary_line, text_lines, to_json

    results = _run(paths, write=not dry_run, select=select, ignore=ignore,
                   unsafe_fixes=unsafe_fixes, config=config)
    if output_format is Format.json:
        typer.echo(to_json(results))
    else:
        if dry_run:
            _print_diffs(results)
        for line in text_lines(results, checking=False):
            typer.echo(line, err=True)
        typer.echo(summary_line(results, "would be applied" if dry_run else "applied"), err=True)
    _print_errors(results)
    raise typer.Exit(2 if any(r.errors for r in results) else 0)


@app.command(
    epilog="Exit codes: 0 nothing to fix, 1 fixes are due, 2 errors.\n\n"
    "Examples:\n\n  gha-fix check .\n\n  gha-fix check --format json . > findings.json"
)
def check(
    paths: PathsArg = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = False,
    output_format: FormatOpt = Format.text,
    config: ConfigOpt = None,
) -> None:
    """Report what `apply` would change as `file:line: [transform] message`; for CI."""
    from codemod.report import summary_line, text_lines, to_json

    results = _run(paths, write=False, select=select, ignore=ignore,
                   unsafe_fixes=unsafe_fixes, config=config)
    if output_format is Format.json:
        typer.echo(to_json(results))
    else:
        for line in text_lines(results, checking=True):
            typer.echo(line)
        typer.echo(summary_line(results, "due"), err=True)
    _print_errors(results)
    due = any(r.status is not Status.SUPPRESSED for repo in results for r in repo.fixes())
    raise typer.Exit(2 if any(r.errors for r in results) else 1 if due else 0)


@app.command("transforms")
def list_transforms() -> None:
    """List the transforms with what they fix and their fix safety."""
    from transforms import REGISTRY

    for transform_id, cls in REGISTRY.items():
        typer.echo(f"{transform_id:<12} {cls.summary}  [fix safety: {cls.fix_safety}]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
