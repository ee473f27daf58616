#!/usr/bin/env python3
"""Build an English word n-gram LM from the World English Bible (public domain).

The text comes from Debian's ``sword-text-web`` package, read with ``diatheke``
(package ``diatheke``): ``apt-get install sword-text-web diatheke``. Verses are split
into sentences, normalised to the letters and apostrophe a wav2vec2 vocabulary can
spell, every 100th sentence is held out, and :func:`ctcdecode_kit.lm.build_arpa`
writes a modified Kneser-Ney ARPA model. The held-out perplexity is measured with
:class:`ctcdecode_kit.lm.KenLM`. When KenLM's ``build_binary`` is on the PATH (or given
with ``--build-binary``) the ARPA file is also converted to a KenLM binary; otherwise
that step is skipped with a note on how to get the tool (see README.md beside this file).

Usage:
    python lm/recipes/build_bible_lm.py --out-dir /tmp/bible-lm --order 3
    python lm/recipes/build_bible_lm.py --out-dir /tmp/bible-lm --text my_corpus.txt   # any text file
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

MODULE = "engWEB2015eb"  # the SWORD module installed by sword-text-web
_VERSE = re.compile(r"\d+:\d+: ?(.*)$")  # "Genesis 1:1: text"; diatheke may repeat a heading before it
_GLOSSARY_GAP = re.compile(r" {8,}")
_NOTE = re.compile(r"<note\b.*?</note>", re.S)
_TAG = re.compile(r"<[^>]+>")
_SENTENCE_END = re.compile(r"[.!?;:]+")
_NOT_SPELLABLE = re.compile(r"[^A-Za-z' ]+")


def read_bible(diatheke: str = "diatheke") -> list[str]:
    """Verse texts of the whole World English Bible, markup removed."""
    if shutil.which(diatheke) is None:
        sys.exit(f"'{diatheke}' not found: apt-get install diatheke sword-text-web (or pass --text FILE)")
    result = subprocess.run(
        [diatheke, "-b", MODULE, "-f", "OSIS", "-k", "Gen-Rev"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or "Genesis 1:1" not in result.stdout:
        sys.exit(f"diatheke could not read module {MODULE} (apt-get install sword-text-web): {result.stderr[:300]}")
    verses = []
    for line in result.stdout.splitlines():
        match = _VERSE.search(line)
        if match is None:
            continue  # the module name, the glossary appended after Revelation 22:21
        text = _GLOSSARY_GAP.split(match.group(1))[0]  # the glossary follows Revelation 22:21
        text = _NOTE.sub(" ", text)
        text = text.replace("</w>", "</w> ")  # adjacent <w> elements are separate words
        verses.append(_TAG.sub(" ", text))
    return verses


def sentences_from(texts: list[str]) -> list[str]:
    """Split on sentence punctuation; keep letters and apostrophes; lowercase."""
    sentences = []
    for text in texts:
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("-", " ")
        for piece in _SENTENCE_END.split(text):
            words = [w.strip("'") for w in _NOT_SPELLABLE.sub(" ", piece).lower().split()]
            words = [w for w in words if w]
            if words:
                sentences.append(" ".join(words))
    return sentences


def held_out_perplexity(lm, sentences: list[str]) -> float:
    log_prob = sum(lm.score_sentence(s) for s in sentences)
    tokens = sum(len(s.split()) + 1 for s in sentences)  # words and </s>
    return math.exp(-log_prob / tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for corpus, ARPA and binary files")
    parser.add_argument("--order", type=int, default=3, help="n-gram order (2..6)")
    parser.add_argument("--prune-singletons", action="store_true", help="drop n-grams (n >= 2) seen once")
    parser.add_argument("--text", type=Path, help="use this text file (one sentence per line) instead of the Bible")
    parser.add_argument("--build-binary", default="build_binary", help="KenLM's build_binary tool (name or path)")
    args = parser.parse_args(argv)

    from ctcdecode_kit.lm import KenLM, build_arpa

    args.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.text is not None:
        sentences = sentences_from(args.text.read_text(encoding="utf-8").splitlines())
    else:
        sentences = sentences_from(read_bible())
    train = [s for i, s in enumerate(sentences) if i % 100 != 99]
    test = [s for i, s in enumerate(sentences) if i % 100 == 99]
    corpus = args.out_dir / "corpus.txt"
    corpus.write_text("\n".join(train) + "\n", encoding="utf-8")
    (args.out_dir / "heldout.txt").write_text("\n".join(test) + "\n", encoding="utf-8")
    print(f"text: {len(train)} training sentences, {len(test)} held out ({time.perf_counter() - started:.1f} s)")

    arpa = args.out_dir / f"{args.order}gram.arpa"
    stats = build_arpa(corpus, arpa, order=args.order, prune_singletons=args.prune_singletons)
    print(
        f"build_arpa: {stats.words} words, vocabulary {stats.vocabulary_size}, n-grams {stats.counts}, "
        f"{stats.seconds:.1f} s -> {arpa} ({arpa.stat().st_size / 1e6:.1f} MB)"
    )
    started = time.perf_counter()
    lm = KenLM(arpa)
    print(f"KenLM load: {time.perf_counter() - started:.2f} s; held-out perplexity {held_out_perplexity(lm, test):.1f}")

    tool = shutil.which(args.build_binary)
    if tool is None:
        print(
            f"'{args.build_binary}' not found: skipping the KenLM binary. To get it: "
            "pip download kenlm --no-binary kenlm --no-deps; tar xzf kenlm-*.tar.gz; "
            "cd kenlm-*/ && ./compile_query_only.sh   (bin/build_binary; needs g++)"
        )
        return 0
    binary = arpa.with_suffix(".bin")
    subprocess.run([tool, "trie", str(arpa), str(binary)], check=True, capture_output=True)
    started = time.perf_counter()
    fast = KenLM(binary)
    print(
        f"build_binary: {binary} ({binary.stat().st_size / 1e6:.1f} MB), loads in "
        f"{time.perf_counter() - started:.3f} s, {len(fast.unigrams or ())} unigrams read back"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
