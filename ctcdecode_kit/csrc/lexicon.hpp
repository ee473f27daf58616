// Lexicon-constrained CTC prefix beam search: words come only from a pronunciation lexicon.
//
// The lexicon is a trie over token ids (LexiconTrie, immutable, shared by every thread).
// A beam is (text, partial word, last token) as in beam_search.hpp, where the partial word
// is a node of that trie; a token without a child in the trie ends the beam, unless unknown
// words are allowed, in which case the beam leaves the lexicon and spells freely. The word
// delimiter (or the end of the utterance) ends a word: every lexicon word whose
// pronunciation ends at the node (homophones: several) starts its own beam, and the word LM
// is fused there with the kit's rule (kit_word_score). An out-of-lexicon word costs
// `unknown_word_score` on top of its LM score. Optional LM look-ahead ("smearing", as in
// flashlight): while a word is being spelled, the beam carries the best word score reachable
// below its trie node, replaced by the real score when the word ends.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "beam_search.hpp"

namespace ckit {

class LexiconTrie {
 public:
  // lm_words[w]: word w as the LM spells it; out_words[w]: as the output shows it;
  // prons: (word index, token ids) per pronunciation.
  LexiconTrie(std::vector<std::string> lm_words, std::vector<std::string> out_words,
              const std::vector<std::pair<int32_t, std::vector<int32_t>>>& prons, int vocab_size)
      : lm_words_(std::move(lm_words)), out_words_(std::move(out_words)), vocab_size_(vocab_size) {
    if (lm_words_.size() != out_words_.size()) throw std::invalid_argument("lm_words and out_words differ in length");
    std::vector<std::map<int32_t, int32_t>> kids(1);
    std::vector<std::vector<int32_t>> ends(1);
    parent_.assign(1, -1);
    token_.assign(1, -1);
    for (const auto& pr : prons) {
      if (pr.first < 0 || static_cast<size_t>(pr.first) >= lm_words_.size())
        throw std::invalid_argument("pronunciation of word index " + std::to_string(pr.first) + " outside the word list");
      if (pr.second.empty()) throw std::invalid_argument("empty pronunciation for word '" + out_words_[pr.first] + "'");
      int32_t node = 0;
      for (int32_t tok : pr.second) {
        if (tok < 0 || tok >= vocab_size) throw std::invalid_argument("token id " + std::to_string(tok) + " outside the vocabulary");
        auto it = kids[node].find(tok);
        if (it == kids[node].end()) {
          int32_t id = static_cast<int32_t>(kids.size());
          kids[node].emplace(tok, id);
          kids.emplace_back();
          ends.emplace_back();
          parent_.push_back(node);
          token_.push_back(tok);
          node = id;
        } else {
          node = it->second;
        }
      }
      auto& e = ends[node];
      if (std::find(e.begin(), e.end(), pr.first) == e.end()) e.push_back(pr.first);
    }
    const size_t n = kids.size();
    child_begin_.assign(n + 1, 0);
    word_begin_.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      child_begin_[i + 1] = child_begin_[i] + static_cast<int32_t>(kids[i].size());
      for (const auto& kv : kids[i]) {
        child_tok_.push_back(kv.first);
        child_node_.push_back(kv.second);
      }
      word_begin_[i + 1] = word_begin_[i] + static_cast<int32_t>(ends[i].size());
      for (int32_t w : ends[i]) word_list_.push_back(w);
    }
  }

  int32_t child(int32_t node, int32_t token) const {
    const int32_t* b = child_tok_.data() + child_begin_[node];
    const int32_t* e = child_tok_.data() + child_begin_[node + 1];
    const int32_t* it = std::lower_bound(b, e, token);
    if (it == e || *it != token) return -1;
    return child_node_[static_cast<size_t>(it - child_tok_.data())];
  }
  const int32_t* children_tokens_begin(int32_t node) const { return child_tok_.data() + child_begin_[node]; }
  const int32_t* children_tokens_end(int32_t node) const { return child_tok_.data() + child_begin_[node + 1]; }
  const int32_t* children_nodes_begin(int32_t node) const { return child_node_.data() + child_begin_[node]; }
  const int32_t* words_begin(int32_t node) const { return word_list_.data() + word_begin_[node]; }
  const int32_t* words_end(int32_t node) const { return word_list_.data() + word_begin_[node + 1]; }
  bool has_words(int32_t node) const { return word_begin_[node + 1] > word_begin_[node]; }
  int32_t parent(int32_t node) const { return parent_[node]; }
  int32_t token(int32_t node) const { return token_[node]; }
  size_t num_nodes() const { return parent_.size(); }
  size_t num_words() const { return lm_words_.size(); }
  int vocab_size() const { return vocab_size_; }
  const std::string& lm_word(int32_t w) const { return lm_words_[w]; }
  const std::string& out_word(int32_t w) const { return out_words_[w]; }

