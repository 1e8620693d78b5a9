"""The two pull requests an `if:` is evaluated for, an outsider's from a fork and a member's
from a branch of the repository, and what the condition decides for them.

Only definite answers matter: "this condition is false for a fork pull request" is what makes a
guard; anything not known evaluates to UNKNOWN and never counts as a guard.
"""

from __future__ import annotations

from typing import Any

from gha_fix.transforms.fork_guard.knowledge import knowledge
from gha_fix.transforms.lib.expressions import (
    UNKNOWN,
    ExpressionError,
    Node,
    PartialObject,
    Sym,
    evaluate,
    expression_text,
    parse,
    truth,
)


def pr_context(event: str, fork: bool, env: dict[str, Any]) -> PartialObject:
    """What is known in an `if:` for a pull request by an outsider from a fork (fork=True) or
    by a member from a branch of the repository (fork=False); everything else is UNKNOWN."""
    data = knowledge()
    head_name = Sym("head_full_name", distinct=frozenset({"repository"}), foreign=True) if (
        fork) else Sym("repository")
    owner = Sym("head_owner", distinct=frozenset({"repository_owner"}), foreign=True) if (
        fork) else Sym("repository_owner")
    associations = data["outsider_associations" if fork else "member_associations"]
    pull_request = PartialObject({
        "head": PartialObject({"repo": PartialObject({
            "full_name": head_name, "fork": fork, "owner": PartialObject({"login": owner})})}),
        "base": PartialObject({"repo": PartialObject({"full_name": Sym("repository")})}),
        "author_association": Sym("association", choices=frozenset(associations)),
    })
    event_data = PartialObject({"pull_request": pull_request})
    if fork:  # an outsider cannot label: no labels, and no `labeled` event of theirs
        pull_request["labels"] = []
        event_data["label"] = None
    github = PartialObject({
        "event_name": event,
        "event": event_data,
        "ref": Sym("ref", prefix="refs/pull/"),
        "repository": Sym("repository"),
        "repository_owner": Sym("repository_owner"),
        "token": Sym("github_token"),
    })
    # on a fork pull request every secret is empty but the (read-only) token
    secrets = PartialObject({"GITHUB_TOKEN": Sym("github_token")}, others="") if (
        fork and event not in data["target_events"]) else UNKNOWN
    return PartialObject({"github": github, "secrets": secrets, "env": PartialObject(env)})


def expression_of(value: Any) -> Node | None:
    """The expression of an `if:` or `${{ }}` value as written (None when there is none or it
    cannot be read)."""
    if value is not None and not isinstance(value, str | bool):
        return None
    try:
        text = expression_text(value)
        return parse(text) if text else None
    except ExpressionError:
        return None


def runs(value: Any, ctx: dict[str, Any]) -> Any:
    """Whether an `if:` lets the job/step run in `ctx`: True, False or UNKNOWN.  The status
    functions are unknown but always(), and the implicit `success() &&` is left out: what
    matters is the pull request, not whether an earlier step failed."""
    if value is None or value is True:
        return True
    if isinstance(value, str) and not value.strip():
        return True
    node = expression_of(value)
    return UNKNOWN if node is None else truth(evaluate(node, ctx))


def resolve_env(env: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """Evaluate `NAME: ${{ expr }}` values (as strings), so `env.HAS_TOKEN == 'true'` is known."""
    out: dict[str, Any] = {}
    for name, value in env.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, int | float):
            out[name] = str(value)
        elif isinstance(value, str):
            node = expression_of(value) if "${{" in value else Node("literal", value)
            result = evaluate(node, ctx) if node is not None else UNKNOWN
            if isinstance(result, bool):
                result = "true" if result else "false"
            out[name] = result if isinstance(result, str | Sym) or result is UNKNOWN else UNKNOWN
        else:
            out[name] = UNKNOWN
    return out


def pr_verdict(value: Any, events: list[str], env: Any) -> str:
    """"runs", "guarded" (false for fork PRs only) or "never" (false for every PR) for an `if:`
    and each of `events`; `env(fork, event)`: the `env` context its condition sees."""
    if value is None or value is True:
        return "runs"  # no `if:`: no context to build
    fork = [runs(value, pr_context(e, True, env(True, e))) for e in events]
    if any(v is not False for v in fork):
        return "runs"
    same = [runs(value, pr_context(e, False, env(False, e))) for e in events]
    return "never" if all(v is False for v in same) else "guarded"


def environment_on(value: Any, events: list[str], fork: bool = True) -> bool:
    """Whether a job's `environment:` (a name, or a mapping with `name:`) names an environment
    for a pull request of one of `events` (an outsider's fork, or a member's branch): an
    expression that evaluates to '' or null there is no deployment, no environment secrets, no
    protection rules for that event.  What cannot be evaluated counts as an environment."""
    name = value.get("name") if isinstance(value, dict) else value
    if name is None or name is False:
        return False
    if not isinstance(name, str):
        return True
    text = name.strip()
    if not text:
        return False
    whole = text.startswith("${{") and text.endswith("}}") and text.count("${{") == 1
    if not whole:
        return True  # a name, or text around an expression: never empty
    node = expression_of(text)
    if node is None:
        return True
    for event in events:
        result = evaluate(node, pr_context(event, fork, {}))
        if not (result is None or result == ""):
            return True
    return False
