#!/usr/bin/env python3
"""Train a small Wav2Vec2ForCTC from scratch on espeak-ng speech (CPU).

Raw waveform in (Wav2Vec2FeatureExtractor: do_normalize=True, zero padding,
NO attention mask: feat_extract_norm="group" like wav2vec2-base-960h), 32-token
character vocabulary identical to wav2vec2-base-960h, CTC blank = <pad> = 0.

Usage (see training/README.md for the exact commands and numbers):
  python training/train.py --train /work/scratch/audio/train.npz \
      --dev /work/scratch/audio/dev.npz --out /work/scratch/run1 \
      --steps 6000 --max-minutes 60 --seed 1234
  python training/train.py --probe ...   # time a few steps and exit
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch

VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "E": 5, "T": 6, "A": 7,
         "O": 8, "N": 9, "I": 10, "H": 11, "S": 12, "R": 13, "D": 14, "L": 15, "U": 16,
         "M": 17, "W": 18, "C": 19, "F": 20, "G": 21, "Y": 22, "P": 23, "B": 24, "V": 25,
         "K": 26, "'": 27, "X": 28, "J": 29, "Q": 30, "Z": 31}
ID2CH = {i: c for c, i in VOCAB.items()}


def build_processor(workdir):
    from transformers import (Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor,
                              Wav2Vec2Processor)
    os.makedirs(workdir, exist_ok=True)
    vpath = os.path.join(workdir, "vocab.json")
    with open(vpath, "w") as f:
        json.dump(VOCAB, f)
    tok = Wav2Vec2CTCTokenizer(vpath, unk_token="<unk>", pad_token="<pad>",
                               bos_token="<s>", eos_token="</s>",
                               word_delimiter_token="|", do_lower_case=False)
    fe = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                  do_normalize=True, return_attention_mask=False)
    return Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok)


def build_model(a):
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC
    cfg = Wav2Vec2Config(
        vocab_size=32, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=a.heads,
        intermediate_size=a.ffn,
        feat_extract_norm="group", feat_extract_activation="gelu",
        conv_dim=tuple(a.conv_dim), conv_kernel=tuple(a.conv_kernel),
        conv_stride=tuple(a.conv_stride), conv_bias=False,
        num_conv_pos_embeddings=a.pos_kernel, num_conv_pos_embedding_groups=16,
        do_stable_layer_norm=bool(a.pre_ln),
        hidden_dropout=a.dropout, activation_dropout=a.dropout, attention_dropout=a.dropout,
        feat_proj_dropout=a.dropout, final_dropout=a.dropout, layerdrop=0.0,
        mask_time_prob=a.mask_time_prob, mask_time_length=5,
        mask_feature_prob=a.mask_feature_prob, mask_feature_length=16,
        ctc_loss_reduction="mean", ctc_zero_infinity=True,
        apply_spec_augment=(a.mask_time_prob > 0 or a.mask_feature_prob > 0),
    )
    assert int(np.prod(a.conv_stride)) == 320, "frame rate must be 50 Hz"
    return Wav2Vec2ForCTC(cfg)


def load_npz(path):
    d = np.load(path)
    offs = d["offsets"]
    audio = d["audio"]
    items = [(audio[offs[i]:offs[i + 1]], str(t)) for i, t in enumerate(d["texts"])]
    return items


def make_batches(items, max_secs, rng, max_utts=64):
    """Bucket by length: sort, cut into batches of <= max_secs padded audio, shuffle."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]) + rng.random() * 8000)
    batches, cur, cur_max = [], [], 0
    for i in order:
        n = len(items[i][0])
        new_max = max(cur_max, n)
        if cur and (new_max * (len(cur) + 1) > max_secs * 16000 or len(cur) >= max_utts):
            batches.append(cur)
            cur, new_max = [], n
        cur.append(i)
        cur_max = new_max
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(processor, items, idxs):
    audio = [items[i][0].astype(np.float32) / 32768.0 for i in idxs]
    texts = [items[i][1] for i in idxs]
    iv = processor(audio, sampling_rate=16000, return_tensors="pt", padding=True).input_values
    lab = [[VOCAB.get(c, 3) for c in t.replace(" ", "|")] for t in texts]
    L = max(len(x) for x in lab)
    labels = torch.full((len(lab), L), -100, dtype=torch.long)
    for j, x in enumerate(lab):
        labels[j, :len(x)] = torch.tensor(x)
    return iv, labels, texts


def greedy_decode(logits):
    ids = logits.argmax(-1).cpu().numpy()
    out = []
    for row in ids:
        prev, s = -1, []
        for t in row:
            if t != prev and t != 0:
                s.append(ID2CH.get(int(t), ""))
            prev = t
        txt = "".join(c for c in s if len(c) == 1).replace("|", " ")
        out.append(" ".join(txt.split()))
    return out


