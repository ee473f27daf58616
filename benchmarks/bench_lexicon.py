"""Lexicon-constrained decoding: the native decoder against flashlight-text's LexiconDecoder (issue 16).

Inputs: bench_decoders' noisy batch (the real wav2vec2 logits plus noisy copies, noise std
3.0, seed 0), the lexicon ../shared/data/librispeech-lm/words.lst (26.7 k words; it lacks
"contrivance", so every utterance has at least one error: WER >= 1/17 = 5.9 %) and the
LibriSpeech 3-gram. Both decoders get the same lexicon, the same LM, the same weights
(flashlight's lm_weight = alpha * ln 10 on KenLM's log10 scores, word_score = beta), no
unknown words, and flashlight's smearing (SmearingMode.MAX, as torchaudio does) against our
``lm_lookahead``. Both run single-threaded; they are timed interleaved chunk by chunk in the
same process (the machine is shared: only the ratio means anything).

    python benchmarks/bench_lexicon.py                  # 16 utterances, width 50, small alpha/beta grid
    python benchmarks/bench_lexicon.py --utterances 32 --widths 50 100
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decoders import LM_PATH, SHARED, interleaved, load_inputs, load_note, normalise, say, wer  # noqa: E402

LEXICON = SHARED / "librispeech-lm" / "words.lst"


def flashlight_setup(vocab):
    """Trie, KenLM and word dictionary for flashlight, built the way torchaudio's ctc_decoder does."""
    from flashlight.lib.text import decoder as fl
    from flashlight.lib.text.dictionary import create_word_dict, load_words

    lexicon = load_words(str(LEXICON))
    word_dict = create_word_dict(lexicon)
    lm = fl.KenLM(str(LM_PATH), word_dict)
    index = {t: i for i, t in enumerate(vocab.tokens)}
    trie = fl.Trie(len(vocab), vocab.word_delimiter)
    start = lm.start(False)
    for word, spellings in lexicon.items():
        word_id = word_dict.get_index(word)
        _, score = lm.score(start, word_id)
        for spelling in spellings:
            ids = [index.get(p.upper(), index.get(p)) for p in spelling]
            if all(i is not None for i in ids):
                trie.insert(ids, word_id, score)
    trie.smear(fl.SmearingMode.MAX)
    return fl, trie, lm, word_dict


def make_flashlight(setup, vocab, width: int, alpha: float, beta: float, threshold: float):
    fl, trie, lm, word_dict = setup
    options = fl.LexiconDecoderOptions(
        beam_size=width, beam_size_token=len(vocab), beam_threshold=threshold, lm_weight=alpha * math.log(10),
        word_score=beta, unk_score=-math.inf, sil_score=0.0, log_add=False, criterion_type=fl.CriterionType.CTC,
    )
    decoder = fl.LexiconDecoder(options, trie, lm, vocab.word_delimiter, vocab.blank, word_dict.get_index("<unk>"), [], False)

    def run(lp: np.ndarray) -> str:
        result = decoder.decode(lp.ctypes.data, lp.shape[0], len(vocab))[0]
        return " ".join(word_dict.get_entry(w) for w in result.words if w >= 0)

    return run


def make_native(vocab, lexicon, width: int, alpha: float, beta: float, lookahead: bool):
    from ctcdecode_kit import build_decoder

    decoder = build_decoder(
        "native", vocab, lexicon=lexicon, lm=str(LM_PATH), alpha=alpha, beta=beta, beam_width=width,
        lm_lookahead=lookahead, num_workers=1,
    )
    return lambda lp: decoder.decode(lp)[0][0].text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--noise", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--widths", type=int, nargs="+", default=[50])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--betas", type=float, nargs="+", default=[0.0, 1.5])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[25.0, 10.0],
                        help="flashlight's beam_threshold (25: torchaudio's example; 10: our beam_prune_logp)")
    args = parser.parse_args()

    from ctcdecode_kit.lexicon import Lexicon

    say(f"# bench_lexicon: {args.utterances} utterances, noise {args.noise}, widths {args.widths}, {load_note()}")
    vocab, log_probs, reference = load_inputs(args.utterances, args.noise, args.seed)
    t0 = time.perf_counter()
    lexicon = Lexicon.from_file(LEXICON)
    make_native(vocab, lexicon, 10, 0.5, 1.0, True)(log_probs[0])
    say(f"native: lexicon read, trie and look-ahead built in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    setup = flashlight_setup(vocab)
    say(f"flashlight: lexicon, KenLM and trie built in {time.perf_counter() - t0:.2f} s")
    frames = sum(lp.shape[0] for lp in log_probs)
    say(f"{len(log_probs)} utterances, {frames} frames ({frames / 50:.1f} s of audio at 50 frames/s)")
    say("")
    say("| width | alpha | beta | decoder | WER | ms/utt | speed-up vs the faster flashlight |")
    say("|---:|---:|---:|---|---:|---:|---:|")
    for width in args.widths:
        for alpha in args.alphas:
            for beta in args.betas:
                decoders = {
                    f"flashlight-text LexiconDecoder (threshold {t:g})": make_flashlight(
                        setup, vocab, width, alpha, beta, t
                    )
                    for t in args.thresholds
                }
                decoders.update({
                    "native lexicon (lm_lookahead)": make_native(vocab, lexicon, width, alpha, beta, True),
                    "native lexicon (no look-ahead)": make_native(vocab, lexicon, width, alpha, beta, False),
                })
                results = interleaved(decoders, log_probs, {})
                base = min(results[n][0] for n in results if n.startswith("flashlight"))  # the faster one
                for name, (seconds, _, texts) in results.items():
                    ms = 1000 * seconds / len(log_probs)
                    say(
                        f"| {width} | {alpha} | {beta} | {name} | {100 * wer(texts, normalise(reference)):.1f} % "
                        f"| {ms:.2f} | {base / seconds:.1f}x |"
                    )


if __name__ == "__main__":
    main()
