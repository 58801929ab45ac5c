"""Benchmark suite: every stage of the report on the real data and on synthetic 10k/100k/1M customers.

Usage (``make bench`` runs the default)::

    .venv/bin/python benchmarks/run.py [--sizes real,10k,100k,1m] [--stages-only] [--no-notebook] [--repeat N]

For each data set the full ``oneclick-report build`` runs in a child process; its wall time and
CPU time come from ``os.wait4``, its peak memory is the largest sum of the proportional set sizes
(PSS) of the build and all its descendants (its worker processes), sampled every 0.1 s with psutil,
and the per-stage timings (wall, CPU, peak RSS) from the build's own ``manifest.json`` →
``stage_timings`` (analysis and render stages; ``results.json`` → ``meta.stage_timings`` holds the
analysis ones). On the real data the analyst's notebook protocol
(``../shared/bench/notebook_protocol.py``) runs in the same session, side by side, and the ratio
build / notebook is printed: the goal is ≤ 0.5. With ``--repeat N`` the real data's build and the
notebook run N times, alternately; each pair's ratio and load average are listed, and the table and
the goal use the median build and the median notebook run.

Stages marked ∥ ran beside other stages: the permutation importance in a worker process
(``runtime.executor``) beside the SHAP values, the EDA and the correlations in the main process
while the workers fit the model's folds; their wall time overlaps the stages around them.
The row "start-up, imports, other" is what no stage covers (interpreter start-up, imports,
waiting for the workers' forkserver, publishing the outputs). CPU time counts the build's own
process and the processes it waited for (its forkserver's workers are the forkserver's children,
so their CPU time is not in it; the stages' CPU times are each process' own).

``--stages-only`` runs the analysis (no rendering) through :func:`analysis.pipeline.run_analysis`:
in a fresh interpreter per data set (so peak memory and import time are per data set), or in this
very process with ``--in-process``.

Synthetic data sets are generated once with ``oneclick-report sample`` into
``benchmarks/.cache/`` (regenerated when ``analysis/sample.py`` changes). Ten million customers
(``--sizes 10m``, opt-in: 3.5 GB of CSV) are generated outside the repository, into
``--big-data`` (default ``../bigdata``, beside the checkout). Peak memory is measured twice: the
largest process' (``ru_maxrss``) and the whole build's, summed over all its processes (the
proportional set size of every process of the tree, sampled every 0.5 s: pages a forked worker
shares with its parent are counted once). Results are printed as a
Markdown table and saved as JSON to ``benchmarks/results/<timestamp>.json`` and
``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
VENV_BIN = ROOT / ".venv" / "bin"
REAL_DATA = ROOT.parent / "shared" / "data" / "one-click"
NOTEBOOK = ROOT.parent / "shared" / "bench" / "notebook_protocol.py"

#: Size name → number of synthetic customers.
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
#: Sizes a plain ``make bench`` runs (10M is opt-in: ``--sizes 10m`` or ``make bench BENCH_SIZES=…``).
DEFAULT = ("real", "10k", "100k", "1m")
ALL = ("real", *SIZES)
#: Sizes whose synthetic data live outside the repository (``--big-data``).
BIG = frozenset({"10m"})
BIG_DATA = ROOT.parent / "bigdata"

#: Goals: the real data build ≤ 0.5 × the notebook; a million customers ≤ 20 s; ten million ≤ 150 s
#: and ≤ 8 GiB summed over all the build's processes (issue 16).
GOAL_RATIO = 0.5
GOAL_WALL = {"1m": 20.0, "10m": 150.0}
GOAL_TREE_PEAK_MB = {"10m": 8 * 1024.0}

# ----------------------------------------------------------------------------------- helpers
def _python() -> str:
    exe = VENV_BIN / "python"
    return str(exe) if exe.exists() else sys.executable


def _cli() -> list[str]:
    exe = VENV_BIN / "oneclick-report"
    return [str(exe)] if exe.exists() else [_python(), "-m", "report.cli"]


@dataclass
class Measured:
    """One child process: exit code, wall, CPU of the whole tree, peak RSS of the largest member
    and peak memory summed over the tree (PSS; ``None`` where it cannot be sampled)."""

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    peak_tree_mb: float | None = None


def _tree_pss(pid: int) -> int | None:
    """Proportional set size summed over ``pid`` and its descendants, in bytes (Linux)."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for proc in procs:
        try:
            total += proc.memory_full_info().pss
        except (psutil.Error, AttributeError):
            continue
    return total


