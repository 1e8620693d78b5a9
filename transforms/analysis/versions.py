"""Needs that depend on an action's major version: the `versions:` overrides of an
actions.yml entry.

An override applies to the majors its `range` covers (`<7`, `>=9`, `>=4 <6`, `7`) and
replaces the fields it states (`permissions`, `token_input`/`token_env`, `when`);
the entry's own fields hold for the other majors.  A ref whose major is unknown (a commit SHA,
a branch) may be any version: every variant counts, and the job gets the union of their
needs (conservative: a missing scope fails a run, an extra one does not).
"""

from __future__ import annotations

import re
from typing import Any

_MAJOR = re.compile(r"v?(\d+)(?:\.\d+)*(?:[-+][\w.-]*)?", re.IGNORECASE)
_COMPARATOR = re.compile(r"(<=|>=|<|>|=)?(\d+)")
# the fields an override may replace; `token_input` and `token_env` replace each other
REPLACED = ("permissions", "when")
TOKEN_FIELDS = ("token_input", "token_env")


def major_of(uses: str) -> int | None:
    """The major version of a `uses:` ref (`@v9.1.0` -> 9), or None (a SHA, a branch)."""
    if "@" not in uses:
        return None
    match = _MAJOR.fullmatch(uses.rsplit("@", 1)[1].strip())
    return int(match.group(1)) if match else None


def within(major: int | None, spec: str) -> bool:
    """Whether `major` is in the range `spec` (space-separated comparators, all must hold);
    an unknown major may be in any range."""
    if major is None:
        return True
    for part in spec.split():
        match = _COMPARATOR.fullmatch(part)
        if match is None:
            raise ValueError(f"not a version range: {spec!r}")
        op, bound = match.group(1) or "=", int(match.group(2))
        holds = {"<": major < bound, "<=": major <= bound, ">": major > bound,
                 ">=": major >= bound, "=": major == bound}[op]
        if not holds:
            return False
    return True


def variants(entry: dict[str, Any], uses: str) -> list[dict[str, Any]]:
    """The entry as it holds for the version `uses` names: one variant for a known major,
    every variant (the entry's own and each override's) for an unknown one."""
    overrides = entry.get("versions") or []
    if not overrides:
        return [entry]
    major = major_of(uses)
    matching = [o for o in overrides if within(major, o["range"])]
    out = [override(entry, o) for o in matching]
    if major is None or not matching:
        out.insert(0, entry)
    return out


def override(entry: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`entry` with the fields `over` states replaced."""
    merged = {k: v for k, v in entry.items() if k != "versions"}
    for name in REPLACED:
        if name in over:
            merged[name] = over[name]
    if any(name in over for name in TOKEN_FIELDS):
        for name in TOKEN_FIELDS:
            merged.pop(name, None)
            if name in over:
                merged[name] = over[name]
    return merged
