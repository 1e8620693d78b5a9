"""What the deriver found about one action: each need with where it was read (file:line) and
how (README prose or example, a call site in the code, the metadata), the inputs a need
depends on when the text says so, and why the action is not understood when it is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gha_fix.transforms.analysis.needs import LEVELS, InputCondition, Need

Kind = Literal["readme", "code", "metadata"]


@dataclass(frozen=True)
class DerivedNeed:
    """One scope at one level, and the evidence for it."""

    scope: str
    level: str  # read | write
    kind: Kind
    where: str  # file:line inside the action's repository (or folder)
    evidence: str  # `octokit.rest.issues.addLabels`, `permissions: block`, ...
    alternatives: tuple[str, ...] = ()  # other scopes that also allow it
    when: InputCondition | None = None  # the input it depends on, when the README says so

    def need(self, action: str) -> Need:
        """As the analysis' Need; what needs it says where the fact was read."""
        what = f"{action} ({self.kind} {self.where}: {self.evidence})"
        return Need(self.scope, self.level, what, self.alternatives, self.when)


@dataclass
class DerivedEntry:
    """An action as derived from its own files.

    `understood` is False when anything the deriver read could not be settled (an unmapped
    call, a dynamic call, a module it could not read, a raw use of the token): then `unknown`
    says why, and the action's needs must not be taken as complete.
    """

    action: str  # `owner/repo[/path]`, or `./path` for a local action
    using: str = ""
    ref: str = ""  # the commit or ref the files were read at ("" for a local checkout)
    needs: list[DerivedNeed] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # what was read
    code_read: bool = False  # its code was read (then the code's needs are granted)

    @property
    def understood(self) -> bool:
        return not self.unknown

    def granted(self) -> list[DerivedNeed]:
        """The needs to grant: the code's when its code was read (what the README says
        beyond it stays in `needs`, with its source, for the report), else the README's."""
        if self.code_read:
            return [n for n in self.needs if n.kind != "readme"]
        return list(self.needs)

    def by_kind(self, kind: Kind) -> list[DerivedNeed]:
        return [n for n in self.needs if n.kind == kind]

    def scopes(self, kind: Kind | None = None, granted: bool = False) -> dict[str, str]:
        """The strongest level per scope (of one kind, of all, or of those granted), needs
        with a condition left out."""
        out: dict[str, str] = {}
        for need in self.granted() if granted else self.needs:
            if (kind is not None and need.kind != kind) or need.when is not None:
                continue
            if LEVELS[need.level] > LEVELS.get(out.get(need.scope, "none"), 0):
                out[need.scope] = need.level
        return out
