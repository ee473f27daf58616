"""load_dataset: the five source kinds, and errors that report every problem at once."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
import soundfile as sf

from ctcdecode_kit import Utterance, build_decoder, load_dataset
from ctcdecode_kit.errors import DatasetError, FileFormatError, InputError, MissingDependencyError, MissingFileError


def _wav(path, seconds=0.1, rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(rate * seconds), dtype=np.float32), rate)
    return path


def test_librispeech_audio_folder_loads_as_a_folder_dataset(shared):
    folder = shared.path("librispeech-audio")
    data = load_dataset(folder)
    assert data.kind == "folder" and len(data) == 4
    lines = (folder / "trans.txt").read_text(encoding="utf-8").splitlines()
    assert data.ids == [line.split("\t")[0] for line in lines]
    assert data.references == [line.split("\t")[1] for line in lines]
    assert all(u.path.is_file() and u.path.suffix == ".wav" for u in data)


def test_folder_utterance_loads_its_audio_at_the_requested_rate(shared):
    utterance = load_dataset(shared.path("librispeech-audio"))[3]
    assert utterance.id == "1995-1837-0001"
    audio = utterance.load_audio(16000)
    assert audio.dtype == np.float32 and 8 < audio.shape[0] / 16000 < 10


def test_saved_logits_folder_loads_with_its_vocabulary_and_decodes_to_the_reference(shared):
    data = load_dataset(shared.path("wav2vec2-logits"))
    assert data.kind == "logits" and len(data) == 1 and len(data.vocabulary) == 32
    utterance = data[0]
    assert utterance.logits.shape == (422, 32) and utterance.path.suffix == ".npy"
    text = build_decoder("greedy", data.vocabulary).decode(utterance.logits)[0][0].text
    assert text == utterance.reference


def test_folder_transcript_with_space_separated_ids_is_accepted(tmp_path):
    _wav(tmp_path / "a.flac")
    _wav(tmp_path / "b.wav")
    (tmp_path / "trans.txt").write_text("a HELLO   THERE\r\n\nb\tGOOD BYE\n", encoding="utf-8")
    data = load_dataset(tmp_path)
    assert [(u.id, u.reference, u.path.name) for u in data] == [("a", "HELLO THERE", "a.flac"), ("b", "GOOD BYE", "b.wav")]


def test_librispeech_tree_is_detected_and_read_in_order(tmp_path):
    for speaker, chapter, utts in (("19", "198", ("0000", "0001")), ("84", "121", ("0000",))):
        folder = tmp_path / speaker / chapter
        lines = []
        for utt in utts:
            utt_id = f"{speaker}-{chapter}-{utt}"
            _wav(folder / f"{utt_id}.flac")
            lines.append(f"{utt_id} TEXT OF {utt_id}")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_dataset(tmp_path)
    assert data.kind == "librispeech"
    assert data.ids == ["19-198-0000", "19-198-0001", "84-121-0000"]
    assert data[2].reference == "TEXT OF 84-121-0000"


def test_librispeech_tree_lists_every_missing_audio_file(tmp_path):
    folder = tmp_path / "1" / "2"
    _wav(folder / "1-2-0000.flac")
    (folder / "1-2.trans.txt").write_text("1-2-0000 A\n1-2-0001 B\n1-2-0002 C\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="2 utterance.*1-2-0001, 1-2-0002"):
        load_dataset(tmp_path)


def test_manifest_resolves_relative_paths_against_its_folder(tmp_path, monkeypatch):
    _wav(tmp_path / "audio" / "one.wav")
    absolute = _wav(tmp_path / "elsewhere" / "two.wav")
    manifest = tmp_path / "manifest.jsonl"
    rows = [
        {"audio_filepath": "audio/one.wav", "text": "first  one", "duration": 0.1},
        {"audio_filepath": str(absolute), "text": "second"},
    ]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")  # relative paths must not depend on the working directory
    data = load_dataset(manifest)
    assert data.kind == "manifest"
    assert [(u.id, u.reference, u.path, u.duration) for u in data] == [
        ("one", "first one", tmp_path / "audio" / "one.wav", 0.1),
        ("two", "second", absolute, None),
    ]


def test_manifest_lists_every_missing_audio_file(tmp_path):
    _wav(tmp_path / "ok.wav")
    rows = [{"audio_filepath": name, "text": "X"} for name in ("ok.wav", "gone1.wav", "gone2.wav")]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(DatasetError, match="2 utterance.*gone1.wav.*gone2.wav"):
        load_dataset(manifest)


def test_manifest_line_that_is_not_json_is_named(tmp_path):
    _wav(tmp_path / "a.wav")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio_filepath": "a.wav", "text": "A"}\n{not json}\n', encoding="utf-8")
    with pytest.raises(FileFormatError, match="m.jsonl.*line 2 is not valid JSON"):
        load_dataset(manifest)


def test_manifest_line_without_text_is_named(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio_filepath": "a.wav"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="line 1 lacks text"):
        load_dataset(manifest)


def test_transcript_naming_missing_audio_lists_all_missing_ids_at_once(tmp_path):
    _wav(tmp_path / "present.wav")
    (tmp_path / "trans.txt").write_text("present A\nlost1 B\nlost2 C\nlost3 D\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="3 utterance.*lost1, lost2, lost3"):
        load_dataset(tmp_path)


def test_empty_references_are_refused_listing_their_ids(tmp_path):
    for name in ("a", "b", "c"):
        _wav(tmp_path / f"{name}.wav")
    (tmp_path / "trans.txt").write_text("a HELLO\nb\nc\t  \n", encoding="utf-8")
    with pytest.raises(DatasetError, match="2 utterance.*empty reference.*b, c.*allow_empty_references"):
        load_dataset(tmp_path)


def test_empty_references_are_kept_when_explicitly_allowed(tmp_path):
    _wav(tmp_path / "a.wav")
    (tmp_path / "trans.txt").write_text("a\n", encoding="utf-8")
    assert load_dataset(tmp_path, allow_empty_references=True)[0].reference == ""


def test_non_utf8_transcript_names_the_file_and_line(tmp_path):
    _wav(tmp_path / "a.wav")
    _wav(tmp_path / "b.wav")
    (tmp_path / "trans.txt").write_bytes("a HELLO\nb CAF".encode() + b"\xe9\n")
    with pytest.raises(FileFormatError, match=r"trans.txt.*line 2 is not valid UTF-8 \(byte 0xe9"):
        load_dataset(tmp_path)


def test_repeated_ids_in_a_transcript_are_refused_with_their_lines(tmp_path):
    _wav(tmp_path / "a.wav")
    (tmp_path / "trans.txt").write_text("a ONE\na TWO\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"repeats ids: 'a' \(lines 1 and 2\)"):
        load_dataset(tmp_path)


def test_logits_folder_reads_npy_and_pt_files(tmp_path):
    import torch

    np.save(tmp_path / "u1.npy", np.zeros((1, 5, 4), dtype=np.float32))
    torch.save(torch.zeros(7, 4), tmp_path / "u2.pt")
    (tmp_path / "trans.txt").write_text("u1\tA\nu2\tB\n", encoding="utf-8")
    data = load_dataset(tmp_path)
    assert data.kind == "logits" and data.vocabulary is None
    assert [u.logits.shape for u in data] == [(5, 4), (7, 4)]


def test_logits_folder_lists_every_missing_logits_file(tmp_path):
    np.save(tmp_path / "u1.npy", np.zeros((5, 4), dtype=np.float32))
    (tmp_path / "trans.txt").write_text("u1 A\nu2 B\nu3 C\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="2 utterance.*u2, u3"):
        load_dataset(tmp_path, kind="logits")


def test_folder_with_both_audio_and_logits_asks_for_a_kind(tmp_path):
    _wav(tmp_path / "a.wav")
    np.save(tmp_path / "a.npy", np.zeros((5, 4), dtype=np.float32))
    (tmp_path / "trans.txt").write_text("a X\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="kind='folder' or kind='logits'"):
        load_dataset(tmp_path)
    assert load_dataset(tmp_path, kind="logits")[0].logits.shape == (5, 4)


def test_missing_source_and_unknown_layout_are_refused(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="cannot tell what dataset"):
        load_dataset(tmp_path)
    with pytest.raises(InputError, match="kind must be"):
        load_dataset(tmp_path, kind="csv")


class _FakeHFDataset:
    """The slice of the datasets.Dataset API that load_dataset uses."""

    def __init__(self, rows):
        self.rows = rows
        self.column_names = list(rows[0])
        self.decoded = 0

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key):
        if isinstance(key, str):
            return [row[key] for row in self.rows]
        self.decoded += 1
        return self.rows[key]


def _hf_rows():
    return [
        {"id": "x1", "audio": {"array": np.zeros(8000), "sampling_rate": 8000, "path": "x1.flac"}, "text": "HELLO"},
        {"id": "x2", "audio": {"array": np.zeros((4000, 2)), "sampling_rate": 8000, "path": None}, "text": "BYE  NOW"},
    ]


def test_hf_dataset_object_is_read_lazily_with_detected_columns():
    table = _FakeHFDataset(_hf_rows())
    data = load_dataset(table)
    assert data.kind == "hf" and len(data) == 2 and table.decoded == 0
    second = data[1]
    assert (second.id, second.reference, second.sampling_rate, second.duration) == ("x2", "BYE NOW", 8000, 0.5)
    assert second.audio.shape == (4000,) and second.audio.dtype == np.float32  # stereo down-mixed
    assert second.load_audio(16000).shape == (8000,)
    assert [u.id for u in data] == ["x1", "x2"]


def test_hf_dataset_with_empty_reference_is_refused():
    rows = _hf_rows()
    rows[0]["text"] = " "
    with pytest.raises(DatasetError, match="empty reference.*rows 0"):
        load_dataset(_FakeHFDataset(rows))


def test_hf_name_loads_through_datasets_load_dataset(monkeypatch):
    calls = []
    fake = types.ModuleType("datasets")
    fake.load_dataset = lambda name, config, split: calls.append((name, config, split)) or _FakeHFDataset(_hf_rows())
    monkeypatch.setitem(sys.modules, "datasets", fake)
    data = load_dataset("hf:openslr/librispeech_asr:clean", split="test")
    assert calls == [("openslr/librispeech_asr", "clean", "test")]
    assert data.kind == "hf" and data.ids == ["x1", "x2"]


def test_hf_name_without_datasets_installed_gives_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(MissingDependencyError, match="pip install datasets"):
        load_dataset("hf:openslr/librispeech_asr:clean")


def test_utterance_without_audio_says_so():
    with pytest.raises(InputError, match="'u' has no audio"):
        Utterance("u", "X", logits=np.zeros((3, 4))).load_audio()
