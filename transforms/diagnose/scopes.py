"""Which GITHUB_TOKEN scope a failed call needed, from what the log shows of the call.

In order of trust: the `x-accepted-github-permissions` header GitHub sent back; the scopes the
failure text itself implies (a git push denied to github-actions[bot]); the REST method and path
(`rest_endpoints.yml`); the REST documentation anchor of the error (`pulls#update-a-pull-request`,
read like an octokit method); the GraphQL field `gh` names; the `gh` command the step ran
(`gh_commands.yml`); the action the step ran (`actions.yml`).  The tables are the analysis's own
(`gha_fix.transforms.analysis`): one knowledge base for what a step needs and why it failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gha_fix.transforms.analysis import builtin_knowledge, octokit_needs, rest_needs
from gha_fix.transforms.analysis.actions import action_key
from gha_fix.transforms.analysis.needs import Need
from gha_fix.transforms.diagnose.signatures import Match, table

_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Scopes:
    needed: list[str] = field(default_factory=list)  # `scope:level`
    alternatives: list[str] = field(default_factory=list)  # scopes that would also do
    basis: str = ""  # what they were read from, for the text output
    assumed_write: bool = False  # the method was not shown: a write is assumed


def scope_of(details: list[Match], failures: list[Match], header: str) -> Scopes:
    """The scopes the failed call needed; empty when nothing in the log tells."""
    for reader in (_accepted, _implied, _rest, _documented, _graphql):
        found = reader(details, failures)
        if found.needed:
            return found
    return _from_header(header)


def _first(details: list[Match], group: str) -> Match | None:
    return next((m for m in details if group in m.groups), None)


def _accepted(details: list[Match], _: list[Match]) -> Scopes:
    match = _first(details, "accepted")
    if match is None:
        return Scopes()
    sets = [[p.strip() for p in part.split(",") if p.strip()]
            for part in match.groups["accepted"].split(";")]
    named = [[_pair(p) for p in group] for group in sets if group]
    needed = [p for p in named[0] if p] if named else []
    others = [p for group in named[1:] for p in group if p and p not in needed]
    return Scopes(needed, others, "the x-accepted-github-permissions header")


def _pair(text: str) -> str:
    scope, _, level = text.partition("=")
    return f"{scope.strip().replace('_', '-')}:{level.strip()}" if level else ""


def _implied(_: list[Match], failures: list[Match]) -> Scopes:
    for match in failures:
        if match.signature.permissions:
            return Scopes(_levels(match.signature.permissions), [], f"“{match.line.text.strip()}”")
    return Scopes()


def _rest(details: list[Match], _: list[Match]) -> Scopes:
    with_method = next((m for m in details if "method" in m.groups and "path" in m.groups), None)
    path_match = with_method or _first(details, "path")
    if path_match is None:
        return Scopes()
    path = path_match.groups["path"].rstrip(".,;")
    method_match = with_method or _first(details, "method")
    assumed = method_match is None
    method = method_match.groups["method"].upper() if method_match else "POST"
    needs = rest_needs(builtin_knowledge().rest, method, path, f"{method} /{path}")
    found = _from_needs(needs or [], f"{method} /{path}")
    found.assumed_write = assumed and method in _WRITE_METHODS
    return found


def _documented(details: list[Match], _: list[Match]) -> Scopes:
    match = _first(details, "doc_operation")
    if match is None:
        return Scopes()
    area = _camel(match.groups["doc_area"])
    operation = _camel(match.groups["doc_operation"])
    needs = octokit_needs(builtin_knowledge().rest["octokit"], area, operation)
    return _from_needs(needs or [], f"the REST documentation link ({area}#{operation})")


def _graphql(details: list[Match], _: list[Match]) -> Scopes:
    match = _first(details, "graphql")
    if match is None:
        return Scopes()
    known = table().graphql
    for field_name in reversed(match.groups["graphql"].split(".")):
        if field_name in known:
            return Scopes(_levels(known[field_name]), [], f"the GraphQL field {field_name}")
    return Scopes()


def _from_header(header: str) -> Scopes:
    """The scopes of what the step ran: a `gh` command or an action."""
    knowledge = builtin_knowledge()
    words = header.split()
    if words[:1] == ["gh"]:
        for size in range(len(words) - 1, 0, -1):
            entry = knowledge.gh.get(" ".join(words[1:size + 1]))
            if isinstance(entry, dict):
                return Scopes(_levels(entry), [], f"the step's command `{' '.join(words[:3])}`")
    if len(words) == 1 and "@" in header:
        entry = knowledge.actions.get(action_key(header))
        if entry and entry.get("permissions"):
            return Scopes(_levels(entry["permissions"]), [], f"what {action_key(header)} needs")
    return Scopes()


def _from_needs(needs: list[Need], basis: str) -> Scopes:
    needed = [f"{n.scope}:{n.level}" for n in needs]
    others = [f"{a}:{n.level}" for n in needs for a in n.alternatives]
    return Scopes(needed, others, basis)


def _levels(permissions: dict[str, str]) -> list[str]:
    return [f"{scope}:{level}" for scope, level in permissions.items()]


def _camel(text: str) -> str:
    head, *rest = re.split(r"[-_]", text)
    return head + "".join(w[:1].upper() + w[1:] for w in rest)
