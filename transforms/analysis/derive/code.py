"""What a JavaScript/TypeScript action does with the token, from its code: the call sites of
octokit methods (`octokit.rest.issues.addLabels(`, `github.pulls.get(`, a method passed to
`paginate(`), `request('POST /repos/{owner}/{repo}/check-runs')`, REST URLs built in the code
(`${apiUrl}/repos/${owner}/${repo}/releases`), `git push`, an OIDC token request
(`core.getIDToken(`), and GraphQL calls.

Only call sites count, never definitions: the octokit endpoint table bundled into `dist/`
(`addLabels: ["POST /repos/..."]`) names every method without calling any.  Comments are
blanked first (`jslex`).  What cannot be settled is said in `unknown`: a `.rest.` method
the table lacks, a dynamic call (`octokit.rest[area][method]`, `request(route)`), a GraphQL
call (no per-mutation table yet), a route a GITHUB_TOKEN can never call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gha_fix.transforms.analysis.derive.endpoints import is_method, method_route, route_need
from gha_fix.transforms.analysis.derive.jslex import line_of, strip_comments
from gha_fix.transforms.analysis.derive.model import DerivedNeed

# `x.rest.area.method(`, `x.area.method(`, or the method passed on: `paginate(x.rest.a.m, {`
METHOD_CALL = re.compile(
    r"(?<![\w$])(?:[A-Za-z_$][\w$]*\s*\.\s*)?(rest\s*\.\s*)?([a-z][A-Za-z0-9]*)\s*\.\s*"
    r"([a-z][A-Za-z0-9]*)\s*(?=[(,)]|\.\s*endpoint\b)"  # `.endpoint.merge(`: its options
)
# `paginate(options)`: options built elsewhere; fine when made by a method's endpoint.merge
PAGINATE_VARIABLE = re.compile(
    r"\.\s*paginate(?:\s*\.\s*iterator)?\s*\(\s*([A-Za-z_$][\w$]*)\s*[,)]")
DYNAMIC_REST = re.compile(r"\.\s*rest\s*\[|\brest\s*\.\s*[a-z][A-Za-z]*\s*\[")
REQUEST = re.compile(
    r"\.\s*(?:request|paginate(?:\s*\.\s*iterator)?)\s*\(\s*(['\"`])(?:(GET|HEAD|POST|PUT|PATCH|DELETE)\s+)?(/[^'\"`\s]*)\1"
)
# `octokit.request(route)`: the route is not a literal
DYNAMIC_REQUEST = re.compile(
    r"\b(?:octokit|github|client|octo[A-Za-z]*|[a-z]*[Cc]lient|gh|api)\s*\.\s*request\s*\("
    r"\s*(?![\s'\"`])"
)
GRAPHQL = re.compile(r"\.\s*graphql\s*(?:\.\s*paginate\s*)?\(|\bgraphql\s*\(\s*[`'\"]")
# a REST URL built in the code: `https://api.github.com/repos/...`, `${apiUrl}/repos/...`
REST_URL = re.compile(
    r"(?:api\.github\.com|\$\{[^}]*(?:api|API|GITHUB_API_URL)[^}]*\})(/repos/[^'\"`\s?]+)"
)
METHOD_NEAR = re.compile(r"method\s*:\s*['\"](GET|HEAD|POST|PUT|PATCH|DELETE)['\"]", re.I)
GIT_PUSH = re.compile(r"['\"`]push['\"`]|['\"`]git\s+push\b")
ID_TOKEN = re.compile(r"(?<![\w$])(?:(?:core|actionsCore|core_\d+|core\d*)\s*\.\s*|\(0,\s*[\w$.]+"
                      r"\.\s*)?getIDToken\s*\)?\s*\(")
ID_TOKEN_LIBRARY = re.compile(r"(?:OidcClient\s*\.\s*|function\s+|static\s+|async\s+)$")
DEFINITION = re.compile(r"[\w\s,:?=$'\"]*\)\s*(?::\s*[\w<>\[\]| ]+)?\s*\{")
# Not REST calls: the client's own helpers
_HELPERS = frozenset({"paginate", "graphql", "request", "hook", "log", "auth", "iterator"})


@dataclass
class CodeFindings:
    needs: list[DerivedNeed] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    calls: int = 0  # call sites counted (mapped or not)


def scan_code(text: str, where: str, findings: CodeFindings) -> None:
    """Add the call sites of one file's text (`where`: its path, for file:line)."""
    code = strip_comments(text)
    bare = strip_comments(text, blank_strings=True)  # code only: no string contents

    def at(offset: int) -> str:
        return f"{where}:{line_of(code, offset)}"

    for match in METHOD_CALL.finditer(bare):
        rest, area, method = match.group(1), match.group(2), match.group(3)
        if area in _HELPERS or method in _HELPERS:
            continue
        if not is_method(area, method):
            if rest:  # `.rest.` is octokit for sure: a method gha-fix does not know
                findings.calls += 1
                findings.unknown.append(f"{at(match.start())}: octokit method "
                                        f"{area}.{method} is not in the method table")
            continue
        findings.calls += 1
        route = method_route(area, method) or ""
        verb, path = route.split(" ", 1)
        _route(verb, path, f"octokit {area}.{method}", at(match.start()), findings)
    for match in DYNAMIC_REST.finditer(bare):
        findings.unknown.append(f"{at(match.start())}: dynamic octokit call "
                                f"({bare[match.start():match.end() + 20].split(chr(10))[0]})")
    for match in REQUEST.finditer(code):
        findings.calls += 1
        verb = match.group(2) or "GET"
        _route(verb, match.group(3), f"request {verb} {match.group(3)}", at(match.start()),
               findings)
    for match in PAGINATE_VARIABLE.finditer(bare):
        made = re.search(r"(?<![\w$.])" + re.escape(match.group(1))
                         + r"\s*=\s*[^;]*?\.\s*endpoint\s*\.\s*merge\s*\(", bare)
        if made is None:
            findings.unknown.append(f"{at(match.start())}: paginate() of options gha-fix "
                                    "cannot read")
    for match in DYNAMIC_REQUEST.finditer(bare):
        findings.unknown.append(f"{at(match.start())}: request() with a route gha-fix "
                                "cannot read")
    for match in GRAPHQL.finditer(bare):
        findings.calls += 1
        findings.unknown.append(f"{at(match.start())}: GraphQL call (no table of operations "
                                "-> scopes yet)")
    for match in REST_URL.finditer(code):
        findings.calls += 1
        window = code[max(0, match.start() - 300):match.end() + 300]
        found = METHOD_NEAR.search(window)
        verb = found.group(1).upper() if found else "GET"
        path = match.group(1)
        if found is None and re.search(r"\b(post|put|patch|delete)\w*\s*\(", window, re.I):
            findings.unknown.append(f"{at(match.start())}: REST URL {path} with a method "
                                    "gha-fix cannot read")
            continue
        _route(verb, path, f"REST {verb} {path}", at(match.start()), findings)
    for match in GIT_PUSH.finditer(code):
        window = code[max(0, match.start() - 200):match.end() + 50]
        if "git" in window:
            findings.calls += 1
            findings.needs.append(DerivedNeed("contents", "write", "code", at(match.start()),
                                              "git push"))
    for match in ID_TOKEN.finditer(bare):
        before = bare[max(0, match.start() - 20):match.start()]
        after = bare[match.end():match.end() + 80]
        if ID_TOKEN_LIBRARY.search(before) or DEFINITION.match(after):
            continue  # @actions/core's own wrapper, or the definition itself
        findings.calls += 1
        findings.needs.append(DerivedNeed("id-token", "write", "code", at(match.start()),
                                          "getIDToken (OIDC)"))


def _route(verb: str, path: str, evidence: str, where: str, findings: CodeFindings) -> None:
    need = route_need(verb, path)
    if not need.known:
        findings.unknown.append(f"{where}: {evidence}: no permission known for this route")
    elif need.unavailable:
        findings.unknown.append(f"{where}: {evidence} needs {', '.join(need.unavailable)}, "
                                "which a GITHUB_TOKEN never has")
    for scope, level, alternatives in need.requirements:
        findings.needs.append(DerivedNeed(scope, level, "code", where, evidence, alternatives))
