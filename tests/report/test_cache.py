"""The analysis cache (:mod:`report.cache`): a re-render in another language equals a cold build byte
for byte, one changed byte of one input is a miss, and a corrupted, tampered, swapped, truncated or
concurrently written entry is never served and never fails a build."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from analysis.config import Config, load_config
from report.cache import (ANALYSIS_DIR, ENTRY, AnalysisCache, CacheHint, CacheKey, cache_root, source_fingerprint,
                          source_stats)
from report.cli import main
from runtime.executor import Executor

PERIOD = "2026-10"
EN, RU = f"oneclick-report_{PERIOD}_en", f"oneclick-report_{PERIOD}_ru"
KEY = b"k" * 32


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _entries(cache: Path) -> list[Path]:
    folder = cache / "oneclick-report" / ANALYSIS_DIR
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _build(data: Path, out: Path, *extra: str) -> None:
    assert main(["build", "--data", str(data), "--out", str(out), "--period", PERIOD, *extra]) == 0


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> dict[str, Path]:
    """A cold Russian build (stores the analysis), an English one after it (served by the cache), a
    cold English one (``--no-cache``) and both languages in one run, all on the sample."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
        patch.delenv("ONECLICK_MANIFEST_KEY", raising=False)
        _build(sample_dir, root / "ru", "--lang", "ru")
        _build(sample_dir, root / "en", "--lang", "en")
        _build(sample_dir, root / "en-cold", "--lang", "en", "--no-cache")
        _build(sample_dir, root / "both", "--lang", "ru,en", "--archive", str(root / "archive"))
    return {"root": root, "xdg": root / "xdg", "ru": root / "ru", "en": root / "en", "en-cold": root / "en-cold",
            "both": root / "both", "archive": root / "archive"}


@pytest.mark.slow
def test_english_after_russian_is_served_and_equals_a_cold_build(builds: dict[str, Path]) -> None:
    assert _manifest(builds["ru"])["analysis_cache"]["status"] == "stored"
    cached, cold = _manifest(builds["en"]), _manifest(builds["en-cold"])
    assert cached["analysis_cache"]["status"] == "hit"
    assert cached["analysis_cache"]["key"] == _manifest(builds["ru"])["analysis_cache"]["key"]
    assert cold["analysis_cache"] == {"status": "off"}
    # the hit ran no analysis stage; the cold build did
    assert "model" not in {t["stage"] for t in cached["stage_timings"]}
    assert "model" in {t["stage"] for t in cold["stage_timings"]}
    for name in (f"{EN}.html", f"{EN}.pdf", "scores.csv", "actions.csv"):
        assert _sha(builds["en"] / name) == _sha(builds["en-cold"] / name), name
    assert cached["outputs"] == cold["outputs"] | {"results.json": cached["outputs"]["results.json"]}
    assert cached["embedded_manifest_sha256"] == cold["embedded_manifest_sha256"]
    assert cached["sources"] == cold["sources"] and {s["table"] for s in cold["sources"]} == {
        "market_file", "market_money", "market_time", "money"}
    # the Russian actions.csv is worded in Russian, the English one in English, with the same rows
    ru_rows = (builds["ru"] / "actions.csv").read_text(encoding="utf-8").splitlines()
    en_rows = (builds["en"] / "actions.csv").read_text(encoding="utf-8").splitlines()
    assert len(ru_rows) == len(en_rows) and ru_rows != en_rows
    assert [r.split(",")[:5] for r in ru_rows] == [r.split(",")[:5] for r in en_rows]


