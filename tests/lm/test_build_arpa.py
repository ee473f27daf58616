"""build_arpa: modified Kneser-Ney equal to KenLM's lmplz, normalised, loadable, deterministic."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from ctcdecode_kit.errors import InputError, MissingFileError
from ctcdecode_kit.lm import KenLM, build_arpa, inspect_arpa, normalize_line



def synthetic_corpus(sentences: int = 2000) -> list[str]:
    """Deterministic text with Zipf-like words and repeated phrases (a plain LCG, no random module)."""
    syllables = ("ba", "ko", "mi", "tu", "re", "sa", "no", "li")
    vocab = [a + b + c for a in syllables for b in syllables for c in ("", "n", "s", "ra", "te", "lo")]
    state = 2024
    lines = []
    for _ in range(sentences):
        state = (state * 1103515245 + 12345) % 2**31
        length = 2 + state % 9
        words: list[str] = []
        previous = 0
        for _ in range(length):
            state = (state * 1103515245 + 12345) % 2**31
            u = state / 2**31
            if u < 0.4 and words:
                index = (previous * 7 + 3) % 25  # a frequent follower: repeated bigrams and trigrams
            else:
                index = int(len(vocab) ** (u * u)) - 1  # Zipf-like
            words.append(vocab[index])
            previous = index
        lines.append(" ".join(words))
    return lines


# KenLM's lmplz (kenlm 0.3.0 sources, `lmplz -o 3`) on synthetic_corpus(2000):
# "1 376 D1=0.222222 D2=1.12381 D3+=2.20773 / 2 4211 D1=0.726442 D2=1.21866 D3+=1.03433 /
#  3 7745 D1=0.857947 D2=1.07713 D3+=1.56865", and these entries of its ARPA output
# (log10 probability, log10 backoff); all 12,332 entries agreed within 3e-7 when checked.
LMPLZ_COUNTS = (376, 4211, 7745)
LMPLZ_DISCOUNTS = ((0.222222, 1.12381, 2.20773), (0.726442, 1.21866, 1.03433), (0.857947, 1.07713, 1.56865))
LMPLZ_ENTRIES = [
    ("</s>", -1.2427521, 0.0),
    ("<unk>", -3.3244896, 0.0),
    ("konolo", -2.5914824, -0.2924704),
    ("mikora", -2.5914824, -0.3380982),
    ("nosate", -3.166356, -0.21514757),
    ("samin", -2.9443169, -0.45326617),
    ("baba", -2.4849138, -0.20892142),
    ("<s> baba", -0.44809514, -0.6861041),
    ("babas lilin", -3.1280603, -0.0665394),
    ("bamilo nomis", -2.6317, -0.0665394),
    ("batura balis", -2.363779, -0.0665394),
    ("mimilo </s>", -1.2146157, 0.0),
    ("baba babara", -1.1249163, -0.56111944),
    ("<s> baba babalo", -1.6145407, 0.0),
    ("babalo remis </s>", -0.800755, 0.0),
    ("bakolo komira batun", -0.5242472, 0.0),
    ("bamite kokote </s>", -0.6316893, 0.0),
    ("kolira bakon bamilo", -0.8113824, 0.0),
]


def read_arpa(path: Path) -> dict[str, tuple[float, float]]:
    entries, order = {}, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("\\") and line.endswith("-grams:"):
            order = int(line[1:].split("-")[0])
            continue
        if not order or not line or line.startswith("\\"):
            continue
        fields = line.split("\t")
        entries[fields[1]] = (float(fields[0]), float(fields[2]) if len(fields) > 2 else 0.0)
    return entries


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("arpa")
    full = build_arpa(synthetic_corpus(), out / "full.arpa", order=3)
    pruned = build_arpa(synthetic_corpus(), out / "pruned.arpa", order=3, prune_singletons=True)
    return full, pruned


def history_sums(path: Path, histories: list[list[str]]) -> list[float]:
    """Sum over the whole vocabulary (</s> and <unk> included, <s> excluded) of P(w | history), via
    :class:`KenLM` (the kenlm package where installed, else the kit's reader: the same scores)."""
    model = KenLM(path, case=None)
    vocab = [w for w in read_arpa(path) if " " not in w and w != "<s>"]
    sums = []
    for history in histories:
        state = model.begin()
        for word in history:
            _, state = model.score(state, word)
        sums.append(math.fsum(math.exp(model.score(state, w)[0]) for w in vocab))
    return sums


HISTORIES = [[], ["baba"], ["baba", "babara"], ["bamilo"], ["kolira", "bakon"], ["nosate"], ["zzz-unseen"],
             ["baba", "zzz-unseen"]]


def test_discounts_and_counts_equal_lmplz(built):
    full, _ = built
    assert full.counts == LMPLZ_COUNTS
    for ours, theirs in zip(full.discounts, LMPLZ_DISCOUNTS):
        assert ours == pytest.approx(theirs, abs=1e-5)


def test_probabilities_and_backoffs_equal_lmplz(built):
    entries = read_arpa(built[0].path)
    for gram, logp, backoff in LMPLZ_ENTRIES:
        assert entries[gram] == pytest.approx((logp, backoff), abs=1e-6), gram


@pytest.mark.parametrize("name", ["toy0", "toy1"])
def test_tiny_corpora_equal_kenlms_own_lmplz_test_models(shared, tmp_path, name):
    # kenlm's lm/common/test_data/generate.sh: lmplz --discount_fallback -o 3 on these lines
    corpus = {"toy0": ["a a b a", "b a a b"], "toy1": ["a a b b b b b b b", "c"]}[name]
    theirs = read_arpa(shared.path(f"kenlm/{name}.arpa"))
    ours = read_arpa(build_arpa(corpus, tmp_path / f"{name}.arpa", order=3).path)
    assert set(ours) == set(theirs)
    for gram in theirs:
        if gram != "<s>":  # lmplz writes 0 for <s>, we write -99: neither is ever used
            assert ours[gram] == pytest.approx(theirs[gram], abs=1e-6), gram


def test_every_history_sums_to_one_over_the_vocabulary(built):
    assert history_sums(built[0].path, HISTORIES) == pytest.approx([1.0] * len(HISTORIES), abs=1e-3)


def test_every_history_sums_to_one_after_pruning_singletons(built):
    full, pruned = built
    assert sum(pruned.counts) < sum(full.counts) and pruned.counts[0] == full.counts[0]
    assert history_sums(pruned.path, HISTORIES) == pytest.approx([1.0] * len(HISTORIES), abs=1e-3)


def test_the_file_passes_our_checks_and_loads_in_kenlm(built):
    full, _ = built
    info = inspect_arpa(full.path)
    assert info.counts == full.counts and len(info.unigrams) == full.vocabulary_size - 3
    lm = KenLM(full.path)
    assert lm.order == 3 and lm.score_sentence("baba babara") < 0


def test_output_is_deterministic(tmp_path):
    lines = synthetic_corpus(300)
    a = build_arpa(lines, tmp_path / "a.arpa", order=4).path.read_bytes()
    b = build_arpa(list(reversed(lines)), tmp_path / "b.arpa", order=4).path.read_bytes()
    assert a == b


def test_thirty_thousand_sentences_build_well_under_a_minute(tmp_path):
    lines = synthetic_corpus(30_000)
    start = time.perf_counter()
    stats = build_arpa(lines, tmp_path / "big.arpa", order=3)
    assert time.perf_counter() - start < 30 and stats.sentences == 30_000


def test_a_path_to_a_text_file_is_read(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat\n\nthe dog sat\n", encoding="utf-8")
    stats = build_arpa(corpus, tmp_path / "lm.arpa", order=2)
    assert stats.sentences == 2 and stats.words == 6 and stats.vocabulary_size == 7


def test_order_two_sums_to_one_after_every_word(tmp_path):
    stats = build_arpa(["a b b", "c", "b a"], tmp_path / "bi.arpa", order=2)
    histories = [[], ["a"], ["b"], ["c"], ["zzz"]]
    assert history_sums(stats.path, histories) == pytest.approx([1.0] * len(histories), abs=1e-6)


def test_normalisation_options_lowercase_and_strip_punctuation(tmp_path):
    stats = build_arpa(['The CAT, "sat".', "the cat's hat!"], tmp_path / "n.arpa", order=2,
                       case="lower", strip_punctuation=True)
    assert inspect_arpa(stats.path).unigrams == ("cat", "cat's", "hat", "sat", "the")


def test_normalize_line_keeps_inner_apostrophes():
    assert normalize_line("'Tis Bob's dog!", case="upper", strip_punctuation=True) == ["TIS", "BOB'S", "DOG"]


@pytest.mark.parametrize("order", [0, 1, 7, 2.0, True])
def test_a_bad_order_is_refused(tmp_path, order):
    with pytest.raises(InputError, match="order must be an integer from 2 to 6"):
        build_arpa(["a b"], tmp_path / "x.arpa", order=order)


def test_a_single_string_is_refused(tmp_path):
    with pytest.raises(InputError, match="single str"):
        build_arpa("the cat sat", tmp_path / "x.arpa")


def test_text_without_words_is_refused(tmp_path):
    with pytest.raises(InputError, match="no words"):
        build_arpa(["", "   "], tmp_path / "x.arpa")


def test_sentence_markers_in_the_text_are_refused_with_the_line(tmp_path):
    with pytest.raises(InputError, match="line 2 contains the sentence marker '</s>'"):
        build_arpa(["a b", "c </s> d"], tmp_path / "x.arpa")


def test_a_missing_text_file_is_refused(tmp_path):
    with pytest.raises(MissingFileError):
        build_arpa(tmp_path / "missing.txt", tmp_path / "x.arpa")


# --- the streaming numpy engine against the reference (the former pure-Python Counter implementation) ---


def reference_build_arpa(lines: list[str], order: int, prune: bool, fallback=(0.5, 1.0, 1.5)) -> str:
    """The ARPA text the former Counter-based build_arpa wrote (kept here only as a reference)."""
    from collections import Counter, defaultdict

    ids = {"<unk>": 0, "<s>": 1, "</s>": 2}
    sentences = []
    for line in lines:
        tokens = line.split()
        if tokens:
            sentences.append([1] + [ids.setdefault(t, len(ids)) for t in tokens] + [2])
    counts = [Counter() for _ in range(order + 1)]
    for s in sentences:
        for i in range(1, len(s)):
            start = i - order + 1
            (counts[order] if start >= 0 else counts[i + 1])[tuple(s[max(start, 0) : i + 1])] += 1
    for n in range(order - 1, 0, -1):
        for gram in counts[n + 1]:
            counts[n][gram[1:]] += 1

    def discounts_of(values):
        t = Counter(v for v in values if v <= 4)
        if min(t[1], t[2], t[3], t[4]) == 0:
            return fallback
        y = t[1] / (t[1] + 2 * t[2])
        d = (1 - 2 * y * t[2] / t[1], 2 - 3 * y * t[3] / t[2], 3 - 4 * y * t[4] / t[3])
        return d if all(0 < dk < k for k, dk in enumerate(d, start=1)) else fallback

    probs = [{} for _ in range(order + 1)]
    gammas = [{} for _ in range(order + 1)]
    for n in range(1, order + 1):
        d1, d2, d3 = discounts_of(counts[n].values())
        table = (0.0, d1, d2, d3)
        totals = defaultdict(lambda: [0.0, 0.0])
        for gram, c in counts[n].items():
            totals[gram[:-1]][0] += c
            totals[gram[:-1]][1] += table[min(c, 3)]
        gammas[n] = {h: mass / total for h, (total, mass) in totals.items()}
        for gram, c in counts[n].items():
            h = gram[:-1]
            lower = gammas[1][()] / (len(ids) - 1) if n == 1 else gammas[n][h] * probs[n - 1][gram[1:]]
            probs[n][gram] = (c - table[min(c, 3)]) / totals[h][0] + lower
        if n == 1:
            probs[1].setdefault((0,), gammas[1][()] / (len(ids) - 1))
    kept = [None] * (order + 1)
    needed = set()
    for n in range(order, 1, -1):
        if prune:
            kept[n] = {g for g, c in counts[n].items() if c > 1} | needed
            needed = {g[:-1] for g in kept[n]} | {g[1:] for g in kept[n]}
    backoffs = [{} for _ in range(order + 1)]
    for n in range(2, order + 1):
        if kept[n] is None:
            backoffs[n - 1].update(gammas[n])
            continue
        seen = defaultdict(lambda: [0.0, 0.0, 0])
        for gram in kept[n]:
            seen[gram[:-1]][0] += probs[n][gram]
            seen[gram[:-1]][1] += probs[n - 1][gram[1:]]
            seen[gram[:-1]][2] += 1
        full = Counter(g[:-1] for g in probs[n])
        for h, (high, low, k) in seen.items():
            backoffs[n - 1][h] = gammas[n][h] if k == full[h] else max(1 - high, 0.0) / max(1 - low, 1e-300)
        for h in gammas[n]:
            backoffs[n - 1].setdefault(h, 1.0)

    def fmt(v):
        return f"{v:.7f}".rstrip("0").rstrip(".") if v != 0 else "0"

    vocab = sorted(ids, key=ids.get)
    text = "\\data\\\n"
    sections = []
    for n in range(1, order + 1):
        grams = probs[n] if kept[n] is None else {g: probs[n][g] for g in kept[n]}
        rows = []
        for gram, p in list(grams.items()) + ([((1,), None)] if n == 1 else []):
            words = " ".join(vocab[i] for i in gram)
            line = f"{fmt(math.log10(p)) if p is not None else '-99'}\t{words}"
            if n < order and gram in backoffs[n]:
                w = backoffs[n][gram]
                line += "\t" + fmt(math.log10(w) if w > 0 else -99.0)
            rows.append((words, line))
        sections.append([line for _, line in sorted(rows)])
    text += "".join(f"ngram {n}={len(rows)}\n" for n, rows in enumerate(sections, start=1))
    for n, rows in enumerate(sections, start=1):
        text += f"\n\\{n}-grams:\n" + "\n".join(rows) + "\n"
    return text + "\n\\end\\\n"


def zipf_corpus(sentences: int, vocabulary: int, seed: int, extra: tuple[str, ...] = ()) -> list[str]:
    """Seeded Zipfian sentences of 0 to 25 words (blank lines included), plus tricky words."""
    import random

    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocabulary)] + ["a", "a'", "a-b", "ab", "é", "<unk>", *extra]
    weights = [1 / (i + 1) for i in range(len(words))]
    return [" ".join(rng.choices(words, weights, k=rng.randint(0, 25))) for _ in range(sentences)]


