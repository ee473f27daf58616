// CTC prefix beam search with word-level LM fusion, reproducing pyctcdecode 0.5.
//
// The semantics follow pyctcdecode's BeamSearchDecoderCTC._decode_logits step by step
// (beam tuple fields, candidate tokens per frame, _merge_beams keeping the first beam's
// fields, LM scoring at word boundaries, partial-word scores, beam_prune_logp, the
// stable top-k trim, the final end-of-sentence scoring), so both give the same answers.
// The data structures are what make it fast: words, partial words and texts are
// interned (a partial word is a node id, a text is a node in a trie of words), tokens
// are integer ids, LM results are cached per text node and per (LM state, word), and a
// frame's beams are merged with an open-addressing table instead of string keys.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ngram_lm.hpp"
#include "pyset_order.hpp"

namespace ckit {

inline double log_base_change() {
  static const double f = 1.0 / std::log10(std::exp(1.0));  // pyctcdecode's LOG_BASE_CHANGE_FACTOR
  return f;
}
static const float kMinLogp = static_cast<float>(std::log(1e-15));  // pyctcdecode's clip, as float32
constexpr int kAvgTokenLen = 6;

inline int codepoints(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// One frame of the search's input: log-softmax it when ``normalize`` (pyctcdecode: tmp = x - max,
// max := 0 when not finite; out = tmp - log(sum(exp(tmp)))), clip to [kMinLogp, 0] into ``col``,
// and return the argmax. The normaliser is summed in double: at most one float ulp from numpy's
// float32 pairwise sum, and the same shift for every token of the frame, so every beam moves
// alike and the search is unchanged. Shared by the lexicon-free and the lexicon search.
inline int prepare_frame(const float* row, int V, bool normalize, float* col) {
  float shift = 0.f, norm = 0.f;
  if (normalize) {
    float mx = row[0];
    for (int v = 1; v < V; ++v) mx = row[v] > mx ? row[v] : mx;
    shift = std::isfinite(mx) ? mx : 0.f;
    double total = 0.0;
    for (int v = 0; v < V; ++v) total += std::exp(static_cast<double>(row[v] - shift));
    norm = static_cast<float>(std::log(total));
  }
  int argmax = 0;
  for (int v = 0; v < V; ++v) {
    float x = normalize ? (row[v] - shift) - norm : row[v];
    x = !(x >= kMinLogp) ? kMinLogp : (x > 0.f ? 0.f : x);
    col[v] = x;
    if (x > col[argmax]) argmax = v;
  }
  return argmax;
}

struct DecodeOptions {
  int beam_width = 100;
  double beam_prune_logp = -10.0;
  double token_min_logp = -5.0;
  int token_top_k = 0;              // 0: no limit on candidate tokens per frame
  double blank_skip_logp = 1.0;     // > 0: off; else a frame whose argmax is the blank with
                                    // log-prob >= this is decoded as blank-only
  double hotword_weight = 10.0;
  std::vector<std::string> hotwords;  // unigrams
  bool lm_cache = true;
  bool kit_lm_rules = false;  // fuse like ctcdecode_kit.lm.PyctcdecodeLM instead of pyctcdecode 0.5
  bool normalize = true;      // log-softmax each frame first (as pyctcdecode's decode_beams does)
  bool prune_history = false; // pyctcdecode's prune_history: one beam per (last n-1 words, part, last)
  int history_order = 1;      // the LM order used by prune_history (1 without an LM)
  int nbest = 1;
  // pyctcdecode's behaviours that the kit does not copy, kept for exact reproduction:
  // * which beam's fields (tokens, word frames) survive when beams with the same text merge:
  //   the kit keeps the beam whose best single path scores higher (so a hypothesis reports
  //   the tokens and word frames of its best alignment); pyctcdecode the last one added
  //   (its "stale" frames);
  // * a label that ends in "▁" (e.g. a lone "▁") forces a word break on whatever token of
  //   whichever beam comes next in pyctcdecode (a flag shared across beams); the kit treats
  //   a lone "▁" as the empty start of a word, as Vocabulary.words does.
  bool pyctcdecode_quirks = false;
  // pyctcdecode's LanguageModel(score_boundary=...): true scores the first word after <s> and
  // a final </s>; false starts from KenLM's null context and scores no </s> (native LMs only).
  bool score_boundary = true;
};

struct Alphabet {
  std::vector<std::string> labels;
  int blank = 0;
  int delimiter = -1;
  bool bpe = false;
};

// The kit's fusion rule, the one source for every scorer that uses it (the Python twin is
// ctcdecode_kit.lm.PyctcdecodeLM, and tests hold the two to the same answers): a word adds
// alpha * ln P(word | history) + beta, plus the (unweighted) OOV offset for a word outside
// the LM's unigrams; a partial word that starts no unigram costs the offset, scaled up past
// kAvgTokenLen characters.
inline double kit_word_score(double alpha, double beta, double unk, double ln_prob, bool oov) {
  return alpha * ln_prob + beta + (oov ? unk : 0.0);
}
inline double kit_partial_score(double unk, int cp_len, bool starts_a_word) {
  if (starts_a_word) return 0.0;
  return cp_len > kAvgTokenLen ? unk * cp_len / kAvgTokenLen : unk;
}

// Word scores with pyctcdecode's LanguageModel.score semantics (already weighted:
// alpha * (log10 p + unk) * ln(10) + beta, plus `</s>` when eos) and its partial-word score.
class WordScorer {
 public:
  virtual ~WordScorer() = default;
  virtual void reset() = 0;
  virtual int32_t begin() = 0;
  virtual int64_t word_key(const std::string& word) = 0;
  virtual double score(int32_t state, int64_t key, const std::string& word, bool eos, int32_t* out_state) = 0;
  virtual double partial(const std::string& part, int cp_len) = 0;
};

// `known` (pyctcdecode rules only): the caller's known-word list, sorted, already filtered to
// words of the LM (pyctcdecode's LanguageModel(unigrams=...) after _prepare_unigram_set);
// nullptr: the LM's listed unigrams (what build_ctcdecoder reads from an ARPA file).
// `boundary`: pyctcdecode's score_boundary (see DecodeOptions).
class NativeScorer final : public WordScorer {
 public:
  NativeScorer(const NgramLM& lm, double alpha, double beta, double unk, bool cache, bool kit_rules,
               const std::vector<std::string>* known = nullptr, bool boundary = true)
      : lm_(lm), alpha_(alpha), beta_(beta), unk_(unk), use_cache_(cache), kit_(kit_rules), known_(known),
        boundary_(boundary) {}

  void reset() override {
    states_.clear();
    state_ids_.clear();
    cache_.clear();
  }
  int32_t begin() override { return intern(boundary_ ? lm_.begin_state() : lm_.null_state()); }
  int64_t word_key(const std::string& word) override {
    WordId id = lm_.index(word);
    bool oov;
    if (kit_)
      oov = !lm_.is_word(id);
    else if (known_ != nullptr)  // pyctcdecode: len(set) > 0 and word not in set, or word not in the model
      oov = (!known_->empty() && !std::binary_search(known_->begin(), known_->end(), word)) || id == NgramLM::kUnk;
    else
      oov = (lm_.has_listed() && !lm_.listed(id)) || id == NgramLM::kUnk;
    return static_cast<int64_t>(id) | (static_cast<int64_t>(oov) << 32);
  }
  double score(int32_t state, int64_t key, const std::string& word, bool eos, int32_t* out_state) override {
    WordId w = static_cast<WordId>(key & 0xffffffffLL);
    bool oov = (key >> 32) != 0;
    if (kit_) {
      // ctcdecode_kit.lm.PyctcdecodeLM.score over KenLM: natural logs, offset not weighted,
      // no word scored for an empty final word.
      double total = 0.0;
      int32_t next = state;
      if (!word.empty()) {
        double logp = static_cast<double>(base_score(state, w, &next)) * kLn10;
        total = kit_word_score(alpha_, beta_, unk_, logp, oov);
      }
      if (eos && boundary_) {
        LMState end_state;
        total += alpha_ * (static_cast<double>(lm_.score(states_[next], lm_.end_sentence_id(), end_state)) * kLn10);
      }
      *out_state = next;
      return total;
    }
    int32_t next;
    float base = base_score(state, w, &next);
    double lm = base;
    if (oov) lm += unk_;
    if (eos && boundary_) {
      LMState end_state;
      double end = lm_.score(states_[next], lm_.end_sentence_id(), end_state);
      lm = lm + end;
    }
    *out_state = next;
    return alpha_ * lm * log_base_change() + beta_;
  }
  double partial(const std::string& part, int cp_len) override {
    if (kit_) return kit_partial_score(unk_, cp_len, part.empty() || lm_.has_prefix_any(part));
    // pyctcdecode: CharTrie(unigram set).has_node(part) == 0; an empty set starts no word, not even ""
    bool starts = known_ != nullptr ? starts_known(part) : lm_.has_prefix(part);
    double is_oov = starts ? 0.0 : 1.0;
    double unk = unk_ * is_oov;
    if (cp_len > kAvgTokenLen) unk = unk * cp_len / kAvgTokenLen;
    return unk;
  }

 private:
  static constexpr double kLn10 = 2.302585092994046;  // the kit's LN10 = math.log(10.0)

  bool starts_known(const std::string& part) const {
    auto it = std::lower_bound(known_->begin(), known_->end(), part);
    return it != known_->end() && it->compare(0, part.size(), part) == 0;
  }

  float base_score(int32_t state, WordId w, int32_t* next) {
    uint64_t ck = (static_cast<uint64_t>(state) << 32) | w;
    if (use_cache_) {
      auto it = cache_.find(ck);
      if (it != cache_.end()) {
        *next = it->second.second;
        return it->second.first;
      }
    }
    LMState out;
    float base = lm_.score(states_[state], w, out);
    *next = intern(out);
    if (use_cache_) cache_.emplace(ck, std::make_pair(base, *next));
    return base;
  }

  int32_t intern(const LMState& s) {
    if (!use_cache_) {
      states_.push_back(s);
      return static_cast<int32_t>(states_.size() - 1);
    }
    uint64_t h = s.hash();
    auto it = state_ids_.find(h);
    if (it != state_ids_.end() && states_[it->second] == s) return it->second;
    states_.push_back(s);
    int32_t id = static_cast<int32_t>(states_.size() - 1);
    if (it == state_ids_.end()) state_ids_.emplace(h, id);
    return id;
  }

  const NgramLM& lm_;
  double alpha_, beta_, unk_;
  bool use_cache_, kit_;
  const std::vector<std::string>* known_;
  bool boundary_;
  std::vector<LMState> states_;
  std::unordered_map<uint64_t, int32_t> state_ids_;
  std::unordered_map<uint64_t, std::pair<float, int32_t>> cache_;
};

// uint64 -> uint32 open-addressing map (key 0 is reserved as empty); key and value share
// a slot so that a lookup touches one cache line.
class FlatMap {
 public:
  FlatMap() { rehash(1024); }
  void clear() {
    if (size_ == 0) return;
    for (Slot& slot : slots_) slot.key = 0;
    size_ = 0;
  }
  // Returns {slot value pointer, inserted}.
  std::pair<uint32_t*, bool> emplace(uint64_t key, uint32_t value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
    size_t i = (key * 0x9e3779b97f4a7c15ULL) >> shift_;
    while (slots_[i].key != 0) {
      if (slots_[i].key == key) return {&slots_[i].value, false};
      i = (i + 1) & mask_;
    }
    slots_[i].key = key;
    slots_[i].value = value;
    ++size_;
    return {&slots_[i].value, true};
  }

 private:
  struct Slot {
    uint64_t key = 0;
    uint32_t value = 0;
  };
  void rehash(size_t cap) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (const Slot& slot : old)
      if (slot.key != 0) emplace(slot.key, slot.value);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
  int shift_ = 54;
};

// (text, part, last) -> index of the merged beam; cleared every frame in O(used).
class MergeMap {
 public:
  MergeMap() { rehash(256); }
  void clear() {
    for (size_t i : used_) slots_[i].idx = kEmpty;
    used_.clear();
  }
  // Returns the index stored for the key, or stores `idx` and returns kEmpty.
  uint32_t find_or_insert(uint32_t text, uint32_t part, int32_t last, uint32_t idx) {
    if ((used_.size() + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    uint64_t h = (static_cast<uint64_t>(text) * 0x9e3779b97f4a7c15ULL) ^ (static_cast<uint64_t>(part) * 0xc2b2ae3d27d4eb4fULL) ^
                 (static_cast<uint64_t>(static_cast<uint32_t>(last)) * 0x165667b19e3779f9ULL);
    size_t i = (h >> 32) & mask_;
    while (slots_[i].idx != kEmpty) {
      Slot& s = slots_[i];
      if (s.text == text && s.part == part && s.last == last) return s.idx;
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{text, part, last, idx};
    used_.push_back(i);
    return kEmpty;
  }
  static constexpr uint32_t kEmpty = 0xffffffffu;

 private:
  struct Slot {
    uint32_t text = 0, part = 0;
    int32_t last = 0;
    uint32_t idx = kEmpty;
  };
  void rehash(size_t cap) {
    std::vector<Slot> old;
    old.swap(slots_);
    std::vector<size_t> old_used;
    old_used.swap(used_);
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (size_t i : old_used) {
      const Slot& s = old[i];
      find_or_insert(s.text, s.part, s.last, s.idx);
    }
  }
  std::vector<Slot> slots_;
  std::vector<size_t> used_;
  size_t mask_ = 0;
};

struct OutputBeam {
  std::string text;
  std::vector<int32_t> tokens;  // the collapsed token ids the search emitted (blanks removed)
  std::vector<std::pair<int32_t, int32_t>> frames;
  double logit_score = 0.0;
  double score = 0.0;
  std::vector<int32_t> word_ids;  // lexicon search only: each word's lexicon index, -1 for an unknown word
};

inline double sum_log_scores(double s1, double s2) {
  if (s1 >= s2) return s1 + std::log(1 + std::exp(s2 - s1));
  return s2 + std::log(1 + std::exp(s1 - s2));
}

class BeamSearch {
 public:
  BeamSearch(const Alphabet& alphabet, const DecodeOptions& options, WordScorer* scorer)
      : ab_(alphabet), opt_(options), scorer_(scorer) {
    V_ = static_cast<int>(ab_.labels.size());
    for (const auto& label : ab_.labels) {
      bool start = label.compare(0, 3, "\xE2\x96\x81") == 0;  // "▁"
      bool end = label.size() >= 3 && label.compare(label.size() - 3, 3, "\xE2\x96\x81") == 0;
      std::string clean = label;
      if (start) clean = clean.substr(3);
      if (end) clean = clean.size() >= 3 ? clean.substr(0, clean.size() - 3) : std::string();
      bpe_start_.push_back(start);
      bpe_end_.push_back(end);
      bpe_clean_.push_back(clean);
    }
    for (const auto& h : opt_.hotwords) {
      if (h.empty()) continue;
      hotword_set_.insert(h);
      hotword_list_.emplace_back(h, codepoints(h));
    }
  }

  std::vector<OutputBeam> decode(const float* logp, int T) {
    reset();
    std::vector<Beam> beams{Beam{}};
    std::vector<float> col(V_);
    std::vector<int32_t> ascending, order;
    ascending.reserve(V_);
    for (int t = 0; t < T; ++t) {
      const float* row = logp + static_cast<size_t>(t) * V_;
      const int argmax = prepare_frame(row, V_, opt_.normalize, col.data());
      ascending.clear();
      if (opt_.blank_skip_logp <= 0.0 && argmax == ab_.blank && col[ab_.blank] >= opt_.blank_skip_logp) {
        order.assign(1, ab_.blank);
      } else {
        for (int v = 0; v < V_; ++v)
          if (col[v] >= opt_.token_min_logp) ascending.push_back(v);
        if (opt_.token_top_k > 0 && static_cast<int>(ascending.size()) > opt_.token_top_k) {
          std::stable_sort(ascending.begin(), ascending.end(), [&](int32_t a, int32_t b) { return col[a] > col[b]; });
          ascending.resize(opt_.token_top_k);
          std::sort(ascending.begin(), ascending.end());
        }
        set_order_.order(ascending, argmax, order);
      }
      if (!(order.size() == 1 && order[0] == ab_.blank && blank_run_step(beams, col[ab_.blank])))
        step(beams, col, order, t);
    }
    return finish(beams);
  }

 private:
  struct Beam {
    uint32_t text = 0, next_word = 0, part = 0, frames = 0, toks = 0;
    int32_t last = -1, pf0 = -1, pf1 = -1;
    double logit = 0.0, score = 0.0;
    double best_path = 0.0;  // log-prob of the best single path among the merged ones
  };
  struct TokNode {
    uint32_t parent;
    int32_t token;
  };
  struct PartNode {
    std::string text;
    int cp_len = 0;
    bool key_ready = false, partial_ready = false;
    int64_t word_key = 0;
    double partial = 0.0;  // the LM-case partial score (hotword prefix score or LM prefix score)
    double hw_partial = 0.0;  // the hotword prefix score alone (no-LM case)
    bool is_hotword = false;
  };
  struct TextNode {
    uint32_t parent = 0, word = 0;
    int32_t hw_count = 0;
    bool lm_ready = false;
    double lm_hw = 0.0, lm_raw = 0.0;
    int32_t lm_state = -1;
  };
  struct FrameNode {
    uint32_t parent;
    int32_t start, end;
  };

  void reset() {
    parts_.clear();
    part_ids_.clear();
    part_child_.clear();
    texts_.clear();
    text_child_.clear();
    frame_nodes_.clear();
    parts_.push_back(make_part(std::string()));
    part_ids_.emplace(std::string(), 0);
    texts_.push_back(TextNode{});
    frame_nodes_.push_back(FrameNode{0, -1, -1});
    tok_nodes_.clear();
    tok_nodes_.push_back(TokNode{0, -1});
    force_next_break_ = false;
    if (scorer_ != nullptr) {
      scorer_->reset();
      texts_[0].lm_ready = true;
      texts_[0].lm_state = scorer_->begin();
    }
  }

  PartNode make_part(const std::string& s) {
    PartNode p;
    p.text = s;
    p.cp_len = codepoints(s);
    p.is_hotword = hotword_set_.count(s) > 0;
    if (!s.empty() && !hotword_list_.empty()) {
      int min_len = -1;
      for (const auto& hw : hotword_list_)
        if (hw.first.compare(0, s.size(), s) == 0 && (min_len < 0 || hw.second < min_len)) min_len = hw.second;
      if (min_len > 0) {
        p.hw_partial = opt_.hotword_weight * p.cp_len / min_len;
        p.partial_ready = true;
        p.partial = p.hw_partial;
      }
    }
    return p;
  }

  uint32_t intern_part(const std::string& s) {
    auto it = part_ids_.find(s);
    if (it != part_ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(parts_.size());
    parts_.push_back(make_part(s));
    part_ids_.emplace(s, id);
    return id;
  }

  uint32_t part_child(uint32_t part, int tok) {
    uint64_t key = static_cast<uint64_t>(part) * static_cast<uint64_t>(V_) + static_cast<uint64_t>(tok) + 1;
    auto r = part_child_.emplace(key, 0);
    if (r.second) *r.first = intern_part(parts_[part].text + ab_.labels[tok]);
    return *r.first;
  }

  uint32_t text_child(uint32_t text, uint32_t word) {
    if (word == 0) return text;
    uint64_t key = (static_cast<uint64_t>(text) << 32) | word;
    auto r = text_child_.emplace(key, 0);
    if (r.second) {
      TextNode n;
      n.parent = text;
      n.word = word;
      n.hw_count = texts_[text].hw_count + (parts_[word].is_hotword ? 1 : 0);
      texts_.push_back(n);
      *r.first = static_cast<uint32_t>(texts_.size() - 1);
    }
    return *r.first;
  }

  uint32_t push_token(uint32_t toks, int32_t token) {
    tok_nodes_.push_back(TokNode{toks, token});
    return static_cast<uint32_t>(tok_nodes_.size() - 1);
  }

  uint32_t push_frames(uint32_t frames, int32_t s, int32_t e) {
    frame_nodes_.push_back(FrameNode{frames, s, e});
    return static_cast<uint32_t>(frame_nodes_.size() - 1);
  }

  int64_t word_key(uint32_t part) {
    PartNode& p = parts_[part];
    if (!p.key_ready) {
      p.word_key = scorer_->word_key(p.text);
      p.key_ready = true;
    }
    return p.word_key;
  }

  double hw_text(uint32_t text) const { return opt_.hotword_weight * texts_[text].hw_count; }

  // Ensure the LM cache entry of `child` (= parent text + word), pyctcdecode's cached_lm_scores.
  void lm_text(uint32_t parent, uint32_t child) {
    TextNode& c = texts_[child];
    if (c.lm_ready) return;
    uint32_t word = c.word;
    int64_t key = word_key(word);
    int32_t state;
    double s = scorer_->score(texts_[parent].lm_state, key, parts_[word].text, false, &state);
    TextNode& c2 = texts_[child];  // scorer calls never touch texts_, but keep the reference fresh
    c2.lm_raw = texts_[parent].lm_raw + s;
    c2.lm_hw = c2.lm_raw + hw_text(child);
    c2.lm_state = state;
    c2.lm_ready = true;
  }

  double partial_score(uint32_t part) {
    PartNode& p = parts_[part];
    if (!p.partial_ready) {
      p.partial = scorer_->partial(p.text, p.cp_len);
      p.partial_ready = true;
    }
    return p.partial;
  }

  void add_merged(const Beam& nb) {
    uint32_t merged_text = nb.next_word != 0 ? text_child(nb.text, nb.next_word) : nb.text;
    uint32_t idx = merge_.find_or_insert(merged_text, nb.part, nb.last, static_cast<uint32_t>(merged_.size()));
    if (idx == MergeMap::kEmpty) {
      merged_.push_back(nb);
      merged_text_.push_back(merged_text);
    } else {
      // pyctcdecode's _merge_beams keeps the dict position of the first beam but the
      // fields (text, frames...) of the last one, with the summed score; the kit keeps the
      // fields of the beam with the better best path (ties: the first).
      const double summed = sum_log_scores(merged_[idx].logit, nb.logit);
      const double best = std::max(merged_[idx].best_path, nb.best_path);
      if (opt_.pyctcdecode_quirks || nb.best_path > merged_[idx].best_path) merged_[idx] = nb;
      merged_[idx].logit = summed;
      merged_[idx].best_path = best;
    }
  }

  void step(std::vector<Beam>& beams, const std::vector<float>& col, const std::vector<int32_t>& order, int t) {
    merged_.clear();
    merged_text_.clear();
    merge_.clear();
    for (int32_t c : order) {
      const double p = static_cast<double>(col[c]);
      const bool is_blank = c == ab_.blank;
      for (const Beam& b : beams) {
        Beam nb = b;
        nb.last = c;
        nb.logit = b.logit + p;
        nb.best_path = b.best_path + p;
        if (!is_blank && b.last != c) nb.toks = push_token(b.toks, c);
        if (is_blank || b.last == c) {
          if (!is_blank) nb.pf1 = t + 1;
        } else if (ab_.bpe && (bpe_start_[c] || force_next_break_)) {
          force_next_break_ = false;
          if (bpe_end_[c] && opt_.pyctcdecode_quirks) force_next_break_ = true;
          nb.frames = b.part == 0 ? b.frames : push_frames(b.frames, b.pf0, b.pf1);
          nb.next_word = b.part;
          nb.part = intern_part(bpe_clean_[c]);
          nb.pf0 = t;
          nb.pf1 = t + 1;
        } else if (!ab_.bpe && c == ab_.delimiter) {
          nb.frames = b.part == 0 ? b.frames : push_frames(b.frames, b.pf0, b.pf1);
          nb.next_word = b.part;
          nb.part = 0;
          nb.pf0 = -1;
          nb.pf1 = -1;
        } else {
          nb.part = part_child(b.part, c);
          if (b.pf0 < 0) nb.pf0 = t;
          nb.pf1 = t + 1;
        }
        add_merged(nb);
      }
    }
    score_and_trim(beams, false);
  }

  // A blank-only frame after which nothing can merge (every beam already ends in a blank, so
  // the (text, part, last) keys stay distinct) only adds the blank's log-prob to every beam.
  // When the scores then keep their order and all stay above the pruning floor, that is
  // exactly what step() would compute; otherwise return false and let step() do the work.
  bool blank_run_step(std::vector<Beam>& beams, float blank_logp) {
    if (opt_.prune_history || beams.empty()) return false;
    for (const Beam& b : beams)
      if (b.last != ab_.blank) return false;
    const double p = static_cast<double>(blank_logp);
    const size_t n = beams.size();
    fast_logit_.resize(n);
    fast_score_.resize(n);
    double max_score = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      const Beam& b = beams[i];
      const double logit = b.logit + p;
      double sc;
      if (scorer_ != nullptr) {
        double lm = texts_[b.text].lm_hw;
        if (b.part != 0) lm += partial_score(b.part);
        sc = logit + lm;
      } else {
        sc = logit + hw_text(b.text) + parts_[b.part].hw_partial;
      }
      if (std::isnan(sc)) sc = -std::numeric_limits<double>::infinity();
      fast_logit_[i] = logit;
      fast_score_[i] = sc;
      if (sc > max_score) max_score = sc;
    }
    const double floor = max_score + opt_.beam_prune_logp;
    for (size_t i = 0; i < n; ++i) {
      if (!(fast_score_[i] >= floor)) return false;
      if (i > 0 && fast_score_[i] > fast_score_[i - 1]) return false;  // order (ties keep index order)
    }
    for (size_t i = 0; i < n; ++i) {
      beams[i].logit = fast_logit_[i];
      beams[i].score = fast_score_[i];
      beams[i].best_path += p;
    }
    return true;
  }

  void score_and_trim(std::vector<Beam>& beams, bool eos) {
    const size_t n = merged_.size();
    double max_score = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      Beam& b = merged_[i];
      uint32_t text = merged_text_[i];
      double sc;
      if (scorer_ != nullptr) {
        double lm;
        if (eos) {
          int64_t key = word_key(b.next_word);
          int32_t state;
          double s = scorer_->score(texts_[b.text].lm_state, key, parts_[b.next_word].text, true, &state);
          lm = (texts_[b.text].lm_raw + s) + hw_text(text);
        } else {
          if (b.next_word != 0) lm_text(b.text, text);
          lm = texts_[text].lm_hw;
          if (b.part != 0) lm += partial_score(b.part);
        }
        sc = b.logit + lm;
      } else {
        sc = b.logit + hw_text(text) + parts_[b.part].hw_partial;
      }
      if (std::isnan(sc)) sc = -std::numeric_limits<double>::infinity();
      b.score = sc;
      b.text = text;
      b.next_word = 0;
      if (sc > max_score) max_score = sc;
    }
    const double floor = max_score + opt_.beam_prune_logp;
    ranked_.clear();
    for (size_t i = 0; i < n; ++i)
      if (merged_[i].score >= floor) ranked_.emplace_back(merged_[i].score, static_cast<uint32_t>(i));
    // heapq.nlargest order: score descending, ties in insertion order.
    auto better = [](const std::pair<double, uint32_t>& a, const std::pair<double, uint32_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    const size_t keep = std::min<size_t>(ranked_.size(), static_cast<size_t>(opt_.beam_width));
    if (keep < ranked_.size()) {
      std::nth_element(ranked_.begin(), ranked_.begin() + keep, ranked_.end(), better);
      ranked_.resize(keep);
    }
    if (!std::is_sorted(ranked_.begin(), ranked_.end(), better)) std::sort(ranked_.begin(), ranked_.end(), better);
    beams.clear();
    if (opt_.prune_history && !eos) {
      prune_history(beams);
      return;
    }
    for (const auto& r : ranked_) beams.push_back(merged_[r.second]);
  }

  // pyctcdecode's _prune_history: keep the first (best) beam of each
  // (last max(1, order - 1) words, partial word, last token).
  void prune_history(std::vector<Beam>& beams) {
    const int keep_words = std::max(1, opt_.history_order - 1);
    std::unordered_map<uint64_t, std::vector<size_t>> seen;
    std::vector<std::vector<uint32_t>> keys;
    for (const auto& r : ranked_) {
      const Beam& b = merged_[r.second];
      std::vector<uint32_t> key;
      for (uint32_t tx = b.text; tx != 0 && static_cast<int>(key.size()) < keep_words; tx = texts_[tx].parent)
        key.push_back(texts_[tx].word);
      key.push_back(0xffffffffu);
      key.push_back(b.part);
      key.push_back(static_cast<uint32_t>(b.last));
      uint64_t h = 0x12345;
      for (uint32_t k : key) h = mix64(h ^ k);
      auto& bucket = seen[h];
      bool dup = false;
      for (size_t i : bucket) dup = dup || keys[i] == key;
      if (dup) continue;
      bucket.push_back(keys.size());
      keys.push_back(std::move(key));
      beams.push_back(b);
    }
  }

  std::vector<OutputBeam> finish(std::vector<Beam>& beams) {
    merged_.clear();
    merged_text_.clear();
    merge_.clear();
    for (const Beam& b : beams) {
      Beam nb = b;
      nb.frames = b.part == 0 ? b.frames : push_frames(b.frames, b.pf0, b.pf1);
      nb.next_word = b.part;
      nb.part = 0;
      nb.last = -1;
      nb.pf0 = nb.pf1 = -1;
      add_merged(nb);
    }
    score_and_trim(beams, true);
    std::vector<OutputBeam> out;
    const size_t count = std::min<size_t>(beams.size(), static_cast<size_t>(std::max(opt_.nbest, 1)));
    for (size_t i = 0; i < count; ++i) {
      const Beam& b = beams[i];
      OutputBeam o;
      std::vector<uint32_t> words;
      for (uint32_t tx = b.text; tx != 0; tx = texts_[tx].parent) words.push_back(texts_[tx].word);
      for (size_t k = words.size(); k-- > 0;) {
        if (!o.text.empty()) o.text += ' ';
        o.text += parts_[words[k]].text;
      }
      for (uint32_t k = b.toks; k != 0; k = tok_nodes_[k].parent) o.tokens.push_back(tok_nodes_[k].token);
      std::reverse(o.tokens.begin(), o.tokens.end());
      for (uint32_t f = b.frames; f != 0; f = frame_nodes_[f].parent)
        o.frames.emplace_back(frame_nodes_[f].start, frame_nodes_[f].end);
      std::reverse(o.frames.begin(), o.frames.end());
      o.logit_score = b.logit;
      o.score = b.score;
      out.push_back(std::move(o));
    }
    return out;
  }

  const Alphabet& ab_;
  const DecodeOptions& opt_;
  WordScorer* scorer_;
  int V_ = 0;
  std::vector<uint8_t> bpe_start_, bpe_end_;
  std::vector<std::string> bpe_clean_;
  std::unordered_set<std::string> hotword_set_;
  std::vector<std::pair<std::string, int>> hotword_list_;

  std::vector<PartNode> parts_;
  std::unordered_map<std::string, uint32_t> part_ids_;
  FlatMap part_child_, text_child_;
  std::vector<TextNode> texts_;
  std::vector<FrameNode> frame_nodes_;
  std::vector<TokNode> tok_nodes_;
  MergeMap merge_;
  std::vector<Beam> merged_;
  std::vector<uint32_t> merged_text_;
  std::vector<std::pair<double, uint32_t>> ranked_;
  std::vector<double> fast_logit_, fast_score_;
  PySetOrder set_order_;
  bool force_next_break_ = false;
};

}  // namespace ckit
