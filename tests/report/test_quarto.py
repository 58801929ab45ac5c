"""The analysts' Quarto version of the report: ``report.qmd`` and ``_quarto.yml``.

The Quarto CLI is not needed for the main test. ``report.qmd`` is split into the notebook that
Quarto's Jupyter engine would execute (each ```` ```{python} ```` chunk a code cell, the prose
between them markdown cells), the parameters cell gets the path of a real ``results.json`` (the
session's run on ``data/sample``), and every cell runs in order in a Jupyter kernel of this
Python with :class:`nbclient.NotebookClient`, as ``quarto render`` runs them. Inline
```{python} expr``` values are evaluated where Quarto evaluates them — when their markdown cell
is reached — and shown the way Quarto shows them (the value's Markdown, else its plain text).

``test_quarto_render`` renders the document for real where ``quarto`` is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import nbformat
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from analysis.results import Comparison, Results
from report.format import fmt_number
from report.i18n import segment_title, translator
from report.render import expected_figure_keys
from report.structure import pdf_attachments
from report.texts import attachments_text, conclusion_text, eda_sentence

ROOT = Path(__file__).resolve().parents[2]
QMD = ROOT / "report.qmd"
QUARTO_YML = ROOT / "_quarto.yml"
KERNEL = "python3"
DEFAULT_RESULTS = "out/sample/results.json"

CHUNK_OPEN = "```{python}"
FENCE = "```"
#: Quarto's own pattern of an inline expression (src/core/jupyter/jupyter-inline.ts), split-ready.
INLINE = re.compile(r"(?<!`)`\{python\}[ \t]([^`]+)`")
IMAGE_MIMES = ("image/png", "image/svg+xml", "application/pdf")


# ----------------------------------------------------------------------------- report.qmd → notebook
@dataclass(frozen=True)
class Chunk:
    """A piece of report.qmd: a ```{python} chunk or the prose between chunks."""

    kind: Literal["code", "markdown"]
    source: str
    line: int  # line of report.qmd where the piece starts (1-based)

    @property
    def options(self) -> dict:
        """The chunk's ``#|`` options (YAML)."""
        lines = []
        for text in self.source.splitlines():
            if not text.startswith("#|"):
                break
            lines.append(text[2:].removeprefix(" "))
        return (yaml.safe_load("\n".join(lines)) or {}) if lines else {}


def parse_qmd(text: str) -> tuple[dict, list[Chunk]]:
    """Front matter and chunks of a .qmd (only ```{python} fences start code; others are prose)."""
    lines = text.splitlines()
    assert lines and lines[0] == "---", "report.qmd must start with YAML front matter"
    end = lines.index("---", 1)
    front = yaml.safe_load("\n".join(lines[1:end])) or {}
    chunks: list[Chunk] = []
    buffer: list[str] = []
    start, in_code, in_fence = end + 2, False, False

    def flush(kind: Literal["code", "markdown"]) -> None:
        source = "\n".join(buffer).strip("\n")
        if kind == "code" or source.strip():
            chunks.append(Chunk(kind, source, start))
        buffer.clear()

    for number, line in enumerate(lines[end + 1:], end + 2):
        if in_code:
            if line.strip() == FENCE:
                flush("code")
                in_code, start = False, number + 1
            else:
                buffer.append(line)
        elif not in_fence and line.strip() == CHUNK_OPEN:
            flush("markdown")
            in_code, start = True, number + 1
        else:
            if line.lstrip().startswith(FENCE):
                in_fence = not in_fence
            buffer.append(line)
    assert not in_code, f"report.qmd: the chunk opened at line {start - 1} is not closed"
    flush("markdown")
    return front, chunks


#: Runs first (as Quarto's set-up cell does): shows an inline expression's value the way Quarto
#: does — its ``text/markdown`` if it has one, else its ``text/plain``.
INLINE_HELPER = '''
def __qmd_inline(parts):
    from IPython import get_ipython
    from IPython.display import Markdown, display
    text = []
    for is_expression, value in parts:
        if is_expression:
            data, _ = get_ipython().display_formatter.format(value)
            value = data.get("text/markdown", data.get("text/plain", ""))
        text.append(value)
    display(Markdown("".join(text)), metadata={"qmd_inline": True})
'''


def inline_cell(markdown: str) -> str | None:
    """A code cell evaluating the inline expressions of ``markdown`` (None if there are none)."""
    pieces = INLINE.split(markdown)
    if len(pieces) == 1:
        return None
    parts = [f"(True, ({piece}))" if i % 2 else f"(False, {piece!r})" for i, piece in enumerate(pieces)]
    return "__qmd_inline([\n    " + ",\n    ".join(parts) + ",\n])"


def build_notebook(chunks: list[Chunk], results_path: Path, lang: str = "ru") -> nbformat.NotebookNode:
    """The notebook Quarto would execute, with ``results`` set to ``results_path`` and the report
    language to ``lang`` (as ``-P results:... -P lang:...`` sets them)."""
    cells = [nbformat.v4.new_code_cell(INLINE_HELPER, metadata={"qmd_line": 0})]
    injected = 0
    for chunk in chunks:
        if chunk.kind == "code":
            source = chunk.source
            if "parameters" in chunk.options.get("tags", []):
                source, n = re.subn(r"(?m)^results\s*=.*$", f"results = {str(results_path)!r}", source)
                source, m = re.subn(r"(?m)^lang\s*=.*$", f"lang = {lang!r}", source)
                injected += n
                assert m == 1, "the parameters cell must assign `lang = ...` exactly once"
            cells.append(nbformat.v4.new_code_cell(source, metadata={"qmd_line": chunk.line}))
        else:
            cells.append(nbformat.v4.new_markdown_cell(chunk.source, metadata={"qmd_line": chunk.line}))
            code = inline_cell(chunk.source)
            if code is not None:
                cells.append(nbformat.v4.new_code_cell(code, metadata={"qmd_line": chunk.line, "qmd_inline": True}))
    assert injected == 1, "the parameters cell must assign `results = ...` exactly once"
    return new_notebook(cells)


def new_notebook(cells: list) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })


def execute(nb: nbformat.NotebookNode) -> float:
    """Run every cell in order in the ``python3`` kernel (cwd: the project); the seconds it took.
    A failing cell fails the test with the line of report.qmd where its chunk starts."""
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(ROOT)}})
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        failed = next((c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        line = failed.metadata.get("qmd_line", "?") if failed is not None else "?"
        pytest.fail(f"report.qmd: the chunk at line {line} failed:\n{error}")
    return time.perf_counter() - started


def markdown_outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
            for o in c.outputs if "text/markdown" in o.get("data", {})]


# ---------------------------------------------------------------------------------------- fixtures
def _runs_this_python(argv: list[str]) -> bool:
    """Whether a kernelspec's command starts this interpreter (jupyter_client replaces a bare
    ``python``/``python3``/``python3.X`` with the launching interpreter, ``sys.executable``)."""
    if not argv:
        return False
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return argv[0] in bare or os.path.abspath(argv[0]) == os.path.abspath(sys.executable)


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment in which the ``python3`` kernelspec runs this Python (the project's venv).

    The kernelspec that ipykernel installs into the venv (``.venv/share/jupyter/kernels``) is used
    when it is found and runs this interpreter; otherwise — no kernelspec, or one (say in
    ``~/.local/share/jupyter``) that starts another Python — one is written for ``sys.executable``
    into a temporary directory put first on ``JUPYTER_PATH``.
    """
    try:
        usable = _runs_this_python(KernelSpecManager().get_kernel_spec(KERNEL).argv)
    except NoSuchKernel:
        usable = False
    with pytest.MonkeyPatch.context() as patch:
        if not usable:
            root = tmp_path_factory.mktemp("jupyter")
            spec_dir = root / "kernels" / KERNEL
            spec_dir.mkdir(parents=True)
            (spec_dir / "kernel.json").write_text(json.dumps({
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (oneclick-report venv)",
                "language": "python",
            }), encoding="utf-8")
            patch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [str(root), os.environ.get("JUPYTER_PATH")])))
            assert _runs_this_python(KernelSpecManager().get_kernel_spec(KERNEL).argv)
        yield dict(os.environ)


