"""Secrets named after the tool a step runs: an opaque step (a program gha-fix cannot see into:
`npm run e2e:sauce`, `make`, `./ci.sh`) whose env carries `SAUCE_ACCESS_KEY` and whose script
names "sauce" is, in all likelihood, the step that reads it, and fails without it.

A secret's tool words are the words of the name of the variable that carries it (what the tool
reads; the secret's own name is the repository's business: `GITLAB_TOKEN: ${{
secrets.E2E_TEST_GITLAB_TOKEN }}` is for gitlab, not for "test") less the words that say what
kind of credential or task it is (`credential_words` in transforms/data/fork_guard.yml):
`SAUCE_ACCESS_KEY` -> {sauce}, `BROWSERSTACK_USERNAME` -> {browserstack}, `API_KEY` -> {}.  A
guess from names, so the guard it leads to is an unsafe fix, and its message says why.
"""

from __future__ import annotations

import re
from typing import Any

from gha_fix.transforms.fork_guard.knowledge import knowledge
from gha_fix.transforms.lib.shell import program_words

_WORD = re.compile(r"[a-z0-9]+")
SHORTEST = 3  # shorter words (`gh`, `ci`, `db`) name too many things


def tool_words(name: str) -> set[str]:
    """The words of a secret's or variable's name that can name a tool."""
    generic = set(knowledge()["credential_words"])
    return {w for w in _WORD.findall(name.lower()) if len(w) >= SHORTEST and w not in generic}


def opaque_words(step: dict[str, Any]) -> set[str]:
    """The words of the commands of a `run:` step that run a program (not the inert ones:
    echo, git...); empty for any other step."""
    run = step.get("run")
    if "uses" in step or not isinstance(run, str):
        return set()
    inert = set(knowledge()["inert_commands"])
    words: set[str] = set()
    for command in program_words(run):
        if command and command[0] not in inert:
            for word in command:
                words |= set(_WORD.findall(word.lower()))
    return words


def tool_match(step: dict[str, Any], variable: str) -> list[str]:
    """The tool words that the step's script shares with the variable's name (sorted; empty
    when none)."""
    words = opaque_words(step)
    return sorted(tool_words(variable) & words) if words else []


def tool_reasons(found: list[tuple[list[str], str]]) -> list[str]:
    """The reasons written in a guard's message, one per tool: `found` holds (tool words,
    `secrets.X (env Y)`) pairs."""
    by_words: dict[tuple[str, ...], list[str]] = {}
    for words, secret in found:
        by_words.setdefault(tuple(words), []).append(secret)
    reasons = []
    for words, secrets in by_words.items():
        quoted = ", ".join(f"'{w}'" for w in words)
        named = " and ".join(secrets)
        verb, them = ("is", "it") if len(secrets) == 1 else ("are", "them")
        reasons.append(f"its script runs {quoted}, which {named} {verb} named after (an opaque "
                       f"step: it likely reads {them} from its environment)")
    return reasons


def test_command(step: Any) -> str | None:
    """The test-suite command a `run:` step runs (`pytest`, `npm run test:unit`), as
    `test_runners` in transforms/data/fork_guard.yml lists them; None when it runs none."""
    run = step.get("run") if isinstance(step, dict) else None
    if not isinstance(run, str):
        return None
    entries = knowledge()["test_runners"]["commands"]
    for words in program_words(run):
        first = words[0].rsplit("/", 1)[-1] if "node_modules/.bin/" in words[0] else words[0]
        written = [first, *words[1:3]]
        for entry in entries:
            size = len(entry.split())
            said = " ".join(written[:size])
            if said == entry or (entry.endswith("*") and said.startswith(entry[:-1])):
                return said
    return None


def runs_tests(steps: Any) -> list[str]:
    """The test commands the steps run (each once, in order)."""
    found = [test_command(step) for step in steps] if isinstance(steps, list) else []
    return list(dict.fromkeys(f for f in found if f))
