"""``report.html``: one self-contained page (inline CSS and JS, no network) from an :class:`Analysis`.

:func:`report_payload` turns an analysis and the enriched ``results.json`` into the JSON the
page embeds; :func:`render_html` wraps it in the page. The page builds everything with
plain DOM calls (texts go in through ``textContent``, never as HTML) and an SVG chart; it
opens from ``file://`` and needs nothing else. Audio is linked by a path relative to the
report's folder, never embedded.

The per-utterance alignment is jiwer's: each decoder's hypothesis comes with its chunk
list encoded as ``=3S1D1I2`` (op, then the number of words; ``=`` and ``S`` span as many
reference as hypothesis words, ``D`` reference words only, ``I`` hypothesis words only),
which the page walks to lay out reference and hypothesis words side by side. Rows are
paginated (50 per page), so 2,000 utterances by six decoders stay a few MB and the page
draws only what is shown.

Example:
    >>> from ctcdecode_kit.report.alignment import align
    >>> encode_chunks(align(["a b c d"], ["a x c e d"]).chunks[0])
    '=1S1=1I1=1'
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._version import __version__
from .alignment import Chunk
from .analysis import Analysis

__all__ = ["encode_chunks", "render_html", "report_payload"]


def encode_chunks(chunks: Sequence[Chunk]) -> str:
    """jiwer's chunks of one utterance as the page's compact string (see the module docs)."""
    parts = []
    for op, r0, r1, h0, h1 in chunks:
        if op in "=S" and r1 - r0 != h1 - h0:  # jiwer never makes these; refuse rather than draw a wrong alignment
            raise ValueError(f"alignment chunk {op} spans {r1 - r0} reference and {h1 - h0} hypothesis words")
        parts.append(f"{op}{(h1 - h0) if op == 'I' else (r1 - r0)}")
    return "".join(parts)


def _audio_link(audio: str | None, folder: Path | None) -> str | None:
    if not audio:
        return None
    path = Path(audio)
    if folder is not None and path.is_absolute():
        try:
            rel = os.path.relpath(path, folder.resolve())
        except ValueError:  # another drive (Windows): no relative path exists
            return None
        return quote(Path(rel).as_posix())
    return quote(path.as_posix())


def report_payload(analysis: Analysis, results: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """The data the page embeds: the enriched ``results.json`` plus the details and utterances."""
    labels = analysis.labels
    utts = []
    for i, u in enumerate(analysis.utterances):
        hyps = []
        texts = set()
        for label in labels:
            a = analysis.alignments[label]
            hyps.append([" ".join(a.hyps[i]), encode_chunks(a.chunks[i]), int(a.errors[i])])
            texts.add(hyps[-1][0])
        utts.append([u["id"], round(u["duration"], 3), _audio_link(u["audio"], folder), " ".join(u["ref"]),
                     len(u["ref"]), int(len(texts) > 1), hyps])
    lm = analysis.lm
    return {
        "version": __version__,
        "results": results,
        "labels": labels,
        "baseline": analysis.baseline,
        "details": analysis.details,
        "lm": {
            "path": lm.lm,
            "oov_rate": lm.oov_rate,
            "oov_words": lm.oov_words[:50],
            "oov_types": len(lm.oov_words),
            "lm_words": lm.lm_words,
            "has_unk": lm.has_unk,
            "case": lm.case,
            "warnings": lm.warnings,
        },
        "utts": utts,
    }


def render_html(payload: dict[str, Any]) -> str:
    """The whole page, with ``payload`` embedded as JSON (``<`` escaped so no text can close the script)."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    title = f"ctcdecode-kit report: {len(payload['labels'])} decoders, {len(payload['utts'])} utterances"
    return (
        _PAGE.replace("__TITLE__", title.replace("&", "&amp;").replace("<", "&lt;"))
        .replace("__CSS__", _CSS)
        .replace("__JS__", _JS)
        .replace("__DATA__", data)
    )


