"""The permissions fix never takes a grant away from a job it does not fully understand.

For every job of every corpus workflow, the job's effective GITHUB_TOKEN grant is computed
before and after the `permissions` fix, under both repository defaults: the restricted one
(`contents: read, packages: read`) and the permissive one (read-write, as on every repository
created before February 2023 and on many organisations).  A job whose steps are not all
understood must keep every scope at least at the level it had under either default; a job
fully understood may lose what it does not need (that is the point of the fix).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, corpus_repos

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.runner import RunOptions, process_document
from gha_fix.transforms.analysis import LEVELS, SCOPES, analyse_workflow
from gha_fix.transforms.lib.workflow import trigger_events
from gha_fix.transforms.permissions import Permissions

REPOS = corpus_repos()
pytestmark = pytest.mark.skipif(not REPOS, reason=f"corpus absent: {CORPUS} (needs ../shared)")

# https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication
# (shared/knowledge/github-token-facts.md, "Defaults"); metadata: read is always there
RESTRICTED = {"contents": "read", "packages": "read"}
PERMISSIVE = {**{scope: "write" for scope in SCOPES if scope not in ("id-token", "models")},
              "models": "read"}
DEFAULTS = {"restricted": RESTRICTED, "permissive": PERMISSIVE}


def spelt(block: Any) -> dict[str, str] | None:
    """A `permissions:` value as {scope: level} (none dropped); None for an expression."""
    if block in ("read-all", "write-all"):
        level = block.removesuffix("-all")
        grant = {scope: level for scope in SCOPES if scope != "id-token"}
        return {**grant, "id-token": "write"} if level == "write" else grant
    if isinstance(block, dict):
        return {str(k): str(v) for k, v in block.items() if str(v) in ("read", "write")}
    if block is None:
        return {}  # `permissions:` with no value: nothing
    return None


def effective(data: dict, job_id: str, default: dict[str, str]) -> dict[str, str] | None:
    """The grant a job's token gets: its block, else the workflow's, else the default."""
    job = data["jobs"][job_id]
    if isinstance(job, dict) and "permissions" in job:
        return spelt(job["permissions"])
    if "permissions" in data:
        return spelt(data["permissions"])
    return dict(default)


def lost(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """`scope: level` of each grant of `before` that `after` no longer gives."""
    return [f"{scope}: {level}" for scope, level in sorted(before.items())
            if LEVELS[after.get(scope, "none")] < LEVELS[level]]


def losses_in(root: Path) -> list[str]:
    """Every scope a job not fully understood loses under either default, in one repository."""
    problems: list[str] = []
    repo = RepoContext(root)
    for path in repo.workflow_files():
        shown = f"{root.name}/{path.name}"
        try:
            doc = Document.from_file(path, shown)
        except DocumentError:
            continue
        jobs = doc.data.get("jobs")
        if not isinstance(jobs, dict) or "workflow_call" in trigger_events(doc.data):
            continue
        result = process_document(doc, [Permissions()], repo, RunOptions())
        after = Document.from_text(shown, result.new).data
        analysis = analyse_workflow(doc, repo)
        for job_id, needs in analysis.items():
            if needs.understood:
                continue  # every step known: the fix may take away what it does not need
            for name, default in DEFAULTS.items():
                old = effective(doc.data, job_id, default)
                new = effective(after, job_id, default)
                if old is None or new is None:
                    continue  # an expression: not decided here
                gone = lost(old, new)
                if gone:
                    problems.append(f"{shown}: job {job_id} ({name} default) loses "
                                    f"{', '.join(gone)}: {needs.reasons()[0]}")
    return problems


# Written here, apart from the knowledge files, as an independent check: commands that push
# with the credentials an earlier actions/checkout persisted (the examples and git push)
PUSHES = re.compile(
    r"\bmkdocs\s+gh-deploy\b|\bmike\s+deploy\b[^\n]*--push\b|\bghp-import\b[^\n]*\s-\w*p|"
    r"\bsemantic-release\b|\bcargo\s+release\b[^\n]*(?:--execute|\s-x\b)|"
    r"\blerna\s+(?:publish|version)\b|\brelease-it\b|\bgit\s+push\b")


def pushing_jobs(data: dict) -> list[str]:
    """Jobs with a `run:` step that pushes (PUSHES) after a checkout that kept its token."""
    found = []
    for job_id, job in (data.get("jobs") or {}).items():
        kept = False
        for step in (job.get("steps") or []) if isinstance(job, dict) else []:
            if not isinstance(step, dict):
                continue
            uses, with_ = str(step.get("uses", "")), step.get("with") or {}
            if uses.startswith("actions/checkout@"):
                token = str(with_.get("token", "${{ github.token }}")).replace(" ", "")
                kept = str(with_.get("persist-credentials", "true")).lower() != "false" and (
                    token.lower() in ("${{github.token}}", "${{secrets.github_token}}"))
            elif kept and PUSHES.search(str(step.get("run", ""))):
                found.append(str(job_id))
                break
    return found


def stripped_pushers(root: Path) -> list[str]:
    """Jobs that push through the persisted credentials and lose contents: write."""
    problems: list[str] = []
    repo = RepoContext(root)
    for path in repo.workflow_files():
        shown = f"{root.name}/{path.name}"
        try:
            doc = Document.from_file(path, shown)
        except DocumentError:
            continue
        if not isinstance(doc.data.get("jobs"), dict):
            continue
        pushing = pushing_jobs(doc.data)
        if not pushing:
            continue
        after = Document.from_text(
            shown, process_document(doc, [Permissions()], repo, RunOptions()).new).data
        for job_id in pushing:
            for name, default in DEFAULTS.items():
                old = effective(doc.data, job_id, default) or {}
                new = effective(after, job_id, default) or {}
                if old.get("contents") == "write" and new.get("contents") != "write":
                    problems.append(f"{shown}: job {job_id} ({name} default) loses contents: "
                                    "write, and it pushes with the checkout's credentials")
    return problems


def test_effective_grant_helpers() -> None:
    data = {"permissions": {"contents": "read"},
            "jobs": {"a": {"permissions": "write-all"}, "b": {}, "c": {"permissions": {}}}}
    assert effective(data, "a", RESTRICTED)["id-token"] == "write"
    assert effective(data, "b", PERMISSIVE) == {"contents": "read"}
    assert effective(data, "c", PERMISSIVE) == {}
    assert effective({"jobs": {"b": {}}}, "b", PERMISSIVE) == PERMISSIVE
    assert lost(PERMISSIVE, {"contents": "read"})[:2] == ["actions: write",
                                                          "artifact-metadata: write"]
    assert lost(RESTRICTED, {"contents": "write", "packages": "read"}) == []


def test_pushing_jobs_are_found() -> None:
    checkout = {"uses": "actions/checkout@v4"}
    data = {"jobs": {
        "docs": {"steps": [checkout, {"run": "mkdocs gh-deploy --force"}]},
        "lent": {"steps": [checkout, {"run": "cargo release patch --execute"}]},
        "none": {"steps": [{**checkout, "with": {"persist-credentials": False}},
                           {"run": "git push"}]},
        "pat": {"steps": [{**checkout, "with": {"token": "${{ secrets.PAT }}"}},
                          {"run": "npx semantic-release"}]},
        "before": {"steps": [{"run": "git push"}, checkout]},
    }}
    assert pushing_jobs(data) == ["docs", "lent"]


@pytest.mark.parametrize("root", REPOS, ids=[p.name for p in REPOS])
def test_jobs_that_push_with_the_checkout_credentials_keep_contents_write(root: Path) -> None:
    assert stripped_pushers(root) == []


@pytest.mark.parametrize("root", REPOS, ids=[p.name for p in REPOS])
def test_jobs_not_understood_keep_every_grant_under_both_defaults(root: Path) -> None:
    assert losses_in(root) == []
