"""Regex helpers shared by the transforms' knowledge tables."""

from __future__ import annotations

import re

try:
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]


class LazyPattern:
    """A regex compiled when first used: a table of rules is loaded whole, but a run uses
    few of them (compiling every rule was a tenth of a short run)."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled.match(text)


def required_literal(pattern: str) -> str:
    """The longest run of plain characters at the top level of `pattern`: in every match."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return ""
    best, run = "", ""
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            run += chr(arg)
            best = max(best, run, key=len)
        else:
            run = ""
    return best


def min_width(pattern: str) -> int:
    """The fewest characters a regex can match (from the parsed pattern)."""
    return int(sre_parse.parse(pattern).getwidth()[0])
