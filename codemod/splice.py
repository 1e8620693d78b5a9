"""Splices on a document's original text, and the line positions they start and end at.

A `Splice` replaces `text[start:end]`; `apply_splices` applies several at once (they must not
overlap).  The helpers find where an entry's text begins and ends: whole lines, the last line
that holds a node's content (block scalars' trailing blank lines excluded), blank lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gha_fix.codemod.document import Document, YamlPath, child
from gha_fix.codemod.operations import EditError


@dataclass(frozen=True, order=True)
class Splice:
    """Replace `text[start:end]` (offsets in the text without BOM) by `text`."""

    start: int
    end: int
    text: str


def apply_splices(text: str, splices: list[Splice]) -> str:
    """`text` with every splice applied; EditError if two of them overlap."""
    ordered = sorted(splices, key=lambda s: (s.start, s.end))
    for a, b in pairwise(ordered):
        if b.start < a.end:
            raise EditError("overlapping edits")
    out = []
    pos = 0
    for s in ordered:
        out.append(text[pos : s.start])
        out.append(s.text)
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


# --- positions ------------------------------------------------------------------------------
def block_header(doc: Document, node: ScalarNode) -> str:
    """The header of a block scalar (`|`, `>-`, `|2+`...), without a comment."""
    return doc.line_text(node.start_mark.line)[node.start_mark.column :].split("#")[0].rstrip()


def last_line(doc: Document, node: Node) -> int:
    """0-based index of the last line that holds content of `node`."""
    if isinstance(node, ScalarNode):
        end = node.end_mark
        if node.style in ("|", ">"):
            line = end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
            line = min(line, doc.line_count - 1)
            if "+" not in block_header(doc, node):
                while line > node.start_mark.line and not doc.line_text(line).strip():
                    line -= 1
            return line
        return end.line
    if getattr(node, "flow_style", False) or not node.value:
        return node.end_mark.line
    last = node.value[-1]
    return last_line(doc, last[1] if isinstance(node, MappingNode) else last)


def line_start(doc: Document, line: int) -> int:
    return doc.line_starts[line] if line < doc.line_count else len(doc.text)


def after_line(doc: Document, line: int) -> int:
    """Offset just after line `line` (after its line break, or the end of the text)."""
    return line_start(doc, line + 1) if line + 1 < doc.line_count else len(doc.text)


def is_blank(doc: Document, line: int) -> bool:
    return 0 <= line < doc.line_count and not doc.line_text(line).strip()


def starts_line(doc: Document, node: Node) -> bool:
    """True when `node` is the first thing on its line (not after `- ` or `key:`)."""
    line = doc.line_text(node.start_mark.line)
    return not line[: node.start_mark.column].strip()


def in_flow(doc: Document, path: YamlPath) -> bool:
    """True when the node at `path` is inside a flow collection (`{...}`, `[...]`)."""
    node: Node | None = doc.root
    for part in path:
        if node is None:
            return False
        if getattr(node, "flow_style", False):
            return True
        node = child(node, part)
    return False


def ends_in_block_scalar(node: Node) -> bool:
    """True when the last text of the block collection `node` is a block scalar's."""
    while isinstance(node, MappingNode | SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return isinstance(node, ScalarNode) and node.style in ("|", ">")
