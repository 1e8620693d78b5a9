"""Run one function over many repositories in worker processes, and keep the results small.

A bulk run must survive its fleet: a worker killed (out of memory, a crash in C) fails the one
repository it was processing and is replaced; Ctrl-C stops handing out repositories, lets the
ones in flight finish (a second Ctrl-C stops those too) and returns what was done; and the
parent holds each result as a compressed pickle, rebuilt when read, and a stand-in of it for
the summary (`slim`), so that its memory barely grows with the fleet.  Each worker is given
one repository at a time over its own pipe, so the parent always knows which repository a
dead worker was processing.
"""

from __future__ import annotations

import pickle
import signal
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from gha_fix.codemod.model import FileResult, Fix, FixResult, Note, NoteResult, RepoResult

if TYPE_CHECKING:  # multiprocessing is imported when a pool starts (start-up time)
    from multiprocessing.connection import Connection

T = TypeVar("T")
Work = Callable[[T], RepoResult]  # what a worker does with one item (module-level: picklable)
Counts = tuple[int, int, int]  # files, fixes, errors: what the progress bar shows


class StoredResults(Sequence[RepoResult]):
    """Results in the order of their items, each stored as a compressed pickle and rebuilt on
    every read (for what is printed once a repository: findings, diffs, JSON), and as its
    `slim` stand-in (`summaries`: for the summary, the table, `--report`, the exit code,
    which read every result many times)."""

    def __init__(self) -> None:
        self._blobs: dict[int, bytes] = {}
        self._slim: dict[int, RepoResult] = {}
        self._order: list[int] | None = None

    def add(self, index: int, blob: bytes) -> None:
        self._blobs[index] = blob
        self._slim[index] = slim(unpack(blob))
        self._order = None

    @property
    def summaries(self) -> list[RepoResult]:
        return [self._slim[key] for key in self._keys()]

    def _keys(self) -> list[int]:
        if self._order is None:
            self._order = sorted(self._blobs)
        return self._order

    def __len__(self) -> int:
        return len(self._blobs)

    @overload
    def __getitem__(self, index: int) -> RepoResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[RepoResult]: ...

    def __getitem__(self, index: int | slice) -> RepoResult | list[RepoResult]:
        if isinstance(index, slice):
            return [unpack(self._blobs[key]) for key in self._keys()[index]]
        return unpack(self._blobs[self._keys()[index]])

    def __iter__(self) -> Iterator[RepoResult]:
        for key in self._keys():
            yield unpack(self._blobs[key])


_SHARED: dict[tuple[Any, ...], Any] = {}
_QUIET = FileResult("")  # every file without findings, errors or changes


def slim(repo: RepoResult) -> RepoResult:
    """A stand-in for `repo` that the summary, the table, `--report`, the messages, the errors
    and the exit code read exactly as they read `repo` (paths of files with something to say,
    errors, flags, secrets to mask, and of each finding its transform, safety, status and
    unknown actions), at a fraction of its size: findings alike are one shared object, and so
    are quiet files.  Not for printing findings (no messages or lines) or diffs."""
    files: list[FileResult] = []
    for file in repo.files:
        fixes = [_shared(("fix", r.fix.transform, r.fix.safety, r.status, r.fix.secrets),
                         lambda r=r: FixResult(Fix(r.fix.transform, (), "", (), r.fix.safety,
                                                   secrets=r.fix.secrets), r.status, 0))
                 for r in file.fixes]
        notes = [_shared(("note", n.note.transform, n.note.unknown_actions, n.note.secrets),
                         lambda n=n: NoteResult(Note(n.note.transform, (), "",
                                                     n.note.unknown_actions,
                                                     n.note.secrets), 0))
                 for n in file.notes]
        if not (fixes or notes or file.error or file.changed or file.written):
            files.append(_QUIET)
            continue
        files.append(FileResult(file.path, "", "\n" if file.changed else "", fixes, notes,
                                file.error, file.written))
    return RepoResult(repo.root, files, repo.error, repo.branch, repo.messages)


def _shared(key: tuple[Any, ...], make: Callable[[], T]) -> T:
    found = _SHARED.get(key)
    if found is None:
        found = _SHARED[key] = make()
    return found  # type: ignore[no-any-return]


def pack(result: RepoResult) -> bytes:
    try:
        data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable value in a transform's finding
        error = f"{result.root}: internal error: the result cannot be sent ({exc!r})"
        data = pickle.dumps(RepoResult(result.root, error=error), pickle.HIGHEST_PROTOCOL)
    return zlib.compress(data, 1)


