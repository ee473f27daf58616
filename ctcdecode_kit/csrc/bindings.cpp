// pybind11 module `ctcdecode_kit._native`: the ARPA n-gram LM and the batched beam search.
//
// Python (ctcdecode_kit/decoders/native.py) validates inputs first; this layer checks
// again what could crash (shapes, dtypes, contiguity, ids) and raises ValueError.
// Batches run on `num_threads` std::threads with the GIL released; a Python language
// model is called back with the GIL re-acquired for each call.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "align.hpp"
#include "beam_search.hpp"
#include "lexicon.hpp"
#include "ngram_lm.hpp"

namespace py = pybind11;
using namespace ckit;

namespace {

// A failure inside a user's Python language model (raised as
// _native.LanguageModelCallbackError, which the Python side reports as LanguageModelError);
// any other C++ error stays what it is.
struct LMCallbackError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

py::tuple state_tuple(const LMState& s) {
  py::tuple t(s.length);
  for (int i = 0; i < s.length; ++i) t[i] = py::int_(s.words[i]);
  return t;
}

LMState state_from_tuple(const NgramLM& lm, const py::tuple& t) {
  std::vector<WordId> words;
  for (auto item : t) {
    long long v = py::cast<long long>(item);
    if (v < 0 || static_cast<unsigned long long>(v) >= lm.vocab_size())
      throw py::value_error("state holds word id " + std::to_string(v) + ", outside the LM vocabulary");
    words.push_back(static_cast<WordId>(v));
  }
  return lm.state_from_words(words);
}

// A Python object with begin() / score(state, word) -> (logp, state) / end(state) (natural logs),
// fused like the kit's pyctcdecode adapter (ctcdecode_kit.lm.PyctcdecodeLM): a word adds
// alpha * logp + beta (+ unk_score_offset when the LM lists unigrams and the word is not one
// of them), the end adds alpha * end(state), and a partial word that starts no unigram costs
// unk_score_offset (scaled up beyond 6 characters).
class PyScorer final : public WordScorer {
 public:
  PyScorer(py::object lm, double alpha, double beta, double unk, const std::vector<std::string>* unigrams)
      : lm_(std::move(lm)), alpha_(alpha), beta_(beta), unk_(unk), unigrams_(unigrams) {}
  ~PyScorer() override { states_.clear(); }  // destroyed on the main thread, GIL held

  void reset() override {
    py::gil_scoped_acquire gil;
    states_.clear();
  }
  int32_t begin() override {
    py::gil_scoped_acquire gil;
    try {
      states_.push_back(lm_.attr("begin")());
    } catch (py::error_already_set& e) {
      throw LMCallbackError(std::string("language model begin() failed: ") + e.what());
    }
    return static_cast<int32_t>(states_.size() - 1);
  }
  int64_t word_key(const std::string& word) override {
    bool oov = has_unigrams() && !std::binary_search(unigrams_->begin(), unigrams_->end(), word);
    return static_cast<int64_t>(oov) << 32;
  }
  double score(int32_t state, int64_t key, const std::string& word, bool eos, int32_t* out_state) override {
    py::gil_scoped_acquire gil;
    try {
      double total = 0.0;
      int32_t next = state;
      if (!word.empty()) {
        py::object r = lm_.attr("score")(states_[state], py::str(word));
        if (!py::isinstance<py::tuple>(r) || py::len(r) != 2)
          throw LMCallbackError("language model score(state, word) must return a (log_prob, new_state) tuple");
        py::tuple pair = py::reinterpret_borrow<py::tuple>(r);
        double logp = checked(pair[0], "score()");
        states_.push_back(pair[1]);
        next = static_cast<int32_t>(states_.size() - 1);
        total = kit_word_score(alpha_, beta_, unk_, logp, (key >> 32) != 0);
      }
      if (eos) total += alpha_ * checked(lm_.attr("end")(states_[next]), "end()");
      *out_state = next;
      return total;
    } catch (py::error_already_set& e) {
      throw LMCallbackError(std::string("language model callback failed: ") + e.what());
    } catch (py::cast_error& e) {
      throw LMCallbackError(std::string("language model returned a non-number: ") + e.what());
    }
  }
  double partial(const std::string& part, int cp_len) override {
    if (!has_unigrams() || part.empty()) return 0.0;
    auto it = std::lower_bound(unigrams_->begin(), unigrams_->end(), part);
    return kit_partial_score(unk_, cp_len, it != unigrams_->end() && it->compare(0, part.size(), part) == 0);
  }