ENGINE_CASES = {
    "synthetic-order3": (synthetic_corpus(1500), 3),
    "zipf-order4": (zipf_corpus(3000, 800, 1), 4),
    "zipf-order6-small-vocabulary": (zipf_corpus(800, 40, 2), 6),
    "sentences-shorter-than-the-order": (["a", "b c", "a"], 5),
    "control-characters-in-words": (["a\x01b c", "a c", "a\x01 c", "a b c d", "a\x01b a\x01b c"] * 3, 3),
    "a-word-of-300-bytes": (zipf_corpus(300, 50, 4, extra=("x" * 150 + "é" * 75,)), 3),
}


@pytest.mark.parametrize("prune", [False, True], ids=["full", "pruned"])
@pytest.mark.parametrize("case", list(ENGINE_CASES))
def test_output_is_byte_identical_to_the_reference_implementation(tmp_path, case, prune):
    lines, order = ENGINE_CASES[case]
    stats = build_arpa(lines, tmp_path / "lm.arpa", order=order, prune_singletons=prune)
    assert stats.path.read_text(encoding="utf-8") == reference_build_arpa(lines, order, prune)


@pytest.mark.parametrize("prune", [False, True], ids=["full", "pruned"])
def test_many_small_chunks_and_blocks_give_the_same_file_as_one(tmp_path, monkeypatch, prune):
    from ctcdecode_kit.lm import build as build_module
    from ctcdecode_kit.lm import build_counts, build_estimate

    lines = zipf_corpus(2000, 300, 3)
    whole = build_arpa(lines, tmp_path / "whole.arpa", order=4, prune_singletons=prune).path.read_bytes()
    monkeypatch.setattr(build_counts, "CHUNK_TOKENS", 101)  # ~300 chunks, each merged into the tables
    monkeypatch.setattr(build_estimate, "BLOCK_ROWS", 5)  # estimation blocks smaller than many contexts
    monkeypatch.setattr(build_module, "_WRITE_ROWS", 97)
    chunked = build_arpa(lines, tmp_path / "chunked.arpa", order=4, prune_singletons=prune).path.read_bytes()
    assert chunked == whole


