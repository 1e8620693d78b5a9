"""pull_request_target: which step checks out the pull request's head, and whether a later step
runs code from it (secrets and a write token handed to whoever opened the pull request)."""

from __future__ import annotations

import re
from typing import Any

from gha_fix.transforms.fork_guard.knowledge import action_name, knowledge, matches
from gha_fix.transforms.lib.shell import program_words


def head_checkout(steps: list[Any]) -> tuple[int, bool] | None:
    """(index of the step that checks out the PR's head, whether it or a later step runs its
    code).  A `git fetch` of the pull request's ref is no checkout: its commits are in the
    repository, its files in no work tree, until a git command writes them out."""
    kb = knowledge()
    patterns = [re.compile(p, re.I) for p in kb["head_checkout"]]
    run_patterns = [re.compile(p, re.I) for p in kb["head_checkout_run"]]
    fetch_patterns = [re.compile(p, re.I) for p in kb["head_fetch_run"]]
    fetched = False
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        folder = ""
        itself = False  # the checkout step runs the code itself (`gh pr checkout 7 && make`)
        run = step.get("run") if isinstance(step.get("run"), str) else ""
        if action_name(step) == "actions/checkout" and isinstance(step.get("with"), dict):
            values = [step["with"].get("ref"), step["with"].get("repository")]
            found = any(isinstance(v, str) and any(p.search(v) for p in patterns)
                        for v in values)
            folder = str(step["with"].get("path") or "").strip("./")
        else:
            fetched = fetched or any(p.search(run) for p in fetch_patterns)
            found = any(p.search(run) for p in run_patterns) or (
                fetched and writes_work_tree(run))
            itself = found and runs_pr_code(step, "")
        if found:
            later = [s for s in steps[index + 1:] if isinstance(s, dict)]
            return index, itself or any(runs_pr_code(s, folder) for s in later)
    return None


def writes_work_tree(script: str) -> bool:
    """Whether a script runs a git command that writes commits out into a work tree
    (`git checkout`, `git switch`, `git merge`...: `work_tree_git_commands`)."""
    commands = set(knowledge()["work_tree_git_commands"])
    for words in program_words(script):
        if words[0] != "git":
            continue
        rest = iter(words[1:])
        for word in rest:
            if word in ("-C", "-c", "--git-dir", "--work-tree"):
                next(rest, None)  # the option's value
            elif not word.startswith("-"):
                if word in commands:
                    return True
                break
    return False


def runs_pr_code(step: dict[str, Any], folder: str) -> bool:
    """Whether a step after the head checkout may execute code from it.  A checkout into a side
    folder (`path: pr`) is data unless a step works inside it; scripts made only of commands
    that do not execute repository files (git, echo...) run nothing from it."""
    kb = knowledge()
    uses = step.get("uses")
    if isinstance(uses, str):
        local = uses.startswith("./") and (not folder or uses[2:].startswith(folder + "/"))
        return local or matches(action_name(step), kb["code_running_actions"])
    run = step.get("run")
    if not isinstance(run, str):
        return False
    if folder:
        workdir = str(step.get("working-directory") or "").strip("./")
        inside = workdir == folder or workdir.startswith(folder + "/") or re.search(
            rf"(?:\bcd\s+|\s|^)(?:\./)?{re.escape(folder)}/", run) or re.search(
            rf"\bcd\s+(?:\./)?{re.escape(folder)}\b", run)
        if not inside:
            return False
    safe = set(kb["inert_commands"])
    return any(words[0] not in safe for words in program_words(run))
