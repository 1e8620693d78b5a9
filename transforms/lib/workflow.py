"""Small readers of a workflow's data: its trigger events, its `env:` levels, its expressions."""

from __future__ import annotations

import re
from typing import Any

# `${{ ... }}`: group 1 is the expression (it may span lines)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def trigger_events(data: dict[str, Any]) -> list[str]:
    """The event names of a workflow's `on:` (a string, a list or a mapping).  YAML 1.1 reads
    an unquoted `on` key as true: that key counts too."""
    on = data.get("on", data.get(True))
    if isinstance(on, str):
        return [on]
    return [e for e in on if isinstance(e, str)] if isinstance(on, list | dict) else []


def env_values(*envs: Any) -> dict[str, Any]:
    """The `env` context of `env:` blocks from the outermost (workflow) to the innermost (step):
    later ones win; values stay as written (`${{ }}` unevaluated)."""
    out: dict[str, Any] = {}
    for env in envs:
        if isinstance(env, dict):
            out.update({str(k): v for k, v in env.items()})
    return out


def expressions_in(text: str) -> list[str]:
    """The expressions written `${{ ... }}` in a string."""
    return EXPRESSION.findall(text)