 private:
  bool has_unigrams() const { return unigrams_ != nullptr && !unigrams_->empty(); }
  static double checked(py::handle value, const char* what) {
    double v = py::cast<double>(value);
    if (std::isnan(v) || v == std::numeric_limits<double>::infinity())
      throw LMCallbackError(std::string("language model ") + what + " returned " + std::to_string(v) +
                               "; expected a finite natural-log probability or -inf");
    return v;
  }
  py::object lm_;
  double alpha_, beta_, unk_;
  const std::vector<std::string>* unigrams_;
  std::vector<py::object> states_;
};

// A sorted word list (a Python LM's unigrams), built once per decoder.
struct WordList {
  std::vector<std::string> words;
  explicit WordList(std::vector<std::string> w) : words(std::move(w)) { std::sort(words.begin(), words.end()); }
};

struct Job {
  const float* data;
  int frames;
};

py::list decode_batch(const std::vector<py::array>& arrays, const std::vector<std::string>& labels, int blank,
                      int delimiter, bool bpe, const DecodeOptions& options, const NgramLM* lm,
                      py::object py_lm, const WordList* py_lm_unigrams, double alpha, double beta,
                      double unk_score_offset, int num_threads, int nbest, const LexiconTrie* lexicon,
                      const LexiconLookahead* lookahead, bool allow_unknown, double unknown_word_score,
                      const WordList* lm_unigrams) {
  // The caller's options object is never written: a decoder shared by threads passes its
  // own options and each call's n-best size separately.
  DecodeOptions local = options;
  if (nbest > 0) local.nbest = nbest;
  const DecodeOptions& opts = local;
  const int V = static_cast<int>(labels.size());
  if (V < 1) throw py::value_error("labels is empty");
  if (blank < 0 || blank >= V) throw py::value_error("blank id " + std::to_string(blank) + " is outside 0.." + std::to_string(V - 1));
  if (delimiter < -1 || delimiter >= V || delimiter == blank)
    throw py::value_error("delimiter id " + std::to_string(delimiter) + " must be -1 or a non-blank id below " + std::to_string(V));
  if (opts.beam_width < 1) throw py::value_error("beam_width must be >= 1");
  if (opts.nbest < 1) throw py::value_error("nbest must be >= 1");
  if (opts.token_top_k < 0) throw py::value_error("token_top_k must be >= 0");
  if (std::isnan(opts.beam_prune_logp) || std::isnan(opts.token_min_logp) || std::isnan(opts.blank_skip_logp))
    throw py::value_error("pruning thresholds must not be NaN");
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1");
  if (lm != nullptr && !py_lm.is_none()) throw py::value_error("pass either a native LM or a Python LM, not both");
  if (!opts.score_boundary && !py_lm.is_none())
    throw py::value_error("score_boundary=False needs a native LM (a Python LM starts from its own begin())");
  if (lexicon != nullptr) {
    if (lexicon->vocab_size() != static_cast<int>(labels.size()))
      throw py::value_error("the lexicon was built for " + std::to_string(lexicon->vocab_size()) + " tokens, the labels have " +
                            std::to_string(labels.size()));
    if (delimiter < 0) throw py::value_error("lexicon decoding needs a word delimiter token");
    if (lookahead != nullptr && lookahead->node_scores.size() != lexicon->num_nodes())
      throw py::value_error("the look-ahead scores belong to another lexicon");
    if (std::isnan(unknown_word_score)) throw py::value_error("unknown_word_score must not be NaN");
  }
  LexiconSettings lex_settings{lexicon, lookahead, allow_unknown, unknown_word_score};

  std::vector<Job> jobs;
  jobs.reserve(arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    const py::array& a = arrays[i];
    if (!py::isinstance<py::array_t<float>>(a) || a.dtype().kind() != 'f' || a.itemsize() != 4)
      throw py::value_error("array " + std::to_string(i) + " must be float32");
    if (a.ndim() != 2) throw py::value_error("array " + std::to_string(i) + " must be 2-D [T, V]");
    if (!(a.flags() & py::array::c_style)) throw py::value_error("array " + std::to_string(i) + " must be C-contiguous");
    if (a.shape(1) != V)
      throw py::value_error("array " + std::to_string(i) + " has " + std::to_string(a.shape(1)) + " classes, expected " + std::to_string(V));
    if (a.shape(0) > std::numeric_limits<int>::max()) throw py::value_error("too many frames");
    jobs.push_back(Job{static_cast<const float*>(a.data()), static_cast<int>(a.shape(0))});
  }
  Alphabet alphabet{labels, blank, delimiter, bpe};
  const int threads = std::max(1, std::min<int>(num_threads, static_cast<int>(jobs.size())));
  std::vector<std::unique_ptr<WordScorer>> scorers;
  for (int w = 0; w < threads; ++w) {
    if (lm != nullptr)
      scorers.emplace_back(new NativeScorer(*lm, alpha, beta, unk_score_offset, opts.lm_cache, opts.kit_lm_rules,
                                            lm_unigrams == nullptr ? nullptr : &lm_unigrams->words,
                                            opts.score_boundary));
    else if (!py_lm.is_none())
      scorers.emplace_back(new PyScorer(py_lm, alpha, beta, unk_score_offset, py_lm_unigrams == nullptr ? nullptr : &py_lm_unigrams->words));
    else
      scorers.emplace_back(nullptr);
  }
  std::vector<std::vector<OutputBeam>> results(jobs.size());
  std::exception_ptr error;
  {
    py::gil_scoped_release release;
    std::atomic<size_t> next{0};
    std::mutex error_mutex;
    auto work = [&](int w) {
      try {
        std::unique_ptr<BeamSearch> search;
        std::unique_ptr<LexiconSearch> lex_search;
        if (lexicon != nullptr)
          lex_search.reset(new LexiconSearch(alphabet, opts, scorers[w].get(), lex_settings));
        else
          search.reset(new BeamSearch(alphabet, opts, scorers[w].get()));
        for (size_t i = next++; i < jobs.size(); i = next++) {
          results[i] = lexicon != nullptr ? lex_search->decode(jobs[i].data, jobs[i].frames)
                                          : search->decode(jobs[i].data, jobs[i].frames);
          std::lock_guard<std::mutex> lock(error_mutex);
          if (error) return;
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = jobs.size();
      }
    };
    if (threads == 1) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (int w = 0; w < threads; ++w) pool.emplace_back(work, w);
      for (auto& th : pool) th.join();
    }
  }
  scorers.clear();
  if (error) std::rethrow_exception(error);
  py::list out;
  for (const auto& beams : results) {
    py::list hyps;
    for (const auto& b : beams) {
      py::list frames;
      for (const auto& f : b.frames) frames.append(py::make_tuple(f.first, f.second));
      if (lexicon != nullptr)
        hyps.append(py::make_tuple(py::str(b.text), frames, b.logit_score, b.score, b.tokens, b.word_ids));
      else
        hyps.append(py::make_tuple(py::str(b.text), frames, b.logit_score, b.score, b.tokens));
    }
    out.append(hyps);
  }
  return out;
}

py::object align(const py::array_t<float, py::array::c_style | py::array::forcecast>& x, int blank,
                 const std::vector<int32_t>& token, const std::vector<int32_t>& succ_begin,
                 const std::vector<int32_t>& succ, const std::vector<uint8_t>& is_start,
                 const std::vector<uint8_t>& is_final, bool allow_empty) {
  if (x.ndim() != 2) throw py::value_error("log_probs must be 2-D [T, V]");
  const int T = static_cast<int>(x.shape(0)), V = static_cast<int>(x.shape(1));
  const size_t N = token.size();
  if (blank < 0 || blank >= V) throw py::value_error("blank id outside the vocabulary");
  if (succ_begin.size() != N + 1 || is_start.size() != N || is_final.size() != N || succ_begin[0] != 0 ||
      static_cast<size_t>(succ_begin[N]) != succ.size())
    throw py::value_error("inconsistent alignment graph arrays");
  for (size_t k = 0; k < N; ++k)
    if (succ_begin[k] > succ_begin[k + 1]) throw py::value_error("succ_begin must be non-decreasing");
  for (int32_t j : succ)
    if (j < 0 || static_cast<size_t>(j) >= N) throw py::value_error("successor outside the graph");
  AlignGraph g{token, succ_begin, succ, is_start, is_final, allow_empty};
  AlignResult r;
  {
    py::gil_scoped_release release;
    r = ctc_align(x.data(), T, V, blank, g);
  }
  if (!r.ok) return py::none();
  return py::make_tuple(r.nodes, r.starts, r.ends, r.score);
}

std::vector<int32_t> pyset_order(const std::vector<int32_t>& ascending, int32_t extra) {
  for (size_t i = 0; i < ascending.size(); ++i)
    if (ascending[i] < 0 || (i > 0 && ascending[i] <= ascending[i - 1])) throw py::value_error("indices must be ascending and >= 0");
  if (extra < 0) throw py::value_error("extra must be >= 0");
  PySetOrder order;
  std::vector<int32_t> out;
  order.order(ascending, extra, out);
  return out;
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Native CTC beam search and ARPA n-gram LM for ctcdecode_kit (see ctcdecode_kit.decoders.native).";

  py::class_<DecodeOptions>(m, "DecodeOptions")
      .def(py::init<>())
      .def_readwrite("beam_width", &DecodeOptions::beam_width)
      .def_readwrite("beam_prune_logp", &DecodeOptions::beam_prune_logp)
      .def_readwrite("token_min_logp", &DecodeOptions::token_min_logp)
      .def_readwrite("token_top_k", &DecodeOptions::token_top_k)
      .def_readwrite("blank_skip_logp", &DecodeOptions::blank_skip_logp)
      .def_readwrite("hotword_weight", &DecodeOptions::hotword_weight)
      .def_readwrite("hotwords", &DecodeOptions::hotwords)
      .def_readwrite("lm_cache", &DecodeOptions::lm_cache)
      .def_readwrite("kit_lm_rules", &DecodeOptions::kit_lm_rules)
      .def_readwrite("normalize", &DecodeOptions::normalize)
      .def_readwrite("prune_history", &DecodeOptions::prune_history)
      .def_readwrite("history_order", &DecodeOptions::history_order)
      .def_readwrite("nbest", &DecodeOptions::nbest)
      .def_readwrite("pyctcdecode_quirks", &DecodeOptions::pyctcdecode_quirks)
      .def_readwrite("score_boundary", &DecodeOptions::score_boundary);

  py::register_exception<LMCallbackError>(m, "LanguageModelCallbackError", PyExc_RuntimeError);

  py::class_<NgramLM>(m, "NgramLM")
      .def(py::init([](const std::string& path) {
             py::gil_scoped_release release;
             return new NgramLM(path);
           }),
           py::arg("path"))
      .def_static(
          "from_stream",
          [](const std::string& name, py::object readinto) {
            // `readinto(buffer)` fills a writable memoryview over the reader's own buffer and
            // returns the byte count (0 at the end), called with the GIL held; no bytes objects.
            // A handle, not an object: the function is destroyed without the GIL, `readinto` outlives it.
            py::handle reader = readinto;
            ReadChunk chunk = [reader, name](char* buf, size_t n) -> size_t {
              py::gil_scoped_acquire gil;
              try {
                py::object view = py::memoryview::from_memory(buf, static_cast<py::ssize_t>(n), false);
                py::object got = reader(view);
                size_t count = got.is_none() ? 0 : py::cast<size_t>(got);
                if (count > n) throw std::runtime_error("the stream's readinto() returned more than the buffer's size");
                return count;
              } catch (py::error_already_set& e) {
                std::string kind = py::str(e.type().attr("__name__")), what = py::str(e.value());
                throw std::runtime_error("reading '" + name + "' failed (" + kind + ": " + what + ")");
              }
            };
            py::gil_scoped_release release;
            return std::make_unique<NgramLM>(name, std::move(chunk));
          },
          py::arg("name"), py::arg("readinto"),
          "Read ARPA text from a binary stream's readinto (a decompressing file object).")
      .def(
          "save_binary",
          [](const NgramLM& lm, const std::string& path, uint64_t source_size, int64_t source_mtime_ns) {
            py::gil_scoped_release release;
            lm.save_binary(path, FileStamp{source_size, source_mtime_ns});
          },
          py::arg("path"), py::arg("source_size") = 0, py::arg("source_mtime_ns") = 0,
          "Write the memory-mappable binary atomically, recording the size and mtime of the ARPA it stands for.")
      .def(
          "verify",
          [](const NgramLM& lm) {
            py::gil_scoped_release release;
            lm.verify();
          },
          "Check a mapped binary's whole body against its checksum (ValueError when it differs).")
      .def_property_readonly("mapped", &NgramLM::mapped, "Whether the model is a binary file used in place.")
      .def_property_readonly("storage_bytes", &NgramLM::storage_bytes, "Bytes of the n-gram storage.")
      .def_property_readonly("order", &NgramLM::order)
      .def_property_readonly("vocab_size", &NgramLM::vocab_size)
      .def_property_readonly("counts", &NgramLM::counts)
      .def("index", &NgramLM::index, py::arg("word"))
      .def("__contains__", [](const NgramLM& lm, const std::string& w) { return lm.index(w) != NgramLM::kUnk; })
      .def("listed_unigrams", [](const NgramLM& lm) { return lm.listed_words(); },
           "Unigrams that pyctcdecode's unigram set would hold (sorted).")
      .def("all_unigrams", [](const NgramLM& lm) { return lm.all_words(); },
           "Every word but <s>, </s> and <unk> (sorted): the kit's unigram list.")
      .def("has_prefix", &NgramLM::has_prefix, py::arg("prefix"))
      .def("index_all_unigrams", &NgramLM::index_all_unigrams,
           "Build the prefix index over all unigrams (needed before decoding with kit_lm_rules).")
      .def("full_scores", &NgramLM::full_scores, py::arg("words"), py::arg("bos") = true, py::arg("eos") = true,
           "log10 score of each word (and of </s> when eos).")
      .def(
          "sentence_score",
          [](const NgramLM& lm, const std::vector<std::string>& words, bool bos, bool eos) {
            float total = 0.f;
            for (float s : lm.full_scores(words, bos, eos)) total += s;
            return total;
          },
          py::arg("words"), py::arg("bos") = true, py::arg("eos") = true)
      .def("begin_state", [](const NgramLM& lm) { return state_tuple(lm.begin_state()); })
      .def("null_state", [](const NgramLM& lm) { return state_tuple(lm.null_state()); })
      .def(
          "score_state",
          [](const NgramLM& lm, const py::tuple& state, const std::string& word) {
            LMState in = state_from_tuple(lm, state), out;
            float s = lm.score(in, lm.index(word), out);
            return py::make_tuple(s, state_tuple(out));
          },
          py::arg("state"), py::arg("word"), "(log10 P(word | state), next state).");

  m.def(
      "ngram_binary_stamp",
      [](const std::string& path) -> py::object {
        FileStamp stamp;
        if (!NgramLM::binary_stamp(path, stamp)) return py::none();
        return py::make_tuple(stamp.size, stamp.mtime_ns);
      },
      py::arg("path"),
      "(size, mtime_ns) of the ARPA file a complete binary LM file was built from, or None when `path` is not one.");

  py::class_<WordList>(m, "WordList")
      .def(py::init<std::vector<std::string>>(), py::arg("words"))
      .def("__len__", [](const WordList& w) { return w.words.size(); });

  m.def("decode_batch", &decode_batch, py::arg("arrays"), py::arg("labels"), py::arg("blank"), py::arg("delimiter"),
        py::arg("bpe"), py::arg("options"), py::arg("lm").none(true), py::arg("py_lm").none(true), py::arg("py_lm_unigrams").none(true), py::arg("alpha"),
        py::arg("beta"), py::arg("unk_score_offset"), py::arg("num_threads"), py::arg("nbest") = -1,
        py::arg("lexicon").none(true) = py::none(), py::arg("lookahead").none(true) = py::none(),
        py::arg("allow_unknown") = false, py::arg("unknown_word_score") = 0.0,
        py::arg("lm_unigrams").none(true) = py::none(),
        "Decode float32 [T, V] arrays; per utterance a list of (text, word frames, am score, score, token ids),\n"
        "plus each word's lexicon index (-1: unknown word) when decoding with a lexicon.\n"
        "lm_unigrams: a WordList of known words for a native LM under pyctcdecode rules (None: the LM's listed\n"
        "unigrams; an empty list: every word of the LM is known and every partial word is out of vocabulary).");

  py::class_<LexiconTrie>(m, "LexiconTrie")
      .def(py::init<std::vector<std::string>, std::vector<std::string>,
                    const std::vector<std::pair<int32_t, std::vector<int32_t>>>&, int>(),
           py::arg("lm_words"), py::arg("out_words"), py::arg("pronunciations"), py::arg("vocab_size"),
           "A trie over token ids: per word its LM spelling and its output text; (word index, token ids) per pronunciation.")
      .def_property_readonly("num_nodes", &LexiconTrie::num_nodes)
      .def_property_readonly("num_words", &LexiconTrie::num_words)
      .def_property_readonly("vocab_size", &LexiconTrie::vocab_size);
  py::class_<LexiconLookahead>(m, "LexiconLookahead")
      .def("__len__", [](const LexiconLookahead& la) { return la.node_scores.size(); })
      .def("scores", [](const LexiconLookahead& la) { return la.node_scores; });
  m.def(
      "lexicon_lookahead",
      [](const LexiconTrie& trie, const NgramLM* lm, py::object py_lm, const WordList* py_lm_unigrams, double alpha,
         double beta, double unk_score_offset, bool score_boundary) {
        if (lm != nullptr) {
          NativeScorer scorer(*lm, alpha, beta, unk_score_offset, true, true, nullptr, score_boundary);
          py::gil_scoped_release release;
          return make_lookahead(trie, scorer);
        }
        if (py_lm.is_none()) throw py::value_error("lexicon_lookahead needs a language model");
        PyScorer scorer(py_lm, alpha, beta, unk_score_offset, py_lm_unigrams == nullptr ? nullptr : &py_lm_unigrams->words);
        return make_lookahead(trie, scorer);
      },
      py::arg("trie"), py::arg("lm").none(true), py::arg("py_lm").none(true), py::arg("py_lm_unigrams").none(true),
      py::arg("alpha"), py::arg("beta"), py::arg("unk_score_offset"), py::arg("score_boundary") = true,
      "Per trie node, the best fused score of a word below it after <s> (the LM look-ahead;\n"
      "score_boundary=False: from the null context).");
  m.def("align", &align, py::arg("log_probs"), py::arg("blank"), py::arg("token"), py::arg("succ_begin"),
        py::arg("succ"), py::arg("is_start"), py::arg("is_final"), py::arg("allow_empty"),
        "Viterbi CTC alignment over a token graph: (nodes, starts, ends, score), or None when no path fits.");
  m.def("pyset_order", &pyset_order, py::arg("ascending"), py::arg("extra"),
        "Iteration order of CPython's set(ascending) | {extra} as replayed by the decoder (for tests).");
}
