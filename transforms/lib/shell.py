"""One reader of the shell scripts in workflows (`run:`), shared by the transforms.

It is not a shell: it finds the *simple commands* of a script, each as its words, well enough to
tell which programs a script runs and with which first argument.  Public API:

- `script_lines(script)`: the script's lines, continuations joined, comment lines dropped,
  `${{ x }}` written without spaces (a URL holding one stays one word);
- `split_commands(line)`: the simple commands of one line (quotes honoured and removed,
  `$(...)` and backticks read as commands of their own, redirections dropped), and what the
  line leaves open for the next ones ("array", "quote" or "");
- `simple_commands(lines)`: every simple command of a script's lines, skipping heredocs that
  are data, arrays over several lines and `case` patterns; quotes over several lines joined;
- `commands(script)`: `simple_commands(script_lines(script))` as a list;
- `command_words(lines, wrappers)`: (command, first argument) of each simple command, through
  wrappers (`sudo make` is make) and `find -exec`; `command_tokens`: all their words;
- `first_command_words(command)`: the words of the first command of a text (shlex, with a
  fallback to splitting on spaces);
- `program_words(script)`: each simple command's words without its leading variable
  assignments and shell keywords (`if`, `then`, `!` ...): what it runs;
- `quote_states(script, shell)`: for each character, the quotes it stands in (bash/sh or
  pwsh), for writing a variable reference there.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import lru_cache

from gha_fix.transforms.lib.workflow import EXPRESSION


def commands(script: str) -> list[list[str]]:
    """The simple commands of a whole script, each as its words."""
    return list(simple_commands(script_lines(script)))


def script_lines(script: str) -> list[str]:
    """Script lines with continuations joined, comment lines dropped and `${{ x }}`
    written without spaces (so that a URL or a path holding one stays one word)."""
    joined = re.sub(r"\\\r?\n", " ", script)
    joined = EXPRESSION.sub(lambda m: "${{" + m.group(1).strip().replace(" ", "") + "}}", joined)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_SHELL = re.compile(r"(?:\S*/)?(?:ba|z|da|k)?sh\b")  # bash <<EOF: the body is commands
_TO_SHELL = re.compile(r"\|\s*(?:\S*/)?(?:ba|z|da|k)?sh\b")  # cat <<EOF | sh
_DURATION = re.compile(r"\d+(?:\.\d+)?[smhd]?")  # timeout 60 x, nice 10 x
_EXEC_FLAGS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def command_words(lines: list[str], wrappers: frozenset[str] = frozenset()
                  ) -> list[tuple[str, str]]:
    """(command, first argument) of every simple command in the script's lines: the command a
    wrapper runs (`sudo make` is make), the one `find -exec` runs, and no lines of a heredoc
    that is data (`cat <<EOF`; one fed to a shell is read as commands), of an array, or of a
    quoted string that goes on over several lines (`jq -r '` ... `'`)."""
    return [w for tokens in command_tokens(lines, wrappers) for w in _first_words(tokens)]


def command_tokens(lines: list[str], wrappers: frozenset[str] = frozenset()
                   ) -> list[list[str]]:
    """The words of every simple command that `command_words` reads, from the command on
    (assignments and wrappers dropped); `find -exec`'s command is one of its own."""
    found: list[list[str]] = []
    for tokens in simple_commands(lines):
        tokens = [t for t in tokens if not _ASSIGNMENT.match(t)]
        while tokens and tokens[0] in wrappers:
            tokens = tokens[1:]
            while tokens and (tokens[0].startswith("-") or _DURATION.fullmatch(tokens[0])):
                tokens = tokens[1:]
        if tokens and tokens[0] == "find":
            for flag in _EXEC_FLAGS & set(tokens):
                found.append(tokens[tokens.index(flag) + 1:])
        found.append(tokens)
    return found


