"""The command line through typer's runner, on real folders (and `git apply` for the diff)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from gha_fix.codemod.cli import app

RELEASE = """name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: gh release create "$GITHUB_REF_NAME"
        env:
          GH_TOKEN: ${{ github.token }}
"""
CLEAN = """on: push
permissions: {}
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo ok
"""


def make_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def invoke(*args: str | Path, only: str | None = "permissions") -> tuple[int, str, str]:
    """Run the CLI; by default with `--select permissions`, the transform these tests drive."""
    argv = [str(a) for a in args]
    if only and argv[0] in ("apply", "check") and "--select" not in argv and "--help" not in argv:
        argv[1:1] = ["--select", only]
    result = CliRunner().invoke(app, argv)
    return result.exit_code, result.stdout, result.stderr


def test_check_exit_codes(tmp_path: Path) -> None:
    due = make_repo(tmp_path / "due", {".github/workflows/release.yml": RELEASE})
    clean = make_repo(tmp_path / "clean", {".github/workflows/ci.yml": CLEAN})
    code, out, _ = invoke("check", due)
    assert code == 1
    assert ".github/workflows/release.yml:7: [permissions] job release: add permissions" in out
    assert invoke("check", clean)[0] == 0


def test_dry_run_writes_nothing_and_the_diff_applies(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": RELEASE})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    code, out, _ = invoke("apply", "--dry-run", repo)
    assert code == 0
    assert (repo / ".github/workflows/release.yml").read_text() == RELEASE
    assert out.startswith("diff --git a/.github/workflows/release.yml b/.github/workflows/release")
    assert "+      contents: write  # gh release create\n" in out
    patch = tmp_path / "fix.patch"
    patch.write_text(out)
    subprocess.run(["git", "-C", str(repo), "apply", "--check", str(patch)], check=True)
    subprocess.run(["git", "-C", str(repo), "apply", str(patch)], check=True)
    # the patched tree is what `apply` writes, and then nothing is left to do
    applied = (repo / ".github/workflows/release.yml").read_text()
    (repo / ".github/workflows/release.yml").write_text(RELEASE)
    invoke("apply", "--no-commit", repo)
    assert (repo / ".github/workflows/release.yml").read_text() == applied
    assert invoke("check", repo)[0] == 0


def test_apply_keeps_the_file_mode(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": RELEASE})
    path = repo / ".github/workflows/release.yml"
    path.chmod(0o640)
    assert invoke("apply", "--no-commit", repo)[0] == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() != RELEASE
    assert [p.name for p in path.parent.iterdir()] == ["release.yml"]  # no temp file left


BAD = {
    "invalid.yml": ("on: push\njobs: [a\n", "invalid.yml:3: invalid YAML"),
    "list.yml": ("- a\n- b\n", "list.yml:1: the document is not a mapping"),
    "several.yml": ("on: push\n---\non: pull_request\n", "several.yml:2: several YAML documents"),
    "dupes.yml": ("on: push\njobs: {}\non: pull_request\n", "dupes.yml:3: duplicate key 'on'"),
    "latin1.yml": (b"on: push\nname: caf\xe9\n", "latin1.yml:2: not valid UTF-8"),
    "empty.yml": ("", "empty.yml:1: empty document"),
}


def test_bad_input_is_one_line_per_file_and_others_still_processed(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f".github/workflows/{n}": c for n, (c, _) in BAD.items()}
    files[".github/workflows/release.yml"] = RELEASE
    repo = make_repo(tmp_path / "repo", files)
    outside = make_repo(tmp_path, {"elsewhere.yml": RELEASE}) / "elsewhere.yml"
    (repo / ".github/workflows/link.yml").symlink_to(outside)
    before = {p.name: p.read_bytes() for p in (repo / ".github/workflows").iterdir()}
    code, _, err = invoke("apply", "--no-commit", repo)
    assert code == 2
    assert "Traceback" not in err
    for _, expected in BAD.values():
        assert f".github/workflows/{expected}" in err
    assert ".github/workflows/link.yml:0: symlink leads outside the repo" in err
    after = {p.name: p.read_bytes() for p in (repo / ".github/workflows").iterdir()}
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["release.yml"]
    assert outside.read_text() == RELEASE


def test_unreadable_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": RELEASE})
    (repo / ".github/workflows/gone.yml").symlink_to(repo / ".github/workflows/missing.yml")
    code, _, err = invoke("check", repo)
    assert code == 2 and ".github/workflows/gone.yml:0: cannot read" in err


def test_select_ignore_and_unknown_ids(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": RELEASE})
    assert invoke("check", "--select", "permissions", "--ignore", "permissions", repo)[0] == 0
    assert invoke("check", "--select", "permissions", repo)[0] == 1
    code, _, err = invoke("check", "--select", "nope", repo)
    assert code == 2 and "unknown transform id: nope" in err


def test_config_file_and_suppression_comment(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {
        ".github/workflows/release.yml": RELEASE,
        ".github/gha-fix.yml": "select: [permissions]\nignore: [permissions]\n",
    })
    assert invoke("check", repo, only=None)[0] == 0
    (repo / ".github/gha-fix.yml").write_text("select: [permissions]\n")
    assert invoke("check", repo, only=None)[0] == 1
    suppressed = RELEASE.replace("  release:\n", "  release:  # gha-fix: ignore[permissions]\n")
    suppressed = suppressed.replace("permissions: {}", "")
    (repo / ".github/workflows/release.yml").write_text(
        suppressed.replace("on:\n", "permissions:\n  contents: read\non:\n"))
    code, out, _ = invoke("check", repo)
    assert code == 0, out
    (repo / ".github/gha-fix.yml").write_text("select: [\n")
    code, _, err = invoke("check", repo)
    assert code == 2 and "\n.github/gha-fix.yml:2: invalid YAML" in err


def test_suppressed_job_keeps_the_top_level_it_relies_on(tmp_path: Path) -> None:
    """A job whose fix is suppressed still inherits the top level: the top is not restricted
    under it (it would lose contents: write and fail with a 403)."""
    workflow = RELEASE.replace("  release:\n", "  release:  # gha-fix: ignore[permissions]\n")
    workflow += ("  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
                 "      - uses: actions/checkout@v4\n")
    repo = make_repo(tmp_path, {".github/workflows/release.yml": workflow})
    code, _, err = invoke("apply", "--no-commit", repo)
    assert code == 0, err
    assert (repo / ".github/workflows/release.yml").read_text() == workflow
    assert "it relies on the fix for job release, which is not applied" in err


def test_json_format(tmp_path: Path) -> None:
    import json

    repo = make_repo(tmp_path, {".github/workflows/release.yml": RELEASE})
    code, out, _ = invoke("check", "--format", "json", repo)
    data = json.loads(out)
    assert code == 1
    fix = data["repos"][0]["files"][0]["fixes"][-1]
    assert fix["transform"] == "permissions" and fix["status"] == "applied"
    assert fix["details"]["permissions"] == {"contents": "write"}


def test_transforms_and_help() -> None:
    code, out, _ = invoke("transforms")
    assert code == 0 and "permissions" in out and "fix safety" in out
    for command in ("apply", "check"):
        code, out, _ = invoke(command, "--help")
        assert code == 0 and "Examples" in out


def test_crlf_and_bom_survive_apply(tmp_path: Path) -> None:
    raw = ("\ufeff" + RELEASE).replace("\n", "\r\n").encode()
    repo = make_repo(tmp_path, {".github/workflows/release.yml": raw})
    assert invoke("apply", "--no-commit", repo)[0] == 0
    new = (repo / ".github/workflows/release.yml").read_bytes()
    assert new.startswith("\ufeff".encode()) and b"\n" not in new.replace(b"\r\n", b"")
    assert b"    permissions:\r\n      contents: write  # gh release create\r\n" in new