  // Per node, the best of `word_scores` over the words whose pronunciation passes through it.
  std::vector<double> smear(const std::vector<double>& word_scores) const {
    const double ninf = -std::numeric_limits<double>::infinity();
    std::vector<double> best(parent_.size(), ninf);
    for (size_t n = parent_.size(); n-- > 1;) {  // children have larger ids than their parents
      for (const int32_t* w = words_begin(static_cast<int32_t>(n)); w != words_end(static_cast<int32_t>(n)); ++w)
        best[n] = std::max(best[n], word_scores[*w]);
      best[parent_[n]] = std::max(best[parent_[n]], best[n]);
    }
    best[0] = 0.0;
    return best;
  }

 private:
  std::vector<std::string> lm_words_, out_words_;
  int vocab_size_;
  std::vector<int32_t> parent_, token_;
  std::vector<int32_t> child_begin_, child_tok_, child_node_;
  std::vector<int32_t> word_begin_, word_list_;
};

// The look-ahead scores of one (lexicon, LM, weights): per trie node, immutable.
struct LexiconLookahead {
  std::vector<double> node_scores;
};

// Word scores of every lexicon word after the sentence start (for the look-ahead).
inline LexiconLookahead make_lookahead(const LexiconTrie& trie, WordScorer& scorer) {
  scorer.reset();
  const int32_t start = scorer.begin();
  std::vector<double> scores(trie.num_words());
  for (size_t w = 0; w < trie.num_words(); ++w) {
    const std::string& word = trie.lm_word(static_cast<int32_t>(w));
    int32_t out;
    scores[w] = scorer.score(start, scorer.word_key(word), word, false, &out);
    if (std::isnan(scores[w])) scores[w] = -std::numeric_limits<double>::infinity();
  }
  scorer.reset();
  return LexiconLookahead{trie.smear(scores)};
}

struct LexiconSettings {
  const LexiconTrie* trie = nullptr;
  const LexiconLookahead* lookahead = nullptr;  // null: no look-ahead
  bool allow_unknown = false;
  double unknown_word_score = 0.0;
};

class LexiconSearch {
 public:
  LexiconSearch(const Alphabet& alphabet, const DecodeOptions& options, WordScorer* scorer, const LexiconSettings& lex)
      : ab_(alphabet), opt_(options), scorer_(scorer), lex_(lex), trie_(*lex.trie) {
    V_ = static_cast<int>(ab_.labels.size());
    word_keys_.assign(trie_.num_words(), 0);
    word_key_ready_.assign(trie_.num_words(), 0);
  }

