"""File finished builds into a month-by-month archive, never overwriting.

Layout: ``<archive_root>/<period>/r001/``, ``r002/``, … — one numbered revision per archived
build of that month. A re-run of a month becomes the next revision; nothing archived is ever
replaced. Each revision holds copies of every output named in the build's ``manifest.json`` and
the manifest itself, each verified against its recorded SHA-256 after copying.

A revision number is claimed with an exclusive ``mkdir``, so two archivers running at the same
time cannot take the same one. The manifest is copied last: a revision folder without
``manifest.json`` is incomplete (being written, or abandoned by a failed copy) and is ignored by
:func:`latest_revision`.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

__all__ = ["ArchiveError", "archive_outputs", "find_previous_results", "latest_revision", "previous_period",
           "revisions"]

MANIFEST = "manifest.json"
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_REVISION = re.compile(r"^r(\d{3,})$")


class ArchiveError(RuntimeError):
    """The outputs cannot be archived as they are (no or bad manifest, a hash mismatch)."""


def _check_period(period: str) -> tuple[int, int]:
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if match is None:
        raise ValueError(f"period must be YYYY-MM (month 01–12), got {period!r}")
    return int(match.group(1)), int(match.group(2))


def previous_period(period: str) -> str:
    """The month before ``period``.

    Parameters
    ----------
    period : str
        A month, ``YYYY-MM``.

    Returns
    -------
    str
        ``YYYY-MM`` of the month before, e.g. ``"2026-01"`` → ``"2025-12"``.

    Raises
    ------
    ValueError
        When ``period`` is not ``YYYY-MM`` or is ``0001-01`` (no month before it).
    """
    year, month = _check_period(period)
    if month > 1:
        return f"{year:04d}-{month - 1:02d}"
    if year <= 1:
        raise ValueError(f"there is no month before {period}")
    return f"{year - 1:04d}-12"


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def revisions(archive_root: Path, period: str) -> list[Path]:
    """Complete revision folders of ``period`` (those holding ``manifest.json``), oldest first.

    Parameters
    ----------
    archive_root : Path
        The archive's root folder.
    period : str
        A month, ``YYYY-MM``.
    """
    _check_period(period)
    folder = Path(archive_root) / period
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir()
             if (m := _REVISION.fullmatch(p.name)) and p.is_dir() and (p / MANIFEST).is_file()]
    return [p for _, p in sorted(found)]


def latest_revision(archive_root: Path, period: str) -> Path | None:
    """The latest complete revision folder of ``period``, or ``None`` when it has none.

    Parameters
    ----------
    archive_root : Path
        The archive's root folder.
    period : str
        A month, ``YYYY-MM``.
    """
    found = revisions(archive_root, period)
    return found[-1] if found else None


def find_previous_results(archive_root: Path, period: str) -> Path | None:
    """``results.json`` of the latest revision of the month before ``period``.

    Its ``scores.csv`` (the per-customer scores the month-over-month comparison matches
    customers by) lies beside it.

    Parameters
    ----------
    archive_root : Path
        The archive's root folder.
    period : str
        The current month, ``YYYY-MM``.

    Returns
    -------
    Path or None
        ``None`` when the previous month has no complete revision or its latest has no
        ``results.json``.
    """
    latest = latest_revision(archive_root, previous_period(period))
    if latest is None or not (latest / "results.json").is_file():
        return None
    return latest / "results.json"


def _read_manifest(out_dir: Path, period: str) -> dict[str, str]:
    """The outputs (name → sha256) recorded in ``out_dir/manifest.json``, checked against the files."""
    path = out_dir / MANIFEST
    if not path.is_file():
        raise ArchiveError(f"{path} not found: only a finished build can be archived")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ArchiveError(f"{path} is not valid JSON: {exc}") from exc
    outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(outputs, dict) or not outputs:
        raise ArchiveError(f"{path} records no outputs")
    if manifest.get("period") != period:
        raise ArchiveError(f"{path} is for period {manifest.get('period')!r}, not {period}")
    for name, expected in outputs.items():
        if not isinstance(name, str) or not name or name in {".", "..", MANIFEST} or "/" in name or "\\" in name:
            raise ArchiveError(f"{path} names an output {name!r} that is not a plain file name")
        source = out_dir / name
        if not source.is_file():
            raise ArchiveError(f"{name} is recorded in {path} but missing from {out_dir}")
        actual = _sha256_file(source)
        if actual != expected:
            raise ArchiveError(f"{name} in {out_dir} does not match {path}: sha256 {actual[:16]}… "
                               f"but {str(expected)[:16]}… recorded — it was changed after the build; "
                               "nothing was archived")
    return outputs


def _claim_revision(period_dir: Path) -> Path:
    """Create the next free ``rNNN`` folder; ``mkdir`` without ``exist_ok`` makes the claim atomic."""
    period_dir.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in period_dir.iterdir() if (m := _REVISION.fullmatch(p.name))]
    number = max(taken, default=0) + 1
    while True:
        folder = period_dir / f"r{number:03d}"
        try:
            folder.mkdir()
        except FileExistsError:
            number += 1
            continue
        return folder


def _copy_verified(source: Path, target: Path, expected: str) -> None:
    with source.open("rb") as src, target.open("xb") as dst:  # "x": never overwrite
        shutil.copyfileobj(src, dst, 1 << 20)
    shutil.copystat(source, target)
    actual = _sha256_file(target)
    if actual != expected:
        raise ArchiveError(f"the copy of {source.name} in {target.parent} has sha256 {actual[:16]}…, "
                           f"not the recorded {expected[:16]}…")
    target.chmod(0o444)


def archive_outputs(out_dir: Path, *, archive_root: Path, period: str) -> Path:
    """Copy a finished build's outputs into a new revision ``archive_root/<period>/rNNN``.

    Parameters
    ----------
    out_dir : Path
        The build's output folder, with ``manifest.json``.
    archive_root : Path
        The archive's root folder (created if needed).
    period : str
        The build's month, ``YYYY-MM``; must equal the manifest's ``period``.

    Returns
    -------
    Path
        The new revision folder (``r001`` for a month's first archive, then ``r002``, …). Its files
        are copies (the outputs stay in ``out_dir``), verified by hash and made read-only.

    Raises
    ------
    ValueError
        When ``period`` is not ``YYYY-MM``.
    ArchiveError
        When the manifest is missing, unreadable or for another period, or an output is missing
        or does not match its recorded hash (checked before anything is archived), or a copy does
        not match (the incomplete revision is then removed).
    """
    _check_period(period)
    out_dir = Path(out_dir)
    outputs = _read_manifest(out_dir, period)
    manifest_sha = _sha256_file(out_dir / MANIFEST)
    revision = _claim_revision(Path(archive_root) / period)
    try:
        for name, expected in outputs.items():
            _copy_verified(out_dir / name, revision / name, expected)
        _copy_verified(out_dir / MANIFEST, revision / MANIFEST, manifest_sha)  # last: marks the revision complete
    except BaseException:
        for path in revision.iterdir():
            path.chmod(0o644)
        shutil.rmtree(revision, ignore_errors=True)
        raise
    return revision