#: What the build's PDF embedded, as the manifest beside ``results_json`` records it: one data file
#: left out, as a build with a lower ``report.attach_max_bytes`` leaves it.
LEFT_OUT = pdf_attachments([("scores.csv", 61_000_000), ("actions.csv", 1_000)], limit_bytes=16 << 20)


@pytest.fixture(scope="module")
def results_json(results_sample: Results, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample run's results, saved as the file `quarto render -P results:...` gets, with a
    build's ``manifest.json`` beside it (what the PDF embeds and leaves out)."""
    path = tmp_path_factory.mktemp("quarto-results") / "results.json"
    results_sample.save(path)
    (path.parent / "manifest.json").write_text(json.dumps({"outputs": {}, **LEFT_OUT.manifest_record()}),
                                               encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def qmd() -> tuple[dict, list[Chunk]]:
    return parse_qmd(QMD.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------- tests
def test_qmd_structure(qmd: tuple[dict, list[Chunk]]) -> None:
    """Chunk fences are ```{python}; one parameters cell, first, with the documented default;
    every cross-reference points at a label, every figure/table label has a caption."""
    front, chunks = qmd
    text = QMD.read_text(encoding="utf-8")
    fences = [line.strip() for line in text.splitlines() if line.lstrip().startswith(FENCE)]
    assert fences, "report.qmd has no code chunks"
    assert set(fences) <= {CHUNK_OPEN, FENCE}, f"chunks must be fenced as {CHUNK_OPEN}: {set(fences)}"
    assert front.get("jupyter") == KERNEL
    assert "title" not in front and "lang" not in front, "the language's words come from the project and its profile"

    code = [c for c in chunks if c.kind == "code"]
    params = [c for c in code if "parameters" in c.options.get("tags", [])]
    assert len(params) == 1, "exactly one chunk tagged `parameters`"
    assert params[0] is code[0], "the parameters chunk must come first"
    assert params[0].source.splitlines()[0] == "#| tags: [parameters]"
    assert re.search(rf'(?m)^results = "{re.escape(DEFAULT_RESULTS)}"$', params[0].source)
    assert re.search(r'(?m)^lang = "ru"$', params[0].source)

    # Figures and tables are cross-reference divs whose last paragraph, the caption, comes from
    # the catalogue; no caption is a chunk option (an option cannot be worded per language).
    assert not [c for c in code if "fig-cap" in c.options or "tbl-cap" in c.options]
    floats = re.findall(r"(?ms)^::: \{#((?:fig|tbl)-[\w-]+)\}\n(.*?)^:::$", text)
    assert len(floats) >= 20
    for label, body in floats:
        last = [line for line in body.strip().splitlines() if line.strip()][-1]
        assert re.fullmatch(rf'`\{{python\}} inline\(t\("qmd\.cap\.{label}"\)\)`', last), f"{label}: no caption"
    labels = [c.options["label"] for c in code if "label" in c.options] + [label for label, _ in floats]
    assert len(labels) == len(set(labels)), "chunk labels must be unique"
    assert not [line for line in text.splitlines() if re.search(r"[\u0400-\u04FF]", line)], \
        "report.qmd has no Russian of its own: its words are the catalogue's"
    sections = set(re.findall(r"\{#(sec-[\w-]+)", text))
    prose = "\n".join(c.source for c in chunks if c.kind == "markdown")
    for ref in re.findall(r"@((?:fig|tbl|sec)-[\w-]*\w)", prose):
        assert ref in labels or ref in sections, f"@{ref} refers to nothing"

    config = yaml.safe_load(QUARTO_YML.read_text(encoding="utf-8"))
    assert config["project"]["type"] == "default"
    html, typst = config["format"]["html"], config["format"]["typst"]
    assert html["embed-resources"] and html["toc"] and html["number-sections"]
    assert typst["toc"] and typst["number-sections"]
    assert config["execute"]["echo"] is False and config["execute"]["warning"] is False
    profile = yaml.safe_load((ROOT / "_quarto-en.yml").read_text(encoding="utf-8"))
    english = {**config, **profile, "crossref": {**config["crossref"], **profile["crossref"]}}
    for lang, meta in (("ru", config), ("en", english)):
        t = translator(lang)
        assert meta["lang"] == lang
        assert (meta["title"], meta["subtitle"]) == (t("report.title"), t("report.subtitle")), lang
        cross = meta["crossref"]
        assert cross["fig-prefix"] == cross["fig-title"] == t("figure.label"), lang
        assert cross["tbl-prefix"] == cross["tbl-title"] == t("table.label"), lang
        assert cross["sec-prefix"] == t("section.label"), lang


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_qmd_chunks_execute(qmd: tuple[dict, list[Chunk]], results_json: Path, results_sample: Results,
                            kernel_env: dict[str, str], lang: str) -> None:
    """Every chunk of report.qmd runs, in order, on a real results.json, in each language; the
    figures, the key numbers (formatted for the language) and the generated texts are in the
    outputs, and the English document has no Russian but the data it quotes."""
    _, chunks = qmd
    nb = build_notebook(chunks, results_json, lang=lang)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; print(sys.executable, end='')"))
    elapsed = execute(nb)
    assert nb.cells[0].outputs[0]["text"] == sys.executable, "the kernel runs the project's Python"

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if any(m in o.get("data", {}) for m in IMAGE_MIMES)]
    text = "\n".join(markdown_outputs(nb))
    inline = [o["data"]["text/markdown"] for c in nb.cells if c.metadata.get("qmd_inline")
              for o in c.outputs if "text/markdown" in o.get("data", {})]
    r = results_sample

    # Figures are shown as the report draws them, never cropped to a tight bounding box: the
    # 16 cm charts come out exactly 16 cm wide at the 200 dpi of the display formatter.
    import base64
    import struct

    widths = {struct.unpack(">I", base64.b64decode(o["data"]["image/png"])[16:20])[0]
              for o in outputs if "image/png" in o.get("data", {})}
    assert any(abs(w - 16 / 2.54 * 200) <= 2 for w in widths), sorted(widths)
    # Every figure of the HTML report, each EDA figure among them, and nothing else plotted.
    n_features = len(r.eda.numeric) + len(r.eda.categorical)
    assert len(images) >= n_features
    assert len(images) == len(expected_figure_keys(r)), f"{len(images)} images in {elapsed:.0f} s"
    # Numbers in the text come from the results, formatted for the language.
    customers = fmt_number(r.data.n_customers_analysed, lang)
    assert ("\u00a0" in customers) == (lang == "ru") and customers in text
    assert any(customers in block for block in inline), "the inline key numbers are evaluated"
    assert all(not block.startswith(("'", '"')) for block in inline), "inline values are shown as text, not repr"
    assert "\\xa0" not in text and "IPython.core.display" not in text
    # The generated texts: every EDA interpretation, the priority segment, every conclusion.
    for item in (*r.eda.numeric, *r.eda.categorical):
        assert eda_sentence(item, lang=lang) in text, item.feature
    assert segment_title(r.segments.priority, lang) in text
    for conclusion in r.conclusions:
        assert conclusion_text(r, conclusion, lang=lang) in text, conclusion.key
    # the methodology states what the build's PDF embeds and leaves out (its manifest beside the results)
    assert attachments_text(LEFT_OUT, lang=lang) in text
    t = translator(lang)
    for rules in r.actions.rules:
        for outcome in rules.fired:
            assert t(f"action.{outcome.action}.text") in text, outcome.action
    for plan in r.actions.plans:
        assert t(f"action.{plan.action}.title") in text, plan.action
    if r.comparison is None or not r.comparison.action_effects:
        assert t("actions.effects_none_previous" if r.comparison is None else "actions.effects_none_actions") in text
    assert (t("section.comparison") in text) == (r.comparison is not None)
    for key in ("section.data", "section.model", "qmd.key_numbers", "qmd.cap.fig-roc"):
        assert t(key) in text + "\n".join(inline), key
    if lang == "en":
        quoted = {w for e in r.data.cleaning_log
                  for w in re.findall(r"[\u0400-\u04FF]+", f"{e.column} {e.from_} {e.to}")}
        quoted |= {w for _, v in r.meta.config.cleaning.vocabulary for w in re.findall(r"[\u0400-\u04FF]+", " ".join(v))
                   if isinstance(v, tuple)}
        russian = set(re.findall(r"[\u0400-\u04FF]+", text + "\n".join(inline))) - quoted
        assert not russian, sorted(russian)[:20]


def _with_comparison(results: Results, *, compared: bool) -> Results:
    """``results`` with a month-over-month comparison against a made-up September."""
    keys = [s.key for s in results.segments.segments]
    sizes = {s.key: (s.n_customers + 7 * (i - 1), s.n_customers) for i, s in enumerate(results.segments.segments)}
    transitions = {a: {b: (sizes[a][1] - 5 if a == b else 5 // (len(keys) - 1)) for b in keys} for a in keys}
    psi = {e.feature: 0.01 * i for i, e in enumerate((*results.eda.numeric, *results.eda.categorical))}
    flagged = max(psi, key=psi.__getitem__)
    psi[flagged] = 0.31
    comparison = Comparison(
        previous_period="2026-09", customers_matched=1250 if compared else 0, customers_new=46 if compared else 0,
        customers_gone=38 if compared else 0, segment_transitions=transitions if compared else {},
        declined_share=(0.355, results.data.declined_share), roc_auc=(0.871, results.model.test.roc_auc),
        segment_sizes=sizes, profit_at_risk=(1712.4, results.segments.total_profit_at_risk), psi=psi,
        psi_flagged=(flagged,), psi_threshold=0.2, customers_compared=compared)
    return results.model_copy(update={"comparison": comparison})


def test_qmd_comparison_chunks_execute(qmd: tuple[dict, list[Chunk]], results_sample: Results,
                                       kernel_env: dict[str, str], tmp_path: Path) -> None:
    """The month-over-month chunks (shown only when ``results.comparison`` is set), with and
    without the previous month's customer scores, after the set-up chunks that precede the text."""
    _, chunks = qmd
    first_prose = next(i for i, c in enumerate(chunks) if c.kind == "markdown")
    preamble = chunks[:first_prose]
    section = [c for c in chunks if c.kind == "code" and str(c.options.get("label", "")).startswith("comparison")]
    assert len(section) >= 2
    cells: list = []
    for compared in (True, False):
        path = tmp_path / f"results-{compared}.json"
        _with_comparison(results_sample, compared=compared).save(path)
        cells += build_notebook([*preamble, *section], path).cells
    nb = new_notebook(cells)
    execute(nb)
    text = "\n".join(markdown_outputs(nb))
    assert text.count("# Сравнение с прошлым месяцем") == 2
    assert fmt_number(1250, "ru") in text and "сентябрь 2026" in text
    assert text.count("Переходы между сегментами") == 1, "transitions only when customers were matched"
    assert "неизвестны" in text
    assert text.count("| да |") == 2, "the flagged feature, once per run"


@pytest.mark.skipif(shutil.which("quarto") is None, reason="the Quarto CLI is not on PATH")
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_quarto_render(results_json: Path, results_sample: Results, kernel_env: dict[str, str],
                       tmp_path: Path, lang: str) -> None:
    """`quarto render report.qmd -P results:<path> --to html` in a copy of the project's Quarto
    files; in English with `-P lang:en --profile en`."""
    if find_spec("papermill") is None:
        pytest.fail("quarto render -P needs papermill in the project's Python: .venv/bin/pip install papermill")
    work = tmp_path / "project"
    work.mkdir()
    for path in (QMD, QUARTO_YML, ROOT / "_quarto-en.yml"):
        shutil.copy2(path, work / path.name)
    env = {**kernel_env, "QUARTO_PYTHON": sys.executable}
    english = ["-P", "lang:en", "--profile", "en"] if lang == "en" else []
    proc = subprocess.run(
        ["quarto", "render", "report.qmd", "-P", f"results:{results_json}", *english, "--to", "html"],
        cwd=work, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    html_path = work / "out" / "quarto" / "report.html"
    assert html_path.is_file(), sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    html = html_path.read_text(encoding="utf-8")
    assert f'lang="{lang}"' in html
    assert translator(lang)("report.title") in html
    customers = fmt_number(results_sample.data.n_customers_analysed, lang)
    assert any(form in html for form in (customers, customers.replace("\u00a0", "&nbsp;"),
                                         customers.replace("\u00a0", "&#160;")))
    assert "<img" in html or "<svg" in html


#: The Quarto PDF (Typst) of the sample: the body is as dense as the HTML report's PDF, so it has at
#: most this many pages (measured with Quarto 1.7 before the Typst fixes: 38 pages).
MAX_QUARTO_PDF_PAGES = 36


@pytest.mark.skipif(shutil.which("quarto") is None, reason="the Quarto CLI is not on PATH")
@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                    reason="pdftotext/pdfinfo (poppler-utils) are not installed")
def test_quarto_render_pdf(results_json: Path, results_sample: Results, kernel_env: dict[str, str],
                           tmp_path: Path) -> None:
    """`quarto render report.qmd -P results:<path> --to typst`: the PDF's text carries the numbers
    and the generated sentences, its page count stays within bounds, and the project's .gitignore
    already has the line Quarto would append."""
    if find_spec("papermill") is None:
        pytest.fail("quarto render -P needs papermill in the project's Python: .venv/bin/pip install papermill")
    work = tmp_path / "project"
    work.mkdir()
    for path in (QMD, QUARTO_YML, ROOT / "_quarto-en.yml", ROOT / ".gitignore"):
        shutil.copy2(path, work / path.name)
    env = {**kernel_env, "QUARTO_PYTHON": sys.executable}
    proc = subprocess.run(
        ["quarto", "render", "report.qmd", "-P", f"results:{results_json}", "--to", "typst"],
        cwd=work, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    pdf = work / "out" / "quarto" / "report.pdf"
    assert pdf.is_file(), sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    text = re.sub(r"\s+", " ", subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                                              capture_output=True, text=True).stdout.replace("\u00a0", " "))
    r = results_sample
    assert fmt_number(r.data.n_customers_analysed, "ru").replace("\u00a0", " ") in text
    assert segment_title(r.segments.priority, "ru") in text
    for conclusion in r.conclusions:
        first_words = " ".join(conclusion_text(r, conclusion, lang="ru").replace("\u00a0", " ").split()[:4])
        assert first_words in text, conclusion.key
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages <= MAX_QUARTO_PDF_PAGES, pages
    gitignore = (work / ".gitignore").read_text(encoding="utf-8")
    assert gitignore.count("/.quarto/") == 1, "quarto appended its line: the project's .gitignore lacks it"
