"""The deriver online: an action the knowledge base lacks is read (action.yml, README, the
built code) from GitHub at the pinned ref through the engine's fetcher, against a real HTTP
server on loopback; cached, and never a reason to stop the run's fetching."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import Routes

from gha_fix.codemod.document import Document
from gha_fix.codemod.github_files import GitHubFiles
from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms.analysis.action_metadata import ActionMetadata
from gha_fix.transforms.analysis.knowledge import Knowledge, builtin_knowledge
from gha_fix.transforms.analysis.workflow import Analyser

NODE_WITH_TOKEN = """\
name: labels
inputs:
  token:
    default: ${{ github.token }}
runs:
  using: node20
  main: dist/index.js
"""
CODE = """\
const core = require('@actions/core')
const github = require('@actions/github')
const octokit = github.getOctokit(core.getInput('token'))
await octokit.rest.issues.addLabels({...github.context.repo, issue_number: 1, labels: ['x']})
"""
README_BLOCK = """\
# deploy

```yaml
permissions:
  deployments: write
```
"""
WORKFLOW = """\
on: push
jobs:
  code:
    runs-on: ubuntu-latest
    steps:
      - uses: o/labels@v2
  readme:
    runs-on: ubuntu-latest
    steps:
      - uses: o/big@v1
  silent:
    runs-on: ubuntu-latest
    steps:
      - uses: o/silent@v1
"""


@pytest.fixture(scope="module")
def server() -> Iterator[Routes]:
    routes = Routes()
    routes.serve("/o/labels/v2/action.yml", NODE_WITH_TOKEN)
    routes.serve("/o/labels/v2/dist/index.js", CODE)
    routes.serve("/o/big/v1/action.yml", NODE_WITH_TOKEN)
    routes.serve("/o/big/v1/README.md", README_BLOCK)
    routes.serve("/o/big/v1/dist/index.js", "x" * (1024 * 1024 + 10))  # over the answer cap
    routes.serve("/o/silent/v1/action.yml", NODE_WITH_TOKEN)
    yield routes
    routes.close()


@pytest.fixture(autouse=True)
def no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


def analyse(server: Routes, cache: Path, offline: bool = False) -> tuple[dict, GitHubFiles]:
    files = GitHubFiles(cache, base_url=server.url, api_url=server.url + "/api", timeout=1,
                        retries=0, offline=offline)
    base = builtin_knowledge()
    kb = Knowledge({}, base.gh, base.rest, base.run_commands, base.inert, {})
    repo = RepoContext(cache)
    analyser = Analyser(repo, kb, ActionMetadata(files, index={}))
    data = Document.from_text("w.yml", WORKFLOW).data
    return {j: analyser.job(j, job, {}) for j, job in data["jobs"].items()}, files


def test_remote_action_derived_from_its_code_and_readme(server: Routes, tmp_path: Path) -> None:
    jobs, files = analyse(server, tmp_path)
    assert jobs["code"].understood, jobs["code"].reasons()
    assert jobs["code"].scopes() == {"issues": "write"}
    assert "o/labels (code dist/index.js:4: octokit issues.addLabels)" in \
        jobs["code"].reason_for("issues", "write")
    # a bundle over the answer cap is not read; the README settles it; the run goes on
    assert jobs["readme"].understood, jobs["readme"].reasons()
    assert jobs["readme"].scopes() == {"deployments": "write"}
    assert files.stopped is None and files.failures == 0  # a big file is no dead network
    # neither code nor README: unknown, with why
    assert not jobs["silent"].understood
    assert "its files do not settle which scopes it needs" in " ".join(jobs["silent"].reasons())


def test_derived_files_are_cached_for_offline_runs(server: Routes, tmp_path: Path) -> None:
    analyse(server, tmp_path)
    before = len(server.seen)
    jobs, _ = analyse(server, tmp_path, offline=True)
    assert len(server.seen) == before  # no request
    assert jobs["code"].scopes() == {"issues": "write"}


def test_a_file_over_the_answer_cap_is_no_failure(server: Routes, tmp_path: Path) -> None:
    from gha_fix.transforms.analysis.derive.remote import RemoteFiles

    files = GitHubFiles(tmp_path, base_url=server.url, api_url=server.url + "/api", timeout=1,
                        retries=0)
    remote = RemoteFiles(files, "o", "big", "v1")
    assert remote.read("dist/index.js") is None
    assert files.failures == 0  # three of them would stop every fetch of the run
    assert "larger than" in remote.problems[0]
    assert remote.read("README.md") == README_BLOCK
