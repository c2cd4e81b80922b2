"""Output folders: checked before the first run, and the exact command that resumes one.

Every command (scenario, once, sweep) writes one folder. A folder that cannot be
written must be reported before any computation, not after it, or the results are
lost; a folder that already holds results must not be silently mixed with new ones.
"""

from __future__ import annotations

import json
import shlex
import uuid
from pathlib import Path
from typing import Any, Sequence

MANIFEST = "manifest.json"


class FolderError(ValueError):
    """An output folder that cannot be used; the message is one line naming it."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C once the output folder exists: carries the folder, so the message can say
    what was kept and the exact command that finishes the job."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = Path(folder)


def interrupted_message(exc: BaseException, argv: Sequence[str]) -> str:
    """One line for an interrupted command (``argv``: the arguments after ``run.py``)."""
    if not isinstance(exc, Interrupted):
        return "run.py: interrupted"
    return (f"run.py: interrupted; finished runs are saved in {exc.folder}; "
            f"finish the job with: {resume_command(argv, exc.folder)}")


def read_manifest(path: Path) -> dict[str, Any] | None:
    """A folder's manifest.json, or None if it has no readable one."""
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def folder_kind(path: Path) -> str | None:
    """'scenario', 'sweep', 'once' ... for a results folder (from its manifest), else None."""
    manifest = read_manifest(path)
    if manifest is None:
        return None
    return str(manifest.get("kind") or ("sweep" if "spec" in manifest else "results"))


def check_out_dir(path: Path, *, option: str = "--out") -> Path:
    """Create ``path`` for a new results folder, or raise FolderError if it cannot be one.

    Refused: a file, a path under a file, a folder that is not empty (naming the command
    that finishes it, when it holds a resumable study), an unwritable place.
    """
    path = Path(path)
    for parent in reversed(path.absolute().parents):
        if parent.exists() and not parent.is_dir():
            raise FolderError(f"{option} {path}: {parent} is a file, not a folder")
    if path.exists() and not path.is_dir():
        raise FolderError(f"{option} {path}: exists and is a file, not a folder")
    if path.is_dir() and any(path.iterdir()):
        kind = folder_kind(path)
        what = f"holds the results of a {kind} run" if kind else "is not empty"
        resume = saved_resume_command(path)
        hint = f"; to finish an interrupted study there: {resume}" if resume else ""
        raise FolderError(f"{option} {path}: folder exists and {what}; choose a new folder{hint}")
    check_writable(path, option)
    return path


def check_writable(path: Path, option: str) -> None:
    """Create the folder and write a probe file in it (root ignores permission bits, so os.access is not enough)."""
    probe = path / f".probe-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise FolderError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


def original_command(folder: Path) -> tuple[list[str] | None, str | None]:
    """The arguments after ``run.py`` of the command that started ``folder``, and when it started (its
    manifest): a resumed study still records how to reproduce it from scratch."""
    manifest = read_manifest(folder) or {}
    command = manifest.get("command")
    if not isinstance(command, str):
        return None, None
    words = shlex.split(command)
    return (words[2:] if words[1:2] == ["run.py"] else words), manifest.get("started")


def saved_resume_command(folder: Path) -> str | None:
    """The resume command of the study that started ``folder`` (from its manifest's command), if any."""
    if (read_manifest(folder) or {}).get("kind") not in ("scenario", "sweep", "calibration"):
        return None
    argv, _ = original_command(folder)
    return None if argv is None else resume_command(argv, folder)


def resume_command(argv: Sequence[str], folder: Path) -> str:
    """The command that continues an interrupted run of ``argv`` (the arguments after
    ``run.py``) in ``folder``: the same arguments without ``--out``/``--resume``, plus
    ``--resume folder`` (the identity check on resume needs the same scenario and options)."""
    args = list(argv)
    kept: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in ("--out", "--resume"):
            i += 2
            continue
        if not args[i].startswith(("--out=", "--resume=")):
            kept.append(args[i])
        i += 1
    return shlex.join(["python", "run.py", *kept, "--resume", str(folder)])
