"""Benchmark of the analysis cache: ``build --lang en`` after ``build --lang ru`` of the same inputs.

Usage::

    .venv/bin/python benchmarks/cache.py [--sizes real,100k] [--repeat 3]

For each data set and repetition, with an empty cache (``XDG_CACHE_HOME`` in ``benchmarks/.cache``):

1. ``build --lang ru`` — a cold build, which stores its analysis;
2. ``build --lang en`` — served by the cache, re-renders only;
3. ``build --lang en --no-cache`` — a cold English build, the reference for equality.

Each is a child process measured with ``os.wait4`` (:func:`benchmarks.run.measure`). The goal of
issue 16: (2) takes at most a quarter of (1)'s wall time, and its HTML and PDF are byte-identical to
(3)'s. Printed as a table and saved to ``benchmarks/results/cache-<timestamp>.json`` and
``cache-latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIG, BIG_DATA, CACHE, REAL_DATA, RESULTS, ROOT, SIZES, _cli, machine, measure, synthetic_dir

GOAL = 0.25


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stages(out: Path) -> dict[str, float]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {t["stage"]: t["wall_seconds"] for t in manifest["stage_timings"] if not t.get("parent")}


def run_once(name: str, data: Path, *, period: str, repeat: int, timeout: float) -> dict:
    """The three builds with an empty cache; their wall times and whether the English reports agree."""
    xdg = CACHE / f"xdg-{name}"
    shutil.rmtree(xdg, ignore_errors=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
    outs = {step: CACHE / "out" / f"cache-{name}-{step}" for step in ("ru-cold", "en-cached", "en-cold")}
    runs = {}
    for step, extra in (("ru-cold", ["--lang", "ru"]), ("en-cached", ["--lang", "en"]),
                        ("en-cold", ["--lang", "en", "--no-cache"])):
        shutil.rmtree(outs[step], ignore_errors=True)
        command = [*_cli(), "build", "--data", str(data), "--out", str(outs[step]), "--period", period, *extra]
        m = measure(command, log_dir=CACHE / "logs", name=f"cache-{name}-{step}-{repeat}", timeout=timeout, env=env)
        if m.returncode != 0:
            raise SystemExit(f"[{name}] {step} failed (exit {m.returncode}):\n{m.stderr[-3000:]}")
        manifest = json.loads((outs[step] / "manifest.json").read_text(encoding="utf-8"))
        cache_status = manifest["analysis_cache"]["status"]
        runs[step] = {"wall_seconds": m.wall_seconds, "cpu_seconds": m.cpu_seconds, "peak_rss_mb": m.peak_rss_mb,
                      "cache": cache_status, "stages": _stages(outs[step])}
        print(f"[{name} #{repeat}] {step}: {m.wall_seconds:.2f} s wall, cache {cache_status}", file=sys.stderr,
              flush=True)
    stem = f"oneclick-report_{period}_en"
    identical = {suffix: _sha(outs["en-cached"] / f"{stem}{suffix}") == _sha(outs["en-cold"] / f"{stem}{suffix}")
                 for suffix in (".html", ".pdf")}
    identical["actions.csv"] = _sha(outs["en-cached"] / "actions.csv") == _sha(outs["en-cold"] / "actions.csv")
    entry_bytes = sum(p.stat().st_size for p in (xdg / "oneclick-report").rglob("*") if p.is_file())
    shutil.rmtree(xdg, ignore_errors=True)
    return {"repeat": repeat, "runs": runs, "identical": identical, "cache_bytes": entry_bytes,
            "ratio": round(runs["en-cached"]["wall_seconds"] / runs["ru-cold"]["wall_seconds"], 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="real", help="comma-separated among real, " + ", ".join(SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--real-data", type=Path, default=REAL_DATA)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--big-data", type=Path, default=BIG_DATA,
                        help="folder outside the repository for the 10m data set (default ../bigdata), as run.py's")
    args = parser.parse_args(argv)
    started = dt.datetime.now().astimezone()
    doc = {"started_at": started.isoformat(timespec="seconds"), "machine": machine(), "goal_ratio": GOAL,
           "datasets": []}
    lines = [("| data | cold ru s | cached en s | cold en s | cached / cold ru | HTML, PDF, actions.csv identical "
              "| cache entry MB |"), "|---|---:|---:|---:|---:|---|---:|"]
    ok = True
    for name in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        data = args.real_data if name == "real" else synthetic_dir(
            SIZES[name], args.seed, timeout=args.timeout, cache=args.big_data if name in BIG else CACHE)[0]
        rows = [run_once(name, data, period=args.period, repeat=i, timeout=args.timeout) for i in range(args.repeat)]
        median = {step: statistics.median(r["runs"][step]["wall_seconds"] for r in rows)
                  for step in ("ru-cold", "en-cached", "en-cold")}
        ratio = median["en-cached"] / median["ru-cold"]
        identical = all(all(r["identical"].values()) for r in rows)
        ok &= identical and ratio <= GOAL
        doc["datasets"].append({"name": name, "data_dir": str(data), "rows": rows, "median_wall_seconds": median,
                                "median_ratio": round(ratio, 3), "identical": identical})
        lines.append(f"| {name} | {median['ru-cold']:.2f} | {median['en-cached']:.2f} | {median['en-cold']:.2f} | "
                     f"{ratio:.2f} ({'PASS' if ratio <= GOAL else 'FAIL'}, goal ≤ {GOAL}) | "
                     f"{'yes' if identical else 'NO'} | {rows[-1]['cache_bytes'] / 1e6:.1f} |")
        cached = rows[-1]["runs"]["en-cached"]["stages"]
        lines_stages = ", ".join(f"{k} {v:.2f}" for k, v in cached.items())
        doc["datasets"][-1]["cached_stages_last"] = cached
        print(f"[{name}] cached build's stages (last run): {lines_stages}", file=sys.stderr)
    doc["machine"]["loadavg_after"] = os.getloadavg()
    print(f"\n## Analysis cache {doc['started_at']} (median of {args.repeat})\n")
    print("\n".join(lines))
    print(f"\nload average before/after: {doc['machine']['loadavg_before'][0]:.2f} / "
          f"{doc['machine']['loadavg_after'][0]:.2f} on {doc['machine']['cpus']} CPUs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    path = RESULTS / f"cache-{started.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(text, encoding="utf-8")
    (RESULTS / "cache-latest.json").write_text(text, encoding="utf-8")
    print(f"saved {path.relative_to(ROOT)} and benchmarks/results/cache-latest.json")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
