"""fork-guard's knowledge file (transforms/data/fork_guard.yml) and the action names it lists."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

from gha_fix.transforms import analysis
from gha_fix.transforms.knowledge_files import load


def knowledge() -> dict[str, Any]:
    """transforms/data/fork_guard.yml (loaded once, checked against its schema)."""
    return load("fork_guard.yml")


def action_name(step: dict[str, Any]) -> str:
    uses = step.get("uses")
    return analysis.action_key(uses) if isinstance(uses, str) else ""


def matches(name: str, patterns: Iterable[str]) -> bool:
    return bool(name) and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def optional_secret(action: str = "", input_name: str = "", env: str = "") -> dict[str, Any] | None:
    """The `optional_secrets` entry saying that `action`'s input `input_name` (or the
    environment variable `env`, at any level) may be empty: the tool works without it."""
    for entry in knowledge()["optional_secrets"]:
        if env and env.upper() in entry.get("env", []):
            return entry
        if action and matches(action, entry.get("actions", [])) and (
                input_name in entry.get("inputs", [])):
            return entry
    return None


def tolerant(action: str) -> bool:
    """Whether the action works on a fork pull request without its optional secret (and then
    needs no OIDC token or write scope either: the tokenless path)."""
    return any(matches(action, e.get("actions", [])) for e in knowledge()["optional_secrets"])
