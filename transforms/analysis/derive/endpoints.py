"""REST routes and octokit methods -> the scopes they need, from the two tables built by
`bench/build_rest_tables.py` (`octokit_methods.yml`, `rest_permissions.yml`), loaded on first
use; a route the permission table lacks falls back to the segment rules of
`rest_endpoints.yml` (`rest.rest_needs`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

_PARAM = re.compile(r"^\{[^}]*\}$|^:\w+$")
_EXPR = re.compile(r"\$\{[^}]*\}|\{[^}]*\}|^:\w+$")


Requirement = tuple[str, str, tuple[str, ...]]  # scope, level, other scopes that also do


@dataclass(frozen=True)
class RouteNeed:
    """What calling one route needs: every requirement (none: metadata only);
    `unavailable` names App permissions a GITHUB_TOKEN never has; `known` is False for a
    route no table maps."""

    requirements: tuple[Requirement, ...] = ()
    unavailable: tuple[str, ...] = ()
    known: bool = True
    route: str = ""


@cache
def _methods() -> dict[str, str]:
    from gha_fix.transforms import knowledge_files

    return dict(knowledge_files.load("octokit_methods.yml")["methods"])


@cache
def _routes() -> dict[tuple[str, int], list[tuple[tuple[str, ...], str, dict[str, Any]]]]:
    """Routes by (method, number of segments): their segments, the route, its row."""
    from gha_fix.transforms import knowledge_files

    table: dict[tuple[str, int], list[tuple[tuple[str, ...], str, dict[str, Any]]]] = {}
    for route, row in knowledge_files.load("rest_permissions.yml")["routes"].items():
        method, path = route.split(" ", 1)
        parts = tuple(path.strip("/").split("/"))
        table.setdefault((method, len(parts)), []).append((parts, route, row))
    return table


def method_route(area: str, method: str) -> str | None:
    """`POST /repos/{owner}/{repo}/issues/{issue_number}/labels` for `issues.addLabels`."""
    return _methods().get(f"{area}.{method}")


def is_method(area: str, method: str) -> bool:
    return f"{area}.{method}" in _methods()


def _segment_matches(pattern: str, given: str, index: int) -> bool:
    """A route's segment against a given one: a literal matches itself; a parameter matches
    a parameter or expression, the owner and repository, or a value with a digit (an issue
    number, a SHA), never a word that may be another route's literal (`actions`)."""
    if not _PARAM.match(pattern):
        return pattern == given
    if _EXPR.search(given) or index in (1, 2):
        return given != ""
    return any(c.isdigit() for c in given)


def route_need(verb: str, path: str) -> RouteNeed:
    """Needs of `verb path`; `path` may hold `{param}` or `${expr}` segments."""
    verb = verb.upper()
    path = path.split("?", 1)[0]
    parts = tuple(path.strip("/").split("/"))
    best: tuple[int, str, dict[str, Any]] | None = None
    for candidate, route, row in _routes().get((verb, len(parts)), []):
        if all(_segment_matches(p, g, i) for i, (p, g) in enumerate(zip(candidate, parts))):
            literal = sum(1 for p in candidate if not _PARAM.match(p))
            if best is None or literal > best[0]:
                best = (literal, route, row)
    if best is not None:
        _, route, row = best
        scopes = list(row.get("scopes") or ())
        required = ((scopes[0], str(row["level"]), tuple(scopes[1:])),) if scopes else ()
        return RouteNeed(required, tuple(row.get("unavailable") or ()), True, route)
    return _segment_rule(verb, path)


def _segment_rule(verb: str, path: str) -> RouteNeed:
    """The older segment rules of rest_endpoints.yml, for routes the App table lacks."""
    from gha_fix.transforms.analysis.knowledge import builtin_knowledge
    from gha_fix.transforms.analysis.rest import rest_needs

    plain = "/".join("x" if _EXPR.search(p) else p for p in path.strip("/").split("/"))
    needs = rest_needs(builtin_knowledge().rest, verb, plain, f"{verb} {path}")
    if needs is None:
        return RouteNeed(known=False, route=f"{verb} {path}")
    required = tuple((n.scope, n.level, n.alternatives) for n in needs)
    return RouteNeed(required, (), True, f"{verb} {path}")
