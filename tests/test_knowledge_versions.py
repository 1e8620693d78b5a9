"""Needs that depend on an input's value and on the action's major version (issue #12 §4):
`not_equals` conditions and `versions:` overrides of actions.yml; an unpinned or SHA ref
gets the union of every version's needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_analysis import job_scopes, workflow

from gha_fix.transforms.analysis.versions import major_of, within


def step(uses: str, with_: str = "", env: str = "") -> str:
    text = f"      - uses: {uses}\n"
    if with_:
        text += f"        with: {{{with_}}}\n"
    if env:
        text += f"        env: {{{env}}}\n"
    return text


@pytest.mark.parametrize(("ref", "major"), [
    ("o/a@v9", 9), ("o/a@v9.1.0", 9), ("o/a@10", 10), ("o/a@v7-beta", 7),
    ("o/a@c2e2804cc59f45f57076a99af580d0fedb697927", None), ("o/a@main", None), ("o/a", None),
])
def test_major_of_a_ref(ref: str, major: int | None) -> None:
    assert major_of(ref) == major


def test_ranges() -> None:
    assert within(9, ">=9") and not within(8, ">=9")
    assert within(5, ">=4 <6") and not within(6, ">=4 <6")
    assert within(7, "7") and not within(8, "7")
    assert within(None, "<7")  # an unknown major may be in any range


TOKEN = "GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}'"


@pytest.mark.parametrize(("uses", "with_", "expected"), [
    # v6 and before: drafts (contents: write) and labels (pull-requests: write)
    ("release-drafter/release-drafter@v6", "", {"contents": "write", "pull-requests": "write"}),
    # disable-releaser: it only labels
    ("release-drafter/release-drafter@v6", "disable-releaser: true",
     {"pull-requests": "write"}),
    # disable-autolabeler: it reads the merged pull requests only
    ("release-drafter/release-drafter@v5.25.0", "disable-autolabeler: true",
     {"contents": "write", "pull-requests": "read"}),
    # v7: the root action only drafts; the autolabeler is its own action
    ("release-drafter/release-drafter@v7", "", {"contents": "write", "pull-requests": "read"}),
    # a SHA: any version may run: the union
    ("release-drafter/release-drafter@c2e2804cc59f45f57076a99af580d0fedb697927", "",
     {"contents": "write", "pull-requests": "write"}),
])
def test_release_drafter(tmp_path: Path, uses: str, with_: str, expected: dict) -> None:
    assert job_scopes(tmp_path, workflow(step(uses, with_, TOKEN))) == {"j": expected}


def test_release_drafter_v7_takes_its_token_input(tmp_path: Path) -> None:
    """v7 reads its `token` input (default: the GITHUB_TOKEN), not the env."""
    uses = "release-drafter/release-drafter@v7"
    assert job_scopes(tmp_path, workflow(step(uses))) == {
        "j": {"contents": "write", "pull-requests": "read"}}
    pat = "token: '${{ secrets.RELEASE_PAT }}'"
    assert job_scopes(tmp_path, workflow(step(uses, pat))) == {"j": {}}


@pytest.mark.parametrize(("uses", "with_", "expected"), [
    ("actions/stale@v9", "", {"actions": "write", "issues": "write", "pull-requests": "write"}),
    ("actions/stale@v10.1.0", "", {"actions": "write", "issues": "write",
                                   "pull-requests": "write"}),
    ("actions/stale@v8", "", {"issues": "write", "pull-requests": "write"}),
    ("actions/stale@v3", "delete-branch: true",
     {"contents": "write", "issues": "write", "pull-requests": "write"}),
    ("actions/stale@main", "", {"actions": "write", "issues": "write", "pull-requests": "write"}),
])
def test_stale_keeps_its_state_in_the_cache_from_v9(tmp_path: Path, uses: str, with_: str,
                                                    expected: dict) -> None:
    assert job_scopes(tmp_path, workflow(step(uses, with_))) == {"j": expected}


def test_not_equals_decided_at_run_time_says_so(tmp_path: Path) -> None:
    from gha_fix.codemod.document import Document
    from gha_fix.codemod.repo import RepoContext
    from gha_fix.transforms.analysis import analyse_workflow

    text = workflow(step("release-drafter/release-drafter@v6",
                         "disable-releaser: '${{ inputs.label-only }}'", TOKEN))
    needs = analyse_workflow(Document.from_text("w.yml", text), RepoContext(tmp_path))["j"]
    assert needs.reason_for("contents", "write") == (
        "release-drafter/release-drafter, when its disable-releaser input is not true")


@pytest.mark.parametrize(("uses", "expected"), [
    ("dessant/lock-threads@v4", {"issues": "write", "pull-requests": "write"}),
    ("dessant/lock-threads@v5", {"issues": "write", "pull-requests": "write",
                                 "discussions": "write"}),
])
def test_lock_threads_locks_discussions_from_v5(tmp_path: Path, uses: str,
                                                expected: dict) -> None:
    assert job_scopes(tmp_path, workflow(step(uses))) == {"j": expected}
