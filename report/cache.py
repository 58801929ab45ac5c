"""The analysis cache: a build whose inputs, results-shaping configuration and code match an earlier
analysis re-renders from it (another language, another rendering option) instead of recomputing.

Where
    ``$XDG_CACHE_HOME/oneclick-report`` (``~/.cache/oneclick-report`` when the variable is unset or
    not an absolute path, as the XDG base-directory specification says), never inside ``--out``:
    a build into another folder finds the same entries. ``build --no-cache`` neither reads nor
    writes it.

The key (:class:`CacheKey`)
    SHA-256 of one canonical JSON document of everything that shapes the results:

    - ``inputs``: what is read, by content — the SHA-256 of every table file of the source, the
      same hashes ``manifest.json`` records as ``inputs`` (:func:`source_fingerprint`). A source
      whose content cannot be hashed before it is read has no fingerprint: the build looks it up
      with the hashes the analysis records once it has read the data (``run_analysis(after_load=…)``);
    - ``period``, and the previous month's ``results.json``, ``scores.csv``, ``actions.csv`` and
      ``manifest.json`` (by content) when the build compares with it;
    - the whole configuration except :data:`RENDERING_ONLY` (``report``: language, DPI,
      rasterising, money unit; ``cache``: these limits; ``executor``: the workers' time limit) — a
      new setting shapes the results until it is listed there;
    - the code version (:func:`analysis.pipeline.code_version`: the project's sources) and the
      versions of the packages that compute (:func:`analysis.pipeline.package_versions`).

An entry (``analysis-v1/<key>/``)
    ``results.json`` (with the analysis' own measurements), ``scores.csv`` (the bytes a build
    publishes), ``actions.parquet`` (the per-customer action rows that ``actions.csv`` is worded
    from in each language) and ``entry.json``: the key's document, the SHA-256 of each file,
    when it was computed, the build's :class:`CacheHint` — HMAC-signed with
    ``ONECLICK_MANIFEST_KEY`` when that is set.

The hint (:class:`CacheHint`)
    Hashing the tables and loading the entry take most of a second at a million customers, several
    seconds at ten million. Before it hashes, a build asks :meth:`AnalysisCache.expects` whether an
    entry was stored from files of the same sizes, modification and change times and inodes (and
    the same rest of the key). If so, it starts its rendering workers beside the hashing (otherwise
    its workers start as before). The answer decides nothing else: a wrong guess costs speed (the
    rendering workers then run the analysis), never a result.

Safety
    An entry is written into a private folder under ``tmp/`` and appears under its key by one
    ``rename`` of the whole folder, so a reader sees a complete entry or none, and two builds that
    store the same key at once leave one complete entry. A reader serves an entry only when its
    document equals the requested one, every file has its recorded hash (the scores are hashed as
    copied, so the bytes published are the bytes checked), the signature matches (with a key set),
    the results load as this version's :class:`~analysis.results.Results` and their own record of
    period, inputs, code and versions agrees with the key. Anything else — a missing, truncated,
    corrupted or tampered entry, one evicted while being read — is a miss, with the reason in the
    build's progress: the analysis is then recomputed and the entry replaced. The cache never fails
    a build: when it cannot be written (a read-only or full disk), the build says so and goes on.
    Entries beyond ``cache.max_entries`` or ``cache.max_bytes`` are evicted, least recently used first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.config import Config
from analysis.results import Results

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ANALYSIS_DIR", "RENDERING_ONLY", "AnalysisCache", "CacheHint", "CacheKey", "CachedAnalysis",
           "cache_root", "source_fingerprint", "source_stats"]

APP = "oneclick-report"
#: Entries of this layout live under this folder of the cache root; a new layout takes a new name.
ANALYSIS_DIR = "analysis-v1"
ENTRY = "entry.json"
RESULTS, SCORES, ACTIONS = "results.json", "scores.csv", "actions.parquet"
_FILES = (RESULTS, SCORES, ACTIONS)
#: Sections of :class:`analysis.config.Config` that only render (or manage the cache): not in the key.
RENDERING_ONLY: tuple[str, ...] = ("report", "cache", "executor")
#: ``entry.json`` is ~2 KB; a larger one is not read.
_MAX_ENTRY_BYTES = 1 << 20
#: Table file names tried in a source folder for each table, by extension.
_TABLE_SUFFIXES = (".csv", ".parquet")
#: A ``tmp/`` folder older than this is a crashed writer's and is removed.
_STALE_SECONDS = 24 * 3600


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/oneclick-report``, or ``~/.cache/oneclick-report``.

    A relative ``XDG_CACHE_HOME`` is ignored, as the XDG base-directory specification requires.
    """
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME", "")
    if not base or not os.path.isabs(base):
        home = environ.get("HOME") or str(Path.home())
        base = os.path.join(home, ".cache")
    return Path(base) / APP


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _table_paths(source: object) -> list[Path] | None:
    """The table files present in a source folder (``None`` when ``source`` is not a folder)."""
    from analysis.schema import TABLES

    if not isinstance(source, Path) or not source.is_dir():
        return None
    paths = [source / f"{Path(table.file).stem}{suffix}" for table in TABLES for suffix in _TABLE_SUFFIXES]
    return [path for path in paths if path.is_file()]


