"""Edit operations on YAML paths, rendered as text in the file's own style and spliced in.

Transforms say *what* changes (`SetKey`, `RemoveKey`, `ReplaceValue`); this module alone decides
how the text looks: indentation width, sequence indentation, quote style, line ending, flow or
block.  Every operation becomes a few `Splice`s on the original text; nothing outside them moves.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gha_fix.codemod.document import Document, YamlPath, child, construct, resolve_plain, same_data


class EditError(Exception):
    """An operation that cannot be rendered safely; the message is the named reason."""


@dataclass(frozen=True)
class Commented:
    """A value that carries a trailing comment (`contents: write  # gh release create`)."""

    value: Any
    comment: str


@dataclass(frozen=True)
class SetKey:
    """Set `key` in the mapping at `path`: replace its value, or add the entry.

    A new entry goes after the first key of `after` that exists, else before the first of
    `before`, else at the end of the mapping.
    """

    path: YamlPath
    key: str
    value: Any
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveKey:
    path: YamlPath
    key: str


@dataclass(frozen=True)
class ReplaceValue:
    """Replace the node at `path`; a mapping replaced by a mapping is edited key by key."""

    path: YamlPath
    value: Any


Operation = SetKey | RemoveKey | ReplaceValue


@dataclass(frozen=True, order=True)
class Splice:
    start: int
    end: int
    text: str


def plain(value: Any) -> Any:
    """The data a rendered value stands for (comments dropped)."""
    if isinstance(value, Commented):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def op_path(op: Operation) -> YamlPath:
    return (*op.path, op.key) if isinstance(op, SetKey | RemoveKey) else op.path


# --- the expected data ----------------------------------------------------------------------
def apply_to_data(data: Any, op: Operation) -> Any:
    """`data` with `op` applied, copying only along the path (the original stays intact)."""
    path = op_path(op)
    if isinstance(op, RemoveKey):
        return _update(data, path[:-1], lambda m: {k: v for k, v in m.items() if k != op.key})
    return _update(data, path, lambda _old: plain(op.value))


def _update(node: Any, path: YamlPath, change: Any) -> Any:
    if not path:
        return change(node)
    head, rest = path[0], path[1:]
    if isinstance(node, list):
        copy = list(node)
        copy[head] = _update(copy[head], rest, change)  # type: ignore[index]
        return copy
    copy = dict(node) if isinstance(node, dict) else {}
    copy[head] = _update(copy.get(head), rest, change)
    return copy


# --- style ----------------------------------------------------------------------------------
_SAFE_PLAIN_FIRST = re.compile(r"[A-Za-z0-9_$(./~=+^\\]")
_YAML11_SPECIAL = re.compile(
    r"(?i:y|n|yes|no|on|off|true|false|null|~)\Z|[-+]?[0-9.]|<<\Z|=\Z"
)


class Style:
    """How this file writes YAML, learnt from its own nodes."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    @cached_property
    def _learnt(self) -> tuple[int, int, str]:
        """(mapping indent step, sequence indent under a key, preferred quote)."""
        steps: Counter[int] = Counter()
        seq_offsets: Counter[int] = Counter()
        quotes: Counter[str] = Counter()

        def walk(node: Node, col: int | None) -> None:
            if isinstance(node, ScalarNode):
                if node.style in ("'", '"'):
                    quotes[node.style] += 1
                return
            if getattr(node, "flow_style", False):
                return
            if isinstance(node, MappingNode):
                if node.value and col is not None:
                    steps[node.value[0][0].start_mark.column - col] += 1
                for key, value in node.value:
                    walk(value, key.start_mark.column)
            elif isinstance(node, SequenceNode):
                if col is not None:
                    seq_offsets[node.start_mark.column - col] += 1
                for item in node.value:
                    walk(item, None)

        walk(self.doc.root, None)
        step = next((s for s, _ in steps.most_common() if s > 0), 2)
        seq = seq_offsets.most_common(1)[0][0] if seq_offsets else step
        quote = "'" if quotes["'"] >= quotes['"'] else '"'
        return step, max(seq, 0), quote

    @property
    def indent(self) -> int:
        return self._learnt[0]

    @property
    def sequence_indent(self) -> int:
        return self._learnt[1]

    @property
    def quote(self) -> str:
        return self._learnt[2]


def is_plain_safe(text: str, flow: bool = False) -> bool:
    """Whether `text` can be written unquoted and still read back as the same string."""
    if not text or text != text.strip() or not _SAFE_PLAIN_FIRST.match(text):
        return False
    if any(ch in text for ch in "\n\r\t") or not text.isprintable():
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(ch in text for ch in ",[]{}"):
        return False
    return not (resolve_plain(text) != text or _YAML11_SPECIAL.match(text))


