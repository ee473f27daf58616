"""Throughput of ``compare`` on Ray (1 and 2 CPU actors per decoder) against the one-process run, in one run.

Every run decodes the same utterances of the embedded default set (audio through the embedded
acoustic model, then the decoders) into its own output folder, so each pays the acoustic pass;
the texts are checked to be equal. Ray's own start (``ray.init``) is timed separately; the first
Ray run also pays the actors' start and LM loads, which is part of the overhead reported.

    /work/venvs/ray/bin/python benchmarks/bench_ray.py --utterances 100 -d native+lm --beam-width 100

Needs ``pip install 'ctcdecode-kit[ray]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def _texts(folder: Path) -> list[tuple[str, str, str]]:
    lines = [json.loads(line) for line in (folder / "hyps.jsonl").read_text().splitlines()[1:]]
    return sorted((r["decoder"], r["id"], r["text"]) for r in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=100)
    parser.add_argument("-d", "--decoder", action="append", default=None)
    parser.add_argument("--beam-width", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    decoders = args.decoder or ["native+lm"]

    import ray

    from ctcdecode_kit import AcousticModel, load_dataset
    from ctcdecode_kit.default import default_assets
    from ctcdecode_kit.runs.compare import compare
    from ctcdecode_kit.runs.ray_runner import RayOptions

    assets = default_assets()
    model = AcousticModel.from_pretrained(assets.model_dir, device="cpu")
    data = list(load_dataset(assets.eval_dir))[: args.utterances]
    settings = dict(decoders=decoders, model=model, lm=assets.lm_path, beam_width=args.beam_width,
                    batch_size=args.batch_size)
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    rows = []

    def run(name: str, **extra: object) -> None:
        t0 = time.perf_counter()
        result = compare(data, output_dir=work / name, **settings, **extra)
        wall = time.perf_counter() - t0
        audio = result.results[0].audio_seconds
        rows.append({"runner": name, "wall_s": wall, "audio_s": audio, "x_real_time": audio / wall,
                     "acoustic_s": result.acoustic_seconds, "wer": [r.wer for r in result.results]})

    run("one-process")
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, object_store_memory=300 * 2**20, log_to_driver=False)
    init_s = time.perf_counter() - t0
    for actors in args.actors:
        run(f"ray, {actors} actor(s) per decoder", ray="local", ray_options=RayOptions(decoder_actors=actors))
    ray.shutdown()

    reference = _texts(work / "one-process")
    for row in rows:
        row["same_texts"] = _texts(work / row["runner"]) == reference
        row["vs_one_process"] = row["wall_s"] / rows[0]["wall_s"]
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{len(data)} utterances ({rows[0]['audio_s']:.1f} s of audio), decoders {decoders}, beam width "
          f"{args.beam_width}, batch {args.batch_size}; ray.init {init_s:.1f} s; load average {load} on "
          f"{os.cpu_count()} CPUs")
    print("| runner | wall s | x real time | wall vs one process | acoustic s (summed over actors) | same texts |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['runner']} | {row['wall_s']:.1f} | {row['x_real_time']:.1f} | {row['vs_one_process']:.2f}x | "
              f"{row['acoustic_s']:.1f} | {'yes' if row['same_texts'] else 'NO'} |")
    if args.json is not None:
        args.json.write_text(json.dumps({"ray_init_s": init_s, "load": load, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
