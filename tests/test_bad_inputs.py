"""The bad-input matrix: every public entry point against a fixed table of bad inputs.

Each row names the bad input, the call that receives it (Python API, and the CLI where the
CLI exposes it), the exception class and message expected, and the behaviour in words.
The table in docs/BAD_INPUTS.md is generated from ROWS by running this file:

    python tests/test_bad_inputs.py > docs/BAD_INPUTS.md

and a test below fails when the document and the table drift apart.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
W2V = SHARED / "wav2vec2-logits"


@dataclass(frozen=True)
class Row:
    """One bad input: how to trigger it and what must happen."""

    name: str
    behaviour: str
    error: str  # exception class name in ctcdecode_kit.errors (or a builtin)
    match: str  # regex the message must match
    api: Callable[[Path], Any] | None = None
    cli: Callable[[Path], list[str]] | None = None
    needs_shared: bool = False
    cli_match: str | None = None  # when the CLI words it differently (e.g. names the file)
    needs_model: bool = False  # tmp/"model" is then a tiny saved CTC model


def _vocab():
    from ctcdecode_kit import Vocabulary

    return Vocabulary.from_labels(["<pad>", "|", "A", "B"])


def _decode(logits: Any, lengths: Any = None, name: str = "greedy", **options: Any) -> Any:
    from ctcdecode_kit import build_decoder

    return build_decoder(name, _vocab(), **options).decode(logits, lengths)


def _good(t: int = 5, b: int | None = None) -> np.ndarray:
    shape = (t, 4) if b is None else (b, t, 4)
    return np.random.default_rng(0).normal(size=shape).astype(np.float32)


def _with(value: float, where: tuple = (1, 2)) -> np.ndarray:
    x = _good()
    x[where] = value
    return x


def _write(tmp: Path, name: str, data: bytes | str) -> Path:
    path = tmp / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _npy(tmp: Path, array: np.ndarray, name: str = "x.npy") -> Path:
    path = tmp / name
    np.save(path, array)
    return path


def _decode_cli(path_fn: Callable[[Path], Path], *extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["decode", str(path_fn(tmp)), "--vocab", str(W2V / "vocab.json"), *extra]


def _wav(tmp: Path, samples: np.ndarray, rate: int = 16000, name: str = "a.wav") -> Path:
    import soundfile

    path = tmp / name
    soundfile.write(path, samples, rate, subtype="PCM_16")
    return path


def _truncated_wav(tmp: Path) -> Path:
    path = _wav(tmp, np.zeros(16000, np.float32), name="full.wav")
    data = path.read_bytes()
    return _write(tmp, "cut.wav", data[: len(data) // 2])


def _load_audio(path: Path) -> Any:
    from ctcdecode_kit import load_audio

    return load_audio(path)


def _arpa(tmp: Path, text: str) -> Path:
    return _write(tmp, "lm.arpa", text)


def _wrong_rate(tmp: Path) -> Any:
    from ctcdecode_kit import AcousticModel

    return AcousticModel.from_pretrained(tmp / "model").logits([np.zeros(8000, np.float32)], sampling_rate=8000)


GOOD_ARPA = (
    "\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1.0\t<s>\t-0.5\n-0.5\t</s>\n-0.7\thello\t-0.3\n\n"
    "\\2-grams:\n-0.2\t<s> hello\n\n\\end\\\n"
)


def _kenlm(path: Path) -> Any:
    from ctcdecode_kit.lm import KenLM

    return KenLM(path)


class _NaNLM:
    order = 2

    def begin(self):
        return ()

    def score(self, state, word):
        return float("nan"), (word,)

    def end(self, state):
        return 0.0


class _RaisingLM(_NaNLM):
    def score(self, state, word):
        raise RuntimeError("boom")


class _IncompleteLM:
    order = 2

    def begin(self):
        return ()


_LM_OPTION = {"pyctcdecode": ("lm", {"num_workers": 1}), "native": ("lm", {}), "rescore": ("lms", {})}
"""The backends that take an LM: the option naming it, and other options they get here."""


def _fused(lm: Any, name: str = "rescore") -> Any:
    """Decode three frames with ``lm`` in backend ``name`` (rescore: the core's backend that scores any LM)."""
    vocab = __import__("ctcdecode_kit").Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    logits = np.log(np.array([[0.1, 0.1, 0.7, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]], np.float32))
    from ctcdecode_kit import build_decoder

    key, extra = _LM_OPTION[name]
    return build_decoder(name, vocab, **{key: lm}, **extra).decode(logits)


def _dataset(tmp: Path, trans: bytes) -> Any:
    from ctcdecode_kit import load_dataset

    folder = tmp / "data"
    folder.mkdir(exist_ok=True)
    _wav(folder, np.zeros(8000, np.float32), name="u1.wav")
    (folder / "trans.txt").write_bytes(trans)
    return load_dataset(folder)



def _compare_into(out: Path, *decoders: str) -> Any:
    from ctcdecode_kit import load_dataset
    from ctcdecode_kit.runs.compare import compare

    data = load_dataset(W2V)
    return compare(data, decoders=list(decoders), vocabulary=data.vocabulary, output_dir=out)


def _used_folder(tmp: Path) -> Path:
    """An output folder holding a finished greedy run on the shared logits."""
    out = tmp / "run"
    _compare_into(out, "greedy")
    return out


def _old_folder(tmp: Path) -> Path:
    """Results as an older kit left them: no run.json."""
    out = _used_folder(tmp)
    (out / "run.json").unlink()
    return out


def _cut_binary(tmp: Path) -> Path:
    data = (SHARED / "kenlm-bin" / "test.probing.bin").read_bytes()
    return _write(tmp, "cut.bin", data[: len(data) // 2])


def _lm_backends() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, LM option, other options) of every installed backend that takes an LM."""
    from ctcdecode_kit.runs.specs import missing_backends

    return [(name, *_LM_OPTION[name]) for name in _LM_OPTION if name not in missing_backends()]


def _decode_with_lm_everywhere(lm: Path) -> None:
    """Build and run every backend that takes an LM with ``lm``; errors propagate."""
    from ctcdecode_kit import Vocabulary, build_decoder

    vocab = Vocabulary.from_file(W2V / "vocab.json")
    logits = np.load(W2V / "121-121726-0000.npy")
    for name, key, extra in _lm_backends():
        value = [str(lm)] if key == "lms" else str(lm)
        text = build_decoder(name, vocab, **{key: value}, **extra).decode(logits)[0][0].text
        assert text.startswith("ALSO A POPULAR"), (name, text)


def _refused_by_every_lm_backend(lm: Path) -> None:
    """Raise the first backend's LanguageModelError once every backend has refused ``lm`` naming it."""
    from ctcdecode_kit import Vocabulary, build_decoder
    from ctcdecode_kit.errors import LanguageModelError

    vocab = Vocabulary.from_file(W2V / "vocab.json")
    refusals, backends = [], _lm_backends()
    for name, key, extra in backends:
        try:
            build_decoder(name, vocab, **{key: [str(lm)] if key == "lms" else str(lm)}, **extra)
        except LanguageModelError as exc:
            refusals.append(exc)
    if len(refusals) == len(backends) and all(lm.name in str(e) for e in refusals):
        raise refusals[0]



ROWS: list[Row] = [
    # ---------------------------------------------------------------- logits
    Row("NaN in logits", "refused; names utterance, frame and class", "InputError", "NaN .*frame [01]",
        api=lambda tmp: _decode(_with(np.nan)),
        cli=_decode_cli(lambda tmp: _npy(tmp, np.where(np.arange(32) == 3, np.nan, 0.0)[None].repeat(4, 0).astype(np.float32))),
        needs_shared=True),
    Row("+inf in logits", "refused", "InputError", r"\+inf", api=lambda tmp: _decode(_with(np.inf))),
    Row("-inf in logits (log 0)", "accepted while each frame keeps a finite entry; an all -inf frame is refused",
        "InputError", "every class", api=lambda tmp: _decode(np.where(np.arange(4) < 4, -np.inf, 0).astype(np.float32)[None].repeat(3, 0))),
    Row("1-D logits", "refused with the shape seen", "InputError", r"2-D \[T, V\] or 3-D.*\(4,\)",
        api=lambda tmp: _decode(np.zeros(4, np.float32)),
        cli=_decode_cli(lambda tmp: _npy(tmp, np.zeros(32, np.float32))), needs_shared=True,
        cli_match=r"x.npy' has shape \(32,\); expected \[T, V\]"),
    Row("4-D logits", "refused with the shape seen", "InputError", r"got 4-D", api=lambda tmp: _decode(np.zeros((1, 1, 3, 4), np.float32))),
    Row("vocab-size mismatch", "refused naming both sizes", "InputError", "5 classes .* 4 tokens",
        api=lambda tmp: _decode(np.zeros((3, 5), np.float32)),
        cli=_decode_cli(lambda tmp: _npy(tmp, np.zeros((6, 31), np.float32))), needs_shared=True,
        cli_match="x.npy' has 31 classes .* 32 tokens"),
    Row("probabilities instead of logits", "refused unless input_type='probs'", "InputError", "look like probabilities",
        api=lambda tmp: _decode(np.full((3, 4), 0.25, np.float32))),
    Row("integer logits", "refused (float16/bfloat16/float64 are accepted and upcast)", "InputError", "floating point",
        api=lambda tmp: _decode(np.zeros((3, 4), np.int64))),
    Row("list instead of array", "refused with the type seen", "InputError", "got list", api=lambda tmp: _decode([[0.0] * 4])),
    Row("empty batch (B = 0)", "refused", "InputError", "empty batch", api=lambda tmp: _decode(np.zeros((0, 3, 4), np.float32))),
    Row("T = 0", "accepted: an empty hypothesis", "", "", api=lambda tmp: _decode(np.zeros((0, 4), np.float32))),
    Row("lengths > T", "refused naming T and the lengths", "InputError", "exceed the number of frames T=5",
        api=lambda tmp: _decode(_good(5, 2), [5, 6])),
    Row("negative lengths", "refused", "InputError", "must be >= 0", api=lambda tmp: _decode(_good(5, 2), [5, -1])),
    Row("wrong number of lengths", "refused with expected and seen shape", "InputError", r"expected shape \(2,\), got \(3,\)",
        api=lambda tmp: _decode(_good(5, 2), [5, 5, 5])),
    Row("beam_width 0", "refused", "InputError", "beam_width must be >= 1",
        api=lambda tmp: _decode(_good(), name="native", beam_width=0),
        cli=_decode_cli(lambda tmp: W2V / "121-121726-0000.npy", "-d", "native", "--beam-width", "0"), needs_shared=True),
    Row("huge beam_width", "refused above 10000", "InputError", "beam_width must be <= 10000",
        api=lambda tmp: _decode(_good(), name="native", beam_width=10**9)),
    Row("unknown decoder", "refused listing the known decoders", "UnknownDecoderError", "unknown decoder 'beem'.*greedy",
        api=lambda tmp: _decode(_good(), name="beem"),
        cli=_decode_cli(lambda tmp: W2V / "121-121726-0000.npy", "-d", "beem"), needs_shared=True),
    Row("unknown decoder option", "refused listing the valid options", "InputError", "does not take option.*valid options",
        api=lambda tmp: _decode(_good(), name="native", beam_widht=3)),
    # ---------------------------------------------------------------- audio
    Row("missing audio file", "refused naming the file", "MissingFileError", "nope.wav.*does not exist",
        api=lambda tmp: _load_audio(tmp / "nope.wav")),
    Row("empty audio file (0 bytes)", "refused naming the file", "AudioError", "empty.wav",
        api=lambda tmp: _load_audio(_write(tmp, "empty.wav", b""))),
    Row("0-sample audio", "refused: no samples", "AudioError", "no samples|0 samples|empty",
        api=lambda tmp: _load_audio(_wav(tmp, np.zeros(0, np.float32)))),
    Row("truncated WAV", "refused (the header promises more data than the file has)", "AudioError", "cut.wav",
        api=lambda tmp: _load_audio(_truncated_wav(tmp))),
    Row("non-audio file", "refused naming the file", "AudioError", "notes.wav",
        api=lambda tmp: _load_audio(_write(tmp, "notes.wav", "just some text, not audio\n" * 20))),
    Row("stereo 44.1 kHz audio", "accepted: down-mixed to mono and resampled to 16 kHz", "", "",
        api=lambda tmp: _load_audio(_wav(tmp, np.zeros((4410, 2), np.float32), rate=44100))),
    Row("wrong-rate waveform given to the model", "refused unless resample=True", "InputError", "sampled at 8000 Hz.*expects 16000 Hz",
        api=_wrong_rate, needs_model=True),
    # ---------------------------------------------------------------- language models
    Row("missing ARPA file", "refused naming the file", "MissingFileError", "nope.arpa",
        api=lambda tmp: _kenlm(tmp / "nope.arpa"),
        cli=lambda tmp: ["lm", "score", str(tmp / "nope.arpa"), "a b"]),
    Row("empty ARPA file", "refused naming the file", "ArpaFormatError", "is empty",
        api=lambda tmp: _kenlm(_arpa(tmp, "")),
        cli=lambda tmp: ["lm", "score", str(_arpa(tmp, "")), "a b"]),
    Row("ARPA without \\\\data\\\\ header", "refused naming line 1", "ArpaFormatError", "line 1",
        api=lambda tmp: _kenlm(_arpa(tmp, "ngram 1=3\n" + GOOD_ARPA))),
    Row("ARPA with wrong n-gram counts", "refused naming the section", "ArpaFormatError", "1-grams|count",
        api=lambda tmp: _kenlm(_arpa(tmp, GOOD_ARPA.replace("ngram 1=3", "ngram 1=5")))),
    Row("ARPA with a non-numeric score", "refused naming the line and the value", "ArpaFormatError", "'x0.5' is not a number",
        api=lambda tmp: _kenlm(_arpa(tmp, GOOD_ARPA.replace("-0.7\thello", "x0.5\thello")))),
    Row("LM with no overlap with the acoustic alphabet", "refused: every word would be unknown", "LanguageModelError",
        "overlap|cannot spell|alphabet",
        api=lambda tmp: _fused(str(_arpa(tmp, GOOD_ARPA.replace("hello", "\u00e9\u00e9"))))),
    Row("KenLM binary LM (.bin)", "accepted by every installed backend that takes an LM: native (read natively: "
        "probing and trie, quantised or not), rescore and pyctcdecode (through KenLM: the kenlm package when "
        "installed, else the native reader)", "", "",
        api=lambda tmp: _decode_with_lm_everywhere(SHARED / "kenlm-bin" / "test.probing.bin"), needs_shared=True),
    Row("truncated or corrupt KenLM binary LM", "refused naming the file, by every backend that takes an LM",
        "LanguageModelError", "cut.bin",
        api=lambda tmp: _refused_by_every_lm_backend(_cut_binary(tmp)),
        cli=lambda tmp: ["decode", str(W2V / "121-121726-0000.npy"), "--vocab", str(W2V / "vocab.json"), "-d",
                         "native", "--lm", str(_cut_binary(tmp))],
        needs_shared=True),
    Row("custom LM returning NaN", "refused naming the LM, the word and the value", "LanguageModelError", "_NaNLM.*nan",
        api=lambda tmp: _fused(_NaNLM())),
    Row("custom LM raising", "wrapped naming the LM and the word", "LanguageModelError", "_RaisingLM.*boom",
        api=lambda tmp: _fused(_RaisingLM())),
    Row("custom LM missing a method", "refused naming the method", "LanguageModelError", "score",
        api=lambda tmp: _fused(_IncompleteLM())),
    # ---------------------------------------------------------------- datasets
    Row("transcript naming missing audio", "refused listing every missing id at once", "DatasetError", "u2.*u3",
        api=lambda tmp: _dataset(tmp, b"u1\tHELLO\nu2\tA\nu3\tB\n")),
    Row("non-UTF-8 transcript", "refused naming the file and line", "FileFormatError", "trans.txt",
        api=lambda tmp: _dataset(tmp, b"u1\tCAF\xe9\n")),
    Row("empty reference", "refused (or kept with allow_empty_references=True)", "DatasetError", "empty",
        api=lambda tmp: _dataset(tmp, b"u1\t\n")),
    # ---------------------------------------------------------------- files
    Row("missing logits file", "refused naming the file", "MissingFileError", "nope.npy",
        api=lambda tmp: __import__("ctcdecode_kit.logits_io", fromlist=["x"]).load_logits(tmp / "nope.npy"),
        cli=_decode_cli(lambda tmp: tmp / "nope.npy"), needs_shared=True),
    Row("corrupt logits file", "refused naming the file", "FileFormatError", "cannot read logits file",
        api=lambda tmp: __import__("ctcdecode_kit.logits_io", fromlist=["x"]).load_logits(_write(tmp, "bad.npy", b"not numpy")),
        cli=_decode_cli(lambda tmp: _write(tmp, "bad.npy", b"not numpy")), needs_shared=True),
    Row("vocab file missing", "refused naming the file", "MissingFileError", "vocab.json.*does not exist",
        api=lambda tmp: __import__("ctcdecode_kit").Vocabulary.from_file(tmp / "vocab.json")),
    Row("vocab file not JSON", "refused naming the file", "FileFormatError", "not valid JSON",
        api=lambda tmp: __import__("ctcdecode_kit").Vocabulary.from_file(_write(tmp, "vocab.json", "{oops"))),
    Row("non-UTF-8 vocabulary file", "refused naming the file", "FileFormatError", "not valid UTF-8",
        api=lambda tmp: __import__("ctcdecode_kit").Vocabulary.from_file(_write(tmp, "tokens.txt", b"<pad>\n\xff\n"))),
    Row("unwritable output dir", "refused before any work", "InputError", "not a directory|not writable",
        api=lambda tmp: __import__("ctcdecode_kit.runs.journal", fromlist=["x"]).ensure_output_dir(_write(tmp, "f", "x") / "out"),
        cli=lambda tmp: ["compare", "--logits", str(W2V), "-d", "greedy", "--output", str(_write(tmp, "f", "x") / "out")],
        needs_shared=True),
    Row("output folder holding another run's results", "refused naming the setting that changed, --resume, "
        "--overwrite and --output (the default --output is a folder of the run's own)", "ResultsError",
        r"other settings \(decoders: .*--overwrite.*--output",
        api=lambda tmp: _compare_into(_used_folder(tmp), "native"),
        cli=lambda tmp: ["compare", "--logits", str(W2V), "-d", "native", "--output", str(_used_folder(tmp))],
        needs_shared=True),
    Row("output folder with results but no run.json (an older kit's run)", "refused naming --overwrite and --output",
        "ResultsError", "without a run.json.*--overwrite.*--output",
        api=lambda tmp: _compare_into(_old_folder(tmp), "greedy"),
        cli=lambda tmp: ["compare", "--logits", str(W2V), "-d", "greedy", "--output", str(_old_folder(tmp))],
        needs_shared=True),
]


def _error_class(name: str) -> type[BaseException]:
    from ctcdecode_kit import errors
    from ctcdecode_kit.lm import arpa

    return getattr(errors, name, None) or getattr(arpa, name, None) or getattr(__import__("builtins"), name)


def _id(row: Row) -> str:
    return row.name.replace(" ", "-")


@pytest.mark.parametrize("row", [r for r in ROWS if r.api is not None], ids=_id)
def test_api_bad_input(row: Row, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if (row.needs_shared or row.needs_model) and not SHARED.exists():
        from tests.conftest import skip_or_fail  # imported here: this file also runs as a script

        skip_or_fail(f"../shared/data is missing (expected at {SHARED})")
    if row.needs_model:
        (tmp_path / "model").symlink_to(request.getfixturevalue("tiny_model_dir"))
    if not row.error:
        row.api(tmp_path)
        return
    with pytest.raises(_error_class(row.error), match=row.match):
        row.api(tmp_path)


@pytest.mark.parametrize("row", [r for r in ROWS if r.cli is not None], ids=_id)
def test_cli_bad_input_is_one_line_without_traceback(row: Row, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ctcdecode_kit.cli import app

    if row.needs_shared and not SHARED.exists():
        from tests.conftest import skip_or_fail  # imported here: this file also runs as a script

        skip_or_fail(f"../shared/data is missing (expected at {SHARED})")
    result = CliRunner().invoke(app, row.cli(tmp_path))
    output = result.output
    assert result.exit_code != 0, output
    assert "Traceback" not in output
    error_lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, output
    import re

    assert re.search(row.cli_match or row.match, error_lines[0]), error_lines[0]


BAD_LOGITS = [
    (lambda: _with(np.nan), None, "NaN"),
    (lambda: _with(np.inf), None, r"\+inf"),
    (lambda: np.zeros((1, 1, 3, 4), np.float32), None, "got 4-D"),
    (lambda: np.zeros((3, 5), np.float32), None, "5 classes"),
    (lambda: np.full((3, 4), 0.25, np.float32), None, "look like probabilities"),
    (lambda: np.zeros((3, 4), np.int32), None, "floating point"),
    (lambda: _good(5, 2), [5, 6], "exceed the number of frames"),
    (lambda: _good(5, 2), [5], "one entry per utterance"),
]


@pytest.mark.parametrize(
    "name", ["greedy", pytest.param("pyctcdecode", marks=pytest.mark.extra("pyctcdecode")), "native", "rescore"]
)
@pytest.mark.parametrize("case", range(len(BAD_LOGITS)))
def test_every_decoder_refuses_the_same_bad_logits_before_decoding(name, case):
    from ctcdecode_kit.errors import InputError

    make, lengths, message = BAD_LOGITS[case]
    with pytest.raises(InputError, match=message):
        _decode(make(), lengths, name=name)


BAD_LMS = {
    "no overlap": (lambda tmp: str(_arpa(tmp, GOOD_ARPA.replace("hello", "\u00e9\u00e9"))), "do not share an alphabet"),
    "NaN": (lambda tmp: _NaNLM(), "_NaNLM.*nan.*'A'"),
    "raising": (lambda tmp: _RaisingLM(), "_RaisingLM.*'A'.*boom"),
    "missing a method": (lambda tmp: _IncompleteLM(), "_IncompleteLM.*score"),
}
"""The custom-LM rows of ROWS, with what every backend's refusal must say (the LM, the word, the value)."""


def _lm_backend_cases() -> list[Any]:
    cases = []
    for backend in ("rescore", "native", "pyctcdecode"):
        for bad in BAD_LMS:
            marks = [pytest.mark.extra("pyctcdecode")] if backend == "pyctcdecode" else []
            cases.append(pytest.param(backend, bad, marks=marks, id=f"{backend}-{bad.replace(' ', '-')}"))
    return cases


@pytest.mark.parametrize(("name", "bad"), _lm_backend_cases())
def test_every_lm_backend_refuses_a_bad_lm_naming_it(name: str, bad: str, tmp_path: Path) -> None:
    """The custom-LM rows hold for each backend that takes an LM, not only the one the table runs (rescore)."""
    from ctcdecode_kit.errors import LanguageModelError

    make, message = BAD_LMS[bad]
    with pytest.raises(LanguageModelError, match=message):
        _fused(make(tmp_path), name)


def markdown() -> str:
    """The README/docs table, generated from ROWS."""
    lines = [
        "# Bad inputs and what ctcdecode_kit does with them",
        "",
        "Generated from `tests/test_bad_inputs.py` (`python tests/test_bad_inputs.py > docs/BAD_INPUTS.md`);",
        "every row is a test of the Python API, and rows marked CLI also of the command line",
        "(one `error: ...` line, non-zero exit, no traceback).",
        "",
        "| bad input | behaviour | exception | CLI |",
        "|---|---|---|---|",
    ]
    for row in ROWS:
        lines.append(
            f"| {row.name} | {row.behaviour} | {('`' + row.error + '`') if row.error else 'none'} | "
            f"{'yes' if row.cli else ''} |"
        )
    return "\n".join(lines) + "\n"


def test_docs_table_is_generated_from_this_table() -> None:
    doc = REPO / "docs" / "BAD_INPUTS.md"
    assert doc.exists() and doc.read_text(encoding="utf-8") == markdown(), (
        "docs/BAD_INPUTS.md is stale: run `python tests/test_bad_inputs.py > docs/BAD_INPUTS.md`"
    )


if __name__ == "__main__":
    sys.stdout.write(markdown())
