"""A small saved-logits dataset whose errors are known, and a compare run over it.

Each utterance's log-probs spell a chosen text frame by frame; at a few places a frame is
ambiguous between two letters, so greedy picks one word and a beam with the tiny LM below
(which knows "cat" and "fog", not "hat" or "dog") picks the other:

* ``u01``: greedy writes HAT for CAT (a substitution the LM fixes);
* ``u02``: greedy gets DOG right, the LM turns it into FOG (a word the LM breaks; DOG is OOV);
* ``u03``: ON is deleted by every decoder; ``u04``: THE is inserted by every decoder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from ctcdecode_kit.cli import app
from typer.testing import CliRunner

TOKENS = ["<pad>", "|"] + [chr(c) for c in range(ord("A"), ord("Z") + 1)] + ["'"]
# id -> (reference, what the logits spell; "[HC]" is one frame split .54/.44 between H and C)
UTTERANCES = {
    "u01": ("THE CAT SAT ON THE MAT", "THE [HC]AT SAT ON THE MAT"),
    "u02": ("A DOG RAN HOME", "A [DF]OG RAN HOME"),
    "u03": ("SAT ON THE MAT", "SAT THE MAT"),
    "u04": ("ON MAT", "ON THE MAT"),
    "u05": ("THE CAT RAN HOME", "THE CAT RAN HOME"),
    "u06": ("THE BIG CAT SAT", "THE BIG [HC]AT SAT"),
    "u07": ("A FOG ROLLED IN", "A FOG ROLLED IN"),
    "u08": ("THE MAT SAT", "THE MAT SAT"),
}
LM_TEXT = ["the cat sat on the mat", "a fog rolled in", "the cat ran home", "the big cat sat", "a fog ran home",
           "the mat sat", "on the mat", "the cat sat", "a fog", "the big cat", "the cat's mat"]
DECODERS = ["greedy", "native", "native+lm"]


def spell(text: str, low: float = -9.0) -> np.ndarray:
    """[T, V] log-probs spelling ``text`` (see the module docs for the ``[XY]`` ambiguous frames)."""
    index = {t: i for i, t in enumerate(TOKENS)}
    frames: list[dict[str, float]] = []
    i = 0
    while i < len(text):
        if text[i] == "[":
            a, b = text[i + 1], text[i + 2]
            frames.append({a: 0.54, b: 0.44})
            i += 4
        else:
            frames.append({"|" if text[i] == " " else text[i]: 0.98})
            i += 1
        frames.append({"<pad>": 0.98})  # a blank after every symbol, so doubled letters survive
    out = np.full((len(frames) + 2, len(TOKENS)), low, dtype=np.float64)
    out[0, 0] = out[-1, 0] = 0.0
    for t, probs in enumerate(frames, start=1):
        rest = (1.0 - sum(probs.values())) / (len(TOKENS) - len(probs))
        out[t, :] = np.log(rest)
        for token, p in probs.items():
            out[t, index[token]] = np.log(p)
    return out.astype(np.float32)


def make_dataset(folder: Path) -> Path:
    """The saved-logits dataset in ``folder`` (vocab.json, trans.txt, one .npy per utterance)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(TOKENS)}))
    (folder / "trans.txt").write_text("".join(f"{u}\t{ref}\n" for u, (ref, _) in UTTERANCES.items()))
    for u, (_, spoken) in UTTERANCES.items():
        np.save(folder / f"{u}.npy", spell(spoken))
    return folder


@pytest.fixture(scope="session")
def known_data(tmp_path_factory) -> tuple[Path, Path]:
    """(logits folder, LM ARPA) of the known-errors dataset."""
    from ctcdecode_kit.lm import build_arpa

    root = tmp_path_factory.mktemp("known")
    data = make_dataset(root / "logits")
    lm = root / "lm.arpa"
    build_arpa(LM_TEXT, lm, order=2)
    return data, lm


def run_cli(*args: object):
    """typer's Result of ``ctcdecode-kit ARGS`` (in process)."""
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="session")
def known_run(known_data, tmp_path_factory) -> Path:
    """A finished ``compare --nbest 4`` over the known-errors data (read-only: copy it to change it)."""
    data, lm = known_data
    out = tmp_path_factory.mktemp("run") / "out"
    args = ["compare", "--logits", data, "--lm", lm, "--nbest", 4, "--output", out]
    for d in DECODERS:
        args += ["-d", d]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture()
def run_copy(known_run, tmp_path) -> Path:
    """A writable copy of :func:`known_run`."""
    return Path(shutil.copytree(known_run, tmp_path / "run"))


def big_report(folder: Path, n: int = 2000) -> Path:
    """report.html over ``n`` made-up utterances decoded by six decoders (about 15 % word errors each)."""
    from ctcdecode_kit.report import analyse
    from ctcdecode_kit.report.html import render_html, report_payload

    rng = np.random.default_rng(1)
    words = np.array(["THE", "CAT", "SAT", "ON", "MAT", "DOG", "RAN", "HOME", "A", "FOG", "ROLLED", "IN", "BIG", "SMALL", "HOUSE", "TREE", "WATER", "LIGHT"])
    labels = ["greedy", "pyctcdecode", "native", "pyctcdecode+lm", "native+lm", "rescore"]
    rows = []
    for i in range(n):
        ref = list(rng.choice(words, size=int(rng.integers(15, 35))))
        for label in labels:
            hyp = [w if rng.random() > 0.15 else str(rng.choice(words)) for w in ref]
            rows.append({"decoder": label, "id": f"utt-{i:05d}", "reference": " ".join(ref), "text": " ".join(hyp),
                         "frames": 40 * len(ref), "decode_seconds": 0.01, "audio": f"/data/utt-{i:05d}.flac"})
    analysis = analyse(rows, labels, frame_rate=50.0)
    base = [{"decoder": label, "wer": 0.1, "cer": 0.05, "decode_seconds": 1.0 + i, "rtf": 0.01 * (i + 1)}
            for i, label in enumerate(labels)]
    results = {"settings": {"n_utterances": n}, "decoders": base, **analysis.run_fields()}
    results["decoders"] = [{**row, **analysis.decoders[row["decoder"]]} for row in base]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(render_html(report_payload(analysis, results, folder)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def big_report_path(tmp_path_factory) -> Path:
    """:func:`big_report` over 2,000 utterances, built once per session (read-only)."""
    return big_report(tmp_path_factory.mktemp("big"))