# where a `case` pattern may stand next: after `case WORD in`, or after a branch's `;;`
# (`;&`, `;;&`); a pattern is words (quoted or not, globs) joined by `|`, closed by `)`
_PATTERN_NEXT = re.compile(r"(?:^|(?<=[\s;&|]))case\s+\S.*?\sin(?=\s|$)|;;&?|;&")
_PATTERN_WORD = r"""(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s()'"|;&])+"""
_CASE_PATTERN = re.compile(rf"\s*\(?\s*{_PATTERN_WORD}(?:\s*\|\s*{_PATTERN_WORD})*\s*\)")
_ESAC = re.compile(r"\s*esac\b")
_MAX_QUOTED_LINES = 200  # a string longer than this is taken for a misread quote


def simple_commands(lines: list[str]) -> Iterator[list[str]]:
    """The simple commands of a script's lines (see `command_words`)."""
    ending: str | None = None  # the terminator of the heredoc being skipped
    in_array = False  # inside `args=(` ... `)` over several lines
    pattern_next = False  # the next line may start with a `case` pattern (`push)`)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if ending is not None:
            ending = None if line == ending else ending
            continue
        if in_array:
            in_array = ")" not in line
            continue
        # `a ||` / `a &&` / `a |` at the end of a line: the command goes on on the next one
        while line.endswith(("&&", "||", "|")) and index < len(lines):
            line, index = f"{line} {lines[index]}", index + 1
        if pattern_next or "case" in line or ";" in line:
            line, pattern_next = without_case_patterns(line, pattern_next)
        heredoc = _HEREDOC.search(line)
        if heredoc and not _SHELL.match(line[: heredoc.start()].split("|")[-1].strip()) and (
                not _TO_SHELL.search(line, heredoc.end())):
            ending = heredoc.group(2)
        commands, left_open = split_commands(line)
        # a quote that goes on: read on until it closes (if it never does, it was misread,
        # and the lines are read one by one after all)
        end = index
        while left_open == "quote" and end < min(len(lines), index + _MAX_QUOTED_LINES):
            end += 1
            commands, left_open = split_commands("\n".join(lines[index - 1:end]))
        if left_open != "quote":
            index = end
        else:
            commands, left_open = split_commands(line)
        in_array = left_open == "array"
        yield from commands


def without_case_patterns(line: str, pattern_next: bool) -> tuple[str, bool]:
    """`line` without the `case` patterns in it (`"success")`, `*)`, `a|b)`: they are not
    commands), and whether the next line may start with one.  A pattern is looked for only
    where one may stand: at the start of the line when `pattern_next`, after `case X in`
    and after a branch's `;;`, so a subshell `(cd x && make)` inside a branch stays."""
    out: list[str] = []
    rest = line
    while True:
        if pattern_next and rest.strip():
            pattern = _CASE_PATTERN.match(rest)
            if pattern is not None and not _ESAC.match(rest):
                rest = ";" + rest[pattern.end():]  # what follows is a new command
            pattern_next = False
        opener = _PATTERN_NEXT.search(rest)
        if opener is None:
            out.append(rest)
            return "".join(out), pattern_next
        out.append(rest[:opener.end()])
        rest = rest[opener.end():]
        pattern_next = True


_LEX = re.compile(r"""
    (?P<space>\s+)
  | (?P<single>'[^']*'?)
  | (?P<double>"(?:[^"\\$`]|\\.|\$(?!\())*")
  | (?P<dquote>")
  | (?P<arith>\$\(\()
  | (?P<subst>\$\(|`)
  | (?P<param>\$\{\{.*?\}\}|\$\{[^}]*\}?)
  | (?P<redirect>&>>?|\d*[<>]+(?:&-|&\d+)?)
  | (?P<op>&&|\|\||[;|&()])
  | (?P<hash>\#)
  | (?P<text>(?:\\.|[^\s'"\\$`;|&()<>\#])(?:\\.|[^\s'"\\$`;|&()<>])*|[$\\])
""", re.VERBOSE)
_ESCAPE = re.compile(r"\\(.)")
_IN_DOUBLE = re.compile(r'"|\\.|\$\(\(|\$\(|`', re.DOTALL)  # what ends plain text in "..."
_SPECIAL = re.compile(r"[\"'`$\\(){}<>#&|;]")  # a line without these is words and spaces


