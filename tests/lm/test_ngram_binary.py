"""The native LM's memory-mapped binary: same scores as KenLM, refusals, verify(), the cache beside the ARPA."""

from __future__ import annotations

import random
import shutil
import struct
from pathlib import Path

import pytest

from ctcdecode_kit.errors import FileFormatError
from ctcdecode_kit.lm import ArpaLM
from tests.conftest import require_module, shared_path

SHARED_ARPAS = [
    "kenlm/test.arpa",
    "kenlm/test_nounk.arpa",
    "kenlm/toy0.arpa",
    "kenlm/toy1.arpa",
    "torchaudio/kenlm.arpa",
    "pyctcdecode/bugs_bunny_kenlm.arpa",
    "librispeech-lm/3-gram.pruned.arpa",
]
# Header offsets of the binary (ngram_table.hpp's BinaryHeader): version, then the order.
VERSION_AT, ORDER_AT = 8, 40


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch) -> Path:
    """Every test gets its own user cache folder (never ~/.cache)."""
    folder = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def _ngram_sentences(arpa: Path, limit: int = 400) -> list[list[str]]:
    """The word sequences of an ARPA file's n-grams (each order's first lines)."""
    sentences: list[list[str]] = []
    order_lines = 0
    with arpa.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\") and line.endswith("-grams:"):
                order_lines = 0
                continue
            fields = line.split()
            if len(fields) < 2 or line.startswith("ngram ") or order_lines >= limit:
                continue
            order_lines += 1
            words = [w for w in fields[1:] if not _is_number(w)]
            sentences.append([w for w in words if w not in ("<s>", "</s>")])
    return [s for s in sentences if s]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _built(tmp_path: Path, relative: str = "kenlm/test.arpa") -> tuple[Path, ArpaLM]:
    arpa = tmp_path / "lm" / Path(relative).name
    arpa.parent.mkdir(exist_ok=True)
    shutil.copyfile(shared_path(relative), arpa)
    return arpa, ArpaLM(arpa)


@pytest.mark.extra("kenlm")
@pytest.mark.parametrize("relative", SHARED_ARPAS)
def test_the_binary_of_each_shared_arpa_scores_exactly_as_kenlm(relative, tmp_path):
    kenlm = require_module("kenlm", install="pip install 'ctcdecode-kit[kenlm]'")
    arpa, _ = _built(tmp_path, relative)
    lm = ArpaLM(arpa.with_name(arpa.name + ".ckbin"))  # the cache written beside the copy, opened directly
    assert lm.binary_path == arpa.with_name(arpa.name + ".ckbin")
    reference = kenlm.Model(str(arpa))
    rng = random.Random(0)
    words = lm.listed_unigrams()
    sentences = _ngram_sentences(arpa)
    sentences += [[rng.choice(words) for _ in range(rng.randint(1, 7))] + ["zzqx-unknown"] for _ in range(200)]
    for sentence in sentences:
        for bos, eos in ((True, True), (False, False)):
            expected = [s for s, _, _ in reference.full_scores(" ".join(sentence), bos=bos, eos=eos)]
            assert lm.log10_scores(sentence, bos=bos, eos=eos) == expected, (relative, sentence, bos)


def test_the_binary_keeps_pyctcdecodes_unigram_set_and_the_vocabulary(tmp_path):
    arpa, from_text = _built(tmp_path, "librispeech-lm/3-gram.pruned.arpa")
    mapped = ArpaLM(from_text.binary_path)
    assert mapped.listed_unigrams() == from_text.listed_unigrams()
    assert mapped.vocab_size == from_text.vocab_size and mapped.order == 3
    assert "the" in mapped and "zzqx" not in mapped


def test_an_arpa_gets_its_binary_beside_it_and_reuses_it(tmp_path):
    arpa, first = _built(tmp_path)
    cached = arpa.with_name("test.arpa.ckbin")
    assert first.binary_path == cached and cached.is_file()
    written = cached.stat().st_mtime_ns
    second = ArpaLM(arpa)
    assert second.binary_path == cached and cached.stat().st_mtime_ns == written  # opened, not rebuilt
    assert second.log10_scores(["looking", "on"]) == first.log10_scores(["looking", "on"])


