"""Peak memory of decoding very long logits (issue: resource limits).

Tiles the real wav2vec2 logits (422 frames, 8.4 s) to 15, 30 and 60 minutes and decodes
each length in a fresh subprocess, reporting the peak RSS growth over the process
baseline. Linear growth in T shows no decoder keeps quadratic state.

    python benchmarks/memory_long.py --decoders greedy pyctcdecode native --minutes 15 30 60
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wav2vec2-logits"

CHILD = r"""
import json, resource, sys, time
import numpy as np
from ctcdecode_kit import Vocabulary, build_decoder
name, minutes, shared = sys.argv[1], float(sys.argv[2]), sys.argv[3]
vocab = Vocabulary.from_file(shared + "/vocab.json")
base = np.load(shared + "/121-121726-0000.npy")[0]
frames = int(minutes * 60 * 50)
logits = np.tile(base, (frames // len(base) + 1, 1))[:frames]
options = {} if name == "greedy" else {"beam_width": 32, "num_workers": 1}
decoder = build_decoder(name, vocab, **options)
decoder.decode(base)  # warm up: imports, pools, caches
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
hyp = decoder.decode(logits)[0][0]
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"decoder": name, "minutes": minutes, "frames": frames, "seconds": round(seconds, 2),
                  "peak_growth_mb": round((after - before) / 1024, 1), "words": len(hyp.words)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decoders", nargs="+", default=["greedy", "pyctcdecode", "native"])
    parser.add_argument("--minutes", nargs="+", type=float, default=[15, 30, 60])
    args = parser.parse_args()
    if not SHARED.exists():
        sys.exit(f"shared data not found at {SHARED}")
    for name in args.decoders:
        for minutes in args.minutes:
            proc = subprocess.run([sys.executable, "-c", CHILD, name, str(minutes), str(SHARED)],
                                  capture_output=True, text=True)
            if proc.returncode:
                print(json.dumps({"decoder": name, "minutes": minutes, "error": proc.stderr.strip().splitlines()[-1:]}))
            else:
                print(proc.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
