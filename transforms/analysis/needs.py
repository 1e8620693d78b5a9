"""What a step or a job needs from the GITHUB_TOKEN: scopes at levels, each with its reason."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from gha_fix.codemod.document import YamlPath

LEVELS = {"none": 0, "read": 1, "write": 2}
SCOPES = frozenset({
    "actions", "artifact-metadata", "attestations", "checks", "contents", "deployments",
    "discussions", "id-token", "issues", "models", "packages", "pages", "pull-requests",
    "repository-projects", "security-events", "statuses",
})
ConditionKind = Literal["set", "unset", "equals", "not_equals"]


@dataclass(frozen=True)
class InputCondition:
    """The input a need depends on (a knowledge entry's `when:`), when the step's value for it
    is an expression decided at run time: the need holds if the input is set, is not set,
    equals `value` or does not."""

    input: str
    kind: ConditionKind
    value: str = ""  # for `equals` and `not_equals`

    @classmethod
    def of(cls, condition: dict[str, Any]) -> InputCondition:
        name = str(condition.get("input", ""))
        for kind in ("equals", "not_equals"):
            if kind in condition:
                return cls(name, kind, str(condition[kind]))  # type: ignore[arg-type]
        return cls(name, "unset" if condition.get("unset") else "set")

    def describe(self) -> str:
        """`when its token input is set` (English, for the comments written into workflows)."""
        state = {"set": "is set", "unset": "is not set", "equals": f"is {self.value}",
                 "not_equals": f"is not {self.value}"}[self.kind]
        return f"when its {self.input} input {state}"


@dataclass(frozen=True)
class Need:
    """One scope at one level, what needs it (`gh release create`, `actions/checkout`) and,
    for a need that depends on an input decided at run time, that input (`when`)."""

    scope: str
    level: str  # "read" | "write"
    what: str  # what needs it; `outer: inner` for a step inside a composite, script, workflow
    # other scopes that also satisfy it (an issue comment on a pull request: pull-requests)
    alternatives: tuple[str, ...] = ()
    # the input this need depends on, when the step's value for it is decided at run time
    when: InputCondition | None = None

    @property
    def when_input(self) -> str | None:
        """The name of the input this need depends on (None: it always holds)."""
        return self.when.input if self.when is not None else None

    @property
    def why(self) -> str:
        """Why, in English: `azure/login, when its client-id input is set` (the comment
        written beside a scope)."""
        return f"{self.what}, {self.when.describe()}" if self.when is not None else self.what

    def within(self, outer: str) -> Need:
        """The same need seen from the step that uses `outer` (a composite action, a script
        of the repository, a reusable workflow): `outer: what`."""
        return dataclasses.replace(self, what=f"{outer}: {self.what}")


def needs_from(block: Any, what: str, when: InputCondition | None = None) -> list[Need]:
    """Needs from a `{scope: level}` mapping (the knowledge's or a `permissions:` block)."""
    if not isinstance(block, dict):
        return []
    return [
        Need(str(scope), str(level), what, when=when)
        for scope, level in block.items()
        if str(scope) in SCOPES and str(level) in ("read", "write")
    ]


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

    def add_inner(self, outer: str, inner: StepNeeds) -> None:
        """What a step inside `outer` (a composite action's step, a script of the repository)
        needs, as this step's: what needs it prefixed with `outer: `."""
        self.needs += [n.within(outer) for n in inner.needs]
        self.unknown += [f"{outer}: {r}" for r in inner.unknown]
        self.opaque = self.opaque or inner.opaque


@dataclass
class JobNeeds:
    path: YamlPath  # ("jobs", job_id)
    steps: list[StepNeeds] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)  # job-level (reusable workflow callee, ...)
    unknown: list[str] = field(default_factory=list)
    unknown_actions: list[str] = field(default_factory=list)
    # scopes whose credentials an earlier step left for a command gha-fix cannot see into:
    # contents (a checkout's persisted token: `make release` may git push), packages (a
    # registry login, registries.yml: a Makefile may push an image)
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
        """Why the first need of `scope` at `level` is there, in English (`Need.why`)."""
        return next((n.why for n in self.all_needs()
                     if scope in (n.scope, *n.alternatives) and n.level == level), "")