def test_an_arpa_in_a_read_only_folder_gets_its_binary_in_the_user_cache(tmp_path, user_cache):
    arpa, _ = _built(tmp_path)
    folder = tmp_path / "read-only"
    folder.mkdir()
    shutil.copyfile(arpa, folder / "lm.arpa")
    folder.chmod(0o555)
    try:
        lm = ArpaLM(folder / "lm.arpa")
        assert lm.binary_path is not None and lm.binary_path.is_relative_to(user_cache / "ctcdecode_kit")
        assert lm.binary_path.name == "lm.arpa.ckbin" and not (folder / "lm.arpa.ckbin").exists()
        assert ArpaLM(folder / "lm.arpa").binary_path == lm.binary_path
    finally:
        folder.chmod(0o755)


def test_the_binary_is_rebuilt_when_the_arpa_changes(tmp_path):
    arpa, before = _built(tmp_path)
    old = before.log10_scores(["looking"], bos=False, eos=False)[0]
    text = arpa.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.split("\t")[1:2] == ["looking"])
    changed = line.replace(line.split("\t")[0], "-0.1234567"[: len(line.split("\t")[0])], 1)
    arpa.write_text(text.replace(line, changed), encoding="utf-8")  # same size, new mtime
    after = ArpaLM(arpa)
    assert after.binary_path == before.binary_path
    assert after.log10_scores(["looking"], bos=False, eos=False)[0] != old
    assert after.log10_scores(["looking"], bos=False, eos=False) == ArpaLM(after.binary_path).log10_scores(["looking"], bos=False, eos=False)


def test_save_binary_writes_where_asked_and_the_file_opens_mapped(tmp_path):
    _, lm = _built(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    target = lm.save_binary(tmp_path / "elsewhere" / "model.bin")
    reopened = ArpaLM(target)
    assert reopened.binary_path == target
    assert reopened.log10_scores(["looking", "on", "a"]) == lm.log10_scores(["looking", "on", "a"])


def _binary(tmp_path: Path) -> bytes:
    _, lm = _built(tmp_path)
    return lm.binary_path.read_bytes()


def test_a_truncated_binary_is_refused_naming_the_file(tmp_path):
    data = _binary(tmp_path)
    for cut in (100, len(data) - 64):
        bad = tmp_path / f"cut{cut}.ckbin"
        bad.write_bytes(data[:cut])
        with pytest.raises(FileFormatError, match=rf"cut{cut}\.ckbin.*corrupt or truncated"):
            ArpaLM(bad)


def test_a_binary_with_a_damaged_header_is_refused(tmp_path):
    data = bytearray(_binary(tmp_path))
    data[ORDER_AT] ^= 0x01  # the order field: the header checksum no longer matches
    bad = tmp_path / "header.ckbin"
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"header\.ckbin.*bad header checksum"):
        ArpaLM(bad)


def test_a_binary_of_another_format_version_is_refused(tmp_path):
    data = bytearray(_binary(tmp_path))
    data[VERSION_AT : VERSION_AT + 4] = struct.pack("<I", 99)
    bad = tmp_path / "future.ckbin"
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"future\.ckbin.*format version 99"):
        ArpaLM(bad)


def test_a_foreign_file_is_refused_naming_the_file(tmp_path):
    foreign = tmp_path / "image.ckbin"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(FileFormatError, match=r"image\.ckbin.*not an ARPA language model"):
        ArpaLM(foreign)
    old = tmp_path / "old.ckbin"
    old.write_bytes(b"CKITLM01" + bytes(64))
    with pytest.raises(FileFormatError, match=r"old\.ckbin.*older ctcdecode_kit"):
        ArpaLM(old)


def test_verify_finds_a_flipped_body_byte_that_opening_does_not_read(tmp_path):
    data = bytearray(_binary(tmp_path))
    good = tmp_path / "good.ckbin"
    good.write_bytes(bytes(data))
    ArpaLM(good).verify()
    data[len(data) - 100] ^= 0x40
    bad = tmp_path / "body.ckbin"
    bad.write_bytes(bytes(data))
    lm = ArpaLM(bad)  # opening reads the header only
    with pytest.raises(FileFormatError, match=r"body\.ckbin.*checksum"):
        lm.verify()


def test_a_stale_or_broken_cache_file_is_replaced(tmp_path):
    arpa, lm = _built(tmp_path)
    cached, expected = lm.binary_path, lm.log10_scores(["looking"])
    damaged = cached.read_bytes()[:200]
    cached.unlink()  # a new file: `lm` keeps its mapping of the old one
    cached.write_bytes(damaged)  # truncated by some other writer, say
    again = ArpaLM(arpa)
    assert again.binary_path == cached and cached.stat().st_size > 200
    assert again.log10_scores(["looking"]) == expected


