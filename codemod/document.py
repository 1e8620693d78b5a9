"""A workflow file as text plus the YAML node tree that points into it.

The engine never re-dumps YAML: it keeps the original text and uses node positions to splice
edits into it.  Parsing uses ruamel.yaml's libyaml-based composer (ruamel.yaml.clib, a
dependency) with a resolver that does nothing; scalars are resolved here with the YAML 1.2
core schema, as GitHub does (`on` is a string, not `True`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from itertools import accumulate, count
from operator import add
from pathlib import Path
from typing import Any

import _ruamel_yaml  # ruamel.yaml.clib: libyaml's composer, node positions
from ruamel.yaml.cyaml import CParser
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, StreamEndEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

YamlPath = tuple[str | int, ...]
BOM = "\ufeff"
# Collections nested deeper than this are refused before any node is built: the composer
# recurses (in C: 30,000 levels crash the process; ~330 raise RecursionError).  Real workflows
# nest fewer than 20 levels.
MAX_DEPTH = 200


class DocumentError(Exception):
    """Input that cannot be processed; `line` is 1-based (0 when unknown)."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class _NoResolver:
    """Leaves every implicit tag empty: scalars are resolved here, by the YAML 1.2 rules."""

    def descend_resolver(self, *args: Any) -> None:
        pass

    def ascend_resolver(self, *args: Any) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> None:
        return None


class _Composer(_NoResolver, CParser):  # type: ignore[misc,valid-type]
    """libyaml's composer (about ten times the speed of ruamel's pure-Python one)."""


_TAGS: dict[str | None, Tag] = {}


def _tag(name: str | None) -> Tag:
    """One shared Tag per tag name: ruamel builds a new Tag object for every node."""
    found = _TAGS.get(name)
    if found is None:
        found = _TAGS[name] = Tag(suffix=name)
    return found


# Nodes as ruamel's, built without a new Tag each: node construction was a third of parsing.
class _Scalar(ScalarNode):
    __slots__ = ()

    def __init__(self, tag: Any, value: Any, start_mark: Any = None, end_mark: Any = None,
                 style: Any = None, comment: Any = None, anchor: Any = None) -> None:
        self.ctag = _TAGS.get(tag) or _tag(tag)
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = style
        self.comment = comment
        self.anchor = anchor


def _collection_init(self: Any, tag: Any, value: Any, start_mark: Any = None,
                     end_mark: Any = None, flow_style: Any = None, comment: Any = None,
                     anchor: Any = None) -> None:
    self.ctag = _TAGS.get(tag) or _tag(tag)
    self.value = value
    self.start_mark = start_mark
    self.end_mark = end_mark
    self.flow_style = flow_style
    self.comment = comment
    self.anchor = anchor


class _Sequence(SequenceNode):
    __slots__ = ()
    __init__ = _collection_init


class _Mapping(MappingNode):
    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _collection_init(self, *args, **kwargs)
        self.merge = None


_NODE_CLASSES = {"ScalarNode": _Scalar, "SequenceNode": _Sequence, "MappingNode": _Mapping}


_COMPOSING = threading.Lock()  # the swap below is process-wide: one compose at a time


def _compose(text: str) -> Node | None:
    # The composer looks its node classes up in its module at call time; ours are swapped in
    # for the call only, so other users of ruamel.yaml in the process get ruamel's own.
    with _COMPOSING:
        saved = {name: getattr(_ruamel_yaml, name) for name in _NODE_CLASSES}
        for name, cls in _NODE_CLASSES.items():
            setattr(_ruamel_yaml, name, cls)
        parser = _Composer(text)
        try:
            return parser.get_single_node()
        finally:
            parser.dispose()
            for name, cls in saved.items():
                setattr(_ruamel_yaml, name, cls)