@pytest.mark.slow
def test_both_languages_in_one_run_each_a_complete_build(builds: dict[str, Path]) -> None:
    both = builds["both"]
    assert sorted(p.name for p in both.iterdir()) == ["en", "ru"]
    for lang, stem, single in (("ru", RU, builds["ru"]), ("en", EN, builds["en-cold"])):
        folder = both / lang
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [f"{stem}.html", f"{stem}.pdf", "results.json", "scores.csv", "actions.csv", "manifest.json"])
        assert _manifest(folder)["analysis_cache"]["status"] == "hit"
        for name in (f"{stem}.html", f"{stem}.pdf", "actions.csv", "scores.csv"):
            assert _sha(folder / name) == _sha(single / name), (lang, name)
        assert main(["verify", str(folder / f"{stem}.pdf")]) == 0
    from report.delivery import ReportFolderError, compose_report_email

    with pytest.raises(ReportFolderError, match=r"built in several languages; give the folder .*/en or .*/ru"):
        compose_report_email(both, sender="a@example.com", recipients=["b@example.com"])
    revisions = sorted((builds["archive"] / PERIOD).iterdir())
    assert [r.name for r in revisions] == ["r001", "r002"]
    assert sorted(p.suffix for r in revisions for p in r.glob("*.pdf")) == [".pdf", ".pdf"]
    assert {p.name for r in revisions for p in r.glob("*.pdf")} == {f"{RU}.pdf", f"{EN}.pdf"}


@pytest.mark.slow
def test_one_changed_byte_of_one_input_is_a_miss(builds: dict[str, Path], sample_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(builds["xdg"]))
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    money = data / "money.csv"
    raw = money.read_bytes()
    second_line_end = raw.index(b"\n", raw.index(b"\n") + 1)
    position = second_line_end - 1  # the last digit of the first customer's profit
    assert raw[position:position + 1].isdigit()
    changed = bytearray(raw)
    changed[position] = ord("1") if raw[position:position + 1] != b"1" else ord("2")
    money.write_bytes(bytes(changed))
    before = set(_entries(builds["xdg"]))
    _build(data, tmp_path / "out", "--lang", "en")
    manifest = _manifest(tmp_path / "out")
    assert manifest["analysis_cache"]["status"] == "stored"
    assert manifest["analysis_cache"]["key"] != _manifest(builds["en"])["analysis_cache"]["key"]
    assert manifest["inputs"]["money.csv"] == _sha(money) != _manifest(builds["en"])["inputs"]["money.csv"]
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["meta"]["input_sha256"]["money.csv"] == _sha(money)
    assert "model" in {t["stage"] for t in manifest["stage_timings"]}
    assert len(set(_entries(builds["xdg"])) - before) == 1


def test_key_covers_what_shapes_the_results(sample_dir: Path, tmp_path: Path) -> None:
    inputs = source_fingerprint(sample_dir)
    assert set(inputs) == {"market_file.csv", "market_money.csv", "market_time.csv", "money.csv"}
    assert inputs["money.csv"] == _sha(sample_dir / "money.csv")

    default = Config()

    def key(config: Config = default, **changes: object) -> str:
        parts = {"inputs": inputs, "period": PERIOD, "config": config, "previous": None, **changes}
        return CacheKey.for_build(**parts).digest

    base = key()
    assert key() == base
    # rendering-only settings share the analysis
    for report in ({"lang": "en"}, {"dpi": 200}, {"money_unit": "rub"}, {"rasterize_above": 50}):
        assert key(Config.model_validate({"report": report})) == base, report
    assert key(Config.model_validate({"cache": {"max_entries": 2}})) == base
    # anything else is another analysis
    for changed in ({"seed": 7}, {"segments": {"risk_threshold": 0.6}}, {"model": {"cv_folds": 3}},
                    {"n_jobs": 1}, {"cleaning": {"outlier_policy": "cap"}}):
        assert key(Config.model_validate(changed)) != base, changed
    assert key(period="2026-11") != base
    assert key(inputs={**inputs, "money.csv": "0" * 64}) != base
    previous = tmp_path / "results.json"
    previous.write_text("{}", encoding="utf-8")
    with_previous = key(previous=previous)
    assert with_previous != base
    previous.write_text("{ }", encoding="utf-8")
    assert key(previous=previous) != with_previous
    assert source_fingerprint(tmp_path / "missing") is None
    assert source_fingerprint("postgresql://db/shop") is None


def test_cache_root_follows_xdg(tmp_path: Path) -> None:
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path), "HOME": "/home/u"}) == tmp_path / "oneclick-report"
    assert cache_root({"HOME": "/home/u"}) == Path("/home/u/.cache/oneclick-report")
    # a relative XDG_CACHE_HOME is invalid (XDG base-directory specification): ignored
    assert cache_root({"XDG_CACHE_HOME": "rel/cache", "HOME": "/home/u"}) == Path("/home/u/.cache/oneclick-report")


