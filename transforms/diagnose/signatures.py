"""The failure signatures (`transforms/data/failure_signatures.yml`), compiled, and what they
find in a log's lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from gha_fix.transforms.diagnose.logs import LogLine

FILE = "failure_signatures.yml"


@dataclass(frozen=True)
class Signature:
    id: str
    kind: str  # failure | detail | hint
    regex: re.Pattern[str]
    source: str
    cause: str = ""
    permissions: dict[str, str] = field(default_factory=dict)
    possible: bool = False  # a hint that cannot tell its cause from a missing scope


@dataclass(frozen=True)
class Match:
    signature: Signature
    line: LogLine
    groups: dict[str, str]  # the named groups that matched


@dataclass(frozen=True)
class Table:
    signatures: tuple[Signature, ...]
    precedence: tuple[str, ...]
    graphql: dict[str, dict[str, str]]
    causes: dict[str, dict[str, str]]

    def of_kind(self, kind: str) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if s.kind == kind)


@cache
def table() -> Table:
    from gha_fix.transforms.knowledge_files import load

    data: dict[str, Any] = load(FILE)
    signatures = tuple(
        Signature(raw["id"], raw["kind"], re.compile(raw["pattern"], re.IGNORECASE),
                  raw["source"], raw.get("cause", ""), dict(raw.get("permissions") or {}),
                  bool(raw.get("possible", False)))
        for raw in data["signatures"]
    )
    return Table(signatures, tuple(data["precedence"]), dict(data["graphql"]),
                 dict(data["causes"]))


def matches(lines: Iterable[LogLine], signatures: Iterable[Signature]) -> list[Match]:
    """Every (line, signature) that matches, in line order.  A text the terminal wrapped onto
    the next line (`... a GitHub App` / `to create or update workflow ...`) matches the first
    line joined with the next."""
    found: list[Match] = []
    signatures = tuple(signatures)
    lines = list(lines)
    for index, line in enumerate(lines):
        joined = f"{line.text.rstrip()} {lines[index + 1].text.strip()}" \
            if index + 1 < len(lines) else ""
        for signature in signatures:
            hit = signature.regex.search(line.text)
            if hit is None and joined and signature.kind == "failure":
                hit = signature.regex.search(joined)
                width = len(line.text.rstrip())
                hit = hit if hit is not None and hit.start() < width < hit.end() else None
            if hit is not None:
                groups = {k: v for k, v in hit.groupdict().items() if v}
                found.append(Match(signature, line, groups))
    return found
