"""Why `codemod/github_api.py` is not built on githubkit or PyGithub: measured here.

    pip install githubkit pygithub      # not dependencies of gha-fix
    python bench/github_clients.py

For gha-fix's own client and each library that imports: its import time (best of 3, a fresh
interpreter each), and against servers on loopback (tests/loopback_servers.py), the three
rules of the metadata resolver: is the token dropped on the log download's redirect to
another host, does a server that trickles a byte a second end within the deadline (3 s asked),
is a 10 MiB answer refused or cut (not read whole).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from loopback_servers import Raw, Routes, huge, trickle_body  # noqa: E402

IMPORTS = {
    "gha-fix": "from gha_fix.codemod import github_api, http_client",
    "githubkit": "from githubkit import GitHub; g = GitHub('x'); g.rest.actions; g.rest.pulls",
    "PyGithub": "import github",
}
LIMIT = 25.0  # seconds a probe may take before it is called "no deadline"


def import_time(code: str) -> float | None:
    best = None
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", f"import time; t = time.perf_counter(); "
                               f"{code}; print(time.perf_counter() - t)"],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            return None
        value = float(done.stdout.strip())
        best = value if best is None else min(best, value)
    return best


def job_logs(name: str) -> Callable[[str], bytes]:
    """GET {base}/repos/o/r/actions/jobs/1/logs with a token, timeout 3 s, through `name`."""
    if name == "gha-fix":
        from gha_fix.codemod.github_api import Endpoint, GitHubApi, Token

        def ours(base: str) -> bytes:
            api = GitHubApi(Endpoint(base, "x"), Token("tok", "bench"), deadline=3, timeout=3,
                            retries=0)
            return api.download("repos/o/r/actions/jobs/1/logs", 1024 * 1024)[0]

        return ours
    if name == "githubkit":
        from githubkit import GitHub

        def kit(base: str) -> bytes:
            client = GitHub("tok", base_url=base + "/", timeout=3, auto_retry=False)
            return client.rest.actions.download_job_logs_for_workflow_run("o", "r", 1).content

        return kit
    from github import Auth, Github

    def pygithub(base: str) -> bytes:
        client = Github(auth=Auth.Token("tok"), base_url=base, timeout=3, retry=None)
        return str(client.requester.requestJsonAndCheck(
            "GET", "/repos/o/r/actions/jobs/1/logs")).encode()

    return pygithub


def timed(call: Callable[[str], bytes], url: str) -> str:
    outcome: list[str] = []

    def run() -> None:
        started = time.monotonic()
        try:
            size = len(call(url))
            outcome.append(f"read {size} bytes in {time.monotonic() - started:.1f} s")
        except Exception as exc:
            outcome.append(f"{type(exc).__name__} after {time.monotonic() - started:.1f} s")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(LIMIT)
    return outcome[0] if outcome else f"still reading after {LIMIT:.0f} s"


def main() -> None:
    for name, code in IMPORTS.items():
        seconds = import_time(code)
        if seconds is None:
            print(f"{name}: does not import here")
            continue
        print(f"{name}: import {seconds:.3f} s")
        call = job_logs(name)
        api, storage = Routes(), Routes("127.0.0.2")
        api.redirect("/repos/o/r/actions/jobs/1/logs", f"{storage.url}/log.txt")
        storage.serve("/log.txt", "a log line\n")
        print(f"  redirect to storage: {timed(call, api.url)}; token at the API: "
              f"{bool(api.tokens())}, at the storage host: {bool(storage.tokens())}")
        api.close()
        storage.close()
        slow = Raw(trickle_body, life=LIMIT + 5)
        print(f"  trickle, timeout 3 s: {timed(call, slow.url)}")
        slow.close()
        big = Raw(huge("x\n", declared=False), life=LIMIT + 5)
        print(f"  10 MiB answer: {timed(call, big.url)}")
        big.close()


if __name__ == "__main__":
    main()
