"""Edits of Python files (the scripts a workflow runs): typed operations, rendered and verified.

A transform says *what* changes: `ReplacePythonString` (in the string literal at line:column, the
credential VALUE becomes a read of the environment variable NAME).  This module decides how the
text looks, splices it into the file and verifies the result, as `verify.apply_fix` does for
workflows:

- rendering: a literal that is the credential becomes `os.environ["NAME"]`; a plain literal that
  holds it among other text becomes an f-string (`f"token {os.environ['NAME']}"`); parentheses
  around the literal go with it.  `import os` is added (after the docstring and the
  `from __future__` imports) when the module does not import os.  All other text stays
  byte-exact: only those spans are spliced.
- verification: the new text parses (libcst) and compiles if the old one did; each replaced
  literal is now an expression that reads exactly the intended variables in place of exactly the
  intended values (nothing else of its text changed); and with those expressions put back to the
  original literals and the added `import os` removed, the syntax tree (comments and whitespace
  included) equals the original one.

libcst (a fifth of a second to import) is imported only when a file has an edit.  No error
message holds a value.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.operations import EditError

if TYPE_CHECKING:
    import libcst as cst

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class ReplacePythonString:
    """In the string literal that starts at `line`:`column` (libcst's position: 1-based line,
    0-based column, without the literal's parentheses), replace the credential `value` by a read
    of the environment variable `name`.  Edits of one literal are rendered together."""

    line: int
    column: int
    value: str = field(repr=False)  # never shown: it is a credential
    name: str = ""


PythonEdit = ReplacePythonString  # the one kind of Python edit, so far


@dataclass
class _Target:
    """One literal to replace: its node, its span in the old text and the rendered text."""

    node: Any  # libcst.SimpleString
    start: int
    end: int
    text: str
    pairs: dict[str, str]  # value → NAME, in the order the edits gave them
    node_line: int = 0  # where the literal starts, in the old text
    new_start: int = 0
    new_end: int = 0


def apply_python_fixes(source: str, fixes: Sequence[Sequence[PythonEdit]], path: str
                       ) -> tuple[str, dict[int, str]]:
    """Apply the edits of every fix; returns the new text and the reasons of the dropped fixes
    (by index).  All at once first; if that fails, fix by fix on top of those that passed, so a
    bad fix is dropped alone (as `runner.apply_fixes` does for workflows)."""
    if len(fixes) > 1:
        try:
            return apply_python_edits(source, [e for fix in fixes for e in fix], path), {}
        except EditError:
            pass
    new, kept = source, []
    failed: dict[int, str] = {}
    for index, fix in enumerate(fixes):
        try:
            new = apply_python_edits(source, [*kept, *fix], path)
            kept += fix
        except EditError as exc:
            failed[index] = str(exc)
    return new, failed


def apply_python_edits(source: str, edits: Sequence[PythonEdit], path: str = "<script>") -> str:
    """`source` with `edits` rendered, spliced and verified, or EditError with the reason."""
    if not edits:
        return source
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    from libcst.metadata import WhitespaceInclusivePositionProvider as LinesIncluded

    try:
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    except cst.ParserSyntaxError:
        raise EditError(f"{path} does not parse") from None
    module = wrapper.module
    positions = wrapper.resolve(PositionProvider)
    starts = _line_starts(source)

    def offset(position: Any) -> int:
        return starts[position.line - 1] + position.column

    literals = {(r.start.line, r.start.column): node for node, r in positions.items()
                if isinstance(node, cst.SimpleString)}
    grouped: dict[tuple[int, int], dict[str, str]] = {}
    for edit in edits:
        if not _NAME.match(edit.name):
            raise EditError(f"{path}:{edit.line}: {edit.name!r} is not a variable name")
        grouped.setdefault((edit.line, edit.column), {}).setdefault(edit.value, edit.name)
    targets: list[_Target] = []
    for (line, column), pairs in grouped.items():
        node = literals.get((line, column))
        if node is None:
            raise EditError(f"{path}:{line}: no string literal at column {column}")
        first, last = (node.lpar[0], node.rpar[-1]) if node.lpar else (node, node)
        targets.append(_Target(node, offset(positions[first].start), offset(positions[last].end),
                               _render(node, pairs, f"{path}:{line}"), pairs, line))
    splices = [(t.start, t.end, t.text) for t in targets]
    added = None
    if not _imports_os(module):
        added = _import_position(module, {id(t.node) for t in targets})
        if added is None:
            raise EditError(f"{path}: no statement to put `import os` before")
        index, spacing = added
        following = module.body[index]
        line = wrapper.resolve(LinesIncluded)[following].start.line + len(
            following.leading_lines)
        newline = module.default_newline
        splices.append((starts[line - 1], starts[line - 1],
                        f"import os{newline}{newline if spacing else ''}"))
    new = _splice(source, splices, targets)
    _verify(source, module, new, targets, added, path)
    return new


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def _render(node: cst.SimpleString, pairs: dict[str, str], where: str) -> str:
    """The expression that replaces `node`: `os.environ["NAME"]` for a literal that is the
    credential, else an f-string of its text with each value replaced by a read."""
    value = node.evaluated_value
    if not isinstance(value, str):
        raise EditError(f"{where}: not a text string literal")
    if len(pairs) == 1 and value in pairs:
        return f'os.environ["{pairs[value]}"]'
    if node.prefix or "\\" in node.value or "{" in node.value or "}" in node.value:
        raise EditError(f"{where}: not a plain string literal (an f-string would change its text)")
    quote = node.quote
    inner = node.value[len(quote) : -len(quote)]
    other = "'" if quote[0] == '"' else '"'
    for secret, name in pairs.items():
        if secret not in inner:
            raise EditError(f"{where}: the literal does not hold the value to replace")
        inner = inner.replace(secret, f"{{os.environ[{other}{name}{other}]}}")
    return f"f{quote}{inner}{quote}"


def _imports_os(module: cst.Module) -> bool:
    import libcst as cst

    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                    isinstance(a.name, cst.Name) and a.name.value == "os" and a.asname is None
                    for a in small.names
                ):
                    return True
    return False


def _import_position(module: cst.Module, replaced: set[int]) -> tuple[int, bool] | None:
    """Where `import os` goes: before the first statement that is neither the docstring (one
    that stays a docstring) nor a `from __future__` import; and whether a blank line must
    separate it from that statement (not from another import)."""
    import libcst as cst

    for index, statement in enumerate(module.body):
        first = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        docstring = index == 0 and isinstance(first, cst.Expr) and isinstance(
            first.value, cst.SimpleString) and id(first.value) not in replaced
        future = isinstance(first, cst.ImportFrom) and isinstance(first.module, cst.Name) and \
            first.module.value == "__future__"
        if not docstring and not future:
            return index, not isinstance(first, cst.Import | cst.ImportFrom)
    return None


def _splice(text: str, splices: list[tuple[int, int, str]], targets: list[_Target]) -> str:
    """`text` with the spans replaced; records where each target's new text lands."""
    out: list[str] = []
    pos = shift = 0
    where = {t.start: t for t in targets}
    for start, end, new in sorted(splices, key=lambda s: (s[0], s[1])):
        if start < pos:
            raise EditError("overlapping edits")
        out += [text[pos:start], new]
        target = where.get(start) if end > start else None
        if target is not None:
            target.new_start, target.new_end = start + shift, start + shift + len(new)
        shift += len(new) - (end - start)
        pos = end
    return "".join(out) + text[pos:]


def _verify(source: str, old: cst.Module, new: str, targets: list[_Target],
            added: tuple[int, bool] | None, path: str) -> None:
    """EditError unless `new` is `old` with exactly the intended replacements (and import)."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    try:
        edited = MetadataWrapper(cst.parse_module(new), unsafe_skip_copy=True)
    except cst.ParserSyntaxError:
        raise EditError(f"{path}: the edited file does not parse") from None
    if not _compiles(new, path) and _compiles(source, path):
        raise EditError(f"{path}: the edited file does not compile")
    starts = _line_starts(new)

    def position(offset: int) -> tuple[int, int]:
        line = bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line]

    pending = {(*position(t.new_start), *position(t.new_end)): t for t in targets}
    undone = edited.visit(_undo(pending, path))
    if pending:
        raise EditError(f"{path}: verification failed: a replaced literal is not where expected")
    if added is not None:
        undone = _without_import(undone, *added, path)
    if not undone.deep_equals(old):
        raise EditError(f"{path}: verification failed: the edit changes more than the literals")


def _compiles(text: str, path: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: not ours to report
            compile(text, path, "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _without_import(module: cst.Module, index: int, spacing: bool, path: str) -> cst.Module:
    """`module` without the `import os` added before statement `index` (which gave it its
    leading lines and took `spacing`)."""
    import libcst as cst

    body = list(module.body)
    if index + 1 >= len(body):
        raise EditError(f"{path}: verification failed: `import os` is not where expected")
    added, following = body[index], body[index + 1]
    alone = module.code_for_node(added.with_changes(leading_lines=()))
    expected = (cst.EmptyLine(),) if spacing else ()
    lines = following.leading_lines
    if alone != f"import os{module.default_newline}" or len(lines) != len(expected) or not all(
            a.deep_equals(b) for a, b in zip(lines, expected)):
        raise EditError(f"{path}: verification failed: `import os` is not as intended")
    body[index:index + 2] = [following.with_changes(leading_lines=added.leading_lines)]
    return module.with_changes(body=body)


def _environ_name(node: Any) -> str | None:
    """NAME, if `node` is exactly `os.environ["NAME"]` (any quotes)."""
    import libcst as cst

    if not isinstance(node, cst.Subscript) or node.lpar or len(node.slice) != 1:
        return None
    attr, index = node.value, node.slice[0].slice
    if not (isinstance(attr, cst.Attribute) and isinstance(attr.value, cst.Name)
            and attr.value.value == "os" and attr.attr.value == "environ"
            and isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString)):
        return None
    name = index.value.evaluated_value
    return name if isinstance(name, str) else None


def _reads(node: Any, target: _Target) -> bool:
    """Whether `node` (the new expression) is the intended replacement of `target`: reads of
    exactly the intended variables, in place of exactly the intended values."""
    import libcst as cst

    values = {name: value for value, name in target.pairs.items()}
    original = target.node.evaluated_value
    if isinstance(node, cst.Subscript):
        return list(target.pairs.items()) == [(original, _environ_name(node))]
    if not isinstance(node, cst.FormattedString) or node.lpar or node.prefix != "f":
        return False
    text, used = [], set()
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            if any(c in part.value for c in "{}\\") or any(v in part.value for v in target.pairs):
                return False
            text.append(part.value)
            continue
        name = _environ_name(part.expression)
        if name not in values or part.conversion or part.format_spec or part.equal:
            return False
        text.append(values[name])
        used.add(name)
    return used == set(values) and "".join(text) == original


def _undo(pending: dict[tuple[int, ...], _Target], path: str) -> cst.CSTTransformer:
    """A transformer that puts the original literal back in place of each replacement that is
    as intended (found by its span in the new text), and fails on one that is not."""
    import libcst as cst
    from libcst.metadata import PositionProvider

    class Undo(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def on_leave(self, original: Any, updated: Any) -> Any:
            if not isinstance(original, cst.BaseExpression):
                return updated
            r = self.get_metadata(PositionProvider, original, None)
            key = (r.start.line, r.start.column, r.end.line, r.end.column) if r else None
            target = pending.get(key) if key else None
            if target is None:
                return updated
            if not _reads(original, target):
                raise EditError(f"{path}: verification failed: the expression that replaces "
                                f"the literal at line {target.node_line} is not the intended one")
            del pending[key]
            return target.node

    return Undo()
