"""report.html in a real headless Chromium (Debian's, driven by Playwright; never `playwright install`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jiwer
import pytest

from ctcdecode_kit.metrics import normalize_text
from ctcdecode_kit.report.run import read_journal_rows
from tests.conftest import require_module, skip_or_fail

CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    """Debian's Chromium; skip (fail under CI=true) when it is missing."""
    executable = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if executable is None:
        skip_or_fail("Chromium is missing (Debian package chromium: apt-get install -y chromium)")
    return executable


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (system binary, no download)."""
    sync_api = require_module("playwright.sync_api", install="pip install -e '.[test]'  (never `playwright install`)")
    executable = chromium_path()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, known_run):
    """The known run's report, loaded from file://; console errors, page errors and failed requests fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    tab.goto((known_run / "report.html").resolve().as_uri())
    tab.wait_for_selector("#utts tbody tr.utt")
    yield tab
    context.close()
    assert problems == [], "the page logged errors"


def utterance_wers(folder: Path, decoder: str) -> dict[str, float]:
    out = {}
    for r in read_journal_rows(folder / "hyps.jsonl"):
        if r["decoder"] == decoder:
            ref, hyp = normalize_text(r["reference"]), normalize_text(r["text"])
            out[r["id"]] = jiwer.wer(ref, hyp)
    return out


def test_page_loads_offline_with_one_summary_row_per_decoder(page, known_run, tmp_path):
    decoders = [row["decoder"] for row in json.loads((known_run / "results.json").read_text())["decoders"]]
    rows = page.locator("#summary tbody tr")
    assert rows.count() == len(decoders)
    assert [rows.nth(i).get_attribute("data-decoder") for i in range(rows.count())] == decoders
    assert page.locator("#chart .pt").count() == len(decoders)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_sorting_by_wer_puts_the_worst_utterance_first(page, known_run):
    wers = utterance_wers(known_run, "greedy")
    worst = max(sorted(wers), key=lambda u: wers[u])
    page.select_option("#dec", "greedy")
    page.select_option("#sort", "wer")
    assert page.locator("#utts tbody tr.utt").first.get_attribute("data-id") == worst


def test_search_and_disagreement_filters_narrow_the_list(page):
    rows = page.locator("#utts tbody tr.utt")
    everything = rows.count()
    page.fill("#search", "fog")
    assert sorted(rows.nth(i).get_attribute("data-id") for i in range(rows.count())) == ["u02", "u07"]
    page.fill("#search", "")
    assert rows.count() == everything
    page.check("#disagree")
    assert sorted(rows.nth(i).get_attribute("data-id") for i in range(rows.count())) == ["u01", "u02", "u06"]
    assert rows.count() < everything


def test_opening_an_utterance_shows_the_known_substitution(page):
    page.locator('#utts tr.utt[data-id="u01"]').click()
    detail = page.locator('#utts tr.detail[data-id="u01"]')
    subs = detail.locator('.w[data-op="S"]')
    assert subs.count() == 2  # greedy and native write HAT for CAT; native+lm gets it right
    assert subs.first.locator(".r").text_content() == "CAT" and subs.first.locator(".h").text_content() == "HAT"
    assert detail.locator(".w.sub").first.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"


def test_a_helped_utterance_link_opens_it(page):
    page.locator("#attr a.utt-link", has_text="u06").first.click()
    assert page.locator('#utts tr.detail[data-id="u06"]').count() == 1


def test_javascript_errors_fail_the_test(browser, known_run, tmp_path):
    """The error collection is real: a page whose data is broken throws, and the error is caught."""
    broken = tmp_path / "report.html"
    broken.write_text((known_run / "report.html").read_text().replace('id="report-data">', 'id="report-data">{', 1))
    errors: list[str] = []
    context = browser.new_context()
    tab = context.new_page()
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(broken.resolve().as_uri())
    tab.wait_for_load_state("load")
    context.close()
    assert errors and "JSON" in errors[0]


def test_two_thousand_utterances_are_paginated_and_sort_across_pages(browser, big_report_path):
    path = big_report_path
    context = browser.new_context()
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.goto(path.resolve().as_uri())
    tab.wait_for_selector("#utts tbody tr.utt")
    assert tab.locator("#utts tbody tr.utt").count() == 50
    assert tab.locator("#count").text_content() == "2000 of 2000 utterances"
    assert tab.locator("#page").text_content() == "page 1 of 40"
    tab.select_option("#sort", "dur")
    first = tab.locator("#utts tbody tr.utt").first.locator("td").nth(1).text_content()
    tab.click("#next")
    assert tab.locator("#page").text_content() == "page 2 of 40"
    assert float(tab.locator("#utts tbody tr.utt").first.locator("td").nth(1).text_content()) <= float(first)
    tab.fill("#search", "utt-01999")
    assert tab.locator("#utts tbody tr.utt").count() == 1 and tab.locator("#page").text_content() == "page 1 of 1"
    context.close()
    assert problems == []


def test_audio_player_points_at_the_file_through_a_relative_link(browser, tmp_path):
    import numpy as np
    import soundfile

    from ctcdecode_kit.report import analyse
    from ctcdecode_kit.report.html import render_html, report_payload

    audio = tmp_path / "data" / "u1.wav"
    audio.parent.mkdir()
    soundfile.write(audio, np.zeros(1600, dtype=np.float32), 16000)
    rows = [{"decoder": "greedy", "id": "u1", "reference": "A B", "text": "A C", "frames": 5, "decode_seconds": 0.0,
             "audio": str(audio)}]
    analysis = analyse(rows, ["greedy"], frame_rate=50.0)
    results = {"settings": {}, "decoders": [{"decoder": "greedy", "wer": 0.5, "cer": 0.33, "decode_seconds": 0.0,
                                             "rtf": 0.0, **analysis.decoders["greedy"]}], **analysis.run_fields()}
    folder = tmp_path / "runs" / "r1"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(render_html(report_payload(analysis, results, folder)), encoding="utf-8")
    context = browser.new_context()
    tab = context.new_page()
    tab.goto((folder / "report.html").as_uri())
    tab.locator('#utts tr.utt[data-id="u1"]').click()
    player = tab.locator('#utts tr.detail[data-id="u1"] audio')
    assert player.get_attribute("src") == "../../data/u1.wav"
    assert player.evaluate("a => a.src") == audio.as_uri()
    context.close()
