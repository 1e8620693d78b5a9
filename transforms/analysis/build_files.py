"""The build files a `run:` command names: `npm run X` (and `npm test`, the install, publish
and version lifecycles), `yarn X`, `pnpm X`, `bun run X` into package.json scripts (with their
pre/post scripts), `make X` into Makefile rules (prerequisites first; the default goal when no
target is given), `just X` into justfile recipes, `task X` into Taskfile.yml tasks.

One job: read those files (through `RepoContext.read_text`: regular files inside the
repository only) and say, for a command, which recipes it runs, each as shell text and the
folder it runs in.  What the recipes need is the script reader's job (scripts.py).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import DocumentError

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext

MAX_RECIPES = 64  # targets of one command (prerequisites included) before it is unknown


@dataclass(frozen=True)
class Recipe:
    """One recipe a command runs: `name` (`make test`, `npm run build`), `key` (file and
    target, against loops), its shell `text` and the folder it runs in; `text` None: it cannot
    be read, `why` says why."""

    name: str
    key: str
    text: str | None
    cwd: str
    why: str = ""


_MEMO = "analysis:build-file-recipes"  # in RepoContext.scratch


def recipes(tokens: list[str], cwd: str | None, repo: RepoContext) -> list[Recipe] | None:
    """The recipes a command runs (in order), or None when it names no build file (`npm ci`
    without lifecycle scripts is [], `npm audit` is None).  `cwd`: the folder the command
    runs in, relative to the repository's root ("" for the root; None: decided at run time)."""
    program = tokens[0].rsplit("/", 1)[-1] if tokens else ""
    reader = _READERS.get(program)
    if reader is None:
        return None
    if cwd is None:
        name = " ".join(tokens[:2])
        return [Recipe(name, name, None, "", "it runs in a folder decided at run time")]
    # the same command in the same folder reads the same files: worked out once a repository
    memo: dict[tuple[str, ...], list[Recipe] | None] = repo.scratch.setdefault(_MEMO, {})
    key = (cwd, *tokens)
    if key not in memo:
        memo[key] = reader(tokens[1:], cwd, repo)
    found = memo[key]
    return None if found is None else list(found)


def only_runs_recipes(tokens: list[str]) -> bool:
    """Whether the program itself does nothing but run the recipes (`make`, `npm run X`, `yarn
    build`), unlike `npm ci` or `npm publish`, which also talk to a registry."""
    program = tokens[0].rsplit("/", 1)[-1] if tokens else ""
    if program in ("make", "gmake", "just", "task", "go-task"):
        return True
    positional = [t for t in tokens[1:] if not t.startswith("-")]
    sub = positional[0] if positional else ""
    if program == "npm":
        return sub in _NPM_RUN or sub in _NPM_SCRIPTS
    if program in ("yarn", "pnpm", "bun"):
        own = {"yarn": _YARN_OWN, "pnpm": _PNPM_OWN}.get(program, frozenset())
        return sub == "run" or (program != "bun" and sub not in own and sub not in _INSTALL
                                and sub not in ("", "publish", "pack", "version"))
    return False


# --- package.json ------------------------------------------------------------------------
_LIFECYCLES = {  # https://docs.npmjs.com/cli/v10/using-npm/scripts#life-cycle-operation-order
    "install": ("preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare",
                "postprepare"),
    "publish": ("prepublishOnly", "prepack", "prepare", "postpack", "publish", "postpublish"),
    "pack": ("prepack", "prepare", "postpack"),
    "version": ("preversion", "version", "postversion"),
}
_INSTALL = frozenset({"install", "i", "ci", "isntall", "add", "install-clean", "in"})
_NPM_SCRIPTS = frozenset({"test", "t", "tst", "start", "stop", "restart"})
_NPM_RUN = frozenset({"run", "run-script", "rum", "urn"})
# yarn and pnpm run a script named like their first argument unless it is one of theirs
_YARN_OWN = frozenset({
    "add", "remove", "upgrade", "up", "audit", "cache", "config", "info", "why", "set",
    "plugin", "init", "link", "unlink", "login", "logout", "outdated", "pack", "publish",
    "version", "npm", "constraints", "bin", "explain", "dedupe", "licenses", "list", "owner",
    "tag", "team", "import", "check", "autoclean", "generate-lock-entry", "help", "policies",
    "upgrade-interactive", "node", "dlx", "exec", "workspaces", "workspace", "global",
    "create",
})
_PNPM_OWN = frozenset({
    "add", "remove", "rm", "update", "up", "audit", "store", "fetch", "prune", "list", "ls",
    "config", "setup", "env", "publish", "pack", "outdated", "why", "link", "rebuild",
    "licenses", "patch", "deploy", "import", "root", "bin", "doctor", "install-test", "dlx",
    "exec", "approve-builds", "create", "init", "server", "recursive", "self-update", "help",
})
_RECURSIVE = frozenset({"-r", "--recursive", "--filter", "-F", "--workspaces", "-ws",
                        "--workspace", "-w"})


