"""Benchmark over ../shared/corpus (or --corpus DIR): files/s and per-file median.

    python bench/bench.py                 # parse + verify with a no-op transform (engine floor)
    python bench/bench.py --mode edit     # the test-only `exercise` transform: edits everywhere,
                                          # each verified (engine cost of rendering + verifying)
    python bench/bench.py --mode dry-run  # every registered transform, nothing written

Figures are per-file medians and throughput on one core; run it twice and compare ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codemod.document import Document, DocumentError  # noqa: E402
from codemod.repo import RepoContext  # noqa: E402
from codemod.runner import RunOptions, process_document, select_transforms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--mode", choices=["parse", "edit", "dry-run"], default="parse")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    repos = sorted(p for p in args.corpus.iterdir() if (p / ".github" / "workflows").is_dir())
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


if __name__ == "__main__":
    main()
