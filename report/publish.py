"""Publish a finished build into ``--out``: a lock, a journal and a set of renames.

A build holds an exclusive lock on the ``--out`` folder itself (``flock`` on the directory: no lock
file is left behind) from before it writes anything until it has published, so a second build into
the same folder refuses at once. It writes into a work folder *inside* ``--out``
(``.oneclick-report.tmp-*``), so every rename stays on one filesystem: ``--out`` may be a mount
point (a volume, a tmpfs, a bind mount).

Publishing replaces the build's own file names only, the manifest last:

1. the journal (the new files' names and hashes) is written and synced into the work folder;
2. each file of that name already in ``--out`` is hard-linked (or copied) into the work folder's
   ``previous/``: nothing in ``--out`` changes;
3. each new file is renamed over its name (``rename`` is atomic), ``manifest.json`` last: until it
   is renamed the folder still holds the previous manifest, afterwards the new complete set.

A failure at any step puts the previous files back (renamed from ``previous/``) and removes the new
ones, so ``--out`` holds the old complete set again. A build killed in the middle of step 3 (only
``SIGKILL`` can do that: ``SIGINT``, ``SIGTERM`` and ``SIGHUP`` are held back while it renames)
leaves its journal, and the next build into that folder finishes the job under the lock: forward
when the new manifest is in place, else back. Work folders of builds that were killed before
publishing are removed by the next build too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["OutputFolderError", "PublishInterrupted", "WORK_PREFIX", "discard", "lock_output", "prepare_work",
           "publish"]

_log = logging.getLogger(__name__)

#: Work folders of a build, inside ``--out``.
WORK_PREFIX = ".oneclick-report.tmp-"
JOURNAL = "publishing.json"
PREVIOUS = "previous"
MANIFEST = "manifest.json"
#: Signals held back while the files are renamed (delivered once the set is complete).
_DEFERRED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
#: ``tempfile.mkdtemp``'s names as an older version of this program made them beside ``--out``.
_LEGACY_WORK = r"\.{name}\.tmp-[a-z0-9_]{{8}}"


class OutputFolderError(Exception):
    """``--out`` cannot be used: not a folder, locked by another build, a name taken by a folder."""


class PublishInterrupted(Exception):
    """A termination signal arrived before the renames began: nothing was replaced."""


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync a directory; the renames are still atomic
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def lock_output(out_dir: Path) -> Iterator[Path]:
    """Create ``out_dir`` if needed and hold an exclusive lock on it.

    Raises
    ------
    OutputFolderError
        When ``out_dir`` is not a folder or another build holds the lock.
    OSError
        When it cannot be created (naming the path).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"--out {out_dir} exists and is not a folder")
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    published = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputFolderError(f"another build is writing into {out_dir}: wait until it has finished, "
                                    "or choose another --out") from None
        except OSError as exc:  # a filesystem without locks (some network mounts)
            _log.warning("cannot lock %s (%s); building without the lock", out_dir, exc.strerror)
        recover(out_dir)
        yield out_dir
        published = True
    finally:
        if not published:  # a failed build leaves no folder it created
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty
        os.close(fd)  # releases the lock


def check_targets(out_dir: Path, names: Sequence[str]) -> None:
    """Refuse before any work when a name the build replaces is taken by a folder in ``out_dir``."""
    for name in names:
        path = Path(out_dir) / name
        if path.is_dir() and not path.is_symlink():
            raise OutputFolderError(f"{path} is a folder; a build writes a file of that name")


def prepare_work(out_dir: Path) -> Path:
    """A new work folder inside ``out_dir`` (which must be locked)."""
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=out_dir))


def discard(work: Path) -> None:
    """Remove a work folder, unless it holds the journal of a publish that could not be undone."""
    if not (work / JOURNAL).exists():
        shutil.rmtree(work, ignore_errors=True)


def recover(out_dir: Path) -> None:
    """Finish what builds killed in ``out_dir`` left (the lock must be held): remove their work
    folders, and complete or undo a publish that was interrupted (see the module docstring)."""
    for work in sorted(Path(out_dir).glob(f"{WORK_PREFIX}*")):
        if not work.is_dir() or work.is_symlink():
            continue
        journal = work / JOURNAL
        if journal.is_file():
            try:
                plan = json.loads(journal.read_text(encoding="utf-8"))
                _finish_interrupted(Path(out_dir), work, plan)
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                _log.warning("cannot complete the interrupted publish recorded in %s (%s); left as it is",
                             journal, exc)
                continue
        shutil.rmtree(work, ignore_errors=True)
    pattern = re.compile(_LEGACY_WORK.format(name=re.escape(Path(out_dir).name)))
    parent = Path(out_dir).parent
    with contextlib.suppress(OSError):
        for legacy in parent.iterdir():  # left beside --out by builds of an older version, killed
            if pattern.fullmatch(legacy.name) and legacy.is_dir() and not legacy.is_symlink():
                shutil.rmtree(legacy, ignore_errors=True)


