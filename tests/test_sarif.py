"""CI output formats: SARIF 2.1.0 (validated against the official schema), GitHub workflow
annotations, JSON; and the CI integration files (`.pre-commit-hooks.yaml`, `action.yml`).

tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 schema (the final "rtm.5"
revision, as published on schemastore.org; copied from the npm package @microsoft/jest-sarif,
MIT).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from repo_helpers import (
    FAKE_TOKEN,
    WORKFLOW,
    make_repo,
    run,
    test_transforms,  # noqa: F401  (a fixture)
)

from gha_fix.codemod.document import Document

pytestmark = pytest.mark.usefixtures("test_transforms")
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
CI = ".github/workflows/ci.yml"
# another token: the fixes of one credential are all applied or none (`codemod/credentials.py`)
SUPPRESSED = WORKFLOW.replace("  build:\n", "  build:  # gha-fix: ignore[secrets-test]\n").replace(
    FAKE_TOKEN, FAKE_TOKEN[:-4] + "1111")



@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {
        CI: WORKFLOW,
        ".github/workflows/quiet.yml": SUPPRESSED,
        ".github/workflows/broken.yml": "jobs: [\n",
    }, use_git=False)


def apply_replacements(text: str, replacements: list[dict]) -> str:
    """Apply SARIF line/column replacements (1-based, end exclusive) to `text`."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return (starts[line - 1] if line <= len(lines) else starts[-1]) + column - 1

    for change in sorted(replacements, key=lambda r: -r["deletedRegion"]["startLine"]):
        region = change["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        text = text[:start] + change["insertedContent"]["text"] + text[end:]
    return text


def test_sarif_is_valid_and_complete(repo: Path) -> None:
    code, out, _ = run("check", "--format", "sarif", str(repo))
    assert code == 2  # broken.yml
    sarif = json.loads(out)
    jsonschema.validate(sarif, SCHEMA)
    assert FAKE_TOKEN not in out
    run_ = sarif["runs"][0]
    rules = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    assert {"perms-test", "secrets-test", "unknown-test"} <= rules
    results = run_["results"]
    assert all(r["ruleId"] in rules for r in results)
    ci = [r for r in results
          if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == CI]
    by_rule = {r["ruleId"]: r for r in ci}
    assert by_rule["perms-test"]["level"] == "warning"
    assert by_rule["unknown-test"]["level"] == "note"
    assert by_rule["perms-test"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 1}
    assert "…(masked)" in by_rule["secrets-test"]["message"]["text"]
    # each fix, applied alone to the original file, gives what `apply` would write for it
    original = (repo / CI).read_text()
    for rule, expect in (("perms-test", "permissions:\n  contents: read\njobs:"),
                         ("secrets-test", "NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n")):
        (fix,) = by_rule[rule]["fixes"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"] == {"uri": CI, "uriBaseId": "%SRCROOT%"}
        fixed = apply_replacements(original, change["replacements"])
        assert expect in fixed
        Document.from_text(CI, fixed)  # still YAML
    # the suppressed finding is there, marked suppressed
    quiet = [r for r in results if r.get("suppressions")]
    assert [r["ruleId"] for r in quiet] == ["secrets-test"]
    assert quiet[0]["suppressions"] == [{"kind": "inSource"}]
    # the file that does not parse is a tool notification
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "broken.yml" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_for_many_repos_is_valid(tmp_path: Path) -> None:
    make_repo(tmp_path / "org" / "a", use_git=False)
    make_repo(tmp_path / "org" / "b", use_git=False)
    code, out, _ = run("check", "--format", "sarif", "--jobs", "1", str(tmp_path / "org"))
    assert code == 1
    sarif = json.loads(out)
    jsonschema.validate(sarif, SCHEMA)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris == {(tmp_path / "org" / n / CI).as_uri() for n in "ab"}


def test_github_annotations(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # paths open from the current folder: absolute from outside the repository
    outside = run("check", "--format", "github", str(repo))[1].splitlines()
    assert outside[0].startswith(f"::warning file={repo / CI},line=1,")
    monkeypatch.chdir(repo)
    code, out, _ = run("check", "--format", "github", ".")
    assert code == 2
    lines = out.splitlines()
    assert (f"::warning file={CI},line=1,title=gha-fix perms-test::"
            "add permissions%3A contents%3A read") not in lines  # data is not property-escaped
    assert (f"::warning file={CI},line=1,title=gha-fix perms-test::"
            "add permissions: contents: read") in lines
    # line 10 of the file on disk, although an earlier transform inserted two lines above it
    assert any(line.startswith(f"::notice file={CI},line=10,title=gha-fix unknown-test::")
               for line in lines)
    assert any(line.startswith("::error title=gha-fix::.github/workflows/broken.yml:")
               for line in lines)
    assert FAKE_TOKEN not in out
    # suppressed findings are not annotated
    assert not any("quiet.yml" in line and "secrets-test" in line for line in lines)


def test_json_format(repo: Path) -> None:
    code, out, _ = run("check", "--format", "json", str(repo))
    assert code == 2
    data = json.loads(out)
    assert data["summary"]["files"] == 3
    assert FAKE_TOKEN not in out


def test_pre_commit_hooks_and_action_files() -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load(ROOT / ".pre-commit-hooks.yaml")
    by_id = {h["id"]: h for h in hooks}
    assert by_id["gha-fix-check"]["entry"] == "gha-fix check"
    assert by_id["gha-fix-apply"]["entry"] == "gha-fix apply --no-commit"
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
    action = Document.from_file(ROOT / "action.yml", "action.yml").data
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert any("gha-fix check" in s.get("run", "") and "--format sarif" in s.get("run", "")
               for s in steps)
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
               for s in steps)
