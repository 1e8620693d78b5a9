"""What a `uses:` needs: an action of the knowledge base (with its input conditions), an action
judged from its own metadata (JavaScript, Docker, composite), a local action, and a reusable
workflow (local or remote), each read recursively up to MAX_DEPTH."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.transforms.analysis.needs import InputCondition, JobNeeds, StepNeeds, needs_from
from gha_fix.transforms.analysis.scripts import MAX_DEPTH
from gha_fix.transforms.analysis.tokens import GITHUB, Scope, only_github_token
from gha_fix.transforms.analysis.versions import variants
from gha_fix.transforms.lib.workflow import env_values

if TYPE_CHECKING:
    from gha_fix.codemod.github_files import ActionRef
    from gha_fix.transforms.analysis.workflow import Analyser


def action_key(uses: str) -> str:
    """`owner/repo[/path]` of a `uses:`, lowercased, without the ref."""
    return uses.split("@", 1)[0].lower().rstrip("/")


def condition_holds(condition: dict[str, Any], with_: dict[str, Any]) -> bool | None:
    """True/False, or None when the input is an expression decided at run time."""
    value = with_.get(condition.get("input", ""))
    if only_github_token(value):
        value = "the GITHUB_TOKEN"  # never empty, whatever it is compared with
    elif isinstance(value, str) and "${{" in value:
        return None
    text = "" if value is None else str(value).lower()
    if "equals" in condition:
        return text == str(condition["equals"]).lower()
    if "not_equals" in condition:  # unset counts as not equal (a default is not the value)
        return text != str(condition["not_equals"]).lower()
    if condition.get("set"):
        return text != ""
    if condition.get("unset"):
        return text == ""
    return False


class ActionReader:
    """The `uses:` of steps and jobs, for one `Analyser` (whose step walk reads the steps of
    composite actions and the jobs of reusable workflows)."""

    def __init__(self, analyser: Analyser) -> None:
        self.analyser = analyser
        self.repo = analyser.repo
        self.kb = analyser.kb
        self.metadata = analyser.metadata
        self.stack = analyser.stack

    def uses(self, uses: str, with_: dict, scope: Scope, result: StepNeeds, depth: int) -> None:
        if uses.startswith("$/"):  # the self-repository reference: this repo at the running
            uses = "./" + uses[2:]  # commit (github.blog changelog 2026-07-30), no checkout
        if "${{" in uses:
            result.unknown.append(f"action chosen at run time: {uses}")
        elif uses.startswith("docker://"):
            if scope.token_in_env():
                result.unknown.append(f"{uses} gets the GITHUB_TOKEN through its environment")
        elif uses.startswith("./"):
            self.local_action(uses, with_, scope, result, depth)
        else:
            self.remote_action(uses, with_, scope, result, depth)

    def remote_action(
        self, uses: str, with_: dict, scope: Scope, result: StepNeeds, depth: int = 0
    ) -> None:
        key = action_key(uses)
        entry = self.kb.actions.get(key)
        if entry is None:
            self.from_metadata(uses, with_, scope, result, depth)
            return
        for variant in variants(entry, uses):  # one, or every one for an unknown version
            self.known_action(key, variant, with_, scope, result)
        script = with_.get(entry.get("script_input", ""))
        if isinstance(script, str):  # retry actions: the input is a script run in the step
            self.analyser.scripts.run_script(script, scope, result, depth)

    def known_action(self, key: str, entry: dict[str, Any], with_: dict, scope: Scope,
                     result: StepNeeds) -> None:
        """What an action of the knowledge base needs, its `entry` as it holds for the
        version the step uses (versions.py), given the step's inputs."""
        token: str | None = GITHUB  # no token input: the action's needs always apply
        if entry.get("token_input"):
            given = with_.get(entry["token_input"])
            token = GITHUB if given is None else scope.token_kind(given)
            result.uses_token = result.uses_token or token == GITHUB
        elif entry.get("token_env"):
            token = scope.token_kind(scope.env.get(entry["token_env"]))
        needs = needs_from(entry.get("permissions"), key)
        for condition in entry.get("when") or []:
            holds = condition_holds(condition, with_)
            if holds:
                needs += needs_from(condition.get("permissions"), key)
            elif holds is None:  # decided at run time: the need says on which input
                when = InputCondition.of(condition)
                needs += needs_from(condition.get("permissions"), key, when)
        if token != GITHUB:  # a PAT or App token: only OIDC still comes from the job
            needs = [n for n in needs if n.scope == "id-token"]
        alternatives = entry.get("alternatives") or {}
        needs = [dataclasses.replace(n, alternatives=tuple(alternatives[n.scope]))
                 if n.scope in alternatives else n for n in needs]
        result.needs += [n for n in needs if n not in result.needs]

    def from_metadata(
        self, uses: str, with_: dict, scope: Scope, result: StepNeeds, depth: int
    ) -> None:
        """An action the knowledge base does not know, judged from its action.yml."""
        key = action_key(uses)
        meta = None
        ref = None
        if self.metadata is not None:
            ref = parse_ref(uses)
            meta = self.ask(self.metadata.action, ref) if ref is not None else None
        if meta is None:
            why = self.metadata.why(ref) if self.metadata is not None and ref else ""
            result.unknown.append(f"unknown action {why or uses}")
            result.unknown_actions.append(key)
            return
        from gha_fix.transforms.analysis.action_metadata import (
            classify,
            mentions_token,
            token_inputs,
        )

        if classify(meta) == "composite":
            if str(ref) in self.stack or depth >= MAX_DEPTH:
                why = "uses itself" if str(ref) in self.stack else "nests too deep"
                result.unknown.append(f"composite action {uses} {why}")
                result.unknown_actions.append(key)
                return
            values = {n: with_.get(n, d) for n, d in meta.inputs.items()}
            inner = scope.composite(values)
            self.stack.append(str(ref))
            try:
                self.composite_steps(uses, meta.steps, inner, result, depth)
            finally:
                self.stack.pop()
            return
        # JavaScript or Docker: the token reaches it only through its inputs and env
        via = [f"with: {n}" for n, v in with_.items() if scope.token_kind(v) == GITHUB]
        via += [f"the default of input {n}" for n in token_inputs(meta) if n not in with_]
        via += [f"env {n}" for n in scope.token_in_env()]
        if mentions_token(meta.runs):
            via.append("its runs.env/args")
        if via:
            result.uses_token = True
            result.unknown.append(f"action {uses} gets the GITHUB_TOKEN ({', '.join(via)}) and "
                                  "its metadata does not say which scopes it needs")
            result.unknown_actions.append(key)

    def ask(self, method: Any, ref: ActionRef) -> Any:
        """Ask the metadata lookup; a rate limit is said once (kept for the report), then
        it answers from the cache and the offline index only."""
        from gha_fix.codemod.github_files import ResolverError

        try:
            return method(ref)
        except ResolverError as exc:
            self.repo.warn(str(exc))
            return method(ref)

    def composite_steps(
        self, uses: str, steps: Any, inner: Scope, result: StepNeeds, depth: int
    ) -> None:
        for index, step in enumerate(steps or []):
            sub = self.analyser.step(step, (*result.path, index), inner, depth + 1)
            self.analyser.track(step, inner)
            result.add_inner(uses, sub)
            result.unknown_actions += sub.unknown_actions
            result.uses_token = result.uses_token or sub.uses_token

    def local_action(
        self, uses: str, with_: dict, scope: Scope, result: StepNeeds, depth: int
    ) -> None:
        doc = self.repo.local_action(uses)
        if doc is None:
            result.unknown.append(f"local action {uses} not found or unreadable")
            return
        meta = doc.data
        runs = meta.get("runs") if isinstance(meta.get("runs"), dict) else {}
        inputs = meta.get("inputs") if isinstance(meta.get("inputs"), dict) else {}
        values = {
            name: with_.get(name, (spec or {}).get("default") if isinstance(spec, dict) else None)
            for name, spec in inputs.items()
        }
        if runs.get("using") != "composite":
            gets_token = scope.token_in_env() or any(
                scope.token_kind(v) == GITHUB for v in values.values()
            )
            if gets_token:
                result.unknown.append(f"local action {uses} ({runs.get('using')}) gets the "
                                      "GITHUB_TOKEN; add it to .github/gha-fix.yml")
            return
        if depth >= MAX_DEPTH:
            result.unknown.append(f"local action {uses} nests too deep")
            return
        self.composite_steps(uses, runs.get("steps"), scope.composite(values), result, depth)

    def reusable(self, uses: str, result: JobNeeds, depth: int) -> None:
        if not uses.startswith("./"):
            key = action_key(uses)
            entry = self.kb.actions.get(key)
            if entry is not None:
                result.needs += needs_from(entry.get("permissions"), key)
                return
            callee, why = self.remote_workflow(uses)
            if callee is None:
                result.unknown.append(f"remote reusable workflow {why or uses}")
                result.unknown_actions.append(key)
                return
        else:
            callee = self.repo.local_workflow(uses)
        if callee is None:
            result.unknown.append(f"reusable workflow {uses} not found or unreadable")
            return
        if depth >= MAX_DEPTH or uses in self.stack:
            result.unknown.append(f"reusable workflow {uses} nests too deep or calls itself")
            return
        self.stack.append(uses)
        try:
            self.callee(uses, callee.data, result, depth)
        finally:
            self.stack.pop()

    def remote_workflow(self, uses: str) -> tuple[Document | None, str]:
        """The callee of a remote reusable workflow, or None and why it is not known."""
        ref = parse_ref(uses) if self.metadata is not None else None
        if self.metadata is None or ref is None:
            return None, ""
        text = self.ask(self.metadata.workflow, ref)
        if text is None:
            return None, self.metadata.why(ref, kind="workflow")
        try:
            return Document.from_text(str(ref), text), ""
        except DocumentError as exc:
            return None, f"{uses}: not valid YAML (line {exc.line}: {exc.reason})"

    def callee(self, uses: str, data: dict, result: JobNeeds, depth: int) -> None:
        """The caller job grants the union of what the callee's jobs ask for or need."""
        top = data.get("permissions")
        env = env_values(data.get("env"))
        jobs = data.get("jobs") if isinstance(data.get("jobs"), dict) else {}
        for callee_id, callee_job in jobs.items():
            declared = callee_job.get("permissions") if isinstance(callee_job, dict) else None
            declared = declared if declared is not None else top
            if isinstance(declared, dict):  # a callee asks for exactly this; grant at least it
                result.needs += needs_from(declared, f"{uses} (job {callee_id})")
                continue
            if isinstance(declared, str):
                result.unknown.append(f"{uses} job {callee_id} asks for {declared}")
                continue
            sub = self.analyser.job(str(callee_id), callee_job, env, depth + 1)
            result.needs += [dataclasses.replace(n.within(uses), alternatives=())
                             for n in sub.all_needs()]
            result.unknown += [f"{uses}: {r}" for r in sub.reasons()]
            result.unknown_actions += sub.unknown_actions


def parse_ref(uses: str) -> ActionRef | None:
    """The `owner/repo[/path]@ref` of a remote `uses:`, or None."""
    from gha_fix.codemod.github_files import ActionRef

    try:
        return ActionRef.parse(uses)
    except ValueError:
        return None