def test_progress_reports_reading_counting_and_writing(tmp_path):
    calls: list[tuple[str, int, int]] = []
    build_arpa(synthetic_corpus(200), tmp_path / "lm.arpa", order=3, progress=lambda *a: calls.append(a))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["reading text", "counting 2-grams", "counting 3-grams", "estimating", "writing ARPA"]
    last = {stage: (done, total) for stage, done, total in calls}
    assert all(done == total > 0 for done, total in last.values())


# --- bounded memory: sorted runs on disk, merged; estimation in pieces ---


@pytest.mark.parametrize("prune", [False, True], ids=["full", "pruned"])
def test_a_tiny_memory_budget_spills_runs_and_writes_the_same_bytes(tmp_path, prune):
    lines = zipf_corpus(3000, 800, 1)
    unbounded = build_arpa(lines, tmp_path / "big.arpa", order=4, prune_singletons=prune, memory="64G")
    calls: list[tuple[str, int, int]] = []
    tiny = build_arpa(lines, tmp_path / "tiny.arpa", order=4, prune_singletons=prune, memory="64K",
                      progress=lambda *a: calls.append(a))
    assert tiny.path.read_bytes() == unbounded.path.read_bytes()
    assert tiny.counts == unbounded.counts and tiny.discounts == unbounded.discounts
    # every order outgrew 64K: counted in several sorted runs, then merged
    merged = {stage for stage, _, _ in calls if stage.startswith("merging")}
    assert merged == {"merging 2-grams", "merging 3-grams", "merging 4-grams"}
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages.index("merging 4-grams") < stages.index("estimating") < stages.index("writing ARPA")


