"""REST calls -> needs: the endpoint tables of `rest_endpoints.yml` (paths after
`/repos/{owner}/{repo}/`, octokit areas and methods), and how a call is read from `gh api`
arguments, a curl/wget line or an `actions/github-script` script."""

from __future__ import annotations

import re
from typing import Any

from gha_fix.transforms.analysis.needs import Need, needs_from

API_URL = re.compile(r"api\.github\.com/([^\s'\"\\]*)", re.IGNORECASE)
OCTOKIT = re.compile(r"\bgithub\.(?:rest\.)?([a-zA-Z]+)\.([a-zA-Z]+)\s*[(,)]")
REQUEST = re.compile(r"github\.request\(\s*['\"`]([A-Za-z]+)\s+([^'\"`]+)['\"`]")
_NO_API = frozenset({"graphql", "paginate", "request", "hook", "log", "auth"})
_READ = re.compile(r"(get|list|check|compare|download|search)[A-Z]|(get|list)$")


def rest_needs(rest: dict[str, Any], method: str, path: str, reason: str) -> list[Need] | None:
    """Needs of a REST call, or None when the path cannot be classified."""
    path = path.strip("'\"").split("?")[0].lstrip("/")
    if path.startswith("graphql"):
        return None
    parts = path.split("/")
    if parts[0] != "repos":
        return [] if parts[0] in ("user", "users", "search", "rate_limit", "meta", "emojis",
                                  "licenses", "gitignore", "markdown", "octocat") else None
    if len(parts) > 1 and re.search(r"repository\b|REPOSITORY\b|REPO\b", parts[1]):
        parts.insert(2, "")  # `repos/$GITHUB_REPOSITORY/...`: owner/repo in one segment
    if len(parts) < 4:
        return [] if method in ("GET", "HEAD") and len(parts) == 3 else None
    rest_of = "/".join(parts[3:])
    for rule in rest.get("special", []):
        if rule["method"] == method and re.fullmatch(rule["path"], rest_of):
            return with_alternatives(rest, needs_from(rule["permissions"], reason))
    scope = rest.get("paths", {}).get(parts[3])
    if scope is None:
        return None
    if scope == "metadata":
        return []
    level = "read" if method in ("GET", "HEAD") else "write"
    return with_alternatives(rest, [Need(scope, level, reason)])


def octokit_needs(octokit: dict[str, Any], area: str, method: str) -> list[Need] | None:
    """Needs of `github.rest.<area>.<method>`, or None when the area is not understood."""
    if area in _NO_API or area == "context":
        return []
    reason = f"github.rest.{area}.{method}"
    exact = octokit.get("methods", {}).get(f"{area}.{method}")
    if exact is not None:
        return with_alternatives(octokit, needs_from(exact, reason))
    scope = octokit.get("areas", {}).get(area)
    if scope is None:
        return None
    if scope == "none":
        return []
    level = "read" if _READ.match(method) else "write"
    return with_alternatives(octokit, [Need(scope, level, reason)])


def with_alternatives(table: dict[str, Any], needs: list[Need]) -> list[Need]:
    alternatives = table.get("alternatives", {})
    return [Need(n.scope, n.level, n.what, tuple(alternatives.get(n.scope, ()))) for n in needs]


def gh_api_call(words: list[str]) -> tuple[str, str | None]:
    """(method, path) of `gh api` with these arguments (after `api`); path None if none."""
    method = "GET"
    path: str | None = None
    fields = False
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-X", "--method") and i + 1 < len(words):
            method, i = words[i + 1].upper(), i + 2
            continue
        if word.startswith("--method="):
            method = word.split("=", 1)[1].upper()
        elif word in ("-f", "-F", "--field", "--raw-field", "--input"):
            fields = True
            i += 1
        elif word in ("-H", "--header", "-q", "--jq", "-t", "--template", "--hostname",
                      "--cache", "-p", "--preview"):
            i += 1
        elif not word.startswith("-") and path is None:
            path = word
        i += 1
    if fields and method == "GET" and not any(w in ("-X", "--method") for w in words):
        method = "POST"
    return method, path


def curl_call(line: str) -> tuple[str, str]:
    """(method, path after api.github.com/) of a curl or wget line calling the REST API."""
    match = API_URL.search(line)
    method = "GET"
    found = re.search(r"(?:-X|--request)\s*['\"]?([A-Za-z]+)", line)
    if found:
        method = found.group(1).upper()
    elif re.search(r"\s(?:-d|--data\S*|-F|--form)\b", line):
        method = "POST"
    path = match.group(1) if match else ""
    return method, path