def source_fingerprint(source: object) -> dict[str, str] | None:
    """What a build would read, by content: table file name → SHA-256.

    For a folder: every table file present (``market_file.csv``, or ``market_file.parquet``, …),
    hashed as the loader hashes it (the manifest's ``inputs``). ``None`` for a source that cannot
    be hashed before it is read (not a folder, e.g. a database URL): the build then looks the
    cache up with what the analysis read.
    """
    paths = _table_paths(source)
    if paths is None:
        return None
    # the files hashed side by side (hashlib lets other threads run while it hashes a chunk): a
    # million customers' 0.33 GB in 0.8 s on one core
    with ThreadPoolExecutor(max_workers=max(1, min(len(paths), os.cpu_count() or 1))) as pool:
        return dict(zip((path.name for path in paths), pool.map(_sha256_file, paths), strict=True))


def _stat(path: Path) -> list[int]:
    info = path.stat()  # the change time too: ``utime`` can put a modification time back, not it
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def source_stats(source: object) -> dict[str, list[int]] | None:
    """What :func:`source_fingerprint` would hash, by metadata only: table file name → size,
    modification time and change time (ns) and inode. ``None`` where the fingerprint is ``None``."""
    paths = _table_paths(source)
    return None if paths is None else {path.name: _stat(path) for path in paths}


def _previous_files(previous: Path, read: Callable[[Path], Any]) -> dict[str, Any]:
    folder = previous.parent
    return {RESULTS: read(previous),
            **{name: (read(folder / name) if (folder / name).is_file() else None)
               for name in ("scores.csv", "actions.csv", "manifest.json")}}


def _previous_fingerprint(previous: Path | None) -> dict[str, str | None] | None:
    return None if previous is None else _previous_files(previous, _sha256_file)


def _canonical(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _shaping_config(config: Config) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude=set(RENDERING_ONLY))