def unpack(blob: bytes) -> RepoResult:
    result: RepoResult = pickle.loads(zlib.decompress(blob))
    return result


def counts(result: RepoResult) -> Counts:
    return len(result.files), len(result.fixes()), len(result.errors)


@dataclass
class PoolRun:
    """What a run did: the results of the items done, in the items' order; `interrupted`
    when Ctrl-C stopped it before every item was done."""

    total: int
    results: StoredResults = field(default_factory=StoredResults)
    interrupted: bool = False

    def add(self, index: int, blob: bytes, progress: Callable[[Counts], None] | None,
            done: Counts) -> None:
        self.results.add(index, blob)
        if progress:
            progress(done)


@contextmanager
def deferred_interrupt() -> Iterator[threading.Event]:
    """The first Ctrl-C (SIGINT) only sets the event (finish what is in flight, start
    nothing new); a second one raises KeyboardInterrupt.  Outside the main thread (where
    Python cannot handle signals) the event is never set."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _serve(conn: Connection, work: Work[Any]) -> None:
    """A worker: one item at a time until told to stop (None) or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, item = task
        result = work(item)
        conn.send((index, counts(result), pack(result)))


class _Worker:
    def __init__(self, work: Work[Any]) -> None:
        import multiprocessing

        context = multiprocessing.get_context()
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, work), daemon=True)
        self.process.start()
        child.close()  # the worker holds the only other end: its death is EOF here
        self.index: int | None = None

    def cause(self) -> str:
        """How the worker ended (after its pipe closed)."""
        self.process.join(5)
        code = self.process.exitcode
        if code is None:
            self.process.kill()
            return "it stopped answering"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def close(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            with suppress(OSError):
                self.conn.send(None)
        self.conn.close()
        self.process.join(10)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()


def run_pool(items: Sequence[T], work: Work[T], jobs: int, order: Sequence[int],
             failed: Callable[[T, str], RepoResult], stop: threading.Event,
             progress: Callable[[Counts], None] | None = None) -> PoolRun:
    """`work` over `items` in `jobs` worker processes, handing them out in `order`.

    A worker that dies takes only its item with it (`failed(item, why)` is its result) and is
    replaced.  Once `stop` is set no item is handed out; a KeyboardInterrupt (a second
    Ctrl-C) kills the workers and records `failed(item, "interrupted")` for their items."""
    from multiprocessing.connection import wait

    run = PoolRun(len(items))
    todo = deque(order)
    workers: list[_Worker] = []

    def hand_out(worker: _Worker) -> None:
        worker.index = None
        while todo and not stop.is_set():
            index = todo.popleft()
            try:
                worker.conn.send((index, items[index]))
            except OSError:  # it died idle: the item goes to its replacement
                todo.appendleft(index)
                replace(worker, None)
                return
            worker.index = index
            return

    def record(index: int, result: RepoResult) -> None:
        run.add(index, pack(result), progress, counts(result))

    def replace(worker: _Worker, why: str | None) -> None:
        if worker.index is not None and why is not None:
            record(worker.index, failed(items[worker.index], why))
        worker.close(kill=True)
        workers.remove(worker)
        if todo and not stop.is_set():
            fresh = _Worker(work)
            workers.append(fresh)
            hand_out(fresh)

    try:
        for _ in range(min(jobs, len(items))):
            workers.append(_Worker(work))
        for worker in list(workers):
            hand_out(worker)
        while any(w.index is not None for w in workers):
            by_conn = {w.conn: w for w in workers if w.index is not None}
            for conn in wait(list(by_conn), timeout=0.2):
                worker = by_conn[conn]  # type: ignore[index]
                try:
                    index, done, blob = worker.conn.recv()
                except (EOFError, OSError):
                    replace(worker, f"worker died while processing this repository "
                                    f"({worker.cause()})")
                    continue
                hand_out(worker)  # first: the worker goes on while this one is stored
                run.add(index, blob, progress, done)
    except KeyboardInterrupt:  # the second Ctrl-C: the items in flight stop too
        for worker in workers:
            if worker.index is not None:
                record(worker.index, failed(items[worker.index], "interrupted"))
                worker.close(kill=True)
                worker.index = None
    finally:  # idle workers are told to stop; busy ones (an unexpected error) are killed
        for worker in workers:
            if worker.process.exitcode is None:
                worker.close(kill=worker.index is not None)
    run.interrupted = stop.is_set() and len(run.results) < len(items)
    return run
