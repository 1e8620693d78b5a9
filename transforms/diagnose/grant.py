"""The workflow edit a missing-scope diagnosis calls for: grant the scopes to the job that failed.

One decision, used twice: for the preview (`Diagnosis.patch`, a diff verified by the engine)
and for `gha-fix diagnose --apply`, where `GrantScopes` is the transform that the engine runs
like any other (`codemod/bulk.run_one`: operations, verification, the one write path, the
commit on a branch), so that `--dry-run`, `--no-commit` and the commit behave as in `apply`.

Where the scopes go:
- the job has its own `permissions:` mapping: the missing scopes are added to it (adding never
  takes anything away);
- the job has no block and the workflow has a top-level mapping (`{}` included): the job gets
  a copy of the top-level grant plus the missing scopes (what it had, plus them);
- no block anywhere: the job has the repository's default, which gha-fix cannot see.  A new
  block sets every scope it does not list to `none`, so one is written only when that cannot
  take away what the job uses: when the config says the default is restricted (its
  `contents: read, packages: read` plus the missing scopes), or when the analysis understands
  every step of the job (what they need plus the missing scopes, as `gha-fix apply --select
  permissions` would write);
- otherwise (`read-all`, a job that is not fully understood, a reusable workflow whose callers
  decide) nothing is written, and the reason says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note
from gha_fix.codemod.operations import Commented, SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms.analysis import LEVELS
from gha_fix.transforms.lib.workflow import trigger_events

TRANSFORM_ID = "diagnose"
# where a new job-level block goes (as the permissions transform places it)
_AFTER = ("runs-on",)
_BEFORE = ("environment", "concurrency", "outputs", "env", "defaults", "strategy", "container",
           "services", "timeout-minutes", "continue-on-error", "steps", "uses", "with",
           "secrets")
# a job with no block anywhere, in a repository set to the restricted default:
# https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication
_RESTRICTED = {"contents": "read", "packages": "read"}


@dataclass(frozen=True)
class GrantPlan:
    """Grant `scopes` (`scope:level`) to job `job_id` of `workflow` (relative to the repo)."""

    workflow: str
    job_id: str
    scopes: tuple[str, ...]
    why: str  # the comment beside each added scope: what failed without it


def grant_fix(doc: Document, plan: GrantPlan, repo: RepoContext | None) -> Fix | Note:
    """The fix granting `plan.scopes` in `doc`, or a Note saying why none is written."""
    path = ("jobs", plan.job_id)
    jobs = doc.data.get("jobs")
    body = jobs.get(plan.job_id) if isinstance(jobs, dict) else None
    if not isinstance(body, dict):
        return Note(TRANSFORM_ID, (), f"job {plan.job_id!r} is not in {doc.path}")
    wanted = {s: lvl for s, lvl in (scope.split(":", 1) for scope in plan.scopes)}
    own = body.get("permissions")
    if isinstance(own, dict):
        return _add_to_block(plan, own, wanted)
    if own is not None:
        return Note(TRANSFORM_ID, path, f"job {plan.job_id!r} has `permissions: {own}`: write "
                    f"its scopes as a mapping with {_describe(wanted)} (a string block is not "
                    "rewritten)")
    callers = "workflow_call" in trigger_events(doc.data)
    base, source, current = _inherited(doc, plan.job_id, repo)
    if base is None:
        return Note(TRANSFORM_ID, path, source)
    missing = _missing(base, wanted)
    if current and not missing:
        return Note(TRANSFORM_ID, path, _already(plan, wanted))
    # the diagnosed scopes carry the comment (unless the base grants more already)
    added = {s: lvl for s, lvl in wanted.items() if LEVELS.get(base.get(s, "none"), 0) <= (
        LEVELS.get(lvl, 0))}
    block: dict[str, Any] = dict(base)
    for scope, level in added.items():
        block[scope] = Commented(level, plan.why) if plan.why else level
    granted = {**base, **added}
    shown = ", ".join(f"{s}: {lvl}" for s, lvl in granted.items())
    message = f"job {plan.job_id}: add permissions ({shown}): {source} plus what the run missed"
    if callers:
        message += "; a reusable workflow: its callers must grant these scopes too"
    op = SetKey(path, "permissions", block, after=_AFTER, before=_BEFORE)
    return Fix(TRANSFORM_ID, path, message, (op,), details={"permissions": granted})


def _add_to_block(plan: GrantPlan, own: dict[Any, Any], wanted: dict[str, str]) -> Fix | Note:
    path = ("jobs", plan.job_id)
    current = {str(k): str(v) for k, v in own.items()}
    missing = _missing(current, wanted)
    if not missing:
        return Note(TRANSFORM_ID, path, _already(plan, wanted))
    ops = tuple(SetKey((*path, "permissions"), scope,
                       Commented(level, plan.why) if plan.why else level)
                for scope, level in missing.items())
    return Fix(TRANSFORM_ID, path, f"job {plan.job_id}: grant {_describe(missing)}", ops,
               details={"permissions": missing})


def _inherited(doc: Document, job_id: str, repo: RepoContext | None
               ) -> tuple[dict[str, str] | None, str, bool]:
    """The block a job with no block of its own may be given without losing anything:
    (the grant, where it comes from, whether it is the job's current grant), else
    (None, why no block is written, False)."""
    top = doc.data.get("permissions")
    if isinstance(top, dict):
        return {str(k): str(v) for k, v in top.items()}, "the top-level grant", True
    if top is not None:
        return None, (f"the workflow has `permissions: {top}` and job {job_id!r} none of its "
                      "own: a block listing every scope it uses is needed; "
                      "`gha-fix apply --select permissions` writes one"), False
    if "workflow_call" in trigger_events(doc.data):
        return None, ("a reusable workflow with no `permissions:`: its callers decide; grant the "
                      "scope in the calling job's block"), False
    config = repo.config.get("permissions") if repo is not None else None
    if isinstance(config, dict) and config.get("repository_default") == "restricted":
        return dict(_RESTRICTED), "the repository's restricted default", True
    why = (f"job {job_id!r} has no `permissions:` block and neither has the workflow: it gets "
           "the repository's default, which gha-fix cannot see, and a new block would set "
           "every scope it does not list to none")
    if repo is None:
        return None, why, False
    from gha_fix.transforms.analysis import analyse_workflow

    needs = analyse_workflow(doc, repo).get(job_id)
    if needs is None or not needs.understood:
        reason = needs.reasons()[0] if needs is not None and needs.reasons() else "not analysed"
        return None, (f"{why}; not every step of it is understood ({reason}): set "
                      "`permissions: repository_default: restricted` in .github/gha-fix.yml if "
                      "that is the setting, or add the block by hand"), False
    if needs.lent:
        return None, (f"{why}; a program in it may push with credentials an earlier step left "
                      f"({', '.join(sorted(needs.lent))})"), False
    return (dict(sorted(needs.scopes().items())), "what its steps need (every one understood)",
            False)


def _missing(grant: dict[str, str], wanted: dict[str, str]) -> dict[str, str]:
    return {s: lvl for s, lvl in wanted.items()
            if LEVELS.get(grant.get(s, "none"), 0) < LEVELS.get(lvl, 0)}


def _already(plan: GrantPlan, wanted: dict[str, str]) -> str:
    return (f"job {plan.job_id!r} already grants {_describe(wanted)}: the token was restricted "
            "elsewhere (a fork, Dependabot, or a caller's permissions)")


def _describe(scopes: dict[str, str]) -> str:
    return ", ".join(f"{s}: {lvl}" for s, lvl in scopes.items())


class GrantScopes(Transform):
    """`diagnose --apply`: the one fix of a plan, in the workflow it names (not registered: the
    engine is handed this instance)."""

    id = TRANSFORM_ID
    summary = "grant the scopes a failed run was missing"

    def __init__(self, plan: GrantPlan) -> None:
        super().__init__()
        self.plan = plan

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        if doc.path == self.plan.workflow:
            yield grant_fix(doc, self.plan, repo)
