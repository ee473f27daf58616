"""Hugging Face "-with-lm" layouts: ctcdecode_kit.from_pretrained / save_pretrained.

Core tests write the layout by hand (no pyctcdecode, no kenlm). Tests marked
``extra("pyctcdecode")`` build the layout with transformers' own
``Wav2Vec2ProcessorWithLM(...).save_pretrained`` and hold the kit to
``processor.batch_decode`` field by field.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import ctcdecode_kit
from ctcdecode_kit.errors import CTCDecodeKitError, InputError, MissingFileError
from ctcdecode_kit.lm import ArpaLM
from ctcdecode_kit.pretrained import LayoutError, alphabet_labels, load_decoder_config
from ctcdecode_kit.vocabulary import Vocabulary
from tests.conftest import require_module, shared_path, upper_arpa

LETTERS = list("abcdefghijklmnopqrstuvwxyz'")
TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "|", *LETTERS]
ATTRS = {"alpha": 0.7, "beta": 1.25, "unk_score_offset": -8.0, "score_boundary": True}


def _tokenizer(folder: Path, tokens: list[str], **kwargs: object) -> None:
    from transformers import Wav2Vec2CTCTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    Wav2Vec2CTCTokenizer(str(vocab), **kwargs).save_pretrained(str(folder))
    config_file = folder / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    for key, value in kwargs.items():  # transformers 5 writes a None token as the string "None"
        if value is None:
            config[key] = None
    config_file.write_text(json.dumps(config))


def _layout(folder: Path, lm: Path | None, *, tokens: list[str] = TOKENS, attrs: dict | None = None,
            unigrams: list[str] | None = None, labels: list[str] | None = None, is_bpe: bool = False,
            **tokenizer_kwargs: object) -> Path:
    """A hand-written Hub layout (what Wav2Vec2ProcessorWithLM.save_pretrained writes)."""
    _tokenizer(folder, tokens, **tokenizer_kwargs)
    if labels is None:
        labels = ["" if t == "<pad>" else " " if t == "|" else "\u2047" if t == "<unk>" else t for t in tokens]
    (folder / "alphabet.json").write_text(json.dumps({"labels": labels, "is_bpe": is_bpe}), encoding="utf-8")
    if lm is not None:
        lm_dir = folder / "language_model"
        lm_dir.mkdir()
        (lm_dir / "attrs.json").write_text(json.dumps(attrs or ATTRS))
        if unigrams is None:  # what pyctcdecode writes for an ARPA file: its unigrams written with a backoff
            unigrams = [] if lm.suffix == ".bin" else sorted(ArpaLM(lm).listed_unigrams())
        (lm_dir / "unigrams.txt").write_text("".join(w + "\n" for w in unigrams), encoding="utf-8")
        shutil.copyfile(lm, lm_dir / lm.name)
    return folder


def _spell(words: str, tokens: list[str] = TOKENS, frames: int = 3, seed: int = 0) -> np.ndarray:
    """Logits that spell ``words`` (each letter held ``frames`` frames, blanks between), with noise."""
    rng = np.random.default_rng(seed)
    ids = []
    for n, word in enumerate(words.split()):
        if n:
            ids.append(tokens.index("|"))
        for ch in word:
            ids += [tokens.index(ch)] * frames + [0]
    x = rng.normal(0, 1, (len(ids), len(tokens))).astype(np.float32)
    x[np.arange(len(ids)), ids] += 6.0
    return x


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


# ---------------------------------------------------------------------------- core: loading
def test_from_pretrained_reads_attrs_unigrams_and_lm_with_pyctcdecode_rules(tmp_path: Path, cache_home: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unigrams.txt is the LM's listed set: nothing to warn about
        decoder = ctcdecode_kit.from_pretrained(folder)
    assert type(decoder).__name__ == "NativeDecoder"
    assert (decoder.alpha, decoder.beta, decoder.unk_score_offset) == (0.7, 1.25, -8.0)
    assert decoder.lm_rules == "pyctcdecode"
    assert decoder.vocabulary.tokens == tuple(TOKENS)
    hyp = decoder.decode(_spell("looking on a little"))[0][0]
    assert hyp.text == "looking on a little"
    # the LM's binary image never lands in language_model/ (pyctcdecode accepts exactly three files)
    assert sorted(p.name for p in (folder / "language_model").iterdir()) == ["attrs.json", "test.arpa", "unigrams.txt"]


def test_from_pretrained_overrides_win_over_the_repo(tmp_path: Path, cache_home: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"))
    decoder = ctcdecode_kit.from_pretrained(folder, alpha=0.1, beta=0.0, beam_width=7, lm_rules="kit")
    assert (decoder.alpha, decoder.beta, decoder.beam_width, decoder.lm_rules) == (0.1, 0.0, 7, "kit")
    assert ctcdecode_kit.from_pretrained(folder, lm=None).decode(_spell("on a"))[0][0].text == "on a"


def test_from_pretrained_reads_a_kenlm_binary(tmp_path: Path, cache_home: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm-bin/test.probing.bin"))
    config = load_decoder_config(folder)
    assert config.lm_path.name == "test.probing.bin"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty unigrams.txt is honoured: nothing to warn about
        decoder = config.build_decoder()
    assert decoder.decode(_spell("looking on a little"))[0][0].text == "looking on a little"


def test_a_folder_without_language_model_gives_a_decoder_without_lm(tmp_path: Path) -> None:
    folder = _layout(tmp_path / "repo", None)
    config = load_decoder_config(folder)
    assert not config.has_lm and config.decoder_options() == {}
    assert ctcdecode_kit.from_pretrained(folder).decode(_spell("ab c"))[0][0].text == "ab c"


def test_a_bpe_repo_decodes_subword_tokens(tmp_path: Path, cache_home: Path) -> None:
    tokens = ["<pad>", "<unk>", "\u2581on", "\u2581a", "\u2581lit", "tle", "\u2581look", "ing"]
    labels = ["", "\u2581\u2047\u2581", *tokens[2:]]
    folder = _layout(tmp_path / "bpe", shared_path("kenlm/test.arpa"), tokens=tokens, labels=labels, is_bpe=True,
                     word_delimiter_token=None, bos_token=None, eos_token=None)
    decoder = ctcdecode_kit.from_pretrained(folder)
    ids = [6, 7, 2, 3, 4, 5]
    x = np.full((len(ids) * 2, len(tokens)), -8.0, np.float32)
    x[::2][np.arange(len(ids)), ids] = 0.0
    x[1::2, 0] = 0.0
    hyp = decoder.decode(x)[0][0]
    assert hyp.text == "looking on a little"
    assert hyp.tokens == tuple(ids)


def test_the_repos_unigram_list_and_score_boundary_reach_the_native_decoder(tmp_path: Path, cache_home: Path) -> None:
    attrs = {**ATTRS, "score_boundary": False}
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"), unigrams=["looking", "on"], attrs=attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing this build cannot honour: no gap warning
        decoder = ctcdecode_kit.from_pretrained(folder)
    assert decoder._config["unigrams"] == ("looking", "on") and decoder.score_boundary is False
    x = _spell("looking on a little")
    default = ctcdecode_kit.from_pretrained(folder, unigrams=None, score_boundary=True)
    assert decoder.decode(x)[0][0].score != pytest.approx(default.decode(x)[0][0].score)


def test_alphabet_labels_follow_pyctcdecode() -> None:
    vocab = Vocabulary.from_labels(TOKENS)
    assert alphabet_labels(vocab)[:6] == ["", "<s>", "</s>", "\u2047", " ", "a"]


# ---------------------------------------------------------------------------- core: bad layouts
def test_missing_attrs_json_is_an_oserror_naming_the_file(tmp_path: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"))
    (folder / "language_model" / "attrs.json").unlink()
    with pytest.raises(MissingFileError, match="attrs.json") as info:
        ctcdecode_kit.from_pretrained(folder)
    assert isinstance(info.value, OSError) and isinstance(info.value, CTCDecodeKitError)


def test_alphabet_not_matching_the_tokenizer_names_the_tokens(tmp_path: Path) -> None:
    labels = ["" if t == "<pad>" else " " if t == "|" else "\u2047" if t == "<unk>" else t for t in TOKENS]
    labels[5], labels[6] = "A", "B"  # the decoder was built for upper case
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"), labels=labels)
    with pytest.raises(LayoutError, match=r"alphabet\.json.*'a'.*'A'.*'b'.*'B'") as info:
        ctcdecode_kit.from_pretrained(folder)
    assert isinstance(info.value, ValueError) and isinstance(info.value, CTCDecodeKitError)


def test_alphabet_of_another_size_names_the_extra_labels(tmp_path: Path) -> None:
    labels = ["" if t == "<pad>" else " " if t == "|" else "\u2047" if t == "<unk>" else t for t in TOKENS]
    folder = _layout(tmp_path / "repo", None, labels=[*labels, "\u00e9"])
    with pytest.raises(LayoutError, match="alphabet only: \\['\u00e9'\\]"):
        load_decoder_config(folder)


def test_missing_lm_file_is_an_oserror_naming_the_folder(tmp_path: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"))
    (folder / "language_model" / "test.arpa").unlink()
    with pytest.raises(MissingFileError, match="language_model.*no language model file"):
        ctcdecode_kit.from_pretrained(folder)


def test_two_lm_files_are_refused_naming_both(tmp_path: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"))
    shutil.copyfile(shared_path("kenlm-bin/test.trie.bin"), folder / "language_model" / "test.trie.bin")
    with pytest.raises(LayoutError, match="2 language model files.*test.arpa, test.trie.bin"):
        ctcdecode_kit.from_pretrained(folder)


def test_a_missing_folder_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="does not exist"):
        ctcdecode_kit.from_pretrained(tmp_path / "nope")


def test_bad_attrs_values_name_the_file(tmp_path: Path) -> None:
    folder = _layout(tmp_path / "repo", shared_path("kenlm/test.arpa"), attrs={**ATTRS, "alpha": "high"})
    with pytest.raises(ValueError, match="attrs.json.*alpha must be a number"):
        load_decoder_config(folder)


# ---------------------------------------------------------------------------- core: writing
def test_save_pretrained_writes_the_layout_beside_existing_files_and_twice(tmp_path: Path, cache_home: Path) -> None:
    vocab = Vocabulary.from_labels(TOKENS)
    arpa = tmp_path / "lm.arpa"
    shutil.copyfile(shared_path("kenlm/test.arpa"), arpa)
    out = tmp_path / "out"
    _tokenizer(out, TOKENS)
    decoder = ctcdecode_kit.build_decoder("native", vocab, lm=arpa, alpha=0.6, beta=2.0, lm_rules="pyctcdecode")
    for _ in range(2):  # HF's own save_pretrained refuses an existing language_model/
        ctcdecode_kit.save_pretrained(decoder, out)
    assert (out / "vocab.json").is_file() and (out / "tokenizer_config.json").is_file()
    assert json.loads((out / "alphabet.json").read_text())["labels"][:5] == ["", "<s>", "</s>", "\u2047", " "]
    assert json.loads((out / "language_model" / "attrs.json").read_text()) == {
        "alpha": 0.6, "beta": 2.0, "unk_score_offset": -10.0, "score_boundary": True}
    assert sorted(p.name for p in (out / "language_model").iterdir()) == ["attrs.json", "lm.arpa", "unigrams.txt"]
    assert os.path.samefile(arpa, out / "language_model" / "lm.arpa")  # hard-linked, not copied
    listed = ArpaLM(arpa).listed_unigrams()
    assert (out / "language_model" / "unigrams.txt").read_text().split() == sorted(listed)
    loaded = ctcdecode_kit.from_pretrained(out)
    x = _spell("looking on a little", seed=3)
    assert loaded.decode(x)[0][0] == decoder.decode(x)[0][0]


def test_save_pretrained_replaces_the_lm_of_an_earlier_save(tmp_path: Path, cache_home: Path) -> None:
    vocab = Vocabulary.from_labels(TOKENS)
    out = tmp_path / "out"
    _tokenizer(out, TOKENS)
    for lm in (shared_path("kenlm/test.arpa"), shared_path("kenlm-bin/test.probing.bin")):
        ctcdecode_kit.save_pretrained(ctcdecode_kit.build_decoder("native", vocab, lm=lm, lm_rules="pyctcdecode"), out)
    assert sorted(p.name for p in (out / "language_model").iterdir()) == ["attrs.json", "test.probing.bin", "unigrams.txt"]
    assert load_decoder_config(out).lm_path.name == "test.probing.bin"


def test_saving_a_kit_rules_decoder_says_what_pyctcdecode_does_differently(tmp_path: Path, cache_home: Path) -> None:
    vocab = Vocabulary.from_labels(TOKENS)
    decoder = ctcdecode_kit.build_decoder("native", vocab, lm=shared_path("kenlm/test.arpa"), lm_rules="kit")
    with pytest.warns(UserWarning, match="lm_rules='kit'.*unk_score_offset multiplied by alpha"):
        ctcdecode_kit.save_pretrained(decoder, tmp_path / "out")
    words = (tmp_path / "out" / "language_model" / "unigrams.txt").read_text().split()
    assert len(words) == ArpaLM(shared_path("kenlm/test.arpa")).vocab_size - 3  # every word known


def test_save_pretrained_refuses_a_python_lm(tmp_path: Path) -> None:
    from tests.conftest import FlatLM

    decoder = ctcdecode_kit.build_decoder("native", Vocabulary.from_labels(TOKENS), lm=FlatLM())
    with pytest.raises(InputError, match="LM file"):
        ctcdecode_kit.save_pretrained(decoder, tmp_path / "out")


# ---------------------------------------------------------------------------- core: acoustic model
def _tiny_model(folder: Path, tokens: list[str] = TOKENS) -> Path:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    config = Wav2Vec2Config(
        vocab_size=len(tokens), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2, pad_token_id=0,
    )
    Wav2Vec2ForCTC(config).save_pretrained(str(folder))
    Wav2Vec2FeatureExtractor().save_pretrained(str(folder))
    _tokenizer(folder, tokens)
    return folder


def test_acoustic_model_exposes_the_repo_decoder(tmp_path: Path, cache_home: Path) -> None:
    folder = _layout(_tiny_model(tmp_path / "m"), shared_path("kenlm/test.arpa"))
    am = ctcdecode_kit.AcousticModel.from_pretrained(folder, device="cpu")
    assert am.decoder_config is not None and am.decoder_config.alpha == 0.7
    decoder = am.build_decoder(beta=0.5)
    assert (decoder.alpha, decoder.beta, decoder.lm_rules, decoder.frame_rate) == (0.7, 0.5, "pyctcdecode", am.frame_rate)
    plain = ctcdecode_kit.AcousticModel.from_pretrained(_tiny_model(tmp_path / "plain"), device="cpu")
    assert plain.decoder_config is None


# ---------------------------------------------------------------------------- [pyctcdecode]: same answers as HF
def _hf_layout(folder: Path, vocab_json: Path, lm: Path, *, lowercase: bool = False, unigrams: list[str] | None = None,
               **lm_kwargs: object) -> Path:
    """The layout written by transformers' own Wav2Vec2ProcessorWithLM.save_pretrained."""
    require_module("pyctcdecode", install="pip install 'ctcdecode-kit[pyctcdecode]'")
    require_module("kenlm", install="pip install 'ctcdecode-kit[kenlm]'")
    from pyctcdecode import build_ctcdecoder
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ProcessorWithLM

    folder.mkdir(parents=True)
    vocab = json.loads(vocab_json.read_text())
    if lowercase:
        vocab = {(k.lower() if len(k) == 1 else k): i for k, i in vocab.items()}
    (folder / "src-vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "src-vocab.json"))
    (folder / "src-vocab.json").unlink()
    labels = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    kwargs = {} if unigrams is None else {"unigrams": unigrams}
    decoder = build_ctcdecoder(labels, kenlm_model_path=str(lm), **kwargs, **lm_kwargs)
    Wav2Vec2ProcessorWithLM(feature_extractor=Wav2Vec2FeatureExtractor(), tokenizer=tokenizer,
                            decoder=decoder).save_pretrained(str(folder))
    return folder


def _real_and_noisy() -> list[np.ndarray]:
    x = np.load(shared_path("wav2vec2-logits/121-121726-0000.npy")).astype(np.float32)[0]
    rng = np.random.default_rng(0)
    return [x] + [x + rng.normal(0, s, x.shape).astype(np.float32) for s in (1, 2, 3, 4, 5, 6)]


_SPECIAL_LABELS = ("<s>", "</s>", "\u2047")


def _without_specials(text: str) -> str:
    """pyctcdecode writes special tokens' labels into its text; the kit's text never holds them."""
    for label in _SPECIAL_LABELS:
        text = text.replace(label, "")
    return " ".join(text.split())


def _assert_same(hf_text: str, hf_logit: float, hf_lm: float, hf_words: list[dict], hyp: ctcdecode_kit.Hypothesis) -> None:
    assert hyp.text == _without_specials(hf_text)
    assert hyp.am_score == pytest.approx(hf_logit, rel=1e-6, abs=1e-3)
    assert hyp.score == pytest.approx(hf_lm, rel=1e-6, abs=1e-3)
    hf = [(_without_specials(w["word"]), w["start_offset"], w["end_offset"]) for w in hf_words]
    assert [(w.text, w.start_frame, w.end_frame) for w in hyp.words] == [w for w in hf if w[0]]


def _check_batch_decode(folder: Path, *, pad: bool = True) -> None:
    from transformers import Wav2Vec2ProcessorWithLM

    processor = Wav2Vec2ProcessorWithLM.from_pretrained(str(folder))
    decoder = ctcdecode_kit.from_pretrained(folder)
    arrays = _real_and_noisy()
    if pad:  # HF's batch_decode drops frames padded with -100; the kit takes lengths
        cut = [a[: len(a) - 37 * i] for i, a in enumerate(arrays)]
        batch = np.full((len(cut), len(arrays[0]), arrays[0].shape[1]), -100.0, np.float32)
        for i, a in enumerate(cut):
            batch[i, : len(a)] = a
        lengths = [len(a) for a in cut]
    else:
        batch, lengths = np.stack(arrays), None
    hf = processor.batch_decode(batch, output_word_offsets=True, num_processes=1)
    ours = decoder.decode(batch, lengths)
    for i, hyps in enumerate(ours):
        _assert_same(hf.text[i], hf.logit_score[i], hf.lm_score[i], hf.word_offsets[i], hyps[0])
    one = processor.decode(arrays[2], output_word_offsets=True)
    _assert_same(one.text, one.logit_score, one.lm_score, one.word_offsets, decoder.decode(arrays[2])[0][0])


@pytest.fixture
def quiet_hf() -> None:
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*deprecated.*")


@pytest.mark.extra("pyctcdecode", "kenlm")
def test_real_vocabulary_with_the_librispeech_arpa_matches_batch_decode(tmp_path: Path, cache_home: Path, quiet_hf: None) -> None:
    folder = _hf_layout(tmp_path / "repo", shared_path("wav2vec2-logits/vocab.json"),
                        shared_path("librispeech-lm/3-gram.pruned.arpa"))
    _check_batch_decode(folder)


@pytest.mark.extra("pyctcdecode", "kenlm")
def test_upper_case_librispeech_arpa_matches_batch_decode(tmp_path: Path, cache_home: Path, quiet_hf: None) -> None:
    arpa = upper_arpa(shared_path("librispeech-lm/3-gram.pruned.arpa"), tmp_path / "upper.arpa")
    folder = _hf_layout(tmp_path / "repo", shared_path("wav2vec2-logits/vocab.json"), arpa)
    _check_batch_decode(folder, pad=False)
    from transformers import Wav2Vec2ProcessorWithLM

    processor = Wav2Vec2ProcessorWithLM.from_pretrained(str(folder))
    decoder = ctcdecode_kit.from_pretrained(folder, alpha=1.1, beta=0.3, beam_width=30)
    x = _real_and_noisy()[3]
    hf = processor.decode(x, alpha=1.1, beta=0.3, beam_width=30, output_word_offsets=True)
    _assert_same(hf.text, hf.logit_score, hf.lm_score, hf.word_offsets, decoder.decode(x)[0][0])


@pytest.mark.extra("pyctcdecode", "kenlm")
def test_kenlm_binary_with_unigrams_matches_batch_decode(tmp_path: Path, cache_home: Path, quiet_hf: None) -> None:
    from pyctcdecode.language_model import load_unigram_set_from_arpa

    unigrams = sorted(load_unigram_set_from_arpa(str(shared_path("librispeech-lm/3-gram.pruned.arpa"))))
    folder = _hf_layout(tmp_path / "repo", shared_path("wav2vec2-logits/vocab.json"),
                        shared_path("kenlm-bin/librispeech-3gram-pruned.probing.bin"), lowercase=True, unigrams=unigrams)
    _check_batch_decode(folder)


@pytest.mark.extra("pyctcdecode", "kenlm")
@pytest.mark.parametrize(("lm", "unigrams"), [
    ("librispeech-lm/3-gram.pruned.arpa", "reference"),  # an ARPA repo whose unigrams.txt is not the listed set
    ("kenlm-bin/librispeech-3gram-pruned.trie.bin", None),  # a .bin saved without unigrams: an empty unigrams.txt
])
def test_score_boundary_false_matches_batch_decode(tmp_path: Path, cache_home: Path, quiet_hf: None, lm: str,
                                                   unigrams: str | None) -> None:
    words = None
    if unigrams == "reference":
        line = shared_path("wav2vec2-logits/trans.txt").read_text(encoding="utf-8").split("\t", 1)[1]
        words = sorted({w.lower() for w in line.split()} | {"popularity", "suspend"})
    folder = _hf_layout(tmp_path / "repo", shared_path("wav2vec2-logits/vocab.json"), shared_path(lm), lowercase=True,
                        unigrams=words, lm_score_boundary=False)
    assert json.loads((folder / "language_model" / "attrs.json").read_text())["score_boundary"] is False
    assert ctcdecode_kit.from_pretrained(folder).score_boundary is False
    _check_batch_decode(folder)


@pytest.mark.extra("pyctcdecode", "kenlm")
def test_a_kit_written_folder_loads_in_the_hf_processor_and_decodes_identically(
    tmp_path: Path, cache_home: Path, quiet_hf: None
) -> None:
    require_module("pyctcdecode", install="pip install 'ctcdecode-kit[pyctcdecode]'")
    from transformers import Wav2Vec2ProcessorWithLM

    arpa = upper_arpa(shared_path("librispeech-lm/3-gram.pruned.arpa"), tmp_path / "upper.arpa")
    model = _tiny_model(tmp_path / "model", tokens=list(json.loads(shared_path("wav2vec2-logits/vocab.json").read_text())))
    vocab = Vocabulary.from_pretrained(model)
    decoder = ctcdecode_kit.build_decoder("native", vocab, lm=arpa, alpha=0.8, beta=1.2, lm_rules="pyctcdecode",
                                          lm_case=None)
    ctcdecode_kit.save_pretrained(decoder, model)
    ctcdecode_kit.save_pretrained(decoder, model)  # twice into one folder
    processor = Wav2Vec2ProcessorWithLM.from_pretrained(str(model))
    assert processor.language_model.alpha == 0.8
    arrays = _real_and_noisy()
    hf = processor.batch_decode(np.stack(arrays), output_word_offsets=True, num_processes=1)
    for i, hyps in enumerate(decoder.decode(np.stack(arrays))):
        _assert_same(hf.text[i], hf.logit_score[i], hf.lm_score[i], hf.word_offsets[i], hyps[0])
    reloaded = ctcdecode_kit.from_pretrained(model)
    assert [h[0] for h in reloaded.decode(np.stack(arrays))] == [h[0] for h in decoder.decode(np.stack(arrays))]


# ---------------------------------------------------------------------------- core: CLI / run settings take the repo's
def test_run_settings_use_the_repo_lm_and_weights_unless_given(tmp_path: Path, cache_home: Path) -> None:
    from ctcdecode_kit.runs.specs import SharedSettings, build_from_spec

    config = load_decoder_config(_layout(tmp_path / "repo", shared_path("kenlm/test.arpa")))
    vocab = config.vocabulary
    decoder = build_from_spec("native", vocab, SharedSettings(repo=config))  # the repo's LM means native+lm
    assert (decoder.alpha, decoder.beta, decoder.unk_score_offset, decoder.lm_rules) == (0.7, 1.25, -8.0, "pyctcdecode")
    assert build_from_spec("native", vocab, SharedSettings(repo=config, beta=3.0)).beta == 3.0
    mine = build_from_spec("native", vocab, SharedSettings(repo=config, lm=shared_path("kenlm/toy0.arpa")))
    assert (mine.alpha, mine.beta, mine.lm_rules) == (0.5, 1.0, "kit")  # another LM: the kit's defaults
    assert type(build_from_spec("greedy", vocab, SharedSettings(repo=config))).__name__ == "GreedyDecoder"
    assert sorted(p.name for p in (config.folder / "language_model").iterdir()) == ["attrs.json", "test.arpa", "unigrams.txt"]


def test_cli_transcribe_uses_the_repo_decoder(tmp_path: Path, cache_home: Path) -> None:
    from typer.testing import CliRunner

    from ctcdecode_kit.cli.app import app

    folder = _layout(_tiny_model(tmp_path / "m"), shared_path("kenlm/test.arpa"))
    audio = sorted(shared_path("librispeech-audio").glob("*.wav"))[0]
    result = CliRunner().invoke(app, ["transcribe", str(audio), "--model", str(folder), "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert record["file"] == str(audio)
    # greedy reports no LM score; the repo's native+lm decoder does (every utterance ends with </s>)
    assert record["lm_score"] != 0.0
