"""`gha-fix diagnose`: the three log shapes, the workflow found with --repo, the patch, the JSON
schema, masking and the command line."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from test_cli import invoke, make_repo

from gha_fix.transforms.diagnose import diagnose, read_log
from gha_fix.transforms.diagnose.logs import LogError, read_text

SCHEMA = json.loads((ROOT / "transforms" / "diagnose" / "diagnosis.schema.json").read_text())

# what `gh run view RUN --log-failed` prints
GH_LOG = (
    "release\tPublish\t2024-05-01T10:00:00.1000000Z ##[group]Run gh release create v1.2.0\n"
    "release\tPublish\t2024-05-01T10:00:00.2000000Z \x1b[36;1mgh release create v1.2.0\x1b[0m\n"
    "release\tPublish\t2024-05-01T10:00:00.3000000Z shell: /usr/bin/bash -e {0}\n"
    "release\tPublish\t2024-05-01T10:00:00.4000000Z env:\n"
    "release\tPublish\t2024-05-01T10:00:00.5000000Z   GH_TOKEN: ***\n"
    "release\tPublish\t2024-05-01T10:00:00.6000000Z ##[endgroup]\n"
    "release\tPublish\t2024-05-01T10:00:01.0000000Z HTTP 403: Resource not accessible by "
    "integration (https://api.github.com/repos/octo/app/releases)\n"
    "release\tPublish\t2024-05-01T10:00:01.1000000Z ##[error]Process completed with exit code 1.\n"
)

# a step's log copied from the web UI
WEB_LOG = """\
2024-05-01T10:00:00.0Z ##[group]Run actions/github-script@v7
2024-05-01T10:00:00.0Z with:
2024-05-01T10:00:00.0Z   github-token: ***
2024-05-01T10:00:00.0Z ##[endgroup]
2024-05-01T10:00:02.0Z RequestError [HttpError]: Resource not accessible by integration
2024-05-01T10:00:02.0Z   status: 403,
2024-05-01T10:00:02.0Z     url: 'https://api.github.com/repos/octo/app/issues/7/labels',
2024-05-01T10:00:02.0Z     'x-accepted-github-permissions': 'issues=write; pull_requests=write',
2024-05-01T10:00:02.0Z ##[error]Unhandled error: HttpError: Resource not accessible by integration
"""

WORKFLOW = """\
name: Release
on:
  push:
    tags: ['v*']
  pull_request:
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - name: Publish
        run: gh release create v1.2.0
        env:
          GH_TOKEN: ${{ github.token }}
  notify:
    runs-on: ubuntu-latest
    steps:
      - name: Tell the chat
        uses: octo/notify@v1
        with:
          token: ${{ secrets.CHAT_BOT_PAT }}