def _substitution(text: str, start: int, closing: str) -> tuple[str, int]:
    """The command of `$(...)` (closing `)`, nested ones counted) or of a backtick pair that
    opens before `start`, and where it ends."""
    depth, end = 1, start
    while end < len(text) and depth:
        if closing == ")" and text[end] == "(":
            depth += 1
        elif text[end] == closing:
            depth -= 1
        end += 1
    return text[start:end - 1] if not depth else text[start:end], end


def _double_quoted(line: str, start: int) -> tuple[str, list[str], int]:
    """The text of a double-quoted string whose quote opens before `start`, the commands of
    its `$(...)` and backticks (they may hold quotes of their own), and where it ends (-1:
    it does not end on this line)."""
    out: list[str] = []
    subs: list[str] = []
    i = start
    while (stop := _IN_DOUBLE.search(line, i)) is not None:
        out.append(line[i:stop.start()])
        mark, i = stop.group(), stop.end()
        if mark == '"':
            return "".join(out), subs, i
        if mark.startswith("\\"):
            out.append(mark[1:])
        elif mark == "$((":
            j = line.find("))", i)
            j = len(line) if j < 0 else j + 2
            out.append(line[i - 3:j])
            i = j
        else:  # $( or `
            inner, j = _substitution(line, i, ")" if mark == "$(" else "`")
            subs.append(inner)
            out.append(line[stop.start():j])
            i = j
    return "".join(out), subs, -1


def split_commands(line: str) -> tuple[list[list[str]], str]:
    """The simple commands of one script line, each as its words, and what the line leaves
    open for the next ones: "array" (`args=(`), "quote" (a quoted string goes on), or "".

    Quotes are honoured (a `|` or a space in quotes is text) and removed; `$(...)` and
    backticks are commands of their own, in double quotes too; `${...}`, `${{ }}` and
    `$((...))` stay in their word; a redirection and its target are dropped; `#` at the start
    of a word starts a comment."""
    commands, rest = _split_commands(line)
    return [list(words) for words in commands], rest


@lru_cache(maxsize=16384)  # the same lines come back: a script run by many steps, recipes
def _split_commands(line: str) -> tuple[tuple[tuple[str, ...], ...], str]:
    commands, rest = _split(line)
    return tuple(tuple(words) for words in commands), rest


