"""What the build's own process imports: the workers draw the figures and render the HTML and the
PDF, so the process that runs the command never imports matplotlib, WeasyPrint or shap (their
imports would only repeat, on the critical path, what the forkserver preloaded once)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import json, sys
from report.cli import main
code = main(["build", "--data", sys.argv[1], "--out", sys.argv[2], "--period", "2026-10"])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules
                  if m.split(".")[0] in {"matplotlib", "weasyprint", "shap", "lightgbm", "PIL"})}))
"""


def test_the_build_process_leaves_plotting_pdf_and_shap_to_its_workers(tmp_path: Path, sample_dir: Path) -> None:
    script = tmp_path / "build.py"  # a file (the forkserver imports the main module: it must be guarded)
    body = "".join(f"    {line}\n" for line in _SCRIPT.strip().splitlines())
    script.write_text("if __name__ == '__main__':\n" + body)
    done = subprocess.run([sys.executable, str(script), str(sample_dir), str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["modules"] == []
    assert (tmp_path / "out" / "oneclick-report_2026-10_ru.pdf").stat().st_size > 100_000
