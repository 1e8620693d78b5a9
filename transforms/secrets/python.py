"""Python (scripts a workflow runs, and `shell: python` steps): the credentials in string literals
and the edits that move them to environment variables.

Finding is libcst (a read-only visit: the key a literal is assigned to, passed as or stored
under names it); rewriting is the engine's (`codemod/python_edit.py`): this module only says
which literal holds which value and what NAME it gets.  Each hit knows where it is written
(`start`, `end`: offsets into the source, for masks).  A credential that cannot be moved to an
environment variable is a hit with a `note`: one in a comment, one split over the parts of an
implicit concatenation (`("xoxb-..." "...")`).
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gha_fix.codemod.python_edit import ReplacePythonString
from gha_fix.transforms.secrets.detect import Hit, known_tokens, name_based, name_hit, table


@dataclass(frozen=True)
class PyHit:
    line: int
    column: int
    value: str
    label: str
    type_name: str
    preferred: str
    safe: bool
    whole: bool  # the literal is the token (else: an f-string keeps the rest)
    start: int = 0  # where the value is written: offsets into the source
    end: int = 0
    prefix: str = ""  # what a mask may show
    note: str = ""  # why it cannot be replaced ("" if it can)


# libcst only sees a file where a secret-sounding name meets a literal that may be a credential
_PY_SECRET_WORD = re.compile(r"(?i)token|secret|password|passwd|api_?key|access_?key")
_PY_LITERAL = re.compile(r"""(['"])([^'"\s]+)\1""")
_PY_WORD = re.compile(r"[A-Za-z_]\w*")
_PY_DICT_KEY = re.compile(r"""(['"])(\w+)\1\s*:""")
_PY_ADJACENT = re.compile(r"""['"]\s*\\?\s*['"]""")  # two literals side by side


def worth_parsing(source: str) -> bool:
    """A known token, or a line where a secret-sounding name meets a literal (on that line or
    the next, for wrapped calls) that the name rule would call a credential."""
    if known_tokens(source):
        return True
    prefixes = table().any_literal
    if prefixes is not None and prefixes.search(source) and _PY_ADJACENT.search(source):
        return True  # a token may be split over the parts of an implicit concatenation
    if not _PY_SECRET_WORD.search(source):
        return False
    lines = source.splitlines()
    for number, line in enumerate(lines):
        if not _PY_SECRET_WORD.search(line):
            continue
        near = line + "\n" + (lines[number + 1] if number + 1 < len(lines) else "")
        literals = [m.group(2) for m in _PY_LITERAL.finditer(near)]
        words = {m.group() for m in _PY_WORD.finditer(_PY_LITERAL.sub(" ", line))}
        words.update(m.group(2) for m in _PY_DICT_KEY.finditer(line))
        if any(name_based(word, value) for word in words for value in literals):
            return True
    return False



def python_hits(source: str) -> list[PyHit]:
    """The credentials in the string literals of `source`, in order (none if it does not parse).

    A literal is a hit if it holds known tokens, or if a secret-sounding key (the variable it is
    assigned to, the keyword it is passed as, the dict key it is stored under) holds it and the
    name rule calls it a credential.  A literal that holds a token among other text is left out
    unless it is plain (no prefix, escape or brace): only then can an f-string keep the rest.
    """
    if not worth_parsing(source):
        return []  # keep libcst (a fifth of a second to import) off the common path
    starts = [0, *(m.end() for m in re.finditer(r"\r\n?|\n", source))]
    if not literals_may_hold_credentials(source):  # libcst would find no literal: only comments
        return sorted(_comment_hits(source, starts), key=lambda h: h.start)
    return _libcst_hits(source, starts)


def literals_may_hold_credentials(source: str) -> bool:
    """Whether some string literal of `source` may be a hit, read with the standard library's
    parser (in C: a small part of libcst's time, which was a fifth of a bulk run).  Each literal
    is tried under every name around it (the variables it is assigned to, the keywords it is
    passed as, the dict keys it is stored under): more than libcst's one innermost name, so a
    literal libcst calls a hit is never missed here.  Literals side by side are one value to
    the standard library: the joined value is tried (what libcst tries for the whole), and a
    token inside one part is in the raw text (only an escape could hide it there).  True when
    the standard library cannot tell (a syntax it does not read) or a known token is written
    anywhere in the file."""
    if known_tokens(source):
        return True
    import ast
    import warnings

    try:
        with warnings.catch_warnings():  # `"\d"` in the user's file: not ours to report
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return True
    stack: list[tuple[ast.AST, tuple[str, ...]]] = [(tree, ())]
    while stack:
        node, names = stack.pop()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and _may_be_hit(node.value, names):
                return True
            continue
        inner = names
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            inner += tuple(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.keyword) and node.arg:
            inner += (node.arg,)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                named = inner + ((key.value,) if isinstance(key, ast.Constant)
                                 and isinstance(key.value, str) else ())
                stack += [(value, named)] + ([(key, named)] if key is not None else [])
            continue
        stack += [(child, inner) for child in ast.iter_child_nodes(node)]
    return False


def _may_be_hit(value: str, names: tuple[str, ...]) -> bool:
    return bool(known_tokens(value)) or any(
        known_tokens(value, name) or name_hit(name, value) for name in names)


def _libcst_hits(source: str, starts: list[int]) -> list[PyHit]:
    """`python_hits` by libcst: the key of each literal and where it is written."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        # the module is ours alone: no defensive deep copy (it was most of a scan's time)
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    except cst.ParserSyntaxError:
        return []
    hits: list[PyHit] = []

    def span(node: Any) -> tuple[int, int]:
        r = wrapper.resolve(PositionProvider)[node]
        return starts[r.start.line - 1] + r.start.column, starts[r.end.line - 1] + r.end.column

    class Finder(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.key: list[str | None] = [None]
            self.parts = 0  # inside an implicit concatenation

        def visit_Assign(self, node: cst.Assign) -> None:
            target = node.targets[0].target if len(node.targets) == 1 else None
            self.key.append(target.value if isinstance(target, cst.Name) else None)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self.key.append(node.target.value if isinstance(node.target, cst.Name) else None)

        def visit_Arg(self, node: cst.Arg) -> None:
            self.key.append(node.keyword.value if node.keyword else None)

        def visit_DictElement(self, node: cst.DictElement) -> None:
            key = node.key.evaluated_value if isinstance(node.key, cst.SimpleString) else None
            self.key.append(key if isinstance(key, str) else None)

        def _pop(self, node: Any) -> None:
            self.key.pop()

        leave_Assign = leave_AnnAssign = leave_Arg = leave_DictElement = _pop

        def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
            if not self.parts:
                hits.extend(_split_hits(node, self.key[-1], span))
            self.parts += 1

        def leave_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
            self.parts -= 1

        def leave_SimpleString(self, node: cst.SimpleString) -> None:
            # a part of a concatenation: its known tokens (a fix that fails: a read cannot
            # stand next to a literal); a name-based credential is the whole concatenation's
            key = None if self.parts else self.key[-1]
            hits.extend(_literal_hits(node, key, self.get_metadata(PositionProvider, node).start,
                                      span(node)))

    import warnings

    with warnings.catch_warnings():  # a literal's `"\d"` (evaluated_value): the user's to see
        warnings.simplefilter("ignore")
        wrapper.visit(Finder())
    hits += _comment_hits(source, starts)
    return sorted((h if h.line else dataclasses.replace(h, line=bisect_right(starts, h.start))
                   for h in hits), key=lambda h: h.start)


def _hits_in(value: str, key: str | None) -> tuple[list[Hit], bool]:
    """The credentials in a string value under `key`, and whether the value is one."""
    found = known_tokens(value, key)
    whole = len(found) == 1 and found[0].value == value
    if not found and key is not None:
        hit = name_hit(key, value)
        found = [hit] if hit else []
        whole = bool(found)
    return found, whole


def _literal_hits(node: Any, key: str | None, pos: Any, where: tuple[int, int]) -> list[PyHit]:
    """The hits in one string literal (`node`, at `pos`, written at `where`) under `key`."""
    value = node.evaluated_value
    if not isinstance(value, str) or "b" in node.prefix.lower():
        return []
    found, whole = _hits_in(value, key)
    if not found:
        return []
    plain = not node.prefix and "\\" not in node.value and "{" not in node.value and \
        "}" not in node.value
    # among other text in a literal with escapes, braces or a prefix, an f-string would have
    # to re-escape the rest: noted, left alone
    note = "" if whole or plain else "a string an f-string cannot rewrite (escapes or braces)"
    out = []
    for h in found:
        at = node.value.find(h.value)  # as written, if it is (else the whole literal)
        start, end = (where[0] + at, where[0] + at + len(h.value)) if at >= 0 else where
        out.append(PyHit(pos.line, pos.column, h.value, h.label, h.type_name,
                         key if whole and key else h.type_name, h.safe, whole, start, end,
                         h.prefix, note))
    return out


def _split_hits(node: Any, key: str | None, span: Any) -> list[PyHit]:
    """The credentials of an implicit concatenation (`"xoxb-..." "..."`) that no part holds
    alone (those are the parts' own hits): noted, written over the parts they span."""
    value = node.evaluated_value
    if not isinstance(value, str):
        return []
    found, _ = _hits_in(value, key)
    if not found:
        return []
    parts: list[tuple[int, Any]] = []  # (offset in the value, part)
    stack, offset = [node], 0
    while stack:
        item = stack.pop()
        if hasattr(item, "left"):
            stack += [item.right, item.left]
            continue
        parts.append((offset, item))
        text = getattr(item, "evaluated_value", None)
        offset += len(text) if isinstance(text, str) else 0
    out = []
    for h in found:
        inside = [p for at, p in parts if at < h.end and h.start < at + _length(p)]
        if len(inside) == 1 and h.safe:
            continue  # a part holds it: that literal's own hit
        start, end = span(inside[0])[0], span(inside[-1])[1]
        out.append(PyHit(0, 0, h.value, h.label, h.type_name, h.type_name, h.safe, False,
                         start, end, h.prefix, "a string in parts (an implicit concatenation)"))
    return out


def _length(part: Any) -> int:
    text = getattr(part, "evaluated_value", None)
    return len(text) if isinstance(text, str) else 0


def _comment_hits(source: str, starts: list[int]) -> list[PyHit]:
    """Known credentials in comments: noted (a comment cannot read the environment)."""
    if "#" not in source:
        return []
    import io
    import tokenize

    out = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT:
                continue
            base = starts[token.start[0] - 1] + token.start[1]
            for h in known_tokens(token.string):
                out.append(PyHit(token.start[0], token.start[1], h.value, h.label,
                                 h.type_name, h.type_name, h.safe, False, base + h.start,
                                 base + h.end, h.prefix, "a comment"))
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def environ_edits(hits: list[PyHit], names: Mapping[str, str]) -> tuple[ReplacePythonString, ...]:
    """The engine edits that move each hit's value to the environment variable of its NAME."""
    return tuple(ReplacePythonString(h.line, h.column, h.value, names[h.value]) for h in hits)
