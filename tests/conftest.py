from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
CORPUS = Path(os.environ.get("GHA_FIX_CORPUS", ROOT.parent / "shared" / "corpus"))
# Tests never reach GitHub (the resolver's own tests serve metadata on loopback), and never
# see a developer's metadata cache.
os.environ["GHA_FIX_OFFLINE"] = "1"
os.environ["XDG_CACHE_HOME"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "gha-fix-test-cache")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true",
        help="rewrite tests/golden/*/*/expected.yml (and messages.txt) from the current output",
    )


def corpus_repos() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if (p / ".github" / "workflows").is_dir())


def pytest_report_header(config: pytest.Config) -> str:
    if CORPUS.is_dir():
        return f"corpus: {CORPUS} ({len(corpus_repos())} repositories)"
    return f"corpus: {CORPUS} is absent: the corpus tests are skipped"