  std::vector<OutputBeam> decode(const float* logp, int T) {
    reset();
    std::vector<Beam> beams{Beam{}};
    std::vector<float> col(V_);
    std::vector<int32_t> order;
    for (int t = 0; t < T; ++t) {
      const float* row = logp + static_cast<size_t>(t) * V_;
      const int argmax = prepare_frame(row, V_, opt_.normalize, col.data());
      order.clear();
      const bool blank_frame =
          opt_.blank_skip_logp <= 0.0 && argmax == ab_.blank && col[ab_.blank] >= opt_.blank_skip_logp;
      if (blank_frame) {
        order.push_back(ab_.blank);
      } else {
        for (int v = 0; v < V_; ++v)
          if (col[v] >= opt_.token_min_logp || v == argmax) order.push_back(v);
        if (opt_.token_top_k > 0 && static_cast<int>(order.size()) > opt_.token_top_k) {
          std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return col[a] > col[b]; });
          order.resize(opt_.token_top_k);
          std::sort(order.begin(), order.end());
        }
      }
      if (order.size() == 1 && order[0] == ab_.blank && blank_only(beams, col[ab_.blank])) continue;
      step(beams, col, order, t, blank_frame);
    }
    return finish(beams);
  }

 private:
  static constexpr uint32_t kFree = 0x80000000u;  // part ids with this bit: off-lexicon spellings

  struct Beam {
    uint32_t text = 0, part = 0, frames = 0, toks = 0;
    int32_t node = 0;  // lexicon trie node of the partial word; -1 once it left the lexicon
    int32_t last = -1, pf0 = -1, pf1 = -1;
    double logit = 0.0, best_path = 0.0, look = 0.0, score = 0.0;
  };
  struct TextNode {
    uint32_t parent = 0;
    int32_t word = 0;  // >= 0: lexicon word; < 0: -(free part id) - 1, an unknown word
    int32_t lm_state = -1;
    double lm = 0.0;  // fused word scores of the whole text
    bool end_ready = false;
    double end = 0.0;  // the end-of-sentence score after this text
  };
  struct FreePart {
    std::string text;  // the labels spelled (LM case)
  };
  struct TokNode {
    uint32_t parent;
    int32_t token;
  };
  struct FrameNode {
    uint32_t parent;
    int32_t start, end;
  };

  void reset() {
    texts_.assign(1, TextNode{});
    text_child_.clear();
    free_.assign(1, FreePart{});
    free_child_.clear();
    toks_.assign(1, TokNode{0, -1});
    frames_.assign(1, FrameNode{0, -1, -1});
    if (scorer_ != nullptr) {
      scorer_->reset();
      texts_[0].lm_state = scorer_->begin();
    }
  }

  int64_t lex_word_key(int32_t w) {
    if (!word_key_ready_[w]) {
      word_keys_[w] = scorer_->word_key(trie_.lm_word(w));
      word_key_ready_[w] = 1;
    }
    return word_keys_[w];
  }

  // The labels of the partial word `part` (in-lexicon node or free spelling).
  std::string spelling(uint32_t part) const {
    if (part & kFree) return free_[part & ~kFree].text;
    std::string s;
    std::vector<int32_t> toks;
    for (int32_t n = static_cast<int32_t>(part); n > 0; n = trie_.parent(n)) toks.push_back(trie_.token(n));
    for (size_t k = toks.size(); k-- > 0;) s += ab_.labels[toks[k]];
    return s;
  }

  uint32_t free_child(uint32_t part, int32_t tok) {
    uint64_t key = static_cast<uint64_t>(part) * static_cast<uint64_t>(V_) + static_cast<uint64_t>(tok) + 1;
    auto r = free_child_.emplace(key, 0);
    if (r.second) {
      free_.push_back(FreePart{spelling(part) + ab_.labels[tok]});
      *r.first = static_cast<uint32_t>(free_.size() - 1);
    }
    return *r.first | kFree;
  }

  uint32_t text_child(uint32_t text, int32_t word) {
    uint64_t key = (static_cast<uint64_t>(text + 1) << 32) | static_cast<uint32_t>(word);
    auto r = text_child_.emplace(key, 0);
    if (r.second) {
      TextNode n;
      n.parent = text;
      n.word = word;
      const TextNode& p = texts_[text];
      double s = 0.0;
      if (word < 0) s = lex_.unknown_word_score;
      if (scorer_ != nullptr) {
        int32_t state;
        if (word >= 0) {
          s += scorer_->score(p.lm_state, lex_word_key(word), trie_.lm_word(word), false, &state);
        } else {
          const std::string& w = free_[static_cast<uint32_t>(-(word + 1))].text;
          s += scorer_->score(p.lm_state, scorer_->word_key(w), w, false, &state);
        }
        n.lm_state = state;
      }
      n.lm = texts_[text].lm + s;
      texts_.push_back(n);
      *r.first = static_cast<uint32_t>(texts_.size() - 1);
    }
    return *r.first;
  }

  double end_score(uint32_t text) {
    TextNode& n = texts_[text];
    if (!n.end_ready) {
      double s = 0.0;
      if (scorer_ != nullptr) {
        int32_t state;
        s = scorer_->score(texts_[text].lm_state, scorer_->word_key(std::string()), std::string(), true, &state);
      }
      TextNode& m = texts_[text];
      m.end = s;
      m.end_ready = true;
    }
    return texts_[text].end;
  }

  uint32_t push_token(uint32_t toks, int32_t token) {
    toks_.push_back(TokNode{toks, token});
    return static_cast<uint32_t>(toks_.size() - 1);
  }
  uint32_t push_frames(uint32_t frames, int32_t s, int32_t e) {
    frames_.push_back(FrameNode{frames, s, e});
    return static_cast<uint32_t>(frames_.size() - 1);
  }

  void add_merged(const Beam& nb) {
    uint32_t idx = merge_.find_or_insert(nb.text, nb.part, nb.last, static_cast<uint32_t>(merged_.size()));
    if (idx == MergeMap::kEmpty) {
      merged_.push_back(nb);
    } else {
      Beam& m = merged_[idx];
      const double summed = sum_log_scores(m.logit, nb.logit);
      const double best = std::max(m.best_path, nb.best_path);
      if (nb.best_path > m.best_path) m = nb;
      m.logit = summed;
      m.best_path = best;
    }
  }

  // End the partial word of `b` (into `nb`, whose other fields are set): one beam per
  // lexicon word ending at its node, an unknown word, or none.
  void end_word(const Beam& b, Beam nb) {
    nb.frames = push_frames(b.frames, b.pf0, b.pf1);
    nb.part = 0;
    nb.node = 0;
    nb.look = 0.0;
    nb.pf0 = nb.pf1 = -1;
    if (b.node >= 0 && trie_.has_words(b.node)) {
      for (const int32_t* w = trie_.words_begin(b.node); w != trie_.words_end(b.node); ++w) {
        Beam wb = nb;
        wb.text = text_child(b.text, *w);
        add_merged(wb);
      }
    } else if (lex_.allow_unknown) {
      uint32_t free_id = b.part & kFree ? (b.part & ~kFree) : (free_child_of_node(b.part));
      nb.text = text_child(b.text, -static_cast<int32_t>(free_id) - 1);
      add_merged(nb);
    }
  }

  // The free-spelling id of an in-lexicon partial word (a prefix that is no word).
  uint32_t free_child_of_node(uint32_t node) {
    std::vector<int32_t> toks;
    for (int32_t n = static_cast<int32_t>(node); n > 0; n = trie_.parent(n)) toks.push_back(trie_.token(n));
    uint32_t part = kFree;  // the empty free spelling (id 0)
    for (size_t k = toks.size(); k-- > 0;) part = free_child(part, toks[k]);
    return part & ~kFree;
  }

  // One frame. Every beam may take the blank and repeat its last token, whatever their
  // scores. A new token is tried when it is a candidate of the frame (`order`: token_min_logp,
  // token_top_k, the argmax) or, for a token the lexicon allows next (a child of the beam's
  // trie node, or the delimiter), when the extension stays within beam_prune_logp of the
  // best beam's blank extension (a bound below the best new score, so nothing is tried
  // that the pruning would drop on its own). Without that second rule, a pronunciation that
  // differs from the audio by one token has no way through: every beam follows the audio
  // into a dead-end prefix, lives on blanks, and the end of the utterance drops the
  // unfinished word and all the words the audio still held.
  void step(std::vector<Beam>& beams, const std::vector<float>& col, const std::vector<int32_t>& order, int t,
            bool blank_frame) {
    merged_.clear();
    merge_.clear();
    const double* look = lex_.lookahead != nullptr ? lex_.lookahead->node_scores.data() : nullptr;
    in_order_.assign(static_cast<size_t>(V_), 0);
    for (int32_t c : order) in_order_[c] = 1;
    double best = -std::numeric_limits<double>::infinity();
    for (const Beam& b : beams) best = std::max(best, b.score);
    const double floor = best + static_cast<double>(col[ab_.blank]) + opt_.beam_prune_logp;
    const int32_t delim = ab_.delimiter;
    for (const Beam& b : beams) {
      const double lm = texts_[b.text].lm;
      auto reaches = [&](int32_t c, double look_after) {
        return in_order_[c] || b.logit + static_cast<double>(col[c]) + lm + look_after >= floor;
      };
      // the blank, and the last token again: the beam stays where it is
      extend(b, ab_.blank, col, t);
      if (blank_frame) continue;  // blank_skip_threshold: the frame is decoded as blank-only
      if (b.last >= 0 && b.last != ab_.blank) extend(b, b.last, col, t);
      // the delimiter ends the word (or merges, between words)
      if (delim >= 0 && delim != b.last && delim != ab_.blank && reaches(delim, 0.0)) extend(b, delim, col, t);
      // a token that continues the word in the lexicon
      if (b.node >= 0) {
        const int32_t* ct = trie_.children_tokens_begin(b.node);
        const int32_t* ce = trie_.children_tokens_end(b.node);
        const int32_t* cn = trie_.children_nodes_begin(b.node);
        for (; ct != ce; ++ct, ++cn) {
          const int32_t c = *ct;
          if (c == b.last || c == ab_.blank || c == delim) continue;
          if (reaches(c, look != nullptr ? look[*cn] : 0.0)) new_token(b, c, *cn, col, t, look);
        }
      }
      // off the lexicon: the frame's candidates spell an unknown word
      if (lex_.allow_unknown) {
        for (int32_t c : order) {
          if (c == b.last || c == ab_.blank || c == delim) continue;
          if (b.node >= 0 && trie_.child(b.node, c) >= 0) continue;
          new_token(b, c, -1, col, t, look);
        }
      }
    }
    score_and_trim(beams);
  }

  // The blank, a repeat of the last token or the delimiter after beam `b`.
  void extend(const Beam& b, int32_t c, const std::vector<float>& col, int t) {
    const double p = static_cast<double>(col[c]);
    Beam nb = b;
    nb.last = c;
    nb.logit = b.logit + p;
    nb.best_path = b.best_path + p;
    if (c == ab_.blank) {
      add_merged(nb);
    } else if (c == b.last) {
      if (c != ab_.delimiter && b.part != 0) nb.pf1 = t + 1;
      add_merged(nb);
    } else {  // the delimiter
      nb.toks = push_token(b.toks, c);
      if (b.part == 0)
        add_merged(nb);
      else
        end_word(b, nb);
    }
  }

  // Token `c` (neither blank, delimiter nor a repeat) after beam `b`: into trie node `child`,
  // or (child < 0) off the lexicon.
  void new_token(const Beam& b, int32_t c, int32_t child, const std::vector<float>& col, int t, const double* look) {
    const double p = static_cast<double>(col[c]);
    Beam nb = b;
    nb.last = c;
    nb.logit = b.logit + p;
    nb.best_path = b.best_path + p;
    if (child < 0) {
      nb.part = b.part & kFree ? free_child(b.part, c) : free_child(free_from_node(b.part), c);
      nb.node = -1;
      nb.look = lex_.unknown_word_score;
    } else {
      nb.part = static_cast<uint32_t>(child);
      nb.node = child;
      nb.look = look != nullptr ? look[child] : 0.0;
    }
    nb.toks = push_token(b.toks, c);
    if (b.part == 0) nb.pf0 = t;
    nb.pf1 = t + 1;
    add_merged(nb);
  }

  uint32_t free_from_node(uint32_t node) { return node == 0 ? kFree : (free_child_of_node(node) | kFree); }

  // A blank-only frame where every beam already ends in a blank: nothing merges, and every
  // score moves by the same amount, so the order and the pruning stay as they are.
  bool blank_only(std::vector<Beam>& beams, float blank_logp) {
    for (const Beam& b : beams)
      if (b.last != ab_.blank) return false;
    const double p = static_cast<double>(blank_logp);
    for (Beam& b : beams) {
      b.logit += p;
      b.best_path += p;
      b.score += p;
    }
    return true;
  }

  void score_and_trim(std::vector<Beam>& beams) {
    const size_t n = merged_.size();
    double max_score = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      Beam& b = merged_[i];
      double sc = b.logit + texts_[b.text].lm + b.look;
      if (std::isnan(sc)) sc = -std::numeric_limits<double>::infinity();
      b.score = sc;
      if (sc > max_score) max_score = sc;
    }
    trim(beams, max_score, static_cast<size_t>(opt_.beam_width), opt_.beam_prune_logp);
  }

  void trim(std::vector<Beam>& beams, double max_score, size_t width, double prune) {
    const double floor = max_score + prune;
    ranked_.clear();
    for (size_t i = 0; i < merged_.size(); ++i)
      if (merged_[i].score >= floor && merged_[i].score > -std::numeric_limits<double>::infinity())
        ranked_.emplace_back(merged_[i].score, static_cast<uint32_t>(i));
    auto better = [](const std::pair<double, uint32_t>& a, const std::pair<double, uint32_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    const size_t keep = std::min(ranked_.size(), width);
    if (keep < ranked_.size()) {
      std::nth_element(ranked_.begin(), ranked_.begin() + keep, ranked_.end(), better);
      ranked_.resize(keep);
    }
    std::sort(ranked_.begin(), ranked_.end(), better);
    beams.clear();
    for (const auto& r : ranked_) beams.push_back(merged_[r.second]);
  }

  std::vector<OutputBeam> finish(std::vector<Beam>& beams) {
    merged_.clear();
    merge_.clear();
    for (const Beam& b : beams) {
      Beam nb = b;
      nb.last = -1;
      if (b.part == 0) {
        add_merged(nb);
      } else {
        end_word(b, nb);
      }
    }
    if (merged_.empty()) {
      // No beam spells a whole word at the end: drop the unfinished last word.
      for (const Beam& b : beams) {
        Beam nb = b;
        nb.last = -1;
        nb.part = 0;
        nb.node = 0;
        nb.look = 0.0;
        add_merged(nb);
      }
    }
    double max_score = -std::numeric_limits<double>::infinity();
    for (Beam& b : merged_) {
      b.score = b.logit + texts_[b.text].lm + end_score(b.text);
      if (std::isnan(b.score)) b.score = -std::numeric_limits<double>::infinity();
      max_score = std::max(max_score, b.score);
    }
    trim(beams, max_score, static_cast<size_t>(std::max(opt_.nbest, 1)), -std::numeric_limits<double>::infinity());
    if (beams.empty() && !merged_.empty()) {  // every score -inf: keep the first, scores as they are
      beams.push_back(merged_[0]);
    }
    std::vector<OutputBeam> out;
    for (const Beam& b : beams) {
      OutputBeam o;
      std::vector<uint32_t> path;
      for (uint32_t tx = b.text; tx != 0; tx = texts_[tx].parent) path.push_back(tx);
      for (size_t k = path.size(); k-- > 0;) {
        const TextNode& node = texts_[path[k]];
        if (!o.text.empty()) o.text += ' ';
        if (node.word >= 0) {
          o.text += trie_.out_word(node.word);
          o.word_ids.push_back(node.word);
        } else {
          o.text += free_[static_cast<uint32_t>(-(node.word + 1))].text;
          o.word_ids.push_back(-1);
        }
      }
      for (uint32_t k = b.toks; k != 0; k = toks_[k].parent) o.tokens.push_back(toks_[k].token);
      std::reverse(o.tokens.begin(), o.tokens.end());
      for (uint32_t f = b.frames; f != 0; f = frames_[f].parent) o.frames.emplace_back(frames_[f].start, frames_[f].end);
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
  LexiconSettings lex_;
  const LexiconTrie& trie_;
  int V_ = 0;
  std::vector<int64_t> word_keys_;
  std::vector<uint8_t> word_key_ready_;
  std::vector<TextNode> texts_;
  FlatMap text_child_, free_child_;
  std::vector<FreePart> free_;
  std::vector<TokNode> toks_;
  std::vector<FrameNode> frames_;
  MergeMap merge_;
  std::vector<Beam> merged_;
  std::vector<std::pair<double, uint32_t>> ranked_;
  std::vector<uint8_t> in_order_;
};

}  // namespace ckit
