"""`case` patterns are not commands (issue #12 §5): quoted (`"success")`), globbed (`*)`),
alternatives (`a|b)`), on the `case` line itself and after `;;`; commands in a branch are."""

from __future__ import annotations

import pytest

from gha_fix.transforms.lib.shell import commands


@pytest.mark.parametrize(("script", "expected"), [
    ('case "$S" in\n  "success") echo ok ;;\n  *) make fail ;;\nesac\n',
     [["case", "$S", "in"], ["echo", "ok"], ["make", "fail"], ["esac"]]),
    ("case $S in\n  'failure'|\"cancelled\") notify ;;\n  a|b) exit 1 ;;\nesac\n",
     [["case", "$S", "in"], ["notify"], ["exit", "1"], ["esac"]]),
    ('case "$S" in\n  "x y")\n    deploy\n    ;;\n  [0-9]*) :\n    ;;\nesac\n',
     [["case", "$S", "in"], ["deploy"], [":"], ["esac"]]),
    ('case $E in "push") gh release create v1;; *) true;; esac\n',
     [["case", "$E", "in"], ["gh", "release", "create", "v1"], ["true"], ["esac"]]),
    ('case "$S" in\n  (success) ok ;;\nesac\n',
     [["case", "$S", "in"], ["ok"], ["esac"]]),
])
def test_case_patterns_are_not_commands(script: str, expected: list[list[str]]) -> None:
    assert commands(script) == expected


def test_a_subshell_inside_a_branch_is_a_command() -> None:
    """Only where a pattern may stand (after `in` or `;;`) is `word)` a pattern."""
    script = 'case "$S" in\n  push)\n    make\n    (cd docs && build)\n    ;;\nesac\n'
    assert commands(script) == [["case", "$S", "in"], ["make"], ["cd", "docs"], ["build"],
                                ["esac"]]


def test_outside_case_a_parenthesis_is_not_a_pattern() -> None:
    assert commands("(make)\n") == [["make"]]
