"""Make docs/report.png: a compare run on the embedded default data, its report.html in headless Chromium.

Runs ``ctcdecode-kit compare --nbest 8`` (every built-in decoder, the embedded model, its 100
held-out utterances and its LM) into a run folder, opens the folder's ``report.html`` from
``file://`` in Debian's Chromium through Playwright (never ``playwright install``), opens
the utterance ``native+lm`` helped most, and stitches two views into one PNG: the summary
with the WER-vs-time chart, and the per-utterance view with that utterance's alignment.

    .venv/bin/python benchmarks/make_report_screenshot.py                 # -> docs/report.png
    .venv/bin/python benchmarks/make_report_screenshot.py --run-dir /tmp/r --output /tmp/report.png
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_compare(run_dir: Path, nbest: int, decoders: list[str]) -> None:
    """The default comparison, written to ``run_dir`` (replacing a run there)."""
    command = [sys.executable, "-m", "ctcdecode_kit.cli", "compare", "--nbest", str(nbest), "--output", str(run_dir),
               "--overwrite"] + [a for d in decoders for a in ("-d", d)]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def screenshot(report: Path, output: Path, decoder: str = "native+lm") -> None:
    """Two views of ``report`` stitched into ``output``."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    helped = json.loads((report.parent / "results.json").read_text())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1360, "height": 1000}, device_scale_factor=1)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.resolve().as_uri())
        page.wait_for_selector("#utts tbody tr.utt")
        top = page.screenshot(clip={"x": 0, "y": 0, "width": 1360, "height": 1000})
        page.select_option("#dec", decoder)
        link = page.locator("#attr .card", has_text=f"{decoder} vs {helped['baseline']}").locator("a.utt-link").first
        link.click()
        page.wait_for_selector("#utts tr.detail")
        top_of_section = page.evaluate("document.getElementById('utt-sec').getBoundingClientRect().top + window.scrollY")
        bottom = page.screenshot(full_page=True, clip={"x": 0, "y": top_of_section - 8, "width": 1360, "height": 760})
        browser.close()
    if errors:
        raise SystemExit(f"the report raised JavaScript errors: {errors}")
    images = [Image.open(io.BytesIO(b)).convert("RGB") for b in (top, bottom)]
    sheet = Image.new("RGB", (1360, sum(i.height for i in images) + 12), "#9aa3b2")
    sheet.paste(images[0], (0, 0))
    sheet.paste(images[1], (0, images[0].height + 12))
    output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(output, optimize=True)
    print(f"wrote {output} ({output.stat().st_size // 1024} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=None, help="compare output folder (default: a temporary one)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--nbest", type=int, default=8)
    parser.add_argument("-d", "--decoder", action="append", default=[], help="decoder spec (default: all)")
    parser.add_argument("--skip-run", action="store_true", help="reuse the run in --run-dir (its report is rebuilt)")
    args = parser.parse_args()
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="report-screenshot-")) / "run"
    if not args.skip_run:
        run_compare(run_dir, args.nbest, args.decoder)
    else:  # the page as today's code writes it
        subprocess.run([sys.executable, "-m", "ctcdecode_kit.cli", "report", str(run_dir)], check=True, cwd=REPO)
    screenshot(run_dir / "report.html", args.output)


if __name__ == "__main__":
    main()
