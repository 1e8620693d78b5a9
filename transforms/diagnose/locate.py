"""The failing step in the repository's workflows (`--repo`), its token's secret, and a patch.

A job is matched by the name the log gives it (its `name:`, or its id; a matrix job's
`build (ubuntu-latest, 3.12)` by the part before the parenthesis), a step by its `name:` or by
what it ran (`Run actions/github-script@v7` is its `uses:`, `Run npm test` the first line of its
`run:`).  Only a single match counts: two workflows with a job `build` and no step to tell them
apart locate nothing.

The patch adds the missing scopes to the job's own `permissions:` mapping through the engine's
operations (`SetKey`, applied and verified by `apply_fix`).  A job without one is left alone:
a new job-level block would set every scope it does not list to `none` (see patch_note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gha_fix.codemod.diff import unified_diff
from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.model import Fix
from gha_fix.codemod.operations import EditError, SetKey
from gha_fix.codemod.verify import apply_fix
from gha_fix.transforms.analysis.tokens import secret_names
from gha_fix.transforms.lib.workflow import env_values, trigger_events

_MATRIX = re.compile(r"\s*\(.*\)\s*$")
_LEVEL = {"none": 0, "read": 1, "write": 2}


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


def patch(located: Located, scopes: list[str]) -> tuple[str | None, str | None]:
    """(unified diff adding `scopes` to the job's `permissions:`, None) or (None, why not)."""
    doc = located.doc
    body = doc.data["jobs"][located.job_id] if doc else None
    if doc is None or not isinstance(body, dict):
        return None, "the job was not found in the workflow"
    current = body.get("permissions")
    if not isinstance(current, dict):
        what = f"`permissions: {current}`" if current is not None else "no `permissions:` block"
        return None, (f"job {located.job_id!r} has {what}: a new job-level block would set every "
                      "scope it does not list to none; `gha-fix apply --select permissions` "
                      "writes the whole block from what the job's steps need")
    wanted = [s.split(":", 1) for s in scopes]
    missing = [(s, lvl) for s, lvl in wanted
               if _LEVEL.get(str(current.get(s, "none")), 0) < _LEVEL.get(lvl, 0)]
    if not missing:
        return None, (f"job {located.job_id!r} already grants {', '.join(scopes)}: the token was "
                      "restricted elsewhere (a fork, Dependabot, or a caller's permissions)")
    ops = tuple(SetKey(("jobs", located.job_id, "permissions"), scope, level)
                for scope, level in missing)
    fix = Fix("diagnose", ("jobs", located.job_id), "grant the missing scopes", ops)
    try:
        new = apply_fix(doc, fix)
    except EditError as exc:
        return None, f"the edit could not be made safely ({exc})"
    return unified_diff(doc.path, doc.full_text(), new.full_text()), None