def _document(*, inputs: Mapping[str, object], period: str, config: Config,
              previous: dict[str, Any] | None) -> dict[str, Any]:
    from analysis.pipeline import code_version, package_versions

    return {"layout": ANALYSIS_DIR, "inputs": dict(sorted(inputs.items())), "period": period, "previous": previous,
            "config": _shaping_config(config), "code_version": code_version(), "versions": package_versions()}


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What an analysis depends on (:attr:`document`) and its SHA-256 (:attr:`digest`)."""

    document: dict[str, Any]
    digest: str

    @classmethod
    def for_build(cls, *, inputs: dict[str, str], period: str, config: Config,
                  previous: Path | None) -> CacheKey:
        """The key of a build of ``period`` from the source with fingerprint ``inputs``."""
        document = _document(inputs=inputs, period=period, config=config, previous=_previous_fingerprint(previous))
        return cls(document=document, digest=hashlib.sha256(_canonical(document)).hexdigest())

    @property
    def short(self) -> str:
        """The first 12 hex digits, for messages."""
        return self.digest[:12]


@dataclass(frozen=True, slots=True)
class CacheHint:
    """A guess, made before anything is hashed, at which entry a build will find: the digest of the
    key's document with each file's size, modification and change times and inode (:func:`source_stats`) in
    place of its content hash. Recorded in the entry a build stores (``entry.json`` →
    ``stat_hint``); :meth:`AnalysisCache.expects` looks it up.

    It decides nothing but which worker processes the build starts while it hashes its inputs
    (:mod:`report.build`); an entry is served only by its :class:`CacheKey`, over content.
    """

    digest: str

    @classmethod
    def for_build(cls, *, stats: dict[str, list[int]], period: str, config: Config,
                  previous: Path | None) -> CacheHint:
        """The hint of a build of ``period`` from the source with metadata ``stats``."""
        document = _document(inputs=stats, period=period, config=config,
                             previous=None if previous is None else _previous_files(previous, _stat))
        return cls(digest=hashlib.sha256(_canonical(document)).hexdigest())


@dataclass(frozen=True, slots=True)
class CachedAnalysis:
    """A served entry: the results (stamped with the current configuration), the action rows, and
    when the analysis was computed. ``scores.csv`` was copied where :meth:`AnalysisCache.load` was told."""

    results: Results
    actions: pd.DataFrame
    computed_at: str
    #: What the analysis read, table by table (``manifest.json`` → ``sources``).
    sources: tuple[dict[str, str | int], ...] = ()
    #: The SHA-256 of the ``scores.csv`` copied (checked against the entry's record as copied).
    scores_sha256: str = ""


class _Miss(Exception):
    """The entry cannot be served (the reason is the message)."""


class AnalysisCache:
    """The analysis cache under ``root`` (:func:`cache_root` by default).

    Parameters
    ----------
    root : Path, optional
        The cache folder.
    max_entries, max_bytes : int
        Limits kept after each store (``cache.max_entries``, ``cache.max_bytes``).
    signing_key : bytes, optional
        HMAC key (``ONECLICK_MANIFEST_KEY``): entries are signed with it, and unsigned or
        otherwise signed entries are not served.
    note : callable, optional
        Told, in words, what the cache did (a hit, a miss and why, a store, a failure).
    """

    def __init__(self, root: Path | None = None, *, max_entries: int = 8, max_bytes: int = 4 << 30,
                 signing_key: bytes | None = None, note: Callable[[str], None] | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root()
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.signing_key = signing_key
        self.note = note or (lambda _text: None)
        self._refused: set[str] = set()  # entries found unusable: replaced by the next store

    def entry_dir(self, key: CacheKey) -> Path:
        """Where the entry of ``key`` lives."""
        return self.root / ANALYSIS_DIR / key.digest

    # ------------------------------------------------------------------------------ reading
    def expects(self, hint: CacheHint) -> bool:
        """Whether an entry records ``hint`` (a likely hit: nothing is checked or served here).

        Reads the ``entry.json`` of every entry folder present (eviction keeps them to about
        ``cache.max_entries``; a few KB each); an
        unreadable one, or one that is not a regular file, records nothing, and a cache folder that
        cannot be listed expects nothing (never an exception nor a wait: the guess must not fail or
        stall a build that the cache would not).
        """
        folder = self.root / ANALYSIS_DIR
        with contextlib.suppress(OSError):
            for path in folder.iterdir():
                with contextlib.suppress(OSError, ValueError, RecursionError):
                    entry_path = path / ENTRY
                    info = entry_path.stat()
                    # a regular file only, as load() reads: a FIFO would block, /dev/zero never end
                    if stat.S_ISREG(info.st_mode) and info.st_size <= _MAX_ENTRY_BYTES:
                        with entry_path.open("rb") as handle:
                            entry = json.loads(handle.read(_MAX_ENTRY_BYTES + 1))
                        if isinstance(entry, dict) and entry.get("stat_hint") == hint.digest:
                            return True
        return False

    def load(self, key: CacheKey, *, config: Config, scores_to: Path) -> CachedAnalysis | None:
        """The entry of ``key``, or ``None`` (a miss: absent or unusable, never an exception).

        ``scores.csv`` is copied to ``scores_to`` and checked there; on a miss ``scores_to`` is removed.
        """
        folder = self.entry_dir(key)
        if not (folder / ENTRY).is_file():
            self.note(f"analysis cache: no entry {key.short} in {self.root}; computing the analysis")
            return None
        try:
            served = self._serve(folder, key, config=config, scores_to=scores_to)
        except (_Miss, OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            with contextlib.suppress(OSError):
                scores_to.unlink()
            self._refused.add(key.digest)
            reason = str(exc) if isinstance(exc, _Miss) else f"{type(exc).__name__}: {exc}"
            self.note(f"analysis cache: entry {key.short} not used ({reason}); computing the analysis")
            return None
        with contextlib.suppress(OSError):
            os.utime(folder / ENTRY)  # least recently used goes first
        self.note(f"analysis from cache: entry {key.short}, computed {served.computed_at}; re-rendering only")
        return served

    def _serve(self, folder: Path, key: CacheKey, *, config: Config, scores_to: Path) -> CachedAnalysis:
        import pyarrow.parquet as pq
        import pydantic

        from analysis.actions import ACTION_COLUMNS
        from report.signing import check_signature

        entry_path = folder / ENTRY
        if entry_path.stat().st_size > _MAX_ENTRY_BYTES:
            raise _Miss(f"{ENTRY} is larger than {_MAX_ENTRY_BYTES} bytes")
        entry = json.loads(entry_path.read_bytes().decode("utf-8"))
        if not isinstance(entry, dict) or entry.get("key") != key.digest or entry.get("document") != key.document:
            raise _Miss(f"{ENTRY} is for other inputs, configuration or code")
        ok, detail = check_signature(entry, self.signing_key)  # with a key: signed with it, or refused
        if not ok:
            raise _Miss(detail)
        files = entry.get("files")
        if not isinstance(files, dict) or set(files) != set(_FILES):
            raise _Miss(f"{ENTRY} does not record {', '.join(_FILES)}")
        results_bytes = (folder / RESULTS).read_bytes()
        self._check(RESULTS, hashlib.sha256(results_bytes).hexdigest(), files)
        actions_bytes = (folder / ACTIONS).read_bytes()
        self._check(ACTIONS, hashlib.sha256(actions_bytes).hexdigest(), files)
        shutil.copyfile(folder / SCORES, scores_to)
        scores_sha256 = _sha256_file(scores_to)
        self._check(SCORES, scores_sha256, files)
        try:
            results = Results.model_validate_json(results_bytes)
        except pydantic.ValidationError as exc:
            raise _Miss(f"{RESULTS} is not a results file of this version ({exc.error_count()} errors)") from None
        meta = results.meta
        inputs = key.document["inputs"]
        if (meta.period != key.document["period"] or meta.code_version != key.document["code_version"]
                or not meta.input_sha256 or any(inputs.get(name) != sha for name, sha in meta.input_sha256.items())
                or _shaping_config(meta.config) != key.document["config"]):
            raise _Miss(f"{RESULTS} records other inputs, period, configuration or code than its key")
        try:
            actions = pq.read_table(io.BytesIO(actions_bytes)).to_pandas()
        except Exception as exc:  # noqa: BLE001 - any Arrow failure on a corrupted file is a miss
            raise _Miss(f"{ACTIONS} cannot be read ({type(exc).__name__})") from None
        if tuple(actions.columns) != ACTION_COLUMNS or len(actions) != results.actions.n_rows:
            raise _Miss(f"{ACTIONS} does not hold the {results.actions.n_rows} action rows of its results")
        sources = entry.get("sources", [])
        if not (isinstance(sources, list) and all(
                isinstance(x, dict) and all(isinstance(k, str) and isinstance(v, str | int) for k, v in x.items())
                for x in sources)):
            raise _Miss(f"{ENTRY} records a malformed 'sources' list")
        # the rendering-only settings are this build's own (the rest is equal: it is in the key)
        results = results.model_copy(update={"meta": meta.model_copy(update={"config": config})})
        return CachedAnalysis(results=results, actions=actions, computed_at=str(entry.get("created_at")),
                              sources=tuple(sources), scores_sha256=scores_sha256)

    @staticmethod
    def _check(name: str, actual: str, files: dict[str, str]) -> None:
        if files.get(name) != actual:
            raise _Miss(f"{name} does not match its recorded SHA-256 (corrupted or changed)")

    # ------------------------------------------------------------------------------ writing
    def store(self, key: CacheKey, *, results_bytes: bytes, scores: Path, actions: pd.DataFrame,
              sources: tuple[dict[str, str | int], ...] = (), hint: CacheHint | None = None) -> bool:
        """Store an analysis under ``key`` (atomically); ``False`` when it could not be (said in the note).

        ``hint``: the build's :class:`CacheHint`, recorded for :meth:`expects`.
        """
        try:
            self._store(key, results_bytes=results_bytes, scores=scores, actions=actions, sources=sources,
                        hint=hint)
        except OSError as exc:
            self.note(f"analysis cache: not stored in {self.root} ({exc.strerror or exc}); the report is unaffected")
            return False
        self.note(f"analysis cache: stored entry {key.short}")
        with contextlib.suppress(OSError):
            self._evict(keep=key.digest)
        return True

    def _store(self, key: CacheKey, *, results_bytes: bytes, scores: Path, actions: pd.DataFrame,
               sources: tuple[dict[str, str | int], ...], hint: CacheHint | None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from report.signing import sign_manifest

        final = self.entry_dir(key)
        tmp_root = self.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sweep(tmp_root)
        work = Path(tempfile.mkdtemp(prefix=f"{key.short}-", dir=tmp_root))
        try:
            (work / RESULTS).write_bytes(results_bytes)
            shutil.copyfile(scores, work / SCORES)
            pq.write_table(pa.Table.from_pandas(actions, preserve_index=False), work / ACTIONS)
            entry = {"format": 1, "key": key.digest, "document": key.document,
                     "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                     "sources": [dict(x) for x in sources],
                     "files": {name: _sha256_file(work / name) for name in _FILES}}
            if hint is not None:
                entry["stat_hint"] = hint.digest
            if self.signing_key is not None:
                entry = sign_manifest(entry, self.signing_key)
            (work / ENTRY).write_bytes(_canonical(entry))
            for name in (*_FILES, ENTRY):
                _fsync(work / name)
            _fsync(work)
            self._install(work, final, replace=key.digest in self._refused)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _install(self, work: Path, final: Path, *, replace: bool) -> None:
        """Rename ``work`` to ``final``. An entry already there is kept (another build stored the same
        analysis meanwhile) unless ``replace`` (this cache refused it): then it is first moved aside
        in one rename — readers see the old entry or none, never a mix — and removed."""
        for _attempt in range(5):
            try:
                os.rename(work, final)
            except OSError:
                if not final.exists():
                    raise
                if not replace:
                    return
                aside = Path(tempfile.mkdtemp(prefix="replaced-", dir=work.parent)) / "entry"
                with contextlib.suppress(FileNotFoundError):  # another build moved it meanwhile
                    os.rename(final, aside)
                shutil.rmtree(aside.parent, ignore_errors=True)
                replace = False  # what appears there from now on is another build's complete entry
                continue
            _fsync(final.parent)
            return
        raise OSError(f"cannot install the entry at {final}")

    def _sweep(self, tmp_root: Path) -> None:
        """Remove what crashed writers left in ``tmp/`` (older than a day)."""
        now = time.time()
        for path in tmp_root.iterdir():
            with contextlib.suppress(OSError):
                if now - path.lstat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)

    def entries(self) -> list[tuple[Path, float, int]]:
        """Every complete entry: its folder, last use (``entry.json``'s mtime) and size in bytes."""
        out: list[tuple[Path, float, int]] = []
        folder = self.root / ANALYSIS_DIR
        if not folder.is_dir():
            return out
        for path in folder.iterdir():
            with contextlib.suppress(OSError):
                used = (path / ENTRY).stat().st_mtime
                size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
                out.append((path, used, size))
        return out

    def _evict(self, *, keep: str) -> None:
        """Remove the least recently used entries beyond the limits (never ``keep``)."""
        entries = sorted(self.entries(), key=lambda e: e[1], reverse=True)
        total = 0
        for i, (path, _used, size) in enumerate(entries):
            total += size
            if path.name != keep and (i >= self.max_entries or total > self.max_bytes):
                aside = Path(tempfile.mkdtemp(prefix="evicted-", dir=self.root / "tmp")) / "entry"
                with contextlib.suppress(OSError):
                    os.rename(path, aside)
                shutil.rmtree(aside.parent, ignore_errors=True)
                total -= size


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
