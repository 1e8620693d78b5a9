"""Makefiles as gha-fix reads them for `make X` (build_files.py): rules, the default goal,
prerequisites, plain variables (and make's own: CC, MAKE, ...), `include`d files, and each
recipe as shell text (variables expanded, what make decides at run time left as a word no
catalogue knows)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gha_fix.transforms.analysis.build_files import (
    MAX_RECIPES,
    Recipe,
    folder_in,
    options,
    read_file,
)

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext

_RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*::?(?![=:])\s*([^=]*)$")
_ASSIGN = re.compile(r"^\s*(?:(?:export|override|private)\s+)*([A-Za-z0-9_.-]+)\s*"
                     r"([:+?!]?=|::=|:::=)\s*(.*)$")
_INCLUDE = re.compile(r"^\s*-?(?:include|sinclude)\s+(.+)$")
_REF = re.compile(r"\$[({]([A-Za-z0-9_.-]+)[)}]")
Rules = dict[str, tuple[list[str], list[str]]]
# make's own variables (`make -p`): https://www.gnu.org/software/make/manual/html_node/Implicit-Variables.html
_BUILTIN_VARIABLES = {
    "MAKE": "make", "CC": "cc", "CXX": "g++", "CPP": "$(CC) -E", "AR": "ar", "AS": "as",
    "LD": "ld", "RM": "rm -f", "FC": "f77", "YACC": "yacc", "LEX": "lex",
    "LINK.c": "$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH)",
    "COMPILE.c": "$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c",
    "LINK.cc": "$(CXX) $(CXXFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH)",
    "COMPILE.cc": "$(CXX) $(CXXFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c",
    "LINK.o": "$(CC) $(LDFLAGS) $(TARGET_ARCH)",
}


@dataclass
class Makefile:
    """A Makefile as gha-fix reads it: rules (target -> prerequisites, recipe lines), the
    default goal, the files it includes, and its plain variables (`VAR = value`)."""

    rules: Rules
    default: str | None
    includes: list[str]
    variables: dict[str, str]
    # rules whose target names make computes at run time (`$(MODULES): ...` with MODULES from
    # $(shell find ...)): a prerequisite gha-fix cannot expand may name one of them
    dynamic: list[str] = field(default_factory=list)

    def expand(self, text: str, automatic: dict[str, str] | None = None) -> str:
        """`$(VAR)` and `${VAR}` replaced by the variables' values (those it knows), and the
        automatic `$@ $< $^` when given; what is left keeps its `$(...)`."""
        for name, value in (automatic or {}).items():
            text = text.replace(name, value)
        for _ in range(8):
            new = _REF.sub(lambda m: self.variables.get(m.group(1), m.group()), text)
            if new == text:
                break
            text = new
        return text


def make_rules(text: str, given: dict[str, str] | None = None) -> Makefile:
    """A Makefile's rules, default goal, includes and variables (`given`: the command line's
    `VAR=value`, which win)."""
    rules: Rules = {}
    default: str | None = None
    includes: list[str] = []
    variables: dict[str, str] = {}
    current: list[str] = []
    in_define = False
    lines = re.sub(r"\\\r?\n", " ", text).splitlines()
    for line in lines:
        if in_define:
            in_define = not line.strip().startswith("endef")
            continue
        if line.startswith("\t"):
            current.append(line[1:])
            continue
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if re.match(r"^\s*define\b", stripped):
            in_define = True
            continue
        include = _INCLUDE.match(stripped)
        if include:
            includes += include.group(1).split()
            continue
        assign = _ASSIGN.match(stripped)
        if assign:
            name, how, value = assign.groups()
            if how == "+=":
                variables[name] = f"{variables.get(name, '')} {value}".strip()
            elif how == "?=":
                variables.setdefault(name, value)
            elif how != "!=":
                variables[name] = value
            current = []
            continue
        rule = _RULE.match(stripped)
        if rule is None:
            # ifeq/else/endif: the recipe goes on (the lines of both branches are read);
            # any other directive ends it
            if not re.match(r"^\s*(?:ifn?eq|ifn?def|else|endif)\b", stripped):
                current = []
            continue
        prerequisites, _, inline = rule.group(2).partition(";")
        current = [inline.strip()] if inline.strip() else []
        deps = [d for d in prerequisites.replace("|", " ").split() if d]
        for target in rule.group(1).split():
            if target in rules:  # a second rule adds prerequisites (and maybe a recipe)
                old_deps, old_recipe = rules[target]
                rules[target] = (old_deps + deps, old_recipe)
                old_recipe.extend(current)
                current = old_recipe
            else:
                rules[target] = (deps, current)
            if default is None and not target.startswith(".") and "%" not in target:
                default = target
    variables.update(given or {})
    for name, value in _BUILTIN_VARIABLES.items():
        variables.setdefault(name, value)
    makefile = Makefile({}, None, includes, variables)
    for target, (deps, body) in rules.items():  # targets named by a variable: `$(BIN): x`
        expanded = makefile.expand(target)
        if "$(" in expanded or "${" in expanded:
            makefile.dynamic.append(target)
            continue
        for name in expanded.split():
            makefile.rules.setdefault(name, (deps, body))
    makefile.default = makefile.expand(default).split()[0] if default else None
    return makefile


def recipe_text(makefile: Makefile, target: str, deps: list[str], body: list[str],
                folder: str = "") -> str:
    """A rule's recipe as shell: variables expanded, `$(shell cmd)` the command `$(cmd)`,
    what make decides (another function, a variable it does not know) the word `${MAKE_…}`
    (a program nobody knows where one stands), `$$` a `$`, the @ - + prefixes gone."""
    automatic = {"$@": target, "$<": deps[0] if deps else "", "$^": " ".join(deps)}
    lines = []
    for line in body:
        if re.match(r"^\s*(?:ifn?eq|ifn?def|else|endif)\b", line):
            continue  # a conditional: the lines of both branches are read
        line = _unexpanded(makefile.expand(line, automatic)).lstrip("@+- \t")
        # each line runs in a shell of its own, in the Makefile's folder
        lines += [f"cd $GITHUB_WORKSPACE/{folder}", line.replace("$$", "$")]
    return "\n".join(lines)


_PREFIXES = frozenset({"", "@", "-", "+", "@-", "-@"})


def _arguments(text: str) -> list[str]:
    """A make function's arguments: split on the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _unexpanded(text: str) -> str:
    """`$(...)`/`${...}` left after expansion (balanced): `$(shell cmd)` as `$(cmd)`, the
    others as the word `${MAKE_VALUE}`; `$$` stays for the shell."""
    out: list[str] = []
    index = 0
    while index < len(text):
        dollar = text.find("$", index)
        if dollar < 0:  # the rest holds no `$`: as it is
            out.append(text[index:])
            break
        out.append(text[index:dollar])
        index = dollar
        if text[index + 1:index + 2] == "$":
            out.append("$$")
            index += 2
            continue
        if text[index + 1:index + 2] in ("(", "{"):
            opening = text[index + 1]
            closing = ")" if opening == "(" else "}"
            depth, end = 1, index + 2
            while end < len(text) and depth:
                depth += {opening: 1, closing: -1}.get(text[end], 0)
                end += 1
            inner = text[index + 2:end - 1]
            function, _, args = inner.partition(" ")
            which = re.fullmatch(r"(?:shell\s+)?(?:which|command\s+-v)\s+([\w.+-]+)\s*",
                                 inner)
            if which:  # GO ?= $(shell which go): the program itself
                out.append(which.group(1))
            elif function == "shell":
                out.append("$(" + _unexpanded(args) + ")")
            elif function in ("info", "warning", "error"):
                pass  # make prints it (or stops): nothing of the recipe
            elif function == "if" and all(
                    a.strip() in _PREFIXES for a in _arguments(args)[1:]):
                pass  # `Q = $(if $(V),,@)`: a prefix of the line, or nothing
            else:
                out.append("${MAKE_VALUE}")
            index = end
            continue
        out.append("$")  # a `$x` of the shell
        index += 1
    return "".join(out)


_MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
# files that generate a Makefile (cmake, meson, autotools): a Makefile that is not in the
# repository was written by them, from the repository's build description
_GENERATORS = ("CMakeLists.txt", "meson.build", "configure.ac", "configure.in", "Makefile.am",
               "Makefile.in")


def generated_here(repo: RepoContext, folder: str) -> bool:
    """Whether `folder` or one above it holds a build description that writes Makefiles."""
    here = folder
    while True:
        if any(read_file(repo, posixpath.join(here, g) if here else g) is not None
               for g in _GENERATORS):
            return True
        if not here:
            return False
        here = posixpath.dirname(here)


def make_recipes(args: list[str], cwd: str, repo: RepoContext) -> list[Recipe] | None:
    positional, values = options(args, frozenset({"-C", "--directory", "-f", "--file",
                                                   "--makefile", "-o", "-W", "-I",
                                                   "--include-dir"}))
    targets = [p for p in positional if "=" not in p]
    given = dict(p.split("=", 1) for p in positional if "=" in p)
    folder = folder_in(cwd, values.get("-C") or values.get("--directory") or ".")
    name = values.get("-f") or values.get("--file") or values.get("--makefile")
    label = f"make {' '.join(targets)}".strip()
    if folder is None or (name is not None and "$" in name):
        return [Recipe(label, label, None, cwd, "its Makefile is decided at run time")]
    candidates = (name,) if name else _MAKEFILES
    rel = next((posixpath.join(folder, c) if folder else c for c in candidates
                if read_file(repo, posixpath.join(folder, c) if folder else c) is not None), None)
    if rel is None:
        if name is None and generated_here(repo, folder):
            return []  # written by cmake/configure/meson: a build, like them (programs.yml)
        where = posixpath.join(folder, candidates[-1]) if folder else candidates[-1]
        return [Recipe(label, label, None, folder, f"{where} is not in the repository")]
    makefile = _with_includes(repo, rel, folder, given)
    variables = "".join(f" {k}={v}" for k, v in sorted(given.items()))  # make X V=1 again
    rules = makefile.rules
    if not targets:
        if makefile.default is None:
            return [Recipe(label, rel, None, folder, f"{rel} has no default goal")]
        targets = [makefile.default]
    out: list[Recipe] = []
    seen: set[str] = set()

    def visit(target: str, depth: int) -> None:
        if target in seen or len(out) > MAX_RECIPES:
            return
        seen.add(target)
        if target not in rules:
            if depth == 0:
                out.append(Recipe(f"make {target}", f"{rel}:{target}", None, folder,
                                  f"no rule for {target} in {rel}"))
            return  # a prerequisite that is a file
        deps, body = rules[target]
        # a prerequisite still holding `$(...)` (a function: wildcard, patsubst) names files,
        # unless the Makefile has rules whose names are computed too: then it may be one
        expanded = makefile.expand(" ".join(deps))
        if makefile.dynamic and ("$(" in expanded or "${" in expanded):
            out.append(Recipe(f"make {target}", f"{rel}:{target}", None, folder,
                              f"a prerequisite of {target} is decided at run time "
                              f"(rules {', '.join(makefile.dynamic[:2])})"))
            return
        deps = [d for d in expanded.split() if "$" not in d and "%" not in d]
        for dep in deps:
            visit(dep, depth + 1)
        out.append(Recipe(f"make {target}", f"{rel}:{target}{variables}",
                          recipe_text(makefile, target, deps, body, folder), folder))

    for target in targets:
        if "$" in target:
            out.append(Recipe(label, rel, None, folder, f"the target {target} is decided at "
                              "run time"))
            continue
        visit(target, 0)
    if len(out) > MAX_RECIPES:
        return [Recipe(label, rel, None, folder, "it runs too many rules to follow")]
    return out


def _with_includes(repo: RepoContext, rel: str, folder: str, given: dict[str, str]
                   ) -> Makefile:
    """`make_rules` of a Makefile, with the rules and variables of the files it includes by a
    plain name (16 files at most); worked out once per repository and command-line variables
    (the result is only read)."""
    key = f"makefiles:{rel}:{folder}:{sorted(given.items())}"
    if key not in repo.scratch:
        repo.scratch[key] = _read_with_includes(repo, rel, folder, given)
    return repo.scratch[key]


def _read_with_includes(repo: RepoContext, rel: str, folder: str, given: dict[str, str]
                        ) -> Makefile:
    makefile = make_rules(read_file(repo, rel) or "", given)
    includes = list(makefile.includes)
    done = {rel}
    while includes:
        name = makefile.expand(includes.pop(0))
        inc = folder_in(folder, name) if "$" not in name and "*" not in name else None
        if inc is None or inc in done or len(done) > 16:
            continue
        done.add(inc)
        more = make_rules(read_file(repo, inc) or "", given)
        for target, rule in more.rules.items():
            makefile.rules.setdefault(target, rule)
        for var, value in more.variables.items():
            makefile.variables.setdefault(var, value)
        includes += more.includes
    return makefile
