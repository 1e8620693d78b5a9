"""Registry logins: a step that stores the GITHUB_TOKEN for a registry of GitHub Packages, and
the commands that then publish there (`transforms/data/registries.yml`).

A login (`docker login ghcr.io`, setup-dotnet with a GitHub `source-url`, `npm config set
//npm.pkg.github.com/:_authToken`) is remembered in the job's `Scope.registries`; a later
publishing command of that registry (`docker push ghcr.io/...`, `dotnet nuget push`, `npm
publish`) needs `packages: write`.  Publishing commands that read the token from their own
environment (`reads_env`: npm, Maven, Gradle, NuGet) need it too when the GITHUB_TOKEN is in
the step's environment or script.  The rules take part in the `run:` analysis as rules of
`run_commands.yml` whose token mode is `registry` (see `rules`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gha_fix.transforms.analysis.tokens import GITHUB, Scope
from gha_fix.transforms.lib.workflow import env_values
from gha_fix.transforms.patterns import LazyPattern

if TYPE_CHECKING:
    from gha_fix.transforms.analysis.knowledge import Knowledge

PUBLISH_NEEDS = {"packages": "write"}


def rules(registries: dict[str, Any]) -> list[dict[str, Any]]:
    """The registries' logins and publishing commands as `run_commands.yml` rules: a login
    needs no scope itself (it is understood: the token goes to the registry); a publish
    needs `packages: write` when `registry_applies`."""
    out: list[dict[str, Any]] = []
    for name, registry in registries.items():
        for command in registry["logins"]["commands"]:
            out.append({**command, "permissions": {}, "token": "always",
                        "source": registry["source"], "registry": name,
                        "note": "the login itself needs no scope; a later publish needs "
                                "packages write"})
        for command in registry["publish"]:
            out.append({**command, "permissions": PUBLISH_NEEDS, "token": "registry",
                        "source": registry["source"], "registry": name,
                        "reads_env": bool(registry["reads_env"])})
    return out


def registry_applies(rule: dict[str, Any], scope: Scope, script: str, token_here: bool,
                     kb: Knowledge) -> bool:
    """Whether the publishing command of `rule` uses the GITHUB_TOKEN: an earlier step of the
    job (or this script) stored it for the rule's registry, or the command reads it from its
    environment and the step holds it (`token_here`: in its env or named in its script)."""
    if rule["registry"] in scope.registries:
        return True
    if rule.get("reads_env") and token_here:
        return True
    return rule["registry"] in logins_in_script(script, scope, kb)


def logins_in_script(script: str, scope: Scope, kb: Knowledge) -> frozenset[str]:
    """The registries a `run:` script logs in to with the GITHUB_TOKEN."""
    if not (scope.names_token(script) or scope.token_in_env()):
        return frozenset()
    return frozenset(rule["registry"] for rule in kb.rules_for(script)
                     if rule.get("registry") and rule["token"] == "always"
                     and rule["regex"].search(script))


def logins_by_step(step: dict[str, Any], scope: Scope, kb: Knowledge) -> frozenset[str]:
    """The registries `step` (a job's step, `scope` the job's) stores the GITHUB_TOKEN for."""
    inner = scope.with_env(env_values(scope.env, step.get("env")))
    uses, run = step.get("uses"), step.get("run")
    if not isinstance(uses, str):
        return logins_in_script(run, inner, kb) if isinstance(run, str) else frozenset()
    from gha_fix.transforms.analysis.actions import action_key

    key = action_key(uses)
    with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
    found = {"ghcr"} if kb.actions.get(key, {}).get("ghcr_login") else set()
    for name, registry in kb.registries.items():
        for login in registry["logins"]["actions"]:
            if login["action"] == key and login_holds(login, with_, inner):
                found.add(name)
    return frozenset(found)


def login_holds(login: dict[str, Any], with_: dict[str, Any], scope: Scope) -> bool:
    """An action's login: its input names the registry and the token it stores is the
    GITHUB_TOKEN (an input or env variable holding it, or the action's own use of it)."""
    if "input" in login and login["contains"] not in str(with_.get(login["input"], "")):
        return False
    if "token_input" in login:
        return scope.token_kind(with_.get(login["token_input"])) == GITHUB
    if "token_env" in login:
        return scope.token_kind(scope.env.get(login["token_env"])) == GITHUB
    return True


def compiled(registries: dict[str, Any]) -> list[dict[str, Any]]:
    """`rules(registries)`, each with its `regex` (compiled when first used)."""
    return [{**rule, "regex": LazyPattern(rule["pattern"], re.MULTILINE)}
            for rule in rules(registries)]
