"""Operations rendered as splices: the only code that writes YAML text into a file.

`Renderer(doc).render(op)` turns one `SetKey`, `RemoveKey` or `ReplaceValue` into the
`Splice`s that make the change in `doc`'s text, in the file's own style (`Style`): new entries
indented like their siblings and spaced like them, scalars keeping their quotes and comments,
flow collections staying flow, block scalars staying blocks, the file's line ending.  What
cannot be done safely raises `EditError`; whether the result is right is checked afterwards by
`gha_fix.codemod.verify`.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gha_fix.codemod.document import Document, YamlPath, construct, same_data
from gha_fix.codemod.operations import (
    Commented,
    EditError,
    Operation,
    RemoveKey,
    SetKey,
    format_path,
    op_path,
    plain,
)
from gha_fix.codemod.splice import (
    Splice,
    after_line,
    block_header,
    ends_in_block_scalar,
    first_comment_line,
    in_flow,
    is_blank,
    last_line,
    line_start,
    starts_line,
)
from gha_fix.codemod.style import Style, render_entry, render_flow, render_scalar


class Renderer:
    """Renders operations on one document (its `Style` is learnt once, on first use)."""

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
        splices = self.replace(op.path, op.value)
        if op.above is not None:
            splices.append(self.comments_above(op.path, op.above))
        return splices

    def comments_above(self, path: YamlPath, lines: tuple[str, ...]) -> Splice:
        """The comment lines directly above the key at `path` replaced by `lines`."""
        doc = self.doc
        parent = doc.node(path[:-1]) if path else None
        if not isinstance(parent, MappingNode) or parent.flow_style:
            raise EditError(f"{format_path(path)} is not an entry of a block mapping")
        index = next(i for i, (k, _) in enumerate(parent.value) if k.value == path[-1])
        key = parent.value[index][0]
        start = line_start(doc, first_comment_line(doc, parent, index))
        indent = " " * key.start_mark.column
        return Splice(start, line_start(doc, key.start_mark.line),
                      "".join(indent + line + doc.newline for line in lines))

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
            if ends_in_block_scalar(mapping):
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
        first = first_comment_line(doc, mapping, index)  # its comment lines go with it
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
            if isinstance(value, Commented) and value.comment and node.style not in ("|", ">"):
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
            if isinstance(value, Commented) and value.comment and not comment:
                text = f"  # {value.comment}" + text
        else:
            text = " " + (render_flow(new, self.style) if isinstance(new, dict | list)
                          else render_scalar(new, self.style))
            if comment:
                text += "  " + comment
        return Splice(colon, last_text_end, text)


def _same_node(node: Node, value: Any) -> bool:
    return same_data(construct(node), plain(value))
