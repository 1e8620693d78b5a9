"""codemod/github_api.py against servers on loopback: where it goes, which token, retries, rate
limits, deadlines, size caps and redirects (tests/loopback_servers.py; no mock of the client)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from loopback_servers import Raw, Routes, huge, trickle_body

from gha_fix.codemod.github_api import ApiError, Endpoint, GitHubApi, Token, endpoint, find_token

TOKEN = Token("ghs_apiTestToken0123456789", "GH_TOKEN")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("GHA_FIX_OFFLINE", "GHA_FIX_API_URL", "GH_HOST", "GH_TOKEN", "GITHUB_TOKEN",
                 "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def api_server(env: pytest.MonkeyPatch) -> Iterator[Routes]:
    server = Routes()
    yield server
    server.close()


def client(server_url: str, **kwargs: float) -> GitHubApi:
    return GitHubApi(Endpoint(server_url, "127.0.0.1"), TOKEN, backoff=0.05, **kwargs)


def test_endpoint_of_github_enterprise_and_mirrors(env: pytest.MonkeyPatch) -> None:
    assert endpoint() == Endpoint("https://api.github.com", "github.com")
    assert endpoint("https://github.com/") == Endpoint("https://api.github.com", "github.com")
    assert endpoint("https://ghe.example.com") == Endpoint("https://ghe.example.com/api/v3",
                                                           "ghe.example.com")
    assert endpoint("ghe.example.com:8443/api/v3").api_url == "https://ghe.example.com:8443/api/v3"
    env.setenv("GH_HOST", "ghe.corp")
    assert endpoint() == Endpoint("https://ghe.corp/api/v3", "ghe.corp")
    env.setenv("GHA_FIX_API_URL", "http://127.0.0.1:9/mirror/")
    assert endpoint().api_url == "http://127.0.0.1:9/mirror"


def fake_gh(folder: Path, script: str) -> None:
    gh = folder / "gh"
    gh.write_text(f"#!/bin/sh\n{script}\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)


def test_token_from_environment_then_gh(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("PATH", str(tmp_path))
    assert find_token() is None  # no variable, no gh
    fake_gh(tmp_path, 'test "$*" = "auth token --hostname ghe.corp" && echo gho_fromGh || exit 1')
    assert find_token("ghe.corp") == Token("gho_fromGh", "`gh auth token`")
    assert find_token("github.com") is None  # gh says no for that host
    env.setenv("GITHUB_TOKEN", "ghs_b")
    assert find_token() == Token("ghs_b", "GITHUB_TOKEN")
    env.setenv("GH_TOKEN", "ghs_a")
    assert find_token() == Token("ghs_a", "GH_TOKEN")  # gh's own order
    env.setenv("GH_ENTERPRISE_TOKEN", "ghs_e")
    assert find_token("ghe.corp").source == "GH_ENTERPRISE_TOKEN"
    assert "ghs_a" not in repr(find_token())


def test_json_and_pages_send_the_token_to_the_api_origin_only(api_server: Routes) -> None:
    other = Routes("127.0.0.2")
    try:
        api_server.routes["/list"] = (200, {"Link": f'<{api_server.url}/list2>; rel="next"'},
                                      b'{"jobs": [1, 2]}')
        api_server.routes["/list2"] = (200, {"Link": f'<{other.url}/list3>; rel="next"'},
                                       b'{"jobs": [3]}')
        other.routes["/list3"] = (200, {}, b'{"jobs": [4]}')
        assert client(api_server.url).pages("list", "jobs") == [1, 2, 3, 4]
        assert api_server.tokens() == [f"Bearer {TOKEN.value}"] * 2
        assert other.seen == [("/list3", None)]  # another origin: no token
    finally:
        other.close()


def test_5xx_is_retried_then_reported(api_server: Routes) -> None:
    api_server.routes["/flaky"] = (502, {}, b"bad gateway")
    api = client(api_server.url)
    with pytest.raises(ApiError, match="GET /flaky: no answer within the time limit"):
        api.json("GET", "flaky")
    assert api.requests == 4  # the first try and 3 retries

    api_server.handler = lambda method, path, body: (502, {}, b"bad gateway")
    with pytest.raises(ApiError, match="not retried: it may have been done"):
        client(api_server.url).json("POST", "flaky", {"title": "x"})  # a POST: once
    assert [c.method for c in api_server.calls].count("POST") == 1

    served = iter([(503, {}, b""), (200, {}, b'{"ok": true}')])
    api_server.handler = lambda method, path, body: next(served)
    assert client(api_server.url).json("GET", "x") == {"ok": True}


def test_rate_limit_waits_when_short_and_reports_when_long(api_server: Routes) -> None:
    answers = iter([(403, {"X-RateLimit-Remaining": "0", "Retry-After": "1"}, b"{}"),
                    (200, {}, b'{"ok": 1}')])
    api_server.handler = lambda method, path, body: next(answers)
    started = time.monotonic()
    assert client(api_server.url).json("GET", "x") == {"ok": 1}
    assert 0.9 < time.monotonic() - started < 5

    reset = str(int(time.time()) + 3600)
    api_server.handler = lambda method, path, body: (
        429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, b"{}")
    with pytest.raises(ApiError, match=r"GitHub rate limit reached \(HTTP 429\); resets at"):
        client(api_server.url).json("GET", "x")


def test_errors_carry_github_s_message_never_the_token(api_server: Routes) -> None:
    api_server.routes["/x"] = (403, {}, json.dumps(
        {"message": "Resource not accessible by integration",
         "documentation_url": "https://docs.github.com/rest"}).encode())
    with pytest.raises(ApiError) as caught:
        client(api_server.url).json("GET", "x")
    assert caught.value.status == 403
    assert str(caught.value) == "GET /x: HTTP 403 (Resource not accessible by integration)"


def test_a_trickling_server_costs_the_deadline_only(env: pytest.MonkeyPatch) -> None:
    server = Raw(trickle_body, life=30)
    try:
        started = time.monotonic()
        with pytest.raises(ApiError, match="no answer within the time limit"):
            client(server.url, deadline=2, timeout=1).json("GET", "x")
        assert time.monotonic() - started < 4
    finally:
        server.close()


def test_json_over_the_cap_is_refused_and_a_log_keeps_its_tail(env: pytest.MonkeyPatch) -> None:
    server = Raw(huge("first line\n", declared=False), life=30)
    try:
        with pytest.raises(ApiError, match="larger than"):
            client(server.url).json("GET", "x")
        body, cut = client(server.url).download("logs", max_bytes=1024 * 1024)
        assert cut and len(body) == 1024 * 1024
        assert body.endswith(b"padding\n") and b"first line" not in body
    finally:
        server.close()


def test_offline_asks_nothing(api_server: Routes, env: pytest.MonkeyPatch) -> None:
    env.setenv("GHA_FIX_OFFLINE", "1")
    with pytest.raises(ApiError, match="offline"):
        client(api_server.url).json("GET", "x")
    assert api_server.seen == []


def test_the_client_is_not_imported_at_start_up() -> None:
    code = ("import sys; import gha_fix.codemod.cli; "
            "print([m for m in sys.modules if m.endswith(('github_api', 'http_client'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ}).stdout
    assert out.strip() == "[]"
