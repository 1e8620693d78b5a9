"""Comments that travel with the scopes of a top-level `permissions:` block moved into jobs.

When the permissions transform replaces the top-level block and a scope it granted goes to
job blocks instead, what the user wrote about that scope goes with it: the comment lines
above the scope and the comment on its line (which then replaces gha-fix's own reason).  When
every scope of the block moves, the comment paragraph above `permissions:` goes with them to
the one job block that receives them, and leaves the top level (`ReplaceValue(above=())`):
it must not stay behind describing a block that no longer grants it (spread over several
jobs, it stays: which one it describes cannot be told).  A scope is moved when the job block
grants it at the level the top level did.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.operations import Commented, ReplaceValue, SetKey, plain
from gha_fix.codemod.splice import EntryComments, comment_paragraph_above, entry_comments

if TYPE_CHECKING:
    from gha_fix.codemod.document import Document
    from gha_fix.codemod.model import Fix

TOP: tuple[str] = ("permissions",)


@dataclass(frozen=True)
class MovedComments:
    """The comments of the top-level block's scopes that leave it (scope -> its level there
    and its comments), and the comment paragraph above the block when all of them leave."""

    scopes: dict[str, tuple[str, EntryComments]] = field(default_factory=dict)
    above: tuple[str, ...] = ()
    leaving: dict[str, str] = field(default_factory=dict)  # scope -> its level at the top

    @classmethod
    def of(cls, doc: Document, top: Any, new_top: dict[str, str] | None) -> MovedComments:
        if not isinstance(top, dict) or new_top is None:
            return cls()
        levels = {str(s): str(v) for s, v in top.items() if str(v) in ("read", "write")}
        leaving = {s: lvl for s, lvl in levels.items() if new_top.get(s) != lvl}
        scopes = {s: (lvl, entry_comments(doc, (*TOP, s))) for s, lvl in leaving.items()}
        scopes = {s: c for s, c in scopes.items() if c[1].above or c[1].inline}
        above = comment_paragraph_above(doc, TOP) if leaving and leaving == levels else ()
        return cls(scopes, above, leaving)

    def carry(self, block: dict[str, Any]) -> dict[str, Any]:
        """`block` (scope -> level or `Commented` level) with the moved scopes' comments."""
        out = dict(block)
        for scope, value in block.items():
            level, comments = self.scopes.get(scope, ("", EntryComments()))
            if plain(value) != level:
                continue
            ours = value.comment if isinstance(value, Commented) else ""
            out[scope] = Commented(level, comments.inline_text or ours, comments.above)
        return out

    def lands_in(self, block: Any) -> bool:
        """Whether `block` grants a scope that leaves the top level, at its level there."""
        return isinstance(block, dict) and any(
            plain(block.get(s)) == lvl for s, lvl in self.leaving.items())

    def place_above(self, top_fix: Fix, job_fixes: list[Any]) -> tuple[Fix, list[Any]]:
        """When the block moves into one job only, the paragraph above it goes with it: above
        that job's new `permissions:` and away from the top level.  Spread over several jobs,
        it cannot be said which it describes: it stays where it is."""
        if not self.above:
            return top_fix, job_fixes
        fixes = [top_fix, *job_fixes]
        receivers = [(i, j) for i, f in enumerate(fixes)
                     for j, op in enumerate(getattr(f, "operations", ()))
                     if isinstance(op, SetKey) and op.key == "permissions"
                     and op.path[:1] == ("jobs",) and self.lands_in(op.value)]
        if len(receivers) != 1:
            return top_fix, job_fixes
        i, j = receivers[0]
        ops = list(fixes[i].operations)
        ops[j] = dataclasses.replace(ops[j], value=Commented(ops[j].value, "", self.above))
        fixes[i] = dataclasses.replace(fixes[i], operations=tuple(ops))
        top_ops = tuple(dataclasses.replace(op, above=()) if isinstance(op, ReplaceValue)
                        and op.path == TOP else op for op in fixes[0].operations)
        return dataclasses.replace(fixes[0], operations=top_ops), fixes[1:]
