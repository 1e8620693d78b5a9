"""What a job or step needs that a fork pull request does not give (a secret, a write token, an
OIDC token), and at which scope to guard it: the steps, or the job as a whole.

A step *uses* a secret it passes to an action (`with:`, or `env:` of a `uses:` step), writes in
its script, or names (`$VAR`) through an `env:` variable; a credential that common tools read
implicitly (`implicit_credentials` in transforms/data/fork_guard.yml) counts too.  Secrets that
an action or tool works without (`optional_secrets`: a tokenless upload, a remote-cache token)
count for nothing.  A secret carried in `env:` that nothing names is read by an opaque step named
after it (tools.py: `SAUCE_ACCESS_KEY` and `npm run e2e:sauce`), or else may be optional:
reported, not guarded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gha_fix.codemod.document import Document
from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms import analysis
from gha_fix.transforms.fork_guard.context import expression_of, pr_context
from gha_fix.transforms.fork_guard.knowledge import (
    action_name,
    knowledge,
    matches,
    optional_secret,
    tolerant,
)
from gha_fix.transforms.fork_guard.tools import tool_match, tool_reasons
from gha_fix.transforms.lib.expressions import evaluate, truth
from gha_fix.transforms.lib.workflow import env_values, expressions_in

_SECRET = re.compile(  # not `steps.get-secrets.outputs`
    r"(?<![\w.-])secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']+)'\s*\])", re.I)
_FALLBACK = re.compile(r"\|\|\s*(?:github\.token|secrets\s*\.\s*github_token)\b", re.I)


@dataclass
class StepToGuard:
    """A step that cannot work on a fork pull request, and why."""

    index: int
    reasons: list[str] = field(default_factory=list)
    comments: bool = False  # needs pull-requests/issues write: posting comments or labels
    credentials: bool = False  # a login step: the steps after it depend on it
    inferred: bool = False  # only a guess from names (tools.py): an unsafe fix


@dataclass
class GuardPlan:
    """What a job needs that a fork pull request does not give, and the scope to guard."""

    whole: bool
    steps: list[StepToGuard]
    reasons: list[str]
    comments: bool
    why: str  # why the whole job, when it is
    carried: dict[int | None, list[str]] = field(default_factory=dict)  # step (None: job)


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def secrets_in(value: Any) -> set[str]:
    """Secret names (other than GITHUB_TOKEN) that `value` uses: presence tests
    (`secrets.X != ''`) and `secrets.X || github.token` fallbacks do not count."""
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= secrets_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= secrets_in(item)
    elif isinstance(value, str):
        for expr in expressions_in(value):
            if "==" in expr or "!=" in expr or _FALLBACK.search(expr):
                continue
            for m in _SECRET.finditer(expr):
                name = m.group(1) or m.group(2)
                if name.upper() != "GITHUB_TOKEN":
                    found.add(name)
    return found


def names_env(step: dict[str, Any], name: str) -> bool:
    """Whether a step's script or inputs name the environment variable `name`."""
    pattern = re.compile(
        rf"\$\{{?{re.escape(name)}\b|%{re.escape(name)}%|\$env:{re.escape(name)}\b"
        rf"|\benv\s*\.\s*{re.escape(name)}\b|\benv\[\s*'{re.escape(name)}'\s*\]"
    )
    texts = [step.get("run"), *analysis.string_values(step.get("with"))]
    return any(isinstance(t, str) and pattern.search(t) for t in texts)


def step_secrets(step: dict[str, Any], inherited: dict[str, list[str]], deploys: bool = False
                 ) -> tuple[list[str], list[str], list[str]]:
    """(secrets the step uses, secrets its opaque script is named after (tools.py), secrets it
    only carries in `env:` for a script that does not name them: perhaps optional, unless the
    job `deploys`: then it uses them).  Optional secrets (`optional_secrets`) are in none."""
    kb = knowledge()
    action = action_name(step)
    implicit = {n.upper() for n in kb["implicit_credentials"]}
    used: list[str] = []
    by_tool: list[tuple[list[str], str]] = []
    carried: list[str] = []
    with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
    passed = set().union(*(secrets_in(v) for k, v in with_.items()
                           if not optional_secret(action, str(k))))
    used += [f"uses secrets.{n}" for n in sorted(passed)]
    used += [f"uses secrets.{n}" for n in sorted(secrets_in(step.get("run")))]
    env = step.get("env") if isinstance(step.get("env"), dict) else {}
    for var, value in env.items():
        names = sorted(secrets_in(value))
        found = [f"secrets.{n} (env {var})" for n in names]
        words = tool_match(step, str(var))
        if not names or optional_secret(env=str(var)):
            continue
        # an action reads its environment; a script reads what it names or its tools read
        if ("uses" in step or names_env(step, str(var)) or str(var).upper() in implicit
                or deploys):
            used += [f"uses {f}" for f in found]
        elif words:
            by_tool += [(words, f) for f in found]
        else:
            carried += found
    for var, names in inherited.items():
        if var not in env and names_env(step, var):
            used += [f"uses secrets.{n} (env {var})" for n in names]
    return used, tool_reasons(by_tool), carried


def analyse(doc: Document, repo: RepoContext) -> dict[str, analysis.JobNeeds]:
    """The shared permissions analysis (empty if it fails: the secret-based guards go on)."""
    try:
        return analysis.analyse_workflow(doc, repo)
    except Exception:  # the analysis failing must not stop the secret-based guards
        return {}


