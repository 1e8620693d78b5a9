"""The base class of every transform (one module or package each in `transforms/`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import FileFix, Fix, Note

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext


class Transform(ABC):
    """Analyse one workflow and return fixes (operations on YAML paths) and notes.

    Transforms decide *what* changes; the engine renders, splices and verifies.  Options come
    from the `<id>:` section of `.github/gha-fix.yml`.
    """

    id: ClassVar[str]
    summary: ClassVar[str]
    fix_safety: ClassVar[str] = "safe"

    @classmethod
    def options_schema(cls) -> Mapping[str, Any]:
        """The JSON Schema of the transform's `<id>:` section of `.github/gha-fix.yml`,
        checked before anything runs (`codemod/config.py`); by default it takes no options."""
        return {"type": ["object", "null"], "additionalProperties": False}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})

    @abstractmethod
    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        """Yield the fixes due in `doc` and notes about what was left alone."""

    def run_files(self, repo: RepoContext) -> Iterable[FileFix]:
        """Optional: fixes to other files of the repo (not workflows), e.g. Python scripts.

        Each names its file and line and carries typed edits; the engine decides which apply
        (safe, or --unsafe-fixes given), renders and verifies them, reports every fix (applied,
        held back or failed), shows the diffs and writes the files atomically.
        """
        return ()
