"""A small JavaScript/TypeScript lexer for the deriver: blanks out comments (keeping line
breaks, so offsets and line numbers stay those of the file) and keeps string and template
literals as they are, so call sites can be searched in code only.

Regular-expression literals are recognised by the token before the `/` (an operator, a
bracket, a keyword): enough for the sources and bundles of actions, where a misread regex
would at worst blank part of one line.
"""

from __future__ import annotations

_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = ("return", "typeof", "case", "do", "else", "in", "of", "void", "yield",
                   "await", "delete", "throw", "new")


def _regex_allowed(out: list[str]) -> bool:
    """Whether a `/` here starts a regex literal (judged by the code before it)."""
    i = len(out) - 1
    while i >= 0 and out[i] in " \t\r\n":
        i -= 1
    if i < 0:
        return True
    if out[i] in _REGEX_BEFORE:
        return True
    end = i + 1
    while i >= 0 and (out[i].isalnum() or out[i] in "_$"):
        i -= 1
    return "".join(out[i + 1:end]) in _REGEX_KEYWORDS


def strip_comments(text: str, blank_strings: bool = False) -> str:
    """`text` with every comment replaced by spaces (line breaks kept); with `blank_strings`,
    the contents of string literals and of the text of template literals too (their quotes
    and `${...}` code kept), so that what is searched is code only."""

    def blank(part: str) -> str:
        return "".join(c if c == "\n" else " " for c in part) if blank_strings else part

    out: list[str] = []
    i, n = 0, len(text)
    braces: list[int] = []  # depth of `{` inside each open `${` of a template literal
    in_template = 0  # how many template literals are open
    while i < n:
        ch = text[i]
        if in_template and (not braces or braces[-1] < 0):
            # inside the text of a template literal
            if ch == "\\":
                out.append(blank(text[i:i + 2]))
                i += 2
                continue
            if ch == "`":
                out.append(ch)
                in_template -= 1
                if braces and braces[-1] < 0:
                    braces.pop()
                i += 1
                continue
            if ch == "$" and text.startswith("${", i):
                out.append("${")
                if braces and braces[-1] < 0:
                    braces[-1] = 0
                else:
                    braces.append(0)
                i += 2
                continue
            out.append(blank(ch))
            i += 1
            continue
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("".join(c if c == "\n" else " " for c in text[i:end]))
            i = end
            continue
        if ch in "'\"":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(ch + blank(text[i + 1:j]) + text[j:j + 1])
            i = j + 1
            continue
        if ch == "`":
            out.append(ch)
            in_template += 1
            braces.append(-1)  # -1: in the template's text, not in a `${`
            i += 1
            continue
        if braces and ch == "{":
            braces[-1] += 1
        elif braces and ch == "}":
            if braces[-1] == 0:  # closes a `${`: back to the template's text
                braces[-1] = -1
                out.append(ch)
                i += 1
                continue
            braces[-1] -= 1
        if ch == "/" and _regex_allowed(out):
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
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def line_of(text: str, offset: int) -> int:
    """1-based line number of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1
