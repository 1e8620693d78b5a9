"""`gha-fix diagnose --apply`: the diagnosis's workflow edit, made by the engine as `apply` makes
its fixes (operations, verification, the one write path, the commit on a branch; `--dry-run`
prints the diff, `--no-commit` writes the file).

Which edit:
- `missing-scope`: grant the scopes to the job (`grant.GrantScopes`; where no block can be
  written safely, nothing is applied and the reason is the patch note's);
- `fork-read-only`: the fork-guard transform's fixes for the failing job only (its steps that
  cannot work on a fork's read-only token are skipped on forks);
- any other cause: its fix is not a workflow edit (a secret, a setting, a runner), said as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note, RepoResult
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms.diagnose.grant import GrantScopes
from gha_fix.transforms.diagnose.report import Diagnosis

LOCATE = "give --repo (the repository the run belongs to) so that the job can be found"


class OneJob(Transform):
    """Another transform's fixes and notes for one job of one workflow."""

    def __init__(self, inner: Transform, workflow: str, job_id: str) -> None:
        super().__init__()
        self.inner, self.workflow, self.job_id = inner, workflow, job_id
        self.id = inner.id  # type: ignore[misc]  # the findings are the inner transform's
        self.summary = inner.summary  # type: ignore[misc]

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        if doc.path != self.workflow:
            return
        for item in self.inner.run(doc, repo):
            if tuple(item.path[:2]) == ("jobs", self.job_id):
                yield item


def workflow_edit(diagnosis: Diagnosis) -> tuple[Transform | None, str]:
    """The transform that makes the diagnosis's workflow edit, or (None, why there is none)."""
    if diagnosis.grant is not None:
        return GrantScopes(diagnosis.grant), ""
    if diagnosis.cause == "missing-scope":
        return None, diagnosis.patch_note or "the missing scope is not known"
    if diagnosis.cause == "fork-read-only":
        if diagnosis.workflow is None or diagnosis.job is None:
            return None, LOCATE
        from gha_fix.transforms.fork_guard.transform import ForkGuard

        return OneJob(ForkGuard(), diagnosis.workflow, diagnosis.job), ""
    if diagnosis.cause == "unknown":
        return None, "the cause is unknown: there is nothing to apply"
    return None, f"the fix is not a workflow edit: {diagnosis.fix}"


def apply_and_report(diagnosis: Diagnosis, repo: Path | None, mode_name: str, diffs: bool,
                     branch: str | None = None, force: bool = False, push: str | None = None
                     ) -> int:
    """`diagnose --apply`: the diagnosis's workflow edit through the engine, reported as
    `apply` reports its fixes (on stderr; the diff on stdout with `--dry-run` when `diffs`);
    2 if the run had errors, else 0."""
    import typer

    from gha_fix.codemod.output import (
        MASKED_NOTE,
        applied_verb,
        finish,
        print_diffs,
        print_messages,
    )
    from gha_fix.codemod.report import summary_line, text_lines

    transform, why = workflow_edit(diagnosis)
    if transform is not None and repo is None:
        transform, why = None, LOCATE
    if transform is None or repo is None:
        typer.echo(f"gha-fix: nothing applied: {why}", err=True)
        return 0
    done = apply_edit(repo, transform, mode_name, branch, force, push)
    dry_run = mode_name == "dry-run"
    masked = diffs and dry_run and print_diffs([done])
    for line in text_lines([done]):
        typer.echo(line, err=True)
    print_messages([done])
    verb = "would be applied" if dry_run else applied_verb([done], mode_name == "commit")
    typer.echo(summary_line([done], verb), err=True)
    if masked:
        typer.echo(MASKED_NOTE, err=True)
    finish([done], None)
    return 2 if done.errors else 0


def apply_edit(root: Path, transform: Transform, mode_name: str, branch: str | None = None,
               force: bool = False, push: str | None = None) -> RepoResult:
    """Run `transform` over the repository at `root` as `gha-fix apply` would: `mode_name` is
    `dry-run`, `write` (`--no-commit`) or `commit` (on a new branch, `branch` or the default)."""
    from gha_fix.codemod.bulk import CommitOptions, Mode, RunSpec, Target, run_one
    from gha_fix.codemod.runner import RunOptions

    mode = Mode(mode_name)
    spec = RunSpec(mode, RunOptions(offline=True), CommitOptions(branch, force, push),
                   transforms=(transform,), diffs=mode is Mode.DRY_RUN)
    return run_one(Target(root), spec)
