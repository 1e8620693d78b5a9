"""Every transform over every real workflow of ../shared/corpus.

For each file: no crash; either a clean skip with a named reason or verified edits; every original
line that changed belongs to an edited node; a second run changes nothing.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from conftest import CORPUS, corpus_repos
from engine_ops import Exercise

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.model import Status
from gha_fix.codemod.operations import RemoveKey, op_path
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.runner import RunOptions, process_document
from gha_fix.codemod.splice import entry_comments, last_line
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import REGISTRY

REPOS = corpus_repos()
pytestmark = pytest.mark.skipif(not REPOS, reason=f"corpus absent: {CORPUS} (needs ../shared)")
BROKEN = ("verification failed", "does not parse", "overlapping")


def allowed_lines(doc: Document, results: list) -> set[int]:
    """0-based original lines that the applied operations were allowed to touch."""
    lines: set[int] = set()
    for r in results:
        if r.status is not Status.APPLIED:
            continue
        for op in r.fix.operations:
            path = op_path(op)
            node = doc.node(path)
            key = doc.key_node(path)
            if node is None:
                continue
            first = key.start_mark.line if key is not None else node.start_mark.line
            if isinstance(op, RemoveKey) or getattr(op, "above", None) is not None:
                first -= len(entry_comments(doc, path).above)  # its comment lines go too
            lines.update(range(first, last_line(doc, node) + 1))
    return lines


def check_repo(root: Path, transform: Transform | list[Transform]) -> list[str]:
    problems = []
    repo = RepoContext(root)
    for path in repo.workflow_files():
        shown = f"{root.name}/{path.name}"
        try:
            doc = Document.from_file(path, shown)
        except DocumentError:
            continue  # a named skip: the CLI reports `path:line: reason`
        chosen = transform if isinstance(transform, list) else [transform]
        result = process_document(doc, chosen, repo, RunOptions(unsafe_fixes=True))
        for r in result.fixes:
            if r.status is Status.FAILED and r.reason.startswith(BROKEN):
                problems.append(f"{shown}:{r.line}: {r.reason}")
        new = Document.from_text(shown, result.new)  # must re-parse
        allowed = allowed_lines(doc, result.fixes)
        old_text, new_text = doc.text, new.text
        if not old_text.endswith("\n"):  # text added after a last line without a line break
            old_text += doc.newline
            new_text += "" if new_text.endswith("\n") else doc.newline
        old_lines = old_text.splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(None, old_lines, new_text.splitlines(keepends=True),
                                          autojunk=False)
        for tag, i1, i2, _, _ in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                outside = [i for i in range(i1, i2) if i not in allowed]
                if outside:
                    problems.append(f"{shown}:{outside[0] + 1}: changed outside an edit")
        again = process_document(new, chosen, repo, RunOptions(unsafe_fixes=True))
        if again.new != result.new:
            problems.append(f"{shown}: a second run changed the file again")
    return problems


@pytest.mark.parametrize("root", REPOS, ids=[p.name for p in REPOS])
def test_engine_over_corpus(root: Path) -> None:
    assert check_repo(root, Exercise()) == []


@pytest.mark.parametrize("transform_id", list(REGISTRY))
def test_transform_over_corpus(transform_id: str) -> None:
    problems = []
    for root in REPOS:
        problems += check_repo(root, REGISTRY[transform_id]())
    assert problems == []


def test_all_transforms_together_over_corpus() -> None:
    """What `gha-fix apply` runs: every transform in order, on each other's output."""
    problems = []
    for root in REPOS:
        problems += check_repo(root, [cls() for cls in REGISTRY.values()])
    assert problems == []
