"""CausalLM over a tiny randomly initialised GPT-2 with a word-level tokenizer built offline."""

from __future__ import annotations

import pytest

from tests.conftest import backend_params, require_module

torch = require_module("torch")
transformers = require_module("transformers")
tokenizers = require_module("tokenizers")

from ctcdecode_kit import build_decoder  # noqa: E402
from ctcdecode_kit.errors import LanguageModelError  # noqa: E402
from ctcdecode_kit.lm import CausalLM, LanguageModel, score_sentence, word_scores  # noqa: E402

EOS = "<|endoftext|>"
WORDS = [EOS, "<unk>"] + (
    "also a popular contrivance whereby where by love making may be suspended but not stopped during the "
    "picnic season cat sat on mat"
).split()


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    word_level = tokenizers.Tokenizer(
        tokenizers.models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>")
    )
    word_level.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=word_level, bos_token=EOS, eos_token=EOS, unk_token="<unk>"
    )
    tokenizer.save_pretrained(folder)
    config = transformers.GPT2Config(vocab_size=len(WORDS), n_positions=24, n_embd=16, n_layer=1, n_head=2,
                                     bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def causal(tiny_gpt2):
    return CausalLM(tiny_gpt2, case="lower", batch_size=3)


def manual_log_prob(folder, words: list[str]) -> float:
    model = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    ids = [0] + [WORDS.index(w) for w in words] + [0]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1].double(), dim=-1)
    return float(sum(logp[i, t] for i, t in enumerate(ids[1:])))


def test_sentence_score_equals_a_manual_forward_pass_with_bos_and_eos(tiny_gpt2, causal):
    assert causal.score_sentence("the cat sat") == pytest.approx(manual_log_prob(tiny_gpt2, ["the", "cat", "sat"]),
                                                                 abs=1e-4)


def test_batched_scores_equal_one_by_one_scores_across_padding(causal):
    sentences = ["the cat sat on the mat", "cat", "", "a popular picnic season", "love", "where by"]
    batched = causal.score_sentences(sentences)
    fresh = CausalLM(causal.name, case="lower", batch_size=1)
    assert batched == pytest.approx([fresh.score_sentence(s) for s in sentences], abs=1e-4)


def test_uppercase_wav2vec2_text_is_mapped_to_the_models_case(causal):
    assert causal.score_sentence("THE CAT SAT") == pytest.approx(causal.score_sentence("the cat sat"))


def test_it_follows_the_protocol_with_the_whole_score_at_the_end(causal):
    assert isinstance(causal, LanguageModel)
    scores = word_scores(causal, "the cat")
    assert [s for _, s in scores[:-1]] == [0.0, 0.0]
    assert scores[-1][1] == pytest.approx(causal.score_sentence("the cat"))
    assert score_sentence(causal, ["the", "cat"]) == pytest.approx(scores[-1][1])


def test_it_runs_on_the_gpu_when_there_is_one(causal):
    assert causal.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_the_rescore_backend_uses_it_on_real_logits(shared, causal):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    decoder = build_decoder("rescore", vocab, lms=causal, alphas=1.0, candidates=4,
                            first_pass_options={"beam_width": 8, "num_workers": 1})
    hyps = decoder.decode(logits, nbest=4)[0]
    for h in hyps:
        assert h.lm_score == pytest.approx(causal.score_sentence(h.text), abs=1e-4)
        assert h.score == pytest.approx(h.am_score + h.lm_score)


@pytest.mark.parametrize("backend", backend_params("native", "pyctcdecode"))
def test_it_also_works_for_fusion_in_beam_search(shared, causal, backend):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    hyp = build_decoder(backend, vocab, beam_width=4, lm=causal, alpha=0.1, num_workers=1).decode(logits)[0][0]
    assert hyp.lm_score == pytest.approx(causal.score_sentence(hyp.text), abs=1e-4)


def test_a_sentence_longer_than_the_model_is_refused(causal):
    with pytest.raises(LanguageModelError, match="more than the 24 positions"):
        causal.score_sentence(["cat"] * 30)


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(LanguageModelError, match="could not load a causal LM"):
        CausalLM(tmp_path)


def test_auto_case_is_refused(tiny_gpt2):
    with pytest.raises(LanguageModelError, match="no word list"):
        CausalLM(tiny_gpt2, case="auto")
