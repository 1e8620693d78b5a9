"""`.github/gha-fix.yml` is validated whole before anything runs (issue #13, items 22-23).

Before: `unsafe-fixes: no`, `off` or `"false"` turned unsafe fixes ON (any non-empty string is
true); a typo such as `commands: {make release: {content: write}}` was ignored, so the job was
judged to need nothing and got `permissions: {}`; `select: [[permissions]]` raised TypeError.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT

from gha_fix.codemod.config import ConfigError, config_schema, load_config
from gha_fix.codemod.schema import problems

PERMISSIONS = json.loads(
    (ROOT / "transforms" / "data" / "options" / "permissions.schema.json").read_text())
NO_OPTIONS = {"type": ["object", "null"], "additionalProperties": False}
SCHEMAS = {"permissions": PERMISSIONS, "secrets": NO_OPTIONS, "fork-guard": NO_OPTIONS}


def load(tmp_path: Path, text: str) -> dict:
    (tmp_path / ".github").mkdir(exist_ok=True)
    (tmp_path / ".github" / "gha-fix.yml").write_text(text)
    return load_config(tmp_path, SCHEMAS)


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value).splitlines()


@pytest.mark.parametrize("value", ["no", "off", '"false"', "'no'", "0", "yes please"])
def test_unsafe_fixes_takes_booleans_only(tmp_path: Path, value: str) -> None:
    assert errors(tmp_path, f"select: [permissions]\nunsafe-fixes: {value}\n") == [
        f".github/gha-fix.yml:2: unsafe-fixes: expected boolean, got "
        f"{'0' if value == '0' else repr(value.strip(chr(34) + chr(39)))}"]


def test_booleans_are_read(tmp_path: Path) -> None:
    assert load(tmp_path, "unsafe-fixes: true\n")["unsafe-fixes"] is True
    assert load(tmp_path, "unsafe-fixes: false\n")["unsafe-fixes"] is False


def test_a_typo_in_a_command_grant_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = ("permissions:\n  commands:\n    make: {}\n"
            "    make release: {content: write}\n    npm publish: {packages: Write}\n")
    assert errors(tmp_path, text) == [
        ".github/gha-fix.yml:4: permissions.commands.make release.content: key expected one of "
        "actions, artifact-metadata, attestations, checks, contents, deployments, discussions, "
        "id-token, issues, models, packages, pages, pull-requests, repository-projects, "
        "security-events, statuses, got 'content'",
        ".github/gha-fix.yml:5: permissions.commands.npm publish.packages: expected one of read, "
        "write, none, got 'Write'",
    ]


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = ("selct: [permissions]\n"          # 1: unknown key
            "select: [[permissions]]\n"        # 2: a list inside the list
            "permissions:\n"
            "  comments: 'yes'\n"              # 4
            "  repository_default: readonly\n"  # 5
            "  actions:\n"
            "    my-org/deploy:\n"
            "      permission: {contents: write}\n")  # 8: typo, and permissions missing
    found = errors(tmp_path, text)
    assert [line.split(":")[1] for line in found] == ["1", "2", "4", "5", "8"]
    assert "unknown key 'selct'" in found[0]
    assert "permissions.comments: expected boolean, got 'yes'" in found[2]
    assert "expected one of restricted, permissive, got 'readonly'" in found[3]
    assert "permissions.actions.my-org/deploy.permission: unknown key 'permission'" in found[4]


def test_unknown_transform_ids_name_the_line(tmp_path: Path) -> None:
    assert errors(tmp_path, "# mine\nselect: permissions, secrest\n") == [
        ".github/gha-fix.yml:2: unknown transform id: secrest (see `gha-fix transforms`)"]
    assert errors(tmp_path, "ignore:\n  - secrets\n  - forkguard\n") == [
        ".github/gha-fix.yml:3: ignore.1: expected one of fork-guard, permissions, secrets, "
        "got 'forkguard'"]
    assert load(tmp_path, "select: permissions, secrets\n")["select"] == ["permissions",
                                                                        "secrets"]


def test_a_transform_without_options_takes_none(tmp_path: Path) -> None:
    assert load(tmp_path, "fork-guard:\nsecrets: {}\n") == {"fork-guard": None, "secrets": {}}
    assert errors(tmp_path, "secrets: {names: x}\n") == [
        ".github/gha-fix.yml:1: secrets.names: unknown key 'names' (known: none)"]


def test_the_readme_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("### Configuration: `.github/gha-fix.yml`")
    block = readme[readme.index("```yaml\n", start) + 8: readme.index("```\n", start + 40)]
    assert load(tmp_path, block)["permissions"]["commands"]["make release"] == {
        "contents": "write"}


CASES = [
    {"unsafe-fixes": True, "select": ["permissions"]},
    {"unsafe-fixes": "no"},
    {"select": [["permissions"]]},
    {"select": "permissions,secrets"},
    {"permissions": {"commands": {"make": None, "make release": {"contents": "write"}}}},
    {"permissions": {"commands": {"make": {"content": "write"}}}},
    {"permissions": {"commands": {"make": {"contents": "Write"}}}},
    {"permissions": {"actions": {"a/b": {"permissions": {}, "when": []}}}},
    {"permissions": {"actions": {"a/b": {"permissions": {}, "when": [
        {"input": "x", "set": True, "permissions": {"issues": "write"}}]}}}},
    {"permissions": {"actions": {"not a key": {"permissions": {}}}}},
    {"permissions": None}, {"permissions": []}, {"fork-guard": {"x": 1}}, {"other": 1},
]


@pytest.mark.parametrize("config", CASES)
def test_the_validator_agrees_with_jsonschema(config: dict) -> None:
    schema = config_schema(SCHEMAS)
    expected = jsonschema.Draft202012Validator(schema).is_valid(config)
    assert (not list(problems(config, schema))) == expected