_OPTIONAL_NUMBER = frozenset({"-j", "--jobs", "-l", "--load-average", "--max-load"})


def options(args: list[str], with_value: frozenset[str]) -> tuple[list[str], dict[str, str]]:
    """Positional arguments and the options that take a value (`-C dir`, `--dir=x`)."""
    positional: list[str] = []
    values: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            positional += args[index:]
            break
        name, eq, value = arg.partition("=")
        if name in _OPTIONAL_NUMBER:  # make -j 4 / make -j test
            if not eq and index < len(args) and args[index].isdigit():
                index += 1
        elif name in with_value:
            if not eq and index < len(args):
                value, index = args[index], index + 1
            values[name] = value
        elif arg.startswith("-") and len(arg) > 2 and arg[:2] in with_value and arg[1] != "-":
            values[arg[:2]] = arg[2:]  # -Cdir
        elif not arg.startswith("-"):
            positional.append(arg)
    return positional, values


def folder_in(cwd: str, sub: str) -> str | None:
    """`sub` (a folder a command names) relative to the root, None if it leaves it or is
    decided at run time."""
    if "$" in sub or sub.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(cwd or ".", sub))
    return None if joined == ".." or joined.startswith("../") else ("" if joined == "." else joined)


def read_file(repo: RepoContext, rel: str) -> str | None:
    """A build file's text (None: not a regular file inside the repository), read once per
    repository: every `npm run`/`make` of every step asks again."""
    key = f"build_files:{rel}"
    if key not in repo.scratch:
        repo.scratch[key] = _read(repo, rel)
    return repo.scratch[key]


def _read(repo: RepoContext, rel: str) -> str | None:
    try:
        file = repo.root / rel
        if not file.is_file() or not repo.inside(file):
            return None
        return repo.read_text(rel)
    except (DocumentError, OSError):
        return None


def _package_scripts(repo: RepoContext, folder: str) -> dict[str, str] | None:
    rel = posixpath.join(folder, "package.json") if folder else "package.json"
    text = read_file(repo, rel)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {str(k): str(v) for k, v in scripts.items() if isinstance(v, str)}


def _scripts(tool: str, names: tuple[str, ...], folder: str | None, repo: RepoContext,
             required: str | None) -> list[Recipe]:
    """The package.json scripts among `names` (in order); `required`: the one that must be
    there (`npm run X`)."""
    label = f"{tool} run {required}" if required else f"{tool} lifecycle scripts"
    if folder is None:
        return [Recipe(label, label, None, "", "its folder is decided at run time")]
    rel = posixpath.join(folder, "package.json") if folder else "package.json"
    scripts = _package_scripts(repo, folder)
    if scripts is None:
        if required is None:
            return []  # no package.json: nothing of the repository runs
        return [Recipe(label, rel, None, folder, f"{rel} is not in the repository")]
    if required is not None and required not in scripts:
        return [Recipe(label, rel, None, folder, f"no script {required} in {rel}")]
    return [Recipe(f"{tool} run {name}", f"{rel}:{name}", scripts[name], folder)
            for name in names if name in scripts]


def _around(name: str) -> tuple[str, ...]:
    return (f"pre{name}", name, f"post{name}")


def _npm(args: list[str], cwd: str, repo: RepoContext) -> list[Recipe] | None:
    positional, values = options(args, frozenset({"--prefix", "-C", "--workspace", "-w"}))
    folder = folder_in(cwd, values.get("--prefix") or values.get("-C") or ".")
    if _RECURSIVE & set(args) or "--workspace" in values or "-w" in values:
        return [Recipe("npm (workspaces)", "npm", None, cwd,
                       "it runs the scripts of the workspace packages")]
    sub = positional[0] if positional else ""
    if sub in _NPM_RUN:
        if len(positional) < 2:
            return None  # lists the scripts
        return _scripts("npm", _around(positional[1]), folder, repo, positional[1])
    if sub in _NPM_SCRIPTS:
        name = {"t": "test", "tst": "test"}.get(sub, sub)
        return _scripts("npm", _around(name), folder, repo, name)
    if sub in _INSTALL and len(positional) == 1 and not {"-g", "--global"} & set(args):
        return _scripts("npm", _LIFECYCLES["install"], folder, repo, None)
    if sub in ("publish", "pack", "version"):
        return _scripts("npm", _LIFECYCLES[sub], folder, repo, None)
    return None


