"""A failed run's log, read into lines that know their job, step and step header.

Three shapes are read:

- what `gh run view --log-failed` (or `--log`) prints: `JOB<TAB>STEP<TAB>TIMESTAMP message`;
- a step's log pasted from the web UI, or a job's raw log: `2024-01-01T00:00:00.0000000Z message`
  lines (timestamps optional), with `##[group]` / `##[error]` markers;
- the log archive the web UI or `gh api repos/O/R/actions/runs/ID/logs` downloads: a zip holding
  `N_jobname.txt` (a job's whole log) and `jobname/N_stepname.txt` (one file a step).

`header` is the line that opens a step's output (`Run actions/github-script@v7`,
`Run gh release create v1`): what the step ran, when nothing names the step.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?")
MARKER = re.compile(r"^##\[(?:group|endgroup|error|warning|notice|debug|command)\]")
HEADER = re.compile(r"^(?:##\[group\])?Run (?P<what>\S.*)$")
_ARCHIVE_STEP = re.compile(r"^(?P<job>[^/]+)/(?P<n>\d+)_(?P<step>.+)\.txt$")
_ARCHIVE_JOB = re.compile(r"^(?P<n>\d+)_(?P<job>[^/]+)\.txt$")


class LogError(Exception):
    """The input is not a log gha-fix can read (an unreadable archive); says why."""


@dataclass(frozen=True)
class LogLine:
    text: str  # the message, without timestamp or `##[...]` marker
    raw: str  # the message with its marker (`##[error]...`), without the timestamp
    job: str = ""  # as the log names it: `build (ubuntu-latest)`; "" when it does not
    step: str = ""  # the step's name, when the log names it
    header: str = ""  # what the step ran (`actions/checkout@v4`, `gh pr create ...`), if shown
    number: int = 0  # 1-based, in the whole input

    @property
    def section(self) -> tuple[str, str, str]:
        """The step this line belongs to, as far as the log tells."""
        return (self.job, self.step, self.header)


def read_log(data: bytes, name: str = "") -> list[LogLine]:
    """The lines of a log given as bytes: a zip archive, or text in either text shape."""
    if data[:4] == b"PK\x03\x04" or name.endswith(".zip"):
        return read_archive(data)
    return read_text(data.decode("utf-8", errors="replace"))


def read_text(text: str) -> list[LogLine]:
    lines: list[LogLine] = []
    header_of: dict[tuple[str, str], str] = {}
    for raw in text.splitlines():
        job, step, message = _split_gh(raw)
        lines.append(_line(message, job, step, header_of, len(lines) + 1))
    return lines


def read_archive(data: bytes) -> list[LogLine]:
    """The step files of an archive, in job and step order; a job's whole-log file only for
    jobs that have no step files (the two hold the same lines)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LogError(f"not a readable log archive ({exc})") from None
    steps: list[tuple[str, int, str, str]] = []
    jobs: list[tuple[int, str, str]] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = PurePosixPath(info.filename).as_posix()
        if match := _ARCHIVE_STEP.match(name):
            steps.append((match["job"], int(match["n"]), match["step"], name))
        elif match := _ARCHIVE_JOB.match(name):
            jobs.append((int(match["n"]), match["job"], name))
    lines: list[LogLine] = []
    stepped = {job for job, *_ in steps}
    order = [(job, name, "") for _, job, name in sorted(jobs) if job not in stepped]
    order += [(job, name, step) for job, _, step, name in sorted(steps)]
    for job, name, step in order:
        header_of: dict[tuple[str, str], str] = {}
        text = archive.read(name).decode("utf-8", errors="replace")
        for raw in text.splitlines():
            lines.append(_line(raw, job, step, header_of, len(lines) + 1))
    return lines


def _split_gh(raw: str) -> tuple[str, str, str]:
    """(job, step, message) of a `gh run view --log` line; ("", "", raw) for other lines."""
    parts = raw.split("\t", 2)
    if len(parts) == 3 and TIMESTAMP.match(parts[2]):
        return parts[0], parts[1], parts[2]
    return "", "", raw


def _line(message: str, job: str, step: str, header_of: dict[tuple[str, str], str],
          number: int) -> LogLine:
    raw = TIMESTAMP.sub("", message, count=1).rstrip("\r")
    text = MARKER.sub("", raw, count=1)
    key = (job, step)
    if match := HEADER.match(raw):
        header_of[key] = match["what"].strip()
    return LogLine(text, raw, job, step, header_of.get(key, ""), number)