def write_reasons(needs: analysis.StepNeeds | analysis.JobNeeds | None,
                  step: dict[str, Any] | None = None) -> tuple[list[str], bool]:
    """Why the step (or reusable-workflow job) needs a write token: `needs <scope>: write`.
    Needs that hold only when an input is set are dropped when that input is an expression
    that is false on a fork pull request (`push: ${{ github.event_name != 'pull_request' }}`);
    a need that holds when its input is *not* set stays."""
    if needs is None:
        return [], False
    kb = knowledge()
    step = step or {}
    if tolerant(action_name(step)) or matches(action_name(step), kb["write_tolerant_actions"]):
        return [], False
    with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
    reasons, comments = [], False
    for need in needs.needs:
        if need.scope in kb["fork_allowed_writes"]:
            continue
        if need.level != "write" and need.scope != "id-token":
            continue
        when = need.when
        if when is not None and when.kind != "unset" and isinstance(with_.get(when.input), str):
            ctx = pr_context("pull_request", True, {})
            value = with_[when.input]
            node = expression_of(value) if "${{" in value else None
            if node is not None and truth(evaluate(node, ctx)) is False:
                continue
        if any(r.startswith(f"needs {need.scope}: write") for r in reasons):
            continue  # one reason per scope: the first thing that needs it
        reasons.append(f"needs {need.scope}: write ({need.why})" if need.why
                       else f"needs {need.scope}: write")
        comments = comments or need.scope in kb["comment_scopes"]
    return reasons, comments


def plan_job(job: dict[str, Any], job_needs: analysis.JobNeeds | None, workflow_env: Any,
             never_on_forks: Callable[[dict[str, Any]], bool], deploys: bool
             ) -> GuardPlan | None:
    """What of this job cannot work on a fork pull request, and at which scope to guard;
    `never_on_forks(step)`: whether the step's own `if:` skips it on every pull request;
    `deploys`: whether its `environment:` names one on fork pull requests (environment
    secrets, protection rules: a deployment)."""
    kb = knowledge()
    if "uses" in job:  # a reusable workflow: the callee's needs, the secrets passed
        reasons, comments = write_reasons(job_needs)
        passed = [f"secrets.{n} (passed to {job['uses']})"
                  for n in sorted(secrets_in(job.get("secrets")))]
        if reasons:
            return GuardPlan(True, [], reasons, comments, "it calls a reusable workflow")
        return GuardPlan(False, [], [], False, "", {None: passed}) if passed else None
    steps = job.get("steps")
    if not isinstance(steps, list):
        return None
    by_index = {s.path[3]: s for s in job_needs.steps} if job_needs else {}
    inherited = env_values(workflow_env, job.get("env"))
    inherited_secrets = {n: sorted(secrets_in(v)) for n, v in inherited.items()
                         if secrets_in(v) and not optional_secret(env=n)}
    known = {n.upper() for n in kb["implicit_credentials"]}
    wanted: list[StepToGuard] = []
    implicit: list[str] = []  # job-level credentials that steps read without naming them
    carried: dict[int | None, list[str]] = {}  # secrets nobody names: perhaps optional
    by_tool: dict[int, list[tuple[list[str], str]]] = {}  # steps named after a secret's tool
    for name, secret_names in inherited_secrets.items():
        if any(isinstance(s, dict) and name not in (s.get("env") or {}) and names_env(s, name)
               for s in steps):
            continue
        found = [f"secrets.{n} (env {name})" for n in secret_names]
        if name.upper() in known or deploys:
            implicit += [f"uses {f}" for f in found]
            continue
        tools = {i: tool_match(s, name) for i, s in enumerate(steps)
                 if isinstance(s, dict) and name not in (s.get("env") or {})
                 and not never_on_forks(s)}
        for index, words in tools.items():
            by_tool.setdefault(index, []).extend((words, f) for f in found if words)
        if not any(tools.values()):
            carried.setdefault(None, []).extend(found)
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or never_on_forks(step):
            continue
        reasons, comments = write_reasons(by_index.get(index), step)
        used, step_tools, step_carried = step_secrets(step, inherited_secrets, deploys)
        reasons += used
        if step_carried:
            carried[index] = step_carried
        guessed = [*tool_reasons(by_tool.get(index, [])), *step_tools]
        if reasons or guessed:
            credentials = matches(action_name(step), kb["credential_actions"])
            wanted.append(StepToGuard(index, [*reasons, *guessed], comments, credentials,
                                      inferred=not reasons))
    if not wanted and not implicit:
        return GuardPlan(False, [], [], False, "", carried) if carried else None
    why = _why_whole(steps, wanted, implicit, deploys)
    reasons = unique([*implicit, *(r for s in wanted for r in s.reasons)])
    return GuardPlan(bool(why), wanted, reasons, any(s.comments for s in wanted), why, carried)


def _why_whole(steps: list[Any], wanted: list[StepToGuard], implicit: list[str],
               deploys: bool) -> str:
    """Why the job is guarded as a whole ("" when its steps are guarded one by one)."""
    work = [i for i, s in enumerate(steps) if isinstance(s, dict)
            and not matches(action_name(s), knowledge()["setup_actions"])]
    wanted_ids = {s.index for s in wanted if not s.inferred}  # a guess guards its step only
    last_credential = max((s.index for s in wanted if s.credentials), default=-1)
    if deploys:
        return "it deploys to an environment"
    if implicit:
        return "its job-level env holds credentials that its tools read implicitly"
    if last_credential >= 0 and any(i > last_credential and i not in wanted_ids for i in work):
        return "the steps after the login step use its credentials"
    if all(i in wanted_ids for i in work):
        return "every step that does work needs it"
    return ""
