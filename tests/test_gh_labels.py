"""Labels on a pull request: GitHub accepts `pull-requests: write` for them (issue #12 §4), so
`gh pr create --label` / `gh pr edit --add-label` add no `issues: write`."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_analysis import job_scopes, workflow

ENV = "        env:\n          GH_TOKEN: ${{ github.token }}\n"


@pytest.mark.parametrize("command", [
    "gh pr create --fill --label dependencies",
    "gh pr create --fill --label=dependencies",
    "gh pr edit 12 --add-label ready",
    "gh pr edit 12 --remove-label wip",
])
def test_labels_on_a_pull_request_need_pull_requests_write(tmp_path: Path, command: str) -> None:
    steps = f"      - run: {command}\n{ENV}"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": {"pull-requests": "write"}}


def test_labels_on_an_issue_need_issues_write(tmp_path: Path) -> None:
    steps = f"      - run: gh issue edit 3 --add-label bug\n{ENV}"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": {"issues": "write"}}
