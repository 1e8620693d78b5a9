"""A small JavaScript/TypeScript lexer for the deriver: blanks out comments (keeping line
breaks, so offsets and line numbers stay those of the file) and keeps string and template
literals as they are, so call sites can be searched in code only.

Regular-expression literals are recognised by the token before the `/` (an operator, a
bracket, a keyword): enough for the sources and bundles of actions, where a misread regex
would at worst blank part of one line.
"""

from __future__ import annotations

import re
from functools import lru_cache

_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = ("return", "typeof", "case", "do", "else", "in", "of", "void", "yield",
                   "await", "delete", "throw", "new")


def _regex_allowed(text: str, i: int) -> bool:
    """Whether the `/` at `i` starts a regex literal (judged by the code before it)."""
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j < 0 or text[j] in _REGEX_BEFORE:
        return True
    end = j + 1
    while j >= 0 and (text[j].isalnum() or text[j] in "_$"):
        j -= 1
    return text[j + 1:end] in _REGEX_KEYWORDS


_CODE_STOP = re.compile(r"[/'\"`{}]")
_TEMPLATE_STOP = re.compile(r"[\\`$]")
_STRING_END = {"'": re.compile(r"\\.|['\n]", re.S), '"': re.compile(r'\\.|["\n]', re.S)}


@lru_cache(maxsize=16)  # a file's text is read by several passes
def strip_comments(text: str, blank_strings: bool = False) -> str:
    """`text` with every comment replaced by spaces (line breaks kept); with `blank_strings`,
    the contents of string literals and of the text of template literals too (their quotes
    and `${...}` code kept), so that what is searched is code only.  Plain code is copied
    in runs up to the next character that may change the state."""

    def blank(part: str) -> str:
        if not blank_strings:
            return part
        return re.sub(r"[^\n]", " ", part)

    out: list[str] = []
    i, n = 0, len(text)
    braces: list[int] = []  # per open template: -1 in its text, else `{` depth inside `${`
    while i < n:
        if braces and braces[-1] < 0:  # the text of a template literal
            stop = _TEMPLATE_STOP.search(text, i)
            j = stop.start() if stop else n
            out.append(blank(text[i:j]))
            i = j
            if i >= n:
                break
            ch = text[i]
            if ch == "\\":
                out.append(blank(text[i:i + 2]))
                i += 2
            elif ch == "`":
                out.append(ch)
                braces.pop()
                i += 1
            elif text.startswith("${", i):
                out.append("${")
                braces[-1] = 0
                i += 2
            else:
                out.append(blank(ch))
                i += 1
            continue
        stop = _CODE_STOP.search(text, i)
        j = stop.start() if stop else n
        out.append(text[i:j])
        i = j
        if i >= n:
            break
        ch = text[i]
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif ch in "'\"":
            pattern = _STRING_END[ch]
            j = i + 1
            while True:
                found = pattern.search(text, j)
                if found is None:
                    j = n
                    break
                if found.group() in (ch, "\n"):
                    j = found.start()
                    break
                j = found.end()
            out.append(ch + blank(text[i + 1:j]) + text[j:j + 1])
            i = j + 1
        elif ch == "`":
            out.append(ch)
            braces.append(-1)
            i += 1
        elif ch == "{":
            if braces:
                braces[-1] += 1
            out.append(ch)
            i += 1
        elif ch == "}":
            out.append(ch)
            i += 1
            if braces:
                if braces[-1] == 0:
                    braces[-1] = -1  # closes a `${`: back to the template's text
                else:
                    braces[-1] -= 1
        elif ch == "/" and _regex_allowed(text, i):
            j, in_class = i + 1, False
            while j < n and text[j] != "\n":
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "[":
                    in_class = True
                elif text[j] == "]":
                    in_class = False
                elif text[j] == "/" and not in_class:
                    break
                j += 1
            if j < n and text[j] == "/":
                out.append(text[i:j + 1])
                i = j + 1
            else:
                out.append(ch)
                i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def line_of(text: str, offset: int) -> int:
    """1-based line number of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1
