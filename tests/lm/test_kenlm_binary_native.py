"""KenLM ``build_binary`` files (probing and trie) read natively (issue 12): KenLM's scores bit for
bit, decoding without Python callbacks, rest_probing files through KenLM, damaged files refused.

tests/lm/data/small.arpa is a 3-gram the kit's build_arpa estimated from 60 random sentences
(37 words, 321 bigrams: enough for build_binary -a to compress pointers); small.quant.bin,
small.array.bin and small.quantarray.bin are KenLM 0.3.0 build_binary's `-q 8 -b 8 trie`,
`-a 22 trie` and `-q 8 -b 8 -a 22 trie` images of it (the shared data has probing and trie only).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from ctcdecode_kit import build_decoder
from ctcdecode_kit.errors import FileFormatError, LanguageModelError
from ctcdecode_kit.lm import ArpaLM
from tests.conftest import require_module

DATA = Path(__file__).parent / "data"

# (binary, the ARPA it was built from)
BINARIES = [
    (f"kenlm-bin/{name}.{kind}.bin", arpa)
    for name, arpa in (("test", "kenlm/test.arpa"), ("librispeech-3gram-pruned", "librispeech-lm/3-gram.pruned.arpa"))
    for kind in ("probing", "trie")
] + [(str(DATA / f"small.{kind}.bin"), str(DATA / "small.arpa")) for kind in ("quant", "array", "quantarray")]


def _path(shared, name: str) -> Path:
    return Path(name) if name.startswith("/") else shared.path(name)


def _sentences(arpa_text: str, count: int, seed: int) -> list[list[str]]:
    """Random sentences over the ARPA's words, unknown words and markers, with real n-grams spliced in."""
    rng = random.Random(seed)
    lines = arpa_text.splitlines()
    words = [line.split("\t")[1] for line in lines if line.count("\t") >= 1 and " " not in line.split("\t")[1]]
    words = [w for w in words if w not in ("<s>",)][:5000]
    words += ["zzqx", "<unk>", "<UNK>", "Looking", "</s>", "é"]
    ngrams = [line.split("\t")[1].split() for line in lines if line.count("\t") >= 1 and " " in line.split("\t")[1]]
    ngrams = [[w for w in g if w != "<s>"] for g in ngrams]
    out = []
    for i in range(count):
        sentence = [rng.choice(words) for _ in range(rng.randint(0, 10))]
        if ngrams and i % 2:  # long matches, backoff chains and state minimisation
            for _ in range(rng.randint(1, 3)):
                at = rng.randint(0, len(sentence))
                sentence[at:at] = rng.choice(ngrams)
        out.append(sentence)
    return out


@pytest.mark.extra("kenlm")
@pytest.mark.parametrize("binary, arpa", BINARIES)
def test_kenlm_binary_scores_equal_kenlm_bit_for_bit(shared, binary, arpa):
    kenlm = require_module("kenlm")
    path = _path(shared, binary)
    lm, reference = ArpaLM(path), kenlm.Model(str(path))
    assert lm.binary_path == path and lm._model.mapped
    assert lm.order == reference.order
    for sentence in _sentences(_path(shared, arpa).read_text(), 600, seed=3):
        text = " ".join(sentence)
        for bos, eos in ((True, True), (False, False)):
            want = [s[0] for s in reference.full_scores(text, bos=bos, eos=eos)]
            have = lm.log10_scores(sentence, bos=bos, eos=eos)
            assert np.array_equal(np.float32(have), np.float32(want)), text  # exact, not approx
            assert np.float32(lm.sentence_log10(sentence, bos=bos, eos=eos)) == np.float32(
                reference.score(text, bos=bos, eos=eos)
            ), text