def _finish_interrupted(out_dir: Path, work: Path, plan: dict[str, Any]) -> None:
    new: dict[str, str] = plan["outputs"]
    manifest = out_dir / MANIFEST
    if manifest.is_file() and _sha256(manifest) == new[MANIFEST]:
        return  # the new set was complete: only the backups are left to remove
    for name, sha in new.items():  # undo: the previous file back, or the new one removed
        if not isinstance(name, str) or "/" in name or name in {"", ".", ".."}:
            continue
        backup, target = work / PREVIOUS / name, out_dir / name
        if backup.exists() or backup.is_symlink():
            os.replace(backup, target)
        elif target.is_file() and not target.is_symlink() and _sha256(target) == sha:
            target.unlink()
    _fsync_dir(out_dir)


@contextlib.contextmanager
def _signals_held(cancelled: Callable[[], bool] | None) -> Iterator[None]:
    """Hold back SIGINT/SIGTERM/SIGHUP; refuse to start when one is waiting or was received."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        pending = signal.sigpending() & _DEFERRED
        if pending or (cancelled is not None and cancelled()):
            names = ", ".join(signal.Signals(s).name for s in pending) or "a termination signal"
            raise PublishInterrupted(f"stopped by {names} before publishing; nothing was published")
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def publish(work: Path, out_dir: Path, names: Sequence[str], *, retire: bool = True,
            cancelled: Callable[[], bool] | None = None) -> None:
    """Move ``names`` from ``work`` into ``out_dir`` as one set (``manifest.json`` last).

    Parameters
    ----------
    work : Path
        The build's work folder inside ``out_dir`` (:func:`prepare_work`), holding every name.
    out_dir : Path
        The locked output folder.
    names : sequence of str
        The files to publish; ``manifest.json`` must be among them.
    retire : bool
        Remove the outputs of the previous build that the new set does not replace (another
        period's or language's HTML and PDF), but only those recorded in the manifest being
        replaced and unchanged since (same SHA-256): files the build did not write are never touched.
    cancelled : callable, optional
        Asked once the termination signals are held back: ``True`` publishes nothing.

    Raises
    ------
    OSError
        When a file cannot be replaced; ``out_dir`` then holds the previous set again.
    PublishInterrupted
        When a termination signal arrived before publishing started; nothing was replaced.
    """
    names = sorted(names, key=lambda n: n == MANIFEST)  # the manifest last: it completes the set
    if names[-1] != MANIFEST:
        raise ValueError("a published set must include manifest.json")
    retired = _previous_outputs(out_dir, names) if retire else []
    plan: dict[str, dict[str, str]] = {"outputs": {}}
    for name in names:
        path = work / name
        with path.open("rb") as handle:
            plan["outputs"][name] = hashlib.file_digest(handle, "sha256").hexdigest()
            os.fsync(handle.fileno())
    previous = work / PREVIOUS
    previous.mkdir()
    journal = work / JOURNAL
    done: list[str] = []
    with _signals_held(cancelled):
        with journal.open("w", encoding="utf-8") as handle:
            json.dump(plan, handle)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(work)
        try:
            for name in names:
                target = out_dir / name
                if target.exists() or target.is_symlink():
                    _keep_copy(target, previous / name)
                os.replace(work / name, target)
                done.append(name)
        except BaseException as exc:
            _undo(out_dir, previous, done)
            journal.unlink()
            if isinstance(exc, OSError):
                raise OSError(exc.errno, f"cannot replace {out_dir / name}: {exc.strerror or exc}; the previous "
                                         f"files are back in place in {out_dir}") from exc
            raise
        _fsync_dir(out_dir)
        journal.unlink()
    for name in retired:  # the new set is complete; the previous build's other outputs go
        with contextlib.suppress(OSError):
            os.replace(out_dir / name, previous / name)


def _keep_copy(target: Path, backup: Path) -> None:
    """A second name for ``target`` in the work folder (a hard link; a copy where links fail)."""
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError:
        shutil.copy2(target, backup, follow_symlinks=False)


def _undo(out_dir: Path, previous: Path, done: list[str]) -> None:
    for name in reversed(done):
        backup = previous / name
        if backup.exists() or backup.is_symlink():
            os.replace(backup, out_dir / name)
        else:
            (out_dir / name).unlink()
    _fsync_dir(out_dir)


def _previous_outputs(out_dir: Path, names: Sequence[str]) -> list[str]:
    """Outputs of the build being replaced that the new set does not replace, unchanged since."""
    try:
        recorded = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("outputs")
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(recorded, dict):
        return []
    found = []
    for name, sha in recorded.items():
        path = out_dir / name
        if (name in names or not isinstance(sha, str) or "/" in name or "\\" in name or name.startswith(".")
                or not path.is_file() or path.is_symlink()):
            continue
        try:
            if _sha256(path) == sha:
                found.append(name)
        except OSError:
            continue
    return found


def describe_os_error(exc: OSError) -> str:
    """``exc`` as one line naming the path (a full disk, a read-only or protected file)."""
    what = exc.strerror or str(exc)
    if exc.filename is None:
        return what
    return f"{exc.filename}: {what}" + ("" if exc.filename2 is None else f" (→ {exc.filename2})")