# ------------------------------------------------------------------- the entry, at the API level
@pytest.fixture
def stored(builds: dict[str, Path], sample_dir: Path, tmp_path: Path) -> tuple[AnalysisCache, CacheKey, Path]:
    """A copy of the cache the builds wrote, and the key of the sample's analysis."""
    root = tmp_path / "cache"
    shutil.copytree(builds["xdg"] / "oneclick-report", root)
    key = CacheKey.for_build(inputs=source_fingerprint(sample_dir), period=PERIOD, config=Config(), previous=None)
    assert key.digest == _manifest(builds["ru"])["analysis_cache"]["key"]
    return AnalysisCache(root), key, tmp_path / "scores.csv"


def test_a_good_entry_is_served(stored: tuple[AnalysisCache, CacheKey, Path], builds: dict[str, Path]) -> None:
    cache, key, scores = stored
    config = Config.model_validate({"report": {"dpi": 150}})
    notes: list[str] = []
    cache.note = notes.append
    hit = cache.load(key, config=config, scores_to=scores)
    assert hit is not None and hit.results.meta.config == config  # stamped with this build's settings
    assert _sha(scores) == _sha(builds["ru"] / "scores.csv")
    assert len(hit.actions) == hit.results.actions.n_rows
    assert notes and notes[-1].startswith("analysis from cache: entry " + key.short)


def _rewrite_entry(folder: Path, **changes: object) -> None:
    entry = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
    entry.update(changes)
    (folder / ENTRY).write_text(json.dumps(entry), encoding="utf-8")


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [
    "flip results", "flip scores", "flip actions", "truncate scores", "remove actions", "empty entry",
    "entry not json", "entry of another key", "entry lists no files", "huge entry",
])
def test_a_damaged_entry_is_a_miss(stored: tuple[AnalysisCache, CacheKey, Path], damage: str) -> None:
    cache, key, scores = stored
    folder = cache.entry_dir(key)
    match damage:
        case "flip results":
            _flip_byte(folder / "results.json")
        case "flip scores":
            _flip_byte(folder / "scores.csv")
        case "flip actions":
            _flip_byte(folder / "actions.parquet")
        case "truncate scores":
            (folder / "scores.csv").write_bytes((folder / "scores.csv").read_bytes()[:100])
        case "remove actions":
            (folder / "actions.parquet").unlink()
        case "empty entry":
            (folder / ENTRY).write_bytes(b"")
        case "entry not json":
            (folder / ENTRY).write_bytes(b"\xff\xfe{")
        case "entry of another key":
            _rewrite_entry(folder, key="0" * 64)
        case "entry lists no files":
            _rewrite_entry(folder, files=[])
        case "huge entry":
            (folder / ENTRY).write_bytes(b" " * (2 << 20))
    notes: list[str] = []
    cache.note = notes.append
    assert cache.load(key, config=Config(), scores_to=scores) is None
    assert not scores.exists()
    assert "not used" in notes[-1]


def test_an_entry_of_other_inputs_under_this_key_is_a_miss(stored: tuple[AnalysisCache, CacheKey, Path],
                                                           sample_dir: Path) -> None:
    """An entry moved under another key's name (its document and hashes consistent) is not served."""
    cache, key, scores = stored
    other = CacheKey.for_build(inputs={**source_fingerprint(sample_dir), "money.csv": "1" * 64}, period=PERIOD,
                               config=Config(), previous=None)
    shutil.copytree(cache.entry_dir(key), cache.entry_dir(other))
    assert cache.load(other, config=Config(), scores_to=scores) is None
    # …even when its entry.json is rewritten to claim that key: the results record their own inputs
    _rewrite_entry(cache.entry_dir(other), key=other.digest, document=other.document)
    assert cache.load(other, config=Config(), scores_to=scores) is None


