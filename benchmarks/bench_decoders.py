"""Speed, memory and agreement of the native beam search against its peers (issue 7).

Inputs: the real wav2vec2-base-960h logits in ../shared/data/wav2vec2-logits plus a batch
of noisy copies (Gaussian noise on the raw logits, fixed seed, so hypotheses differ), and
the real LibriSpeech 3-gram LM ../shared/data/librispeech-lm/3-gram.pruned.arpa.

Peers in the same run, timed interleaved chunk by chunk (the machine is shared, so only
ratios measured side by side mean anything): pyctcdecode, ctc-beam-decoder, flashlight-text
(lexicon-free without LM; with the LM its lexicon decoder over librispeech-lm/words.lst,
a different search, so its agreement is not "equal settings"), and our greedy decoder.

Reported per beam width and with/without LM: ms per utterance, real-time factor (audio
seconds = frames / 50), agreement of the top hypothesis with pyctcdecode, WER against the
LibriSpeech reference; then the native speed levers one by one, the 1-vs-2-thread batch
speedup and the peak memory of each decoder (fresh subprocess each).

    python benchmarks/bench_decoders.py                       # full run (< 5 min)
    python benchmarks/bench_decoders.py --quick               # 16 utterances, width 100 only
    python benchmarks/bench_decoders.py --utterances 32 --widths 10 100 --no-memory
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LOGITS = SHARED / "wav2vec2-logits"
LM_PATH = SHARED / "librispeech-lm" / "3-gram.pruned.arpa"
EXACT = "pyctcdecode"  # native lm_rules that reproduce the pyctcdecode library (agreement rows)
LEXICON = SHARED / "librispeech-lm" / "words.lst"
FRAME_RATE = 50.0
ALPHA, BETA = 0.5, 1.0


_REPORT: list[str] = []


def say(*parts: object, flush: bool = True) -> None:
    """Print and keep the line for --markdown."""
    line = " ".join(str(p) for p in parts)
    _REPORT.append(line)
    print(line, flush=flush)


# ---------------------------------------------------------------- data
def load_inputs(count: int, noise: float, seed: int):
    import torch

    from ctcdecode_kit import Vocabulary

    vocab = Vocabulary.from_file(LOGITS / "vocab.json")
    raw = np.load(LOGITS / "121-121726-0000.npy")[0]
    reference = (LOGITS / "trans.txt").read_text().splitlines()[0].split("\t", 1)[1].strip()
    rng = np.random.default_rng(seed)
    noisy = [raw] + [raw + rng.normal(0, noise, raw.shape).astype(np.float32) for _ in range(count - 1)]
    log_probs = [np.ascontiguousarray(torch.log_softmax(torch.from_numpy(x), -1).numpy()) for x in noisy]
    return vocab, log_probs, reference


def labels_for(vocab, case):
    from ctcdecode_kit.labels import pyctcdecode_labels

    return pyctcdecode_labels(vocab, case)


def normalise(text: str) -> str:
    """Upper case, single spaces, without the private-use stand-ins of special tokens."""
    return " ".join("".join(c for c in text if not 0xE000 <= ord(c) < 0xF000).upper().split())


def collapse(tokens, blank: int) -> list[int]:
    return [t for t, _ in itertools.groupby(tokens) if t != blank and t >= 0]


# ---------------------------------------------------------------- decoders: name -> (utterance -> text)
def make_decoders(vocab, width: int, use_lm: bool, peers: list[str]) -> dict[str, Callable[[np.ndarray], str]]:
    from ctcdecode_kit import build_decoder

    lm = str(LM_PATH) if use_lm else None
    case = "lower" if use_lm else None
    labels = labels_for(vocab, case)
    out: dict[str, Callable[[np.ndarray], str]] = {}
    if "pyctcdecode" in peers:
        import logging

        logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
        from pyctcdecode import build_ctcdecoder

        pyc = build_ctcdecoder(labels, kenlm_model_path=lm, alpha=ALPHA, beta=BETA)
        out["pyctcdecode"] = lambda lp: pyc.decode_beams(lp, beam_width=width)[0][0]
    if "ctc-beam-decoder" in peers:
        try:
            import ctc_beam_decoder

            cbd = ctc_beam_decoder.build_ctcdecoder(labels, kenlm_model_path=lm, alpha=ALPHA, beta=BETA)
            out["ctc-beam-decoder"] = lambda lp: cbd.decode_beams(lp, beam_width=width)[0][0]
        except Exception as exc:  # noqa: BLE001 - report and go on
            say(f"  ctc-beam-decoder unavailable: {type(exc).__name__}: {exc}")
    if "flashlight" in peers:
        try:
            out["flashlight"] = make_flashlight(vocab, width, use_lm)
        except Exception as exc:  # noqa: BLE001
            say(f"  flashlight-text unavailable: {type(exc).__name__}: {exc}")
    native = build_decoder("native", vocab, beam_width=width, lm=lm, alpha=ALPHA, beta=BETA, num_workers=1,
                           lm_rules=EXACT)
    out["native"] = lambda lp: native.decode(lp)[0][0].text
    if use_lm:  # the kit's fusion rules (the default; all unigrams known, unweighted OOV offset)
        kit = build_decoder("native", vocab, beam_width=width, lm=lm, alpha=ALPHA, beta=BETA, num_workers=1,
                            lm_rules="kit")
        out["native lm_rules=kit"] = lambda lp: kit.decode(lp)[0][0].text
    if "greedy" in peers:
        greedy = build_decoder("greedy", vocab)
        out["greedy"] = lambda lp: greedy.decode(lp)[0][0].text
    return out


_FLASHLIGHT_TRIE: dict = {}


def make_flashlight(vocab, width: int, use_lm: bool) -> Callable[[np.ndarray], str]:
    from flashlight.lib.text import decoder as fl
    from flashlight.lib.text.dictionary import create_word_dict, load_words

    blank, sil = vocab.blank, vocab.word_delimiter
    V = len(vocab)
    if not use_lm:
        options = fl.LexiconFreeDecoderOptions(
            beam_size=width, beam_size_token=V, beam_threshold=25.0, lm_weight=0.0, sil_score=0.0,
            log_add=True, criterion_type=fl.CriterionType.CTC,
        )
        decoder = fl.LexiconFreeDecoder(options, fl.ZeroLM(), sil, blank, [])

        def run(lp: np.ndarray) -> str:
            result = decoder.decode(lp.ctypes.data, lp.shape[0], V)[0]
            return vocab.text(collapse(result.tokens, blank))

        return run
    if "trie" not in _FLASHLIGHT_TRIE:
        lexicon = load_words(str(LEXICON))
        word_dict = create_word_dict(lexicon)
        lm = fl.KenLM(str(LM_PATH), word_dict)
        index = {t: i for i, t in enumerate(vocab.tokens)}
        trie = fl.Trie(V, sil)
        start = lm.start(False)
        for word, spellings in lexicon.items():
            word_id = word_dict.get_index(word)
            _, score = lm.score(start, word_id)
            for spelling in spellings:
                letters: list[str] = []
                for piece in spelling:
                    letters.append(letters[-1] if piece == "1" and letters else piece)
                ids = [index.get(p.upper(), index.get(p)) for p in letters]
                if all(i is not None for i in ids):
                    trie.insert(ids, word_id, score)
        trie.smear(fl.SmearingMode.MAX)
        _FLASHLIGHT_TRIE.update(trie=trie, lm=lm, word_dict=word_dict, unk=word_dict.get_index("<unk>"))
    t = _FLASHLIGHT_TRIE
    options = fl.LexiconDecoderOptions(
        beam_size=width, beam_size_token=V, beam_threshold=25.0, lm_weight=ALPHA * math.log(10), word_score=BETA,
        unk_score=-math.inf, sil_score=0.0, log_add=False, criterion_type=fl.CriterionType.CTC,
    )
    decoder = fl.LexiconDecoder(options, t["trie"], t["lm"], sil, blank, t["unk"], [], False)

    def run_lexicon(lp: np.ndarray) -> str:
        result = decoder.decode(lp.ctypes.data, lp.shape[0], V)[0]
        return " ".join(t["word_dict"].get_entry(w) for w in result.words if w >= 0)

    return run_lexicon


# ---------------------------------------------------------------- measurement
def interleaved(decoders: dict[str, Callable], log_probs: list[np.ndarray], limits: dict[str, int], chunk: int = 4):
    """Run every decoder chunk by chunk in rotation; return {name: (seconds, frames, texts)}."""
    times = {n: 0.0 for n in decoders}
    frames = {n: 0 for n in decoders}
    texts: dict[str, list[str]] = {n: [] for n in decoders}
    for decode in decoders.values():  # warm-up (first-call allocations, lazy imports)
        decode(log_probs[0])
    for start in range(0, len(log_probs), chunk):
        for name, decode in decoders.items():
            part = log_probs[start : min(start + chunk, limits.get(name, len(log_probs)))]
            if not part:
                continue
            t0 = time.perf_counter()
            out = [decode(lp) for lp in part]
            times[name] += time.perf_counter() - t0
            frames[name] += sum(lp.shape[0] for lp in part)
            texts[name] += [normalise(o) for o in out]
    return {n: (times[n], frames[n], texts[n]) for n in decoders}


def agreement(texts: list[str], reference: list[str]) -> float:
    n = min(len(texts), len(reference))
    return sum(a == b for a, b in zip(texts[:n], reference[:n])) / n if n else float("nan")


def wer(texts: list[str], reference: str) -> float:
    import jiwer

    return jiwer.wer([reference] * len(texts), texts) if texts else float("nan")


def load_note() -> str:
    la = os.getloadavg()
    return f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count()} CPUs"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# ---------------------------------------------------------------- sections
def bench_peers(args, vocab, log_probs, reference, results):
    rows = [["LM", "width", "decoder", "ms/utt", "RTF", "agree w/ pyctcdecode", "WER", "native faster by"]]
    for use_lm in (False, True) if not args.no_lm_only else (False,):
        for width in args.widths:
            decoders = make_decoders(vocab, width, use_lm, args.peers)
            limits = {"pyctcdecode": args.pyctcdecode_utterances}
            runs = interleaved(decoders, log_probs, limits)
            ref_texts = runs["pyctcdecode"][2] if "pyctcdecode" in runs else []
            native_ms = runs["native"][0] / max(1, len(runs["native"][2])) * 1000
            for name, (seconds, frames, texts) in runs.items():
                ms = seconds / max(1, len(texts)) * 1000
                rtf = seconds / (frames / FRAME_RATE) if frames else float("nan")
                agree = agreement(texts, ref_texts)
                row = {"lm": use_lm, "width": width, "decoder": name, "ms_per_utt": ms, "rtf": rtf,
                       "agreement": agree, "wer": wer(texts, reference), "utterances": len(texts),
                       "native_speedup": ms / native_ms}
                results["peers"].append(row)
                rows.append([
                    "yes" if use_lm else "no", str(width), name, f"{ms:.2f}", f"{rtf:.5f}",
                    f"{agree * 100:.1f}%", f"{row['wer'] * 100:.1f}%", f"{ms / native_ms:.1f}x",
                ])
            say(f"- done LM={use_lm} width={width} ({load_note()})", flush=True)
    say(table(rows))


def bench_levers(args, vocab, log_probs, results):
    from ctcdecode_kit import build_decoder

    width = max(args.widths)
    rows = [["LM", "lever", "ms/utt", "speedup vs default", "agree w/ exact default (= pyctcdecode)"]]
    for use_lm in (False, True):
        lm = str(LM_PATH) if use_lm else None
        variants = {
            "default (exact)": {},
            "token_top_k=3": {"token_top_k": 3},
            "token_top_k=2": {"token_top_k": 2},
            "blank_skip_threshold=0.999": {"blank_skip_threshold": 0.999},
            "blank_skip_threshold=0.95": {"blank_skip_threshold": 0.95},
            "beam_prune_logp=-5": {"beam_prune_logp": -5.0},
            "lm_cache=False": {"lm_cache": False},
        }
        decoders = {}
        for name, options in variants.items():
            d = build_decoder("native", vocab, beam_width=width, lm=lm, alpha=ALPHA, beta=BETA, num_workers=1,
                              lm_rules=EXACT, **options)
            decoders[name] = (lambda dd: (lambda lp: dd.decode(lp)[0][0].text))(d)
        runs = interleaved(decoders, log_probs * args.lever_rounds, {})
        base_ms = runs["default (exact)"][0] / len(runs["default (exact)"][2]) * 1000
        base_texts = runs["default (exact)"][2]
        for name, (seconds, _frames, texts) in runs.items():
            ms = seconds / len(texts) * 1000
            agree = agreement(texts, base_texts)
            results["levers"].append({"lm": use_lm, "width": width, "lever": name, "ms_per_utt": ms,
                                      "speedup": base_ms / ms, "agreement_with_default": agree})
            rows.append(["yes" if use_lm else "no", name, f"{ms:.3f}", f"{base_ms / ms:.2f}x", f"{agree * 100:.1f}%"])
    say(table(rows))


def bench_threads(args, vocab, log_probs, results):
    """Whole batch through the public API, num_workers=1 vs 2, alternating, best of N (wall and CPU)."""
    from ctcdecode_kit import build_decoder

    width = max(args.widths)
    batch = np.stack(log_probs)
    rows = [["LM", "1 thread wall s", "2 threads wall s", "speedup (wall)", "CPU s 1 / 2 threads"]]
    for use_lm in (False, True):
        lm = str(LM_PATH) if use_lm else None
        decoders = {n: build_decoder("native", vocab, beam_width=width, lm=lm, num_workers=n, lm_rules=EXACT)
                    for n in (1, 2)}
        for dec in decoders.values():
            dec.decode(batch[:4])
        wall = {1: math.inf, 2: math.inf}
        cpu = {1: math.inf, 2: math.inf}
        for _ in range(args.thread_repeats):
            for n, dec in decoders.items():
                t0, c0 = time.perf_counter(), time.process_time()
                dec.decode(batch)
                wall[n] = min(wall[n], time.perf_counter() - t0)
                cpu[n] = min(cpu[n], time.process_time() - c0)
        results["threads"].append({"lm": use_lm, "width": width, "batch": len(batch), "one": wall[1], "two": wall[2],
                                   "speedup": wall[1] / wall[2], "cpu_one": cpu[1], "cpu_two": cpu[2],
                                   "load": load_note()})
        rows.append(["yes" if use_lm else "no", f"{wall[1]:.4f}", f"{wall[2]:.4f}", f"{wall[1] / wall[2]:.2f}x",
                     f"{cpu[1]:.3f} / {cpu[2]:.3f}"])
    say(table(rows))


MEMORY_CHILD = r"""
import json, os, sys, threading, time
sys.path.insert(0, sys.argv[3])
import numpy as np
import bench_decoders as b
name, width = sys.argv[1], int(sys.argv[2])
vocab, log_probs, _ = b.load_inputs(16, 3.0, 0)
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
base = rss(); peak = [base]; stop = []
def sample():
    while not stop:
        peak[0] = max(peak[0], rss()); time.sleep(0.002)
