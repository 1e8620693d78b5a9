"""One hardened HTTP GET for the metadata fetcher (`github_files`), imported only when a
request is actually made (http.client, urllib.request and ssl cost start-up time).

- Time: the whole request (connect, status line, headers, body, every redirect) ends by
  `until` (a `time.monotonic()` value): each read waits only for the time left, so a host
  that accepts and never answers, or trickles a byte a second, costs no more than that.
- Size: an answer over `max_bytes` is refused (by its Content-Length, else after reading
  `max_bytes + 1`), never read whole.
- Credentials: the token goes as an unredirected `Authorization` header, put back on a
  redirect only while the chain stays on the request's origin (scheme, host, port); a
  redirect to another scheme than http(s) is refused, and at most MAX_REDIRECTS are followed.
- Proxies from the environment work as with urllib (it is urllib underneath).

Errors are sorted for the caller: RateLimited, Missing (404/410), NoDNS and Final (retrying
will not help) end the request; any other OSError (a timeout, a 5xx, a reset; Unreachable:
refused) may be retried.  No message names a header, only hosts and URLs.
"""

from __future__ import annotations

import functools
import http.client
import io
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gha_fix.codemod.github_files import origin

MAX_REDIRECTS = 5


class RateLimited(Exception):
    pass


class Missing(Exception):
    pass


class Final(OSError):
    """An answer that retrying will not change (401, a plain 403, too large, bad redirect)."""


class Unreachable(OSError):
    """The host could not be reached at all (refused, proxy): another host may work."""


class NoDNS(Unreachable):
    """The host name does not resolve: no network here, for the whole run."""


@dataclass
class Answer:
    """What `send` got: the status, the headers, the body (bytes) and whether the body was cut
    to its last `max_bytes` (`keep_tail`)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False


def get(url: str, headers: Mapping[str, str], token: str | None, until: float,
        max_bytes: int) -> str:
    """The body of `url` as text; raises as the module docstring says."""
    answer = send("GET", url, headers, token, until, max_bytes)
    return answer.body.decode("utf-8", errors="replace")


def send(method: str, url: str, headers: Mapping[str, str], token: str | None, until: float,
         max_bytes: int, data: bytes | None = None, keep_tail: bool = False) -> Answer:
    """One request; raises as the module docstring says (an error's `status` and the start of
    its body, `detail`, are kept on the exception).  `keep_tail`: an answer over `max_bytes`
    is not refused but read to its end keeping only its last `max_bytes` (a log: the failure
    is at its end), in bounded memory, and marked `truncated`."""
    left = until - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    request = urllib.request.Request(url, data=data, headers=dict(headers), method=method)
    if token:
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_TimedHTTP(until), _TimedHTTPS(until), _Redirects())
    try:
        with opener.open(request, timeout=left) as response:
            body, truncated = _read(response, url, max_bytes, keep_tail)
            return Answer(response.status, response.headers, body, truncated)
    except urllib.error.HTTPError as exc:
        detail = _error_detail(exc)
        exc.close()
        limited = rate_limit_message(exc.code, exc.headers, bool(token))
        if limited:
            raise _with(RateLimited(limited), exc.code, detail, _wait(exc.headers)) from None
        if exc.code in (404, 410):
            raise _with(Missing(url), exc.code, detail) from None
        if exc.code < 500:  # 401, a plain 403, a refused redirect: retrying will not help
            raise _with(Final(f"HTTP {exc.code} from {url}{_redirect_reason(exc)}"),
                        exc.code, detail) from None
        raise _with(OSError(f"HTTP {exc.code} from {url}"), exc.code, detail) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):  # no DNS: no network, no retry
            raise NoDNS(f"{describe(exc)} ({url})") from None
        timed_out = isinstance(exc.reason, TimeoutError)
        raise (OSError if timed_out else Unreachable)(f"{describe(exc)} ({url})") from None
    except Final:
        raise
    except (OSError, http.client.HTTPException) as exc:  # read timeout, reset, bad answer
        raise OSError(f"{describe(exc)} ({url})") from None


def _read(response: Any, url: str, max_bytes: int, keep_tail: bool) -> tuple[bytes, bool]:
    declared = response.headers.get("Content-Length", "")
    if not keep_tail:
        if declared.isdigit() and int(declared) > max_bytes:
            raise Final(f"answer larger than {max_bytes} bytes ({url})")
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise Final(f"answer larger than {max_bytes} bytes ({url})")
        return body, False
    kept = bytearray()
    truncated = False
    while chunk := response.read(CHUNK):
        kept += chunk
        if len(kept) > max_bytes:
            del kept[:len(kept) - max_bytes]
            truncated = True
    return bytes(kept), truncated


CHUNK = 64 * 1024
MAX_DETAIL = 4096  # the start of an error's body that is kept (GitHub's `message`)


def _error_detail(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(MAX_DETAIL) if exc.fp is not None else b""
    except (OSError, http.client.HTTPException):
        return b""


def _with(error: Exception, status: int, detail: bytes, wait: float | None = None) -> Exception:
    error.status = status  # type: ignore[attr-defined]
    error.detail = detail  # type: ignore[attr-defined]
    error.wait = wait  # type: ignore[attr-defined]
    return error


def _wait(headers: Any) -> float | None:
    """Seconds a rate-limit answer asks to wait (Retry-After, else X-RateLimit-Reset)."""
    value = (headers.get("Retry-After") or "").strip() if headers else ""
    if value.isdigit():
        return float(value)
    reset = (headers.get("X-RateLimit-Reset") or "").strip() if headers else ""
    if reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return None


def _redirect_reason(exc: urllib.error.HTTPError) -> str:
    return f" ({exc.msg})" if 300 <= exc.code < 400 and exc.msg else ""


# --- time: every read waits only for the time left ---------------------------------------


class _TimedReader(io.RawIOBase):
    """A socket's reads, each limited to the time left until `until`."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        super().__init__()
        self._raw = sock.makefile("rb", buffering=0)
        self._sock = sock
        self._until = until

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        left = self._until - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _TimedSocket:
    """What `HTTPResponse` reads from: `makefile` gives a `_TimedReader`."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        self._sock = sock
        self._until = until

    def makefile(self, mode: str = "rb", *args: object) -> io.BufferedReader:
        return io.BufferedReader(_TimedReader(self._sock, self._until))


def _timed_response(sock: socket.socket, *args: Any, until: float,
                    **kwargs: Any) -> http.client.HTTPResponse:
    return http.client.HTTPResponse(_TimedSocket(sock, until), *args, **kwargs)  # type: ignore[arg-type]


def _timed_connection(cls: type[http.client.HTTPConnection], until: float) -> Any:
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = cls(host, **kwargs)
        connection.response_class = functools.partial(_timed_response, until=until)  # type: ignore[assignment]
        return connection

    return make


class _Timed:
    """Mixed into urllib's HTTP(S) handlers: their connections read against `until`."""

    def __init__(self, until: float) -> None:
        super().__init__()
        self.until = until

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        return super().do_open(_timed_connection(http_class, self.until), req,  # type: ignore[misc]
                               **kwargs)


