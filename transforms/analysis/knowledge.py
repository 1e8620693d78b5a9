"""What gha-fix knows: the built-in knowledge files, plus a repository's own entries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from gha_fix.transforms.patterns import LazyPattern, required_literal

if TYPE_CHECKING:
    from gha_fix.codemod.repo import RepoContext


@dataclass
class Knowledge:
    actions: dict[str, dict[str, Any]]  # actions.yml (+ the repo's `permissions: actions:`)
    gh: dict[str, Any]  # gh_commands.yml: `release create` -> scopes
    rest: dict[str, Any]  # rest_endpoints.yml: REST paths and octokit methods -> scopes
    # run_commands.yml and the registries' logins and publishing commands (registries.py),
    # each rule with its `regex` (a LazyPattern)
    run_commands: list[dict[str, Any]]
    inert: dict[str, frozenset[str]] = field(default_factory=dict)  # shell_inert.yml
    # the repo's own `permissions: commands:` (`make release: {contents: write}`, `make: {}`)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    # registries.yml: the registries of GitHub Packages, their logins and publishing commands
    registries: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def rule_literals(self) -> list[list[str]]:
        """Per rule of `run_commands`, the texts one of which every match holds (`push`,
        `goreleaser`; a rule's `literals:` when its fixed text is one of several words);
        [''] for a rule that needs no fixed text."""
        from gha_fix.transforms.knowledge_files import derived

        if self.run_commands is builtin_knowledge().run_commands:  # worked out once, cached
            from gha_fix.transforms.analysis.registries import rules

            # in the order of `run_commands`: run_commands.yml's rules, then the registries'
            return [*derived("run_commands.yml", "literals", rule_literals),
                    *derived("registries.yml", "literals",
                             lambda data: rule_literals(rules(data)))]
        return rule_literals(self.run_commands)

    @cached_property
    def _rules_by_literal(self) -> list[tuple[str, tuple[int, ...]]]:
        """Each fixed text some rule needs, with the rules (by index) that need one of theirs."""
        by_literal: dict[str, list[int]] = {}
        for index, found in enumerate(self.rule_literals):
            for literal in dict.fromkeys(found):
                by_literal.setdefault(literal, []).append(index)
        return [(literal, tuple(rules)) for literal, rules in by_literal.items()]

    def rules_for(self, text: str) -> list[dict[str, Any]]:
        """The rules of `run_commands` that may match in `text`, in their order: those whose
        fixed text is there, and those that need none (most scripts hold no rule's text, and
        a rule's regex is compiled only when a text holds it)."""
        indexes = {index for literal, rules in self._rules_by_literal if literal in text
                   for index in rules}
        return [self.run_commands[index] for index in sorted(indexes)]

    def may_match_command(self, text: str) -> bool:
        """Whether some rule of `run_commands` matches in `text`."""
        return any(rule["regex"].search(text) is not None for rule in self.rules_for(text))

def rule_literals(rules: list[dict[str, Any]]) -> list[list[str]]:
    """Per rule, the texts one of which every match holds (its `literals:`, else the fixed
    text of its pattern; [''] when it has none)."""
    return [list(rule.get("literals") or [required_literal(rule["pattern"])]) for rule in rules]


@lru_cache(maxsize=1)
def builtin_knowledge() -> Knowledge:
    from gha_fix.transforms.analysis.registries import compiled
    from gha_fix.transforms.knowledge_files import load

    registries = load("registries.yml")
    return Knowledge(
        actions={k.lower(): v for k, v in load("actions.yml").items()},
        gh=load("gh_commands.yml")["commands"],
        rest=load("rest_endpoints.yml"),
        run_commands=[
            *({**rule, "regex": LazyPattern(rule["pattern"], re.MULTILINE)}
              for rule in load("run_commands.yml")),
            *compiled(registries),
        ],
        inert={k: frozenset(v) for k, v in load("shell_inert.yml").items()},
        registries=registries,
    )


def knowledge_for(config: dict[str, Any]) -> Knowledge:
    """The built-in knowledge plus the repo's own `permissions: actions:` entries and the
    `permissions: commands:` it declares (what a command of its scripts needs)."""
    base = builtin_knowledge()
    section = config.get("permissions")
    section = section if isinstance(section, dict) else {}
    extra, commands = section.get("actions"), section.get("commands")
    extra = extra if isinstance(extra, dict) else {}
    commands = commands if isinstance(commands, dict) else {}
    if not extra and not commands:
        return base
    actions = {**base.actions, **{k.lower(): v for k, v in extra.items() if isinstance(v, dict)}}
    declared = {str(k).strip(): v or {} for k, v in commands.items() if isinstance(v, dict | None)}
    return Knowledge(actions, base.gh, base.rest, base.run_commands, base.inert, declared,
                     base.registries)


def repo_knowledge(repo: RepoContext) -> Knowledge:
    """`knowledge_for` the repo's config, built once per repository (its combined regexes
    are compiled on first use)."""
    if "analysis:knowledge" not in repo.scratch:
        repo.scratch["analysis:knowledge"] = knowledge_for(repo.config)
    return repo.scratch["analysis:knowledge"]
