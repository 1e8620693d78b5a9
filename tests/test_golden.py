"""Byte-exact golden cases: tests/golden/<transform>/<case>/{input.yml,expected.yml}.

A case may add `case.yml` (transform options, `unsafe_fixes`, the workflow's file name), a
`repo/` folder with other files of the repository (local actions, reusable workflows, scripts)
and `messages.txt`, the expected report lines.  `--update-goldens` rewrites expected files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from engine_ops import Exercise, Ops

from gha_fix.codemod.document import Document
from gha_fix.codemod.report import text_lines
from gha_fix.codemod.runner import RunOptions, process_repo
from gha_fix.transforms import REGISTRY

GOLDEN = ROOT / "tests" / "golden"
TEST_TRANSFORMS = {"ops": Ops, "exercise": Exercise}
CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "input.yml").is_file())


def run_case(case: Path, tmp_path: Path, text: bytes | None = None) -> tuple[bytes, list[str]]:
    transform_id = case.parent.name
    spec = Document.from_file(case / "case.yml", "case.yml").data if (
        case / "case.yml").is_file() else {}
    cls = TEST_TRANSFORMS.get(transform_id) or REGISTRY[transform_id]
    repo = tmp_path / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    if (case / "repo").is_dir():
        shutil.copytree(case / "repo", repo)
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    target = workflows / spec.get("file", "workflow.yml")
    target.write_bytes(text if text is not None else (case / "input.yml").read_bytes())
    options = RunOptions(write=True, unsafe_fixes=bool(spec.get("unsafe_fixes")))
    result = process_repo(repo, options, [cls(spec.get("options"))])
    cwd = os.getcwd()
    os.chdir(repo)  # the lines as a user standing in the repository reads them
    try:
        lines = text_lines([result]) + result.errors
    finally:
        os.chdir(cwd)
    return target.read_bytes(), lines


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_golden(case: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    output, lines = run_case(case, tmp_path)
    messages = "".join(line + "\n" for line in lines)
    if request.config.getoption("--update-goldens"):
        (case / "expected.yml").write_bytes(output)
        (case / "messages.txt").write_text(messages)
    assert output == (case / "expected.yml").read_bytes()
    if (case / "messages.txt").is_file():
        assert messages == (case / "messages.txt").read_text()
    # a second run over the result changes nothing
    again, _ = run_case(case, tmp_path, output)
    assert again == output