def test_a_consistently_tampered_entry_is_refused_with_a_key(stored: tuple[AnalysisCache, CacheKey, Path],
                                                             tmp_path: Path) -> None:
    cache, key, scores = stored
    signed = AnalysisCache(tmp_path / "signed", signing_key=KEY)
    results_bytes = (cache.entry_dir(key) / "results.json").read_bytes()
    hit = cache.load(key, config=Config(), scores_to=scores)
    assert signed.store(key, results_bytes=results_bytes, scores=scores, actions=hit.actions)
    assert signed.load(key, config=Config(), scores_to=tmp_path / "s.csv") is not None
    # a changed number with every hash recomputed: only the signature tells
    folder = signed.entry_dir(key)
    text = (folder / "results.json").read_text(encoding="utf-8")
    tampered = text.replace('"n_customers_analysed": ', '"n_customers_analysed": 1', 1)
    assert tampered != text
    (folder / "results.json").write_text(tampered, encoding="utf-8")
    entry = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
    entry["files"]["results.json"] = _sha(folder / "results.json")
    (folder / ENTRY).write_text(json.dumps(entry), encoding="utf-8")
    assert signed.load(key, config=Config(), scores_to=tmp_path / "s.csv") is None
    # an unsigned entry is refused when a key is set
    assert AnalysisCache(cache.root, signing_key=KEY).load(key, config=Config(), scores_to=scores) is None