def _yarn_like(tool: str, own: frozenset[str]):
    def read(args: list[str], cwd: str, repo: RepoContext) -> list[Recipe] | None:
        positional, values = options(args, frozenset({"--cwd", "--dir", "-C", "--filter",
                                                       "-F"}))
        given = values.get("--cwd") or values.get("--dir") or values.get("-C")
        folder = folder_in(cwd, given or ".")
        if _RECURSIVE & set(args) or "--filter" in values or "-F" in values or (
                positional[:1] in (["workspaces"], ["workspace"])):
            return [Recipe(f"{tool} (workspaces)", tool, None, cwd,
                           "it runs the scripts of the workspace packages")]
        sub = positional[0] if positional else ""
        if sub in ("", "install", "i", "ci") and len(positional) <= 1:
            if sub == "" and tool != "yarn":
                return None
            return _scripts(tool, _LIFECYCLES["install"], folder, repo, None)
        if sub in ("publish", "pack", "version") and tool != "bun":
            return _scripts(tool, _LIFECYCLES[sub], folder, repo, None)
        if sub == "run":
            if len(positional) < 2:
                return None
            name = positional[1]
        elif tool == "bun" or sub in own or sub in _INSTALL:
            return None
        else:
            name = {"t": "test"}.get(sub, sub)
        scripts = _package_scripts(repo, folder) if folder is not None else None
        if scripts is not None and name not in scripts:
            # no such script: yarn, pnpm and bun run the package binary of that name
            rest = args[args.index(name):] if name in args else [name]
            return [Recipe(f"{tool} {name}", f"{tool}:{name}", shlex.join(rest), folder or "")]
        return _scripts(tool, _around(name), folder, repo, name)
    return read


# --- justfile ------------------------------------------------------------------------------
_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][A-Za-z0-9_-]*)(?:\s+[^:=]*)?\s*:(?!=)\s*(.*)$")


def just_recipes(text: str) -> tuple[dict[str, tuple[list[str], list[str]]], str | None]:
    """A justfile's recipes: name -> (dependencies, body lines), and the first recipe."""
    recipes_: dict[str, tuple[list[str], list[str]]] = {}
    first: str | None = None
    current: list[str] | None = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t"):
            if current is not None and line.strip():
                current.append(line.strip().lstrip("@-"))
            continue
        current = None
        match = _JUST_RECIPE.match(line.split("#", 1)[0].rstrip()) if not line.startswith(
            ("#", "[", "set ", "alias ", "export ", "import ", "mod ")) else None
        if match is None:
            continue
        deps = [d.strip("()") .split()[0] for d in re.findall(r"\([^)]*\)|[^\s()]+",
                                                              match.group(2)) if d.strip("()")]
        current = []
        recipes_[match.group(1)] = (deps, current)
        first = first or match.group(1)
    return recipes_, first


def _just(args: list[str], cwd: str, repo: RepoContext) -> list[Recipe] | None:
    positional, values = options(args, frozenset({"-f", "--justfile", "-d",
                                                   "--working-directory", "--set"}))
    name = values.get("-f") or values.get("--justfile")
    folder = folder_in(cwd, values.get("-d") or values.get("--working-directory") or ".")
    if folder is None or (name and "$" in name):
        return [Recipe("just", "just", None, cwd, "its justfile is decided at run time")]
    rel = None
    for candidate in ((name,) if name else ("justfile", "Justfile", ".justfile")):
        here = folder
        while True:  # just looks for its justfile upwards
            path = posixpath.join(here, candidate) if here else candidate
            if read_file(repo, path) is not None:
                rel = path
                break
            if not here or name:
                break
            here = posixpath.dirname(here)
        if rel:
            break
    target = positional[0] if positional else None
    label = f"just {target or ''}".strip()
    if rel is None:
        return [Recipe(label, label, None, folder, "no justfile in the repository")]
    table, first = just_recipes(read_file(repo, rel) or "")
    target = target or ("default" if "default" in table else first)
    if target is None or target not in table:
        return [Recipe(label, rel, None, folder, f"no recipe {target} in {rel}")]
    return _ordered(table, target, rel, "just", posixpath.dirname(rel))


