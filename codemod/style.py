"""How this file writes YAML, and the text of values written that way.

`Style` is learnt from the file's own nodes: the indentation step of mappings, the indentation
of sequences under a key, the preferred quote.  The `render_*` functions turn plain values
(`Commented` included) into text in that style: one-line scalars and flow collections, block
entries and sequence items as lines without line breaks.  They know nothing of positions:
`gha_fix.codemod.render` decides where the text goes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cached_property
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gha_fix.codemod.document import Document, resolve_plain
from gha_fix.codemod.operations import Commented, plain

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
    above: list[str] = []  # Commented.above: comment lines before the key's line
    if isinstance(value, Commented):
        comment = f"  # {value.comment}" if value.comment else ""
        above = [" " * indent + line for line in value.above]
        value = value.value
    head = " " * indent + render_scalar(key, style)
    if isinstance(value, dict) and value:
        lines = [*above, head + ":" + comment]
        for k, v in value.items():
            lines += render_entry(k, v, indent + style.indent, style)
        return lines
    if isinstance(value, list) and value:
        lines = [*above, head + ":" + comment]
        for item in value:
            lines += render_item(item, indent + style.sequence_indent, style)
        return lines
    if isinstance(value, dict | list):
        return [*above, head + ": " + render_flow(value, style) + comment]
    return [*above, head + ": " + render_scalar(value, style) + comment]


def render_item(item: Any, indent: int, style: Style) -> list[str]:
    if isinstance(item, dict) and item:
        lines: list[str] = []
        for i, (k, v) in enumerate(item.items()):
            entry = render_entry(k, v, indent + 2, style)
            if i == 0:  # the dash goes on the key's line, after the comment lines above it
                at = len(v.above) if isinstance(v, Commented) else 0
                entry[at] = " " * indent + "- " + entry[at].lstrip(" ")
            lines += entry
        return lines
    if isinstance(item, list | dict):
        return [" " * indent + "- " + render_flow(item, style)]
    return [" " * indent + "- " + render_scalar(item, style)]

