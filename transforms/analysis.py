"""What each job's steps need from the GITHUB_TOKEN: one analysis, shared by transforms.

`analyse_workflow(doc, repo)` is computed once per workflow text and cached on the repo
context; `permissions` turns it into `permissions:` blocks, `fork-guard` uses it to find the
steps that cannot work on a fork pull request.

Where needs come from (all knowledge is data in `transforms/data/`):
- actions (`uses: owner/repo[/path]@ref`): `actions.yml`, plus the repo's own entries;
- `run:` scripts: `gh` commands (`gh_commands.yml`), `gh api` / curl to api.github.com
  (`rest_endpoints.yml`), git push, docker push to ghcr.io, ... (`run_commands.yml`);
- `actions/github-script`: octokit calls in the script (`rest_endpoints.yml`);
- local composite actions and local reusable workflows, recursively.
A command only counts when the token it uses is the GITHUB_TOKEN: a PAT needs nothing from it.
Whatever cannot be understood makes the step *unknown*, with the reason.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import Document, DocumentError, YamlPath, load_yaml
from gha_fix.transforms.patterns import required_literal

if TYPE_CHECKING:
    from gha_fix.codemod.actions_meta import MetadataResolver
    from gha_fix.codemod.repo import RepoContext

LEVELS = {"none": 0, "read": 1, "write": 2}
SCOPES = frozenset({
    "actions", "artifact-metadata", "attestations", "checks", "contents", "deployments",
    "discussions", "id-token", "issues", "models", "packages", "pages", "pull-requests",
    "repository-projects", "security-events", "statuses",
})
DATA = Path(__file__).parent / "data"
MAX_DEPTH = 5  # composite actions / reusable workflows nested deeper are left unknown


@dataclass(frozen=True)
class Need:
    """One scope at one level, and why (`gh release create`, `actions/checkout`)."""

    scope: str
    level: str  # "read" | "write"
    reason: str
    # other scopes that also satisfy it (an issue comment on a pull request: pull-requests)
    alternatives: tuple[str, ...] = ()


@dataclass
class StepNeeds:
    path: YamlPath  # ("jobs", job_id, "steps", index)
    needs: list[Need] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # why this step is not understood
    uses_token: bool = False  # the GITHUB_TOKEN reaches this step (env, with, checkout creds)
    secrets: list[str] = field(default_factory=list)  # names of secrets other than GITHUB_TOKEN
    unknown_actions: list[str] = field(default_factory=list)  # `owner/repo[/path]` not known
    # runs a program gha-fix cannot see into: it may request an OIDC token by itself
    opaque: bool = False


@dataclass
class JobNeeds:
    path: YamlPath  # ("jobs", job_id)
    steps: list[StepNeeds] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)  # job-level (reusable workflow callee, ...)
    unknown: list[str] = field(default_factory=list)
    unknown_actions: list[str] = field(default_factory=list)
    # scopes whose credentials an earlier step left for a command gha-fix cannot see into:
    # contents (a checkout's persisted token: `make release` may git push), packages (a
    # ghcr.io login: a Makefile may push an image)
    lent: set[str] = field(default_factory=set)

    @property
    def opaque(self) -> bool:
        return any(s.opaque for s in self.steps)

    @property
    def understood(self) -> bool:
        return not self.unknown and not any(s.unknown for s in self.steps)

    def all_needs(self) -> list[Need]:
        return [*self.needs, *(n for s in self.steps for n in s.needs)]

    def reasons(self) -> list[str]:
        return [*self.unknown, *(r for s in self.steps for r in s.unknown)]

    def scopes(self, grant: dict[str, str] | None = None) -> dict[str, str]:
        """The strongest level per scope (`contents: write` wins over `contents: read`).

        A need that `grant` already satisfies through one of its alternatives keeps that
        scope (an existing `pull-requests: write` for labelling a pull request stays)."""
        out: dict[str, str] = {}
        for need in self.all_needs():
            scope = need.scope
            for candidate in (need.scope, *need.alternatives):
                if grant and LEVELS.get(grant.get(candidate, "none"), 0) >= LEVELS[need.level]:
                    scope = candidate
                    break
            if LEVELS[need.level] > LEVELS.get(out.get(scope, "none"), 0):
                out[scope] = need.level
        return out

    def reason_for(self, scope: str, level: str) -> str:
        return next((n.reason for n in self.all_needs()
                     if scope in (n.scope, *n.alternatives) and n.level == level), "")


# --- knowledge ------------------------------------------------------------------------------
def load_data(name: str) -> Any:
    path = DATA / name
    if not path.is_file():
        return {}
    return load_yaml(path.read_text(encoding="utf-8"))


@dataclass
class Knowledge:
    actions: dict[str, dict[str, Any]]
    gh: dict[str, Any]
    rest: dict[str, Any]
    run_commands: list[dict[str, Any]]
    inert: dict[str, frozenset[str]] = field(default_factory=dict)
    # the repo's own `permissions: commands:` (`make release: {contents: write}`, `make: {}`)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def any_command(self) -> re.Pattern[str]:
        """One pass over a line instead of one per rule (most lines match none)."""
        # MULTILINE: `^` (a command at the start of a line) also holds in a whole script
        return re.compile("|".join(f"(?:{rule['pattern']})" for rule in self.run_commands)
                          or r"(?!)", re.MULTILINE)

    @cached_property
    def command_literals(self) -> tuple[str, ...] | None:
        """Text one of the rules needs (`push`, `goreleaser`; a rule's `literals:` when its
        fixed text is one of several words): a script with none is skipped without a regex;
        None when some rule needs no fixed text."""
        literals: list[str] = []
        for rule in self.run_commands:
            found = rule.get("literals") or [required_literal(rule["pattern"])]
            if not all(found):
                return None
            literals += found
        return tuple(literals)

    def may_match_command(self, text: str) -> bool:
        literals = self.command_literals
        if literals is not None and not any(lit in text for lit in literals):
            return False
        return self.any_command.search(text) is not None


@lru_cache(maxsize=1)
def builtin_knowledge() -> Knowledge:
    return Knowledge(
        actions={k.lower(): v for k, v in (load_data("actions.yml") or {}).items()},
        gh=load_data("gh_commands.yml").get("commands", {}),
        rest=load_data("rest_endpoints.yml"),
        run_commands=[
            {**rule, "regex": re.compile(rule["pattern"], re.MULTILINE)}
            for rule in load_data("run_commands.yml") or []
        ],
        inert={k: frozenset(v) for k, v in (load_data("shell_inert.yml") or {}).items()},
    )


def knowledge_for(config: dict[str, Any]) -> Knowledge:
    """The built-in knowledge plus the repo's own `permissions: actions:` entries and the
    `permissions: commands:` it declares (what a command of its scripts needs)."""
    base = builtin_knowledge()
    section = config.get("permissions")
    section = section if isinstance(section, dict) else {}
    extra, commands = section.get("actions"), section.get("commands")
    extra = extra if isinstance(extra, dict) else {}
    commands = commands if isinstance(commands, dict) else {}
    if not extra and not commands:
        return base
    actions = {**base.actions, **{k.lower(): v for k, v in extra.items() if isinstance(v, dict)}}
    declared = {str(k).strip(): v or {} for k, v in commands.items() if isinstance(v, dict | None)}
    return Knowledge(actions, base.gh, base.rest, base.run_commands, base.inert, declared)


def repo_knowledge(repo: RepoContext) -> Knowledge:
    """`knowledge_for` the repo's config, built once per repository (its combined regexes
    are compiled on first use)."""
    if "analysis:knowledge" not in repo.scratch:
        repo.scratch["analysis:knowledge"] = knowledge_for(repo.config)
    return repo.scratch["analysis:knowledge"]


def needs_from(block: Any, reason: str) -> list[Need]:
    """Needs from a `{scope: level}` mapping (the knowledge's or a `permissions:` block)."""
    if not isinstance(block, dict):
        return []
    return [
        Need(str(scope), str(level), reason)
        for scope, level in block.items()
        if str(scope) in SCOPES and str(level) in ("read", "write")
    ]


# --- tokens ---------------------------------------------------------------------------------
_GITHUB_TOKEN = re.compile(r"github\.token\b|secrets\.github_token\b", re.IGNORECASE)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_SECRET = re.compile(  # not `steps.x.outputs.secrets`
    r"(?<![\w.-])secrets\.([A-Za-z_][A-Za-z0-9_]*)|(?<![\w.-])secrets\[\s*'([^']+)'\s*\]")
_ONLY_GITHUB_TOKEN = re.compile(
    r"\$\{\{\s*(?:github\.token|secrets\.github_token)\s*\}\}", re.IGNORECASE)
_ENV_REF = re.compile(r"\benv\.([A-Za-z_][A-Za-z0-9_]*)")
_INPUT_REF = re.compile(r"\binputs\.([A-Za-z_][A-Za-z0-9_-]*)")
GITHUB, OTHER = "github", "other"


@dataclass
class Scope:
    """What a step sees: its environment, the inputs of the composite it is in, and what
    earlier steps of the job left behind (persisted checkout credentials, a ghcr.io login)."""

    env: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    parent: Scope | None = None
    checkout_token: bool = False
    ghcr_login: bool = False
    _token_vars: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    def token_kind(self, value: Any, depth: int = 0) -> str | None:
        """GITHUB when `value` is (or resolves to) the GITHUB_TOKEN, OTHER for any other
        credential, None when there is nothing."""
        if value is None or value == "" or isinstance(value, bool | int | float):
            return None
        text = str(value)
        if "${{" not in text:
            return OTHER  # a literal: no expression can name the token
        if _GITHUB_TOKEN.search(text):
            return GITHUB
        if depth > 8:  # `X: ${{ env.X }}` and other cycles
            return OTHER
        for name in _ENV_REF.findall(text):
            if self.token_kind(self.env.get(name), depth + 1) == GITHUB:
                return GITHUB
        for name in _INPUT_REF.findall(text):
            if name in self.inputs and self.parent is not None and (
                    self.parent.token_kind(self.inputs[name], depth + 1) == GITHUB):
                return GITHUB
        return OTHER

    def names_token(self, text: str) -> bool:
        """Whether a script's text holds the GITHUB_TOKEN through an expression: directly, or
        through `${{ env.X }}` / `${{ inputs.x }}` that resolve to it."""
        if "${{" not in text:
            return False
        if _GITHUB_TOKEN.search(text):
            return True
        return any(("env." in m.group(1) or "inputs." in m.group(1))
                   and self.token_kind(m.group()) == GITHUB for m in _EXPRESSION.finditer(text))

    def token_in_env(self) -> list[str]:
        if self._token_vars is None:  # asked for by the step and by its script
            self._token_vars = [k for k, v in self.env.items() if self.token_kind(v) == GITHUB]
        return self._token_vars


def secret_names(*values: Any) -> list[str]:
    names: list[str] = []
    for value in values:
        for text in string_values(value):
            if "secrets" not in text:
                continue
            for a, b in _SECRET.findall(text):
                name = a or b
                if name.upper() != "GITHUB_TOKEN" and name not in names:
                    names.append(name)
    return names


def string_values(value: Any) -> list[str]:
    """Every string in a YAML value (a mapping's values, a list's items), in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_values(v)]
    if isinstance(value, list):
        return [s for v in value for s in string_values(v)]
    return []


def _env(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


# --- actions --------------------------------------------------------------------------------
def action_key(uses: str) -> str:
    return uses.split("@", 1)[0].lower().rstrip("/")


def _condition_holds(condition: dict[str, Any], with_: dict[str, Any]) -> bool | None:
    """True/False, or None when the input is an expression decided at run time."""
    value = with_.get(condition.get("input", ""))
    if isinstance(value, str) and _ONLY_GITHUB_TOKEN.fullmatch(value.strip()):
        value = "the GITHUB_TOKEN"  # never empty, whatever it is compared with
    elif isinstance(value, str) and "${{" in value:
        return None
    text = "" if value is None else str(value).lower()
    if "equals" in condition:
        return text == str(condition["equals"]).lower()
    if condition.get("set"):
        return text != ""
    if condition.get("unset"):
        return text == ""
    return False


class Analyser:
    """Computes JobNeeds. Actions not in the knowledge base are looked up, when a resolver is
    given, in their own metadata (cache, network or the offline index: codemod/actions_meta.py):
    a JavaScript or Docker action that the token does not reach needs nothing; a composite
    one is analysed step by step."""

    def __init__(self, repo: RepoContext, knowledge: Knowledge,
                 resolver: MetadataResolver | None = None) -> None:
        self.repo = repo
        self.kb = knowledge
        self.resolver = resolver
        self.stack: list[str] = []  # remote composites and workflows being analysed

    # steps --------------------------------------------------------------------------------
    def step(self, step: Any, path: YamlPath, scope: Scope, depth: int = 0) -> StepNeeds:
        result = StepNeeds(path)
        if not isinstance(step, dict):
            return result
        env = {**scope.env, **_env(step.get("env"))}
        inner = Scope(env, scope.inputs, scope.parent, scope.checkout_token, scope.ghcr_login)
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        result.secrets = secret_names(env, with_, step.get("run"))
        result.uses_token = bool(inner.token_in_env()) or any(
            inner.token_kind(v) == GITHUB for v in with_.values()
        ) or (isinstance(step.get("run"), str) and inner.names_token(step["run"]))
        uses = step.get("uses")
        if isinstance(uses, str):
            self.uses(uses.strip(), with_, inner, result, depth)
        elif isinstance(step.get("run"), str):
            self.run(step["run"], inner, result)
        return result

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
        token: str | None = GITHUB  # no token input: the action's needs always apply
        if entry.get("token_input"):
            given = with_.get(entry["token_input"])
            token = GITHUB if given is None else scope.token_kind(given)
            result.uses_token = result.uses_token or token == GITHUB
        elif entry.get("token_env"):
            token = scope.token_kind(scope.env.get(entry["token_env"]))
        needs = needs_from(entry.get("permissions"), key)
        for condition in entry.get("when") or []:
            holds = _condition_holds(condition, with_)
            if holds is not False:
                suffix = "" if holds else f" (if {condition.get('input')} is set so)"
                needs += needs_from(condition.get("permissions"), key + suffix)
        if token != GITHUB:  # a PAT or App token: only OIDC still comes from the job
            needs = [n for n in needs if n.scope == "id-token"]
        result.needs += needs
        script = with_.get(entry.get("script_input", ""))
        if isinstance(script, str):  # retry actions: the input is a script run in the step
            self.run(script, scope, result, depth)

    def from_metadata(
        self, uses: str, with_: dict, scope: Scope, result: StepNeeds, depth: int
    ) -> None:
        """An action the knowledge base does not know, judged from its action.yml."""
        key = action_key(uses)
        meta = None
        ref = None
        if self.resolver is not None:
            from gha_fix.codemod.actions_meta import ActionRef

            try:
                ref = ActionRef.parse(uses)
            except ValueError:
                ref = None
            meta = self.resolver_call(self.resolver.action, ref) if ref is not None else None
        if meta is None:
            why = self.resolver.why(ref) if self.resolver is not None and ref else ""
            result.unknown.append(f"unknown action {why or uses}")
            result.unknown_actions.append(key)
            return
        from gha_fix.codemod.actions_meta import classify, mentions_token, token_inputs

        if classify(meta) == "composite":
            if str(ref) in self.stack or depth >= MAX_DEPTH:
                why = "uses itself" if str(ref) in self.stack else "nests too deep"
                result.unknown.append(f"composite action {uses} {why}")
                result.unknown_actions.append(key)
                return
            values = {n: with_.get(n, d) for n, d in meta.inputs.items()}
            inner = Scope(dict(scope.env), values, scope, scope.checkout_token, scope.ghcr_login)
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

    def resolver_call(self, method: Any, ref: Any) -> Any:
        """Ask the resolver; a rate limit is said once (kept for the report), then the
        resolver answers from its cache and the offline index only."""
        from gha_fix.codemod.actions_meta import ResolverError

        try:
            return method(ref)
        except ResolverError as exc:
            self.repo.warn(str(exc))
            return method(ref)

    def composite_steps(
        self, uses: str, steps: Any, inner: Scope, result: StepNeeds, depth: int
    ) -> None:
        for index, step in enumerate(steps or []):
            sub = self.step(step, (*result.path, index), inner, depth + 1)
            self.track(step, inner)
            result.needs += [Need(n.scope, n.level, f"{uses}: {n.reason}", n.alternatives)
                             for n in sub.needs]
            result.unknown += [f"{uses}: {r}" for r in sub.unknown]
            result.unknown_actions += sub.unknown_actions
            result.uses_token = result.uses_token or sub.uses_token
            result.opaque = result.opaque or sub.opaque

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
        inner = Scope(dict(scope.env), values, scope, scope.checkout_token, scope.ghcr_login)
        self.composite_steps(uses, runs.get("steps"), inner, result, depth)

    # run scripts ----------------------------------------------------------------------------
    def run(self, script: str, scope: Scope, result: StepNeeds, depth: int = 0) -> None:
        lines = _commands(script)
        token_vars = scope.token_in_env()
        script_has_token = scope.names_token(script)
        gh_token = scope.token_kind(scope.env.get("GH_TOKEN") or scope.env.get("GITHUB_TOKEN"))
        gh_uses_github = gh_token == GITHUB or (gh_token is None and script_has_token)
        # the commands gha-fix understood: `docker` of docker push ghcr.io/..., curl of a call
        # to api.github.com; gh is understood wherever it stands (shell_inert)
        understood: set[str] = set()
        # one search over the whole script first: most scripts hold none of these
        text = "\n".join(lines)
        any_gh = "gh" in text and _GH.search(text) is not None
        any_api = bool(script_has_token or token_vars) and _API_URL.search(text) is not None
        any_rule = self.kb.may_match_command(text)
        for line in lines if any_gh or any_api or any_rule else ():
            for match in _GH.finditer(line) if any_gh else ():
                if gh_uses_github:
                    self.gh(line[match.start():], result)
            if any_api and _API_URL.search(line) and _AUTH.search(line):
                understood.update(("curl", "wget"))
                self.curl(line, result)
            if not any_rule or not self.kb.any_command.search(line):
                continue
            for rule in self.kb.run_commands:
                match = rule["regex"].search(line)
                if match is None:
                    continue
                understood.add(match.group().lstrip(";&|( \t").split()[0])
                mode = rule.get("token")
                applies = (
                    mode == "always"
                    or (mode == "env" and bool(token_vars or script_has_token))
                    or (mode == "checkout" and (scope.checkout_token or script_has_token))
                    or (mode == "ghcr" and scope.ghcr_login)
                )
                if applies:
                    result.needs += needs_from(rule["permissions"], rule["reason"])
        others = []  # commands that may do anything with the token
        for words in _command_words(lines, self.kb.inert.get("wrappers", frozenset())):
            declared = self.declared(words)
            if declared is not None:
                result.needs += needs_from(declared[1], f"{declared[0]} (.github/gha-fix.yml)")
            # a repo script first: `source x.sh` is inert only when x.sh is not the repo's
            elif self.shell_script(words, scope, result, depth):
                continue  # a script of the repo, read and analysed in its turn
            elif not self.inert(words):
                # goreleaser, npx semantic-release: understood, but may still ask for an
                # OIDC token (keyless signing), so they keep the step opaque
                result.opaque = True
                if words[0] not in understood and words[1] not in understood:
                    others.append(words)
        # a command gha-fix understands beside it does not tell what this one does with the
        # token (`gh release create ... && ./notify`): the step stays unknown
        if (token_vars or script_has_token) and others:
            what = others[0][0]
            result.unknown.append(
                f"the GITHUB_TOKEN is passed to a command gha-fix cannot analyse ({what})"
            )

    def declared(self, words: tuple[str, str]) -> tuple[str, dict[str, Any]] | None:
        """What the repo's config says a command needs: `make release`, else `make`."""
        for key in (f"{words[0]} {words[1]}", words[0]):
            if key in self.kb.commands:
                return key, self.kb.commands[key]
        return None

    def shell_script(
        self, words: tuple[str, str], scope: Scope, result: StepNeeds, depth: int
    ) -> bool:
        """Analyse a shell script of the repository that the step runs (`./x.sh`,
        `bash scripts/x.sh`), as if its lines stood in the step; False if it is none."""
        first, second = words
        path = second if first in ("bash", "sh", "source", ".") else first
        if not (path.endswith((".sh", ".bash")) or ("/" in path and first == path)):
            return False
        rel = path.removeprefix("./")
        file = self.repo.root / rel
        if "$" in rel or rel.startswith(("/", "..")) or not file.is_file() or (
                not self.repo.inside(file)):
            return False
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if not rel.endswith((".sh", ".bash")) and not re.match(r"#!.*\b(ba|da|z)?sh\b", text):
            return False  # a Python or Node script: not read
        if rel in self.stack or depth >= MAX_DEPTH:
            result.unknown.append(f"{rel} runs itself or nests too deep")
            return True
        sub = StepNeeds(result.path)
        self.stack.append(rel)
        try:
            self.run(text, scope, sub, depth + 1)
        finally:
            self.stack.pop()
        result.needs += [Need(n.scope, n.level, f"{rel}: {n.reason}", n.alternatives)
                         for n in sub.needs]
        result.unknown += [f"{rel}: {r}" for r in sub.unknown]
        result.opaque = result.opaque or sub.opaque
        return True

    def inert(self, words: tuple[str, str]) -> bool:
        """A command that cannot use a token from its environment (shell_inert.yml)."""
        first, second = words
        if first == "git":
            return second in self.kb.inert.get("git_local", ())
        return first in self.kb.inert.get("commands", ()) or first == "gh"

    def gh(self, command: str, result: StepNeeds) -> None:
        words = [w for w in _split(command)[1:]]
        args = [w for w in words if not w.startswith("-")]
        if args[:1] == ["api"]:
            self.gh_api(words[1:], result)
            return
        flags = [w.split("=")[0] for w in words if w.startswith("--")]
        for flag in flags:  # `pr edit --add-label` needs more than `pr edit`
            key = " ".join([*args[:2], flag])
            if key in self.kb.gh:
                result.needs += needs_from(self.kb.gh[key], f"gh {key}")
        for size in (2, 1):
            key = " ".join(args[:size])
            if key in self.kb.gh:
                entry = self.kb.gh[key]
                if entry == "unknown":
                    result.unknown.append(f"gh {key} (not possible with the GITHUB_TOKEN)")
                else:
                    result.needs += needs_from(entry, f"gh {key}")
                return
        result.unknown.append(f"gh {' '.join(args[:2])} is not in the knowledge base")

    def gh_api(self, words: list[str], result: StepNeeds) -> None:
        method, path = "GET", None
        fields = False
        i = 0
        while i < len(words):
            word = words[i]
            if word in ("-X", "--method") and i + 1 < len(words):
                method, i = words[i + 1].upper(), i + 2
                continue
            if word.startswith("--method="):
                method = word.split("=", 1)[1].upper()
            elif word in ("-f", "-F", "--field", "--raw-field", "--input"):
                fields = True
                i += 1
            elif word in ("-H", "--header", "-q", "--jq", "-t", "--template", "--hostname",
                          "--cache", "-p", "--preview"):
                i += 1
            elif not word.startswith("-") and path is None:
                path = word
            i += 1
        if fields and method == "GET" and not any(w in ("-X", "--method") for w in words):
            method = "POST"
        self.endpoint(method, path or "", f"gh api {method} {path}", result)

    def curl(self, line: str, result: StepNeeds) -> None:
        match = _API_URL.search(line)
        method = "GET"
        found = re.search(r"(?:-X|--request)\s*['\"]?([A-Za-z]+)", line)
        if found:
            method = found.group(1).upper()
        elif re.search(r"\s(?:-d|--data\S*|-F|--form)\b", line):
            method = "POST"
        path = match.group(1) if match else ""
        self.endpoint(method, path, f"{method} api.github.com/{path.split('?')[0]}", result)

    def endpoint(self, method: str, path: str, reason: str, result: StepNeeds) -> None:
        needs = rest_needs(self.kb.rest, method, path, reason)
        if needs is None:
            result.unknown.append(f"{reason}: endpoint not understood")
        else:
            result.needs += needs

    # github-script -------------------------------------------------------------------------
    def github_script(self, script: str, result: StepNeeds) -> None:
        if "github.graphql" in script:
            result.unknown.append("actions/github-script calls github.graphql")
        octokit = self.kb.rest.get("octokit", {})
        for area, method in _OCTOKIT.findall(script):
            needs = octokit_needs(octokit, area, method)
            if needs is None:
                result.unknown.append(f"github-script: github.rest.{area}.{method} not understood")
            else:
                result.needs += needs
        for method, path in _REQUEST.findall(script):
            self.endpoint(method.upper(), path, f"github.request {method} {path}", result)
        if re.search(r"\brequire\(\s*['\"]\.", script) or "import(" in script:
            result.unknown.append("actions/github-script loads a script file gha-fix cannot read")

    # bookkeeping between steps -----------------------------------------------------------
    def track(self, step: Any, scope: Scope) -> None:
        """Remember what a step leaves for later ones (checkout credentials, ghcr login)."""
        if not isinstance(step, dict) or not isinstance(step.get("uses"), str):
            run = step.get("run") if isinstance(step, dict) else None
            if isinstance(run, str) and re.search(r"docker\s+login\s+\S*ghcr\.io", run) and (
                scope.names_token(run) or scope.token_in_env()
            ):
                scope.ghcr_login = True
            return
        key = action_key(step["uses"])
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        if key == "actions/checkout":
            persist = str(with_.get("persist-credentials", "true")).lower() != "false"
            token = with_.get("token")
            scope.checkout_token = persist and (token is None or scope.token_kind(token) == GITHUB)
        elif key == "docker/login-action" and "ghcr.io" in str(with_.get("registry", "")):
            scope.ghcr_login = scope.ghcr_login or scope.token_kind(with_.get("password")) == GITHUB
        elif self.kb.actions.get(key, {}).get("ghcr_login"):  # setup-ko logs ko in to ghcr.io
            scope.ghcr_login = True

    # jobs ----------------------------------------------------------------------------------
    def job(self, job_id: str, job: Any, workflow_env: dict, depth: int = 0) -> JobNeeds:
        result = JobNeeds(("jobs", job_id))
        if not isinstance(job, dict):
            return result
        if isinstance(job.get("uses"), str):
            self.reusable(job["uses"].strip(), result, depth)
            return result
        scope = Scope({**workflow_env, **_env(job.get("env"))})
        steps = job.get("steps") if isinstance(job.get("steps"), list) else []
        for index, step in enumerate(steps):
            needs = self.step(step, ("jobs", job_id, "steps", index), scope)
            if isinstance(step, dict) and action_key(str(step.get("uses", ""))) == (
                    "actions/github-script") and isinstance(step.get("with"), dict):
                with_ = step["with"]
                token = with_.get("github-token")
                if token is None or scope.token_kind(token) == GITHUB:
                    self.github_script(str(with_.get("script", "")), needs)
            result.steps.append(needs)
            result.unknown_actions += needs.unknown_actions
            if needs.opaque:
                result.lent.update(s for s, lent in (("contents", scope.checkout_token),
                                                     ("packages", scope.ghcr_login)) if lent)
            self.track(step, scope)
        return result

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
        if self.resolver is None:
            return None, ""
        from gha_fix.codemod.actions_meta import ActionRef

        try:
            ref = ActionRef.parse(uses)
        except ValueError:
            return None, ""
        text = self.resolver_call(self.resolver.workflow, ref)
        if text is None:
            return None, self.resolver.why(ref, kind="workflow")
        try:
            return Document.from_text(str(ref), text), ""
        except DocumentError as exc:
            return None, f"{uses}: not valid YAML (line {exc.line}: {exc.reason})"

    def callee(self, uses: str, data: dict, result: JobNeeds, depth: int) -> None:
        """The caller job grants the union of what the callee's jobs ask for or need."""
        top = data.get("permissions")
        env = _env(data.get("env"))
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
            sub = self.job(str(callee_id), callee_job, env, depth + 1)
            result.needs += [Need(n.scope, n.level, f"{uses}: {n.reason}")
                             for n in sub.all_needs()]
            result.unknown += [f"{uses}: {r}" for r in sub.reasons()]
            result.unknown_actions += sub.unknown_actions


# --- tables ---------------------------------------------------------------------------------
_GH = re.compile(r"(?:^|(?<=[\s;&|(`]))gh\s+(?=[a-z])")
_API_URL = re.compile(r"api\.github\.com/([^\s'\"\\]*)", re.IGNORECASE)
_AUTH = re.compile(r"authorization|-u\s|--user\b|\btoken\b", re.IGNORECASE)
_OCTOKIT = re.compile(r"\bgithub\.(?:rest\.)?([a-zA-Z]+)\.([a-zA-Z]+)\s*[(,)]")
_REQUEST = re.compile(r"github\.request\(\s*['\"`]([A-Za-z]+)\s+([^'\"`]+)['\"`]")
_NO_API = frozenset({"graphql", "paginate", "request", "hook", "log", "auth"})
_READ = re.compile(r"(get|list|check|compare|download|search)[A-Z]|(get|list)$")


def rest_needs(rest: dict[str, Any], method: str, path: str, reason: str) -> list[Need] | None:
    """Needs of a REST call, or None when the path cannot be classified."""
    path = path.strip("'\"").split("?")[0].lstrip("/")
    if path.startswith("graphql"):
        return None
    parts = path.split("/")
    if parts[0] != "repos":
        return [] if parts[0] in ("user", "users", "search", "rate_limit", "meta", "emojis",
                                  "licenses", "gitignore", "markdown", "octocat") else None
    if len(parts) > 1 and re.search(r"repository\b|REPOSITORY\b|REPO\b", parts[1]):
        parts.insert(2, "")  # `repos/$GITHUB_REPOSITORY/...`: owner/repo in one segment
    if len(parts) < 4:
        return [] if method in ("GET", "HEAD") and len(parts) == 3 else None
    rest_of = "/".join(parts[3:])
    for rule in rest.get("special", []):
        if rule["method"] == method and re.fullmatch(rule["path"], rest_of):
            return _with_alternatives(rest, needs_from(rule["permissions"], reason))
    scope = rest.get("paths", {}).get(parts[3])
    if scope is None:
        return None
    if scope == "metadata":
        return []
    level = "read" if method in ("GET", "HEAD") else "write"
    return _with_alternatives(rest, [Need(scope, level, reason)])


def octokit_needs(octokit: dict[str, Any], area: str, method: str) -> list[Need] | None:
    """Needs of `github.rest.<area>.<method>`, or None when the area is not understood."""
    if area in _NO_API or area == "context":
        return []
    reason = f"github.rest.{area}.{method}"
    exact = octokit.get("methods", {}).get(f"{area}.{method}")
    if exact is not None:
        return _with_alternatives(octokit, needs_from(exact, reason))
    scope = octokit.get("areas", {}).get(area)
    if scope is None:
        return None
    if scope == "none":
        return []
    level = "read" if _READ.match(method) else "write"
    return _with_alternatives(octokit, [Need(scope, level, reason)])


def _with_alternatives(table: dict[str, Any], needs: list[Need]) -> list[Need]:
    alternatives = table.get("alternatives", {})
    return [Need(n.scope, n.level, n.reason, tuple(alternatives.get(n.scope, ()))) for n in needs]


def _commands(script: str) -> list[str]:
    """Script lines with continuations joined, comment lines dropped and `${{ x }}`
    written without spaces (so that a URL or a path holding one stays one word)."""
    joined = re.sub(r"\\\r?\n", " ", script)
    joined = _EXPRESSION.sub(lambda m: "${{" + m.group(1).strip().replace(" ", "") + "}}", joined)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_SHELL = re.compile(r"(?:\S*/)?(?:ba|z|da|k)?sh\b")  # bash <<EOF: the body is commands
_TO_SHELL = re.compile(r"\|\s*(?:\S*/)?(?:ba|z|da|k)?sh\b")  # cat <<EOF | sh
_DURATION = re.compile(r"\d+(?:\.\d+)?[smhd]?")  # timeout 60 x, nice 10 x
_EXEC_FLAGS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def _command_words(lines: list[str], wrappers: frozenset[str] = frozenset()
                   ) -> list[tuple[str, str]]:
    """(command, first argument) of every simple command in the script's lines: the command a
    wrapper runs (`sudo make` is make), the one `find -exec` runs, and no lines of a heredoc
    that is data (`cat <<EOF`; one fed to a shell is read as commands), of an array, or of a
    quoted string that goes on over several lines (`jq -r '` ... `'`)."""
    words: list[tuple[str, str]] = []
    for tokens in _commands_of(lines):
        tokens = [t for t in tokens if not _ASSIGNMENT.match(t)]
        while tokens and tokens[0] in wrappers:
            tokens = tokens[1:]
            while tokens and (tokens[0].startswith("-") or _DURATION.fullmatch(tokens[0])):
                tokens = tokens[1:]
        if tokens and tokens[0] == "find":
            for flag in _EXEC_FLAGS & set(tokens):
                words.extend(_first_words(tokens[tokens.index(flag) + 1:]))
        words.extend(_first_words(tokens))
    return words


_CASE = re.compile(r"(?:^|[;&|]\s*)case\s.+\sin\b")
_ESAC = re.compile(r"(?:^|[;&|]\s*)esac\b")
_CASE_PATTERN = re.compile(r"^\(?[^()'\"]*\)")  # `pull_request|push)` at a branch's start
_MAX_QUOTED_LINES = 200  # a string longer than this is taken for a misread quote


def _commands_of(lines: list[str]) -> Iterator[list[str]]:
    """The simple commands of a script's lines (see `_command_words`)."""
    ending: str | None = None  # the terminator of the heredoc being skipped
    in_array = False  # inside `args=(` ... `)` over several lines
    cases = 0  # inside `case ... in` ... `esac`: `pattern)` starts a branch, not a command
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if ending is not None:
            ending = None if line == ending else ending
            continue
        if in_array:
            in_array = ")" not in line
            continue
        # `a ||` / `a &&` / `a |` at the end of a line: the command goes on on the next one
        while line.endswith(("&&", "||", "|")) and index < len(lines):
            line, index = f"{line} {lines[index]}", index + 1
        cases += len(_CASE.findall(line)) - len(_ESAC.findall(line))
        if cases > 0:
            line = _CASE_PATTERN.sub("", line)
        heredoc = _HEREDOC.search(line)
        if heredoc and not _SHELL.match(line[: heredoc.start()].split("|")[-1].strip()) and (
                not _TO_SHELL.search(line, heredoc.end())):
            ending = heredoc.group(2)
        commands, left_open = split_commands(line)
        # a quote that goes on: read on until it closes (if it never does, it was misread,
        # and the lines are read one by one after all)
        end = index
        while left_open == "quote" and end < min(len(lines), index + _MAX_QUOTED_LINES):
            end += 1
            commands, left_open = split_commands("\n".join(lines[index - 1:end]))
        if left_open != "quote":
            index = end
        else:
            commands, left_open = split_commands(line)
        in_array = left_open == "array"
        yield from commands


_LEX = re.compile(r"""
    (?P<space>\s+)
  | (?P<single>'[^']*'?)
  | (?P<double>"(?:[^"\\$`]|\\.|\$(?!\())*")
  | (?P<dquote>")
  | (?P<arith>\$\(\()
  | (?P<subst>\$\(|`)
  | (?P<param>\$\{\{.*?\}\}|\$\{[^}]*\}?)
  | (?P<redirect>&>>?|\d*[<>]+(?:&-|&\d+)?)
  | (?P<op>&&|\|\||[;|&()])
  | (?P<hash>\#)
  | (?P<text>(?:\\.|[^\s'"\\$`;|&()<>\#])(?:\\.|[^\s'"\\$`;|&()<>])*|[$\\])
""", re.VERBOSE)
_ESCAPE = re.compile(r"\\(.)")
_IN_DOUBLE = re.compile(r'"|\\.|\$\(\(|\$\(|`', re.DOTALL)  # what ends plain text in "..."
_SPECIAL = re.compile(r"[\"'`$\\(){}<>#&|;]")  # a line without these is words and spaces


def _substitution(text: str, start: int, closing: str) -> tuple[str, int]:
    """The command of `$(...)` (closing `)`, nested ones counted) or of a backtick pair that
    opens before `start`, and where it ends."""
    depth, end = 1, start
    while end < len(text) and depth:
        if closing == ")" and text[end] == "(":
            depth += 1
        elif text[end] == closing:
            depth -= 1
        end += 1
    return text[start:end - 1] if not depth else text[start:end], end


def _double_quoted(line: str, start: int) -> tuple[str, list[str], int]:
    """The text of a double-quoted string whose quote opens before `start`, the commands of
    its `$(...)` and backticks (they may hold quotes of their own), and where it ends (-1:
    it does not end on this line)."""
    out: list[str] = []
    subs: list[str] = []
    i = start
    while (stop := _IN_DOUBLE.search(line, i)) is not None:
        out.append(line[i:stop.start()])
        mark, i = stop.group(), stop.end()
        if mark == '"':
            return "".join(out), subs, i
        if mark.startswith("\\"):
            out.append(mark[1:])
        elif mark == "$((":
            j = line.find("))", i)
            j = len(line) if j < 0 else j + 2
            out.append(line[i - 3:j])
            i = j
        else:  # $( or `
            inner, j = _substitution(line, i, ")" if mark == "$(" else "`")
            subs.append(inner)
            out.append(line[stop.start():j])
            i = j
    return "".join(out), subs, -1


def split_commands(line: str) -> tuple[list[list[str]], str]:
    """The simple commands of one script line, each as its words, and what the line leaves
    open for the next ones: "array" (`args=(`), "quote" (a quoted string goes on), or "".

    Quotes are honoured (a `|` or a space in quotes is text) and removed; `$(...)` and
    backticks are commands of their own, in double quotes too; `${...}`, `${{ }}` and
    `$((...))` stay in their word; a redirection and its target are dropped; `#` at the start
    of a word starts a comment."""
    if not _SPECIAL.search(line):  # most lines: one command, words split on spaces
        plain = line.split()
        return ([plain] if plain else []), ""
    commands: list[list[str]] = []
    words: list[str] = []
    word: list[str] = []
    in_word = skip = False
    pos, n = 0, len(line)
    while pos < n:
        match = _LEX.match(line, pos)
        if match is None:  # cannot happen: every character is some token; be safe
            word.append(line[pos])
            pos, in_word = pos + 1, True
            continue
        kind, text, pos = match.lastgroup, match.group(), match.end()
        if kind in ("space", "op", "redirect", "hash") and not (kind == "hash" and in_word):
            if kind == "redirect" and "".join(word).isdigit():
                word.clear()  # the 2 of 2>/dev/null belongs to the redirection
                in_word = False
            if in_word:
                if skip:
                    skip = False  # a redirection's target
                else:
                    words.append("".join(word))
                word.clear()
                in_word = False
            if kind == "hash":
                break  # a comment
            if kind == "redirect":
                skip = not text.endswith(("-",)) and not text[-1:].isdigit()
            elif kind == "op":
                skip = False  # `<(cmd)`: a command, not a redirection target
                if words.count("[[") > words.count("]]") and text in ("&&", "||", "(", ")"):
                    continue  # inside a [[ test ]]: operators of the test, not commands
                if words:
                    commands.append(words)
                words = []
            continue
        if kind == "arith":  # $(( ... )): its end counted by parentheses; $(cmd) inside run
            body, pos = _substitution(line, match.start() + 3, ")")
            pos = pos + 1 if line.startswith(")", pos) else pos
            for opener in re.finditer(r"\$\((?!\()", body):
                commands.extend(split_commands(_substitution(body, opener.end(), ")")[0])[0])
            word.append(line[match.start():pos])
            in_word = True
        elif kind == "subst":
            inner, pos = _substitution(line, pos, ")" if text == "$(" else "`")
            commands.extend(split_commands(inner)[0])
            word.append("$(…)")
            in_word = True
        elif kind == "single":
            if len(text) == 1 or not text.endswith("'"):
                return _with_partial(commands, words, word, in_word), "quote"
            word.append(text[1:-1])
            in_word = True
        elif kind == "double":  # no command inside: the common case, all in the regex
            inner = text[1:-1]
            word.append(_ESCAPE.sub(r"\1", inner) if "\\" in inner else inner)
            in_word = True
        elif kind == "dquote":  # holds $(...) or backticks (with quotes of their own)
            inner, subs, pos = _double_quoted(line, pos)
            if pos < 0:
                return _with_partial(commands, words, word, in_word), "quote"
            for sub in subs:
                commands.extend(split_commands(sub)[0])
            word.append(inner)
            in_word = True
        else:  # text, param
            if kind == "text" and text.startswith("\\") and len(text) > 1:
                text = _ESCAPE.sub(r"\1", text)
            word.append(text)
            in_word = True
            if word[-1].endswith("=") and line.startswith("(", pos):  # an array: data
                j = line.find(")", pos)
                if j < 0:
                    if words or word:
                        commands.append([*words, "".join(word)])
                    return commands, "array"
                word.append(line[pos:j + 1])
                pos = j + 1
    if in_word and not skip:
        words.append("".join(word))
    if words:
        commands.append(words)
    return commands, ""


def _with_partial(commands: list[list[str]], words: list[str], word: list[str], in_word: bool
                  ) -> list[list[str]]:
    """`commands` and the command a quote left open cut short (`make it's`: make still runs)."""
    partial = [*words, "".join(word)] if in_word else list(words)
    return [*commands, partial] if partial else commands


def _first_words(tokens: list[str]) -> list[tuple[str, str]]:
    if not tokens or not tokens[0] or tokens[0].startswith("#"):
        return []
    return [(tokens[0], next((t for t in tokens[1:] if t and not t.startswith("-")), ""))]


def _split(command: str) -> list[str]:
    command = re.split(r"\s(?:&&|\|\||\||;)\s|\)|`", command)[0]
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


# --- entry point ----------------------------------------------------------------------------
def analyse_workflow(doc: Document, repo: RepoContext) -> dict[str, JobNeeds]:
    """JobNeeds for every job of `doc`, computed once per text and repo."""
    key = "analysis:" + hashlib.blake2b(doc.text.encode(), digest_size=16).hexdigest()
    cached = repo.scratch.get(key)
    if cached is None:
        analyser = Analyser(repo, repo_knowledge(repo), repo.resolver)
        data = doc.data
        env = _env(data.get("env"))
        jobs = data.get("jobs") if isinstance(data.get("jobs"), dict) else {}
        cached = {str(job_id): analyser.job(str(job_id), job, env) for job_id, job in jobs.items()}
        repo.scratch[key] = cached
    return cached