def measure(cmd: list[str], *, log_dir: Path, name: str, timeout: float, env: dict[str, str] | None = None,
            cwd: Path = ROOT) -> Measured:
    """Run ``cmd`` and measure it with ``os.wait4`` (its rusage covers the child and the
    descendants it waited for) and the peak resident memory of its whole process tree."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
        deadline = start + timeout
        peak_tree: int | None = None
        next_sample = start
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            if time.perf_counter() >= next_sample:
                pss = _tree_pss(proc.pid)
                if pss is not None:
                    peak_tree = max(peak_tree or 0, pss)
                next_sample = time.perf_counter() + 0.5
            time.sleep(0.02)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(returncode=proc.returncode, wall_seconds=round(wall, 3),
                    cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
                    peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
                    stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"),
                    peak_tree_mb=None if peak_tree is None else round(peak_tree / 2**20, 1))


def _sample_digest() -> str:
    return hashlib.sha256((ROOT / "analysis" / "sample.py").read_bytes()).hexdigest()[:16]


def synthetic_dir(customers: int, seed: int, *, timeout: float, cache: Path = CACHE) -> tuple[Path, Measured | None]:
    """The cached synthetic data set (generated when missing or when the generator changed)."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"synthetic_{customers}_seed{seed}"
    stamp = target / ".stamp.json"
    digest = _sample_digest()
    if stamp.is_file():
        try:
            if json.loads(stamp.read_text())["sample_py"] == digest:
                return target, None
        except (ValueError, KeyError):
            pass
    tmp = cache / f".tmp_synthetic_{customers}_seed{seed}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"generating {customers} synthetic customers into {target} …", file=sys.stderr, flush=True)
    m = measure([*_cli(), "sample", "--out", str(tmp), "--customers", str(customers), "--seed", str(seed)],
                log_dir=CACHE / "logs", name=f"sample_{customers}", timeout=timeout)
    if m.returncode != 0:
        raise SystemExit(f"sample generation failed:\n{m.stderr[-2000:]}")
    (tmp / ".stamp.json").write_text(json.dumps({"sample_py": digest, "customers": customers, "seed": seed}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target, m


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _stage_timings(out_dir: Path) -> tuple[list[dict], dict]:
    """Per-stage timings (manifest.json has analysis + render; results.json the analysis only) and
    a few facts from results.json."""
    manifest = _read_json(out_dir / "manifest.json") or {}
    results = _read_json(out_dir / "results.json") or {}
    stages = manifest.get("stage_timings") or results.get("meta", {}).get("stage_timings") or []
    facts = {}
    if results:
        model = results.get("model", {})
        facts = {
            "customers_analysed": results.get("data", {}).get("n_customers_analysed"),
            "code_version": results.get("meta", {}).get("code_version"),
            "selected_model": model.get("selected", {}).get("name"),
            "test_roc_auc": model.get("test", {}).get("roc_auc"),
            "test_roc_auc_ci95": model.get("test", {}).get("roc_auc_ci95"),
            "selection_rows": model.get("selection_rows"),
            "correlation_sample_rows": results.get("correlation", {}).get("sample_rows"),
            "shap_exact_rows": results.get("importance", {}).get("n_rows"),
            "refit_rows": model.get("refit_rows"),
            "roc_auc_ci_method": model.get("test", {}).get("roc_auc_ci_method"),
        }
    sizes = {p.name: p.stat().st_size for p in sorted(out_dir.glob("*")) if p.is_file()}
    if sizes:
        facts["output_bytes"] = sizes
    return stages, facts


# -------------------------------------------------------------------------------- stages-only
def analyse_only(data_dir: Path, out_dir: Path, period: str) -> None:
    """Run the analysis (no rendering) and write results.json, scores.csv and actions.csv into
    ``out_dir`` as a build does (stages ``write_scores`` and ``write_results``)."""
    from analysis.config import Config
    from analysis.pipeline import StageClock, run_analysis
    from report.build import write_scores_csv
    from report.crm import write_actions_csv

    config = Config()
    clock = StageClock(on_stage=lambda s: print(f"  {s}", file=sys.stderr, flush=True))
    analysed = run_analysis(data_dir, config=config, period=period, clock=clock)
    out_dir.mkdir(parents=True, exist_ok=True)
    with clock.stage("write_scores"):
        write_scores_csv(analysed.scores, out_dir / "scores.csv")
    with clock.stage("write_results"):
        (out_dir / "results.json").write_bytes(analysed.results.model_dump_json(by_alias=True, indent=1)
                                               .encode("utf-8"))
        write_actions_csv(analysed.actions, out_dir / "actions.csv", lang=config.report.lang,
                          money_unit=config.report.money_unit, risk_threshold=config.segments.risk_threshold)
    # results.json was written before write_results was timed: put every stage into a manifest.
    (out_dir / "manifest.json").write_text(json.dumps({"stage_timings": [t.model_dump() for t in clock.timings]}))


# --------------------------------------------------------------------------------------- runs
def run_dataset(name: str, data_dir: Path, *, stages_only: bool, in_process: bool, period: str,
                timeout: float) -> dict:
    """Build (or analyse) one data set and collect its measurements."""
    out_dir = CACHE / "out" / name
    shutil.rmtree(out_dir, ignore_errors=True)
    logs = CACHE / "logs"
    if stages_only and in_process:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        analyse_only(data_dir, out_dir, period)
        m = Measured(0, round(time.perf_counter() - wall0, 3), round(time.process_time() - cpu0, 3),
                     round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "", "")
        command = ["run_analysis (in process)", str(data_dir)]
    else:
        if stages_only:
            command = [_python(), str(Path(__file__).resolve()), "--_analyse", str(data_dir), str(out_dir), period]
        else:
            # --no-cache: every run is a whole build (benchmarks/cache.py measures the cached re-render)
            command = [*_cli(), "build", "--data", str(data_dir), "--out", str(out_dir), "--period", period,
                       "--no-cache"]
        print(f"[{name}] {' '.join(command)}", file=sys.stderr, flush=True)
        m = measure(command, log_dir=logs, name=name, timeout=timeout)
    stages, facts = _stage_timings(out_dir) if m.returncode == 0 else ([], {})
    entry = {"name": name, "data_dir": str(data_dir), "mode": "stages-only" if stages_only else "build",
             "command": command, "returncode": m.returncode, "wall_seconds": m.wall_seconds,
             "cpu_seconds": m.cpu_seconds, "peak_rss_mb": m.peak_rss_mb, "peak_tree_mb": m.peak_tree_mb,
             "stages": stages, **facts}
    if m.returncode != 0:
        entry["stderr_tail"] = m.stderr[-3000:]
        print(f"[{name}] FAILED (exit {m.returncode}):\n{m.stderr[-3000:]}", file=sys.stderr)
    else:
        tree = "" if m.peak_tree_mb is None else f", {m.peak_tree_mb:.0f} MB summed over its processes"
        print(f"[{name}] {m.wall_seconds:.1f} s wall, {m.cpu_seconds:.1f} s CPU, {m.peak_rss_mb:.0f} MB peak{tree}",
              file=sys.stderr, flush=True)
    return entry


def run_notebook(data_dir: Path, *, notebook: Path, timeout: float) -> dict:
    """The analyst's notebook protocol, measured the same way."""
    out_dir = CACHE / "out" / "notebook"
    shutil.rmtree(out_dir, ignore_errors=True)
    command = [_python(), str(notebook), str(data_dir), str(out_dir)]
    print(f"[notebook] {' '.join(command)}", file=sys.stderr, flush=True)
    m = measure(command, log_dir=CACHE / "logs", name="notebook", timeout=timeout)
    entry = {"name": "notebook", "data_dir": str(data_dir), "command": command, "returncode": m.returncode,
             "wall_seconds": m.wall_seconds, "cpu_seconds": m.cpu_seconds, "peak_rss_mb": m.peak_rss_mb,
             "stdout_tail": m.stdout[-500:]}
    print(f"[notebook] {m.wall_seconds:.1f} s wall, {m.cpu_seconds:.1f} s CPU, {m.peak_rss_mb:.0f} MB peak",
          file=sys.stderr, flush=True)
    return entry


def run_real(data_dir: Path, *, args: argparse.Namespace) -> tuple[dict, dict | None, list[dict]]:
    """The real data ``args.repeat`` times, each build followed by the notebook protocol (side by
    side, so both see the same load): the run with the median build time (its stages), the run
    with the median notebook time, and every pair with its ratio and the load average before it."""
    notebook = not args.no_notebook and not args.stages_only
    if notebook and not args.notebook.is_file():
        print(f"[notebook] skipped: {args.notebook} not found", file=sys.stderr)
        notebook = False
    runs = []
    for i in range(max(1, args.repeat)):
        load = os.getloadavg()[0]
        build = run_dataset("real", data_dir, stages_only=args.stages_only, in_process=args.in_process,
                            period=args.period, timeout=args.timeout)
        nb = run_notebook(data_dir, notebook=args.notebook, timeout=args.timeout) if notebook else None
        run = {"run": i + 1, "loadavg_before": round(load, 2), "build": build, "notebook": nb}
        if nb and build["returncode"] == 0 and nb["returncode"] == 0:
            run["ratio"] = round(build["wall_seconds"] / nb["wall_seconds"], 3)
        runs.append(run)
    builds = sorted((r["build"] for r in runs), key=lambda e: (e["returncode"] != 0, e["wall_seconds"]))
    median_build = builds[(len(builds) - 1) // 2] if all(e["returncode"] == 0 for e in builds) else builds[-1]
    nbs = sorted((r["notebook"] for r in runs if r["notebook"]), key=lambda e: e["wall_seconds"])
    median_nb = nbs[(len(nbs) - 1) // 2] if nbs else None
    return median_build, median_nb, runs


# ------------------------------------------------------------------------------------ report
def _ordered_stages(entries: list[dict]) -> list[tuple[str, bool]]:
    """(stage, is_sub_stage) rows: top-level stages in execution order, each followed by its
    sub-stages (a sub-stage names its enclosing stage in ``parent`` and is recorded before it)."""
    top: list[str] = []
    children: dict[str, list[str]] = {}
    for e in entries:
        for s in e.get("stages", []):
            parent = s.get("parent")
            key = parent or s["stage"]
            if key not in top:
                top.append(key)
            if parent:
                children.setdefault(parent, [])
                if s["stage"] not in children[parent]:
                    children[parent].append(s["stage"])
    rows: list[tuple[str, bool]] = []
    for stage in top:
        rows.append((stage, False))
        rows += [(child, True) for child in children.get(stage, [])]
    return rows


def median(values: list[float]) -> float | None:
    """The median of ``values`` (``None`` when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _fmt(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def markdown_table(entries: list[dict]) -> str:
    """Stage × data set table: wall s / CPU s / peak RSS MB."""
    ok = [e for e in entries if e.get("returncode") == 0]
    header = "| stage | " + " | ".join(f"{e['name']} wall s | CPU s | peak MB" for e in ok) + " |"
    rule = "|---|" + "---:|---:|---:|" * len(ok)
    lines = [header, rule]
    for stage, sub in _ordered_stages(ok):
        cells = []
        for e in ok:
            t = next((s for s in e["stages"] if s["stage"] == stage), None)
            cells += ["–", "–", "–"] if t is None else [_fmt(t["wall_seconds"]), _fmt(t["cpu_seconds"]),
                                                        _fmt(t["peak_rss_mb"], 0)]
        concurrent = any(s.get("concurrent") for e in ok for s in e["stages"] if s["stage"] == stage)
        label = f"{'&nbsp;&nbsp;↳ ' if sub else ''}{stage}{' ∥' if concurrent else ''}"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for e in ok:  # what no stage covers: interpreter start-up, imports, waiting for the forkserver, publishing
        top = [s for s in e["stages"] if not s.get("parent") and not s.get("concurrent")]
        side = [s for s in e["stages"] if s.get("concurrent")]
        cells += [_fmt(e["wall_seconds"] - sum(s["wall_seconds"] for s in top)),
                  _fmt(e["cpu_seconds"] - sum(s["cpu_seconds"] for s in top + side)), ""]
    lines.append("| start-up, imports, other | " + " | ".join(cells) + " |")
    cells = []
    for e in ok:
        cells += [f"**{_fmt(e['wall_seconds'])}**", f"**{_fmt(e['cpu_seconds'])}**", f"**{_fmt(e['peak_rss_mb'], 0)}**"]
    lines.append("| **whole process** | " + " | ".join(cells) + " |")
    cells = []
    for e in ok:
        cells += ["", "", _fmt(e.get("peak_tree_mb"), 0)]
    lines.append("| peak memory summed over all processes (PSS) | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("∥ ran beside other stages (the permutation importance in a worker, the EDA and the correlations in "
                 "the main process while the workers fit the model): its wall time overlaps the stages around it; a "
                 "worker's CPU time is its own, not in the whole-process total.")
    return "\n".join(lines)


def scaling(entries: list[dict]) -> list[dict]:
    """Growth exponent of wall time between consecutive synthetic sizes (1 = linear)."""
    by = {e["name"]: e for e in entries if e.get("returncode") == 0}
    out = []
    names = [n for n in SIZES if n in by]
    for a, b in itertools.pairwise(names):
        ratio_n = SIZES[b] / SIZES[a]
        row = {"from": a, "to": b, "customers_ratio": ratio_n,
               "wall_ratio": round(by[b]["wall_seconds"] / by[a]["wall_seconds"], 2),
               "exponent": round(math.log(by[b]["wall_seconds"] / by[a]["wall_seconds"]) / math.log(ratio_n), 3),
               "per_stage_exponent": {}}
        sa = {s["stage"]: s for s in by[a]["stages"]}
        for s in by[b]["stages"]:
            t0 = sa.get(s["stage"])
            if t0 and t0["wall_seconds"] > 0.05 and s["wall_seconds"] > 0:
                row["per_stage_exponent"][s["stage"]] = round(
                    math.log(s["wall_seconds"] / t0["wall_seconds"]) / math.log(ratio_n), 2)
        out.append(row)
    return out


def goals(entries: list[dict], notebook: dict | None) -> list[str]:
    """The issue's goals, checked."""
    by = {e["name"]: e for e in entries if e.get("returncode") == 0}
    lines = []
    if "real" in by and notebook and notebook.get("returncode") == 0:
        ratio = by["real"]["wall_seconds"] / notebook["wall_seconds"]
        lines.append(f"real data: build {by['real']['wall_seconds']:.1f} s / notebook {notebook['wall_seconds']:.1f} s "
                     f"= {ratio:.2f} (goal ≤ {GOAL_RATIO}) {'PASS' if ratio <= GOAL_RATIO else 'FAIL'}")
    for size, wall_goal in GOAL_WALL.items():
        if size not in by:
            continue
        e = by[size]
        line = (f"{size} customers: {e['wall_seconds']:.1f} s wall (goal ≤ {wall_goal:.0f}) "
                f"{'PASS' if e['wall_seconds'] <= wall_goal else 'FAIL'}")
        tree = e.get("peak_tree_mb")
        if size in GOAL_TREE_PEAK_MB:
            goal = GOAL_TREE_PEAK_MB[size]
            line += (f"; {'–' if tree is None else f'{tree / 1024:.2f}'} GiB peak summed over its processes "
                     f"(goal ≤ {goal / 1024:.0f}) {'PASS' if tree is not None and tree <= goal else 'FAIL'}")
        elif tree is not None:
            line += f"; {tree / 1024:.2f} GiB peak summed over its processes"
        lines.append(line)
    for row in scaling(entries):
        lines.append(f"{row['from']} → {row['to']}: wall ×{row['wall_ratio']} for ×{row['customers_ratio']:g} "
                     f"customers (exponent {row['exponent']}; ≤ 1 is linear or better)")
    return lines


def machine() -> dict:
    """What the numbers were measured on."""
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_before": os.getloadavg(),
            "thread_env": {k: os.environ.get(k)
                           for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(DEFAULT),
                        help=f"comma-separated data sets among {', '.join(ALL)} (default: {','.join(DEFAULT)}; "
                             "10m is opt-in)")
    parser.add_argument("--big-data", type=Path, default=BIG_DATA,
                        help="folder outside the repository for the 10m data set (default ../bigdata)")
    parser.add_argument("--stages-only", action="store_true", help="run the analysis only (no figures/HTML/PDF)")
    parser.add_argument("--in-process", action="store_true", help="with --stages-only: in this process")
    parser.add_argument("--no-notebook", action="store_true", help="skip the notebook protocol on the real data")
    parser.add_argument("--real-data", type=Path, default=REAL_DATA, help="folder of the real data")
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK, help="the notebook protocol script")
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic data")
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    parser.add_argument("--repeat", type=int, default=1,
                        help="real data: run the build and the notebook protocol this many times, one after the "
                             "other (build, notebook, build, …), and report the medians (default 1)")
    parser.add_argument("--_analyse", nargs=3, metavar=("DATA", "OUT", "PERIOD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._analyse:
        analyse_only(Path(args._analyse[0]), Path(args._analyse[1]), args._analyse[2])
        return 0

    names = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    unknown = [n for n in names if n not in ALL]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose among {', '.join(ALL)}")
    started = dt.datetime.now().astimezone()
    doc: dict = {"started_at": started.isoformat(timespec="seconds"),
                 "mode": "stages-only" if args.stages_only else "build",
                 "machine": machine(), "datasets": [], "generation": {}, "notebook": None}
    entries: list[dict] = []
    for name in names:
        if name == "real":
            if not (args.real_data / "market_file.csv").is_file():
                print(f"[real] skipped: no data in {args.real_data}", file=sys.stderr)
                continue
            data_dir = args.real_data
        else:
            data_dir, gen = synthetic_dir(SIZES[name], args.seed, timeout=args.timeout,
                                          cache=args.big_data if name in BIG else CACHE)
            if gen is not None:
                doc["generation"][name] = {"wall_seconds": gen.wall_seconds, "cpu_seconds": gen.cpu_seconds,
                                           "peak_rss_mb": gen.peak_rss_mb}
        if name == "real":
            entry, doc["notebook"], doc["real_runs"] = run_real(data_dir, args=args)
        else:
            entry = run_dataset(name, data_dir, stages_only=args.stages_only, in_process=args.in_process,
                                period=args.period, timeout=args.timeout)
            entry["customers"] = SIZES[name]
        entries.append(entry)
    doc["datasets"] = entries
    doc["machine"]["loadavg_after"] = os.getloadavg()
    doc["scaling"] = scaling(entries)
    doc["goals"] = goals(entries, doc["notebook"])
    nb = doc["notebook"]
    real = next((e for e in entries if e["name"] == "real" and e["returncode"] == 0), None)
    if nb and real and nb.get("returncode") == 0:
        doc["ratio_build_to_notebook"] = round(real["wall_seconds"] / nb["wall_seconds"], 3)

    print(f"\n## Benchmark {doc['started_at']} ({doc['mode']})\n")
    print(markdown_table(entries))
    if nb:
        print(f"\nnotebook protocol (real data): {nb['wall_seconds']:.2f} s wall, {nb['cpu_seconds']:.2f} s CPU, "
              f"{nb['peak_rss_mb']:.0f} MB peak")
    runs = doc.get("real_runs") or []
    if len(runs) > 1:
        print("\nreal data, run by run (build / notebook = ratio, load average before):")
        for r in runs:
            nbw = r["notebook"]["wall_seconds"] if r["notebook"] else None
            print(f"  {r['run']}: {r['build']['wall_seconds']:.2f} s / {_fmt(nbw)} s = {_fmt(r.get('ratio'))} "
                  f"(load {r['loadavg_before']:.2f})")
        print("  (the table and the ratio below: the median build and the median notebook run; "
              f"median of the per-run ratios: {_fmt(median([r['ratio'] for r in runs if 'ratio' in r]), 3)})")
    print()
    for line in doc["goals"]:
        print(f"- {line}")
    print(f"- load average before/after: {doc['machine']['loadavg_before'][0]:.2f} / "
          f"{doc['machine']['loadavg_after'][0]:.2f} on {doc['machine']['cpus']} CPUs")

    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    path = RESULTS / f"{started.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(text + "\n", encoding="utf-8")
    (RESULTS / "latest.json").write_text(text + "\n", encoding="utf-8")
    print(f"\nsaved {path.relative_to(ROOT)} and benchmarks/results/latest.json")
    failed = [e["name"] for e in entries if e["returncode"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
