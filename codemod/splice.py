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


# --- comments -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryComments:
    """The comments of a block mapping's entry: the comment lines directly above its key (as
    written, without indentation) and the comment on its key's or value's line (`# x`)."""

    above: tuple[str, ...] = ()
    inline: str = ""

    @property
    def inline_text(self) -> str:
        """The inline comment without its `#` and the space after it."""
        text = self.inline.removeprefix("#")
        return text[1:] if text.startswith(" ") else text


def first_comment_line(doc: Document, mapping: MappingNode, index: int) -> int:
    """The first line of the comment lines directly above the key of entry `index` of the
    block mapping `mapping` (the key's own line when there are none): comment-only lines with
    no blank line between, indented at least as the key, after the previous entry's text."""
    key = mapping.value[index][0]
    column = key.start_mark.column
    floor = -1
    if index > 0:
        previous_key, previous_value = mapping.value[index - 1]
        floor = max(last_line(doc, previous_value), previous_key.end_mark.line)
    line = key.start_mark.line
    while line - 1 > floor:
        text = doc.line_text(line - 1)
        stripped = text.lstrip(" ")
        if not stripped.startswith("#") or len(text) - len(stripped) < column:
            break
        line -= 1
    return line


def entry_comments(doc: Document, path: YamlPath) -> EntryComments:
    """The comments of the block mapping entry at `path` (empty when it is not one)."""
    parent = doc.node(path[:-1]) if path else None
    if not isinstance(parent, MappingNode) or parent.flow_style:
        return EntryComments()
    index = next((i for i, (k, _) in enumerate(parent.value) if k.value == path[-1]), None)
    if index is None:
        return EntryComments()
    key, value = parent.value[index]
    first = first_comment_line(doc, parent, index)
    above = tuple(doc.line_text(n).strip() for n in range(first, key.start_mark.line))
    # the comment on the value's line: after a plain/quoted scalar or a flow collection, or
    # after the colon of a block collection's key (a block scalar: after its header)
    if isinstance(value, ScalarNode) and value.style in ("|", ">"):
        start = doc.offset(value.start_mark) + len(block_header(doc, value))
        rest = doc.text[start:after_line(doc, value.start_mark.line)]
    elif isinstance(value, ScalarNode) or getattr(value, "flow_style", False):
        rest = doc.line_text(value.end_mark.line)[value.end_mark.column:]
    else:
        rest = doc.line_text(key.end_mark.line)[key.end_mark.column:].lstrip().removeprefix(":")
    rest = rest.strip()
    return EntryComments(above, rest if rest.startswith("#") else "")


def comment_paragraph_above(doc: Document, path: YamlPath) -> tuple[str, ...]:
    """The comment lines directly above the block mapping entry at `path` when they stand as
    a paragraph of their own (a blank line before them): what describes the entry, as opposed
    to a commented-out line of what comes before it or the file's header."""
    comments = entry_comments(doc, path)
    if not comments.above:
        return ()
    key = doc.key_node(path)
    first = key.start_mark.line - len(comments.above) if key is not None else 0
    return comments.above if first > 0 and is_blank(doc, first - 1) else ()