def _ordered(table: dict[str, tuple[list[str], list[str]]], target: str, rel: str, tool: str,
             folder: str) -> list[Recipe]:
    out: list[Recipe] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or len(out) > MAX_RECIPES:
            return
        seen.add(name)
        if name not in table:
            out.append(Recipe(f"{tool} {name}", f"{rel}:{name}", None, folder,
                              f"no recipe {name} in {rel}"))
            return
        deps, body = table[name]
        for dep in deps:
            visit(dep)
        text = "\n".join(body)
        if text.startswith("#!") and not re.match(r"#!.*\b(ba|da|z)?sh\b", text):
            out.append(Recipe(f"{tool} {name}", f"{rel}:{name}", None, folder,
                              f"{tool} {name} is a script in another language"))
            return
        out.append(Recipe(f"{tool} {name}", f"{rel}:{name}", text, folder))

    visit(target)
    return out


# --- Taskfile ------------------------------------------------------------------------------
_TASKFILES = ("Taskfile.yml", "taskfile.yml", "Taskfile.yaml", "taskfile.yaml")


def task_table(data: Any) -> dict[str, tuple[list[str], list[str]]]:
    """A Taskfile's tasks: name -> (tasks it runs first or calls, shell commands); a command
    gha-fix cannot read is kept as text that no catalogue knows (`<unreadable>`)."""
    tasks = data.get("tasks") if isinstance(data, dict) else None
    table: dict[str, tuple[list[str], list[str]]] = {}
    for name, task in (tasks or {}).items() if isinstance(tasks, dict) else ():
        deps: list[str] = []
        cmds: list[str] = []
        if isinstance(task, str | list):  # the short forms: a command or a list of them
            task = {"cmds": [task] if isinstance(task, str) else task}
        if not isinstance(task, dict):
            continue
        for dep in task.get("deps") or []:
            dep_name = dep.get("task") if isinstance(dep, dict) else dep
            deps.append(str(dep_name))
        for cmd in task.get("cmds") or []:
            if isinstance(cmd, str):
                cmds.append(cmd)
            elif isinstance(cmd, dict) and "task" in cmd:
                deps.append(str(cmd["task"]))
            elif isinstance(cmd, dict) and isinstance(cmd.get("cmd"), str):
                cmds.append(cmd["cmd"])
            elif isinstance(cmd, dict) and "defer" in cmd and isinstance(cmd["defer"], str):
                cmds.append(cmd["defer"])
            else:
                cmds.append("<unreadable-task-command>")
        table[str(name)] = (deps, cmds)
    return table


def _task(args: list[str], cwd: str, repo: RepoContext) -> list[Recipe] | None:
    positional, values = options(args, frozenset({"-d", "--dir", "-t", "--taskfile"}))
    folder = folder_in(cwd, values.get("-d") or values.get("--dir") or ".")
    name = values.get("-t") or values.get("--taskfile")
    targets = [p for p in positional if "=" not in p] or ["default"]
    label = f"task {' '.join(targets)}"
    if folder is None or (name and "$" in name):
        return [Recipe(label, label, None, cwd, "its Taskfile is decided at run time")]
    rel = next((p for c in ((name,) if name else _TASKFILES)
                if read_file(repo, p := (posixpath.join(folder, c) if folder else c)) is not None),
               None)
    if rel is None:
        return [Recipe(label, label, None, folder, "no Taskfile in the repository")]
    from gha_fix.codemod.document import load_yaml

    try:
        data = load_yaml(read_file(repo, rel) or "")
    except Exception:  # any YAML error: the Taskfile cannot be read
        return [Recipe(label, rel, None, folder, f"{rel} is not valid YAML")]
    if isinstance(data, dict) and data.get("includes"):
        table = task_table(data)
        if any(t not in table for t in targets):
            return [Recipe(label, rel, None, folder, f"{rel} includes other Taskfiles")]
    table = task_table(data)
    out: list[Recipe] = []
    for target in targets:
        out += _ordered(table, target, rel, "task", posixpath.dirname(rel))
    return out


def _make(args: list[str], cwd: str, repo: RepoContext) -> list[Recipe] | None:
    from gha_fix.transforms.analysis.makefiles import make_recipes

    return make_recipes(args, cwd, repo)


_READERS = {
    "npm": _npm,
    "yarn": _yarn_like("yarn", _YARN_OWN),
    "pnpm": _yarn_like("pnpm", _PNPM_OWN),
    "bun": _yarn_like("bun", frozenset()),
    "make": _make,
    "gmake": _make,
    "just": _just,
    "task": _task,
    "go-task": _task,
}