def _split(line: str) -> tuple[list[list[str]], str]:
    if not _SPECIAL.search(line):  # most lines: one command, words split on spaces
        plain = line.split()
        return ([plain] if plain else []), ""
    commands: list[list[str]] = []
    words: list[str] = []
    word: list[str] = []
    in_word = skip = False
    pos, n = 0, len(line)
    while pos < n:
        match = _LEX.match(line, pos)
        if match is None:  # cannot happen: every character is some token; be safe
            word.append(line[pos])
            pos, in_word = pos + 1, True
            continue
        kind, text, pos = match.lastgroup, match.group(), match.end()
        if kind in ("space", "op", "redirect", "hash") and not (kind == "hash" and in_word):
            if kind == "redirect" and "".join(word).isdigit():
                word.clear()  # the 2 of 2>/dev/null belongs to the redirection
                in_word = False
            if in_word:
                if skip:
                    skip = False  # a redirection's target
                else:
                    words.append("".join(word))
                word.clear()
                in_word = False
            if kind == "hash":
                break  # a comment
            if kind == "redirect":
                skip = not text.endswith(("-",)) and not text[-1:].isdigit()
            elif kind == "op":
                skip = False  # `<(cmd)`: a command, not a redirection target
                if words.count("[[") > words.count("]]") and text in ("&&", "||", "(", ")"):
                    continue  # inside a [[ test ]]: operators of the test, not commands
                if words:
                    commands.append(words)
                words = []
            continue
        if kind == "arith":  # $(( ... )): its end counted by parentheses; $(cmd) inside run
            body, pos = _substitution(line, match.start() + 3, ")")
            pos = pos + 1 if line.startswith(")", pos) else pos
            for opener in re.finditer(r"\$\((?!\()", body):
                commands.extend(split_commands(_substitution(body, opener.end(), ")")[0])[0])
            word.append(line[match.start():pos])
            in_word = True
        elif kind == "subst":
            inner, pos = _substitution(line, pos, ")" if text == "$(" else "`")
            commands.extend(split_commands(inner)[0])
            word.append("$(…)")
            in_word = True
        elif kind == "single":
            if len(text) == 1 or not text.endswith("'"):
                return _with_partial(commands, words, word, in_word), "quote"
            word.append(text[1:-1])
            in_word = True
        elif kind == "double":  # no command inside: the common case, all in the regex
            inner = text[1:-1]
            word.append(_ESCAPE.sub(r"\1", inner) if "\\" in inner else inner)
            in_word = True
        elif kind == "dquote":  # holds $(...) or backticks (with quotes of their own)
            inner, subs, pos = _double_quoted(line, pos)
            if pos < 0:
                return _with_partial(commands, words, word, in_word), "quote"
            for sub in subs:
                commands.extend(split_commands(sub)[0])
            word.append(inner)
            in_word = True
        else:  # text, param
            if kind == "text" and text.startswith("\\") and len(text) > 1:
                text = _ESCAPE.sub(r"\1", text)
            word.append(text)
            in_word = True
            if word[-1].endswith("=") and line.startswith("(", pos):  # an array: data
                j = line.find(")", pos)
                if j < 0:
                    if words or word:
                        commands.append([*words, "".join(word)])
                    return commands, "array"
                word.append(line[pos:j + 1])
                pos = j + 1
    if in_word and not skip:
        words.append("".join(word))
    if words:
        commands.append(words)
    return commands, ""


def _with_partial(commands: list[list[str]], words: list[str], word: list[str], in_word: bool
                  ) -> list[list[str]]:
    """`commands` and the command a quote left open cut short (`make it's`: make still runs)."""
    partial = [*words, "".join(word)] if in_word else list(words)
    return [*commands, partial] if partial else commands


def _first_words(tokens: list[str]) -> list[tuple[str, str]]:
    if not tokens or not tokens[0] or tokens[0].startswith("#"):
        return []
    return [(tokens[0], next((t for t in tokens[1:] if t and not t.startswith("-")), ""))]


def first_command_words(command: str) -> list[str]:
    command = re.split(r"\s(?:&&|\|\||\||;)\s|\)|`", command)[0]
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"})


def program_words(script: str) -> list[list[str]]:
    """The words of each simple command of `script` that runs a program: leading variable
    assignments (`A=1 make`) and shell keywords (`if make; then`) dropped."""
    found = []
    for words in commands(script):
        index = 0
        while index < len(words) and (words[index] in _KEYWORDS or
                                      _ASSIGNMENT.match(words[index])):
            index += 1
        if index < len(words):
            found.append(words[index:])
    return found


def quote_states(script: str, shell: str = "bash") -> list[str]:
    """For each character of `script`: "" (unquoted), "'" or '"' (inside such quotes), in
    bash/sh or pwsh (`shell="pwsh"`: backtick escapes, '' inside single quotes) — enough to
    know how to write a reference to a variable at that place."""
    states = []
    state = ""
    i = 0
    escape = "`" if shell == "pwsh" else "\\"
    while i < len(script):
        ch = script[i]
        states.append(state)
        if state != "'" and ch == escape and i + 1 < len(script):
            states.append(state)
            i += 2
            continue
        if state == "" and ch in "'\"":
            state = ch
        elif state == ch:
            if shell == "pwsh" and ch == "'" and script[i + 1 : i + 2] == "'":
                states.append(state)
                i += 2
                continue
            state = ""
        i += 1
    return states
