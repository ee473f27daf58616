#!/usr/bin/env python3
"""Export a checkpoint as the package's default model and evaluate it.

Saves model (safetensors) + Wav2Vec2Processor to --out, then reloads them
exactly as a user would (AutoModelForCTC / Wav2Vec2Processor.from_pretrained)
and reports corpus greedy CER / WER (jiwer) on the held-out eval set
(<id>.flac + trans.txt), plus the CPU wall time of the acoustic model.

Usage:
  python training/export_eval.py --ckpt /work/scratch/run1/best \
      --out ctcdecode_kit/data/default/model --eval ctcdecode_kit/data/default/eval
  python training/export_eval.py --out ctcdecode_kit/data/default/model \
      --eval ctcdecode_kit/data/default/eval          # evaluate only
"""
import argparse
import os
import time

import torch


def greedy(ids, id2tok):
    out, prev = [], -1
    for t in ids:
        if t != prev and t != 0:
            out.append(id2tok[t])
        prev = t
    s = "".join(c for c in out if len(c) == 1).replace("|", " ")
    return " ".join(s.split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1, help="utterances per forward pass")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from transformers import AutoModelForCTC, Wav2Vec2ForCTC, Wav2Vec2Processor

    if a.ckpt:
        m = Wav2Vec2ForCTC.from_pretrained(a.ckpt)
        p = Wav2Vec2Processor.from_pretrained(a.ckpt)
        os.makedirs(a.out, exist_ok=True)
        m.save_pretrained(a.out, safe_serialization=True)
        p.save_pretrained(a.out)
        # also the classic per-component files (preprocessor_config.json,
        # special_tokens_map.json) so that older loaders / other tools find them
        p.feature_extractor.save_pretrained(a.out)
        import json
        with open(os.path.join(a.out, "special_tokens_map.json"), "w") as f:
            json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                       "pad_token": "<pad>"}, f, indent=2)

    import jiwer
    import soundfile as sf
    model = AutoModelForCTC.from_pretrained(a.out).eval()
    proc = Wav2Vec2Processor.from_pretrained(a.out)
    id2tok = {i: t for t, i in proc.tokenizer.get_vocab().items()}
    refs, ids, audio = [], [], []
    for line in open(os.path.join(a.eval, "trans.txt")):
        uid, txt = line.rstrip("\n").split("\t", 1)
        x, sr = sf.read(os.path.join(a.eval, uid + ".flac"), dtype="float32")
        assert sr == 16000
        ids.append(uid)
        refs.append(txt)
        audio.append(x)
    hyps = []
    t0 = time.time()
    with torch.inference_mode():
        for i in range(0, len(audio), a.batch):
            iv = proc(audio[i:i + a.batch], sampling_rate=16000, return_tensors="pt",
                      padding=True).input_values
            logits = model(iv).logits
            for row in logits.argmax(-1).tolist():
                hyps.append(greedy(row, id2tok))
    el = time.time() - t0
    secs = sum(len(x) for x in audio) / 16000
    print(f"eval utts {len(audio)} audio {secs:.1f}s  model CPU time {el:.2f}s "
          f"(batch {a.batch}, {a.threads} threads)")
    print(f"greedy CER {jiwer.cer(refs, hyps)*100:.2f}%  WER {jiwer.wer(refs, hyps)*100:.2f}%")
    for r, h in list(zip(refs, hyps))[:5]:
        print(f"REF: {r}\nHYP: {h}")


if __name__ == "__main__":
    main()
