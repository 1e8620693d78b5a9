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
    assert code == 2 and f"\n{repo}/.github/gha-fix.yml:2: invalid YAML" in err


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
    # `check` applies nothing: its fixes are due
    assert fix["transform"] == "permissions" and fix["status"] == "due"
    assert fix["details"]["permissions"] == {"contents": "write"}
    assert data["summary"]["fixes"] == {"due": 2} and "due_by_transform" in data["summary"]
    assert "applied" not in out
    code, out, _ = invoke("apply", "--dry-run", "--format", "json", repo)
    assert json.loads(out)["summary"]["fixes"] == {"applied": 2}


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


def test_help_shows_no_type_labels_and_flags_take_no_value(tmp_path: Path) -> None:
    for command in ("apply", "check"):
        code, out, _ = invoke(command, "--help")
        assert code == 0
        for noise in ("<bool>", "<str>", "<path>", "<list[Path]>", "<int>"):
            assert noise not in out, (command, noise)
    repo = make_repo(tmp_path / "repo", {".github/workflows/release.yml": RELEASE})
    code, out, err = invoke("apply", "--dry-run", "true", repo)
    assert code == 2 and out == ""
    assert "true: no such folder (flags such as --dry-run take no value" in err
    assert (repo / ".github/workflows/release.yml").read_text() == RELEASE


UNKNOWN = """on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: some-org/deploy-everything@v3
  release:
    runs-on: ubuntu-latest
    steps:
      - run: gh release create "$GITHUB_REF_NAME"
"""


def test_text_output_is_sorted_by_file_and_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GHA_FIX_OFFLINE", "1")
    repo = make_repo(tmp_path / "repo", {".github/workflows/b.yml": UNKNOWN,
                                         ".github/workflows/a.yml": RELEASE})
    monkeypatch.chdir(repo)
    code, out, _ = invoke("check", ".")
    lines = out.splitlines()
    assert code == 1 and len(lines) >= 4
    where = [(line.split(":")[0], int(line.split(":")[1])) for line in lines]
    assert where == sorted(where)
    assert any("left as is" in line for line in lines)  # the notes are in the order too


def test_paths_open_from_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    repo = make_repo(tmp_path / "work" / "repo", {".github/workflows/release.yml": RELEASE,
                                                  ".github/workflows/bad.yml": "on: [\n"})
    finding = ".github/workflows/release.yml:7: [permissions]"
    error = ".github/workflows/bad.yml:2: invalid YAML"
    monkeypatch.chdir(tmp_path / "work")  # above the repository: relative to here
    _, out, err = invoke("check", "repo")
    assert f"\nrepo/{finding}" in f"\n{out}" and f"\nrepo/{error}" in f"\n{err}"
    monkeypatch.chdir(repo / ".github")  # inside it: what is below is relative
    _, out, _ = invoke("check", "..")
    assert f"\n{finding.removeprefix('.github/')}" in f"\n{out}"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # beside it: absolute, never ../..
    _, out, err = invoke("check", "../work/repo")
    assert f"\n{repo}/{finding}" in f"\n{out}" and f"\n{repo}/{error}" in f"\n{err}"
    assert "../" not in out + err


def test_nothing_found_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for command in ("check", "apply"):
        code, out, err = invoke(command, tmp_path)
        assert code == 0 and out == ""
        assert err.startswith("gha-fix: nothing found: no repository") and err.count("\n") == 1


def test_dirty_tree_commit_does_not_say_applied(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".github/workflows/release.yml": RELEASE, "notes.txt": "x\n"})
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=T", "-c", "user.email=t@example.com", "-c",
                  "commit.gpgsign=false", "commit", "-q", "-m", "init"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    (repo / "notes.txt").write_text("my work\n")
    code, _, err = invoke("apply", repo)
    assert code == 0, err
    assert (repo / ".github/workflows/release.yml").read_text() == RELEASE
    assert "fixes applied" not in err
    assert "2 fixes committed on a new branch (your work tree is untouched)" in err


def test_dry_run_diff_paths_are_relative(tmp_path: Path, monkeypatch) -> None:
    one = make_repo(tmp_path / "one", {".github/workflows/release.yml": RELEASE})
    two = make_repo(tmp_path / "two", {".github/workflows/release.yml": RELEASE})
    _, out, _ = invoke("apply", "--dry-run", one.resolve())
    assert out.startswith("diff --git a/.github/workflows/release.yml b/.github/")
    monkeypatch.chdir(tmp_path)
    _, out, _ = invoke("apply", "--dry-run", one.resolve(), two.resolve())
    assert "--- a/one/.github/workflows/release.yml\n" in out
    assert "+++ b/two/.github/workflows/release.yml\n" in out and "//" not in out


def test_dry_run_with_a_masked_credential_says_how_to_apply(tmp_path: Path) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a test fixture, not a credential
    workflow = RELEASE.replace("${{ github.token }}", token)
    repo = make_repo(tmp_path, {".github/workflows/release.yml": workflow})
    code, out, err = invoke("apply", "--dry-run", "--unsafe-fixes", repo, only="secrets")
    assert code == 0 and token not in out + err and "GH_TOKEN: …(masked)" in out
    assert "does not `git apply` as printed" in err and "gha-fix apply --no-commit" in err
    _, _, err = invoke("apply", "--dry-run", repo)  # permissions only: nothing masked
    assert "git apply" not in err