def test_sorted_runs_go_to_the_temporary_folder_and_are_removed_afterwards(tmp_path, monkeypatch):
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    seen_runs: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "merging 3-grams" and not seen_runs:
            seen_runs.extend(p.name for p in temporary.rglob("run3-*"))

    build_arpa(zipf_corpus(2000, 300, 3), tmp_path / "lm.arpa", order=3, memory="64K", progress=progress)
    assert len(seen_runs) >= 4  # keys and counts of at least two runs were on disk while merging
    assert list(temporary.iterdir()) == []


@pytest.mark.parametrize("failing_stage", ["merging 2-grams", "estimating", "writing ARPA"])
def test_temporary_files_are_removed_after_an_error(tmp_path, monkeypatch, failing_stage):
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    def progress(stage: str, done: int, total: int) -> None:
        if stage == failing_stage:
            assert any(temporary.rglob("*"))  # the build's files are there...
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_arpa(zipf_corpus(2000, 300, 3), tmp_path / "lm.arpa", order=3, memory="64K", progress=progress)
    assert list(temporary.iterdir()) == []  # ...and gone after the interruption


@pytest.mark.parametrize("memory", ["lots", "1X", -5, 1000, "10K", True, 2.5])
def test_a_bad_memory_budget_is_refused(tmp_path, memory):
    with pytest.raises(InputError, match="memory must be a size in bytes of at least 64K"):
        build_arpa(["a b"], tmp_path / "x.arpa", memory=memory)


def test_memory_budgets_are_read_in_binary_units():
    from ctcdecode_kit.lm.build_store import parse_memory

    assert parse_memory("1G") == parse_memory("1GB") == parse_memory("1 GiB") == 2**30
    assert parse_memory("512m") == 512 * 2**20 and parse_memory(65536) == 65536


def test_a_progress_that_is_not_callable_is_refused(tmp_path):
    with pytest.raises(InputError, match="progress must be a callable"):
        build_arpa(["a b"], tmp_path / "x.arpa", progress="yes")


def test_a_text_file_that_is_not_utf8_is_refused_naming_it(tmp_path):
    from ctcdecode_kit.errors import FileFormatError

    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("the caf\xe9 sat\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match=r"latin1\.txt' is not valid UTF-8"):
        build_arpa(corpus, tmp_path / "x.arpa")
