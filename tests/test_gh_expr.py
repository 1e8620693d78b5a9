"""Unit tests of the GitHub expression module (transforms/lib/expressions.py): concrete
evaluation, and three-valued evaluation of what is not known."""

from __future__ import annotations

import pytest

from gha_fix.transforms.lib.expressions import (
    UNKNOWN,
    ExpressionError,
    PartialObject,
    Sym,
    condition,
    evaluate,
    parse,
    runs,
)

CTX = {
    "github": {
        "event_name": "pull_request",
        "repository": "octo/app",
        "ref": "refs/pull/7/merge",
        "event": {
            "pull_request": {
                "head": {"repo": {"full_name": "outsider/app", "fork": True}},
                "labels": [{"name": "bug"}, {"name": "Safe To Test"}],
                "author_association": "CONTRIBUTOR",
            },
        },
    },
    "matrix": {"os": "ubuntu-latest", "node": 20},
    "env": {"HAS_TOKEN": "false"},
}


def ev(text: str, ctx: dict | None = None, status: str | None = "success"):
    return evaluate(parse(text), CTX if ctx is None else ctx, status)


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("false", False), ("null", None), ("711", 711.0), ("-9.2", -9.2),
    ("0xff", 255.0), ("'It''s open source!'", "It's open source!"), ("''", ""),
])
def test_literals(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1 == 1", True), ("'ABC' == 'abc'", True), ("'abc' != 'ABC'", False),
    ("null == 0", True), ("'' == 0", True), ("true == 1", True), ("'1' == 1", True),
    ("'x' == 0", False), ("false == ''", True), ("2 > 1", True), ("'b' > 'A'", True),
    ("'x' < 1", False), ("1 <= 1", True),
])
def test_loose_comparison(text, expected):
    assert ev(text) is expected


def test_and_or_return_operands_and_bind_in_order():
    assert ev("'a' && 'b'") == "b"
    assert ev("'' || 'fallback'") == "fallback"
    assert ev("null && x") is None
    assert ev("true || false && false") is True  # && binds tighter than ||
    assert ev("(true || false) && false") is False
    assert ev("!true || true") is True  # ! binds tightest
    assert ev("!(true || true)") is False
    assert ev("1 == 1 && 2 == 3") is False


def test_contexts_and_functions():
    assert ev("github.event.pull_request.head.repo.full_name == github.repository") is False
    assert ev("github.event.pull_request.head.repo.fork") is True
    assert ev("!github.event.pull_request.head.repo.fork") is False
    assert ev("github.event.pull_request.missing.deeper") is None
    assert ev("github['event_name']") == "pull_request"
    assert ev("contains(github.event.pull_request.labels.*.name, 'safe to test')") is True
    assert ev("contains(github.event.pull_request.labels.*.name, 'docs')") is False
    assert ev("startsWith(github.ref, 'REFS/pull/')") is True
    assert ev("endsWith(github.ref, '/merge')") is True
    assert ev("contains('Hello world', 'LLO')") is True
    assert ev("contains(fromJSON('[\"OWNER\", \"MEMBER\"]'), "
              "github.event.pull_request.author_association)") is False
    assert ev("matrix.node == 20 && matrix.os == 'ubuntu-latest'") is True
    assert ev("format('{0}-{1}', 'a', 1)") == "a-1"


def test_status_functions():
    failed = "failure"
    assert ev("success()") is True
    assert ev("success()", status=failed) is False
    assert ev("failure()", status=failed) is True
    assert ev("always()", status="cancelled") is True
    assert ev("!cancelled()", status=failed) is True


@pytest.mark.parametrize(("value", "status", "expected"), [
    (None, "success", True), (None, "failure", False),
    ("matrix.os == 'ubuntu-latest'", "failure", False),  # implicit success()
    ("always() && matrix.os == 'ubuntu-latest'", "failure", True),
    # a status function anywhere in the tree turns the implicit success() off
    ("(always() && true) && (github.event_name == 'pull_request')", "failure", True),
    ("${{ failure() && env.HAS_TOKEN == 'false' }}", "failure", True),
    ("${{ failure() }}", "success", False),
    ("${{ true }}", "failure", False),
    ("  ${{ !cancelled() }}  ", "failure", True),
    (False, "success", False),
])
def test_if_conditions(value, status, expected):
    assert runs(value, CTX, status) is expected


