"""Bulk runs: discovering repositories, shards, parallel processes, one broken repo, reports."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pytest
from repo_helpers import (
    CLEAN_WORKFLOW,
    WORKFLOW,
    git,
    make_repo,
    run,
    test_transforms,  # noqa: F401  (a fixture)
    write_files,
)

from gha_fix.codemod.bulk import Mode, RunSpec, Target, discover, parse_shard, run_all, shard
from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform

CI = ".github/workflows/ci.yml"


class Boom(Transform):
    """Crashes on a repo that has a `boom.yml` workflow: a bug must stay in its repo."""

    id = "boom-test"
    summary = "test-only: raise"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        if doc.path.endswith("boom.yml"):
            raise RuntimeError("transform bug")
        return []


@pytest.fixture(autouse=True)
def _transforms(test_transforms: dict, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import gha_fix.transforms as transforms

    monkeypatch.setitem(transforms.REGISTRY, Boom.id, Boom)



@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """org/ with three git repos (one nested a level deeper), one broken, one plain folder."""
    org = tmp_path / "org"
    make_repo(org / "alpha")
    make_repo(org / "team" / "beta")
    make_repo(org / "gamma", {CI: WORKFLOW, ".github/gha-fix.yml": "select: [nope]\n"})
    make_repo(org / "delta", {CI: WORKFLOW, ".github/workflows/boom.yml": CLEAN_WORKFLOW})
    make_repo(org / "plain", use_git=False)
    write_files(org, {
        "node_modules/x/.github/workflows/ci.yml": WORKFLOW,  # never searched
        ".hidden/y/.github/workflows/ci.yml": WORKFLOW,
        "docs/readme.md": "not a repo\n",
    })
    return org


def names(targets: list[Target], base: Path) -> list[str]:
    return [t.path.relative_to(base).as_posix() for t in targets]


def test_discover_roots(fleet: Path) -> None:
    found = discover([fleet])
    assert names(found, fleet) == ["alpha", "delta", "gamma", "plain", "team/beta"]
    # depth limit: team/beta is two levels down
    assert "team/beta" not in names(discover([fleet], depth=1), fleet)
    # a root given directly, twice, and a missing path
    again = discover([fleet / "alpha", fleet / "alpha" / ".", fleet / "missing"])
    assert [t.error for t in again] == [None, f"{fleet / 'missing'}: no such folder"]


def test_shards_partition_the_fleet(fleet: Path) -> None:
    targets = discover([fleet])
    parts = [names(shard(targets, k, 3), fleet) for k in (1, 2, 3)]
    assert sorted(n for part in parts for n in part) == sorted(names(targets, fleet))
    assert parts == [["alpha", "plain"], ["delta", "team/beta"], ["gamma"]]
    # the same list in another order gives the same shards
    assert names(shard(list(reversed(targets)), 1, 3), fleet) == ["plain", "alpha"]
    assert parse_shard("2/8") == (2, 8)
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_parallel_results_match_sequential(fleet: Path) -> None:
    targets = discover([fleet])
    one = run_all(targets, RunSpec(Mode.CHECK), jobs=1)
    two = run_all(targets, RunSpec(Mode.CHECK), jobs=2)
    assert [r.root for r in one] == [r.root for r in two] == [str(t.path) for t in targets]
    assert [len(r.fixes()) for r in one] == [len(r.fixes()) for r in two]
    assert [r.errors for r in one] == [r.errors for r in two]


def test_bulk_check_with_one_broken_repo(fleet: Path, tmp_path: Path) -> None:
    report = tmp_path / "out.json"
    code, out, err = run("check", "--jobs", "2", "--report", str(report), str(fleet))
    assert code == 2  # errors win over "fixes are due"
    data = json.loads(report.read_text())
    repos = {Path(r["root"]).relative_to(fleet).as_posix(): r for r in data["repos"]}
    assert set(repos) == {"alpha", "delta", "gamma", "plain", "team/beta"}
    assert repos["gamma"]["errors"] == [
        ".github/gha-fix.yml:1: select.0: expected one of boom-test, perms-test, secrets-test, "
        "unknown-test, got 'nope'"]
    assert repos["delta"]["errors"] == [
        ".github/workflows/boom.yml:0: internal error in transform boom-test (RuntimeError); "
        "this file was left as is"
    ]
    assert repos["delta"]["fixes_by_transform"] == {"perms-test": 1, "secrets-test": 1}
    for ok in ("alpha", "team/beta", "plain"):
        assert repos[ok]["errors"] == []
        assert repos[ok]["fixes_by_transform"] == {"perms-test": 1, "secrets-test": 1}
        assert repos[ok]["files_changed"] == [CI]
        assert repos[ok]["branch"] is None
    # unknown actions aggregated over the fleet, from Note.details
    assert data["unknown_actions"] == [{"action": "someorg/deploy-thing", "count": 4, "repos": 4}]
    assert "npm_TEST" not in report.read_text()
    # findings of every good repo, prefixed by the repo; the table and the errors on stderr
    assert f"{fleet / 'alpha'}/{CI}:1: [perms-test]" in out
    assert "repository" in err and "5 repos" in err


def test_bulk_apply_commits_per_repo_and_plain_folder_fails_alone(fleet: Path,
                                                                  tmp_path: Path) -> None:
    report = tmp_path / "out.json"
    code, _, err = run("apply", "--jobs", "3", "--branch", "gha-fix/fleet",
                       "--report", str(report), str(fleet))
    assert code == 2
    data = {Path(r["root"]).name: r for r in json.loads(report.read_text())["repos"]}
    assert data["alpha"]["branch"] == data["beta"]["branch"] == "gha-fix/fleet"
    assert git(fleet / "alpha", "rev-parse", "--abbrev-ref", "HEAD").strip() == "gha-fix/fleet"
    assert data["plain"]["branch"] is None
    assert data["plain"]["errors"] == [
        f"{fleet / 'plain'}: not the root of a git repository "
        "(use --no-commit to write the files only)"
    ]
    assert "permissions" not in (fleet / "plain" / CI).read_text()
    assert f"{fleet / 'plain'}: not the root of a git repository" in err


def test_dry_run_and_no_commit_work_on_plain_folders(fleet: Path) -> None:
    plain = fleet / "plain"
    code, out, _ = run("apply", "--dry-run", str(plain), str(fleet / "alpha"))
    assert code == 0
    # a repository's folder in the diff's paths is relative to the current one, never `b//tmp`
    assert f"+++ b/{os.path.relpath(plain)}/{CI}" in out and "b//" not in out
    assert "permissions" not in (plain / CI).read_text()
    assert run("apply", "--no-commit", str(plain))[0] == 0
    assert "permissions:" in (plain / CI).read_text()


def test_dry_run_diffs_are_the_same_from_worker_processes(fleet: Path) -> None:
    """Workers render the diffs (in parallel); the output is the one a single process gives,
    with each path under its repo's folder."""
    repos = [str(fleet / "plain"), str(fleet / "alpha"), str(fleet / "team" / "beta")]
    code, sequential, _ = run("apply", "--dry-run", "--jobs", "1", *repos)
    code2, parallel, _ = run("apply", "--dry-run", "--jobs", "2", *repos)
    assert code == code2 == 0 and sequential == parallel
    for repo in repos:
        shown = os.path.relpath(repo)
        assert f"--- a/{shown}/{CI}" in parallel and f"+++ b/{shown}/{CI}" in parallel
    # the diffs come back rendered from the workers, not left to the parent process
    spec = RunSpec(Mode.DRY_RUN, diffs=True, many=True)
    results = run_all([Target(Path(r)) for r in repos], spec, jobs=2)
    changed = [f for r in results for f in r.files if f.changed]
    assert changed and all(f.diff and f.diff.startswith("diff --git a/") for f in changed)


