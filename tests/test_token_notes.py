"""`token-notes`: each reason for no personal-token note, beside the same step with that reason
removed (which is noted), so that every rule is seen to decide; runner labels; notes only."""

from __future__ import annotations

from pathlib import Path

import pytest

from gha_fix.codemod.runner import RunOptions, process_repo
from gha_fix.transforms.token_notes import TokenNotes, runner_labels, self_hosted

HEAD = "on: push\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n"


def notes(tmp_path: Path, steps: str, head: str = HEAD) -> list[str]:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ci.yml").write_text(head + steps)
    result = process_repo(tmp_path, RunOptions(offline=True), [TokenNotes()])
    (file,) = result.files
    assert file.error is None and not file.changed and file.fixes == []
    return [n.note.message for n in file.notes]


GH = """\
      - run: {command}
        env:
          GH_TOKEN: ${{{{ secrets.{secret} }}}}
"""

# (a step that gets no note, the same step noted once the reason is gone)
PAIRS = {
    "another repository": (GH.format(command='gh issue create --repo "$T" -t x', secret="P"),
                           GH.format(command="gh issue create -t x", secret="P")),
    "only reads": (GH.format(command="gh pr list", secret="P"),
                   GH.format(command="gh pr merge 7", secret="P")),
    "a command not understood": (GH.format(command="./deploy-all", secret="P"),
                                 GH.format(command="gh release create v1", secret="P")),
    "the GITHUB_TOKEN already": (GH.format(command="gh release create v1", secret="GITHUB_TOKEN"),
                                 GH.format(command="gh release create v1", secret="RELEASE")),
    "a registry chosen at run time": (
        "      - uses: docker/login-action@v3\n        with:\n          registry: ${{ env.R }}\n"
        "          password: ${{ secrets.P }}\n",
        "      - uses: docker/login-action@v3\n        with:\n          registry: ghcr.io\n"
        "          password: ${{ secrets.P }}\n"),
    "workflow files": (
        "      - uses: peter-evans/create-pull-request@v6\n        with:\n"
        "          token: ${{ secrets.P }}\n          add-paths: .github/workflows/ci.yml\n",
        "      - uses: peter-evans/create-pull-request@v6\n        with:\n"
        "          token: ${{ secrets.P }}\n          add-paths: docs/\n"),
    "a script naming its repository": (
        "      - uses: actions/github-script@v7\n        with:\n          github-token: "
        "${{ secrets.P }}\n          script: |\n            github.rest.issues.create({owner: 'x', "
        "repo: 'y', title: 't'})\n",
        "      - uses: actions/github-script@v7\n        with:\n          github-token: "
        "${{ secrets.P }}\n          script: |\n            github.rest.issues.create("
        "{...context.repo, title: 't'})\n"),
    "a checkout of another repository": (
        "      - uses: actions/checkout@v4\n        with:\n          repository: o/site\n"
        "          token: ${{ secrets.P }}\n      - run: git push\n",
        "      - uses: actions/checkout@v4\n        with:\n          repository: "
        "${{ github.repository }}\n          token: ${{ secrets.P }}\n      - run: git push\n"),
    "submodules": (
        "      - uses: actions/checkout@v4\n        with:\n          submodules: true\n"
        "          token: ${{ secrets.P }}\n      - run: git push\n",
        "      - uses: actions/checkout@v4\n        with:\n          token: ${{ secrets.P }}\n"
        "      - run: git push\n"),
}


@pytest.mark.parametrize("reason", list(PAIRS))
def test_each_reason_for_no_note_decides(tmp_path: Path, reason: str) -> None:
    quiet, noted = PAIRS[reason]
    assert notes(tmp_path / "quiet", quiet) == []
    (message,) = notes(tmp_path / "noted", noted)
    assert "a personal token expires" in message
    assert "start other workflows" in message  # every noted operation writes


def test_a_reusable_workflow_gets_no_personal_token_note(tmp_path: Path) -> None:
    step = GH.format(command="gh release create v1", secret="P")
    assert notes(tmp_path, step, HEAD.replace("on: push", "on: workflow_call")) == []


def test_one_note_per_secret_and_job_naming_every_operation(tmp_path: Path) -> None:
    steps = (GH.format(command="gh release create v1", secret="P")
             + GH.format(command="gh issue close 3", secret="P"))
    (message,) = notes(tmp_path, steps)
    assert "gh release create, gh issue close (env GH_TOKEN)" in message
    assert "contents: write, issues: write" in message


@pytest.mark.parametrize(("job", "labels"), [
    ({"runs-on": "ubuntu-latest"}, [["ubuntu-latest"]]),
    ({"runs-on": ["self-hosted", "gpu"]}, [["self-hosted", "gpu"]]),
    ({"runs-on": {"group": "ci", "labels": ["linux"]}}, [["group: ci", "linux"]]),
    ({"runs-on": {"labels": "big"}}, [["big"]]),
    ({"runs-on": "${{ inputs.runner }}"}, []),
    ({"runs-on": "${{ matrix.os }}", "strategy": {"matrix": {"os": "${{ fromJSON(x) }}"}}}, []),
    ({"runs-on": "${{ matrix.os }}", "strategy": {"matrix": {"os": ["a", "b"]}}}, [["a"], ["b"]]),
])
def test_runner_labels(job: dict, labels: list[list[str]]) -> None:
    assert runner_labels(job) == labels


@pytest.mark.parametrize(("labels", "verdict"), [
    (["ubuntu-latest"], "no"), (["ubuntu-24.04-arm"], "no"), (["windows-11-arm"], "no"),
    (["macos-15-xlarge"], "no"), (["ubuntu-slim"], "no"), (["Self-Hosted", "linux"], "yes"),
    (["blacksmith-4vcpu-ubuntu-2404"], "maybe"), (["ubuntu-latest-16-cores"], "maybe"),
    (["group: ci", "ubuntu-latest"], "maybe"),
])
def test_self_hosted(labels: list[str], verdict: str) -> None:
    assert self_hosted(labels) == verdict


def test_notes_only(tmp_path: Path) -> None:
    steps = GH.format(command="gh release create v1", secret="P")
    head = HEAD.replace("ubuntu-latest", "[self-hosted]")
    found = notes(tmp_path, steps, head)  # notes() checks: no fix, the file unchanged
    assert len(found) == 2 and "runs on a self-hosted runner" in found[0]