"""


def archive(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def valid(result_json: str) -> dict:
    data = json.loads(result_json)
    jsonschema.validate(data, SCHEMA)
    return data


def test_gh_run_view_lines_name_the_job_and_step() -> None:
    lines = read_text(GH_LOG)
    assert {(line.job, line.step) for line in lines} == {("release", "Publish")}
    assert lines[-1].text == "Process completed with exit code 1."
    result = diagnose(lines)
    assert (result.cause, result.job, result.step) == ("missing-scope", "release", "Publish")
    assert result.scopes == ["contents:write"]
    assert result.secret is None  # a missing scope is not about a secret


def test_web_log_header_and_accepted_permissions() -> None:
    result = diagnose(read_text(WEB_LOG))
    assert result.cause == "missing-scope"
    assert result.step == "actions/github-script@v7"
    assert (result.scopes, result.alternative_scopes) == (["issues:write"], ["pull-requests:write"])
    assert result.scopes_from == "the x-accepted-github-permissions header"
    assert result.evidence[0].startswith("RequestError [HttpError]")


def test_archive_step_files_and_job_files() -> None:
    data = archive({
        "1_build.txt": "2024-05-01T10:00:00.0000000Z all good\n",
        "release/1_Set up job.txt": "2024-05-01T10:00:00.0000000Z Current runner version\n",
        "release/3_Publish.txt": WEB_LOG.replace("actions/github-script@v7", "gh api x"),
    })
    lines = read_log(data, "logs_42.zip")
    assert [line.job for line in lines][:1] == ["build"]
    result = diagnose(lines)
    assert (result.job, result.step) == ("release", "Publish")
    with pytest.raises(LogError):
        read_log(b"PK\x03\x04 broken", "logs.zip")


def test_repo_locates_the_step_and_patches_the_job(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": WORKFLOW})
    result = diagnose(read_text(GH_LOG), repo)
    assert (result.workflow, result.job, result.step) == (
        ".github/workflows/release.yml", "release", "Publish")
    assert result.line == 13
    assert result.possible_causes == ["fork-read-only"]  # the workflow runs on pull_request
    assert result.patch is not None
    assert "+      contents: write  # Publish: its run failed without it\n" in result.patch
    assert "-      contents: read\n" in result.patch
    valid(json.dumps({**json.loads(json.dumps(result.to_dict()))}))


def test_no_patch_for_a_job_with_no_block_that_is_not_understood(tmp_path: Path) -> None:
    """No block anywhere: the repository's default, unknown; the job runs `make`, which may use
    any scope of it: a new block could take one away (see test_diagnose_apply.py for more)."""
    text = WORKFLOW.replace("    permissions:\n      contents: read\n", "").replace(
        "run: gh release create v1.2.0", "run: |\n          gh release create v1.2.0\n"
        "          make publish")
    repo = make_repo(tmp_path, {".github/workflows/release.yml": text})
    result = diagnose(read_text(GH_LOG), repo)
    assert result.patch is None
    assert "no `permissions:` block" in (result.patch_note or "")
    assert "make" in (result.patch_note or "")


def test_pat_names_the_secret_from_the_workflow(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": WORKFLOW})
    log = ("notify\tTell the chat\t2024-05-01T10:00:00.0000000Z ##[group]Run octo/notify@v1\n"
           "notify\tTell the chat\t2024-05-01T10:00:00.1000000Z with:\n"
           "notify\tTell the chat\t2024-05-01T10:00:00.2000000Z   token: ***\n"
           "notify\tTell the chat\t2024-05-01T10:00:01.0Z Error: HttpError: Bad credentials\n")
    result = diagnose(read_text(log), repo)
    assert (result.cause, result.secret, result.token) == ("pat", "CHAT_BOT_PAT", "token")
    assert "gh secret set CHAT_BOT_PAT" in result.fix
    assert diagnose(read_text(log)).secret is None  # an input's name is not the secret's


def test_credentials_in_a_log_are_masked() -> None:
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    log = f"remote: Invalid username or password. url=https://x:{token}@github.com/o/r\n"
    result = diagnose(read_text(log))
    assert result.cause == "pat"
    assert token not in "".join(result.evidence)
    assert "ghp_…(masked)" in result.evidence[0]


def test_unknown_says_so() -> None:
    log = "npm ERR! code ERESOLVE\n##[error]Process completed with exit code 1.\n"
    result = diagnose(read_text(log))
    assert (result.cause, result.evidence, result.scopes) == ("unknown", [], [])
    assert "does not guess" in result.fix
    valid(json.dumps(result.to_dict()))


@pytest.mark.parametrize("text", [GH_LOG, WEB_LOG, "Bad credentials\n", "nothing\n"])
def test_json_output_follows_the_schema(tmp_path: Path, text: str) -> None:
    log = tmp_path / "run.log"
    log.write_text(text)
    code, out, _ = invoke("diagnose", "--format", "json", log)
    data = valid(out)
    assert code == (1 if data["cause"] == "unknown" else 0)


def test_cli_text_stdin_and_errors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gha_fix.codemod.cli import app

    result = CliRunner().invoke(app, ["diagnose", "-"], input=GH_LOG)
    assert result.exit_code == 0
    assert result.stdout.startswith("cause: missing-scope")
    assert "scopes: contents:write" in result.stdout
    code, _, err = invoke("diagnose", tmp_path / "missing.log")
    assert code == 2 and "missing.log" in err
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04nope")
    code, _, err = invoke("diagnose", tmp_path / "bad.zip")
    assert code == 2 and "archive" in err
    code, _, err = invoke("diagnose", "--repo", tmp_path, tmp_path / "bad.zip")
    assert code == 2 and ".github/workflows" in err


def test_repo_from_the_command_line_shows_the_patch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {".github/workflows/release.yml": WORKFLOW})
    log = tmp_path / "run.log"
    log.write_text(GH_LOG)
    code, out, _ = invoke("diagnose", "--repo", repo, log)
    assert code == 0
    assert "where: .github/workflows/release.yml:13 job 'release', step 'Publish'" in out
    assert "+      contents: write" in out
