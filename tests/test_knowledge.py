"""The actions knowledge base (`transforms/data/actions.yml`): schema and corpus coverage.

The `permissions` transform trusts this file to say which GITHUB_TOKEN scopes an action needs, so
every entry must be well formed and cite its source, and the actions real workflows use most must
all be there (an action without an entry makes its job "not understood").
"""

from __future__ import annotations

import importlib.util
import re

import pytest
from conftest import CORPUS, ROOT
from ruamel.yaml import YAML

KNOWLEDGE = ROOT / "transforms" / "data" / "actions.yml"
TOP = 300  # the N most used actions of the corpus must all have an entry

SCOPES = {
    "actions", "artifact-metadata", "attestations", "checks", "contents", "deployments",
    "discussions", "id-token", "issues", "models", "packages", "pages", "pull-requests",
    "repository-projects", "security-events", "statuses",
}
LEVELS = {"read", "write"}
ENTRY_KEYS = {"permissions", "token_input", "token_env", "when", "keeps", "script_input",
              "ghcr_login", "versions", "source", "note", "alternatives"}
VERSION_KEYS = {"range", "permissions", "token_input", "token_env", "when", "source", "note"}
CONDITION_KINDS = ("equals", "not_equals", "set", "unset")
RANGE = re.compile(r"^(?:<=|>=|<|>|=)?[0-9]+(?: (?:<=|>=|<|>|=)?[0-9]+)*$")
KEY = re.compile(r"^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.@-]+)*$")
SOURCE = re.compile(r"^https://github\.com/[^/\s]+/[^/\s]+/(blob|tree)/\S+$")
INPUT = re.compile(r"^[A-Za-z0-9_-]+$")


