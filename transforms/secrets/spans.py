"""Where a credential found in a workflow value is written in the file: a `Span` of the file's
text, for masks.  A scalar's value is not its text (block indentation, folding, quotes,
escapes), so the value's words are matched, in order, against the node's text; if each is
written as it reads, separated only by what YAML turns into blanks, a hit's span is exact,
else (an escape inside a word, a line continuation) the whole scalar is masked."""

from __future__ import annotations

import re
from bisect import bisect_right

from gha_fix.codemod.document import Document, YamlPath
from gha_fix.codemod.model import Span
from gha_fix.transforms.secrets.detect import Hit

# between two words of a value, in a scalar's text: blanks, line breaks, `\n`-style escapes of
# blanks, an escaped line break; before the first: a quote, or a block scalar's header line
_GAP = re.compile(r'(?:\s|\\[ntr ]|\\\r?\n)*')
_HEAD = re.compile(r'["\']|[|>][-+0-9]*[ \t]*(?:#[^\n]*)?\r?\n')
_WORD = re.compile(r"\S+")


def value_span(doc: Document, path: YamlPath, value: str, hit: Hit) -> Span | None:
    """The span of `hit` (offsets into `value`, the scalar at `path`) in the file's text."""
    node = doc.node(path)
    if node is None:
        return None
    lo, hi = doc.offset(node.start_mark), doc.offset(node.end_mark)
    bom = 1 if doc.bom else 0
    words = _words(doc.text, lo, hi, value)
    if words is None or not words:
        return Span(lo + bom, hi + bom, hit.prefix)
    starts = [decoded for decoded, _ in words]

    def source(offset: int) -> int:
        decoded, written = words[max(bisect_right(starts, offset) - 1, 0)]
        return written + offset - decoded

    return Span(source(hit.start) + bom, source(hit.end - 1) + 1 + bom, hit.prefix)


def _words(text: str, lo: int, hi: int, value: str) -> list[tuple[int, int]] | None:
    """(offset in `value`, offset in `text`) of each word of `value`, if every word is written
    as it reads in `text[lo:hi]`, in order, with only blanks (or their escapes) between."""
    head = _HEAD.match(text, lo, hi)
    pos = head.end() if head else lo
    out = []
    for m in _WORD.finditer(value):
        pos = _GAP.match(text, pos, hi).end()  # type: ignore[union-attr]  (always matches)
        if not text.startswith(m.group(), pos) or pos + len(m.group()) > hi:
            return None
        out.append((m.start(), pos))
        pos += len(m.group())
    return out