def quote_scalar(text: str, quote: str) -> str:
    if quote == "'" and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text, ensure_ascii=False)


def render_scalar(value: Any, style: Style, flow: bool = False, keep: str | None = None) -> str:
    """One-line text for a scalar; `keep` is the style of the scalar it replaces."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if keep in ("'", '"') and (keep == '"' or text.isprintable()):
        return quote_scalar(text, keep)
    if is_plain_safe(text, flow):
        return text
    return quote_scalar(text, style.quote)


def render_flow(value: Any, style: Style) -> str:
    value = plain(value)
    if isinstance(value, dict):
        inner = ", ".join(
            f"{render_scalar(k, style, True)}: {render_flow(v, style)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render_flow(v, style) for v in value) + "]"
    return render_scalar(value, style, True)


def render_entry(key: str, value: Any, indent: int, style: Style) -> list[str]:
    """Block lines (no line breaks) for `key: value` at column `indent`."""
    comment = ""
    if isinstance(value, Commented):
        comment = f"  # {value.comment}"
        value = value.value
    head = " " * indent + render_scalar(key, style)
    if isinstance(value, dict) and value:
        lines = [head + ":" + comment]
        for k, v in value.items():
            lines += render_entry(k, v, indent + style.indent, style)
        return lines
    if isinstance(value, list) and value:
        lines = [head + ":" + comment]
        for item in value:
            lines += render_item(item, indent + style.sequence_indent, style)
        return lines
    if isinstance(value, dict | list):
        return [head + ": " + render_flow(value, style) + comment]
    return [head + ": " + render_scalar(value, style) + comment]


def render_item(item: Any, indent: int, style: Style) -> list[str]:
    if isinstance(item, dict) and item:
        lines: list[str] = []
        for i, (k, v) in enumerate(item.items()):
            entry = render_entry(k, v, indent + 2, style)
            if i == 0:
                entry[0] = " " * indent + "- " + entry[0].lstrip(" ")
            lines += entry
        return lines
    if isinstance(item, list | dict):
        return [" " * indent + "- " + render_flow(item, style)]
    return [" " * indent + "- " + render_scalar(item, style)]


# --- positions ------------------------------------------------------------------------------
def block_header(doc: Document, node: ScalarNode) -> str:
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
    node: Node | None = doc.root
    for part in path:
        if node is None:
            return False
        if getattr(node, "flow_style", False):
            return True
        node = child(node, part)
    return False


# --- rendering operations -------------------------------------------------------------------
class Renderer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.style = Style(doc)

    def join(self, lines: list[str]) -> str:
        return self.doc.newline.join(lines)

    def render(self, op: Operation) -> list[Splice]:
        doc = self.doc
        target = op_path(op)
        if doc.touches_alias(target):
            raise EditError("inside an anchor/alias: editing it would change every alias")
        if isinstance(op, SetKey):
            return self.set_key(op)
        if isinstance(op, RemoveKey):
            return self.remove_key(op.path, op.key)
        return self.replace(op.path, op.value)

    # SetKey -------------------------------------------------------------------------------
    def set_key(self, op: SetKey) -> list[Splice]:
        mapping = self.doc.node(op.path)
        if mapping is None:
            raise EditError(f"no node at {format_path(op.path)}")
        if isinstance(mapping, ScalarNode) and mapping.value == "" and not mapping.style:
            return self.replace(op.path, {op.key: op.value})  # `env:` with no value yet
        if not isinstance(mapping, MappingNode):
            raise EditError(f"{format_path(op.path)} is not a mapping")
        for key, _ in mapping.value:
            if key.value == op.key:
                return self.replace((*op.path, op.key), op.value)
        return [self.insert(mapping, {op.key: op.value}, op.after, op.before)]

    def insert(
        self, mapping: MappingNode, new: dict[str, Any], after: tuple[str, ...] = (),
        before: tuple[str, ...] = (),
    ) -> Splice:
        if mapping.flow_style:
            return self.flow_insert(mapping, new)
        return self.block_insert(mapping, new, after, before)

    def flow_insert(self, mapping: MappingNode, new: dict[str, Any]) -> Splice:
        doc = self.doc
        entry = ", ".join(
            f"{render_scalar(k, self.style, True)}: {render_flow(v, self.style)}"
            for k, v in new.items()
        )
        if not mapping.value:
            at = doc.offset(mapping.start_mark) + 1
            return Splice(at, at, entry)
        at = doc.offset(mapping.value[-1][1].end_mark)
        if mapping.value[-1][1].end_mark.line != mapping.value[-1][0].end_mark.line:
            at = max(at, doc.offset(mapping.value[-1][0].end_mark))
        return Splice(at, at, ", " + entry)

    def block_insert(
        self, mapping: MappingNode, new: dict[str, Any], after: tuple[str, ...],
        before: tuple[str, ...],
    ) -> Splice:
        doc = self.doc
        entries = mapping.value
        keys = [k.value for k, _ in entries]
        indent = entries[0][0].start_mark.column
        lines = [line for k, v in new.items() for line in render_entry(k, v, indent, self.style)]
        anchor: int | None = None  # index of the entry to insert after
        for name in after:
            if name in keys:
                anchor = keys.index(name)
                break
        else:
            for name in before:
                if name in keys:
                    anchor = keys.index(name) - 1
                    break
            else:
                anchor = len(entries) - 1
        if anchor < 0:
            first = entries[0][0]
            if starts_line(doc, first):
                at = line_start(doc, first.start_mark.line)
                spaced = is_blank(doc, first.start_mark.line - 1) and len(entries) > 1
                return Splice(at, at, self.join(lines) + doc.newline * (2 if spaced else 1))
            anchor = 0
        end = last_line(doc, entries[anchor][1])
        end = max(end, entries[anchor][0].end_mark.line)
        at = after_line(doc, end)
        if anchor + 1 < len(entries):
            spaced = is_blank(doc, end + 1)
        else:  # appending: blank lines between the last two entries say how entries are spaced
            spaced = len(entries) > 1 and is_blank(doc, entries[-1][0].start_mark.line - 1)
        text = self.join(([""] if spaced else []) + lines)
        if at == len(doc.text) and not doc.text.endswith("\n"):
            if _ends_in_block_scalar(mapping):
                raise EditError("the file ends inside a block scalar without a final line break;"
                                " adding after it would change that scalar")
            return Splice(at, at, doc.newline + text)
        return Splice(at, at, text + doc.newline)

    # RemoveKey ----------------------------------------------------------------------------
    def remove_key(self, path: YamlPath, key: str) -> list[Splice]:
        doc = self.doc
        mapping = doc.node(path)
        if not isinstance(mapping, MappingNode):
            raise EditError(f"{format_path(path)} is not a mapping")
        index = next((i for i, (k, _) in enumerate(mapping.value) if k.value == key), None)
        if index is None:
            raise EditError(f"no key {key!r} at {format_path(path)}")
        if len(mapping.value) == 1:
            return self.replace(path, {})
        key_node, value_node = mapping.value[index]
        if mapping.flow_style:
            start = doc.offset(key_node.start_mark)
            end = doc.offset(value_node.end_mark)
            if index + 1 < len(mapping.value):
                end = doc.offset(mapping.value[index + 1][0].start_mark)
            else:
                prev_end = doc.offset(mapping.value[index - 1][1].end_mark)
                start = prev_end
            return [Splice(start, end, "")]
        if not starts_line(doc, key_node):
            raise EditError(f"{key!r} shares its line with a sequence dash; not removed")
        first = key_node.start_mark.line
        last = max(last_line(doc, value_node), key_node.end_mark.line)
        return [Splice(line_start(doc, first), after_line(doc, last), "")]

    # ReplaceValue -------------------------------------------------------------------------
    def replace(self, path: YamlPath, value: Any) -> list[Splice]:
        doc = self.doc
        node = doc.node(path)
        if node is None:
            raise EditError(f"no node at {format_path(path)}")
        new = value.value if isinstance(value, Commented) else value
        flow = in_flow(doc, path)
        if isinstance(node, MappingNode) and not node.flow_style and isinstance(new, dict) and new:
            return self.merge_mapping(path, node, value)
        if flow or (isinstance(node, MappingNode | SequenceNode) and node.flow_style
                    and isinstance(new, dict | list)):
            start, end = doc.offset(node.start_mark), doc.offset(node.end_mark)
            return [Splice(start, end, render_flow(new, self.style))]
        if isinstance(node, ScalarNode) and not isinstance(new, dict | list):
            splice = self.replace_scalar(node, new)
            if isinstance(value, Commented) and node.style not in ("|", ">"):
                rest = doc.line_text(node.end_mark.line)[node.end_mark.column :]
                if "#" not in rest:  # keep a comment the user wrote; else add ours
                    splice = Splice(splice.start, splice.end, f"{splice.text}  # {value.comment}")
            return [splice]
        return [self.replace_block(path, node, value)]

    def merge_mapping(self, path: YamlPath, node: MappingNode, value: Any) -> list[Splice]:
        new = value.value if isinstance(value, Commented) else value
        old_keys = [k.value for k, _ in node.value]
        if not any(key in new for key in old_keys):  # nothing survives: one whole new block
            return [self.replace_block(path, node, value)]
        splices: list[Splice] = []
        for key, key_value in zip(old_keys, (v for _, v in node.value)):
            if key not in new:
                splices += self.remove_key(path, key)
            elif not _same_node(key_value, new[key]):
                splices += self.replace((*path, key), new[key])
        # new keys go after the old key that precedes them in the new order, grouped
        groups: dict[str | None, dict[str, Any]] = {}
        previous: str | None = None
        for key in new:
            if key in old_keys:
                previous = key
            else:
                groups.setdefault(previous, {})[key] = new[key]
        for previous, entries in groups.items():
            after = (previous,) if previous is not None else ()
            before = () if previous is not None else tuple(old_keys[:1])
            splices.append(self.insert(node, entries, after, before))
        return splices

    def replace_scalar(self, node: ScalarNode, value: Any) -> Splice:
        doc = self.doc
        start = doc.offset(node.start_mark)
        if node.style in ("|", ">"):
            return self.replace_block_scalar(node, value)
        end = doc.offset(node.end_mark)
        keep = node.style if node.style in ("'", '"') else None
        text = render_scalar(value, self.style, keep=keep)
        return Splice(start, end, text)

    def replace_block_scalar(self, node: ScalarNode, value: Any) -> Splice:
        doc = self.doc
        if not isinstance(value, str) or not value or any(
            ch not in "\n\t" and not ch.isprintable() for ch in value
        ):
            start, end = doc.offset(node.start_mark), doc.offset(node.end_mark)
            return Splice(start, end, render_scalar(value, self.style))
        header = block_header(doc, node)
        first_line = node.start_mark.line
        last = last_line(doc, node)
        indicator = re.search(r"[1-9]", header)
        body = [doc.line_text(n) for n in range(first_line + 1, last + 1)]
        indents = [len(b) - len(b.lstrip(" ")) for b in body if b.strip()]
        if indicator:
            parent_indent = len(doc.line_text(first_line)) - len(doc.line_text(first_line).lstrip())
            content_indent = parent_indent + int(indicator.group())
        else:
            content_indent = min(indents) if indents else node.start_mark.column + 2
        content = value
        trailing = len(content) - len(content.rstrip("\n"))
        chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
        lines = content.rstrip("\n").split("\n")
        if lines[0].startswith(" ") and not indicator:
            raise EditError("a block scalar whose first line starts with a space")
        new_header = re.sub(r"[-+]", "", header)
        new_header = new_header[:1] + chomp + new_header[1:] if chomp else new_header
        new_header = "|" + new_header[1:] if header.startswith(">") else new_header
        rendered = [(" " * content_indent + line) if line else "" for line in lines]
        rendered += [""] * (trailing - 1) if chomp == "+" else []
        start = doc.offset(node.start_mark)
        header_end = start + len(header)
        end = after_line(doc, last if chomp != "+" else max(last, node.end_mark.line - 1))
        tail = doc.newline if end > header_end and doc.text[end - 1 : end] == "\n" else ""
        text = new_header + doc.newline + self.join(rendered) + tail
        return Splice(start, end, text)

    def replace_block(self, path: YamlPath, node: Node, value: Any) -> Splice:
        """Replace a whole value in block context, with its text after `key:`."""
        doc = self.doc
        key = doc.key_node(path)
        if key is None:
            raise EditError(f"cannot replace the sequence item at {format_path(path)} as a block")
        colon = doc.text.index(":", doc.offset(key.end_mark)) + 1
        last = max(last_line(doc, node), key.end_mark.line)
        last_text_end = line_start(doc, last) + len(doc.line_text(last))
        tail = doc.text[doc.offset(node.end_mark) : last_text_end]
        comment = tail.strip() if isinstance(node, ScalarNode) else ""
        comment = comment if comment.startswith("#") else ""
        new = value.value if isinstance(value, Commented) else value
        if isinstance(new, dict | list) and new:
            indent = key.start_mark.column
            lines = render_entry("x", value, indent, self.style)[1:]
            text = (f"  {comment}" if comment else "") + doc.newline + self.join(lines)
            if isinstance(value, Commented) and not comment:
                text = f"  # {value.comment}" + text
        else:
            text = " " + (render_flow(new, self.style) if isinstance(new, dict | list)
                          else render_scalar(new, self.style))
            if comment:
                text += "  " + comment
        return Splice(colon, last_text_end, text)


def _ends_in_block_scalar(node: Node) -> bool:
    while isinstance(node, MappingNode | SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return isinstance(node, ScalarNode) and node.style in ("|", ">")


def _same_node(node: Node, value: Any) -> bool:
    return same_data(construct(node), plain(value))


def format_path(path: YamlPath) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def apply_splices(text: str, splices: list[Splice]) -> str:
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