@torch.no_grad()
def evaluate(model, processor, items, bs_secs=60.0):
    import jiwer
    model.eval()
    hyps, refs = [], []
    rng = random.Random(0)
    for b in make_batches(items, bs_secs, rng):
        iv, _, texts = collate(processor, items, b)
        hyps += greedy_decode(model(iv).logits)
        refs += texts
    model.train()
    return jiwer.cer(refs, hyps), jiwer.wer(refs, hyps), list(zip(refs, hyps))[:3]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", default="/work/scratch/train.log")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--conv-dim", type=int, nargs="+", default=[64, 128, 128, 128, 128])
    ap.add_argument("--conv-kernel", type=int, nargs="+", default=[10, 4, 4, 4, 4])
    ap.add_argument("--conv-stride", type=int, nargs="+", default=[5, 4, 4, 2, 2])
    ap.add_argument("--pos-kernel", type=int, default=64)
    ap.add_argument("--pre-ln", type=int, default=1, help="do_stable_layer_norm (pre-LN transformer)")
    ap.add_argument("--dropout", type=float, default=0.05)
    ap.add_argument("--mask-time-prob", type=float, default=0.03)
    ap.add_argument("--mask-feature-prob", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=400)
    ap.add_argument("--steps", type=int, default=6000, help="schedule length (lr decays to 0 here)")
    ap.add_argument("--max-minutes", type=float, default=60.0)
    ap.add_argument("--batch-secs", type=float, default=40.0, help="padded audio seconds per batch")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--probe", type=int, default=0, help="time this many steps and exit")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)

    processor = build_processor(os.path.join(a.out, "proc_tmp"))
    model = build_model(a)
    nparam = sum(p.numel() for p in model.parameters())
    train = load_npz(a.train)
    dev = load_npz(a.dev)
    os.makedirs(a.out, exist_ok=True)
    logf = open(a.log, "a")

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    tr_secs = sum(len(x[0]) for x in train) / 16000
    log(f"args {vars(a)}")
    log(f"params {nparam/1e6:.2f}M train_utts {len(train)} ({tr_secs/3600:.2f} h) dev_utts {len(dev)}")

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in n.lower() else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-8)

    t_start = time.time()
    warm_end = [None]

    def lr_at(step):
        """Linear warm-up, then cosine decay; progress = max(step fraction, time fraction)
        so that the decay always completes within --max-minutes."""
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        if warm_end[0] is None:
            warm_end[0] = time.time()
        t_frac = (time.time() - warm_end[0]) / max(1.0, a.max_minutes * 60 - (warm_end[0] - t_start))
        prog = min(1.0, max((step - a.warmup) / max(1, a.steps - a.warmup), t_frac))
        return a.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * prog)))

    model.train()
    t0 = time.time()
    step, epoch, best = 0, 0, (9.9, 9.9)
    seen_secs = 0.0
    run_loss, run_n = 0.0, 0
    done = False
    while not done:
        epoch += 1
        for b in make_batches(train, a.batch_secs, rng):
            iv, labels, _ = collate(processor, train, b)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            out = model(iv, labels=labels)
            loss = out.loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step += 1
            seen_secs += sum(len(train[i][0]) for i in b) / 16000
            run_loss += loss.item()
            run_n += 1
            el = time.time() - t0
            if a.probe and step >= a.probe:
                log(f"PROBE {step} steps {el:.1f}s -> {el/step:.2f} s/step, "
                    f"{seen_secs/el:.1f} audio-s per s, batch ~{seen_secs/step:.1f} audio-s")
                return
            if step % 25 == 0:
                log(f"step {step} ep {epoch} loss {run_loss/run_n:.3f} lr {lr_at(step):.2e} "
                    f"gn {gn:.1f} elapsed {el/60:.1f}m audio_seen {seen_secs/3600:.2f}h")
                run_loss, run_n = 0.0, 0
            stop = step >= a.steps or el > a.max_minutes * 60 or (step > a.warmup and lr_at(step) <= a.lr * 0.0201)
            if step % a.eval_every == 0 or stop:
                cer, wer, ex = evaluate(model, processor, dev)
                log(f"DEV step {step} CER {cer*100:.2f} WER {wer*100:.2f} ex {ex[0]}")
                if (cer, wer) < best:
                    best = (cer, wer)
                    model.save_pretrained(os.path.join(a.out, "best"))
                    processor.save_pretrained(os.path.join(a.out, "best"))
                    log(f"saved best (CER {cer*100:.2f} WER {wer*100:.2f})")
            if stop:
                done = True
                break
    model.save_pretrained(os.path.join(a.out, "last"))
    processor.save_pretrained(os.path.join(a.out, "last"))
    log(f"done {step} steps in {(time.time()-t0)/60:.1f} min; best dev CER {best[0]*100:.2f} WER {best[1]*100:.2f}")


if __name__ == "__main__":
    main()
