"""Masking credentials in every output: by where they are written (spans), not by their text.

A transform reports each credential's `Span` (offsets into the file as read).  From a file's
spans, a `Masker` renders:

- the file's own lines with the span characters masked (`masked_lines`: the old side of a diff,
  its context lines), whatever the form of the value there (a block scalar's lines, `\\x49`
  escapes, a string split over lines or in parts);
- any other text with each credential masked wherever its text turns up (`text`): the decoded
  value, each line of it, and each line of the span's text as written in the file (a line of a
  new file that repeats it, a message, a SARIF replacement, a commit message).

Structured outputs are masked before they are serialised (`tree`): JSON escaping of `\\`, `"` or
non-ASCII characters would otherwise hide a value from a mask applied afterwards.  URLs lose their
`user:password@` part in every message (`redact_urls`).

A mask shows at most a known token type's prefix (shorter than 8 characters, such as `ghp_`):
never a character of a name-based secret, never a length.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

from gha_fix.codemod.model import FileResult, RepoResult, Span

MIN_FORM = 6  # shorter pieces of a credential's text are not searched for in other text
MAX_PREFIX = 7  # a mask never shows 8 characters of a value
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@")


def label(prefix: str = "") -> str:
    """How a masked credential is shown: `ghp_…(masked)`, or `…(masked)`."""
    return f"{prefix if len(prefix) <= MAX_PREFIX else ''}…(masked)"


def mask(value: str, prefix: str = "") -> str:
    """How a credential is shown when only its value is known: its known token type's short
    `prefix` at most, never a character of the value otherwise, never its length."""
    return label(prefix if value.startswith(prefix) else "")


def redact_urls(text: str) -> str:
    """`https://user:token@host/x` → `https://***@host/x` (any scheme)."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_USERINFO.sub(r"\1***@", text)


class Masker:
    """The credentials of some files: their spans in one file's text (`original`, for
    `masked_lines`) and the text forms of all of them (for `text`)."""

    def __init__(self, original: str = "", spans: Iterable[Span] = (),
                 values: Iterable[str] = (), forms: dict[str, str] | None = None) -> None:
        self.original = original
        self.spans = sorted({s for s in spans if 0 <= s.start < s.end <= len(original)},
                            key=lambda s: (s.start, -s.end))
        prefixes = sorted({s.prefix for s in self.spans if s.prefix}, key=len, reverse=True)
        self.forms: dict[str, str] = dict(forms or {})  # text → its mask
        for span in self.spans:
            for piece in _pieces(original[span.start : span.end]):
                self.forms.setdefault(piece, label(span.prefix))
        for value in values:
            if not value:
                continue
            prefix = next((p for p in prefixes if value.startswith(p)), "")
            for piece in [value, *_pieces(value)]:
                if len(piece) >= MIN_FORM or piece == value:
                    self.forms.setdefault(piece, label(prefix))
        self._regex: re.Pattern[str] | None = None

    @classmethod
    def of_file(cls, file: FileResult) -> Masker:
        return cls(file.original, file.spans, file.secrets)

    @classmethod
    def of_results(cls, results: Sequence[RepoResult]) -> Masker:
        """The text forms of every credential of every file (for messages and reports)."""
        forms: dict[str, str] = {}
        for repo in results:
            for file in repo.files:
                if file.spans or file.secrets:
                    forms.update(cls.of_file(file).forms)
        return cls(forms=forms)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def text(self, text: str, urls: bool = True) -> str:
        """`text` with every credential form masked, and (`urls`) URL user info removed (not
        in a file's lines: a credential written in a URL there is one of the spans)."""
        if self.forms:
            if self._regex is None:
                ordered = sorted(self.forms, key=len, reverse=True)
                self._regex = re.compile("|".join(map(re.escape, ordered)))
            text = self._regex.sub(lambda m: self.forms[m.group()], text)
        return redact_urls(text) if urls else text

    def masked_lines(self) -> list[str]:
        """`original`'s lines (ends kept) with the characters of every span masked: each
        line's masked run becomes one mask (its leading blanks kept); the rest by `text`'s
        forms only (a line may repeat a value elsewhere in the file)."""
        lines = self.original.splitlines(keepends=True)
        if not self.spans:
            return [self._forms_only(line) for line in lines] if self.forms else lines
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line))
        covered: dict[int, list[tuple[int, int, str]]] = {}
        for span in self.spans:
            first = bisect_right(starts, span.start) - 1
            last = bisect_right(starts, span.end - 1) - 1
            for index in range(first, last + 1):
                body = len(lines[index].rstrip("\r\n"))
                lo = max(span.start - starts[index], 0)
                hi = min(span.end - starts[index], body)
                if index > first:  # a continuation line: keep its indentation
                    text = lines[index]
                    lo = max(lo, len(text) - len(text.lstrip(" \t")))
                if lo < hi:
                    covered.setdefault(index, []).append((lo, hi, label(span.prefix)))
        out = []
        for index, line in enumerate(lines):
            runs = covered.get(index)
            if not runs:
                out.append(self._forms_only(line))
                continue
            pieces, pos = [], 0
            for lo, hi, mask in sorted(runs):
                if hi <= pos:
                    continue
                if lo >= pos:
                    pieces += [line[pos:lo], mask]
                pos = hi
            out.append("".join(pieces) + line[pos:])
        return out

    def _forms_only(self, line: str) -> str:
        return self.text(line, urls=False) if self.forms else line

    def tree(self, data: Any) -> Any:
        """`data` (JSON-like) with every string masked, before it is serialised."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {key: self.tree(value) for key, value in data.items()}
        if isinstance(data, list | tuple):
            return [self.tree(value) for value in data]
        return data


def _pieces(text: str) -> list[str]:
    """The lines of a credential's text, without their indentation, long enough to search."""
    return [p for p in (line.strip() for line in text.splitlines()) if len(p) >= MIN_FORM]
