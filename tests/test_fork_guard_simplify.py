"""The guards fork-guard writes, simplified, decide what their unsimplified form decides.

The unsimplified form is what gha-fix wrote before: `(existing) && (guard)`, the guard letting
every other trigger event through (`github.event_name != 'pull_request' || SAME_REPO`).  For
every guard written over the golden cases and the corpus (../shared/corpus; skipped when
absent):
- the syntax trees are equal (only parentheses went), or they differ only by the dropped
  "other events" disjunct;
- both `if:` values are evaluated with the expression module for each trigger event of the
  workflow (and, for a reusable workflow, an event no literal names) x an outsider's fork or a
  member's branch x each job status (success, failure, cancelled); what the guard reads is
  known, every other value UNKNOWN (so an UNKNOWN comes only from the existing condition, the
  same subtree in both); they must decide the same (true, false or unknown) in each.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, corpus_repos

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.model import Fix
from gha_fix.codemod.operations import SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms.fork_guard.guard import guard_expression
from gha_fix.transforms.fork_guard.knowledge import knowledge
from gha_fix.transforms.fork_guard.transform import ForkGuard
from gha_fix.transforms.lib.expressions import (
    STATUSES,
    UNKNOWN,
    PartialObject,
    Sym,
    condition,
    runs,
)
from gha_fix.transforms.lib.workflow import trigger_events

GOLDEN = ROOT / "tests" / "golden" / "fork-guard"
Guard = tuple[str, Any, str, list[str], list[str]]  # where, existing, written, guarded, events


def unsimplified(existing: Any, guarded: list[str], others: bool) -> str:
    """The `if:` as gha-fix wrote it before the simplification (its old `combine`)."""
    guard = guard_expression(guarded, others)
    if existing is None or existing is True or not existing.strip():
        return guard
    body = existing.strip()
    if body.startswith("${{") and body.endswith("}}") and body.count("${{") == 1:
        return f"${{{{ ({body[3:-2].strip()}) && ({guard}) }}}}"
    return f"({body}) && ({guard})"


def guards_written(root: Path) -> Iterator[Guard]:
    repo = RepoContext(root)
    for path in repo.workflow_files():
        try:
            doc = Document.from_file(path, path.name)
        except DocumentError:
            continue
        events = trigger_events(doc.data)
        for item in ForkGuard().run(doc, repo):
            if not isinstance(item, Fix):
                continue
            for op in item.operations:
                if isinstance(op, SetKey) and op.key == "if":
                    owner = doc.data
                    for key in op.path:
                        owner = owner[key]
                    yield (f"{root.name}/{path.name}:{'/'.join(map(str, op.path))}",
                           owner.get("if"), op.value, item.details["events"], events)


def contexts(events: list[str]) -> Iterator[tuple[PartialObject, str]]:
    """What the guard reads is known (so that an UNKNOWN comes only from the existing
    condition, the same subtree on both sides); every other value is UNKNOWN."""
    pr_events = {*knowledge()["fork_events"], *knowledge()["target_events"]}
    names: list[Any] = list(events)
    if "workflow_call" in events:  # the caller's event: any, with any payload
        names.append(Sym("event_name", foreign=True))
    for event in names:
        for head in ("outsider/app", "octo/app"):  # an outsider's fork, a member's branch
            if event in pr_events:
                payload: Any = PartialObject({"pull_request": PartialObject({
                    "head": PartialObject({"repo": PartialObject({"full_name": head})})})})
            else:  # only pull request events carry a pull_request (webhook payloads)
                payload = UNKNOWN if isinstance(event, Sym) else PartialObject(
                    {"pull_request": None})
            github = PartialObject({"event_name": event, "repository": "octo/app",
                                    "event": payload})
            for status in STATUSES:
                yield PartialObject({"github": github}), status


def check(guard: Guard) -> list[str]:
    where, existing, written, guarded, events = guard
    others = any(e not in guarded for e in events)
    old = unsimplified(existing, guarded, others)
    tree = condition(written)
    if tree not in (condition(old), condition(unsimplified(existing, guarded, False))):
        # more went than parentheses and the "other events" disjunct
        return [f"{where}: {written!r} is not {old!r} with fewer parentheses or disjuncts"]
    problems = []
    for ctx, status in contexts(events):
        before, after = runs(old, ctx, status), runs(written, ctx, status)
        if before is not after:
            problems.append(f"{where}: {ctx['github']['event_name']} {status}: {old!r} "
                            f"decides {before}, {written!r} decides {after}")
    return problems


def golden_repo(case: Path, tmp_path: Path) -> Path:
    repo = tmp_path / case.name
    if (case / "repo").is_dir():
        shutil.copytree(case / "repo", repo)
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    spec = Document.from_file(case / "case.yml", "case.yml").data if (
        case / "case.yml").is_file() else {}
    shutil.copy(case / "input.yml", workflows / spec.get("file", "workflow.yml"))
    return repo


def test_golden_guards_decide_as_before(tmp_path: Path) -> None:
    guards = [g for case in sorted(GOLDEN.iterdir()) if (case / "input.yml").is_file()
              for g in guards_written(golden_repo(case, tmp_path))]
    assert len(guards) >= 10
    assert [p for g in guards for p in check(g)] == []


@pytest.mark.skipif(not corpus_repos(), reason="corpus absent (needs ../shared/corpus)")
def test_corpus_guards_decide_as_before() -> None:
    guards = [g for root in corpus_repos() for g in guards_written(root)]
    dropped = [g for g in guards if "|| github.event.pull_request.head" not in g[2]
               and any(e not in g[3] for e in g[4])]
    assert len(guards) >= 50 and dropped  # the corpus exercises both simplifications
    assert [p for g in guards for p in check(g)] == []


S = "github.event.pull_request.head.repo.full_name == github.repository"


@pytest.mark.parametrize(("existing", "written", "events"), [
    # the disjunct lets push through when matrix.os == 'x'
    ("matrix.os == 'x'", f"matrix.os == 'x' && {S}", ["push", "pull_request"]),
    # a reusable workflow's caller may be a push or anything else
    ("github.event_name != 'push'", f"github.event_name != 'push' && {S}",
     ["push", "pull_request", "workflow_call"]),
    # `a || b && G` is `a || (b && G)`
    ("a || b", f"a || b && (github.event_name != 'pull_request' || {S})",
     ["push", "pull_request"]),
])
def test_a_wrong_simplification_is_caught(existing: str, written: str, events: list[str]
                                          ) -> None:
    """The check itself: a simplification that changes a decision is reported."""
    assert check(("case", existing, written, ["pull_request"], events)) != []
