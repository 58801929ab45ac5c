"""Publishing a build into ``--out`` (issue 15): only the build's own files, one complete set or the
other whatever fails and whenever the process is killed, a lock, a work folder on ``--out``'s own
filesystem (a mount point works), stale work folders cleaned, a full disk named."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from report import publish as pub
from report.cli import main
from report.publish import OutputFolderError, lock_output, prepare_work, publish, recover

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"
STEM = f"oneclick-report_{PERIOD}_ru"
NAMES = [f"{STEM}.html", f"{STEM}.pdf", "results.json", "scores.csv", "actions.csv", "manifest.json"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_set(folder: Path, names: list[str], tag: str) -> dict[str, bytes]:
    """A complete set: the files and a manifest recording their hashes."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: f"{tag}:{name}".encode() for name in names if name != "manifest.json"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps({"outputs": {n: _sha(d) for n, d in files.items()}}))
    return _snapshot(folder)


def _cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run([sys.executable, "-m", "report.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """One real build of the sample (copied by the tests that change it)."""
    out = tmp_path_factory.mktemp("built") / "out"
    result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD)
    assert result.returncode == 0, result.stderr
    return out


# --- item 1: only the build's own files ------------------------------------------------------------------

def test_publish_touches_only_its_own_names(tmp_path: Path) -> None:
    out = tmp_path / "out"
    previous_names = ["oneclick-report_2026-09_ru.html", "oneclick-report_2026-09_ru.pdf", "results.json",
                      "scores.csv", "manifest.json"]
    _write_set(out, previous_names, "old")
    (out / "oneclick-report_2026-09_ru.html").write_bytes(b"edited by hand after the build")
    foreign = {"oneclick-report_2026-09_ru_FINAL-signed.pdf": b"%PDF signed", "oneclick-report_notes.html": b"x",
               "README.txt": b"mine"}
    for name, data in foreign.items():
        (out / name).write_bytes(data)
    with lock_output(out):
        work = prepare_work(out)
        new = _write_set(work, NAMES, "new")
        publish(work, out, NAMES)
        shutil.rmtree(work)
    after = _snapshot(out)
    for name, data in new.items():
        assert after[name] == data
    for name, data in foreign.items():  # never written by a build: untouched
        assert after[name] == data
    # the previous build's HTML was changed since (not what the build wrote): kept; its PDF, unchanged: retired
    assert after["oneclick-report_2026-09_ru.html"] == b"edited by hand after the build"
    assert "oneclick-report_2026-09_ru.pdf" not in after
    assert set(after) == set(new) | set(foreign) | {"oneclick-report_2026-09_ru.html"}


def test_build_keeps_other_reports_in_out(built: Path, tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    signed = out / "oneclick-report_2026-09_ru_FINAL-signed.pdf"
    signed.write_bytes(b"%PDF-1.7 signed by hand")
    other = out / "oneclick-report_2026-09_en.html"
    other.write_bytes(b"<html>an English report of another build</html>")
    result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", "2026-11")
    assert result.returncode == 0, result.stderr
    assert signed.read_bytes() == b"%PDF-1.7 signed by hand"
    assert other.read_bytes() == b"<html>an English report of another build</html>"
    assert (out / "oneclick-report_2026-11_ru.pdf").is_file()
    # the previous build's own report (recorded in the manifest it replaced, unchanged) is retired
    assert not (out / f"{STEM}.pdf").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# --- item 2: one complete set or the other, whatever fails -----------------------------------------------

@pytest.mark.parametrize("fail_at", range(len(NAMES)))
def test_a_failed_rename_at_any_step_leaves_the_old_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        fail_at: int) -> None:
    out = tmp_path / "out"
    before = _write_set(out, NAMES, "old")
    real_replace = os.replace
    calls = []

    def flaky(src, dst, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if Path(dst).parent == out and Path(src).parent.name.startswith(pub.WORK_PREFIX):
            calls.append(dst)
            if len(calls) == fail_at + 1:
                raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(pub.os, "replace", flaky)
    with lock_output(out):
        work = prepare_work(out)
        _write_set(work, NAMES, "new")
        with pytest.raises(OSError, match="Operation not permitted; the previous files are back"):
            publish(work, out, NAMES)
        pub.discard(work)
    assert _snapshot(out) == before


def test_a_file_that_cannot_be_backed_up_leaves_the_old_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    before = _write_set(out, NAMES, "old")

    def no_space(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device", str(args[1]))

    monkeypatch.setattr(pub.os, "link", no_space)
    monkeypatch.setattr(pub.shutil, "copy2", no_space)
    with lock_output(out):
        work = prepare_work(out)
        _write_set(work, NAMES, "new")
        with pytest.raises(OSError, match="No space left"):
            publish(work, out, NAMES)
        pub.discard(work)
    assert _snapshot(out) == before


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("chattr") is None, reason="chattr +i needs root")
def test_an_immutable_manifest_fails_the_build_and_keeps_the_old_set(built: Path, tmp_path: Path,
                                                                     sample_dir: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = _snapshot(out)
    if subprocess.run(["chattr", "+i", str(out / "manifest.json")], capture_output=True).returncode != 0:
        pytest.skip("this filesystem has no immutable flag")
    try:
        result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD, "--lang", "en")
    finally:
        subprocess.run(["chattr", "-i", str(out / "manifest.json")], check=True)
    assert result.returncode == 1
    assert f"cannot replace {out / 'manifest.json'}: Operation not permitted" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(out) == before
    assert main(["verify", str(out / f"{STEM}.pdf")]) == 0


@pytest.mark.parametrize("committed", [False, True])
def test_a_publish_killed_midway_is_completed_by_the_next_build(tmp_path: Path, committed: bool) -> None:
    """SIGKILL between two renames: the journal lets the next build (under the lock) undo or finish it."""
    out = tmp_path / "out"
    before = _write_set(out, NAMES, "old")
    work = prepare_work(out)
    new = _write_set(work, NAMES, "new")
    # the state a kill leaves: journal written, backups made, some files renamed
    (work / pub.PREVIOUS).mkdir()
    (work / pub.JOURNAL).write_text(json.dumps({"outputs": {n: _sha(d) for n, d in new.items()}}))
    done = NAMES if committed else NAMES[:3]
    for name in done:
        os.link(out / name, work / pub.PREVIOUS / name)
        os.replace(work / name, out / name)
    recover(out)
    assert _snapshot(out) == (new if committed else before)


# --- item 3: killing the command, by any signal, publishes nothing ----------------------------------------

def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=["INT", "TERM", "HUP", "KILL"])
def test_killing_the_command_publishes_nothing(built: Path, tmp_path: Path, sample_dir: Path,
                                               signum: signal.Signals) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = _snapshot(out)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}  # the command as a user runs it
    command = subprocess.Popen([sys.executable, "-m", "report.cli", "build", "--data",  # = oneclick-report
                                str(sample_dir), "--out", str(out), "--period", PERIOD, "--lang", "en",
                                "--no-cache"],  # the analysis itself is killed
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    seen = ""
    while "validate" not in seen and time.monotonic() - started < 120:  # the analysis has begun
        seen += command.stderr.readline()
    assert "validate" in seen, seen
    workers = _descendants(command.pid)
    assert workers, "the build's worker processes are running"
    os.kill(command.pid, signum)
    command.wait(timeout=30)
    deadline = time.monotonic() + 120
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "a process of the killed build is still running"
    time.sleep(1.0)
    assert _snapshot(out) == before  # nothing appeared afterwards, nothing left behind


# --- item 4: --out on another filesystem than its parent --------------------------------------------------

def test_the_work_folder_is_inside_out_so_no_rename_crosses_a_mount(tmp_path: Path, sample_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root: every rename whose source and target lie on different sides of ``--out`` fails
    with EXDEV, as it does when ``--out`` is a mount point."""
    out = tmp_path / "out"
    out.mkdir()
    real_replace, real_rename = os.replace, os.rename

    def inside(path) -> bool:  # noqa: ANN001
        return Path(os.path.abspath(path)).is_relative_to(out)

    def mount_point(real):  # noqa: ANN001, ANN202
        def rename(src, dst, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if inside(src) != inside(dst):
                raise OSError(errno.EXDEV, "Invalid cross-device link", str(src), None, str(dst))
            return real(src, dst, *args, **kwargs)
        return rename

    monkeypatch.setattr(os, "replace", mount_point(real_replace))
    monkeypatch.setattr(os, "rename", mount_point(real_rename))
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # the build runs in this process, with the patched renames
    assert main(["build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)


def _mount_tmpfs(target: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    target.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                          capture_output=True).returncode == 0


def test_a_build_into_a_freshly_mounted_tmpfs_succeeds(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "mnt"
    if not _mount_tmpfs(out, "64m"):
        pytest.skip("mounting a tmpfs needs root and permission to mount")
    try:
        result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD)
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)
        assert main(["verify", str(out / f"{STEM}.pdf"), "--data", str(sample_dir)]) == 0
    finally:
        subprocess.run(["umount", str(out)], check=False)


# --- the lock ---------------------------------------------------------------------------------------------

def test_a_second_build_into_a_locked_out_refuses_at_once(built: Path, tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = _snapshot(out)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(out)!r}, os.O_RDONLY)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert f"another build is writing into {out}" in result.stderr and "Traceback" not in result.stderr
    assert "validate" not in result.stderr  # refused before the analysis
    assert elapsed < 60
    assert _snapshot(out) == before


def test_lock_output_refuses_a_file_and_a_second_holder(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(OutputFolderError, match="is not a folder"), lock_output(path):
        pass
    with lock_output(tmp_path / "out"), pytest.raises(OutputFolderError, match="another build"), \
            lock_output(tmp_path / "out"):
        pass


# --- item 14: stale work folders; a full disk names the path ---------------------------------------------

def test_stale_work_folders_of_killed_builds_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _write_set(out, NAMES, "old")
    stale = out / f"{pub.WORK_PREFIX}4242-abcd1234"
    stale.mkdir()
    (stale / "results.json").write_bytes(b"half-written")
    legacy = tmp_path / ".out.tmp-k2j4h5g6"  # where an older version put its work folder
    legacy.mkdir()
    (legacy / "scores.csv").write_bytes(b"id\n")
    unrelated = tmp_path / ".out.tmp-notours-keep"
    unrelated.mkdir()
    with lock_output(out):
        pass
    assert not stale.exists() and not legacy.exists()
    assert unrelated.is_dir()
    assert _snapshot(out) == before


def test_a_full_disk_names_the_path_and_leaves_out_untouched(built: Path, tmp_path: Path, sample_dir: Path) -> None:
    """A file-size limit makes every large write fail as a full disk does (no root needed)."""
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = _snapshot(out)

    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD, "--lang", "en",
                  preexec_fn=limit_writes)
    assert result.returncode == 1
    assert f"cannot write the report into {out}: File too large" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(out) == before


def test_a_full_tmpfs_names_the_path(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "small"
    if not _mount_tmpfs(out, "600k"):
        pytest.skip("mounting a tmpfs needs root and permission to mount")
    try:
        result = _cli("build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD)
        assert result.returncode == 1
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"oneclick-report: cannot write the report into {out}: ")
        assert last.endswith("No space left on device")
        assert list(out.iterdir()) == []
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_scores_csv_has_the_bytes_pandas_writes(tmp_path) -> None:  # noqa: ANN001
    """polars writes scores.csv (fast); the bytes are pandas' to_csv's, edge values included."""
    import pandas as pd

    from report.build import write_scores_csv

    frame = pd.DataFrame({
        "id": [1, 2, 3, 4, 5, 6],
        "probability": [0.0, 1.0, 0.0001, 0.5, 0.1234, 0.9999],
        "segment": ["a", "b", "", "c", "d", "e"],
        "profit": [-0.0, 4.16, 0.1 + 0.2, -3.0, 12345678901234.5, 2.0],
        "in_test": [True, False, True, False, True, False],
        "reason_1": ["", 'a,b', 'q"uote', "line\nbreak", " lead", "Ё"],
    })
    # the analysis' text columns are categoricals: "" is written as nothing there too
    categorical = frame.assign(segment=pd.Categorical(frame["segment"], categories=["", "e", "d", "c", "b", "a", "z"]),
                               reason_1=pd.Categorical(frame["reason_1"]))
    for case in (frame, frame.assign(profit=[1e-07, 1.0, 2.0, 3.0, 4.0, float("nan")]),  # exponents, NaN: pandas
                 categorical):
        write_scores_csv(case, tmp_path / "scores.csv")
        assert (tmp_path / "scores.csv").read_text(encoding="utf-8") == case.to_csv(index=False, lineterminator="\n")
