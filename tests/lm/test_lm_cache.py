"""One load per process (issue 12): the process-wide LM cache, its key, its counter, and the
engines (tune, compare, derived decoders, worker recipes) that go through it."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from ctcdecode_kit import build_decoder, load_dataset
from ctcdecode_kit.errors import InputError, LanguageModelError, MissingFileError
from tests.conftest import FlatLM, backend_param, require_module

native = require_module("ctcdecode_kit.decoders.native")

from ctcdecode_kit.lm import KenLM, clear_cache, load_count, load_language_model, load_lm
from ctcdecode_kit.lm import cache as lm_cache
from ctcdecode_kit.lm.loading import portable_language_model


@pytest.fixture(autouse=True)
def empty_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture()
def arpa(shared, tmp_path):
    """A private copy of the small test ARPA (its own cache key)."""
    path = tmp_path / "test.arpa"
    shutil.copyfile(shared.path("kenlm/test.arpa"), path)
    return path


@pytest.fixture()
def full_checks(monkeypatch):
    """Count the full ARPA checks (``inspect_arpa(..., validate=True)``), wherever they are called from."""
    from ctcdecode_kit.lm import arpa as arpa_module
    from ctcdecode_kit.lm import kenlm_model

    calls = []
    real = arpa_module.inspect_arpa

    def counting(path, *args, validate=True, **kwargs):
        if validate:
            calls.append(str(path))
        return real(path, *args, validate=validate, **kwargs)

    monkeypatch.setattr(arpa_module, "inspect_arpa", counting)
    monkeypatch.setattr(kenlm_model, "inspect_arpa", counting)
    return calls


# ---------------------------------------------------------------- the cache itself
def test_a_path_is_loaded_once_per_process_per_kind(arpa):
    before = (load_count(), load_count("kenlm"), load_count("native"))
    kenlm = load_lm(arpa, "kenlm")
    assert load_lm(str(arpa), "kenlm") is kenlm and isinstance(kenlm, KenLM)
    arpa_lm = load_lm(arpa, "native")
    assert load_lm(arpa, "native") is arpa_lm and type(arpa_lm).__name__ == "ArpaLM"
    assert (load_count(), load_count("kenlm"), load_count("native")) == (before[0] + 2, before[1] + 1, before[2] + 1)
    assert lm_cache.cached_paths() == [str(arpa.resolve())]


def test_a_symbolic_link_and_a_relative_path_share_the_entry_of_the_file(arpa, tmp_path, monkeypatch):
    link = tmp_path / "link.arpa"
    link.symlink_to(arpa)
    lm = load_lm(arpa, "native")
    monkeypatch.chdir(tmp_path)
    before = load_count()
    assert load_lm("link.arpa", "native") is lm and load_lm("test.arpa", "native") is lm
    assert load_count() == before


def test_a_file_changed_on_disk_is_loaded_again_and_its_old_version_dropped(arpa):
    old = load_lm(arpa, "native")
    text = arpa.read_text()
    assert "-0.4846522" in text
    arpa.write_text(text.replace("-0.4846522", "-0.4846523"))  # same size; maybe the same mtime tick
    before = load_count()
    new = load_lm(arpa, "native")
    assert new is not old and load_count() == before + 1
    assert round(new.log10_scores(["looking"], eos=False)[0], 7) == -0.4846523
    assert lm_cache.cache_info().entries == 1  # the old version's model is no longer held


def test_options_that_change_the_model_are_part_of_the_key(arpa):
    lower = load_lm(arpa, "kenlm", case="lower")
    upper = load_lm(arpa, "kenlm", case="upper")
    assert lower is not upper and (lower.case, upper.case) == ("lower", "upper")
    before = load_count()
    auto = load_lm(arpa, "kenlm")  # "auto" is a key of its own until loaded...
    assert auto.case == "lower" and load_count() == before + 1
    assert load_lm(arpa, "kenlm", case=None) is not auto
    clear_cache()
    auto = load_lm(arpa, "kenlm")  # ...and once loaded, it answers for the case it resolved to
    before = load_count()
    assert load_lm(arpa, "kenlm", case="lower") is auto and load_count() == before
    listed = load_lm(arpa, "kenlm", unigrams=["looking", "on"])
    assert listed is not auto and listed.unigrams == ("looking", "on")


def test_the_full_arpa_check_runs_once_even_when_a_first_load_skipped_it(arpa, full_checks):
    quick = load_lm(arpa, "kenlm", validate=False)
    assert full_checks == []
    assert load_lm(arpa, "kenlm") is quick and full_checks == [str(arpa)]  # checked now, not loaded again
    assert load_lm(arpa, "kenlm") is quick and load_lm(arpa, "kenlm", validate=False) is quick
    assert full_checks == [str(arpa)]


def test_a_failed_load_is_not_cached(tmp_path, shared):
    bad = tmp_path / "lm.arpa"
    bad.write_text("not an ARPA file\n")
    before = load_count()
    for _ in range(2):
        with pytest.raises(LanguageModelError):
            load_lm(bad, "kenlm")
    assert lm_cache.cache_info().entries == 0 and load_count() == before
    shutil.copyfile(shared.path("kenlm/test.arpa"), bad)
    assert load_lm(bad, "kenlm").order == 5 and load_count() == before + 1


def test_a_missing_file_gets_the_class_own_error_with_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingFileError, match="'missing.arpa' does not exist"):
        load_lm("missing.arpa", "native")
    with pytest.raises(MissingFileError, match="'missing.arpa' does not exist"):
        load_lm("missing.arpa", "kenlm")


def test_an_unknown_kind_is_refused(arpa):
    with pytest.raises(InputError, match="LM kind must be one of kenlm, native, got 'torch'"):
        load_lm(arpa, "torch")
    with pytest.raises(InputError, match="LM kind must be one of"):
        load_count("torch")


def test_clear_cache_empties_it_and_the_next_call_loads_again(arpa):
    first = load_lm(arpa, "native")
    assert lm_cache.cache_info().entries == 1
    clear_cache()
    assert lm_cache.cache_info().entries == 0 and lm_cache.cached_paths() == []
    before = load_count()
    assert load_lm(arpa, "native") is not first and load_count() == before + 1
    assert first.order == 5  # a model handed out before stays usable


def test_two_threads_asking_for_the_same_file_load_it_once(arpa, monkeypatch):
    real = lm_cache._LOADERS["native"]
    started = threading.Event()

    def slow(path, options, validate):
        started.set()
        time.sleep(0.2)  # widens the window in which a second caller could start its own load
        return real(path, options, validate)

    monkeypatch.setitem(lm_cache._LOADERS, "native", slow)
    before = load_count()
    barrier = threading.Barrier(6)
    got = []

    def ask():
        barrier.wait()
        got.append(load_lm(arpa, "native"))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert started.is_set() and len(got) == 6 and all(lm is got[0] for lm in got)
    assert load_count() == before + 1


# ---------------------------------------------------------------- the paths that turn a path into an LM
def test_rescore_and_native_share_what_can_be_shared(arpa, shared, full_checks):
    vocab = shared.wav2vec2_vocab()
    before = (load_count("kenlm"), load_count("native"))
    rescore = build_decoder("rescore", vocab, lms=str(arpa), candidates=4, first_pass_options={"beam_width": 8})
    native_path = build_decoder("native", vocab, lm=str(arpa), beam_width=8)
    native_kenlm = build_decoder("native", vocab, lm=load_language_model(str(arpa)), beam_width=8)
    assert native_kenlm._native_lm is not None and rescore.lms[0] is load_language_model(str(arpa))
    assert native_path._native_lm is native_kenlm._native_lm  # one ArpaLM, also as a KenLM's native twin
    assert (load_count("kenlm"), load_count("native")) == (before[0] + 1, before[1] + 1)
    assert full_checks == [str(arpa)]


@pytest.mark.extra("pyctcdecode")
def test_pyctcdecode_fusion_and_rescoring_share_one_kenlm(arpa, shared, full_checks):
    vocab = shared.wav2vec2_vocab()
    before = load_count("kenlm")
    beam = build_decoder("pyctcdecode", vocab, lm=str(arpa), beam_width=8, num_workers=1)
    rescore = build_decoder("rescore", vocab, lms=str(arpa), candidates=4, first_pass_options={"beam_width": 8})
    assert beam._lm.language_model is rescore.lms[0]  # one KenLM for fusion and rescoring
    assert load_count("kenlm") == before + 1
    assert full_checks == [str(arpa)]


@pytest.mark.parametrize("kind", ["probing", "trie"])
def test_a_kenlm_binary_given_to_native_is_loaded_once(shared, kind):
    binary = shared.path(f"kenlm-bin/test.{kind}.bin")
    vocab = shared.wav2vec2_vocab()
    before = (load_count("kenlm"), load_count("native"))
    a = build_decoder("native", vocab, lm=str(binary), beam_width=8)
    b = build_decoder("native", vocab, lm=str(binary), beam_width=8, lm_case="lower")
    assert a._py_lm is None and a._native_lm is b._native_lm  # read natively (issue 12), once
    assert (load_count("kenlm"), load_count("native")) == (before[0], before[1] + 1)


@pytest.mark.extra("pyctcdecode")
@pytest.mark.parametrize("kind", ["probing", "trie"])
def test_a_kenlm_binary_given_to_pyctcdecode_is_loaded_once(shared, kind):
    binary = shared.path(f"kenlm-bin/test.{kind}.bin")
    vocab = shared.wav2vec2_vocab()
    before = (load_count("kenlm"), load_count("native"))
    c = build_decoder("pyctcdecode", vocab, lm=str(binary), beam_width=8, num_workers=1)
    d = build_decoder("pyctcdecode", vocab, lm=str(binary), beam_width=8, num_workers=1)
    assert c._lm.language_model is d._lm.language_model  # pyctcdecode's KenLM, once
    assert (load_count("kenlm"), load_count("native")) == (before[0] + 1, before[1])


@pytest.mark.extra("pyctcdecode")
def test_derived_pyctcdecode_decoders_load_and_check_nothing(arpa, shared, full_checks):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    base = build_decoder("pyctcdecode", vocab, lm=str(arpa), beam_width=8, num_workers=1)
    loads, checks = load_count(), list(full_checks)
    for alpha, beta, offset in ((0.0, 0.0, -10.0), (1.0, 2.0, -5.0), (2.0, -1.0, -1.0)):
        derived = base.with_options(alpha=alpha, beta=beta, unk_score_offset=offset)
        assert derived._lm.language_model is base._lm.language_model
        assert derived._lm._index is base._lm._index  # the unigram prefix index is not rebuilt
        derived.decode(logits)
    rebuilt = build_decoder("pyctcdecode", vocab, lm=str(arpa), beam_width=8, num_workers=1, alpha=2.0)
    assert rebuilt._lm.language_model is base._lm.language_model
    assert load_count() == loads and full_checks == checks == [str(arpa)]


def test_the_worker_recipe_of_a_cached_kenlm_finds_it_in_the_cache(arpa, full_checks):
    lm = load_language_model(str(arpa))
    before = load_count()
    assert portable_language_model(lm).load() is lm  # what a (forked) worker process does
    assert load_count() == before and full_checks == [str(arpa)]


def test_the_worker_recipe_loads_once_in_a_process_that_has_no_model_yet(arpa, full_checks):
    recipe = portable_language_model(load_language_model(str(arpa)))
    clear_cache()  # a fresh worker process: nothing cached
    before = load_count()
    first = recipe.load()
    assert recipe.load() is first and load_count() == before + 1
    assert full_checks == [str(arpa)]  # the worker skips the full check: the parent made it


# ---------------------------------------------------------------- the engines
@pytest.mark.parametrize(
    ("decoder", "kind", "checks"),
    # the full ARPA check: once per process for pyctcdecode's and rescore's KenLM, never for native's reader
    [("native", "native", 0), backend_param("pyctcdecode", "kenlm", 1, id="pyctcdecode"), ("rescore", "kenlm", 1)],
)
def test_tune_with_12_trials_loads_the_lm_exactly_once_and_a_second_tune_not_at_all(arpa, shared, full_checks,
                                                                                    decoder, kind, checks):
    from ctcdecode_kit.runs.logits_cache import utterance_log_probs
    from ctcdecode_kit.runs.tune import tune

    data = load_dataset(shared.path("wav2vec2-logits"))
    arrays = utterance_log_probs(data, None, data.vocabulary)
    spec = "pyctcdecode:num_workers=1" if decoder == "pyctcdecode" else decoder
    before = load_count(kind)
    result = tune(arrays, data.references, data.vocabulary, lm=str(arpa), decoder=spec, trials=12, beam_width=8)
    assert len(result.trials) == 12
    assert load_count(kind) == before + 1
    tune(arrays, data.references, data.vocabulary, lm=str(arpa), decoder=spec, trials=2, beam_width=8)
    assert load_count(kind) == before + 1
    assert full_checks == [str(arpa)] * checks


def test_compare_with_the_default_decoders_loads_each_kind_of_lm_once(arpa, shared):
    from ctcdecode_kit.runs.compare import compare
    from ctcdecode_kit.runs.specs import available_decoder_specs

    data = load_dataset(shared.path("wav2vec2-logits"))
    before = (load_count("kenlm"), load_count("native"))
    result = compare(data, vocabulary=data.vocabulary, lm=str(arpa), beam_width=8)
    labels = [r.decoder for r in result.results]
    assert labels == available_decoder_specs(with_lm=True)
    assert set(labels) >= {"greedy", "native", "native+lm", "rescore"}
    # pyctcdecode+lm and rescore share one KenLM; native+lm reads the ARPA once natively
    assert (load_count("kenlm"), load_count("native")) == (before[0] + 1, before[1] + 1)
    compare(data, decoders=["native+lm", "rescore"], vocabulary=data.vocabulary, lm=str(arpa), beam_width=8)
    assert (load_count("kenlm"), load_count("native")) == (before[0] + 1, before[1] + 1)


@pytest.mark.extra("pyctcdecode")
def test_data_derived_from_an_lm_is_kept_per_lm_object_and_word_list():
    from ctcdecode_kit.lm.pyctcdecode_adapter import PyctcdecodeLM

    class Words(FlatLM):
        unigrams = ("cat", "dog")

    lm = Words()
    first = PyctcdecodeLM(lm, alpha=0.5, beta=1.0, unk_score_offset=-10.0)
    again = PyctcdecodeLM(lm, alpha=1.0, beta=0.0, unk_score_offset=-5.0)
    assert again._index is first._index
    lm.unigrams = ("cow",)  # a new word list is seen
    changed = PyctcdecodeLM(lm, alpha=1.0, beta=0.0, unk_score_offset=-5.0)
    assert changed._index is not first._index and "cow" in changed._index and "cat" not in changed._index
    other = PyctcdecodeLM(Words(), alpha=0.5, beta=1.0, unk_score_offset=-10.0)
    assert other._index is not first._index
