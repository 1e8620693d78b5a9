"""The typed edit operations transforms return, and the data each one stands for.

A transform says *what* changes, never how the text looks: it yields `Fix`es whose operations
are `SetKey`, `RemoveKey` and `ReplaceValue` on YAML paths.  The engine renders each one as text
in the file's own style (`gha_fix.codemod.render`), splices it into the original text and
verifies (`gha_fix.codemod.verify`) that the re-parsed data is exactly `apply_to_data` of the
original — so an operation's meaning is its effect on the data, and its text is the engine's
business.

Common to every operation:

- `path` is a tuple of mapping keys (`str`) and sequence indexes (`int`) from the document root,
  e.g. `("jobs", "build", "steps", 0, "with")`; `()` is the root mapping.
- Values are plain Python data (`str`, `int`, `float`, `bool`, `None`, `dict`, `list`), with
  `Commented` anywhere a trailing comment should be written.  Strings are always written so
  they read back as strings (`"on"`, `"3.10"`, `"true"` get quotes).
- Nothing outside the operation's own splices moves: other keys, comments, blank lines,
  quoting, indentation, line endings, BOM and a missing final newline are kept byte for byte.
- An operation never edits a node reached through an anchor/alias (it would change every
  alias), never creates a missing parent, and never approximates: what cannot be rendered
  safely raises `EditError` with the reason, and the fix that holds it is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gha_fix.codemod.document import YamlPath


class EditError(Exception):
    """An operation that cannot be rendered safely; the message is the named reason."""


@dataclass(frozen=True)
class Commented:
    """A value written with a trailing comment; the comment is not part of the data.

    Fields:
      - `value`: the value (any value an operation takes, `Commented` ones included).
      - `comment`: the comment's text, without `# ` ("" for none).
      - `above`: comment lines written above the entry, each as written (`# to write the
        comment`), at the entry's indentation: the comments of an entry that moves here
        (`EntryComments` of the place it comes from).

    In block context the comment goes on the value's line (a mapping's or sequence's comment
    on its key's line) and the lines `above` before the key's line; in flow context (`{a: 1}`)
    both are dropped.  Replacing a scalar that already has a comment keeps the user's comment
    instead of adding this one.

    Example: `SetKey(("jobs", "a", "permissions"), "contents",
    Commented("write", "gh release create"))` writes `contents: write  # gh release create`.
    """

    value: Any
    comment: str
    above: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetKey:
    """Set `key` in the mapping at `path`: replace its value, or add the entry.

    Fields:
      - `path`: the mapping (an existing block or flow mapping, or a key with no value yet,
        `env:`, which becomes a block mapping).
      - `key`, `value`: the entry.
      - `after`, `before`: where a new entry goes: after the first key of `after` that
        exists, else before the first key of `before` that exists, else at the end.

    If `key` exists, this is `ReplaceValue((*path, key), value)` and `after`/`before` are
    ignored.  A new block entry is indented like its siblings, separated by a blank line if
    they are; in a flow mapping it is appended (`{A: 1, B: two}`) whatever `after` says.

    Never: reorders existing keys, creates `path` if it is missing (`no node at …`), or sets a
    key in a sequence or scalar (`… is not a mapping`).

    Example: `SetKey(("jobs", "build"), "permissions", {"contents": "read"},
    after=("runs-on",))`::

        jobs:                              jobs:
          build:                             build:
            runs-on: ubuntu-latest   ->        runs-on: ubuntu-latest
            steps: []                          permissions:
                                                 contents: read
                                               steps: []
    """

    path: YamlPath
    key: str
    value: Any
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveKey:
    """Remove the entry `key` from the mapping at `path`.

    Fields:
      - `path`: the mapping.
      - `key`: the key to remove; it must exist (`no key … at …`).

    In a block mapping the entry's whole lines go (its key line to the last line of its value,
    comments on those lines included), and with them the comment lines directly above it
    that describe it: no blank line between, indented at least as the key (a comment less
    indented belongs to what follows, a blank line ends the block); other blank lines stay.
    In a flow mapping the `key: value` text goes with one separating comma.  Removing the
    last key leaves an empty flow mapping (`permissions: {}`), never a key with no value.

    Never: removes the parent key, or an entry whose key shares its line with a sequence dash
    (`- key: value`; refused, since the dash would go with it).

    Example: `RemoveKey(("permissions",), "issues")`::

        permissions:                         permissions:
          contents: write  # release   ->      contents: write  # release
          # to label them
          issues: write
    """

    path: YamlPath
    key: str


@dataclass(frozen=True)
class ReplaceValue:
    """Replace the value at `path` (a mapping value or a sequence item).

    Fields:
      - `path`: the node; it must exist (`no node at …`).
      - `value`: the new value.

    How much text changes depends on what is there:

    - a block mapping replaced by a non-empty mapping is edited key by key: keys that keep
      their value keep their text and comments, dropped keys are removed as by `RemoveKey`,
      new keys are inserted after the key that precedes them in `value` (so the order of the
      surviving keys is the file's, not `value`'s); if no key survives, the block is rewritten;
    - a scalar replaced by a scalar keeps its quote style (`'Build'` → `'Build it'`) and its
      trailing comment; a block scalar (`|`, `>`) replaced by a non-empty string stays a
      literal block with the same indentation (and indentation indicator), its chomping
      indicator set to fit the value;
    - inside a flow collection, or a flow collection replaced by a collection: flow text;
    - anything else: the whole text after `key:` (a block collection, or a scalar).

    `above` (optional) replaces the comment lines directly above the key (as `RemoveKey`
    finds them) by these lines, each as written (`# x`): `()` removes them, when what they
    describe moves elsewhere with `Commented(above=...)`; None (the default) keeps them.

    Never: renames the key, or replaces a sequence item by a block collection (refused: the
    item has no `key:` to write it after).

    Example: `ReplaceValue(("permissions",), Commented("read-all", "nothing writes"))`::

        permissions: write-all   ->   permissions: read-all  # nothing writes
    """

    path: YamlPath
    value: Any
    above: tuple[str, ...] | None = None


Operation = SetKey | RemoveKey | ReplaceValue


def op_path(op: Operation) -> YamlPath:
    """The path of the node `op` changes (for `SetKey`/`RemoveKey`, the entry's own path)."""
    return (*op.path, op.key) if isinstance(op, SetKey | RemoveKey) else op.path


def plain(value: Any) -> Any:
    """The data a rendered value stands for (comments dropped)."""
    if isinstance(value, Commented):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# --- the expected data ----------------------------------------------------------------------
def apply_to_data(data: Any, op: Operation) -> Any:
    """`data` with `op` applied, copying only along the path (the original stays intact).

    This is what the verification expects the edited file to parse to."""
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


def format_path(path: YamlPath) -> str:
    """`jobs.build.steps.0` (for messages); `<root>` for the root."""
    return ".".join(str(p) for p in path) or "<root>"
