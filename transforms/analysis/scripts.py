"""What a `run:` script needs from the GITHUB_TOKEN: `gh` commands, REST calls (`gh api`,
curl to api.github.com), the commands of `run_commands.yml` (git push, docker push to
ghcr.io, ...), the repository's own shell scripts, and the octokit calls of an
`actions/github-script` script.  A command only counts when the token it uses is the
GITHUB_TOKEN; a command that may do anything with it leaves the step unknown."""

from __future__ import annotations

import posixpath
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import DocumentError
from gha_fix.transforms.analysis.build_files import only_runs_recipes
from gha_fix.transforms.analysis.makefiles import generated_here
from gha_fix.transforms.analysis.needs import StepNeeds, needs_from
from gha_fix.transforms.analysis.registries import registry_applies
from gha_fix.transforms.analysis.rest import (
    API_URL,
    OCTOKIT,
    REQUEST,
    curl_call,
    gh_api_call,
    octokit_needs,
    rest_needs,
)
from gha_fix.transforms.analysis.tokens import GITHUB, Scope
from gha_fix.transforms.lib.shell import command_tokens, first_command_words, script_lines

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext
    from gha_fix.transforms.analysis.knowledge import Knowledge

MAX_DEPTH = 5  # composite actions / reusable workflows / scripts nested deeper are unknown
_GH = re.compile(r"(?:^|(?<=[\s;&|(`]))gh\s+(?=[a-z])")
_AUTH = re.compile(r"authorization|-u\s|--user\b|\btoken\b", re.IGNORECASE)
_VERSION_FLAGS = frozenset({"--version", "-V", "-v", "version", "--help", "-h", "-VV"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# node_modules/<package>/bin/<name> (scoped packages too): an installed package's binary
_PACKAGE_FILE = re.compile(r"(?:\./)?node_modules/(?:@[^/]+/)?[^/.][^/]*/(?:bin|cli)/([^/]+)$")
_RUNNER_VALUE_FLAGS = frozenset({"-p", "--package", "--from", "--with", "-s", "--server-args",
                                 "-n", "--server-num", "-e", "--error-file", "--python",
                                 "--spec", "--cwd", "--dir", "-C", "--filter", "-F"})
_FUNCTION = re.compile(r"^\s*(?:function\s+([\w.:-]+)|([A-Za-z_][\w.:-]*)\s*\(\s*\))",
                       re.MULTILINE)
_DRIVE = re.compile(r"^[A-Za-z]:[/\\]")  # C:/tools/x.exe
_GIT_VALUE_OPTIONS = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace",
                                "--exec-path", "--config-env"})
_VERSIONED = re.compile(r"-\d+(?:\.\d+)*$")  # clang-18, gcc-12
_WORKSPACE = re.compile(r"^(?:\$\{\{github\.workspace\}\}|\$\{?GITHUB_WORKSPACE\}?)/?")
Catalogue = dict[str, list[frozenset[str] | None]]  # program -> its subcommands (None: any)


@cache
def programs() -> tuple[Catalogue, Catalogue]:
    """programs.yml: (runners, programs known not to use the persisted git credentials)."""
    from gha_fix.transforms.knowledge_files import load

    def table(entries: list[dict[str, Any]]) -> Catalogue:
        out: Catalogue = {}
        for entry in entries:
            subs = entry.get("subcommands")
            for name in entry["programs"]:
                out.setdefault(name, []).append(None if subs is None else frozenset(subs))
        return out

    data = load("programs.yml")
    return table(data["runners"]), table(data["no_credentials"])


def program_name(word: str) -> str:
    """A program as the catalogue names it: an installed package binary by its name."""
    for folder in ("node_modules/.bin/", "vendor/bin/", "venv/bin/", "env/bin/",
                   ".cargo/bin/", "go/bin/"):
        if folder in word:
            return word.rsplit("/", 1)[-1]
    return word


def first_argument(tokens: list[str]) -> str:
    """The first word after the program that is not an option (nor a `+toolchain` of cargo
    and rustup)."""
    skip = False
    for token in tokens[1:]:
        if skip:
            skip = False
        elif tokens[0] == "git" and token in _GIT_VALUE_OPTIONS:
            skip = True  # git -C dir status: status
        elif token and not token.startswith(("-", "+")):
            return token
    return ""