# A flow collection opens only where a node starts (after a space, `:`, `,`, `?` or `-`), and
# nested ones right after it: `${{` and brackets inside words open nothing.
_FLOW_OPENERS = re.compile(r"[\[{](?<=[\s:,?\-][\[{])[\[{\s]*")
# libyaml also breaks lines at a lone CR, NEL, LS and PS; Document counts LF (and CRLF) only
_ODD_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _within_bound(text: str, flows: int) -> bool:
    """Whether nesting is surely within MAX_DEPTH: block depth is at most twice the widest run
    of indentation and indicators (` ?:-`) at a line's start plus one (a block collection
    starts right of its parent; a sequence in a mapping may share its column), flow depth at
    most the number of openers."""
    lead = (MAX_DEPTH - flows) // 2 - 1
    run = f"[ ?:-]{{{lead}}}"  # `\n` first: the regex engine then skips to each line quickly
    return lead > 0 and not re.match(run, text) and not re.search(f"\n{run}", text)


def check_nesting(text: str) -> None:
    """DocumentError when collections nest deeper than MAX_DEPTH, found before any node is
    built.  Two cheap bounds first (every `[` and `{` but those of `${{`; then only those where
    a node can start); a text over both is parsed into events, whose depth is counted exactly
    (libyaml's parser keeps its own stack: it does not recurse)."""
    if _within_bound(text, text.count("[") + text.count("{") - 2 * text.count("${{")):
        return
    if text[:1] not in ("[", "{") and _within_bound(
            text, sum(run.count("[") + run.count("{") for run in _FLOW_OPENERS.findall(text))):
        return
    parser = _Composer(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise DocumentError(f"collections nested more than {MAX_DEPTH} levels "
                                        "deep", event.start_mark.line + 1)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            elif isinstance(event, StreamEndEvent):
                return
    except MarkedYAMLError:
        return  # invalid YAML, no deeper than seen so far: the composer says where
    finally:
        parser.dispose()


# --- YAML 1.2 core schema -------------------------------------------------------------------
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")
_STR_TAG = "tag:yaml.org,2002:str"


_NOT_ONLY_STR = frozenset("-+.0123456789~nNtTfF")  # first characters of non-string values


def resolve_plain(value: str) -> Any:
    """The value of a plain scalar under the YAML 1.2 core schema."""
    if value and value[0] not in _NOT_ONLY_STR:
        return value  # most scalars: no null, bool or number starts this way
    if value in _NULL:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.match(value):
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return float("-inf") if value.startswith("-") else float("inf")
    if _NAN.match(value):
        return float("nan")
    return value


def scalar_value(node: ScalarNode) -> Any:
    tag = node.ctag.suffix  # `node.tag` builds a string each time: slow on big files
    if node.style or tag == _STR_TAG:  # quoted or block scalars are always strings
        return node.value
    if tag is None or tag == "!":
        return resolve_plain(node.value)
    if tag.endswith(":int"):
        return int(node.value)
    if tag.endswith(":bool"):
        return node.value in _TRUE
    if tag.endswith(":null"):
        return None
    return node.value


@dataclass
class Document:
    """One YAML file: its exact text, its style, its nodes and its data."""

    path: str  # as shown to the user, relative to the repo root
    text: str  # without BOM
    bom: bool
    newline: str
    root: MappingNode
    data: dict[str, Any]
    line_starts: list[int]
    shared_nodes: set[int] = field(default_factory=set)  # ids of nodes reached through aliases

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, path: str, raw: bytes) -> Document:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DocumentError("not valid UTF-8", line) from None
        return cls.from_text(path, text)

    @classmethod
    def from_text(cls, path: str, text: str) -> Document:
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        if "\x00" in text:
            raise DocumentError("contains a NUL byte", text[: text.index("\x00")].count("\n") + 1)
        odd = _ODD_BREAK.search(text)
        if odd:
            kind = "CR" if odd.group() == "\r" else f"U+{ord(odd.group()):04X}"
            raise DocumentError(f"line break other than LF or CRLF ({kind}): convert the file's "
                                "line endings to LF", text[: odd.start()].count("\n") + 1)
        check_nesting(text)
        try:
            root = _compose(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 0
            if "expected a single document" in str(exc):
                raise DocumentError("several YAML documents in one file", line) from None
            reason = (exc.problem or exc.context or "invalid YAML").strip()
            raise DocumentError(f"invalid YAML: {reason}", line) from None
        except RecursionError:  # MAX_DEPTH keeps this away; a low recursion limit does not
            raise DocumentError("collections nested too deeply", 0) from None
        except Exception as exc:  # the composer also raises plain errors on odd input
            raise DocumentError(f"invalid YAML: {exc}", 0) from None
        if root is None:
            raise DocumentError("empty document", 1)
        if not isinstance(root, MappingNode):
            raise DocumentError("the document is not a mapping", root.start_mark.line + 1)
        crlf = text.count("\r\n")
        newline = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
        # offset of each line: the lengths before it plus one line break each
        lengths = map(len, text.split("\n")[:-1])
        starts = list(map(add, accumulate(lengths, initial=0), count()))
        shared: set[int] = set()
        data = construct(root, shared)
        return cls(path, text, bom, newline, root, data, starts, shared)

    @classmethod
    def from_file(cls, path: Path, shown_as: str) -> Document:
        from gha_fix.codemod.reading import read_regular_file

        return cls.from_bytes(shown_as, read_regular_file(path))

    def with_text(self, text: str) -> Document:
        """A new document for edited text (raises DocumentError if it no longer parses)."""
        doc = Document.from_text(self.path, text)
        doc.bom = self.bom
        return doc

    def full_text(self) -> str:
        return (BOM if self.bom else "") + self.text

    # --- positions ----------------------------------------------------------------------
    def offset(self, mark: Any) -> int:
        return self.line_starts[mark.line] + mark.column

    def line_text(self, line: int) -> str:
        """Line `line` (0-based) without its line break."""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] if line + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    # --- nodes --------------------------------------------------------------------------
    def node(self, path: YamlPath) -> Node | None:
        node: Node = self.root
        for part in path:
            found = child(node, part)
            if found is None:
                return None
            node = found
        return node

    def key_node(self, path: YamlPath) -> ScalarNode | None:
        """The key node of the mapping entry that `path` names."""
        if not path:
            return None
        parent = self.node(path[:-1])
        if isinstance(parent, MappingNode):
            for key, _ in parent.value:
                if isinstance(key, ScalarNode) and key.value == path[-1]:
                    return key
        return None

    def line_of(self, path: YamlPath) -> int:
        """1-based line of the entry `path` (its key when it has one)."""
        while path:
            key = self.key_node(path)
            if key is not None:
                return key.start_mark.line + 1
            node = self.node(path)
            if node is not None:
                return node.start_mark.line + 1
            path = path[:-1]
        return 1

    def touches_alias(self, path: YamlPath) -> bool:
        """True when an edit at `path` would change a node that is also reached elsewhere."""
        node: Node | None = self.root
        for part in path:
            if node is None:
                return False
            if id(node) in self.shared_nodes:
                return True
            node = child(node, part)
        return node is not None and id(node) in self.shared_nodes


def load_yaml(text: str) -> Any:
    """Plain data of a YAML text of any shape (the knowledge files), YAML 1.2 scalars."""
    root = _compose(text)
    return None if root is None else construct(root)


def child(node: Node, part: str | int) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return value
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def construct(node: Node, shared: set[int] | None = None) -> Any:
    """Plain Python data for `node` (mappings keep their order; duplicate keys are errors).

    `shared` collects the ids of nodes reached more than once (anchors used by aliases)."""
    visited: set[int] = set()
    found = shared if shared is not None else set()

    def build(node: Node) -> Any:
        node_id = id(node)
        if node_id in visited:
            found.add(node_id)
        visited.add(node_id)
        kind = type(node)
        if kind is _Scalar:
            return scalar_value(node)
        if kind is _Sequence:
            return [build(item) for item in node.value]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # a key is its text (`on`, `3.10`, `true` stay strings, as GitHub reads them)
            key = key_node.value if type(key_node) is _Scalar else repr(key_node)
            if key in result:
                raise DocumentError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            result[key] = build(value_node)
        return result

    return build(node)


def same_data(a: Any, b: Any) -> bool:
    """Strict equality where types count (True != 1); mapping key order does not."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:  # NaN
        return b != b
    return bool(a == b)