def load_knowledge() -> dict:
    data = YAML(typ="safe").load(KNOWLEDGE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "actions.yml must be a mapping of action -> entry"
    return data


def load_counter():
    """bench/corpus_actions.py is a script, not a package: load it by path."""
    path = ROOT / "bench" / "corpus_actions.py"
    spec = importlib.util.spec_from_file_location("corpus_actions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KNOWLEDGE_DATA = load_knowledge()


def permission_errors(perms: object) -> list[str]:
    if not isinstance(perms, dict):
        return [f"permissions must be a mapping, got {perms!r}"]
    errors = []
    for scope, level in perms.items():
        if scope not in SCOPES:
            errors.append(f"unknown scope {scope!r}")
        elif level not in LEVELS:
            errors.append(f"{scope}: level must be read|write, got {level!r}")
        elif scope == "id-token" and level != "write":
            errors.append("id-token can only be write")
    return errors


def condition_errors(cond: object) -> list[str]:
    if not isinstance(cond, dict):
        return [f"condition must be a mapping, got {cond!r}"]
    errors = []
    unknown = set(cond) - {"input", "permissions", *CONDITION_KINDS}
    if unknown:
        errors.append(f"unknown condition keys {sorted(unknown)}")
    if not isinstance(cond.get("input"), str) or not INPUT.match(cond.get("input", "")):
        errors.append(f"condition needs an input name, got {cond.get('input')!r}")
    kinds = [k for k in CONDITION_KINDS if k in cond]
    if len(kinds) != 1:
        errors.append(f"condition needs exactly one of {CONDITION_KINDS}, got {kinds}")
    elif kinds[0] in ("equals", "not_equals") and not isinstance(cond[kinds[0]], str):
        errors.append(f"{kinds[0]} must be a string (quote it), got {cond[kinds[0]]!r}")
    elif kinds[0] in ("set", "unset") and cond[kinds[0]] is not True:
        errors.append(f"{kinds[0]} must be `true`")
    if not cond.get("permissions"):
        errors.append("condition must add at least one permission")
    else:
        errors += permission_errors(cond["permissions"])
    return errors


def entry_errors(key: object, entry: object) -> list[str]:
    if not isinstance(key, str) or not KEY.match(key) or "@" in key:
        return [f"key must be lowercase owner/repo[/path] without @ref, got {key!r}"]
    if not isinstance(entry, dict):
        return ["entry must be a mapping"]
    errors = []
    if set(entry) - ENTRY_KEYS:
        errors.append(f"unknown keys {sorted(set(entry) - ENTRY_KEYS)}")
    if "permissions" not in entry:
        errors.append("missing permissions (use {} for none)")
    else:
        errors += permission_errors(entry["permissions"])
    if not isinstance(entry.get("source"), str) or not SOURCE.match(entry["source"]):
        errors.append(f"source must be a github.com blob/tree URL, got {entry.get('source')!r}")
    for field in ("token_input", "token_env"):
        if field in entry and not (isinstance(entry[field], str) and INPUT.match(entry[field])):
            errors.append(f"{field} must be a plain name, got {entry[field]!r}")
    if "token_input" in entry and "token_env" in entry:
        errors.append("token_input and token_env are exclusive")
    keeps = entry.get("keeps", [])
    if not isinstance(keeps, list) or not all(k in SCOPES for k in keeps):
        errors.append(f"keeps must be a list of scopes, got {keeps!r}")
    alternatives = entry.get("alternatives", {})
    if not isinstance(alternatives, dict) or not all(
            scope in SCOPES and isinstance(others, list) and others and set(others) <= SCOPES
            for scope, others in alternatives.items()):
        errors.append(f"alternatives must map scopes to lists of scopes, got {alternatives!r}")
    if "note" in entry and not (isinstance(entry["note"], str) and entry["note"].strip()):
        errors.append("note must be a non-empty string")
    if "when" in entry:
        if not isinstance(entry["when"], list) or not entry["when"]:
            errors.append("when must be a non-empty list")
        else:
            for i, cond in enumerate(entry["when"]):
                errors += [f"when[{i}]: {e}" for e in condition_errors(cond)]
    for i, version in enumerate(entry.get("versions", [])):
        errors += [f"versions[{i}]: {e}" for e in version_errors(version)]
    return errors


def version_errors(version: object) -> list[str]:
    """An override for some majors: a range, a source, and the fields it replaces."""
    if not isinstance(version, dict):
        return [f"a version override must be a mapping, got {version!r}"]
    errors = []
    if set(version) - VERSION_KEYS:
        errors.append(f"unknown keys {sorted(set(version) - VERSION_KEYS)}")
    if not isinstance(version.get("range"), str) or not RANGE.match(version["range"]):
        errors.append(f"range must be like '<7' or '>=4 <6', got {version.get('range')!r}")
    if not isinstance(version.get("source"), str) or not SOURCE.match(version["source"]):
        errors.append(f"source must be a github.com blob/tree URL, got {version.get('source')!r}")
    if "permissions" in version:
        errors += permission_errors(version["permissions"])
    if "token_input" in version and "token_env" in version:
        errors.append("token_input and token_env are exclusive")
    for i, cond in enumerate(version.get("when", [])):
        errors += [f"when[{i}]: {e}" for e in condition_errors(cond)]
    return errors


@pytest.mark.parametrize("key", sorted(KNOWLEDGE_DATA))
def test_entry_schema(key: str) -> None:
    assert entry_errors(key, KNOWLEDGE_DATA[key]) == []


def test_schema_rejects_bad_entries() -> None:
    good = {"permissions": {"contents": "read"}, "source": "https://github.com/a/b/blob/HEAD/action.yml"}
    assert entry_errors("a/b", good) == []
    assert entry_errors("A/B@v1", good)
    assert entry_errors("a/b", {**good, "permissions": {"contents": "admin"}})
    assert entry_errors("a/b", {**good, "permissions": {"id-token": "read"}})
    assert entry_errors("a/b", {**good, "permissions": {"workflows": "write"}})
    assert entry_errors("a/b", {"permissions": {}})  # no source
    issues = {"issues": "write"}
    assert entry_errors("a/b", {**good, "when": [{"input": "x", "permissions": issues}]})
    bad_equals = {"input": "x", "equals": True, "permissions": issues}
    assert entry_errors("a/b", {**good, "when": [bad_equals]})
    assert entry_errors("a/b", {**good, "when": [{"input": "x", "set": True, "permissions": {}}]})
    assert entry_errors("a/b", {**good, "surprise": 1})


def test_notable_facts() -> None:
    """Facts the brief singles out (and that the best-known public knowledge base gets wrong)."""
    k = KNOWLEDGE_DATA

    def when(key: str, inp: str) -> dict:
        return next(c for c in k[key]["when"] if c["input"] == inp)

    assert k["actions/checkout"]["permissions"] == {"contents": "read"}
    assert k["actions/checkout"]["token_input"] == "token"
    assert when("docker/login-action", "registry") == {
        "input": "registry", "equals": "ghcr.io", "permissions": {"packages": "write"},
    }
    assert when("pypa/gh-action-pypi-publish", "password")["permissions"] == {"id-token": "write"}
    assert when("ossf/scorecard-action", "publish_results")["permissions"] == {
        "id-token": "write", "security-events": "write",
    }
    assert k["softprops/action-gh-release"]["permissions"]["contents"] == "write"
    assert when("actions/download-artifact", "run-id")["permissions"] == {"actions": "read"}
    for key in ("github/codeql-action/analyze", "github/codeql-action/upload-sarif"):
        assert k[key]["permissions"]["security-events"] == "write"
    for key in ("actions/attest-build-provenance", "actions/attest-sbom"):
        assert k[key]["permissions"] == {"id-token": "write", "attestations": "write"}
    assert k["actions/deploy-pages"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert k["peter-evans/create-pull-request"]["permissions"] == {
        "contents": "write", "pull-requests": "write",
    }
    # v9 on: the state lives in the Actions cache (actions: write); before v9 it did not
    assert k["actions/stale"]["permissions"] == {"actions": "write", "pull-requests": "write"}
    # issues: write unless both issue inputs are -1 (a PR-only stale run)
    assert {c["input"] for c in k["actions/stale"]["when"]
            if c["permissions"] == {"issues": "write"}} == {
        "days-before-issue-stale", "days-before-issue-close"}
    assert k["actions/stale"]["versions"][0]["range"] == "<9"
    assert "actions" not in k["actions/stale"]["versions"][0]["permissions"]
    assert k["goreleaser/goreleaser-action"]["token_env"] == "GITHUB_TOKEN"
    # OIDC only for the Claude app's token, i.e. when no github_token is given
    assert "id-token" not in k["anthropics/claude-code-action"]["permissions"]
    assert when("anthropics/claude-code-action", "github_token") == {
        "input": "github_token", "unset": True, "permissions": {"id-token": "write"},
    }
    for key in ("actions/setup-node", "actions/setup-python", "actions/cache",
                "actions/upload-artifact"):
        assert k[key]["permissions"] == {}


@pytest.fixture(scope="module")
def corpus_counts():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus absent: {CORPUS} (needs ../shared): coverage not checked")
    counter = load_counter()
    counts = counter.count_actions(CORPUS)
    assert counts, f"no `uses:` found under {CORPUS}"
    return counter, counts


def test_most_used_actions_have_entries(corpus_counts) -> None:
    counter, counts = corpus_counts
    top = [key for key, _ in counter.ranked(counts)[:TOP]]
    missing = [key for key in top if key not in KNOWLEDGE_DATA]
    assert missing == [], f"{len(missing)} of the {TOP} most used actions have no entry"


def test_github_owned_actions_have_entries(corpus_counts) -> None:
    _, counts = corpus_counts
    owned = sorted(k for k in counts if k.startswith(("actions/", "github/")))
    missing = [key for key in owned if key not in KNOWLEDGE_DATA]
    assert missing == [], f"GitHub-owned actions without an entry: {missing}"


def test_action_key_normalisation() -> None:
    counter = load_counter()
    assert counter.action_key("Actions/Checkout@v4") == "actions/checkout"
    assert counter.action_key("github/codeql-action/init@abc123") == "github/codeql-action/init"
    assert counter.action_key("./.github/actions/setup") is None
    assert counter.action_key("docker://alpine:3") is None
    assert counter.action_key("o/r/.github/workflows/x.yml@main") == "o/r/.github/workflows/x.yml"


def test_run_command_prefilter_agrees_with_the_rules() -> None:
    """Every run_commands.yml rule needs some fixed text, so a rule is tried only on texts
    that hold it; the prefilter never hides a line a rule matches."""
    from gha_fix.transforms.analysis import builtin_knowledge
    from gha_fix.transforms.patterns import required_literal

    kb = builtin_knowledge()
    assert all(all(found) for found in kb.rule_literals)
    lines = ["git push origin HEAD", "git -C x push --tags", "docker push ghcr.io/o/i:1",
             "pnpm -r publish --provenance", "npx semantic-release", "goreleaser release",
             'curl "$ACTIONS_ID_TOKEN_REQUEST_URL"', "echo x | docker login ghcr.io -u u",
             "git pull", "docker push docker.io/x", "npm publish", "make all"]
    for line in lines:
        every_rule = any(rule["regex"].search(line) for rule in kb.run_commands)
        assert kb.may_match_command(line) is every_rule, line
    # git pull is a fetch; npm publish is a publishing command of registries.yml
    assert sum(kb.may_match_command(line) for line in lines) == 10
    # a whole script: a command at the start of a later line is found too
    assert kb.may_match_command("npm ci\ngoreleaser release --clean")
    assert not kb.may_match_command("gh release download --repo goreleaser/goreleaser")
    assert not kb.may_match_command("npm install -D semantic-release")
    assert required_literal(r"(?i)push") == ""  # case-insensitive: no fixed text
    for rule in kb.run_commands:  # a rule's own literals: one of them is in each match
        for line in lines:
            match = rule["regex"].search(line)
            if match and rule.get("literals"):
                assert any(lit in match.group() for lit in rule["literals"]), line
    assert required_literal(r"\bx\s+ab[cd]") == "ab"


# --- every knowledge file against its JSON Schema (transforms/data/schema/) ---------------------
def data_files() -> list[str]:
    from gha_fix.transforms import knowledge_files

    return knowledge_files.names()


@pytest.mark.parametrize("name", data_files())
def test_knowledge_file_matches_its_schema(name: str) -> None:
    """Each shipped data file has a schema (a file without one fails here) and follows it."""
    import jsonschema

    from gha_fix.transforms import knowledge_files

    schema = knowledge_files.schema(name)  # raises when the file has no schema
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(knowledge_files.load(name)),
                    key=lambda e: list(map(str, e.absolute_path)))
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]] == []


