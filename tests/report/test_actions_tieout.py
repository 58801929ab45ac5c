"""The action list ties out: actions.csv, results.json, the HTML and the PDF say the same numbers;
and next month's report measures last month's actions (a simulated month with known effects)."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import Config
from analysis.results import Results
from report.build import build_report
from report.env import make_filters
from report.texts import rows_note
from report.i18n import translator

PDFTOTEXT = shutil.which("pdftotext")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u00ad", ""))


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory, real_dir: Path):  # noqa: ANN201
    out = tmp_path_factory.mktemp("real") / "out"
    return build_report(data_dir=real_dir, out_dir=out, period="2026-10", lang="ru", config=Config())


def test_actions_csv_ties_out_with_results_html_and_pdf(real_build) -> None:  # noqa: ANN001
    results = Results.load(real_build.results)
    actions = pd.read_csv(real_build.actions)
    scores = pd.read_csv(real_build.scores, keep_default_na=False)
    assert list(actions.columns) == ["id", "segment", "action", "channel", "group", "expected_value", "reason"]
    ac = results.actions
    assert len(actions) == ac.n_rows and actions["id"].nunique() == ac.n_customers
    assert (actions["group"] == "treatment").sum() == ac.n_treatment
    assert (actions["group"] == "control").sum() == ac.n_control
    assert not actions.duplicated(["id", "action"]).any()
    f = make_filters("ru")
    page = flat(html_lib.unescape(re.sub(r"<[^>]+>", " ", real_build.html.read_text(encoding="utf-8"))))
    pdf = flat(subprocess.run([PDFTOTEXT, "-layout", str(real_build.pdf), "-"], check=True,
                              capture_output=True).stdout.decode("utf-8")) if PDFTOTEXT else None
    t = translator("ru")
    for plan in ac.plans:
        rows = actions[actions["action"] == plan.action]
        assert len(rows) == plan.audience
        assert (rows["group"] == "treatment").sum() == plan.treatment
        assert (rows["group"] == "control").sum() == plan.control
        assert (rows["channel"] == "contact").sum() == plan.audience_contact
        treated = rows[rows["group"] == "treatment"]
        assert treated["expected_value"].sum() == pytest.approx(plan.expected_value, abs=0.05)
        assert rows["segment"].value_counts().to_dict() == plan.segments
        # the table row of the action in the HTML and in the PDF: title, audience, treatment, control, value
        cells = [flat(f["num"](v)) for v in (plan.audience, plan.treatment, plan.control)]
        row = flat(t(f"action.{plan.action}.title"))
        numbers = r"(?<![\d,]) ?" + r"\s+".join(map(re.escape, cells)) + r"(?![\d,])"
        assert re.search(re.escape(row) + r"\s+" + numbers, page), (plan.action, cells)
        assert flat(f["money"](plan.expected_value, 1)) in page
        if pdf is not None:  # the title may wrap in the PDF's layout: its first words, then the numbers
            words = r"\s+".join(map(re.escape, row.split()[:2]))
            assert re.search(words + r"[^\d]{0,80}?" + numbers, pdf), (plan.action, cells)
            assert flat(f["money"](plan.expected_value, 1)) in pdf
    # scores.csv: one row per customer, its offer the best treatment action
    assert scores["id"].is_unique and len(scores) == results.data.n_customers_analysed
    treated = actions[actions["group"] == "treatment"]
    best = treated.sort_values(["id", "expected_value"], ascending=[True, False]).drop_duplicates("id")
    offers = scores.set_index("id")["offer"]
    assert (offers.loc[best["id"]].to_numpy() == best["action"].to_numpy()).all()
    assert (offers.drop(best["id"]) == "").all() and (offers != "").sum() == ac.offers
    # the counts note of the HTML and the PDF names the same numbers
    note = flat(rows_note(ac, lang="ru"))
    for n in (ac.n_rows, ac.n_customers, ac.n_treatment, ac.n_control, ac.offers):
        assert flat(f["num"](n)) in note
    assert note in page
    if pdf is not None:
        # spaces, and hyphens of words the PDF hyphenates at a line end (U+2010), left out
        assert re.sub(r"[\s\-\u2010]", "", note) in re.sub(r"[\s\-\u2010]", "", pdf)
    treated_rows = actions[actions["group"] == "treatment"]
    assert (treated_rows["channel"] == "contact").sum() == ac.treatment_contact
    assert (treated_rows["channel"] == "site").sum() == ac.treatment_site


def test_no_contact_without_consent_on_the_real_data(real_build, real_dir: Path) -> None:  # noqa: ANN001
    actions = pd.read_csv(real_build.actions)
    market = pd.read_csv(real_dir / "market_file.csv")
    consent = market.set_index("id")["Разрешить сообщать"] == "да"
    contact = actions[actions["channel"] == "contact"]
    assert len(contact) > 0 and consent.loc[contact["id"]].all()
    assert set(actions["channel"]) <= {"contact", "site"}
    # more_communication has no on-site variant: no one without consent gets it
    more = actions[actions["action"] == "more_communication"]
    assert consent.loc[more["id"]].all()


def test_every_fired_rule_shows_its_effect_size_and_shap_direction(real_build) -> None:  # noqa: ANN001
    results = Results.load(real_build.results)
    minimum = results.meta.config.actions.effect_size_min
    risk = {s.key: s.rule.risk for s in results.segments.segments}
    fired = [(r.segment, o) for r in results.actions.rules for o in r.fired]
    assert fired
    for segment, outcome in fired:
        assert outcome.evidence, outcome.action
        for ev in outcome.evidence:
            assert ev.effect_size >= minimum and ev.separates
            # the model's direction: SHAP raises the risk where a retention offer fires, lowers it for
            # «keep without discounts»
            assert ev.model_agrees and (ev.mean_shap > 0 if risk[segment] == "high" else ev.mean_shap < 0)
    # on this data service errors are fewer among those who declined: «fix and apologise» never fires
    assert all(o.action != "fix_service" for _, o in fired)
    page = flat(html_lib.unescape(real_build.html.read_text(encoding="utf-8")))
    assert flat(translator("ru")("rule.measure.cohens_d")) in page and "SHAP" in page


def test_reasons_carry_the_customers_own_numbers(real_build, real_dir: Path) -> None:  # noqa: ANN001
    actions = pd.read_csv(real_build.actions)
    market = pd.read_csv(real_dir / "market_file.csv").set_index("id")
    home = actions[actions["action"] == "personalised_home"]
    assert len(home)
    for row in home.head(20).itertuples():
        assert row.reason.startswith(f"Страниц за визит: {market.loc[row.id, 'Страниц_за_визит']} против ")
    assert actions["reason"].str.len().gt(10).all()


def test_next_month_measures_last_months_actions(tmp_path: Path, sample_dir: Path) -> None:
    """A month simulated with a known effect for one action and none for another: the report
    recovers the first within its interval, and its interval for the second covers 0."""
    config = Config()
    first = build_report(data_dir=sample_dir, out_dir=tmp_path / "m1", period="2026-10", lang="ru", config=config)
    plans = sorted(Results.load(first.results).actions.plans, key=lambda a: -a.audience)
    effect_action, null_action = plans[0].action, plans[1].action
    # every customer's next-month decline probability is 0.8 or 0.12 (analysis.sample.next_month):
    # −0.12 shifts both without clipping, so the true difference is exactly −0.12
    effect = -0.12
    nxt = tmp_path / "next"
    subprocess.run([sys.executable, "-m", "report.cli", "sample", "--out", str(nxt), "--next-from", str(sample_dir),
                    "--actions", str(first.actions), "--effect", f"{effect_action}={effect}", "--seed", "11"],
                   check=True, capture_output=True)
    second = build_report(data_dir=nxt, out_dir=tmp_path / "m2", period="2026-11", lang="ru", config=config,
                          previous=first.results)
    comparison = Results.load(second.results).comparison
    assert comparison is not None and comparison.previous_actions
    effects = {e.action: e for e in comparison.action_effects}
    assert set(effects) == {p.action for p in plans}
    hit, null = effects[effect_action], effects[null_action]
    assert hit.difference_ci95[0] <= effect <= hit.difference_ci95[1]
    assert null.difference_ci95[0] <= 0 <= null.difference_ci95[1]
    for e in (hit, null):  # intervals of the size the groups allow, not anything-goes
        assert e.difference_ci95[1] - e.difference_ci95[0] < 0.45
    assert hit.n_treatment + hit.n_control + hit.n_gone == plans[0].audience
    doc = json.loads(second.results.read_text(encoding="utf-8"))["comparison"]["action_effects"][0]
    assert set(doc) >= {"action", "n_treatment", "n_control", "decline_rate_treatment", "decline_rate_control",
                        "difference", "difference_ci95", "p_value"}
    page = flat(html_lib.unescape(second.html.read_text(encoding="utf-8")))
    t = translator("ru")
    f = make_filters("ru")
    assert flat(t("actions.effects")) in page
    assert flat(t("actions.effects_intro", new=f["num"](comparison.customers_new))) in page
    assert comparison.customers_new > 0
    page1 = page.split('id="toc"', 1)[0]
    assert flat(t("summary.effects", text="X").split("X")[0]) in page1
    for e in comparison.action_effects:  # page 1 names the actions that made a difference
        effects = page1.split(flat(t("summary.effects", text="X").split("X")[0]))[1].split("</p>")[0]
        shown = flat(t(f"action.{e.action}.title")) in effects
        assert shown == e.significant or e.action in results_top(second), e.action


def test_a_changed_previous_actions_csv_is_refused(tmp_path: Path, sample_dir: Path) -> None:
    from analysis.errors import DataError

    config = Config()
    first = build_report(data_dir=sample_dir, out_dir=tmp_path / "m1", period="2026-10", lang="en", config=config)
    with first.actions.open("a", encoding="utf-8") as fh:
        fh.write("1,x,promo_cart,site,control,0.1,forged\n")
    with pytest.raises(DataError, match=r"actions\.csv"):
        build_report(data_dir=sample_dir, out_dir=tmp_path / "m2", period="2026-11", lang="en", config=config,
                     previous=first.results)
    assert not (tmp_path / "m2").exists()


def test_previous_results_of_an_older_schema_are_refused_clearly(tmp_path: Path, sample_dir: Path) -> None:
    from analysis.errors import DataError

    old = tmp_path / "old" / "results.json"
    old.parent.mkdir()
    old.write_text(json.dumps({"schema_version": 1, "meta": {}}), encoding="utf-8")
    with pytest.raises(DataError, match="schema version 1; this build reads version 3"):
        build_report(data_dir=sample_dir, out_dir=tmp_path / "out", period="2026-11", lang="ru", config=Config(),
                     previous=old)
    assert not (tmp_path / "out").exists()


def results_top(outputs) -> tuple[str, ...]:  # noqa: ANN001 - titles of this month's top actions are on page 1 too
    return Results.load(outputs.results).actions.top


def _month(tmp_path: Path, sample_dir: Path):  # noqa: ANN202 - report.build.BuildOutputs
    return build_report(data_dir=sample_dir, out_dir=tmp_path / "m1", period="2026-10", lang="en", config=Config())


def _rehash(outputs, text: str) -> None:  # noqa: ANN001 - a previous month with an edited actions.csv
    import hashlib

    outputs.actions.write_text(text, encoding="utf-8")
    manifest = json.loads(outputs.manifest.read_text(encoding="utf-8"))
    manifest["outputs"]["actions.csv"] = hashlib.sha256(outputs.actions.read_bytes()).hexdigest()
    outputs.manifest.write_text(json.dumps(manifest), encoding="utf-8")


def _edit_first_row(text: str, column: str, value: str) -> str:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    rows[0][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda text: _edit_first_row(text, "action", "vip_gift"), r"column «action».*one of the actions.*line 2"),
    (lambda text: _edit_first_row(text, "group", "Treatment"), r"column «group».*«treatment» or «control».*line 2"),
    (lambda text: _edit_first_row(text, "id", "21a"), r"column «id».*whole-number customer id.*line 2"),
    (lambda text: text + text.splitlines()[1] + "\n", r"each action once per customer"),
])
def test_previous_actions_that_cannot_be_measured_are_refused(tmp_path: Path, sample_dir: Path, edit,  # noqa: ANN001
                                                              message: str) -> None:
    from analysis.errors import DataError

    first = _month(tmp_path, sample_dir)
    _rehash(first, edit(first.actions.read_text(encoding="utf-8")))
    with pytest.raises(DataError, match=message):
        build_report(data_dir=sample_dir, out_dir=tmp_path / "m2", period="2026-11", lang="en", config=Config(),
                     previous=first.results)
    assert not (tmp_path / "m2").exists()


def test_a_missing_previous_actions_csv_is_refused(tmp_path: Path, sample_dir: Path) -> None:
    from analysis.errors import DataError

    first = _month(tmp_path, sample_dir)
    first.actions.unlink()
    with pytest.raises(DataError, match=r"actions.csv: not found beside results.json, whose month assigned \d+"):
        build_report(data_dir=sample_dir, out_dir=tmp_path / "m2", period="2026-11", lang="en", config=Config(),
                     previous=first.results)
