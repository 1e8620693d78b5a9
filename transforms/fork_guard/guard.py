"""The guard written into an `if:`, in the form a person would write it.

`guard_expression`: the same-repository test, which other trigger events pass untouched
(`github.event_name != 'pull_request' || SAME_REPO`).  `combine`: the existing `if:` and the
guard joined by `&&`, in the existing `${{ }}` form.  Two simplifications keep it short; each
leaves what the `if:` decides unchanged (tests/test_fork_guard_simplify.py checks every guard
written over the golden cases and the corpus against the unsimplified form):
1. parentheses only where precedence needs them: around the existing condition when it is an
   `||` (`&&` binds tighter, and `a && b && guard` is `(a && b) && guard`), around the guard
   when it is not a single test;
2. no "other events pass" disjunct when the existing condition is false for every other trigger
   event whatever else holds (`github.event_name == 'pull_request' && SAME_REPO`): for the
   guarded events the disjunct is false, for the others the whole condition already is.
Status functions keep their meaning: GitHub adds the implicit `success() && (...)` only when
none appears anywhere in the expression (see transforms/lib/expressions.py), and neither
simplification adds or removes one.
"""

from __future__ import annotations

from typing import Any

from gha_fix.transforms.fork_guard.context import expression_of
from gha_fix.transforms.lib.expressions import (
    ExpressionError,
    Node,
    PartialObject,
    Sym,
    evaluate,
    parse,
    truth,
)

SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"


def guard_expression(guarded: list[str], others: bool) -> str:
    """The same-repository test, which other events (push...) pass untouched."""
    if not others:
        return SAME_REPO
    names = [f"github.event_name != '{e}'" for e in guarded]
    skip = names[0] if len(names) == 1 else "(" + " && ".join(names) + ")"
    return f"{skip} || {SAME_REPO}"


def other_events(existing: Any, guarded: list[str], events: list[str]) -> bool:
    """Whether the guard must let other trigger events through: some run for a trigger event
    that is not guarded and for which the existing `if:` is not surely false.  A workflow
    called by another (`workflow_call`) sees its caller's event: any name."""
    others: list[Any] = [e for e in events if e not in guarded]
    if not others:
        return False
    node = expression_of(existing)
    if node is None:
        return True
    if "workflow_call" in events:
        others.append(Sym("event_name", foreign=True))  # an event no literal names
    return any(_may_run(node, event) for event in others)


def _may_run(node: Node, event: Any) -> bool:
    """Whether `node` can be true for `event` whatever else holds (the status included)."""
    ctx = PartialObject({"github": PartialObject({"event_name": event})})
    return truth(evaluate(node, ctx)) is not False


def _needs_parentheses(text: str, right: bool) -> bool:
    """Whether `text` must be parenthesised as the left (or right) operand of `&&`."""
    try:
        kind = parse(text).kind
    except ExpressionError:
        return True
    return kind == "or" or (right and kind == "and")


def combine(existing: Any, guard: str) -> str | None:
    """The new `if:` value: `existing && guard`, in the existing `${{ }}` form, parenthesised
    only where precedence needs it; None when the `if:` cannot be extended."""
    if existing is None or existing is True:
        return guard
    if not isinstance(existing, str):
        return None
    body = existing.strip()
    lead = existing[: len(existing) - len(existing.lstrip())]
    trail = existing[len(existing.rstrip()):]
    if not body:
        return guard
    wrapped = body.startswith("${{") and body.endswith("}}") and body.count("${{") == 1
    if not wrapped and "${{" in body:
        return None
    inner = body[3:-2].strip() if wrapped else body
    left = f"({inner})" if _needs_parentheses(inner, right=False) else inner
    right = f"({guard})" if _needs_parentheses(guard, right=True) else guard
    new = f"{left} && {right}"
    return f"{lead}${{{{ {new} }}}}{trail}" if wrapped else f"{lead}{new}{trail}"


def guarded_if(existing: Any, guarded: list[str], events: list[str]) -> str | None:
    """The `if:` that skips, on fork pull requests of the `guarded` events, a job or step whose
    `if:` is `existing`, in a workflow triggered by `events`."""
    return combine(existing, guard_expression(guarded, other_events(existing, guarded, events)))
