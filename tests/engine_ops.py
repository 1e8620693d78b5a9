"""Test-only transforms that drive the engine through every YAML shape.

`ops` applies the operations listed in its options (golden cases under tests/golden/ops/);
`exercise` makes the same kinds of edits everywhere in a real workflow (the corpus test).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note, Safety
from gha_fix.codemod.operations import Commented, RemoveKey, ReplaceValue, SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform


def _value(raw: Any) -> Any:
    if isinstance(raw, dict) and set(raw) in ({"value", "comment"}, {"value", "comment", "above"}):
        return Commented(_value(raw["value"]), raw["comment"], tuple(raw.get("above", ())))
    if isinstance(raw, dict):
        return {k: _value(v) for k, v in raw.items()}
    return raw


class Ops(Transform):
    id = "ops"
    summary = "test-only: apply the operations given in the options"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        for spec in self.options.get("operations", []):
            path = tuple(spec["path"])
            if spec["op"] == "set":
                op: Any = SetKey(path, spec["key"], _value(spec["value"]),
                                 tuple(spec.get("after", ())), tuple(spec.get("before", ())))
            elif spec["op"] == "remove":
                op = RemoveKey(path, spec["key"])
            else:
                above = tuple(spec["above"]) if "above" in spec else None
                op = ReplaceValue(path, _value(spec["value"]), above)
            safety = Safety.UNSAFE if spec.get("unsafe") else Safety.SAFE
            yield Fix(self.id, path, spec.get("message", spec["op"]), (op,), safety,
                      key=spec.get("name", ""), requires=tuple(spec.get("requires", ())))


class Exercise(Transform):
    """Edits of every kind, everywhere: top-level insert, job-level insert with comments,
    insert into `with:` (block or flow), scalar replacement (`name`), `if:` rewriting,
    block-scalar rewriting (`run`) and key removal (`timeout-minutes`)."""

    id = "exercise"
    summary = "test-only: edit every job and step"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        data = doc.data
        if "permissions" not in data:
            yield self.fix((), SetKey((), "permissions", {"contents": "read"}, before=("jobs",)))
        jobs = data.get("jobs")
        if not isinstance(jobs, dict):
            return
        for name, job in jobs.items():
            if not isinstance(job, dict):
                continue
            path = ("jobs", name)
            if "gha-fix-probe" not in job:
                value = {"contents": Commented("write", "why"), "issues": "read"}
                yield self.fix(path, SetKey(path, "gha-fix-probe", value, after=("runs-on",),
                                            before=("steps",)))
            if "timeout-minutes" in job:
                yield self.fix(path, RemoveKey(path, "timeout-minutes"))
            steps = job.get("steps")
            if not isinstance(steps, list):
                continue
            for i, step in enumerate(steps):
                if not isinstance(step, dict):
                    continue
                sp = (*path, "steps", i)
                if isinstance(step.get("with"), dict) and "gha-fix-probe" not in step["with"]:
                    yield self.fix(sp, SetKey((*sp, "with"), "gha-fix-probe", "${{ github.sha }}"))
                if isinstance(step.get("name"), str) and not step["name"].endswith(" [x]"):
                    yield self.fix(sp, ReplaceValue((*sp, "name"), step["name"] + " [x]"))
                cond = step.get("if")
                if isinstance(cond, str) and "gha-fix" not in cond:
                    new = f"({cond}) && github.actor != 'gha-fix'"
                    yield self.fix(sp, SetKey(sp, "if", new))
                run = step.get("run")
                if isinstance(run, str) and "\n" in run.rstrip("\n") and "# gha-fix" not in run:
                    yield self.fix(sp, ReplaceValue((*sp, "run"), "# gha-fix\n" + run))

    def fix(self, path: tuple, op: Any) -> Fix:
        return Fix(self.id, path, "exercise", (op,))
