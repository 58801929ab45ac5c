"""Tests of the month-by-month archive (:mod:`report.archive`)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import report.archive as archive_module
from report.archive import (
    ArchiveError, archive_outputs, find_previous_results, latest_revision, previous_period, revisions,
)
from report.build import _json_bytes, report_stem, sha256_bytes


def make_outputs(out_dir: Path, *, period: str = "2026-10", tag: str = "") -> dict[str, bytes]:
    """A finished build's folder: outputs plus a manifest recording their hashes (as build.py writes it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(period, "ru")
    files = {
        f"{stem}.html": f"<html>{period}{tag}</html>".encode(),
        f"{stem}.pdf": b"%PDF-1.7\n" + period.encode() + tag.encode() + b"\n%%EOF\n",
        "results.json": json.dumps({"meta": {"period": period}, "tag": tag}).encode(),
        "scores.csv": f"id,probability\n1,0.5\n2,0.25{tag}\n".encode(),
    }
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
    manifest = {"schema_version": 1, "period": period, "inputs": {"money.csv": "0" * 64},
                "outputs": {name: sha256_bytes(data) for name, data in files.items()},
                "embedded_manifest_sha256": "1" * 64}
    (out_dir / "manifest.json").write_bytes(_json_bytes(manifest))
    return {**files, "manifest.json": (out_dir / "manifest.json").read_bytes()}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------------- archiving