def test_every_schema_has_its_data_file() -> None:
    schemas = sorted(p.name for p in (ROOT / "transforms" / "data" / "schema").iterdir())
    assert schemas == [n.rsplit(".", 1)[0] + ".schema.json" for n in data_files()]
    assert {"actions.schema.json", "registries.schema.json", "token_notes.schema.json"} <= set(
        schemas)  # the list is not empty: data_files() found the shipped files


def test_the_json_schema_rejects_what_entry_errors_rejects() -> None:
    """actions.yml's JSON Schema says what `entry_errors` says (both are kept)."""
    import jsonschema

    from gha_fix.transforms import knowledge_files

    validator = jsonschema.Draft202012Validator(knowledge_files.schema("actions.yml"))
    good = {"permissions": {"contents": "read"},
            "source": "https://github.com/a/b/blob/HEAD/action.yml"}
    issues = {"issues": "write"}
    bad = [
        ("A/B@v1", good),
        ("a/b", {**good, "permissions": {"contents": "admin"}}),
        ("a/b", {**good, "permissions": {"id-token": "read"}}),
        ("a/b", {**good, "permissions": {"workflows": "write"}}),
        ("a/b", {"permissions": {}}),
        ("a/b", {**good, "when": [{"input": "x", "permissions": issues}]}),
        ("a/b", {**good, "when": [{"input": "x", "equals": True, "permissions": issues}]}),
        ("a/b", {**good, "when": [{"input": "x", "set": True, "permissions": {}}]}),
        ("a/b", {**good, "surprise": 1}),
        ("a/b", {**good, "token_input": "t", "token_env": "T"}),
        ("a/b", {**good, "keeps": ["workflows"]}),
        ("a/b", {**good, "note": " "}),
        ("a/b", {**good, "when": [{"input": "x", "not_equals": True, "permissions": issues}]}),
        ("a/b", {**good, "versions": [{"range": "v7", "source": good["source"]}]}),
        ("a/b", {**good, "versions": [{"range": "<7"}]}),
        ("a/b", {**good, "versions": [{"range": "<7", "source": good["source"], "x": 1}]}),
    ]
    assert validator.is_valid({"a/b": good})
    override = {"range": ">=4 <6", "token_env": "T", "source": good["source"],
                "when": [{"input": "x", "not_equals": "true", "permissions": issues}]}
    versioned = {**good, "versions": [override]}
    assert validator.is_valid({"a/b": versioned}) and entry_errors("a/b", versioned) == []
    for key, entry in bad:
        assert entry_errors(key, entry), (key, entry)
        assert not validator.is_valid({key: entry}), (key, entry)


