#!/usr/bin/env python3
"""Synthesise 16 kHz speech for sentences with espeak-ng, with voice variety.

Every utterance gets deterministic random parameters (seeded by --seed and the
utterance index): base voice x variant, speed (-s), pitch (-p), word gap (-g),
then resampling 22050 -> 16000 Hz (scipy resample_poly), a slight speed/tempo
perturbation, random gain and additive noise (white / pink-ish / brown-ish) at
a random SNR.

(base voice, variant) combinations are partitioned by a fixed hash: about 15 %
of the combinations are reserved for the held-out eval set (--split eval) and
never used for training (--split train/dev).

Train/dev output: one .npz shard (int16 concatenated audio + offsets) + texts.
Eval output: <id>.flac (16 kHz mono 16-bit) + trans.txt ("<id>\t<TEXT>").

Usage:
  python training/synthesize.py --split train --text /work/scratch/text/train.txt \
      --out /work/scratch/audio/train.npz --n 16000 --seed 1 --jobs 2
  python training/synthesize.py --split eval --text /work/scratch/text/heldout.txt \
      --out ctcdecode_kit/data/default/eval --seed 3 --jobs 2
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import wave
from multiprocessing import Pool

import numpy as np
from scipy.signal import resample_poly

BASE_VOICES = ["en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
               "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
            "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "klatt4", "klatt6",
            "Alex", "Alicia", "Andy", "Annie", "Lee", "Michael", "Mike", "adam", "anika",
            "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward",
            "grandma", "grandpa", "iven", "john", "linda", "max", "michel", "norbert",
            "pablo", "paul", "quincy", "rob", "robert", "sandro", "shelby", "steph",
            "travis", "victor"]
SR = 16000


def combo_is_heldout(base, variant):
    h = int(hashlib.md5(f"{base}+{variant}".encode()).hexdigest(), 16)
    return h % 100 < 15


def combos(split):
    want_heldout = split == "eval"
    return [(b, v) for b in BASE_VOICES for v in VARIANTS
            if combo_is_heldout(b, v) == want_heldout]


def utt_params(seed, idx, split):
    rng = np.random.default_rng([seed, idx])
    cs = combos(split)
    base, variant = cs[rng.integers(len(cs))]
    return dict(
        voice=base + (("+" + variant) if variant else ""),
        speed=int(rng.integers(130, 211)),
        pitch=int(rng.integers(25, 76)),
        gap=int(rng.choice([0, 0, 0, 1, 2, 4])),
        tempo=float(rng.uniform(0.92, 1.08)),
        gain_db=float(rng.uniform(-24, -2)),
        snr_db=float(rng.uniform(15, 40)) if rng.random() < 0.9 else None,
        noise=str(rng.choice(["white", "pink", "brown"])),
        noise_seed=int(rng.integers(2**31)),
    )


def espeak(text, p):
    cmd = ["espeak-ng", "-v", p["voice"], "-s", str(p["speed"]), "-p", str(p["pitch"]),
           "-g", str(p["gap"]), "--stdout", text.lower()]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(raw)) as w:
        sr = w.getframerate()
        n = w.getnframes()
        x = np.frombuffer(w.readframes(n), dtype=np.int16).astype(np.float32) / 32768.0
        if n == 0:  # espeak --stdout writes a streaming header (nframes unknown)
            x = np.frombuffer(raw[44:], dtype=np.int16).astype(np.float32) / 32768.0
    return x, sr


def make_noise(kind, n, rng):
    w = rng.standard_normal(n).astype(np.float32)
    if kind == "white":
        return w
    if kind == "pink":  # ~1/f via simple IIR approximation (Kellet)
        from scipy.signal import lfilter
        b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
        a = [1, -2.494956002, 2.017265875, -0.522189400]
        return lfilter(b, a, w).astype(np.float32)
    from scipy.signal import lfilter  # brown-ish: leaky integrator
    return lfilter([1.0], [1.0, -0.98], w).astype(np.float32)


def render(args):
    idx, text, seed, split = args
    p = utt_params(seed, idx, split)
    x, sr = espeak(text, p)
    # trim long leading/trailing silence, keep ~100 ms
    nz = np.nonzero(np.abs(x) > 1e-3)[0]
    if len(nz):
        pad = int(0.1 * sr)
        x = x[max(0, nz[0] - pad): nz[-1] + pad]
    # resample to 16 kHz with tempo perturbation (changes speed and pitch slightly)
    target = int(round(SR * p["tempo"]))
    from math import gcd
    g = gcd(target, sr)
    y = resample_poly(x, target // g, sr // g).astype(np.float32)
    peak = np.max(np.abs(y)) + 1e-9
    y = y / peak * (10 ** (p["gain_db"] / 20))
    if p["snr_db"] is not None:
        rng = np.random.default_rng(p["noise_seed"])
        nse = make_noise(p["noise"], len(y), rng)
        ps = np.mean(y ** 2) + 1e-12
        pn = np.mean(nse ** 2) + 1e-12
        y = y + nse * np.sqrt(ps / pn / (10 ** (p["snr_db"] / 10)))
    y = np.clip(y, -1.0, 1.0)
    return idx, (y * 32767).astype(np.int16), p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["train", "dev", "eval"], required=True)
    ap.add_argument("--text", required=True, help="one sentence per line, or id<TAB>sentence")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=0, help="use only the first n sentences")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    ids, texts = [], []
    for i, line in enumerate(open(args.text)):
        line = line.rstrip("\n")
        if not line:
            continue
        if "\t" in line:
            uid, t = line.split("\t", 1)
        else:
            uid, t = f"{args.split}-{i:06d}", line
        ids.append(uid)
        texts.append(t)
    if args.n:
        ids, texts = ids[: args.n], texts[: args.n]
    jobs = [(i, t, args.seed, args.split) for i, t in enumerate(texts)]
    with Pool(args.jobs) as pool:
        res = sorted(pool.imap_unordered(render, jobs, chunksize=16), key=lambda r: r[0])
    audios = [r[1] for r in res]
    params = [r[2] for r in res]
    secs = sum(len(a) for a in audios) / SR
    print(f"{len(audios)} utterances, {secs / 3600:.2f} h audio")

    if args.split == "eval":
        import soundfile as sf
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "trans.txt"), "w") as f:
            for uid, t, a in zip(ids, texts, audios):
                sf.write(os.path.join(args.out, uid + ".flac"), a, SR, subtype="PCM_16")
                f.write(f"{uid}\t{t}\n")
        with open(os.path.join(args.out, "..", "eval_synthesis_params.json"), "w") as f:
            json.dump({u: p for u, p in zip(ids, params)}, f, indent=0)
    else:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        lens = np.array([len(a) for a in audios], dtype=np.int64)
        offs = np.concatenate([[0], np.cumsum(lens)])
        np.savez(args.out, audio=np.concatenate(audios), offsets=offs,
                 texts=np.array(texts), ids=np.array(ids))
        with open(args.out + ".params.json", "w") as f:
            json.dump(params, f)


if __name__ == "__main__":
    main()