def powershell_expression(tokens: list[str]) -> bool:
    """Whether a PowerShell command's words are an expression (`$v = 1`, `$LastExitCode -ne
    0`, `$svc.Status`, `[int]$x`), not a program run through a variable (`& $tool push`)."""
    first = tokens[0]
    if first.startswith(("(", "[")):
        return True
    if not first.startswith("$"):
        return False
    rest = tokens[1] if len(tokens) > 1 else ""
    return (len(tokens) == 1 or "." in first or "[" in first or first.endswith(("++", "--"))
            or rest in ("=", "+=", "-=", "*=", "/=", "++", "--")
            or re.fullmatch(r"-[a-z]+", rest) is not None)


def in_catalogue(catalogue: Catalogue, tokens: list[str]) -> bool:
    """Whether `tokens` (a command) is one of the catalogue's programs with a subcommand it
    lists; the program alone with only --version/--help is too."""
    name = program_name(tokens[0]) if tokens else ""
    entries = catalogue.get(name) or catalogue.get(_VERSIONED.sub("", name))
    if not entries:
        return False
    sub = first_argument(tokens)
    alone = not sub and all(t in _VERSION_FLAGS for t in tokens[1:])
    return any(subs is None or sub in subs or alone or (not sub and "" in subs)
               for subs in entries)


def through_runners(tokens: list[str]) -> list[str]:
    """The command a runner runs (`poetry run pytest -x` is `pytest -x`, `npx eslint@9 .` is
    `eslint .`), through several of them; the command itself when it is none."""
    runners = programs()[0]
    for _ in range(4):
        entries = runners.get(program_name(tokens[0])) if tokens else None
        if not entries:
            break
        rest = tokens[1:]
        subs = [s for s in entries if s is not None]
        if subs:  # `poetry run X`: the subcommand first
            sub = first_argument(tokens)
            if not any(sub in s for s in subs):
                break
            rest = rest[rest.index(sub) + 1:]
        index = 0
        while index < len(rest) and rest[index].startswith("-"):
            index += 2 if rest[index] in _RUNNER_VALUE_FLAGS else 1
        if index >= len(rest):
            break
        while index < len(rest) and _ASSIGNMENT.match(rest[index]):
            index += 1  # cross-env NODE_ENV=production webpack
        if index >= len(rest):
            break
        command = re.sub(r"(?<=.)@[^/]*$", "", rest[index])  # npx eslint@9: eslint
        tokens = [command, *rest[index + 1:]]
    return package_binary(tokens)


def package_binary(tokens: list[str]) -> list[str]:
    """`node node_modules/jest-cli/bin/jest.js -x` is the package binary `jest -x`: a file of
    an installed package, not of the repository (node_modules/.bin/ names are read as such by
    `program_name`)."""
    if len(tokens) < 2 or program_name(tokens[0]) not in ("node", "nodejs"):
        return tokens
    script = tokens[1]
    match = _PACKAGE_FILE.match(script)
    if match is None:
        return tokens
    return [re.sub(r"\.[cm]?js$", "", match.group(1)), *tokens[2:]]


