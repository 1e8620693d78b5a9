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
