"""The fork-guard transform: walks a workflow's jobs, guards what cannot work on a fork pull
request (or runs the pull request's code on pull_request_target), and says why."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gha_fix.codemod.document import Document, YamlPath
from gha_fix.codemod.model import Fix, Note, Safety
from gha_fix.codemod.operations import SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import register
from gha_fix.transforms.fork_guard.checkout import head_checkout
from gha_fix.transforms.fork_guard.context import (
    environment_on,
    expression_of,
    pr_context,
    pr_verdict,
    resolve_env,
)
from gha_fix.transforms.fork_guard.dependants import Fallout, fallout, needs_of, reads_steps
from gha_fix.transforms.fork_guard.guard import guarded_if
from gha_fix.transforms.fork_guard.knowledge import action_name, knowledge
from gha_fix.transforms.fork_guard.needs import GuardPlan, analyse, plan_job, unique
from gha_fix.transforms.fork_guard.tools import runs_tests
from gha_fix.transforms.lib.expressions import has_status_function
from gha_fix.transforms.lib.workflow import env_values, trigger_events


@register
class ForkGuard(Transform):
    id = "fork-guard"
    summary = ("skip jobs/steps that need secrets or a write token on fork pull requests; "
               "guard pull_request_target jobs that run the pull request's code")
    fix_safety = "safe (fork pull requests); unsafe (pull_request_target head checkouts)"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        data = doc.data
        jobs = data.get("jobs")
        events = trigger_events(data)
        kb = knowledge()
        fork_events = [e for e in kb["fork_events"] if e in events]
        target_events = [e for e in kb["target_events"] if e in events]
        if not isinstance(jobs, dict) or not (fork_events or target_events):
            return
        yield from Workflow(doc, repo, events, fork_events, target_events).fixes()


class Workflow:
    """One workflow's jobs, walked in `needs:` order (a job after a skipped one is skipped)."""

    def __init__(self, doc: Document, repo: RepoContext, events: list[str],
                 fork_events: list[str], target_events: list[str]) -> None:
        self.doc = doc
        self.data = doc.data
        self.jobs: dict[str, Any] = {k: v for k, v in doc.data["jobs"].items()
                                     if isinstance(v, dict)}
        self.events = events
        self.fork_events = fork_events
        self.target_events = target_events
        self.needs = analyse(doc, repo) if fork_events else {}
        self.skipped: dict[str, bool] = {}  # job id -> skipped on fork PRs (by any guard)
        self.out: list[Fix | Note] = []

    def fixes(self) -> Iterator[Fix | Note]:
        handled = set()
        if self.target_events:
            for job_id in self.jobs:
                if self.target_job(job_id):
                    handled.add(job_id)
        if self.fork_events:
            for job_id in self.jobs:
                if job_id not in handled:
                    self.visit(job_id)
        yield from self.out

    # helpers ---------------------------------------------------------------------------------
    def env(self, job: dict[str, Any], step: dict[str, Any] | None, fork: bool, event: str
            ) -> dict[str, Any]:
        """The `env` context of an `if:`: workflow and job env, and for a step its own `env:`
        (the runner merges it before evaluating the condition: actions/runner
        src/Runner.Worker/StepsRunner.cs, "Evaluate and merge action's env block")."""
        raw = env_values(self.data.get("env"), job.get("env"), (step or {}).get("env"))
        return resolve_env(raw, pr_context(event, fork, {}))

    def verdict(self, value: Any, job: dict[str, Any], events: list[str],
                step: dict[str, Any] | None = None) -> str:
        """"runs", "guarded" (false for fork PRs only) or "never" (false for every PR)."""
        return pr_verdict(value, events, lambda fork, event: self.env(job, step, fork, event))

    def name(self, path: YamlPath) -> str:
        if len(path) == 2:
            return f"job '{path[1]}'"
        step = self.jobs[path[1]]["steps"][path[3]]
        label = step.get("name") or step.get("id") or step.get("uses") or f"#{path[3] + 1}"
        return f"step '{label}'"

    def set_if(self, path: YamlPath, existing: Any, guarded: list[str]) -> SetKey | Note:
        new = guarded_if(existing, guarded, self.events)
        if new is None:
            return Note("fork-guard", path, f"{self.name(path)}: `if:` mixes `${{{{ }}}}` and "
                        "text; add the same-repository guard by hand")
        if len(path) == 2:
            return SetKey(path, "if", new, after=("needs",), before=("runs-on", "uses", "steps"))
        return SetKey(path, "if", new, after=("id", "name"), before=("uses", "run"))

    # pull_request and friends ---------------------------------------------------------------
    def visit(self, job_id: str, stack: tuple[str, ...] = ()) -> bool:
        """Whether the job is skipped on fork pull requests (after guarding it if needed)."""
        if job_id in self.skipped:
            return self.skipped[job_id]
        self.skipped[job_id] = False  # cycles: GitHub rejects them; do not loop
        job = self.jobs[job_id]
        path: YamlPath = ("jobs", job_id)
        verdict = self.verdict(job.get("if"), job, self.fork_events)
        node = expression_of(job.get("if"))
        status = node is not None and has_status_function(node)
        after_skipped = [n for n in needs_of(job)
                         if n in self.jobs and n not in stack and self.visit(n, (*stack, job_id))]
        if verdict == "never" or (after_skipped and not status):
            self.skipped[job_id] = True
            return True
        deploys = "environment" in job and environment_on(job["environment"], self.fork_events)
        plan = plan_job(job, self.needs.get(job_id), self.data.get("env"),
                        lambda step: self.verdict(step.get("if"), job, self.fork_events,
                                                  step) == "never", deploys)
        if plan is None:
            return False
        if verdict == "guarded":
            if plan.whole or plan.steps:
                self.out.append(Note("fork-guard", path, f"job '{job_id}': already guarded "
                                     "against fork pull requests"))
            self.skipped[job_id] = True
            return True
        dependants = fallout(job_id, self.jobs, self.fork_context) if plan.whole else Fallout()
        if plan.whole and not (dependants and self.steps_instead(job, plan)):
            tests = runs_tests(job.get("steps"))
            unsafe = [*([dependants.message(self.jobs)] if dependants else []),
                      *([skips_tests(tests)] if tests else [])]
            why = plan.why + (f"; an unsafe fix: {'; '.join(unsafe)}" if unsafe else "")
            self.skipped[job_id] = self.add_guard(
                path, job.get("if"), plan.reasons, plan.comments, why,
                Safety.UNSAFE if unsafe else Safety.SAFE)
            return self.skipped[job_id]
        instead = (f"; its steps are guarded, not the job, since {dependants.message(self.jobs)}"
                   if plan.whole else "")
        carried = list(plan.carried.get(None, []))
        for index, secrets in plan.carried.items():
            carrier = job["steps"][index] if index is not None else None
            if carrier is not None and self.verdict(carrier.get("if"), job, self.fork_events,
                                                    carrier) == "runs":
                carried += secrets
        for step in plan.steps:
            step_path: YamlPath = (*path, "steps", step.index)
            value = job["steps"][step.index].get("if")
            state = self.verdict(value, job, self.fork_events, job["steps"][step.index])
            if state == "guarded":
                self.out.append(Note("fork-guard", step_path, f"{self.name(step_path)}: "
                                     "already guarded against fork pull requests"))
            elif state == "runs":
                tests = runs_tests([job["steps"][step.index]])
                why = instead + (f"; an unsafe fix: {skips_tests(tests)}" if tests else "")
                self.add_guard(step_path, value, step.reasons, step.comments, why,
                               Safety.UNSAFE if step.inferred or tests else Safety.SAFE)
        if carried:
            self.out.append(Note("fork-guard", path, (
                f"job '{job_id}': not guarded for {', '.join(unique(carried))}: empty on fork "
                "pull requests, but nothing shows a step needs it (it may be optional, like a "
                "cache token)")))
        return False

    def fork_context(self, job_id: str) -> dict[str, Any]:
        """What a job's `if:` sees on a fork pull request (of the first guarded event)."""
        event = self.fork_events[0]
        return pr_context(event, True, self.env(self.jobs[job_id], None, True, event))

    def steps_instead(self, job: dict[str, Any], plan: GuardPlan) -> bool:
        """Whether guarding the steps that need a secret is sound in place of the whole job
        (for a job others need): the job is guarded as a whole only because every step that
        does work needs it (no deployment, login or job-level credential), and no output of
        the job reads a step so guarded."""
        if not plan.steps or plan.why != "every step that does work needs it":
            return False
        steps = job["steps"]
        ids = {str(steps[s.index].get("id")) for s in plan.steps if steps[s.index].get("id")}
        return not reads_steps(job, ids)

    def add_guard(self, path: YamlPath, existing: Any, reasons: list[str], comments: bool,
                  why_whole: str = "", safety: Safety = Safety.SAFE) -> bool:
        op = self.set_if(path, existing, self.fork_events)
        if isinstance(op, Note):
            self.out.append(op)
            return False
        message = (f"{self.name(path)}: skipped on fork pull requests (read-only token, no "
                   f"secrets there): {', '.join(reasons)}")
        if why_whole.startswith(";"):
            message += why_whole
        elif why_whole:
            message += f"; guarded as a whole: {why_whole}"
        if comments:
            message += ("; to keep this for fork pull requests, do it from a separate "
                        "`workflow_run` workflow (two-workflow pattern)")
        self.out.append(Fix("fork-guard", path, message, (op,), safety,
                            details={"scope": "job" if len(path) == 2 else "step",
                                     "events": self.fork_events, "reasons": reasons}))
        return True

    # pull_request_target ---------------------------------------------------------------------
    def target_job(self, job_id: str) -> bool:
        """Guard a pull_request_target job that checks out and runs the PR's code."""
        job = self.jobs[job_id]
        steps = job.get("steps")
        if not isinstance(steps, list):
            return False
        checkout = head_checkout(steps)
        if checkout is None:
            return False
        path: YamlPath = ("jobs", job_id)
        index, runs_code = checkout
        if not runs_code:
            return False
        if "environment" in job and environment_on(job["environment"], self.target_events):
            # deployment protection rules can require an approval
            self.out.append(Note("fork-guard", path, f"job '{job_id}': runs the pull request's "
                                 "code on pull_request_target behind an environment; make sure "
                                 "that environment requires a reviewer"))
            return True
        events = [*self.fork_events, *self.target_events]
        verdict = self.verdict(job.get("if"), job, self.target_events)
        if verdict != "runs":
            if verdict == "guarded":
                self.out.append(Note("fork-guard", path, f"job '{job_id}': checks out the pull "
                                     "request's head; already guarded against fork pull requests"))
            return True
        op = self.set_if(path, job.get("if"), events)
        if isinstance(op, Note):
            self.out.append(op)
            return True
        ops: list[Any] = [op]
        step = steps[index]
        step_path: YamlPath = (*path, "steps", index)
        with_ = step.get("with")
        if (action_name(step) == "actions/checkout" and isinstance(with_, dict)
                and with_.get("persist-credentials") is not False):
            ops.append(SetKey((*step_path, "with"), "persist-credentials", False))
        message = (f"job '{job_id}': runs the pull request's code on pull_request_target, with "
                   "secrets and a write token; limited to same-repository pull requests, "
                   "checkout with persist-credentials: false")
        self.out.append(Fix("fork-guard", path, message, tuple(ops), Safety.UNSAFE,
                            details={"scope": "job", "events": events,
                                     "checkout": list(step_path)}))
        return True


def skips_tests(tests: list[str]) -> str:
    """Why a guard on a step or job that runs tests is no safe fix."""
    return (f"it runs tests ({', '.join(tests)}), which every fork pull request would then "
            "skip while the check passes (the secret may be optional for them)")