class ScriptReader:
    """Reads the scripts of one repository's workflows with one knowledge base.  `stack`
    (shared with the rest of the analysis) holds what is being analysed, against loops."""

    def __init__(self, repo: RepoContext, knowledge: Knowledge, stack: list[str]) -> None:
        self.repo = repo
        self.kb = knowledge
        self.stack = stack
        # the folder the step's script runs in, relative to the root (None: decided at run
        # time); the analyser sets it for each step (working-directory)
        self.cwd: str | None = ""
        # shell functions the scripts read define (their bodies are read where they stand)
        self.functions: set[str] = set()
        self.shell = "bash"  # the step's shell: in pwsh, `$x...` starts an expression
        self.reachable = False  # the script being read names the token (or its caller did)

    def run_script(self, script: str, scope: Scope, result: StepNeeds, depth: int = 0,
                   cwd: str | None = None) -> None:
        """Add what `script` (a `run:`, or a script the step runs) needs to `result`; `cwd`:
        the folder it runs in (default: the step's working-directory, `self.cwd`)."""
        outer = self.reachable
        self.reachable = outer or scope.names_token(script)
        try:
            self.read_script(script, scope, result, depth, cwd)
        finally:
            self.reachable = outer

    def read_script(self, script: str, scope: Scope, result: StepNeeds, depth: int,
                    cwd: str | None) -> None:
        """`run_script`'s work."""
        if self.shell.split()[:1] in (["pwsh"], ["powershell"]):
            script = re.sub(r"`\r?\n", " ", script)  # PowerShell's line continuation
        lines = script_lines(script)
        token_vars = scope.token_in_env()
        script_has_token = scope.names_token(script)
        gh_token = scope.token_kind(scope.env.get("GH_TOKEN") or scope.env.get("GITHUB_TOKEN"))
        gh_uses_github = gh_token == GITHUB or (gh_token is None and script_has_token)
        # the commands gha-fix understood: `docker` of docker push ghcr.io/..., curl of a call
        # to api.github.com; gh is understood wherever it stands (shell_inert)
        understood: set[str] = set()
        # one search over the whole script first: most scripts hold none of these
        text = "\n".join(lines)
        any_gh = "gh" in text and _GH.search(text) is not None
        any_api = bool(script_has_token or token_vars) and API_URL.search(text) is not None
        rules = [rule for rule in self.kb.rules_for(text) if rule["regex"].search(text)]
        for line in lines if any_gh or any_api or rules else ():
            for match in _GH.finditer(line) if any_gh else ():
                if gh_uses_github:
                    self.gh(line[match.start():], result)
            if any_api and API_URL.search(line) and _AUTH.search(line):
                understood.update(("curl", "wget"))
                self.curl(line, result)
            for rule in rules:
                match = rule["regex"].search(line)
                if match is None:
                    continue
                understood.add(match.group().lstrip(";&|( \t").split()[0])
                mode = rule.get("token")
                applies = (
                    mode == "always"
                    or (mode == "env" and bool(token_vars or script_has_token))
                    or (mode == "checkout" and (scope.checkout_token or script_has_token))
                    or (mode == "ghcr" and scope.ghcr_login)
                    or (mode == "registry" and registry_applies(
                        rule, scope, text, bool(token_vars or script_has_token), self.kb))
                )
                if applies:
                    result.needs += needs_from(rule["permissions"], rule["reason"])
        others: list[tuple[str, str]] = []  # commands that may do anything with the token
        cwd = self.cwd if cwd is None else cwd
        pwsh = self.shell.split()[0] in ("pwsh", "powershell") if self.shell.strip() else False
        if "(" in text or "function" in text:
            self.functions.update(a or b for a, b in _FUNCTION.findall(text))
        wrappers = self.kb.inert.get("wrappers", frozenset())
        for raw in command_tokens(lines, wrappers):
            tokens = through_runners(raw)
            if not tokens or not tokens[0] or tokens[0].startswith("#"):
                continue
            words = (tokens[0], first_argument(tokens))
            if words[0] == "cd":
                cwd = self.moved(cwd, tokens)
            declared = self.declared(words)
            if declared is not None:
                result.needs += needs_from(declared[1], f"{declared[0]} (.github/gha-fix.yml)")
                continue
            followed = self.build_files(tokens, cwd, scope, result, depth)
            if followed and only_runs_recipes(tokens):
                continue  # make, npm run X: what they run was read in its turn
            # a repo script first: `source x.sh` is inert only when x.sh is not the repo's
            if not followed and self.shell_script(tokens, cwd, scope, result, depth):
                continue  # a script of the repo, read and analysed in its turn
            if self.inert(words) or words[0] in self.functions or (
                    pwsh and powershell_expression(tokens)):
                continue  # a function read where it is defined; a PowerShell expression
            # goreleaser, npx semantic-release: understood, but may still ask for an
            # OIDC token (keyless signing), so they keep the step opaque
            result.opaque = True
            if not understood & {*words, raw[0]}:
                others.append(words)
            if scope.checkout_token and not followed and not self.leaves_credentials(tokens):
                what = " ".join(words).strip()
                result.unknown.append(
                    f"{what} runs after actions/checkout kept the GITHUB_TOKEN in .git/config: "
                    "gha-fix does not know whether it pushes with it")
        # a command gha-fix understands beside it does not tell what this one does with the
        # token (`gh release create ... && ./notify`): the step stays unknown
        if (token_vars or script_has_token) and others:
            what = others[0][0]
            result.unknown.append(
                f"the GITHUB_TOKEN is passed to a command gha-fix cannot analyse ({what})"
            )

    def unreadable(self, why: str, scope: Scope, result: StepNeeds) -> None:
        """A script or recipe gha-fix cannot read: unknown where a token reaches it (the
        checkout's persisted credentials, the step's environment or the text that runs it);
        elsewhere it may still request an OIDC token (opaque)."""
        result.opaque = True
        if self.reachable or scope.checkout_token or scope.token_in_env():
            result.unknown.append(why)

    def leaves_credentials(self, tokens: list[str]) -> bool:
        """Whether a command is known with the checkout's persisted credentials: a rule of
        run_commands.yml (git push, mkdocs gh-deploy: what it needs is counted) or a program
        of programs.yml that does not use them."""
        text = " ".join(tokens)
        # the rule matches the command itself, not words of its arguments; a registry's
        # publish rule (`gradle publish*`) says what the token in its environment is for, not
        # what the task's code does with .git/config
        if any(rule["regex"].match(text) for rule in self.kb.rules_for(text)
               if rule.get("token") != "registry"):
            return True
        return in_catalogue(programs()[1], tokens)

    @staticmethod
    def moved(cwd: str | None, tokens: list[str]) -> str | None:
        """The folder after `cd DIR` (None: decided at run time)."""
        target = first_argument(tokens)
        if cwd is None or not target or target == "-" or target.startswith("~"):
            return None
        if _WORKSPACE.match(target):  # cd $GITHUB_WORKSPACE/x: from the root
            target, cwd = _WORKSPACE.sub("", target), ""
        if not target:
            return ""
        if "$" in target or target.startswith("/") or _DRIVE.match(target):
            return None
        joined = posixpath.normpath(posixpath.join(cwd or ".", target))
        return None if joined.startswith("..") else ("" if joined == "." else joined)

    def build_files(self, tokens: list[str], cwd: str | None, scope: Scope,
                    result: StepNeeds, depth: int) -> bool:
        """Follow `npm run X`, `make X`, `just X`, `task X` (and the lifecycle scripts of
        `npm ci`, `npm publish`) into package.json, Makefile, justfile, Taskfile.yml: each
        recipe is analysed like a `run:` script.  False when the command names none."""
        from gha_fix.transforms.analysis.build_files import recipes

        found = recipes(tokens, cwd, self.repo)
        if found is None:
            return False
        for recipe in found:
            if recipe.text is None:
                self.unreadable(f"{recipe.name}: {recipe.why}", scope, result)
                continue
            if recipe.key in self.stack or depth >= MAX_DEPTH:
                self.unreadable(f"{recipe.name} runs itself or nests too deep", scope, result)
                continue
            sub = StepNeeds(result.path)
            self.stack.append(recipe.key)
            try:
                self.run_script(recipe.text, scope, sub, depth + 1, recipe.cwd)
            finally:
                self.stack.pop()
            result.add_inner(recipe.name, sub)
        return True

    def declared(self, words: tuple[str, str]) -> tuple[str, dict[str, Any]] | None:
        """What the repo's config says a command needs: `make release`, else `make`."""
        for key in (f"{words[0]} {words[1]}", words[0]):
            if key in self.kb.commands:
                return key, self.kb.commands[key]
        return None

    def shell_script(self, tokens: list[str], cwd: str | None, scope: Scope,
                     result: StepNeeds, depth: int) -> bool:
        """Analyse a shell script of the repository that the step runs (`./x.sh`,
        `bash scripts/x.sh`), as if its lines stood in the step; False if it is none.  A
        script path that is not in the repository leaves the step unknown."""
        first, second = tokens[0], first_argument(tokens)
        if first in ("bash", "sh", "zsh", "dash") and "-c" in tokens[1:-1]:
            self.run_script(tokens[tokens.index("-c") + 1], scope, result, depth + 1, cwd)
            return True
        path = second if first in ("bash", "sh", "zsh", "dash", "source", ".") else first
        if not (path.endswith((".sh", ".bash")) or ("/" in path and first == path)):
            return False
        if first == path and (in_catalogue(programs()[1], tokens) or posixpath.basename(
                path) in ("gradlew", "mvnw", "gradlew.bat", "mvnw.cmd")):
            return False  # ./gradlew build: a program (programs.yml), not a script to read
        if _WORKSPACE.match(path):  # $GITHUB_WORKSPACE/x.sh: from the root
            path, cwd = _WORKSPACE.sub("", path), ""
        if "$" in path or path.startswith(("/", "~")) or _DRIVE.match(path):
            return False
        if cwd is None:
            self.unreadable(f"{path} runs in a folder decided at run time", scope, result)
            return True
        rel = posixpath.normpath(posixpath.join(cwd or ".", path))
        if rel.startswith(".."):
            return False
        file = self.repo.root / rel
        if not file.is_file() or not self.repo.inside(file):
            if first in ("source", "."):
                return False  # a file the job made (a virtualenv's activate): variables
            if posixpath.basename(rel) == "configure" and generated_here(
                    self.repo, posixpath.dirname(rel)):
                return True  # written by autoconf from configure.ac: a build (programs.yml)
            self.unreadable(f"{rel} is not in the repository: gha-fix cannot tell what it "
                            "does", scope, result)
            return True
        try:
            text = self.repo.read_text(rel)
        except DocumentError:  # not a regular UTF-8 file inside the repository
            self.unreadable(f"{rel} cannot be read", scope, result)
            return True
        if not rel.endswith((".sh", ".bash")) and not re.match(r"#!.*\b(ba|da|z)?sh\b", text):
            return False  # a Python or Node script: not read
        if rel in self.stack or depth >= MAX_DEPTH:
            result.unknown.append(f"{rel} runs itself or nests too deep")
            return True
        sub = StepNeeds(result.path)
        self.stack.append(rel)
        try:
            self.run_script(text, scope, sub, depth + 1, cwd)
        finally:
            self.stack.pop()
        result.add_inner(rel, sub)
        return True

    def inert(self, words: tuple[str, str]) -> bool:
        """A command that cannot use a token from its environment (shell_inert.yml)."""
        first, second = words
        if first == "git":
            return second in self.kb.inert.get("git_local", ())
        return first in self.kb.inert.get("commands", ()) or first == "gh"

    def gh(self, command: str, result: StepNeeds) -> None:
        words = first_command_words(command)[1:]
        args = [w for w in words if not w.startswith("-")]
        if args[:1] == ["api"]:
            self.gh_api(words[1:], result)
            return
        flags = [w.split("=")[0] for w in words if w.startswith("--")]
        for flag in flags:  # `pr edit --add-label` needs more than `pr edit`
            key = " ".join([*args[:2], flag])
            if key in self.kb.gh:
                result.needs += needs_from(self.kb.gh[key], f"gh {key}")
        for size in (2, 1):
            key = " ".join(args[:size])
            if key in self.kb.gh:
                entry = self.kb.gh[key]
                if entry == "unknown":
                    result.unknown.append(f"gh {key} (not possible with the GITHUB_TOKEN)")
                else:
                    result.needs += needs_from(entry, f"gh {key}")
                return
        result.unknown.append(f"gh {' '.join(args[:2])} is not in the knowledge base")

    def gh_api(self, words: list[str], result: StepNeeds) -> None:
        method, path = gh_api_call(words)
        self.endpoint(method, path or "", f"gh api {method} {path}", result)

    def curl(self, line: str, result: StepNeeds) -> None:
        method, path = curl_call(line)
        self.endpoint(method, path, f"{method} api.github.com/{path.split('?')[0]}", result)

    def endpoint(self, method: str, path: str, reason: str, result: StepNeeds) -> None:
        needs = rest_needs(self.kb.rest, method, path, reason)
        if needs is None:
            result.unknown.append(f"{reason}: endpoint not understood")
        else:
            result.needs += needs

    def github_script(self, script: str, result: StepNeeds) -> None:
        if "github.graphql" in script:
            result.unknown.append("actions/github-script calls github.graphql")
        octokit = self.kb.rest.get("octokit", {})
        for area, method in OCTOKIT.findall(script):
            needs = octokit_needs(octokit, area, method)
            if needs is None:
                result.unknown.append(f"github-script: github.rest.{area}.{method} not understood")
            else:
                result.needs += needs
        for method, path in REQUEST.findall(script):
            self.endpoint(method.upper(), path, f"github.request {method} {path}", result)
        if re.search(r"\brequire\(\s*['\"]\.", script) or "import(" in script:
            result.unknown.append("actions/github-script loads a script file gha-fix cannot read")
