"""The parser: its own node classes stay inside its own calls, also under threads."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import _ruamel_yaml
from ruamel.yaml.nodes import ScalarNode

from gha_fix.codemod.document import Document, load_yaml


def test_compose_in_threads_and_ruamel_left_as_it_was() -> None:
    texts = [f"on: push\njobs:\n  j{i}:\n    runs-on: [a, {i}]\n    env: {{X: '{i}'}}\n"
             for i in range(200)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        with ThreadPoolExecutor(8) as pool:
            docs = list(pool.map(lambda t: Document.from_text("w.yml", t), texts * 5))
    finally:
        sys.setswitchinterval(interval)
    for i, doc in enumerate(docs[:200]):
        assert doc.data["jobs"][f"j{i}"] == {"runs-on": ["a", i], "env": {"X": str(i)}}
    assert _ruamel_yaml.ScalarNode is ScalarNode  # what other ruamel.yaml users get
    assert load_yaml("a: [1, 'x', on, 0x1f]") == {"a": [1, "x", "on", 31]}


def test_line_offsets() -> None:
    doc = Document.from_text("w.yml", "a: 1\r\nb:\n\n  - 2")
    assert doc.line_starts == [0, 6, 9, 10]
    assert [doc.line_text(i) for i in range(doc.line_count)] == ["a: 1", "b:", "", "  - 2"]