class _TimedHTTP(_Timed, urllib.request.HTTPHandler):
    pass


class _TimedHTTPS(_Timed, urllib.request.HTTPSHandler):
    pass


# --- credentials: never across a redirect to another origin --------------------------------


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"redirect to {scheme}: refused",
                                         headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        fp.close()  # the redirect's body is not read (it could be large)
        new.remove_header("Authorization")
        token = req.unredirected_hdrs.get("Authorization")
        if token and origin(newurl) == origin(req.full_url):
            new.add_unredirected_header("Authorization", token)
        return new


# --- messages -------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def rate_limit_message(code: int, headers: Any, has_token: bool) -> str | None:
    """A one-line message for a rate-limit answer (403/429), None for any other answer."""
    remaining = headers.get("X-RateLimit-Remaining") if headers else None
    retry_after = headers.get("Retry-After") if headers else None
    if code == 429 or (code == 403 and (remaining == "0" or retry_after)):
        when = ""
        if retry_after:
            when = f"; retry after {_retry_after(retry_after)}"
        elif headers and headers.get("X-RateLimit-Reset", "").isdigit():
            reset = int(headers["X-RateLimit-Reset"])
            when = f"; resets at {time.strftime('%H:%M:%S UTC', time.gmtime(reset))}"
        hint = "" if has_token else "; set GITHUB_TOKEN (or GH_TOKEN) for a higher limit"
        return (
            f"GitHub rate limit reached (HTTP {code}){when}{hint}; "
            "no more action metadata is fetched in this run (use the cache, the offline index)"
        )
    return None


def _retry_after(value: str) -> str:
    from email.utils import parsedate_to_datetime

    value = value.strip()
    if value.isdigit():
        return f"{value} s"
    try:
        return parsedate_to_datetime(value).strftime("%H:%M:%S UTC")
    except (TypeError, ValueError):
        return value
