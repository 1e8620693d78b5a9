"""What a `run:` script needs from the GITHUB_TOKEN: `gh` commands, REST calls (`gh api`,
curl to api.github.com), the commands of `run_commands.yml` (git push, docker push to
ghcr.io, ...), the repository's own shell scripts, and the octokit calls of an
`actions/github-script` script.  A command only counts when the token it uses is the
GITHUB_TOKEN; a command that may do anything with it leaves the step unknown."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import DocumentError
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
from gha_fix.transforms.lib.shell import command_words, first_command_words, script_lines

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext
    from gha_fix.transforms.analysis.knowledge import Knowledge

MAX_DEPTH = 5  # composite actions / reusable workflows / scripts nested deeper are unknown
_GH = re.compile(r"(?:^|(?<=[\s;&|(`]))gh\s+(?=[a-z])")
_AUTH = re.compile(r"authorization|-u\s|--user\b|\btoken\b", re.IGNORECASE)


class ScriptReader:
    """Reads the scripts of one repository's workflows with one knowledge base.  `stack`
    (shared with the rest of the analysis) holds what is being analysed, against loops."""

    def __init__(self, repo: RepoContext, knowledge: Knowledge, stack: list[str]) -> None:
        self.repo = repo
        self.kb = knowledge
        self.stack = stack

    def run_script(self, script: str, scope: Scope, result: StepNeeds, depth: int = 0) -> None:
        """Add what `script` (a `run:`, or a script the step runs) needs to `result`."""
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
        any_rule = self.kb.may_match_command(text)
        for line in lines if any_gh or any_api or any_rule else ():
            for match in _GH.finditer(line) if any_gh else ():
                if gh_uses_github:
                    self.gh(line[match.start():], result)
            if any_api and API_URL.search(line) and _AUTH.search(line):
                understood.update(("curl", "wget"))
                self.curl(line, result)
            if not any_rule or not self.kb.any_command.search(line):
                continue
            for rule in self.kb.run_commands:
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
        others = []  # commands that may do anything with the token
        for words in command_words(lines, self.kb.inert.get("wrappers", frozenset())):
            declared = self.declared(words)
            if declared is not None:
                result.needs += needs_from(declared[1], f"{declared[0]} (.github/gha-fix.yml)")
            # a repo script first: `source x.sh` is inert only when x.sh is not the repo's
            elif self.shell_script(words, scope, result, depth):
                continue  # a script of the repo, read and analysed in its turn
            elif not self.inert(words):
                # goreleaser, npx semantic-release: understood, but may still ask for an
                # OIDC token (keyless signing), so they keep the step opaque
                result.opaque = True
                if words[0] not in understood and words[1] not in understood:
                    others.append(words)
        # a command gha-fix understands beside it does not tell what this one does with the
        # token (`gh release create ... && ./notify`): the step stays unknown
        if (token_vars or script_has_token) and others:
            what = others[0][0]
            result.unknown.append(
                f"the GITHUB_TOKEN is passed to a command gha-fix cannot analyse ({what})"
            )

    def declared(self, words: tuple[str, str]) -> tuple[str, dict[str, Any]] | None:
        """What the repo's config says a command needs: `make release`, else `make`."""
        for key in (f"{words[0]} {words[1]}", words[0]):
            if key in self.kb.commands:
                return key, self.kb.commands[key]
        return None

    def shell_script(
        self, words: tuple[str, str], scope: Scope, result: StepNeeds, depth: int
    ) -> bool:
        """Analyse a shell script of the repository that the step runs (`./x.sh`,
        `bash scripts/x.sh`), as if its lines stood in the step; False if it is none."""
        first, second = words
        path = second if first in ("bash", "sh", "source", ".") else first
        if not (path.endswith((".sh", ".bash")) or ("/" in path and first == path)):
            return False
        rel = path.removeprefix("./")
        file = self.repo.root / rel
        if "$" in rel or rel.startswith(("/", "..")) or not file.is_file() or (
                not self.repo.inside(file)):
            return False
        try:
            text = self.repo.read_text(rel)
        except DocumentError:  # not a regular UTF-8 file inside the repository
            return False
        if not rel.endswith((".sh", ".bash")) and not re.match(r"#!.*\b(ba|da|z)?sh\b", text):
            return False  # a Python or Node script: not read
        if rel in self.stack or depth >= MAX_DEPTH:
            result.unknown.append(f"{rel} runs itself or nests too deep")
            return True
        sub = StepNeeds(result.path)
        self.stack.append(rel)
        try:
            self.run_script(text, scope, sub, depth + 1)
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