_CSS = r"""
:root{--fg:#1d2330;--muted:#5d6675;--line:#d9dee7;--bg:#fff;--soft:#f4f6fa;--acc:#2f6fdb;
--sub:#fde2c5;--subfg:#8a4200;--ins:#d8f0d8;--insfg:#1d6a1d;--del:#f8d3d6;--delfg:#9b1c28;--warn:#fff4d6}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:14px 24px;border-bottom:1px solid var(--line);background:var(--soft)}
header h1{margin:0 0 4px;font-size:20px}header .meta{color:var(--muted);font-size:13px}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:6px 24px}
nav a{margin-right:16px;color:var(--acc);text-decoration:none;font-weight:600}
main{padding:8px 24px 40px;max-width:1400px}
section{margin-top:22px}h2{font-size:17px;margin:0 0 8px;border-bottom:2px solid var(--line);padding-bottom:3px}
h3{font-size:14px;margin:12px 0 6px}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{background:var(--soft);font-weight:600;position:relative}td.l,th.l{text-align:left}
tr.base td{background:#eef3fd}tr.hl td{background:#fff1b8}
.note{color:var(--muted);font-size:12px;margin:6px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:#fff}
.card h3{margin-top:0}.big{font-size:18px;font-weight:600}
.chip{display:inline-block;padding:1px 6px;margin:2px;border-radius:10px;background:var(--soft);border:1px solid var(--line);font-size:12px}
.fix{color:var(--insfg)}.brk{color:var(--delfg)}
a.utt-link{cursor:pointer;color:var(--acc);text-decoration:underline}
#chart{border:1px solid var(--line);border-radius:6px;background:#fff}
#chart .pt{cursor:pointer}#chart .pt:hover circle,#chart .pt.sel circle{stroke:#000;stroke-width:2}
#tip{position:fixed;pointer-events:none;background:#1d2330;color:#fff;padding:5px 8px;border-radius:4px;font-size:12px;display:none;z-index:10}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:6px 0 8px}
.controls label{font-size:13px}input[type=search]{padding:3px 6px;width:220px}
#utts tbody tr.utt{cursor:pointer}#utts tbody tr.utt:hover td{background:var(--soft)}
#utts td.ref{text-align:left;max-width:520px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
tr.detail td{background:#fbfcfe;text-align:left}
.al{display:flex;flex-wrap:wrap;gap:2px 4px;margin:2px 0 10px}
.w{display:inline-flex;flex-direction:column;border-radius:3px;padding:0 3px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.w span{white-space:pre}.w .h{color:var(--muted)}
.w.sub{background:var(--sub);color:var(--subfg)}.w.ins{background:var(--ins);color:var(--insfg)}.w.del{background:var(--del);color:var(--delfg)}
.w.sub .h,.w.ins .h,.w.del .h{color:inherit;font-weight:600}
.dec{font-weight:600;font-size:12px;margin-top:4px}.pos{color:var(--delfg)}.neg{color:var(--insfg)}
.pager{display:flex;gap:8px;align-items:center;margin:8px 0}
.warn{background:var(--warn);border:1px solid #e8cf7a;border-radius:4px;padding:6px 10px;margin:4px 0}
.ok{color:var(--insfg)}.legend span{margin-right:10px}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
"""

_PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>__TITLE__</title><style>__CSS__</style></head>
<body>
<header><h1>Decoder error analysis</h1><div class="meta" id="meta"></div></header>
<nav><a href="#summary-sec">Summary</a><a href="#attr-sec">Attribution</a><a href="#utt-sec">Utterances</a><a href="#err-sec">Error tables</a><a href="#lm-sec">LM diagnostics</a></nav>
<main>
<section id="summary-sec"><h2>Summary</h2>
<table id="summary"><thead></thead><tbody></tbody></table>
<p class="note" id="tests-note"></p>
<h3>WER against decode time</h3>
<div class="controls"><label>x axis <select id="xaxis"><option value="decode_seconds">decode time (s)</option><option value="rtf">real-time factor</option></select></label>
<span class="note">log scale; bars: 95 % bootstrap interval; click a point to open that decoder below</span></div>
<svg id="chart" width="680" height="330" role="img" aria-label="WER against decode time"></svg>
</section>
<section id="attr-sec"><h2>Attribution against the baseline</h2><div class="grid" id="attr"></div></section>
<section id="utt-sec"><h2>Utterances</h2>
<div class="controls">
<label>decoder <select id="dec"></select></label>
<label>sort by <select id="sort"><option value="id">id</option><option value="wer">WER (worst first)</option><option value="diff">WER change vs baseline (worst first)</option><option value="gain">WER change vs baseline (best first)</option><option value="dur">duration (longest first)</option></select></label>
<label><input type="checkbox" id="disagree"> only where decoders disagree</label>
<input type="search" id="search" placeholder="search id, reference, hypotheses">
<span class="note" id="count"></span>
</div>
<div class="legend note"><span class="w sub"><span>sub</span></span> substitution <span class="w ins"><span>ins</span></span> insertion <span class="w del"><span>del</span></span> deletion</div>
<table id="utts"><thead><tr><th class="l">id</th><th>dur s</th><th>words</th><th id="h-base">baseline WER %</th><th id="h-dec">WER %</th><th>change</th><th class="l">reference</th></tr></thead><tbody></tbody></table>
<div class="pager"><button id="prev">&larr; previous</button><span id="page"></span><button id="next">next &rarr;</button></div>
</section>
<section id="err-sec"><h2>Error tables</h2><div class="grid" id="errors"></div></section>
<section id="lm-sec"><h2>LM diagnostics</h2><div id="lm"></div></section>
</main>
<div id="tip"></div>
<script type="application/json" id="report-data">__DATA__</script>
<script>__JS__</script>
</body></html>
"""

_JS = r"""
"use strict";
(function () {
const D = JSON.parse(document.getElementById("report-data").textContent);
const R = D.results, L = D.labels, B = D.baseline, BI = L.indexOf(B);
const rows = {}; R.decoders.forEach(r => { rows[r.decoder] = r; });
const $ = id => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  if (attrs) for (const k in attrs) { if (k === "class") e.className = attrs[k]; else if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
  kids.forEach(k => { if (k !== null && k !== undefined) e.appendChild(typeof k === "string" ? document.createTextNode(k) : k); });
  return e;
}
const pct = v => v === null || v === undefined ? "–" : (100 * v).toFixed(2);
const ci = v => v ? "[" + pct(v[0]) + ", " + pct(v[1]) + "]" : "–";
const pv = v => v === null || v === undefined ? "–" : (v < 0.001 ? v.toExponential(1) : v.toFixed(3));
const pb = v => v !== null && v !== undefined && v <= 1 / 1001 + 1e-12 ? "≤ 0.001" : pv(v);  // the bootstrap's smallest p
const num = v => v === null || v === undefined ? "–" : String(v);

// ---------------------------------------------------------------- header and summary
const S = R.settings || {};
$("meta").textContent = [S.n_utterances + " utterances", S.logits ? "logits " + S.logits : (S.data ? "data " + S.data : ""),
  S.model ? "model " + S.model : "", S.lm ? "LM " + S.lm : "no LM", "baseline " + B, "ctcdecode-kit " + D.version].filter(Boolean).join(" · ");
const cols = [["decoder", "l"], ["WER %"], ["WER 95% CI"], ["CER %"], ["CER 95% CI"], ["S"], ["D"], ["I"], ["SER %"],
  ["decode s"], ["RTF"], ["p vs baseline"], ["sign test p"], ["utts better / worse"], ["words fixed / broken"], ["oracle WER %"]];
$("summary").tHead.appendChild(el("tr", null, ...cols.map(c => el("th", {class: c[1] || "", text: c[0]}))));
R.decoders.forEach(r => {
  const tr = el("tr", {class: r.decoder === B ? "base" : "", "data-decoder": r.decoder});
  [[r.decoder + (r.decoder === B ? " (baseline)" : ""), "l"], [pct(r.wer)], [ci(r.wer_ci95)], [pct(r.cer)], [ci(r.cer_ci95)],
   [num(r.substitutions)], [num(r.deletions)], [num(r.insertions)], [pct(r.ser)], [r.decode_seconds.toFixed(2)], [r.rtf.toFixed(4)],
   [pb(r.p_value_vs_baseline)], [pv(r.sign_test_p_value)],
   [r.decoder === B ? "–" : r.utterances_better + " / " + r.utterances_worse],
   [r.decoder === B ? "–" : r.words_fixed + " / " + r.words_broken], [pct(r.oracle_wer)]]
    .forEach(c => tr.appendChild(el("td", {class: c[1] || "", text: c[0]})));
  $("summary").tBodies[0].appendChild(tr);
});
const T = R.significance_tests || {};
$("tests-note").textContent = "p vs baseline: " + (T.p_value_vs_baseline || "") + ". Sign test p: " + (T.sign_test_p_value || "") +
  ". WER and CER intervals: 95 % percentile bootstrap over utterances (1,000 resamples, seed 0). SER: share of utterances with any word error." +
  " Oracle WER: best hypothesis of each n-best list (– without --nbest).";

// ---------------------------------------------------------------- chart
const tip = $("tip");
function showTip(ev, text) { tip.textContent = text; tip.style.display = "block"; tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px"; }
function hideTip() { tip.style.display = "none"; }
function drawChart() {
  const svg = $("chart"), NS = "http://www.w3.org/2000/svg", key = $("xaxis").value;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = 680, H = 330, m = {l: 56, r: 24, t: 14, b: 44};
  const xs = R.decoders.map(r => Math.max(r[key], 1e-6));
  let x0 = Math.log10(Math.min(...xs)), x1 = Math.log10(Math.max(...xs));
  if (x1 - x0 < 0.2) { x0 -= 0.3; x1 += 0.3; } else { const p = 0.08 * (x1 - x0); x0 -= p; x1 += p; }
  const ys = R.decoders.map(r => 100 * (r.wer_ci95 ? r.wer_ci95[1] : r.wer));
  const y1 = Math.max(1, Math.max(...ys) * 1.1), y0 = 0;
  const X = v => m.l + (Math.log10(Math.max(v, 1e-6)) - x0) / (x1 - x0) * (W - m.l - m.r);
  const Y = v => H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b);
  const mk = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text) e.textContent = text; svg.appendChild(e); return e; };
  mk("line", {x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b, stroke: "#888"});
  mk("line", {x1: m.l, y1: m.t, x2: m.l, y2: H - m.b, stroke: "#888"});
  for (let i = 0; i <= 4; i++) { const v = y0 + (y1 - y0) * i / 4; mk("line", {x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v), stroke: "#eee"}); mk("text", {x: m.l - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 11}, v.toFixed(1)); }
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) { mk("line", {x1: X(Math.pow(10, e)), x2: X(Math.pow(10, e)), y1: m.t, y2: H - m.b, stroke: "#eee"}); mk("text", {x: X(Math.pow(10, e)), y: H - m.b + 15, "text-anchor": "middle", "font-size": 11}, String(Math.pow(10, e))); }
  mk("text", {x: (W + m.l) / 2, y: H - 8, "text-anchor": "middle", "font-size": 12}, key === "rtf" ? "real-time factor (log)" : "decode time for the whole set, s (log)");
  mk("text", {x: 14, y: (H - m.b) / 2, "text-anchor": "middle", "font-size": 12, transform: "rotate(-90 14 " + (H - m.b) / 2 + ")"}, "WER %");
  const palette = ["#2f6fdb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#5c940d"];
  R.decoders.forEach((r, i) => {
    const g = document.createElementNS(NS, "g"); g.setAttribute("class", "pt"); g.setAttribute("data-decoder", r.decoder); svg.appendChild(g);
    const x = X(r[key]), y = Y(100 * r.wer), c = palette[i % palette.length];
    if (r.wer_ci95) { const l = document.createElementNS(NS, "line"); [["x1", x], ["x2", x], ["y1", Y(100 * r.wer_ci95[0])], ["y2", Y(100 * r.wer_ci95[1])], ["stroke", c], ["stroke-width", 2]].forEach(a => l.setAttribute(a[0], a[1])); g.appendChild(l); }
    const circ = document.createElementNS(NS, "circle"); [["cx", x], ["cy", y], ["r", 6], ["fill", c]].forEach(a => circ.setAttribute(a[0], a[1])); g.appendChild(circ);
    const right = x > W - m.r - 120;
    const t = document.createElementNS(NS, "text"); [["x", right ? x - 9 : x + 9], ["y", y - 7 - 12 * (i % 2)], ["font-size", 11], ["text-anchor", right ? "end" : "start"]].forEach(a => t.setAttribute(a[0], a[1])); t.textContent = r.decoder; g.appendChild(t);
    g.addEventListener("mousemove", ev => showTip(ev, r.decoder + ": WER " + pct(r.wer) + " % " + ci(r.wer_ci95) + ", " + r.decode_seconds.toFixed(2) + " s, RTF " + r.rtf.toFixed(4)));
    g.addEventListener("mouseleave", hideTip);
    g.addEventListener("click", () => { selectDecoder(r.decoder); document.querySelectorAll("#chart .pt").forEach(p => p.classList.toggle("sel", p === g)); $("utt-sec").scrollIntoView(); });
  });
}
$("xaxis").addEventListener("change", drawChart);