@pytest.mark.parametrize("binary, arpa", BINARIES)
def test_kenlm_binary_has_the_arpas_words_and_states(shared, binary, arpa):
    path, arpa = _path(shared, binary), _path(shared, arpa)
    lm, text_lm = ArpaLM(path), ArpaLM(arpa)
    assert lm.vocab_size == text_lm.vocab_size and lm.order == text_lm.order
    if "probing" in str(binary):  # a trie counts the blank n-grams build_binary adds for pruned files
        assert lm._model.counts == text_lm._model.counts
    section = arpa.read_text().split("\\1-grams:")[1].split("\\2-grams:")[0]
    unigrams = {line.split("\t")[1] for line in section.splitlines() if "\t" in line}
    # KenLM keeps no backoff columns: every word but <s>, </s>, <unk> is listed (as kenlm's callbacks have it)
    assert lm.listed_unigrams() == sorted(unigrams - {"<s>", "</s>", "<unk>"})
    assert "zzqx" not in lm and lm.listed_unigrams()[0] in lm
    lm.verify()
    # protocol states chain like the ARPA model's (natural logs)
    sentence = _sentences(arpa.read_text(), 2, seed=1)[1]
    a, b = lm.begin(), text_lm.begin()
    for word in sentence:
        (pa, a), (pb, b) = lm.score(a, word), text_lm.score(b, word)
        assert pa == pytest.approx(pb, abs=1e-5 if "quant" not in str(binary) else 0.1)  # 8-bit bins
    assert lm.end(a) == pytest.approx(text_lm.end(b), abs=1e-5 if "quant" not in str(binary) else 0.1)


@pytest.mark.parametrize("kind", ["probing", "trie"])
def test_decoding_with_a_kenlm_binary_equals_the_arpa_without_callbacks(shared, kind):
    vocab = shared.wav2vec2_vocab()
    raw = shared.wav2vec2_logits()[0]
    rng = np.random.default_rng(11)
    batch = np.stack([raw + rng.normal(0, 3.0, raw.shape).astype(np.float32) for _ in range(3)])
    options = {"beam_width": 24, "alpha": 0.5, "beta": 1.0, "num_workers": 1}
    arpa = shared.path("librispeech-lm/3-gram.pruned.arpa")
    binary = shared.path(f"kenlm-bin/librispeech-3gram-pruned.{kind}.bin")
    from_arpa = build_decoder("native", vocab, lm=str(arpa), **options)
    from_binary = build_decoder("native", vocab, lm=str(binary), **options)
    assert from_binary._py_lm is None and from_binary._native_lm is not None  # no Python callbacks
    want, have = from_arpa.decode(batch, nbest=3), from_binary.decode(batch, nbest=3)
    for a, b in zip(want, have):
        assert [(h.text, h.tokens, h.score, h.lm_score) for h in a] == [(h.text, h.tokens, h.score, h.lm_score) for h in b]


def test_a_rest_probing_file_is_left_to_kenlm(shared, tmp_path):
    from ctcdecode_kit.decoders.native import _kenlm_only

    data = bytearray(shared.path("kenlm-bin/test.probing.bin").read_bytes())
    data[96:100] = (1).to_bytes(4, "little")  # model type 1: rest_probing (build_binary rest_probing)
    rest = tmp_path / "rest.bin"
    rest.write_bytes(bytes(data))
    with pytest.raises(LanguageModelError, match=r"rest.bin.*type 'rest_probing'.*kenlm"):
        ArpaLM(rest)
    assert _kenlm_only(rest)  # the native decoder hands it to KenLM (callbacks)
    for kind in ("probing", "trie"):
        assert not _kenlm_only(shared.path(f"kenlm-bin/test.{kind}.bin"))
    for kind in ("quant", "array", "quantarray"):
        assert not _kenlm_only(DATA / f"small.{kind}.bin")
    assert not _kenlm_only(shared.path("kenlm/test.arpa"))


def _damaged(shared, tmp_path, name: str, edit, kind: str = "probing") -> str:
    data = bytearray(shared.path(f"kenlm-bin/test.{kind}.bin").read_bytes())
    data = edit(data)
    out = tmp_path / name
    out.write_bytes(bytes(data))
    return str(out)


