"""The analysis of a workflow: each job's steps in order, what each needs from the GITHUB_TOKEN
and what it leaves for the steps after it (persisted checkout credentials, registry logins).

`analyse_workflow(doc, repo)` is the entry point, computed once per workflow text and
repository; `Analyser` walks jobs and steps and hands a `uses:` to `ActionReader`, a `run:`
(and an `actions/github-script` script) to `ScriptReader`.
"""

from __future__ import annotations

import hashlib
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
            if needs.opaque:
                result.lent.update(s for s, lent in (("contents", scope.checkout_token),
                                                     ("packages", bool(scope.registries))) if lent)
            self.track(step, scope)
        return result


def analyse_workflow(doc: Document, repo: RepoContext) -> dict[str, JobNeeds]:
    """JobNeeds for every job of `doc`, computed once per text and repo."""
    key = "analysis:" + hashlib.blake2b(doc.text.encode(), digest_size=16).hexdigest()
    cached = repo.scratch.get(key)
    if cached is None:
        from gha_fix.transforms.analysis.action_metadata import metadata_for

        metadata = metadata_for(repo.resolver) if repo.resolver is not None else None
        analyser = Analyser(repo, repo_knowledge(repo), metadata)
        data = doc.data
        env = env_values(data.get("env"))
        jobs = data.get("jobs") if isinstance(data.get("jobs"), dict) else {}
        cached = {str(job_id): analyser.job(str(job_id), job, env) for job_id, job in jobs.items()}
        repo.scratch[key] = cached
    return cached