def test_errors():
    with pytest.raises(ExpressionError):
        parse("a ==")
    with pytest.raises(ExpressionError):
        parse("'unterminated")
    with pytest.raises(ExpressionError):
        condition("${{ a }} && ${{ b }}")


@pytest.mark.parametrize("text", ["a ==", "'unterminated", "nosuch(1)", "contains('a')",
                                  "github.1st", "f(a b)", "a = b"])
def test_syntax_errors(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_numbers_and_filters():
    assert ev("-1 < 0") is True
    assert ev("'0x10' == 16") is True
    assert ev("'1_000' == 1000") is False  # not a JSON number: NaN
    assert ev("'inf' == 'INF'") is True  # strings: no number involved
    assert ev("github.event.pull_request.labels.*.name") == ["bug", "Safe To Test"]
    assert ev("github.event.pull_request.labels.name") is None  # not filtered: no property
    assert ev("github.event.pull_request.labels[1].name") == "Safe To Test"
    assert ev("github['*']") is None  # a property named `*`, not a filter
    assert ev("join(github.event.pull_request.labels.*.name, ', ')") == "bug, Safe To Test"
    assert ev("toJSON(matrix.node)") == "20"
    assert ev("fromJSON('not json')") is UNKNOWN  # GitHub fails the step
    assert ev("hashFiles('**/package-lock.json')") is UNKNOWN


# --- three-valued: what is not known ------------------------------------------------------------
FORK = PartialObject({
    "github": PartialObject({
        "event_name": "pull_request",
        "repository": Sym("repository"),
        "ref": Sym("ref", prefix="refs/pull/"),
        "event": PartialObject({"pull_request": PartialObject({
            "head": PartialObject({"repo": PartialObject({
                "full_name": Sym("head", distinct=frozenset({"repository"}), foreign=True)})}),
            "author_association": Sym("association", choices=frozenset({"NONE", "CONTRIBUTOR"})),
        })}),
    }),
    "secrets": PartialObject({"GITHUB_TOKEN": Sym("token")}, others=""),
})


@pytest.mark.parametrize(("text", "expected"), [
    ("github.event.pull_request.head.repo.full_name == github.repository", False),
    ("github.event.pull_request.head.repo.full_name == 'octo/app'", False),  # foreign
    ("github.repository == 'octo/app'", UNKNOWN),
    ("github.repository == github.repository", True),
    ("startsWith(github.ref, 'refs/pull/')", True),
    ("startsWith(github.ref, 'refs/tags/')", False),
    ("github.event.pull_request.author_association == 'MEMBER'", False),
    ("github.event.pull_request.author_association == 'NONE'", UNKNOWN),
    ("contains(fromJSON('[\"OWNER\",\"MEMBER\"]'), "
     "github.event.pull_request.author_association)", False),
    ("secrets.NPM_TOKEN != ''", False),
    ("secrets.GITHUB_TOKEN != ''", UNKNOWN),
    ("matrix.os == 'x'", UNKNOWN),  # an unknown context
    ("matrix.os == 'x' && github.event_name == 'push'", False),
    ("matrix.os == 'x' || github.event_name == 'pull_request'", True),
    ("!(matrix.os == 'x')", UNKNOWN),
    ("github.event.pull_request.*", UNKNOWN),  # a partly known object: its values are not
    ("format('{0}', github.repository)", UNKNOWN),
    ("github.event.pull_request.number < 10", UNKNOWN),
])
def test_three_valued(text, expected):
    assert ev(text, FORK, status=None) is expected


def test_status_unknown():
    assert ev("always()", FORK, status=None) is True
    assert ev("success()", FORK, status=None) is UNKNOWN
    assert ev("success() && github.event_name == 'push'", FORK, status=None) is False
    assert runs(None, FORK) is UNKNOWN  # implicit success(): unknown status