def test_two_archives_of_a_month_become_r001_and_r002(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    files = make_outputs(out)
    first = archive_outputs(out, archive_root=root, period="2026-10")
    assert first == root / "2026-10" / "r001"
    before = snapshot(first)
    second = archive_outputs(out, archive_root=root, period="2026-10")
    assert second == root / "2026-10" / "r002"
    assert snapshot(first) == before  # nothing overwritten
    for folder in (first, second):
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files  # copied, not moved
    assert all(p.stat().st_mode & 0o222 == 0 for p in first.iterdir())
    assert latest_revision(root, "2026-10") == second
    assert revisions(root, "2026-10") == [first, second]


def test_a_rerun_with_new_outputs_is_a_new_revision(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    old = make_outputs(out)
    r1 = archive_outputs(out, archive_root=root, period="2026-10")
    new = make_outputs(out, tag="rerun")
    r2 = archive_outputs(out, archive_root=root, period="2026-10")
    assert (r1 / "results.json").read_bytes() == old["results.json"]
    assert (r2 / "results.json").read_bytes() == new["results.json"]


def test_a_tampered_output_is_refused_and_nothing_is_archived(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    make_outputs(out)
    (out / "scores.csv").write_bytes(b"id,probability\n1,0.99\n")
    with pytest.raises(ArchiveError,
                       match=r"scores\.csv in .* does not match .*manifest\.json.*changed after the build"):
        archive_outputs(out, archive_root=root, period="2026-10")
    assert not (root / "2026-10").exists() or not any((root / "2026-10").iterdir())
    assert latest_revision(root, "2026-10") is None


def test_a_missing_output_is_refused(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    make_outputs(out)
    (out / "results.json").unlink()
    with pytest.raises(ArchiveError, match=r"results\.json is recorded in .* but missing"):
        archive_outputs(out, archive_root=root, period="2026-10")


def test_a_folder_without_manifest_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ArchiveError, match=r"manifest\.json not found: only a finished build"):
        archive_outputs(out, archive_root=tmp_path / "archive", period="2026-10")


def test_a_manifest_of_another_period_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    make_outputs(out, period="2026-09")
    with pytest.raises(ArchiveError, match="is for period '2026-09', not 2026-10"):
        archive_outputs(out, archive_root=tmp_path / "archive", period="2026-10")


def test_a_manifest_naming_a_path_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    make_outputs(out)
    manifest = json.loads((out / "manifest.json").read_bytes())
    manifest["outputs"]["../escape.txt"] = "0" * 64
    (out / "manifest.json").write_bytes(_json_bytes(manifest))
    with pytest.raises(ArchiveError, match="not a plain file name"):
        archive_outputs(out, archive_root=tmp_path / "archive", period="2026-10")


def test_a_failed_copy_leaves_no_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    make_outputs(out)
    real = archive_module._copy_verified
    calls = []

    def flaky(source: Path, target: Path, expected: str) -> None:
        calls.append(source.name)
        if len(calls) == 3:
            raise ArchiveError("disk full")
        real(source, target, expected)

    monkeypatch.setattr(archive_module, "_copy_verified", flaky)
    with pytest.raises(ArchiveError, match="disk full"):
        archive_outputs(out, archive_root=root, period="2026-10")
    assert list((root / "2026-10").iterdir()) == []
    monkeypatch.setattr(archive_module, "_copy_verified", real)
    assert archive_outputs(out, archive_root=root, period="2026-10").name == "r001"


def test_concurrent_archivers_take_distinct_revisions(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    make_outputs(out)
    with ThreadPoolExecutor(max_workers=6) as pool:
        folders = list(pool.map(lambda _: archive_outputs(out, archive_root=root, period="2026-10"), range(12)))
    assert sorted(f.name for f in folders) == [f"r{i:03d}" for i in range(1, 13)]
    assert all((f / "manifest.json").read_bytes() == (out / "manifest.json").read_bytes() for f in folders)


def test_numbering_goes_past_r999(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "archive"
    make_outputs(out)
    (root / "2026-10" / "r999").mkdir(parents=True)
    (root / "2026-10" / "r999" / "manifest.json").write_text("{}", encoding="utf-8")
    folder = archive_outputs(out, archive_root=root, period="2026-10")
    assert folder.name == "r1000"
    assert latest_revision(root, "2026-10") == folder


# -------------------------------------------------------------------------------- look-ups
@pytest.mark.parametrize(("period", "expected"), [
    ("2026-01", "2025-12"), ("2026-12", "2026-11"), ("2026-10", "2026-09"), ("2000-03", "2000-02"),
    ("1000-01", "0999-12"),
])
def test_previous_period(period: str, expected: str) -> None:
    assert previous_period(period) == expected


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "", " 2026-01", "2026-01\n"])
def test_previous_period_rejects_malformed_periods(period: str) -> None:
    with pytest.raises(ValueError, match="period must be YYYY-MM"):
        previous_period(period)


def test_previous_period_of_the_first_month_fails() -> None:
    with pytest.raises(ValueError, match="no month before 0001-01"):
        previous_period("0001-01")


def test_find_previous_results(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    assert find_previous_results(root, "2026-10") is None
    make_outputs(tmp_path / "sep", period="2026-09")
    archive_outputs(tmp_path / "sep", archive_root=root, period="2026-09")
    make_outputs(tmp_path / "sep", period="2026-09", tag="rerun")
    r2 = archive_outputs(tmp_path / "sep", archive_root=root, period="2026-09")
    (root / "2026-09" / "r003").mkdir()  # incomplete: being written or abandoned
    found = find_previous_results(root, "2026-10")
    assert found == r2 / "results.json"
    assert json.loads(found.read_bytes())["tag"] == "rerun"
    assert (found.parent / "scores.csv").is_file()
    assert find_previous_results(root, "2026-11") is None
    assert find_previous_results(root, "2026-09") is None


def test_find_previous_results_across_the_new_year(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    make_outputs(tmp_path / "dec", period="2025-12")
    r1 = archive_outputs(tmp_path / "dec", archive_root=root, period="2025-12")
    assert find_previous_results(root, "2026-01") == r1 / "results.json"


def test_latest_revision_ignores_other_folders(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    (root / "2026-10" / "notes").mkdir(parents=True)
    (root / "2026-10" / "r01").mkdir()
    assert latest_revision(root, "2026-10") is None
    with pytest.raises(ValueError, match="period must be YYYY-MM"):
        latest_revision(root, "../etc")