def test_concurrent_stores_leave_one_complete_entry(stored: tuple[AnalysisCache, CacheKey, Path],
                                                    tmp_path: Path) -> None:
    cache, key, scores = stored
    hit = cache.load(key, config=Config(), scores_to=scores)
    results_bytes = (cache.entry_dir(key) / "results.json").read_bytes()
    fresh = AnalysisCache(tmp_path / "fresh")
    outcomes: list[bool] = []
    threads = [threading.Thread(target=lambda: outcomes.append(
        fresh.store(key, results_bytes=results_bytes, scores=scores, actions=hit.actions))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [True] * 6
    assert [p.name for p in (fresh.root / ANALYSIS_DIR).iterdir()] == [key.digest]
    assert list((fresh.root / "tmp").iterdir()) == []
    assert fresh.load(key, config=Config(), scores_to=tmp_path / "s.csv") is not None


def test_a_refused_entry_is_replaced_by_the_next_store(stored: tuple[AnalysisCache, CacheKey, Path]) -> None:
    cache, key, scores = stored
    hit = cache.load(key, config=Config(), scores_to=scores)
    results_bytes = (cache.entry_dir(key) / "results.json").read_bytes()
    _flip_byte(cache.entry_dir(key) / "results.json")
    assert cache.load(key, config=Config(), scores_to=scores.with_name("x.csv")) is None
    assert cache.store(key, results_bytes=results_bytes, scores=scores, actions=hit.actions)
    assert cache.load(key, config=Config(), scores_to=scores.with_name("y.csv")) is not None


def test_an_unwritable_cache_never_fails(stored: tuple[AnalysisCache, CacheKey, Path], tmp_path: Path) -> None:
    cache, key, scores = stored
    hit = cache.load(key, config=Config(), scores_to=scores)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    notes: list[str] = []
    broken = AnalysisCache(blocker / "cache", note=notes.append)
    assert broken.load(key, config=Config(), scores_to=tmp_path / "s.csv") is None
    assert not broken.store(key, results_bytes=b"{}", scores=scores, actions=hit.actions)
    assert "not stored" in notes[-1]


def test_least_recently_used_entries_are_evicted(stored: tuple[AnalysisCache, CacheKey, Path],
                                                 tmp_path: Path, sample_dir: Path) -> None:
    cache, key, scores = stored
    hit = cache.load(key, config=Config(), scores_to=scores)
    results_bytes = (cache.entry_dir(key) / "results.json").read_bytes()
    small = AnalysisCache(tmp_path / "small", max_entries=2)
    keys = [CacheKey.for_build(inputs=source_fingerprint(sample_dir), period=period, config=Config(), previous=None)
            for period in ("2026-08", "2026-09", "2026-10")]
    for k in keys:
        assert small.store(k, results_bytes=results_bytes, scores=scores, actions=hit.actions)
    assert {p.name for p, _, _ in small.entries()} == {keys[1].digest, keys[2].digest}


# ------------------------------------------------------------------- the hint: which workers start first
def _hint(data: Path, config: Config | None = None, period: str = PERIOD) -> CacheHint:
    return CacheHint.for_build(stats=source_stats(data), period=period, config=config or Config(), previous=None)


def test_an_entry_records_the_hint_of_the_files_it_was_computed_from(builds: dict[str, Path], sample_dir: Path,
                                                                      tmp_path: Path) -> None:
    cache = AnalysisCache(builds["xdg"] / "oneclick-report")
    assert cache.expects(_hint(sample_dir))
    # another period, another shaping setting, no entry at all: nothing expected
    assert not cache.expects(_hint(sample_dir, period="2026-09"))
    assert not cache.expects(_hint(sample_dir, Config.model_validate({"segments": {"risk_threshold": 0.61}})))
    assert not AnalysisCache(tmp_path / "empty").expects(_hint(sample_dir))
    # a rendering-only setting is not in the hint, as it is not in the key
    assert cache.expects(_hint(sample_dir, Config.model_validate({"report": {"dpi": 150}})))
    # a copy (other inodes and times), or a touched file of the same content: a different guess
    copy = tmp_path / "copy"
    shutil.copytree(sample_dir, copy)
    assert not cache.expects(_hint(copy))
    stats = source_stats(copy)
    assert stats is not None and set(stats) == set(source_fingerprint(copy))
    # one byte changed in place (the same inode) and the modification time put back: the change time moved
    money = copy / "money.csv"
    before, hint = money.stat(), _hint(copy)
    raw = bytearray(money.read_bytes())
    raw[-2] = ord("1") if raw[-2] != ord("1") else ord("2")
    with money.open("r+b") as handle:
        handle.write(raw)
    os.utime(money, ns=(before.st_atime_ns, before.st_mtime_ns))
    size, mtime, ctime, inode = source_stats(copy)["money.csv"]
    assert (size, mtime, inode) == (before.st_size, before.st_mtime_ns, before.st_ino) and ctime != before.st_ctime_ns
    assert _hint(copy) != hint
    assert source_stats(tmp_path / "missing") is None and source_stats("postgresql://db/shop") is None


def test_expects_never_raises(sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that cannot be listed, a file where the folder should be, an entry nested too deep
    for the JSON decoder: nothing expected, and no exception (a build would fail on it)."""
    hint = _hint(sample_dir)
    root = tmp_path / "cache"
    (root / ANALYSIS_DIR / "deep").mkdir(parents=True)
    (root / ANALYSIS_DIR / "deep" / ENTRY).write_text("[" * 200_000)
    (root / ANALYSIS_DIR / "a-file").write_text("{}")
    assert not AnalysisCache(root).expects(hint)
    (tmp_path / "plain" / ANALYSIS_DIR).parent.mkdir()
    (tmp_path / "plain" / ANALYSIS_DIR).write_text("not a folder")
    assert not AnalysisCache(tmp_path / "plain").expects(hint)
    listing = Path.iterdir

    def unlistable(self: Path) -> object:  # as for a cache folder of another user, mode 0711
        if self.name == ANALYSIS_DIR:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", unlistable)
    assert not AnalysisCache(root).expects(hint)


def test_expects_reads_regular_files_only(sample_dir: Path, tmp_path: Path) -> None:
    """An ``entry.json`` that is a FIFO (whose read would wait for a writer forever) or a link to
    a device (``/dev/zero``: a read that never ends) records nothing, as for :meth:`load`."""
    root = tmp_path / "cache"
    for name in ("fifo", "device"):
        (root / ANALYSIS_DIR / name).mkdir(parents=True)
    fifo = root / ANALYSIS_DIR / "fifo" / ENTRY
    os.mkfifo(fifo)
    (root / ANALYSIS_DIR / "device" / ENTRY).symlink_to("/dev/null")
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(AnalysisCache(root).expects(_hint(sample_dir))),
                              daemon=True)
    thread.start()
    thread.join(10)
    waited = thread.is_alive()
    if waited:  # let the blocked reader go (it reads an empty file)
        with fifo.open("wb"):
            pass
        thread.join()
    assert not waited and answers == [False]


def _spy_on_start(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """What the build did first: start its workers (with which preload) or hash its inputs."""
    import report.build
    import report.cache

    events: list[tuple[str, ...]] = []
    start, fingerprint = report.build.start_executor, report.cache.source_fingerprint

    def spied_start(config: Config, *, preload: Sequence[str] = report.build.WORKER_PRELOAD) -> Executor:
        events.append(("start", "rendering" if preload == report.build.RENDER_PRELOAD else "analysis"))
        return start(config, preload=preload)

    def spied_fingerprint(source: object) -> dict[str, str] | None:
        events.append(("hash",))
        return fingerprint(source)

    monkeypatch.setattr(report.build, "start_executor", spied_start)
    monkeypatch.setattr(report.cache, "source_fingerprint", spied_fingerprint)
    return events


@pytest.mark.slow
def test_an_expected_hit_starts_the_rendering_workers_before_hashing(builds: dict[str, Path], sample_dir: Path,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(builds["xdg"]))
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    events = _spy_on_start(monkeypatch)
    _build(sample_dir, tmp_path / "out", "--lang", "en")
    assert events == [("start", "rendering"), ("hash",)]
    assert _manifest(tmp_path / "out")["analysis_cache"]["status"] == "hit"
    for name in (f"{EN}.html", f"{EN}.pdf", "actions.csv"):
        assert _sha(tmp_path / "out" / name) == _sha(builds["en-cold"] / name), name


@pytest.mark.slow
def test_a_wrong_guess_is_only_slower(sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hint expects an entry that cannot be served (its scores.csv damaged): the rendering
    workers start, the entry is refused, and those workers run the analysis: the same results as a
    build without the cache, stored in place of the refused entry."""
    from analysis.results import Results

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    _build(data, tmp_path / "ru", "--lang", "ru")
    (entry,) = _entries(tmp_path / "xdg")
    _flip_byte(entry / "scores.csv")
    events = _spy_on_start(monkeypatch)
    _build(data, tmp_path / "en", "--lang", "en")
    assert events == [("start", "rendering"), ("hash",)]  # no other pool: the rendering one ran the analysis
    manifest = _manifest(tmp_path / "en")
    ru_key = _manifest(tmp_path / "ru")["analysis_cache"]["key"]
    assert manifest["analysis_cache"] == {"status": "stored", "key": ru_key}
    assert "model" in {t["stage"] for t in manifest["stage_timings"]}
    _build(data, tmp_path / "en-cold", "--lang", "en", "--no-cache")
    served = Results.load(tmp_path / "en" / "results.json").without_measurements()
    assert served == Results.load(tmp_path / "en-cold" / "results.json").without_measurements()
    for name in ("scores.csv", "actions.csv", f"{EN}.pdf"):
        assert _sha(tmp_path / "en" / name) == _sha(tmp_path / "en-cold" / name), name
    assert _sha(entry / "scores.csv") == _sha(tmp_path / "en" / "scores.csv")  # the refused entry replaced


def test_cli_refuses_bad_languages(capsys: pytest.CaptureFixture[str], sample_dir: Path, tmp_path: Path) -> None:
    for bad in ("de", "ru,ru", "ru,", ""):
        with pytest.raises(SystemExit) as info:
            main(["build", "--data", str(sample_dir), "--out", str(tmp_path), "--lang", bad])
        assert info.value.code == 2
        assert "--lang" in capsys.readouterr().err


def test_config_file_with_rendering_settings_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[report]\ndpi = 150\n[cache]\nmax_entries = 3\n", encoding="utf-8")
    config = load_config(path)
    assert config.report.dpi == 150 and config.cache.max_entries == 3


@pytest.mark.slow
def test_a_source_hashed_only_as_read_is_looked_up_after_reading(builds: dict[str, Path], sample_dir: Path,
                                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """A source without a fingerprint before reading (a database, say): the key is made from what
    the analysis read, and a hit ends the analysis there."""
    import report.cache

    from analysis.results import Results

    monkeypatch.setattr(report.cache, "source_fingerprint", lambda source: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(builds["xdg"]))
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # in this process, with the patched fingerprint
    _build(sample_dir, tmp_path / "out", "--lang", "en")
    err = capfd.readouterr().err
    assert "looked up once the data are read" in err and "analysis from cache" in err
    manifest = _manifest(tmp_path / "out")
    assert manifest["analysis_cache"]["status"] == "hit"
    stages = {t["stage"] for t in manifest["stage_timings"]}
    assert "load" in stages and "model" not in stages
    late = Results.load(tmp_path / "out" / "results.json").without_measurements()
    cold = Results.load(builds["en-cold"] / "results.json").without_measurements()
    assert late == cold
