"""The jobs that `need` a job, and what a guard on that job does to them on a fork pull request.

A job whose needs were skipped is skipped too, unless its `if:` has a status function that is
true then: after a skipped need, success(), failure() and cancelled() are false and always() is
true (docs.github.com, "Using jobs in a workflow": "If a job fails or is skipped, all jobs that
need it are skipped unless the jobs use a conditional expression that causes the job to
continue").  A dependant that still runs, say a required `if: always()` check that fails only
on a `failure` result, then passes green with nothing of what it gates run: which is why a
job-level guard on a job others need is never a safe fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gha_fix.transforms.fork_guard.context import expression_of
from gha_fix.transforms.lib.expressions import (
    UNKNOWN,
    PartialObject,
    evaluate,
    has_status_function,
    truth,
)


@dataclass
class Fallout:
    """What skipping a job on fork pull requests does to the jobs that need it."""

    skipped: list[str] = field(default_factory=list)  # skipped with it (transitively)
    still_run: list[str] = field(default_factory=list)  # run anyway (a status function)
    maybe: set[str] = field(default_factory=set)  # of those, the ones that may run (unknown)

    def __bool__(self) -> bool:
        return bool(self.skipped or self.still_run)

    def message(self, jobs: dict[str, Any]) -> str:
        """The part of a guard's message that says so."""
        parts = []
        if self.skipped:
            parts.append(f"{_names(self.skipped)} it and would be skipped with it")
        for job_id in self.still_run:
            condition = str(jobs[job_id].get("if")).strip()
            verb = "may" if job_id in self.maybe else "would"
            parts.append(f"job '{job_id}' (`if: {condition}`) {verb} still run after it is "
                         "skipped and may pass with nothing of what it waits for run")
        return "; ".join(parts)


def needs_of(job: dict[str, Any]) -> list[str]:
    value = job.get("needs")
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def fallout(job_id: str, jobs: dict[str, dict[str, Any]], ctx: Callable[[str], dict[str, Any]]
            ) -> Fallout:
    """What a guard skipping `job_id` on fork pull requests does to its dependants; `ctx(job)`:
    the context a job's `if:` is evaluated in for a fork pull request, to which the `needs`
    context adds `result: skipped` for the needs skipped.  Dependants whose `if:` is false
    there anyway are left out (the guard changes nothing for them)."""
    out = Fallout()
    queue, seen = [job_id], {job_id}
    while queue:
        current = queue.pop(0)
        for other, job in jobs.items():
            if other in seen or current not in needs_of(job):
                continue
            seen.add(other)
            value = job.get("if")
            node = expression_of(value) if value not in (None, True) else None
            if value not in (None, True) and node is None:
                out.still_run.append(other)  # unreadable: it may run
                continue
            if node is not None and truth(evaluate(node, ctx(other), None)) is False:
                continue  # never runs on a fork pull request, whatever its needs did
            gone = {job_id, *out.skipped}
            after = {**ctx(other), "needs": PartialObject(
                {n: PartialObject({"result": "skipped"}) for n in needs_of(job) if n in gone})}
            after_skip = node is not None and truth(evaluate(node, after, "skipped"))
            if after_skip is False or node is None or not has_status_function(node):
                out.skipped.append(other)
                queue.append(other)
            else:
                out.still_run.append(other)
                if after_skip is UNKNOWN:
                    out.maybe.add(other)
    order = list(jobs)
    out.skipped.sort(key=order.index)
    out.still_run.sort(key=order.index)
    return out


def reads_steps(job: dict[str, Any], step_ids: set[str]) -> bool:
    """Whether the job's `outputs:` read an output of one of the steps `step_ids`."""
    outputs = job.get("outputs")
    if not isinstance(outputs, dict) or not step_ids:
        return False
    pattern = re.compile(r"\bsteps\s*\.\s*([A-Za-z_][\w-]*)")
    return any(isinstance(v, str) and any(m.group(1) in step_ids for m in pattern.finditer(v))
               for v in outputs.values())


def _names(job_ids: list[str]) -> str:
    quoted = ", ".join(f"'{j}'" for j in job_ids)
    return f"job {quoted} needs" if len(job_ids) == 1 else f"jobs {quoted} need"
