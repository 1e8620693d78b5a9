"""The deriver in the analysis: a local JavaScript or Docker action (`uses: ./x`) that gets
the GITHUB_TOKEN is read from the checkout (offline); its needs count only when the deriver
understood it, else the step stays unknown, with the deriver's first reason (the trust rule:
never restrict a job whose needs are not known)."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from gha_fix.transforms.analysis.derive import DerivedEntry, derive_local

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext
    from gha_fix.transforms.analysis.needs import StepNeeds

_MEMO_ATTRIBUTE = "_derived_local_actions"


def derived_local(repo: RepoContext, uses: str, metadata: dict[str, Any],
                  token_inputs: list[str], token_env: list[str]) -> DerivedEntry:
    """The derived entry of a local action, once per repository and token route."""
    folder = posixpath.normpath(uses.removeprefix("./")) or "."
    memo: dict[tuple, DerivedEntry] = repo.__dict__.setdefault(_MEMO_ATTRIBUTE, {})
    key = (folder, tuple(sorted(token_inputs)), tuple(sorted(token_env)))
    if key not in memo:
        memo[key] = derive_local(repo.root, folder, metadata, token_inputs, token_env)
    return memo[key]


def add_local_needs(repo: RepoContext, uses: str, metadata: dict[str, Any], with_: dict,
                    token_inputs: list[str], token_env: list[str], result: StepNeeds) -> None:
    """Add what the local action needs to `result`, or why it is not known."""
    runs = metadata.get("runs") if isinstance(metadata.get("runs"), dict) else {}
    entry = derived_local(repo, uses, metadata, token_inputs, token_env)
    if not entry.understood:
        result.unknown.append(f"local action {uses} ({runs.get('using')}) gets the "
                              f"GITHUB_TOKEN and its files do not settle what it needs: "
                              f"{entry.unknown[0]}; add it to .github/gha-fix.yml")
        return
    add_entry_needs(entry, uses, with_, result)


def add_remote_needs(entry: DerivedEntry, uses: str, via: list[str], with_: dict,
                     result: StepNeeds) -> bool:
    """A remote action the knowledge base lacks, derived from its repository at the pinned
    ref: its needs when understood (True), else the step stays unknown with why (False)."""
    if entry.understood:
        add_entry_needs(entry, uses.split("@", 1)[0], with_, result)
        return True
    result.unknown.append(f"action {uses} gets the GITHUB_TOKEN ({', '.join(via)}) and "
                          f"its files do not settle which scopes it needs: {entry.unknown[0]}")
    return False


def add_entry_needs(entry: DerivedEntry, what: str, with_: dict, result: StepNeeds) -> None:
    """The entry's needs as the step's; a need on an input holds as the step sets it."""
    from gha_fix.transforms.analysis.actions import condition_holds

    for derived in entry.granted():
        need = derived.need(what)
        if need.when is not None:
            condition = {"input": need.when.input, need.when.kind: need.when.value or True}
            holds = condition_holds(condition, with_)
            if holds is False:
                continue
            if holds:
                need = need.__class__(need.scope, need.level, need.what, need.alternatives)
        result.needs.append(need)
