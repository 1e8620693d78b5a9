"""The permissions transform: hand-written expectations for every golden case, and the tables.

The golden files say what the text looks like; `expect:` in each case.yml says, written by hand,
what each job's token may do afterwards, so that a regenerated golden cannot hide a lost scope.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from gha_fix.codemod.document import Document
from gha_fix.transforms.analysis import builtin_knowledge, octokit_needs, rest_needs

CASES = sorted((ROOT / "tests" / "golden" / "permissions").glob("*/case.yml"))


def effective(data: dict, job: str) -> object:
    block = data["jobs"][job].get("permissions", data.get("permissions"))
    if isinstance(block, dict):
        return {k: v for k, v in block.items() if v != "none"}
    return block


@pytest.mark.parametrize("case", CASES, ids=[p.parent.name for p in CASES])
def test_effective_permissions_match_hand_written_expectations(case: Path) -> None:
    expect = Document.from_file(case, "case.yml").data["expect"]
    before = Document.from_file(case.parent / "input.yml", "input.yml").data
    after = Document.from_file(case.parent / "expected.yml", "expected.yml").data
    for job, wanted in expect.items():
        if wanted is None:  # left as is
            assert effective(after, job) == effective(before, job), job
        else:
            assert effective(after, job) == wanted, job


def test_rest_paths() -> None:
    rest = builtin_knowledge().rest

    def scopes(method: str, path: str) -> object:
        needs = rest_needs(rest, method, path, "x")
        return None if needs is None else {(n.scope, n.level) for n in needs}

    assert scopes("GET", "/repos/o/r/pulls/1") == {("pull-requests", "read")}
    assert scopes("POST", "repos/o/r/issues/1/comments") == {("issues", "write")}
    assert scopes("PUT", "repos/o/r/pulls/1/merge") == {("contents", "write"),
                                                         ("pull-requests", "write")}
    assert scopes("POST", "repos/o/r/releases") == {("contents", "write")}
    assert scopes("GET", "repos/o/r/collaborators/u/permission") == set()
    assert scopes("POST", "graphql") is None
    assert scopes("GET", "orgs/o/teams") is None  # organisation scopes: not the GITHUB_TOKEN


def test_octokit_methods() -> None:
    octokit = builtin_knowledge().rest["octokit"]

    def scopes(area: str, method: str) -> object:
        needs = octokit_needs(octokit, area, method)
        return None if needs is None else {(n.scope, n.level) for n in needs}

    assert scopes("issues", "createComment") == {("issues", "write")}
    assert scopes("pulls", "listFiles") == {("pull-requests", "read")}
    assert scopes("repos", "createCommitStatus") == {("statuses", "write")}
    assert scopes("repos", "getContent") == {("contents", "read")}
    assert scopes("teams", "addOrUpdateMembershipForUserInOrg") is None
    assert scopes("search", "issuesAndPullRequests") == set()


def test_gh_table_has_the_documented_commands() -> None:
    gh = builtin_knowledge().gh
    assert gh["release create"] == {"contents": "write"}
    assert gh["pr merge"] == {"contents": "write", "pull-requests": "write"}
    assert gh["workflow run"] == {"actions": "write"}
    assert gh["run download"] == {"actions": "read"}
    assert gh["secret set"] == "unknown"


def test_a_bad_config_stops_the_repository_with_every_problem(tmp_path: Path) -> None:
    """A misspelt `repository_default`, a misspelt scope and `unsafe-fixes: no` are each an
    error at its line; nothing is written (before: the scope typo made the job need nothing,
    and `no` turned unsafe fixes on)."""
    from gha_fix.codemod.runner import RunOptions, process_repo

    workflow = tmp_path / ".github/workflows/ci.yml"
    workflow.parent.mkdir(parents=True)
    text = ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
            "      - run: make release\n")
    workflow.write_text(text)
    (tmp_path / ".github/gha-fix.yml").write_text(
        "unsafe-fixes: no\npermissions:\n  repository_default: restrictd\n"
        "  commands:\n    make release: {content: write}\n")
    result = process_repo(tmp_path, RunOptions(write=True))
    assert result.error is not None
    lines = result.error.splitlines()
    assert [line.split(":")[:2] for line in lines] == [
        [".github/gha-fix.yml", "1"], [".github/gha-fix.yml", "3"],
        [".github/gha-fix.yml", "5"]]
    assert "unsafe-fixes: expected boolean, got 'no'" in lines[0]
    assert "repository_default: expected one of restricted, permissive" in lines[1]
    assert "make release.content: key expected one of" in lines[2]
    assert result.files == [] and workflow.read_text() == text