def test_repos_from_and_shard_on_the_command_line(fleet: Path, tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# the fleet\n{fleet / 'alpha'}\n\n{fleet / 'team'}\n{fleet / 'plain'}\n")
    report = tmp_path / "out.json"
    code, _, _ = run("check", "--repos-from", str(listing), "--shard", "1/2",
                     "--report", str(report))
    assert code == 1
    roots = [Path(r["root"]).name for r in json.loads(report.read_text())["repos"]]
    assert roots == ["alpha", "beta"]  # sorted: alpha, plain, team/beta -> 1st and 3rd
    code, _, err = run("check", "--shard", "3/2", str(fleet))
    assert code == 2 and "K must be between 1 and N" in err
    code, _, err = run("check", "--repos-from", str(tmp_path / "none.txt"))
    assert code == 2 and err.startswith(f"gha-fix: {tmp_path / 'none.txt'}:")


def test_folder_without_workflows_is_nothing_to_do(tmp_path: Path) -> None:
    """Nothing to fix (exit 0), said in one clear line; in JSON, an empty document."""
    code, out, err = run("check", str(tmp_path))
    assert code == 0 and out == ""
    assert err == (f"gha-fix: nothing found: no repository (a folder with .github/workflows/) "
                   f"under {tmp_path}, 3 levels deep\n")
    code, out, err = run("check", "--format", "json", str(tmp_path))
    assert code == 0 and json.loads(out)["repos"] == [] and "nothing found" in err
    assert run("apply", "--no-commit", str(tmp_path))[0] == 0


def test_a_crashing_repo_never_stops_the_others(fleet: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    import gha_fix.codemod.bulk as bulk

    real = bulk.process_repo

    def flaky(root: Path, *args: object) -> object:
        if root.name == "alpha":
            raise MemoryError("boom")
        return real(root, *args)

    monkeypatch.setattr(bulk, "process_repo", flaky)  # the forked workers see it too
    results = run_all(discover([fleet]), RunSpec(Mode.CHECK), jobs=2)
    assert results[0].errors == [f"{fleet / 'alpha'}: internal error: MemoryError('boom')"]
    assert all(len(r.fixes()) == 2 for r in results[1:] if Path(r.root).name != "gamma")


@pytest.mark.parametrize("where", ["missing/out.json", "a-file/out.json", "folder"])
def test_unwritable_report_is_refused_before_anything_is_committed(
        fleet: Path, tmp_path: Path, where: str) -> None:
    """Fails on the code before the fix: the repositories were committed first, and the
    report's failure came after (exit 2 with every branch made)."""
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "folder").mkdir()
    report = tmp_path / where
    code, out, err = run("apply", "--jobs", "2", "--report", str(report), str(fleet))
    assert code == 2 and out == ""
    assert err.startswith(f"gha-fix: {report}: cannot write the report: ")
    assert err.count("\n") == 1
    assert git(fleet / "alpha", "branch", "--list", "gha-fix/*") == ""
    assert "permissions" not in (fleet / "alpha" / CI).read_text()


def test_repos_from_that_is_not_utf8_is_one_line(fleet: Path, tmp_path: Path) -> None:
    """Fails on the code before the fix: a UnicodeDecodeError traceback."""
    listing = tmp_path / "repos.txt"
    listing.write_bytes(f"{fleet / 'alpha'}\n".encode() + b"caf\xe9\n")
    code, out, err = run("check", "--repos-from", str(listing))
    assert (code, out) == (2, "")
    assert err == f"gha-fix: {listing}:2: not UTF-8 (one path a line)\n"


def test_results_cross_processes_without_the_files_texts(fleet: Path) -> None:
    """The parent of a bulk run keeps each result compressed, without the files' texts
    (`changed` and the rendered diffs stay): its memory does not grow with the fleet's text."""
    from gha_fix.codemod.bulk import run_fleet

    spec = RunSpec(Mode.DRY_RUN, diffs=True, many=True)
    run = run_fleet(discover([fleet / "alpha", fleet / "plain"]), spec, jobs=2)
    assert not run.interrupted and run.total == len(run.results) == 2
    for repo in run.results:
        changed = [f for f in repo.files if f.changed]
        assert [f.path for f in changed] == [CI] and changed[0].diff
        assert all(f.original == "" and f.new in ("", "\n") for f in repo.files)
    kept = run_fleet(discover([fleet / "alpha"]), RunSpec(Mode.CHECK, texts=True)).results
    assert kept[0].files[0].original.startswith("name: ci")


def test_summaries_read_like_the_results(fleet: Path) -> None:
    """The parent's stand-ins give the summary, the table, the report, the errors and the
    exit code exactly as the full results do (the report's masking included)."""
    from rich.console import Console

    from gha_fix.codemod.bulk import run_fleet
    from gha_fix.codemod.output import applied_verb
    from gha_fix.codemod.report import bulk_report, error_lines, summary, summary_table

    run = run_fleet(discover([fleet]), RunSpec(Mode.CHECK), jobs=2)
    full, slim = list(run.results), run.results.summaries
    assert len(slim) == 5

    def table(results: list) -> str:
        console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(summary_table(results))
        return console.export_text()

    for render in (summary, bulk_report, error_lines, table, lambda r: applied_verb(r, True)):
        assert render(slim) == render(full)
    assert "npm_TEST" not in bulk_report(slim)


def test_a_message_many_repositories_share_is_said_once(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    """The metadata deadline or a rate limit reaches every worker process: one line for the
    run, not one per repository (issue #13, item 20: "one note")."""
    from gha_fix.codemod.model import RepoResult
    from gha_fix.codemod.output import print_messages

    shared = "action metadata: GitHub did not answer within 10 s; going on offline"
    repos = [RepoResult(str(tmp_path / name), messages=[shared]) for name in "abcde"]
    repos[0].messages.append("nothing to fix: no branch created")
    print_messages(repos)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{shared} (5 repositories: ")
    assert lines[0].endswith(", ...)")
    assert lines[1].endswith("a: nothing to fix: no branch created")
