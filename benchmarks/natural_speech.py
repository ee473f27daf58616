#!/usr/bin/env python3
"""Natural speech offline: hama's ONNX phoneme model on the 9 shared natural utterances.

Runs ``compare`` (the kit's comparison engine, ``ctcdecode_kit.runs.compare``) with hama
1.3.13's phoneme recogniser (``ctcdecode_kit.onnx_model.hama_model``; training data
undocumented, license metadata disagrees: PyPI Apache-2.0, repository MIT) on the four
LibriSpeech utterances of ``../shared/data/librispeech-audio`` and the five LibriVox ones of
``../shared/data/librivox-audio``:

* greedy: phoneme error rate (PER, token edit distance over reference tokens, word
  boundaries left out) against references phonemised by ``espeak-ng --ipa -v en-us`` and
  mapped onto hama's tokens by ``ctcdecode_kit.g2p``'s documented rules; also against
  references phonemised by hama's own G2P (whose quirks the recogniser learnt);
* ``native:lexicon=...`` (lexicon beam, no LM) and ``native+lm:lexicon=...`` (lexicon beam
  with the word LM): WER against the reference words.

The lexicon covers the ``--words`` (80,000) most probable words of the LM (the shared
LibriSpeech 3-gram has 200,000; the rarest reference word, "prynne", ranks 61,585):
espeak-ng pronunciations for each, plus hama-G2P pronunciations for the ``--hama-words``
(1,500) most probable (hama's G2P takes ~0.15 s a word). Phonemisations are
cached (``~/.cache/ctcdecode_kit`` or beside the word list), so reruns are quick.

Usage (needs the ``[onnx]`` extra and ``apt-get install espeak-ng``):
    python benchmarks/natural_speech.py --out /tmp/natural-speech
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jiwer

from ctcdecode_kit import build_decoder
from ctcdecode_kit.datasets import load_dataset
from ctcdecode_kit.g2p import PhonemeMapper, build_lexicon, espeak_ipa, hama_pronunciations
from ctcdecode_kit.lexicon import Lexicon
from ctcdecode_kit.onnx_model import HAMA_NOTE, hama_model
from ctcdecode_kit.runs.compare import plan_comparison, run_comparison
from ctcdecode_kit.runs.logits_cache import utterance_log_probs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HAMA_REFERENCE = "hama's own phoneme-to-text model (hama >= 1.5, no ONNX): 15.9 % WER on the LibriSpeech four, 16.9 % on the LibriVox five"


def lm_words(arpa: Path) -> list[str]:
    """The LM's unigrams, most probable first."""
    probs: dict[str, float] = {}
    section = False
    with open(arpa, encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("\\1-grams:"):
                section = True
                continue
            if section:
                if line.startswith("\\"):
                    break
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2 and parts[1] not in ("<s>", "</s>", "<unk>"):
                    probs[parts[1]] = float(parts[0])
    return sorted(probs, key=lambda w: -probs[w])


def build_natural_lexicon(words: list[str], vocabulary, out: Path, hama_words: int) -> Path:
    """espeak-ng pronunciations of every word plus hama-G2P ones of the first ``hama_words``."""
    out.mkdir(parents=True, exist_ok=True)
    all_words, top_words = out / "words.txt", out / f"words-top{hama_words}.txt"
    all_words.write_text("\n".join(words) + "\n", encoding="utf-8")
    top_words.write_text("\n".join(words[:hama_words]) + "\n", encoding="utf-8")
    entries: dict[str, list[tuple[str, ...]]] = {}
    built = [build_lexicon(all_words, vocabulary, backends=("espeak",))]
    if hama_words:
        built.append(build_lexicon(top_words, vocabulary, backends=("hama",)))
    for part in built:
        print(f"lexicon part: {len(part.lexicon or ())} words mapped, {len(part.unmapped)} unmapped")
        for word, tokens in (part.lexicon.entries if part.lexicon else ()):
            prons = entries.setdefault(word, [])
            if tokens not in prons:
                prons.append(tokens)
    return Lexicon.from_dict(entries).save(out / "lexicon.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/natural-speech"))
    parser.add_argument("--lm", type=Path, default=DATA / "librispeech-lm" / "3-gram.pruned.arpa")
    parser.add_argument("--words", type=int, default=80000, help="lexicon: the LM's N most probable words")
    parser.add_argument("--hama-words", type=int, default=1500, help="of which the first N also get hama-G2P pronunciations")
    parser.add_argument("--beam-width", type=int, default=100)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--beta", type=float, default=1.0)
    args = parser.parse_args()
    began = time.perf_counter()
    print(f"model: {HAMA_NOTE}")
    am = hama_model()
    utterances = [*load_dataset(DATA / "librispeech-audio"), *load_dataset(DATA / "librivox-audio")]
    vocab = am.vocabulary

    # greedy PER: references phonemised by espeak-ng (and by hama's G2P), word boundaries left out
    log_probs = utterance_log_probs(utterances, am, vocab)
    greedy = build_decoder("greedy", vocab)
    hyp_tokens = [
        " ".join(vocab.tokens[t] for t in nbest[0].tokens if t != vocab.word_delimiter)
        for nbest in (greedy.decode(lp)[0] for lp in log_probs)
    ]
    ref_words = [u.reference.lower().split() for u in utterances]
    vocabulary_words = sorted({w for words in ref_words for w in words})
    mapper = PhonemeMapper(vocab)
    espeak = dict(zip(vocabulary_words, (mapper.map(p) for p in espeak_ipa(vocabulary_words))))
    hama_g2p = dict(zip(vocabulary_words, (tuple(p.split()) for p in hama_pronunciations(vocabulary_words))))
    per = {
        name: jiwer.wer([" ".join(t for w in words for t in table[w]) for words in ref_words], hyp_tokens)
        for name, table in (("espeak-ng", espeak), ("hama G2P", hama_g2p))
    }

    lexicon = build_natural_lexicon(lm_words(args.lm)[: args.words], vocab, args.out / "lexicon", args.hama_words)
    specs = ["greedy", f"native:lexicon={lexicon}", f"native+lm:lexicon={lexicon}"]
    plan = plan_comparison(
        utterances, decoders=specs, model=am, lm=args.lm, alpha=args.alpha, beta=args.beta,
        beam_width=args.beam_width, batch_size=1, settings={"data": "librispeech-audio + librivox-audio",
                                                             "model": am.name},
    )
    result = run_comparison(plan, output_dir=args.out / "compare", overwrite=True, report=False)
    rows = {r.decoder: r for r in result.results}
    print(f"\n9 natural utterances ({sum(len(w) for w in ref_words)} words), hama 1.3.13 ONNX, LM {args.lm.name}, "
          f"beam {args.beam_width}, alpha {args.alpha}, beta {args.beta}")
    print("| decoder | PER % (espeak-ng refs) | PER % (hama G2P refs) | WER % |")
    print("|---|---|---|---|")
    print(f"| greedy (phonemes) | {100 * per['espeak-ng']:.1f} | {100 * per['hama G2P']:.1f} | — |")
    for label, name in ((specs[1], "lexicon beam, no LM"), (specs[2], "lexicon beam + word LM")):
        r = rows[label]
        print(f"| {name} | — | — | {100 * r.wer:.1f} |")
    print(f"reference: {HAMA_REFERENCE}")
    summary = {
        "per": per, "wer": {label: rows[label].wer for label in specs[1:]}, "lexicon": str(lexicon),
        "lm": str(args.lm), "words": args.words, "hama_words": args.hama_words, "beam_width": args.beam_width, "alpha": args.alpha,
        "beta": args.beta, "seconds": time.perf_counter() - began, "model_note": HAMA_NOTE,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wall time {summary['seconds']:.0f} s; results in {args.out}")


if __name__ == "__main__":
    main()