th = threading.Thread(target=sample, daemon=True); th.start()
if name == "native":
    from ctcdecode_kit import build_decoder
    native = build_decoder("native", vocab, beam_width=width, lm=str(b.LM_PATH), num_workers=1, lm_rules=b.EXACT)
    decode = lambda lp: native.decode(lp)
else:
    decode = b.make_decoders(vocab, width, True, [name])[name]
for lp in log_probs:
    decode(lp)
peak[0] = max(peak[0], rss()); stop.append(1); th.join()
print(json.dumps({"decoder": name, "peak_mb": (peak[0] - base) / 2**20}))
"""


def bench_memory(args, results):
    rows = [["decoder (width 100, LM)", "peak RSS growth MB"]]
    here = str(Path(__file__).resolve().parent)
    for name in ["pyctcdecode", "ctc-beam-decoder", "flashlight", "native"]:
        if name != "native" and name not in args.peers:
            continue
        proc = subprocess.run([sys.executable, "-c", MEMORY_CHILD, name, "100", here], capture_output=True, text=True)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not line:
            rows.append([name, f"failed: {proc.stderr.strip().splitlines()[-1:]}"])
            continue
        data = json.loads(line[-1])
        results["memory"].append(data)
        rows.append([name, f"{data['peak_mb']:.1f}"])
    say(table(rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=64, help="batch size (1 clean + noisy copies)")
    parser.add_argument("--widths", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--noise", type=float, default=3.0, help="std of the Gaussian noise on the raw logits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peers", nargs="+", default=["pyctcdecode", "ctc-beam-decoder", "flashlight", "greedy"])
    parser.add_argument("--pyctcdecode-utterances", type=int, default=None, help="decode only the first N with pyctcdecode")
    parser.add_argument("--thread-repeats", type=int, default=5)
    parser.add_argument("--lever-rounds", type=int, default=2, help="passes over the batch per lever")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-lm-only", action="store_true", help="skip the LM configurations")
    parser.add_argument("--quick", action="store_true", help="16 utterances, width 100, no memory section")
    parser.add_argument("--json", type=Path, help="also write all numbers here")
    parser.add_argument("--markdown", type=Path, help="also write the report (with the command line) here")
    args = parser.parse_args(argv)
    if args.quick:
        args.utterances, args.widths, args.no_memory = 16, [100], True
    if args.pyctcdecode_utterances is None:
        args.pyctcdecode_utterances = args.utterances

    started = time.perf_counter()
    say(f"# bench_decoders: {args.utterances} utterances, widths {args.widths}, noise {args.noise}, {load_note()}")
    vocab, log_probs, reference = load_inputs(args.utterances, args.noise, args.seed)
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "peers": [], "levers": [], "threads": [],
                     "memory": [], "load_start": load_note()}
    say("\n## Peers (single thread, interleaved)")
    bench_peers(args, vocab, log_probs, reference, results)
    say(f"\n## Native speed levers (width {max(args.widths)}, agreement with the exact default)")
    bench_levers(args, vocab, log_probs, results)
    say(f"\n## Batch of {len(log_probs)} on 1 vs 2 threads (width {max(args.widths)}; {load_note()})")
    bench_threads(args, vocab, log_probs, results)
    if not args.no_memory:
        say("\n## Peak memory (fresh subprocess each, 16 utterances)")
        bench_memory(args, results)
    results["load_end"] = load_note()
    results["seconds"] = time.perf_counter() - started
    say(f"\n# total {results['seconds']:.0f} s; {load_note()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.markdown:
        import platform

        import numpy

        command = "python benchmarks/bench_decoders.py " + " ".join(argv if argv is not None else sys.argv[1:])
        header = [
            f"Command: `{command.strip()}`",
            "",
            f"Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, numpy {numpy.__version__}; {results['load_start']} at the start, "
            f"{results['load_end']} at the end.",
            "",
        ]
        args.markdown.write_text("\n".join(header + _REPORT) + "\n")


if __name__ == "__main__":
    main()
