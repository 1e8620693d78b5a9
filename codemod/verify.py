"""Fixes applied to a document and verified: the edited text must parse, and its data must be
exactly the original data with the fix's operations applied (`apply_to_data`).

A fix that fails either check is not applied; the caller gets its reason.
"""

from __future__ import annotations

from gha_fix.codemod.document import Document, DocumentError, same_data
from gha_fix.codemod.model import Fix
from gha_fix.codemod.operations import EditError, Operation, apply_to_data
from gha_fix.codemod.render import Renderer
from gha_fix.codemod.splice import Splice, apply_splices


def apply_fix(doc: Document, fix: Fix) -> Document:
    """`doc` with every operation of `fix` applied and verified, or EditError with the reason."""
    current = doc
    for op in fix.operations:
        splices = Renderer(current).render(op)
        current = _verified(current, splices, [op])
    return current


def _verified(doc: Document, splices: list[Splice], ops: list[Operation]) -> Document:
    """The edited document, if its data is exactly `doc`'s data with `ops` applied."""
    try:
        edited = doc.with_text(apply_splices(doc.text, splices))
    except DocumentError as exc:
        raise EditError(f"the edited file does not parse ({exc.reason})") from None
    expected = doc.data
    for op in ops:
        expected = apply_to_data(expected, op)
    if not same_data(edited.data, expected):
        raise EditError("verification failed: the edited data is not the intended change")
    return edited


def apply_fixes(doc: Document, fixes: list[Fix]) -> tuple[Document, dict[int, str]]:
    """Apply `fixes`; returns the new document and the reasons of the dropped ones (by index).

    Fast path: render every fix against `doc`, splice them all and verify once (one re-parse
    instead of one per fix, which matters for 400 KB generated workflows).  If anything in
    the batch fails, fall back to one fix at a time, so a bad fix is dropped alone.
    """
    if len(fixes) > 1:
        renderer = Renderer(doc)
        try:
            splices = [s for fix in fixes for op in fix.operations for s in renderer.render(op)]
            ops = [op for fix in fixes for op in fix.operations]
            return _verified(doc, splices, ops), {}
        except EditError:
            pass
    failed: dict[int, str] = {}
    for index, fix in enumerate(fixes):
        try:
            doc = apply_fix(doc, fix)
        except EditError as exc:
            failed[index] = str(exc)
    return doc, failed
