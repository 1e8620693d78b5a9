"""A Docker action built from a Dockerfile in its folder whose entry point runs a JavaScript
file with node (`ENTRYPOINT ["node", "/action/main.js"]` after `COPY . /action`): the file is
mapped back to the action's folder and read like a JavaScript action's `runs.main`.  Any other
entry point (a shell script, a binary) is not analysed here."""

from __future__ import annotations

import json
import posixpath
import re
import shlex

from gha_fix.transforms.analysis.derive.sources import Files

COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(?:--\S+\s+)*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
ENTRY = re.compile(r"^\s*(ENTRYPOINT|CMD)\s+(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def _words(text: str) -> list[str]:
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            return []
        return [str(w) for w in value] if isinstance(value, list) else []
    try:
        return shlex.split(text)
    except ValueError:
        return []


def node_entry(files: Files, action_dir: str, image: str) -> str | None:
    """The action-folder path of the JavaScript file the image's entry point runs, or None."""
    if image.startswith("docker://"):
        return None
    dockerfile = posixpath.normpath(posixpath.join(action_dir, image))
    text = files.read(dockerfile)
    if text is None:
        return None
    entries = ENTRY.findall(text)
    if not entries:
        return None
    words = _words(entries[-1][1])  # the last ENTRYPOINT/CMD wins
    if len(words) < 2 or posixpath.basename(words[0]) != "node":
        return None
    script = words[1]
    workdir = re.findall(r"^\s*WORKDIR\s+(\S+)", text, re.IGNORECASE | re.MULTILINE)
    if not script.startswith("/"):
        script = posixpath.join(workdir[-1] if workdir else "/", script)
    context = posixpath.dirname(dockerfile)
    for line in COPY.findall(text):
        parts = _words(line)
        if len(parts) != 2:
            continue
        source, target = parts
        target = target.rstrip("/") or "/"
        if script.startswith(target + "/"):
            rel = posixpath.normpath(posixpath.join(context, source, script[len(target) + 1:]))
            return None if rel.startswith("..") else rel
    return None
