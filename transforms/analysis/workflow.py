"""The analysis of a workflow: each job's steps in order, what each needs from the GITHUB_TOKEN
and what it leaves for the steps after it (persisted checkout credentials, registry logins).

`analyse_workflow(doc, repo)` is the entry point, computed once per workflow text and
repository; `Analyser` walks jobs and steps and hands a `uses:` to `ActionReader`, a `run:`
(and an `actions/github-script` script) to `ScriptReader`.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any

from gha_fix.transforms.analysis.actions import ActionReader, action_key
from gha_fix.transforms.analysis.knowledge import Knowledge, repo_knowledge
from gha_fix.transforms.analysis.needs import JobNeeds, StepNeeds
from gha_fix.transforms.analysis.registries import logins_by_step
from gha_fix.transforms.analysis.scripts import ScriptReader
from gha_fix.transforms.analysis.tokens import GITHUB, Scope, secret_names
from gha_fix.transforms.lib.workflow import env_values

if TYPE_CHECKING:
    from gha_fix.codemod.document import Document, YamlPath
    from gha_fix.codemod.repo import RepoContext
    from gha_fix.transforms.analysis.action_metadata import ActionMetadata


class Analyser:
    """Computes JobNeeds. Actions not in the knowledge base are looked up, when `metadata` is
    given, in their own metadata (cache, network or the offline index: action_metadata.py):
    a JavaScript or Docker action that the token does not reach needs nothing; a composite
    one is analysed step by step."""

    def __init__(self, repo: RepoContext, knowledge: Knowledge,
                 metadata: ActionMetadata | None = None) -> None:
        self.repo = repo
        self.kb = knowledge
        self.metadata = metadata
        self.stack: list[str] = []  # composites, workflows and scripts being analysed
        self.scripts = ScriptReader(repo, knowledge, self.stack)
        self.actions = ActionReader(self)
        # the working-directory of `run:` steps by default: the workflow's, then the job's
        # `defaults: run: working-directory:` (relative to the root; None: decided at run time)
        self.workflow_dir: str | None = ""
        self.job_dir: str | None = ""
        # the shell of `run:` steps by default (`defaults: run: shell:`; pwsh on Windows)
        self.workflow_shell: str | None = None
        self.job_shell: str | None = None

    # steps --------------------------------------------------------------------------------
    def step(self, step: Any, path: YamlPath, scope: Scope, depth: int = 0) -> StepNeeds:
        result = StepNeeds(path)
        if not isinstance(step, dict):
            return result
        env = env_values(scope.env, step.get("env"))
        inner = scope.with_env(env)
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        result.secrets = secret_names(env, with_, step.get("run"))
        result.uses_token = bool(inner.token_in_env()) or any(
            inner.token_kind(v) == GITHUB for v in with_.values()
        ) or (isinstance(step.get("run"), str) and inner.names_token(step["run"]))
        uses = step.get("uses")
        if isinstance(uses, str):
            self.actions.uses(uses.strip(), with_, inner, result, depth)
        elif isinstance(step.get("run"), str):
            given = step.get("working-directory")
            self.scripts.cwd = self.job_dir if given is None else folder(given)
            self.scripts.shell = str(step.get("shell") or self.job_shell or "bash")
            self.scripts.functions = set()  # a function of another step's shell is not here
            self.scripts.run_script(step["run"], inner, result)
        return result

    def track(self, step: Any, scope: Scope) -> None:
        """Remember what a step leaves for later ones (checkout credentials, registry logins:
        registries.py)."""
        if not isinstance(step, dict):
            return
        scope.registries |= logins_by_step(step, scope, self.kb)
        if not isinstance(step.get("uses"), str):
            return
        key = action_key(step["uses"])
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        if key == "actions/checkout":
            persist = str(with_.get("persist-credentials", "true")).lower() != "false"
            token = with_.get("token")
            scope.checkout_token = persist and (token is None or scope.token_kind(token) == GITHUB)

    def job(self, job_id: str, job: Any, workflow_env: dict, depth: int = 0) -> JobNeeds:
        result = JobNeeds(("jobs", job_id))
        if not isinstance(job, dict):
            return result
        if isinstance(job.get("uses"), str):
            self.actions.reusable(job["uses"].strip(), result, depth)
            return result
        scope = Scope(env_values(workflow_env, job.get("env")))
        self.job_dir = default_folder(job.get("defaults"), self.workflow_dir)
        self.job_shell = default_shell(job, self.workflow_shell)
        steps = job.get("steps") if isinstance(job.get("steps"), list) else []
        for index, step in enumerate(steps):
            needs = self.step(step, ("jobs", job_id, "steps", index), scope)
            if isinstance(step, dict) and action_key(str(step.get("uses", ""))) == (
                    "actions/github-script") and isinstance(step.get("with"), dict):
                with_ = step["with"]
                token = with_.get("github-token")
                if token is None or scope.token_kind(token) == GITHUB:
                    self.scripts.github_script(str(with_.get("script", "")), needs)
            result.steps.append(needs)
            result.unknown_actions += needs.unknown_actions
            # a program gha-fix cannot see into may push with what an earlier step left: a
            # registry login (docker push $IMAGE), a checkout's persisted credentials (such a
            # program is unknown unless programs.yml says it leaves them alone)
            if needs.opaque:
                result.lent.update(s for s, lent in (
                    ("contents", scope.checkout_token and bool(needs.unknown)),
                    ("packages", bool(scope.registries))) if lent)
            self.track(step, scope)
        return result


_WORKSPACE = re.compile(r"^(?:\$\{\{\s*github\.workspace\s*\}\}|\$\{?GITHUB_WORKSPACE\}?)/?")


def folder(value: Any) -> str | None:
    """A `working-directory:` relative to the repository's root ("" the root; None: decided
    at run time or outside the checkout)."""
    text = _WORKSPACE.sub("", str(value).strip())
    if "$" in text or text.startswith(("/", "~")) or "\\" in text:
        return None
    path = posixpath.normpath(text or ".")
    return None if path.startswith("..") else ("" if path == "." else path)


def default_folder(defaults: Any, outer: str | None) -> str | None:
    """The `defaults: run: working-directory:` of a workflow or job, else `outer`'s."""
    run = defaults.get("run") if isinstance(defaults, dict) else None
    given = run.get("working-directory") if isinstance(run, dict) else None
    return outer if given is None else folder(given)