@pytest.mark.parametrize(
    "name, edit, message",
    [
        ("cut.bin", lambda d: d[: len(d) // 2], "truncated"),
        ("cut_words.bin", lambda d: d[:-5], "truncated or damaged"),
        ("header.bin", lambda d: d[:60] + b"\x00\x00\x80\x40" + d[64:], "byte order or float format"),
        ("counts.bin", lambda d: d[:116] + (1000).to_bytes(8, "little") + d[124:], "truncated inside its 2-grams"),
        ("count1.bin", lambda d: d[:108] + (10**6).to_bytes(8, "little") + d[116:], "damaged header"),
        ("count2.bin", lambda d: d[:116] + (46).to_bytes(8, "little") + d[124:], "truncated or damaged"),
        ("order.bin", lambda d: d[:88] + b"\x0c" + d[89:], "order 12"),
        ("incomplete.bin", lambda d: b"mmap lm http://kheafield.com/code incomplete\n" + d[45:], "incomplete"),
    ],
)
def test_a_damaged_probing_binary_is_refused_naming_the_file(shared, tmp_path, name, edit, message):
    path = _damaged(shared, tmp_path, name, edit)
    with pytest.raises(LanguageModelError, match=message) as caught:  # as kenlm's refusal
        ArpaLM(path)
    assert path in str(caught.value) and "\n" not in str(caught.value)
    vocab = shared.wav2vec2_vocab()
    with pytest.raises(LanguageModelError, match=name):  # the decoder names the file too
        build_decoder("native", vocab, lm=path, beam_width=8)


def test_verify_finds_a_damaged_vocabulary_table(shared, tmp_path):
    def scramble(d):  # give one word of the vocabulary table (12-byte entries from byte 160) another id
        for at in range(160, 160 + 12 * 55, 12):
            key, word = int.from_bytes(d[at : at + 8], "little"), int.from_bytes(d[at + 8 : at + 12], "little")
            if key and word > 4:  # not <unk>, ",", ".", "</s>", "<s>"
                d[at + 8 : at + 12] = (5 if word != 5 else 6).to_bytes(4, "little")
                return d
        raise AssertionError("no entry to damage")

    lm = ArpaLM(_damaged(shared, tmp_path, "vocab.bin", scramble))
    with pytest.raises(FileFormatError, match="vocab.bin.*vocabulary table"):
        lm.verify()


@pytest.mark.parametrize(
    "name, edit, message",
    [
        ("cut.bin", lambda d: d[: len(d) // 2], "truncated"),
        ("cut_words.bin", lambda d: d[:-5], "truncated or damaged"),
        ("counts.bin", lambda d: d[:116] + (1000).to_bytes(8, "little") + d[124:], "truncated inside its 2-grams"),
        ("version.bin", lambda d: d[:104] + b"\x00" + d[105:], "search version 0"),
    ],
)
def test_a_damaged_trie_binary_is_refused_naming_the_file(shared, tmp_path, name, edit, message):
    path = _damaged(shared, tmp_path, name, edit, kind="trie")
    with pytest.raises(LanguageModelError, match=message) as caught:
        ArpaLM(path)
    assert path in str(caught.value)


def test_verify_finds_a_damaged_trie_vocabulary(shared, tmp_path):
    def swap(d):  # swap two sorted word hashes (the vocabulary starts at byte 152, after its count)
        a, b = 152 + 8 + 8 * 10, 152 + 8 + 8 * 11
        d[a : a + 8], d[b : b + 8] = d[b : b + 8], d[a : a + 8]
        return d

    lm = ArpaLM(_damaged(shared, tmp_path, "trie_vocab.bin", swap, kind="trie"))
    with pytest.raises(FileFormatError, match="trie_vocab.bin.*vocabulary table"):
        lm.verify()


def test_a_quantised_trie_with_an_unknown_quantiser_is_refused(tmp_path):
    data = bytearray((DATA / "small.quant.bin").read_bytes())
    at = 136 + 8 + 8 * 37  # header (order 3), vocabulary count and hashes: the quantiser's version byte
    assert data[at] == 2
    data[at] = 7
    path = tmp_path / "quant7.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(LanguageModelError, match="quant7.bin.*quantiser version 7"):
        ArpaLM(path)