// ---------------------------------------------------------------- attribution
function uttLink(id) { const a = el("a", {class: "utt-link", text: id}); a.addEventListener("click", () => openUtterance(id)); return a; }
function chips(list, cls) { const d = el("div"); if (!list.length) d.appendChild(el("span", {class: "note", text: "none"})); list.forEach(p => d.appendChild(el("span", {class: "chip " + cls, text: p[0] + " ×" + p[1]}))); return d; }
L.forEach(label => {
  if (label === B) return;
  const r = rows[label], det = D.details[label];
  const card = el("div", {class: "card"}, el("h3", {text: label + " vs " + B}));
  card.appendChild(el("div", {class: "big"}, el("span", {class: "fix", text: "fixed " + r.words_fixed}), " · ", el("span", {class: "brk", text: "broke " + r.words_broken}), " words"));
  card.appendChild(el("div", {class: "note", text: "WER " + pct(rows[B].wer) + " → " + pct(r.wer) + " %; p " + (pb(r.p_value_vs_baseline).startsWith("≤") ? "" : "= ") + pb(r.p_value_vs_baseline) + " (paired bootstrap), " + pv(r.sign_test_p_value) + " (sign test); better on " + r.utterances_better + ", worse on " + r.utterances_worse + " utterances"}));
  if (r.oracle_wer !== null && r.oracle_wer !== undefined) card.appendChild(el("div", {text: "n-best oracle WER " + pct(r.oracle_wer) + " %: rescoring this list could gain up to " + (100 * (r.wer - r.oracle_wer)).toFixed(2) + " points"}));
  card.appendChild(el("h3", {text: "words fixed"})); card.appendChild(chips(det.fixed_words, "fix"));
  card.appendChild(el("h3", {text: "words broken"})); card.appendChild(chips(det.broken_words, "brk"));
  const h = el("div", null, el("h3", {text: "helped most"})); det.helped.forEach(id => { h.appendChild(uttLink(id)); h.appendChild(document.createTextNode(" ")); }); if (!det.helped.length) h.appendChild(el("span", {class: "note", text: "none"})); card.appendChild(h);
  const k = el("div", null, el("h3", {text: "hurt most"})); det.hurt.forEach(id => { k.appendChild(uttLink(id)); k.appendChild(document.createTextNode(" ")); }); if (!det.hurt.length) k.appendChild(el("span", {class: "note", text: "none"})); card.appendChild(k);
  $("attr").appendChild(card);
});
if (L.length === 1) $("attr").appendChild(el("p", {class: "note", text: "One decoder only: nothing to attribute."}));

