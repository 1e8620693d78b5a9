"""What transforms return and what the engine reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import YamlPath
from gha_fix.codemod.operations import Operation

if TYPE_CHECKING:  # the Python editor is imported when a repository has Python to fix
    from gha_fix.codemod.python_edit import PythonEdit


class Safety(str, Enum):
    """As in ruff: safe fixes apply by default, unsafe ones only with --unsafe-fixes."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class SecretToCreate:
    """A repository secret a fix makes a workflow (or script) read: the user must create it.

    `value` is the credential that was in the file: it goes nowhere but `--secrets-file`
    (never printed, never in a report or commit message; masked everywhere else).
    """

    name: str  # the secret's name: `${{ secrets.NAME }}`
    create: str  # the command that creates it: `gh secret set NAME --repo OWNER/REPO`
    rotate: str  # `file:line` where the old value was written (it stays in git history)
    kind: str = ""  # what it is: "GitHub token", "password", ...
    value: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class Span:
    """Where a credential is written in a file: character offsets into the file's text as read
    (`FileResult.original`, BOM included; `end` exclusive), whatever its form there (a block
    scalar's lines, escapes, a string split in parts).  Every output masks these characters;
    `prefix` is what its mask may show (a known token type's prefix such as `ghp_`, else '')."""

    start: int
    end: int
    prefix: str = ""


@dataclass(frozen=True)
class Fix:
    """A finding and the operations that fix it, applied (and verified) as one unit."""

    transform: str
    path: YamlPath  # the job, step or key the fix is about (for line numbers and suppression)
    message: str
    operations: tuple[Operation, ...]
    safety: Safety = Safety.SAFE
    # the credentials the fix moves: never in any output; one credential's fixes are applied
    # in every file or in none (`codemod/credentials.py`)
    secrets: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()  # where those values are written in the file (masked)
    creates: tuple[SecretToCreate, ...] = ()  # repository secrets the fix makes it read
    # extra facts for the JSON report only (the engine never acts on them)
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    # `key` names the fix among its transform's fixes for one file; a fix that `requires`
    # others is applied only with all of them (a top-level block is restricted only if the
    # jobs that need more get their own blocks: not if one of those is suppressed or dropped)
    key: str = ""
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A finding with nothing applied: a named skip ("left as is: unknown action ...")."""

    transform: str
    path: YamlPath
    message: str
    unknown_actions: tuple[str, ...] = ()  # `owner/repo` of actions it did not know (report)
    secrets: tuple[str, ...] = field(default=(), repr=False)  # values to mask in every output
    spans: tuple[Span, ...] = ()  # where they are written in the file
    # extra facts for the JSON report only (the engine never acts on them)
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class FileFix:
    """A fix to a repository file that is not a workflow (a Python script), from
    `Transform.run_files`: `fix` is what is reported (its YAML `operations` are empty), `edits`
    what the engine applies to the file, rendering and verifying them (`codemod/python_edit`)."""

    path: str  # relative to the repo root, with forward slashes
    line: int  # 1-based, where the finding is
    fix: Fix
    edits: tuple[PythonEdit, ...]


@dataclass(frozen=True)
class FileNote:
    """A finding in a repository file that is not a workflow, with nothing applied (a
    credential in a Python comment), from `Transform.run_files`."""

    path: str  # relative to the repo root, with forward slashes
    line: int  # 1-based
    note: Note


class Status(str, Enum):
    APPLIED = "applied"  # written (or would be, in a dry run)
    HELD_BACK = "held-back"  # unsafe, --unsafe-fixes not given
    SUPPRESSED = "suppressed"  # a `# gha-fix: ignore[...]` comment
    FAILED = "failed"  # could not be rendered or did not verify; dropped


@dataclass
class FixResult:
    fix: Fix
    status: Status
    line: int
    reason: str = ""


@dataclass
class NoteResult:
    note: Note
    line: int


@dataclass
class FileResult:
    path: str  # relative to the repo root, with forward slashes
    original: str = ""  # full text, BOM included
    new: str = ""
    fixes: list[FixResult] = field(default_factory=list)
    notes: list[NoteResult] = field(default_factory=list)
    error: str | None = None  # `path:line: reason` for input that could not be processed
    written: bool = False
    diff: str | None = None  # the unified diff, when a bulk worker has rendered it

    @property
    def changed(self) -> bool:
        return self.error is None and self.new != self.original

    @property
    def secrets(self) -> list[str]:
        """Every credential value found in the file (by any fix or note): masked in outputs."""
        return [*(s for r in self.fixes for s in r.fix.secrets),
                *(s for n in self.notes for s in n.note.secrets)]

    @property
    def spans(self) -> list[Span]:
        """Where those credentials are written in `original`, by any fix or note."""
        return [*(s for r in self.fixes for s in r.fix.spans),
                *(s for n in self.notes for s in n.note.spans)]


@dataclass
class RepoResult:
    root: str
    files: list[FileResult] = field(default_factory=list)
    error: str | None = None
    branch: str | None = None
    messages: list[str] = field(default_factory=list)

    def fixes(self, *statuses: Status) -> list[FixResult]:
        return [r for f in self.files for r in f.fixes if not statuses or r.status in statuses]

    @property
    def errors(self) -> list[str]:
        return ([self.error] if self.error else []) + [f.error for f in self.files if f.error]