def default_shell(job: dict, outer: str | None) -> str | None:
    """The shell of a job's `run:` steps: its `defaults: run: shell:`, else the workflow's,
    else pwsh on a Windows runner named as such (GitHub's default there)."""
    defaults = job.get("defaults")
    run = defaults.get("run") if isinstance(defaults, dict) else None
    given = run.get("shell") if isinstance(run, dict) else None
    if given is not None:
        return str(given)
    if outer is not None:
        return outer
    runs_on = str(job.get("runs-on", ""))
    return "pwsh" if "windows" in runs_on.lower() and "${{" not in runs_on else None


def analyse_workflow(doc: Document, repo: RepoContext) -> dict[str, JobNeeds]:
    """JobNeeds for every job of `doc`, computed once per text and repo."""
    key = "analysis:" + doc.text  # the text itself: an exact key, nothing to hash first
    cached = repo.scratch.get(key)
    if cached is None:
        from gha_fix.transforms.analysis.action_metadata import metadata_for

        metadata = metadata_for(repo.resolver) if repo.resolver is not None else None
        analyser = Analyser(repo, repo_knowledge(repo), metadata)
        data = doc.data
        env = env_values(data.get("env"))
        analyser.workflow_dir = default_folder(data.get("defaults"), "")
        analyser.workflow_shell = default_shell({"defaults": data.get("defaults")}, None)
        jobs = data.get("jobs") if isinstance(data.get("jobs"), dict) else {}
        cached = {str(job_id): analyser.job(str(job_id), job, env) for job_id, job in jobs.items()}
        repo.scratch[key] = cached
    return cached
