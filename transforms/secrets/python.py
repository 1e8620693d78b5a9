"""Python (scripts a workflow runs, and `shell: python` steps): the credentials in string literals
and the edits that move them to environment variables.

Finding is libcst (a read-only visit: the key a literal is assigned to, passed as or stored
under names it); rewriting is the engine's (`codemod/python_edit.py`): this module only says
which literal holds which value and what NAME it gets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gha_fix.codemod.python_edit import ReplacePythonString
from gha_fix.transforms.secrets.detect import known_tokens, name_based, name_hit


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


# libcst only sees a file where a secret-sounding name meets a literal that may be a credential
_PY_SECRET_WORD = re.compile(r"(?i)token|secret|password|passwd|api_?key|access_?key")
_PY_LITERAL = re.compile(r"""(['"])([^'"\s]+)\1""")
_PY_WORD = re.compile(r"[A-Za-z_]\w*")
_PY_DICT_KEY = re.compile(r"""(['"])(\w+)\1\s*:""")


def worth_parsing(source: str) -> bool:
    """A known token, or a line where a secret-sounding name meets a literal (on that line or
    the next, for wrapped calls) that the name rule would call a credential."""
    if known_tokens(source):
        return True
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
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return []
    hits: list[PyHit] = []

    class Finder(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.key: list[str | None] = [None]

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

        def leave_SimpleString(self, node: cst.SimpleString) -> None:
            hits.extend(_literal_hits(node, self.key[-1],
                                      self.get_metadata(PositionProvider, node).start))

    wrapper.visit(Finder())
    return hits


def _literal_hits(node: Any, key: str | None, pos: Any) -> list[PyHit]:
    """The hits in one string literal (`node`, at `pos`) under `key`."""
    value = node.evaluated_value
    if not isinstance(value, str) or "b" in node.prefix.lower():
        return []
    found = known_tokens(value, key)
    whole = len(found) == 1 and found[0].value == value
    if not found and key is not None:
        hit = name_hit(key, value)
        found = [hit] if hit else []
        whole = bool(found)
    if not found:
        return []
    plain = not node.prefix and "\\" not in node.value and "{" not in node.value and \
        "}" not in node.value
    if not whole and not plain:
        return []  # an f-string would have to re-escape the rest: left alone
    return [PyHit(pos.line, pos.column, h.value, h.label, h.type_name,
                  key if whole and key else h.type_name, h.safe, whole) for h in found]


def environ_edits(hits: list[PyHit], names: Mapping[str, str]) -> tuple[ReplacePythonString, ...]:
    """The engine edits that move each hit's value to the environment variable of its NAME."""
    return tuple(ReplacePythonString(h.line, h.column, h.value, names[h.value]) for h in hits)
