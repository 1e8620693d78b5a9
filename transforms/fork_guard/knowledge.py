"""fork-guard's knowledge file (transforms/data/fork_guard.yml) and the action names it lists."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from gha_fix.codemod.document import Document
from gha_fix.transforms import analysis

DATA_FILE = Path(__file__).parent.parent / "data" / "fork_guard.yml"


@cache
def knowledge() -> dict[str, Any]:
    return Document.from_file(DATA_FILE, "fork_guard.yml").data


def action_name(step: dict[str, Any]) -> str:
    uses = step.get("uses")
    return analysis.action_key(uses) if isinstance(uses, str) else ""


def matches(name: str, patterns: Iterable[str]) -> bool:
    return bool(name) and any(fnmatch.fnmatchcase(name, p) for p in patterns)
