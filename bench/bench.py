"""Benchmark over ../shared/corpus (or --corpus DIR): files/s and per-file median.

    python bench/bench.py                 # parse + verify with a no-op transform (engine floor)
    python bench/bench.py --mode edit     # the test-only `exercise` transform: edits everywhere,
                                          # each verified (engine cost of rendering + verifying)
    python bench/bench.py --mode dry-run  # every registered transform, nothing written
    python bench/bench.py --mode bulk     # `gha-fix apply --dry-run` over every repo folder,
                                          # --jobs 1 and 2, side by side with `zizmor --offline`
    python bench/bench.py --mode memory --copies 100,1000
                                          # peak memory of `gha-fix apply --dry-run --report`
                                          # over N copies of one corpus repo (--repo NAME)

Figures are per-file medians and throughput on one core; run it twice and compare ratios.
The bulk mode times whole command runs (process start-up included): wall time, files/s and
peak memory (the sum over the process tree, sampled from /proc); zizmor (`pip install
zizmor`, not a project dependency) stops a whole run on a workflow it cannot load, so both
tools are timed on the repo folders zizmor accepts, with the same workflow files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gha_fix.codemod.document import Document, DocumentError  # noqa: E402
from gha_fix.codemod.repo import RepoContext  # noqa: E402
from gha_fix.codemod.runner import RunOptions, process_document, select_transforms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--mode", choices=["parse", "edit", "dry-run", "bulk", "memory"],
                        default="parse")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", default="1,2", help="bulk: --jobs values to time")
    parser.add_argument("--no-zizmor", action="store_true", help="bulk: skip the comparison")
    parser.add_argument("--copies", default="100,1000", help="memory: fleet sizes to run")
    parser.add_argument("--repo", default="composer__composer", help="memory: the repo to copy")
    args = parser.parse_args()
    if args.mode == "memory":
        memory(args.corpus / args.repo, [int(n) for n in args.copies.split(",")],
               [int(j) for j in args.jobs.split(",")])
        return
    repos = sorted(p for p in args.corpus.iterdir() if (p / ".github" / "workflows").is_dir())
    if args.mode == "bulk":
        bulk(repos, [int(j) for j in args.jobs.split(",")], args.rounds, not args.no_zizmor)
        return
    files = [(repo, f) for repo in repos for f in RepoContext(repo).workflow_files()]
    texts = [(repo, f, f.read_bytes()) for repo, f in files]
    transforms: list = []
    if args.mode == "dry-run":
        transforms = select_transforms({}, RunOptions())
    elif args.mode == "edit":
        sys.path.insert(0, str(ROOT / "tests"))
        from engine_ops import Exercise

        transforms = [Exercise()]
    best = float("inf")
    per_file: list[float] = []
    for _ in range(args.rounds):
        contexts = {repo: RepoContext(repo) for repo in repos}
        times = []
        start = time.perf_counter()
        for repo, f, raw in texts:
            t0 = time.perf_counter()
            try:
                if args.mode == "dry-run":  # as the runner does: one parse, shared with transforms
                    doc = contexts[repo].read_document(f.relative_to(repo).as_posix())
                else:
                    doc = Document.from_bytes(f.name, raw)
            except DocumentError:
                continue
            process_document(doc, transforms, contexts[repo], RunOptions())
            times.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        if total < best:
            best, per_file = total, times
    print(f"mode={args.mode} files={len(texts)} repos={len(repos)} rounds={args.rounds}")
    print(f"best round: {best:.3f} s, {len(texts) / best:,.0f} files/s, "
          f"per-file median {statistics.median(per_file) * 1000:.3f} ms, "
          f"p95 {sorted(per_file)[int(len(per_file) * 0.95)] * 1000:.3f} ms")


# --- bulk: whole command runs -----------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of `pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * page
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


def measure(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process tree, peak tree RSS in bytes)."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # 1: `gha-fix check` found fixes due
        raise SystemExit(f"{command[0]} failed with exit code {proc.returncode}")
    # ru_maxrss (KiB) of the largest process: a floor when sampling missed a short peak
    return wall, usage.ru_utime + usage.ru_stime, max(peak, usage.ru_maxrss * 1024)


def best_of(command: list[str], rounds: int) -> tuple[float, float, int]:
    runs = [measure(command) for _ in range(rounds)]
    wall = min(r[0] for r in runs)
    return wall, min(r[1] for r in runs), max(r[2] for r in runs)


def zizmor_command(zizmor: str, files: list[Path]) -> list[str]:
    # --no-exit-codes: findings exit 0, so any other code is a failure to load
    return [zizmor, "--offline", "--no-progress", "--no-exit-codes", "--format", "plain",
            *map(str, files)]


def zizmor_accepts(zizmor: str, files: list[Path]) -> bool:
    done = subprocess.run(zizmor_command(zizmor, files), capture_output=True, check=False)
    return done.returncode == 0


def bulk(repos: list[Path], jobs: list[int], rounds: int, with_zizmor: bool) -> None:
    from gha_fix.codemod.repo import RepoContext

    gha_fix = [sys.executable, "-m", "gha_fix"]  # this interpreter's gha-fix
    workflows = {repo: RepoContext(repo).workflow_files() for repo in repos}

    def row(label: str, n_files: int, figures: tuple[float, float, int]) -> str:
        wall, cpu, rss = figures
        return (f"{label:<34} {wall:7.2f} s  {n_files / wall:7.0f} files/s  cpu {cpu:6.2f} s"
                f"  peak {rss / 2**20:6.0f} MiB")

    n = sum(len(f) for f in workflows.values())
    print(f"bulk: {len(repos)} repos, {n} workflow files, best of {rounds} rounds, "
          f"{os.cpu_count()} CPUs")
    for j in jobs:
        command = [*gha_fix, "apply", "--dry-run", "--offline", "--jobs", str(j), *map(str, repos)]
        print(row(f"gha-fix apply --dry-run --jobs {j}", n, best_of(command, rounds)))
    beside = Path(sys.executable).parent / "zizmor"  # installed in this virtualenv
    zizmor = str(beside) if beside.is_file() else shutil.which("zizmor")
    if not with_zizmor or zizmor is None:
        if with_zizmor:
            print("zizmor not installed (pip install zizmor): no comparison")
        return
    accepted = [r for r in repos if workflows[r] and zizmor_accepts(zizmor, workflows[r])]
    refused = [r.name for r in repos if workflows[r] and r not in accepted]
    files = [f for r in accepted for f in workflows[r]]
    version = subprocess.run([zizmor, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\nside by side on the {len(accepted)} repos zizmor loads ({len(files)} files; "
          f"refused: {', '.join(refused) or 'none'}); {version}")
    z = best_of(zizmor_command(zizmor, files), rounds)
    print(row("zizmor --offline", len(files), z))
    for j in jobs:
        command = [*gha_fix, "apply", "--dry-run", "--offline", "--jobs", str(j),
                   *map(str, accepted)]
        g = best_of(command, rounds)
        print(row(f"gha-fix apply --dry-run --jobs {j}", len(files), g)
              + f"  wall ratio gha-fix/zizmor {g[0] / z[0]:.2f}")


# --- memory: a growing fleet must not grow the memory -----------------------------------------
def memory(repo: Path, copies: list[int], jobs: list[int]) -> None:
    """Peak RSS of the process tree for fleets of `copies` copies of `repo` (flat is right)."""
    import tempfile

    gha_fix = [sys.executable, "-m", "gha_fix"]
    print(f"memory: copies of {repo.name} ({os.cpu_count()} CPUs); "
          "gha-fix apply --dry-run --offline --report R")
    with tempfile.TemporaryDirectory(prefix="gha-fix-memory-") as tmp:
        fleet = Path(tmp) / "fleet"
        made = 0
        for n in sorted(copies):
            for index in range(made, n):  # the fleet grows: copies already made are kept
                shutil.copytree(repo / ".github", fleet / f"r{index:05d}" / ".github",
                                symlinks=True)
            made = n
            for j in jobs:
                command = [*gha_fix, "apply", "--dry-run", "--offline", "--jobs", str(j),
                           "--report", str(Path(tmp) / "report.json"), str(fleet)]
                wall, cpu, rss = measure(command)
                print(f"  {n:6d} copies  --jobs {j}  {wall:7.2f} s  cpu {cpu:7.2f} s  "
                      f"peak {rss / 2**20:6.0f} MiB")


if __name__ == "__main__":
    main()