def test_the_loader_fails_loudly() -> None:
    """A missing, malformed or misshapen knowledge file is an error naming it, never `{}`."""
    from gha_fix.transforms import knowledge_files
    from gha_fix.transforms.knowledge_files import KnowledgeFileError

    with pytest.raises(KnowledgeFileError, match=r"nothing\.yml cannot be read"):
        knowledge_files.load("nothing.yml")
    with pytest.raises(KnowledgeFileError, match=r"actions\.yml:\d+: did not find"):
        knowledge_files.parse("a/b:\n  permissions: {contents: read\n", "actions.yml")
    with pytest.raises(KnowledgeFileError, match="expected a top-level object, got nothing"):
        knowledge_files.parse("# emptied by mistake\n", "actions.yml")
    with pytest.raises(KnowledgeFileError, match="expected a top-level array, got dict"):
        knowledge_files.parse("pattern: x\n", "run_commands.yml")
    with pytest.raises(KnowledgeFileError, match=r"missing top-level keys \['commands'\]"):
        knowledge_files.parse("source: x\n", "gh_commands.yml")
    with pytest.raises(KnowledgeFileError, match="no usable schema"):
        knowledge_files.parse("a: 1\n", "unknown.yml")
    assert knowledge_files.load("shell_inert.yml") is knowledge_files.load("shell_inert.yml")


def test_the_loader_reads_the_installed_package() -> None:
    """Through importlib.resources (a wheel has no transforms/data folder beside the code)."""
    from gha_fix.transforms import knowledge_files

    assert knowledge_files.data_dir().joinpath("schema", "actions.schema.json").is_file()
    assert "actions.yml" in knowledge_files.names()
