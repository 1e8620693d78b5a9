"""What the `gha-fix` commands accept: the output formats and the options several commands
share (typer `Annotated` declarations, with their help)."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Format(str, Enum):
    text = "text"
    json = "json"


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def ids(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


PathsArg = Annotated[
    list[Path] | None, typer.Argument(help="Repository roots, or folders to search for them "
                                   "(default: the current folder).")
]
SelectOpt = Annotated[
    str | None, typer.Option("--select", help="Only these transforms (comma-separated ids).")
]
IgnoreOpt = Annotated[
    str | None, typer.Option("--ignore", help="Skip these transforms (comma-separated ids).")
]
UnsafeOpt = Annotated[
    bool, typer.Option("--unsafe-fixes", help="Also apply fixes marked unsafe.")
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Config file to use instead of .github/gha-fix.yml."),
]
ReposFromOpt = Annotated[
    Path | None,
    typer.Option("--repos-from", help="Read repository paths from FILE (one a line).",
                 rich_help_panel="Many repositories"),
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Repositories processed in parallel "
                 "(default: CPU count).", rich_help_panel="Many repositories"),
]
ShardOpt = Annotated[
    str | None,
    typer.Option("--shard", metavar="K/N", help="Only the K-th of N deterministic parts of the "
                 "repositories (a CI matrix).", rich_help_panel="Many repositories"),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Write per-repository results (JSON) to this file.",
                 rich_help_panel="Many repositories"),
]
OfflineOpt = Annotated[
    bool,
    typer.Option("--offline", help="Never fetch action metadata from GitHub: use the cache "
                 "and the offline index only (also: GHA_FIX_OFFLINE=1)."),
]
TtlOpt = Annotated[
    str | None,
    typer.Option("--metadata-ttl", metavar="DURATION",
                 help="How long cached action metadata of a tag or branch is trusted before it "
                 "is fetched again: 90s, 30m, 12h, 7d (default 1d; also GHA_FIX_METADATA_TTL). "
                 "Metadata at a commit SHA never changes and is kept."),
]
TimeoutOpt = Annotated[
    str | None,
    typer.Option("--metadata-timeout", metavar="DURATION",
                 help="How long the whole run may spend fetching action metadata (all "
                 "workers together): 10s, 1m (default 10s; also GHA_FIX_METADATA_TIMEOUT). "
                 "Then it goes on from the cache and the offline index."),
]
DepthOpt = Annotated[
    int,
    typer.Option("--depth", min=1, help="How deep to search a PATH that is not a repo root.",
                 rich_help_panel="Many repositories"),
]


GitHubUrlOpt = Annotated[
    str | None,
    typer.Option("--github-url", metavar="URL",
                 help="GitHub Enterprise Server: its URL (https://HOST; the API is "
                 "https://HOST/api/v3). Default: GH_HOST, else github.com.",
                 rich_help_panel="GitHub"),
]
