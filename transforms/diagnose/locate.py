"""The failing step in the repository's workflows (`--repo`), its token's secret, and a patch.

A job is matched by the name the log gives it (its `name:`, or its id; a matrix job's
`build (ubuntu-latest, 3.12)` by the part before the parenthesis), a step by its `name:` or by
what it ran (`Run actions/github-script@v7` is its `uses:`, `Run npm test` the first line of its
`run:`).  Only a single match counts: two workflows with a job `build` and no step to tell them
apart locate nothing.

The patch grants the missing scopes to the job (where and when: `grant.py`), made with the
engine's operations and verified by `apply_fix`; when no edit is safe, `patch_note` says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gha_fix.codemod.diff import unified_diff
from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.model import Note
from gha_fix.codemod.operations import EditError
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.verify import apply_fix
from gha_fix.transforms.analysis.tokens import secret_names
from gha_fix.transforms.diagnose.grant import GrantPlan, grant_fix
from gha_fix.transforms.lib.workflow import env_values, trigger_events

_MATRIX = re.compile(r"\s*\(.*\)\s*$")


@dataclass
class Located:
    workflow: str  # relative to the repository root
    job_id: str
    step_index: int | None = None
    step_name: str = ""
    line: int | None = None
    secrets: list[str] = field(default_factory=list)  # secrets the step's env/with read
    events: list[str] = field(default_factory=list)  # the workflow's triggers
    doc: Document | None = None


def workflow_documents(repo: Path) -> list[Document]:
    folder = repo / ".github" / "workflows"
    docs: list[Document] = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        try:
            docs.append(Document.from_file(path, path.relative_to(repo).as_posix()))
        except DocumentError:
            continue
    return docs


def locate(repo: Path, job: str, step: str, header: str) -> Located | None:
    """The workflow, job and step the log names; None unless exactly one fits."""
    found: list[Located] = []
    for doc in workflow_documents(repo):
        jobs = doc.data.get("jobs")
        if not isinstance(jobs, dict):
            continue
        for job_id, body in jobs.items():
            if not isinstance(body, dict) or (job and not _job_matches(str(job_id), body, job)):
                continue
            index = _step_index(body.get("steps"), step, header)
            if index is None and not job:
                continue
            found.append(_located(doc, str(job_id), body, index))
    if len(found) > 1:
        named = [f for f in found if f.step_index is not None]
        found = named if len(named) == 1 else found
    return found[0] if len(found) == 1 else None


def _job_matches(job_id: str, body: dict[str, Any], shown: str) -> bool:
    base = _MATRIX.sub("", shown).strip()
    name = str(body.get("name", "")).strip()
    if shown in (job_id, name) or base in (job_id, name):
        return True
    prefix = name.split("${{")[0].strip()  # `name: Build ${{ matrix.os }}`
    return "${{" in name and bool(prefix) and shown.startswith(prefix)


def _step_index(steps: Any, step: str, header: str) -> int | None:
    if not isinstance(steps, list):
        return None
    wanted = [w for w in (step, header, step.removeprefix("Run ")) if w]
    hits = [i for i, s in enumerate(steps) if isinstance(s, dict) and _step_names(s) & set(wanted)]
    return hits[0] if len(hits) == 1 else None


def _step_names(step: dict[str, Any]) -> set[str]:
    names = {str(step["name"]).strip()} if "name" in step else set()
    if isinstance(step.get("uses"), str):
        names |= {step["uses"].strip(), f"Run {step['uses'].strip()}"}
    if isinstance(step.get("run"), str) and step["run"].strip():
        first = step["run"].strip().splitlines()[0].strip()
        names |= {first, f"Run {first}"}
    return names


def _located(doc: Document, job_id: str, body: dict[str, Any], index: int | None) -> Located:
    steps = body.get("steps") if isinstance(body.get("steps"), list) else []
    step = steps[index] if index is not None and isinstance(steps[index], dict) else {}
    path: tuple[str | int, ...] = ("jobs", job_id, *(("steps", index) if step else ()))
    name = str(step.get("name") or step.get("uses") or "").strip()
    env = env_values(doc.data.get("env"), body.get("env"), step.get("env"))
    return Located(doc.path, job_id, index if step else None, name, doc.line_of(path),
                   secret_names(step.get("with"), env), trigger_events(doc.data), doc)


def patch(located: Located, scopes: list[str], repo: RepoContext | None
          ) -> tuple[str | None, str | None, GrantPlan | None]:
    """(unified diff granting `scopes` to the located job, None, the plan) or
    (None, why not, None); the decision is `grant.grant_fix`'s, the edit the engine's."""
    doc = located.doc
    if doc is None:
        return None, "the job was not found in the workflow", None
    plan = GrantPlan(located.workflow, located.job_id, tuple(scopes), _why(located))
    fix = grant_fix(doc, plan, repo)
    if isinstance(fix, Note):
        return None, fix.message, None
    try:
        new = apply_fix(doc, fix)
    except EditError as exc:
        return None, f"the edit could not be made safely ({exc})", None
    return unified_diff(doc.path, doc.full_text(), new.full_text()), None, plan


def _why(located: Located) -> str:
    """The comment beside a granted scope: the step whose run failed without it."""
    name = " ".join(located.step_name.split())[:60]
    return f"{name}: its run failed without it" if name else "the job's run failed without it"
