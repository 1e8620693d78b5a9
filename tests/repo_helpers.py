"""Test-only transforms and real temporary git repositories for the commit and bulk tests.

The transforms are module-level classes so that their instances pickle into worker processes.
The token below is a fixture, not a credential.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note, SecretToCreate
from gha_fix.codemod.operations import ReplaceValue, SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform

FAKE_TOKEN = "npm_TESTONLYfixture0000000000000000000000"

WORKFLOW = """\
name: ci
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      NPM_TOKEN: npm_TESTONLYfixture0000000000000000000000
    steps:
      - uses: actions/checkout@v4
      - uses: someorg/deploy-thing@v1
      - run: npm publish
"""

CLEAN_WORKFLOW = """\
name: lint
on: push
permissions:
  contents: read
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo ok
"""


class AddPermissions(Transform):
    id = "perms-test"
    summary = "test-only: add a top-level permissions block"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        if isinstance(doc.data, dict) and "permissions" not in doc.data:
            op = SetKey((), "permissions", {"contents": "read"}, before=("jobs",))
            yield Fix(self.id, (), "add permissions: contents: read", (op,))


class MoveSecret(Transform):
    """Replaces a plaintext token in a job's env; its message names the value on purpose."""

    id = "secrets-test"
    summary = "test-only: move a plaintext token to a secret"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        for job_id, job in (doc.data.get("jobs") or {}).items():
            for key, value in (job.get("env") or {}).items():
                if isinstance(value, str) and value.startswith("npm_"):
                    path = ("jobs", job_id, "env", key)
                    yield Fix(
                        self.id, path, f"token {value} in env {key} moved to secrets.NPM_TOKEN",
                        (ReplaceValue(path, "${{ secrets.NPM_TOKEN }}"),),
                        secrets=(value,), creates=(SecretToCreate(
                            "NPM_TOKEN", "gh secret set NPM_TOKEN",
                            f"{doc.path}:{doc.line_of(path)}", "npm token", value),),
                    )


class UnknownActions(Transform):
    id = "unknown-test"
    summary = "test-only: a note per action outside actions/*"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        for job_id, job in (doc.data.get("jobs") or {}).items():
            for index, step in enumerate(job.get("steps") or []):
                uses = step.get("uses", "")
                if uses and not uses.startswith("actions/"):
                    action = uses.split("@")[0]
                    yield Note(self.id, ("jobs", job_id, "steps", index),
                               f"job {job_id} left as is: unknown action {uses}",
                               unknown_actions=(action,))


TEST_REGISTRY = {c.id: c for c in (AddPermissions, MoveSecret, UnknownActions)}


@pytest.fixture
def test_transforms(monkeypatch: pytest.MonkeyPatch) -> dict[str, type[Transform]]:
    """The CLI sees only the test transforms (worker processes are forked, so they do too)."""
    import gha_fix.transforms as transforms

    monkeypatch.setattr(transforms, "REGISTRY", dict(TEST_REGISTRY))
    return TEST_REGISTRY


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=False)
    if check and done.returncode:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())


def make_repo(root: Path, files: dict[str, str] | None = None, use_git: bool = True) -> Path:
    """A repo with one workflow needing fixes (unless `files` says otherwise), committed."""
    write_files(root, files if files is not None else {
        ".github/workflows/ci.yml": WORKFLOW,
        ".github/workflows/lint.yml": CLEAN_WORKFLOW,
        "README.md": "# demo\n",
    })
    if use_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "Test User")
        git(root, "config", "user.email", "test@example.com")
        git(root, "config", "commit.gpgsign", "false")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the work tree (not .git), byte for byte."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def run(*args: str) -> tuple[int, str, str]:
    """The CLI through typer's runner: (exit code, stdout, stderr); a crash is re-raised."""
    from typer.testing import CliRunner

    from gha_fix.codemod.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
