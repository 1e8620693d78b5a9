"""Where the GITHUB_TOKEN and other secrets appear: in values, in expressions, in environments.

`Scope` is what a step sees (its environment, the inputs of the composite it is in, what earlier
steps left behind) and answers whether a value is, or resolves to, the GITHUB_TOKEN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gha_fix.transforms.lib.workflow import EXPRESSION

_GITHUB_TOKEN = re.compile(r"github\.token\b|secrets\.github_token\b", re.IGNORECASE)
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
    earlier steps of the job left behind (persisted checkout credentials, the registries of
    GitHub Packages a step stored the GITHUB_TOKEN for: registries.yml)."""

    env: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    parent: Scope | None = None
    checkout_token: bool = False
    # `ghcr`, `nuget`, `npm`...: an earlier step logged in there with the GITHUB_TOKEN
    registries: frozenset[str] = frozenset()
    _token_vars: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ghcr_login(self) -> bool:
        """An earlier step logged in to ghcr.io with the GITHUB_TOKEN."""
        return "ghcr" in self.registries

    def with_env(self, env: dict[str, Any]) -> Scope:
        """What a step sees with its own `env:` merged in (`env`, the merged mapping)."""
        return Scope(env, self.inputs, self.parent, self.checkout_token, self.registries)

    def composite(self, inputs: dict[str, Any]) -> Scope:
        """What the steps of a composite action that this step uses see: the same
        environment, the action's `inputs` (resolved in this scope) and what was left."""
        return Scope(dict(self.env), inputs, self, self.checkout_token, self.registries)

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
                   and self.token_kind(m.group()) == GITHUB for m in EXPRESSION.finditer(text))

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


def only_github_token(value: Any) -> bool:
    """Whether a value is exactly `${{ github.token }}` (or `${{ secrets.GITHUB_TOKEN }}`)."""
    return isinstance(value, str) and _ONLY_GITHUB_TOKEN.fullmatch(value.strip()) is not None