@pytest.mark.parametrize("module_name, suffix", [("gzip", ".gz"), ("bz2", ".bz2"), ("lzma", ".xz")])
def test_a_compressed_arpa_is_read_directly_and_cached(module_name, suffix, tmp_path):
    module = __import__(module_name)
    arpa, plain = _built(tmp_path, "librispeech-lm/3-gram.pruned.arpa")
    packed = tmp_path / f"lm.arpa{suffix}"
    with module.open(packed, "wb") as f:
        f.write(arpa.read_bytes())
    lm = ArpaLM(packed)
    assert lm.binary_path == tmp_path / f"lm.arpa{suffix}.ckbin"
    sentence = "the cat sat on a mat zzqx of the".split()
    assert lm.log10_scores(sentence) == plain.log10_scores(sentence)
    assert lm.listed_unigrams() == plain.listed_unigrams()


def test_a_truncated_compressed_arpa_is_refused_naming_the_file(tmp_path):
    import gzip

    bad = tmp_path / "cut.arpa.gz"
    bad.write_bytes(gzip.compress(shared_path("kenlm/test.arpa").read_bytes())[:400])
    with pytest.raises(FileFormatError, match=r"cut\.arpa\.gz.*(ended before|ends inside)"):
        ArpaLM(bad)


def _pruned_arpa(missing_suffixes: int, other_bigrams: int) -> str:
    """A 3-gram whose trigrams "a b cI" lack their suffix "b cI" (KenLM adds those as blanks)."""
    uni = ["<unk>\t0", "<s>\t-0.5", "</s>\t0", "a\t-0.3", "b\t-0.2"]
    uni += [f"c{i}" for i in range(missing_suffixes)] + [f"d{j}" for j in range(other_bigrams)]
    bi = ["a b\t-0.1"] + [f"a d{j}" for j in range(other_bigrams)]
    tri = [f"a b c{i}" for i in range(missing_suffixes)]
    out = ["\\data\\", f"ngram 1={len(uni)}", f"ngram 2={len(bi)}", f"ngram 3={len(tri)}", "", "\\1-grams:"]
    out += [f"-{1 + i / 100:.2f}\t{u}" for i, u in enumerate(uni)]
    out += ["", "\\2-grams:"] + [f"-{0.4 + i / 100:.2f}\t{b}" for i, b in enumerate(bi)]
    out += ["", "\\3-grams:"] + [f"-{0.2 + i / 100:.2f}\t{t}" for i, t in enumerate(tri)]
    return "\n".join([*out, "", "\\end\\", ""])


@pytest.mark.extra("kenlm")
def test_missing_suffixes_beyond_the_headers_room_grow_the_table_and_score_as_kenlm(tmp_path):
    kenlm = require_module("kenlm", install="pip install 'ctcdecode-kit[kenlm]'")
    arpa = tmp_path / "pruned.arpa"
    # 20 bigrams size the table for 28 slots; the 8 blanks need more than the 0.94 fill allowed
    arpa.write_text(_pruned_arpa(8, 19), encoding="utf-8")
    reference, lm = kenlm.Model(str(arpa)), ArpaLM(arpa)
    mapped = ArpaLM(lm.binary_path)
    for sentence in ["a b c3", "b c3", "x b c3", "a b c7 a b", "c1 a b c2", "a d3 b c1"]:
        for bos in (True, False):
            expected = [s for s, _, _ in reference.full_scores(sentence, bos=bos, eos=True)]
            assert lm.log10_scores(sentence.split(), bos=bos) == expected
            assert mapped.log10_scores(sentence.split(), bos=bos) == expected


def test_a_unigram_only_arpa_round_trips_through_the_binary(tmp_path):
    # (KenLM refuses unigram-only models; each word scores its unigram, <unk> for unknown words)
    arpa = tmp_path / "uni.arpa"
    arpa.write_text("\\data\\\nngram 1=4\n\n\\1-grams:\n-1.0\t<unk>\n-0.5\t<s>\n-0.7\t</s>\n-0.3\thello\n\n\\end\\\n")
    mapped = ArpaLM(ArpaLM(arpa).binary_path)
    assert mapped.order == 1 and mapped.binary_path.suffix == ".ckbin"
    as_float32 = [float(struct.unpack("<f", struct.pack("<f", v))[0]) for v in (-0.3, -1.0, -0.3, -0.7)]
    assert mapped.log10_scores(["hello", "zz", "hello"]) == as_float32