// ---------------------------------------------------------------- utterances
const U = D.utts;  // [id, duration, audio, ref, refWords, disagree, [[hyp, ops, errors], ...]]
const uwer = (u, i) => u[6][i][2] / Math.max(u[4], 1);
const state = {dec: L.length > 1 ? L.find(l => l !== B) : L[0], sort: "id", disagree: false, q: "", page: 0, open: new Set()};
const PAGE = 50;
L.forEach(l => $("dec").appendChild(el("option", {value: l, text: l + (l === B ? " (baseline)" : "")})));
function selectDecoder(l) { state.dec = l; $("dec").value = l; state.page = 0; renderUtts(); }
function filtered() {
  const di = L.indexOf(state.dec), q = state.q.trim().toUpperCase();
  let list = U.filter(u => (!state.disagree || u[5]) && (!q || u[0].toUpperCase().includes(q) || u[3].includes(q) || u[6].some(h => h[0].includes(q))));
  const by = {
    id: (a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
    wer: (a, b) => uwer(b, di) - uwer(a, di) || b[6][di][2] - a[6][di][2],
    diff: (a, b) => (uwer(b, di) - uwer(b, BI)) - (uwer(a, di) - uwer(a, BI)),
    gain: (a, b) => (uwer(a, di) - uwer(a, BI)) - (uwer(b, di) - uwer(b, BI)),
    dur: (a, b) => b[1] - a[1],
  }[state.sort];
  return list.slice().sort((a, b) => by(a, b) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
function alignment(u, i) {
  const ref = u[3] ? u[3].split(" ") : [], hyp = u[6][i][0] ? u[6][i][0].split(" ") : [], ops = u[6][i][1];
  const box = el("div", {class: "al"}); let r = 0, h = 0; const re = /([=SDI])(\d+)/g; let m;
  while ((m = re.exec(ops)) !== null) {
    const n = parseInt(m[2], 10);
    for (let k = 0; k < n; k++) {
      const op = m[1]; let cls = "w", top = "", bottom = "";
      if (op === "=") { top = ref[r++]; bottom = hyp[h++]; }
      else if (op === "S") { cls += " sub"; top = ref[r++]; bottom = hyp[h++]; }
      else if (op === "D") { cls += " del"; top = ref[r++]; bottom = "*".repeat(Math.max(1, top.length)); }
      else { cls += " ins"; top = "*".repeat(Math.max(1, hyp[h].length)); bottom = hyp[h++]; }
      const w = el("span", {class: cls, "data-op": op, title: op === "S" ? top + " → " + bottom : op === "D" ? "deleted " + top : op === "I" ? "inserted " + bottom : ""},
        el("span", {class: "r", text: top}), el("span", {class: "h", text: bottom}));
      box.appendChild(w);
    }
  }
  return box;
}
function detailRow(u) {
  const td = el("td", {colspan: 7});
  if (u[2]) td.appendChild(el("audio", {controls: "", preload: "none", src: u[2]}));
  L.forEach((l, i) => {
    const e = u[6][i][2];
    td.appendChild(el("div", {class: "dec", text: l + (l === B ? " (baseline)" : "") + ": " + e + " error" + (e === 1 ? "" : "s") + ", WER " + pct(uwer(u, i)) + " %"}));
    td.appendChild(alignment(u, i));
  });
  return el("tr", {class: "detail", "data-id": u[0]}, td);
}
function renderUtts() {
  const list = filtered(), di = L.indexOf(state.dec), pages = Math.max(1, Math.ceil(list.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const tb = $("utts").tBodies[0]; tb.textContent = "";
  $("h-dec").textContent = state.dec + " WER %";
  list.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(u => {
    const d = uwer(u, di) - uwer(u, BI);
    const tr = el("tr", {class: "utt", "data-id": u[0]},
      el("td", {class: "l", text: u[0]}), el("td", {text: u[1].toFixed(2)}), el("td", {text: String(u[4])}),
      el("td", {text: pct(uwer(u, BI))}), el("td", {text: pct(uwer(u, di))}),
      el("td", {class: d > 0 ? "pos" : d < 0 ? "neg" : "", text: d === 0 ? "0" : (d > 0 ? "+" : "") + (100 * d).toFixed(1)}),
      el("td", {class: "ref l", text: u[3], title: u[3]}));
    tr.addEventListener("click", () => { if (state.open.has(u[0])) state.open.delete(u[0]); else state.open.add(u[0]); renderUtts(); });
    tb.appendChild(tr);
    if (state.open.has(u[0])) tb.appendChild(detailRow(u));
  });
  $("count").textContent = list.length + " of " + U.length + " utterances";
  $("page").textContent = "page " + (state.page + 1) + " of " + pages;
  $("prev").disabled = state.page === 0; $("next").disabled = state.page >= pages - 1;
}
function openUtterance(id) {
  state.q = ""; $("search").value = ""; state.disagree = false; $("disagree").checked = false;
  const list = filtered(), pos = list.findIndex(u => u[0] === id);
  state.page = Math.max(0, Math.floor(pos / PAGE)); state.open.add(id); renderUtts();
  const row = document.querySelector('#utts tr.utt[data-id="' + CSS.escape(id) + '"]'); if (row) row.scrollIntoView({block: "center"});
}
$("dec").value = state.dec;
$("dec").addEventListener("change", () => selectDecoder($("dec").value));
$("sort").addEventListener("change", () => { state.sort = $("sort").value; state.page = 0; renderUtts(); });
$("disagree").addEventListener("change", () => { state.disagree = $("disagree").checked; state.page = 0; renderUtts(); });
$("search").addEventListener("input", () => { state.q = $("search").value; state.page = 0; renderUtts(); });
$("prev").addEventListener("click", () => { state.page--; renderUtts(); });
$("next").addEventListener("click", () => { state.page++; renderUtts(); });

// ---------------------------------------------------------------- error tables
function table(head, body) {
  const t = el("table", null, el("thead", null, el("tr", null, ...head.map((h, i) => el("th", {class: i < head.length - 1 ? "l" : "", text: h})))));
  const tb = el("tbody"); body.forEach(r => tb.appendChild(el("tr", null, ...r.map((c, i) => el("td", {class: i < r.length - 1 ? "l" : "", text: String(c)}))))); t.appendChild(tb);
  if (!body.length) tb.appendChild(el("tr", null, el("td", {class: "l note", colspan: head.length, text: "none"})));
  return t;
}
L.forEach(l => {
  const det = D.details[l], r = rows[l];
  const card = el("div", {class: "card errors", "data-decoder": l}, el("h3", {text: l + " (S " + r.substitutions + ", D " + r.deletions + ", I " + r.insertions + ")"}));
  card.appendChild(el("h3", {text: "top confusion pairs"})); card.appendChild(table(["reference", "hypothesis", "count"], det.confusions));
  const d1 = el("details", null, el("summary", {text: "inserted words (" + det.insertions.length + ")"}), table(["word", "count"], det.insertions));
  const d2 = el("details", null, el("summary", {text: "deleted words (" + det.deletions.length + ")"}), table(["word", "count"], det.deletions));
  card.appendChild(d1); card.appendChild(d2); $("errors").appendChild(card);
});

// ---------------------------------------------------------------- LM diagnostics
(function () {
  const box = $("lm"), lm = D.lm;
  if (!lm.path) { box.appendChild(el("p", {class: "note", text: "This run used no language model."})); return; }
  box.appendChild(el("p", null, "LM: ", el("code", {text: lm.path}), lm.lm_words !== null ? " (" + lm.lm_words + " words, " + (lm.case || "no") + " case, " + (lm.has_unk === false ? "no <unk>" : "with <unk>") + ")" : ""));
  if (lm.oov_rate !== null) {
    box.appendChild(el("p", {class: "big", text: "OOV rate of the references: " + pct(lm.oov_rate) + " % (" + lm.oov_types + " distinct OOV words)"}));
    const t = table(["decoder", "share of reference-word errors on OOV words"], L.map(l => [l, rows[l].oov_error_share === null ? "–" : pct(rows[l].oov_error_share) + " %"]));
    box.appendChild(t);
    if (lm.oov_words.length) { box.appendChild(el("h3", {text: "most frequent OOV reference words"})); box.appendChild(chips(lm.oov_words.slice(0, 30), "")); }
  }
  if (lm.warnings.length) lm.warnings.forEach(w => box.appendChild(el("div", {class: "warn", text: "⚠ " + w})));
  else box.appendChild(el("p", {class: "ok", text: "No mismatch found between the LM and the vocabulary (letter case, punctuation, digits, character-level LM, <unk>)."}));
})();

drawChart();
renderUtts();
})();
"""
