#!/usr/bin/env python3
"""Build the text side of the default data set from the World English Bible.

Source: Debian packages ``sword-text-web`` (module ``engWEB2015eb``, World
English Bible, public domain) read with ``diatheke``.

Outputs (deterministic for a given --seed):
  <scratch>/text/train.txt    sentences for acoustic-model training (UPPERCASE)
  <scratch>/text/dev.txt      small dev set to monitor training (UPPERCASE)
  <out_eval>/sentences.txt    the held-out sentences (UPPERCASE, id<TAB>text)
  <lm_corpus>                 lowercase LM corpus: never contains a held-out
                              sentence (not even as a word-substring)

Usage:
  python training/make_corpus.py --scratch /work/scratch \
      --lm-corpus ctcdecode_kit/data/default/lm_corpus.txt --seed 1234
"""
import argparse
import os
import random
import re
import subprocess

MODULE = "engWEB2015eb"
REF_RE = re.compile(r"^\s*((?:[1-4] |I{1,3} |IV )?[A-Z][A-Za-z ]*? \d+:\d+):\s(.*)$")
TAG_RE = re.compile(r"<[^>]*>")
TITLE_RE = re.compile(r"<title[^>]*>.*?</title>", re.S)
NOTE_RE = re.compile(r"<note[^>]*>.*?</note>", re.S)


def dump_verses(module=MODULE):
    raw = subprocess.run(
        ["diatheke", "-b", module, "-k", "Gen 1:1 - Rev 22:21"],
        check=True, capture_output=True, text=True).stdout
    verses = []
    for line in raw.splitlines():
        line = TITLE_RE.sub(" ", line)
        line = NOTE_RE.sub(" ", line)
        # word tags may be glued together (<w>God</w><w>created</w>): a tag is a space
        line = TAG_RE.sub(" ", line)
        m = REF_RE.match(line)
        if not m:
            continue
        verses.append((m.group(1), m.group(2)))
    return verses


def normalise_piece(text):
    """Uppercase, keep A-Z, word-internal apostrophes and single spaces."""
    t = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    t = t.upper()
    t = re.sub(r"[\-\u2014\u2013/]", " ", t)
    t = re.sub(r"[^A-Z' ]", " ", t)
    # apostrophe only between two letters (GOD'S, DON'T); quote marks go
    t = re.sub(r"(?<![A-Z])'|'(?![A-Z])", " ", t)
    return " ".join(t.split())


def split_verse(text, min_w=4, max_w=16):
    """Split a verse at sentence punctuation, then at commas if still too long."""
    if re.search(r"\d", text):
        # drop verses with digits entirely (numbers are not spelled out)
        return []
    out = []
    for sent in re.split(r"(?<=[.!?;:])\s+", text):
        words = normalise_piece(sent).split()
        if len(words) <= max_w:
            chunks = [sent]
        else:
            # greedy comma split into pieces of <= max_w words
            chunks, cur = [], ""
            for part in re.split(r"(?<=,)\s+", sent):
                cand = (cur + " " + part).strip()
                if cur and len(normalise_piece(cand).split()) > max_w:
                    chunks.append(cur)
                    cur = part
                else:
                    cur = cand
            if cur:
                chunks.append(cur)
        for c in chunks:
            n = normalise_piece(c)
            if min_w <= len(n.split()) <= max_w:
                out.append(n)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scratch", default="/work/scratch")
    ap.add_argument("--lm-corpus", default="ctcdecode_kit/data/default/lm_corpus.txt")
    ap.add_argument("--eval-dir", default="ctcdecode_kit/data/default/eval")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--n-eval", type=int, default=100)
    ap.add_argument("--n-dev", type=int, default=200)
    ap.add_argument("--n-train", type=int, default=24000)
    ap.add_argument("--n-lm", type=int, default=25000)
    args = ap.parse_args()

    verses = dump_verses()
    print(f"verses: {len(verses)}")
    sents = []
    seen = set()
    for _, text in verses:
        for s in split_verse(text):
            if s not in seen:
                seen.add(s)
                sents.append(s)
    print(f"unique sentences (4-16 words, no digits): {len(sents)}")
    rng = random.Random(args.seed)
    order = list(range(len(sents)))
    rng.shuffle(order)
    sents = [sents[i] for i in order]

    # held-out eval: 6-16 words
    held, rest = [], []
    for s in sents:
        if len(held) < args.n_eval and 6 <= len(s.split()) <= 16:
            held.append(s)
        else:
            rest.append(s)
    held_pad = [" " + h + " " for h in held]

    def contains_heldout(s):
        p = " " + s + " "
        return any(h in p for h in held_pad)

    rest = [s for s in rest if not contains_heldout(s)]
    dev = rest[: args.n_dev]
    pool = rest[args.n_dev:]
    train = pool[: args.n_train]
    lm = rest[: args.n_lm]  # dev + train sentences (+ more): never held-out

    os.makedirs(os.path.join(args.scratch, "text"), exist_ok=True)
    with open(os.path.join(args.scratch, "text", "train.txt"), "w") as f:
        f.write("\n".join(train) + "\n")
    with open(os.path.join(args.scratch, "text", "dev.txt"), "w") as f:
        f.write("\n".join(dev) + "\n")
    os.makedirs(args.eval_dir, exist_ok=True)
    with open(os.path.join(args.scratch, "text", "heldout.txt"), "w") as f:
        for i, h in enumerate(held):
            f.write(f"web-{i:04d}\t{h}\n")
    os.makedirs(os.path.dirname(args.lm_corpus) or ".", exist_ok=True)
    with open(args.lm_corpus, "w") as f:
        f.write("\n".join(s.lower() for s in lm) + "\n")
    lm_vocab = {w for s in lm for w in s.split()}
    held_words = [w for s in held for w in s.split()]
    oov = sum(w not in lm_vocab for w in held_words)
    print(f"train={len(train)} dev={len(dev)} heldout={len(held)} lm={len(lm)} "
          f"lm_words={sum(len(s.split()) for s in lm)} lm_vocab={len(lm_vocab)} "
          f"heldout_oov={oov}/{len(held_words)}")


if __name__ == "__main__":
    main()
