"""Every collected failure text (tests/data/failures/failures.yml) is classified as expected, and
the classification table is printed (`pytest -s tests/test_diagnose_corpus.py`)."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlparse

import pytest
from conftest import ROOT
from ruamel.yaml import YAML

from gha_fix.transforms.diagnose import diagnose
from gha_fix.transforms.diagnose.logs import read_text
from gha_fix.transforms.diagnose.signatures import table

CORPUS = YAML(typ="safe").load((ROOT / "tests" / "data" / "failures" / "failures.yml").read_text())
CAUSES = {*table().causes}


def test_the_corpus_is_large_and_sourced() -> None:
    assert len(CORPUS) >= 40
    assert len({case["id"] for case in CORPUS}) == len(CORPUS)
    for case in CORPUS:
        assert case["cause"] in CAUSES, case["id"]
        assert urlparse(case["url"]).scheme == "https", case["id"]
        assert 0 < len(case["text"].splitlines()) <= 12, f"{case['id']}: a few lines, not a page"
    assert {case["cause"] for case in CORPUS} == CAUSES, "every cause has texts"
    per_cause = Counter(case["cause"] for case in CORPUS)
    assert min(per_cause.values()) >= 3, f"every cause has several texts: {per_cause}"


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_each_text_is_classified(case: dict) -> None:
    result = diagnose(read_text(case["text"]))
    assert result.cause == case["cause"]
    assert result.possible_causes == case.get("possible", [])
    if "scopes" in case:
        assert result.scopes == case["scopes"]
    if "secret" in case:
        assert result.secret == case["secret"]
    if result.cause != "unknown":
        assert result.evidence, "a cause comes with the lines that show it"


def test_classification_table() -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for case in CORPUS:
        cause = diagnose(read_text(case["text"])).cause
        counts[(cause, urlparse(case["url"]).netloc)] += 1
    width = max(len(c) for c in CAUSES)
    print(f"\n{'cause':<{width}}  count  sources")
    for cause in sorted(CAUSES):
        hosts = {host: n for (c, host), n in counts.items() if c == cause}
        listed = ", ".join(f"{host} {n}" for host, n in sorted(hosts.items()))
        print(f"{cause:<{width}}  {sum(hosts.values()):>5}  {listed}")
    print(f"{'total':<{width}}  {sum(counts.values()):>5}")
    assert sum(counts.values()) == len(CORPUS)


def test_bench_table_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/diagnose_table.txt is what bench/diagnose_table.py prints today (rerun it after
    adding texts), and the script's exit code says every text is classified right."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("diagnose_table",
                                                  ROOT / "bench" / "diagnose_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([]) == 0
    assert capsys.readouterr().out == (ROOT / "bench" / "diagnose_table.txt").read_text()
