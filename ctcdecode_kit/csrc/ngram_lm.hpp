// Word n-gram language model read from an ARPA file, scored like KenLM.
//
// Scores are log10, computed in float32 with the same backoff rule and the same order of
// additions as KenLM's probing model (longest matching n-gram, then the backoffs of the
// context lengths it did not match, shortest first), so results agree with the `kenlm`
// Python module to float rounding. States keep at most order-1 words (most recent first)
// and the backoffs of those contexts, minimised like KenLM's right state (a context that
// starts no longer n-gram and has a zero backoff is dropped), so equal futures compare equal.
#pragma once

#include <algorithm>
#include <cctype>
#include <iterator>
#include <numeric>
#include <string_view>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace ckit {

using WordId = uint32_t;
constexpr int kMaxOrder = 8;

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}
inline uint64_t hash_word(WordId w) { return mix64(0x9e3779b97f4a7c15ULL + w) | 1ULL; }
inline uint64_t hash_extend(uint64_t h, WordId older) { return mix64(h * 31 + 0x632be59bd9b4e019ULL + older) | 1ULL; }

struct NgramEntry {
  float prob = 0.f;
  float backoff = 0.f;
  bool extends = false;  // some longer n-gram continues this one (or its backoff is non-zero)
};

// Open-addressing table from a 64-bit n-gram hash to its entry (KenLM's probing model
// also keys by hash only).
class NgramTable {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2 + 2) cap <<= 1;
    keys_.assign(cap, 0);
    vals_.assign(cap, NgramEntry{});
    mask_ = cap - 1;
  }
  NgramEntry* insert(uint64_t h) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    size_t i = h & mask_;
    while (keys_[i] != 0 && keys_[i] != h) i = (i + 1) & mask_;
    if (keys_[i] == 0) {
      keys_[i] = h;
      ++size_;
    }
    return &vals_[i];
  }
  const NgramEntry* find(uint64_t h) const {
    if (keys_.empty()) return nullptr;
    size_t i = h & mask_;
    while (keys_[i] != 0) {
      if (keys_[i] == h) return &vals_[i];
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  NgramEntry* find_mut(uint64_t h) { return const_cast<NgramEntry*>(static_cast<const NgramTable*>(this)->find(h)); }
  size_t size() const { return size_; }

  void write(std::ostream& out) const {
    uint64_t cap = keys_.size(), n = size_;
    out.write(reinterpret_cast<const char*>(&cap), sizeof cap);
    out.write(reinterpret_cast<const char*>(&n), sizeof n);
    out.write(reinterpret_cast<const char*>(keys_.data()), static_cast<std::streamsize>(cap * sizeof(uint64_t)));
    for (const NgramEntry& e : vals_) write_entry(out, e);
  }
  bool read(std::istream& in, size_t expected) {
    uint64_t cap = 0, n = 0;
    in.read(reinterpret_cast<char*>(&cap), sizeof cap);
    in.read(reinterpret_cast<char*>(&n), sizeof n);
    if (!in || cap == 0 || (cap & (cap - 1)) != 0 || n >= cap || n > expected || cap > 8 * expected + 64) return false;  // expected: all n-grams of this and higher orders (blanks included)
    keys_.resize(cap);
    vals_.resize(cap);
    in.read(reinterpret_cast<char*>(keys_.data()), static_cast<std::streamsize>(cap * sizeof(uint64_t)));
    for (NgramEntry& e : vals_)
      if (!read_entry(in, e)) return false;
    mask_ = cap - 1;
    size_ = n;
    return static_cast<bool>(in);
  }
  static void write_entry(std::ostream& out, const NgramEntry& e) {
    char flag = e.extends ? 1 : 0;
    out.write(reinterpret_cast<const char*>(&e.prob), sizeof e.prob);
    out.write(reinterpret_cast<const char*>(&e.backoff), sizeof e.backoff);
    out.write(&flag, 1);
  }
  static bool read_entry(std::istream& in, NgramEntry& e) {
    char flag = 0;
    in.read(reinterpret_cast<char*>(&e.prob), sizeof e.prob);
    in.read(reinterpret_cast<char*>(&e.backoff), sizeof e.backoff);
    in.read(&flag, 1);
    e.extends = flag != 0;
    return static_cast<bool>(in);
  }

 private:
  void grow() {
    std::vector<uint64_t> old_keys;
    std::vector<NgramEntry> old_vals;
    old_keys.swap(keys_);
    old_vals.swap(vals_);
    size_t n = std::max<size_t>(size_ * 2, 8);
    size_ = 0;
    reserve(n);
    for (size_t i = 0; i < old_keys.size(); ++i)
      if (old_keys[i] != 0) *insert(old_keys[i]) = old_vals[i];
  }
  std::vector<uint64_t> keys_;
  std::vector<NgramEntry> vals_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

struct LMState {
  uint8_t length = 0;
  WordId words[kMaxOrder - 1] = {};
  float backoff[kMaxOrder - 1] = {};
  bool operator==(const LMState& o) const {
    if (length != o.length) return false;
    for (int i = 0; i < length; ++i)
      if (words[i] != o.words[i]) return false;
    return true;
  }
  uint64_t hash() const {
    uint64_t h = 0x12345 + length;
    for (int i = 0; i < length; ++i) h = mix64(h ^ (words[i] + 0x9e3779b97f4a7c15ULL * (i + 1)));
    return h;
  }
};

class NgramLM {
 public:
  static constexpr WordId kUnk = 0;

  static constexpr char kMagic[9] = "CKITLM01";

  // Reads an ARPA file, or a binary file written by save_binary (recognised by its magic).
  explicit NgramLM(const std::string& path) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw std::runtime_error("cannot open language model file '" + path + "'");
    char head[8] = {};
    probe.read(head, 8);
    if (probe.gcount() == 8 && std::memcmp(head, kMagic, 8) == 0)
      load_binary(path);
    else if (probe.gcount() == 8 && std::memcmp(head, "mmap lm ", 8) == 0)
      throw std::invalid_argument("'" + path + "' is a KenLM binary file, which the native loader does not read; "
                                  "pass the .arpa file, or a ctcdecode_kit.lm.KenLM object (slower callbacks)");
    else
      load_arpa(path);
  }

  // A binary image of the model: loads several times faster than parsing the ARPA text.
  void save_binary(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write '" + path + "'");
    out.write(kMagic, 8);
    int32_t order = order_;
    out.write(reinterpret_cast<const char*>(&order), sizeof order);
    for (size_t c : counts_) {
      uint64_t v = c;
      out.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
    out.write(reinterpret_cast<const char*>(&bos_), sizeof bos_);
    out.write(reinterpret_cast<const char*>(&eos_), sizeof eos_);
    uint64_t n = words_.size();
    out.write(reinterpret_cast<const char*>(&n), sizeof n);
    for (size_t i = 0; i < words_.size(); ++i) {
      uint32_t len = static_cast<uint32_t>(words_[i].size());
      out.write(reinterpret_cast<const char*>(&len), sizeof len);
      out.write(words_[i].data(), len);
      NgramTable::write_entry(out, unigrams_[i]);
      char listed = listed_[i] ? 1 : 0;
      out.write(&listed, 1);
    }
    for (int k = 2; k <= order_; ++k) tables_[k].write(out);
    if (!out) throw std::runtime_error("writing '" + path + "' failed");
  }

  int order() const { return order_; }
  size_t vocab_size() const { return unigrams_.size(); }
  const std::vector<size_t>& counts() const { return counts_; }
  WordId begin_sentence_id() const { return bos_; }
  WordId end_sentence_id() const { return eos_; }

  WordId index(const std::string& word) const {
    auto it = vocab_.find(word);
    return it == vocab_.end() ? kUnk : it->second;
  }
  const std::string& word(WordId id) const { return words_[id]; }
  // Unigrams written with a backoff column: pyctcdecode's `load_unigram_set_from_arpa` set.
  bool listed(WordId id) const { return id != kUnk && listed_[id]; }
  bool has_listed() const { return !listed_sorted_.empty(); }
  const std::vector<std::string>& listed_words() const { return listed_sorted_; }
  // Whether `prefix` starts some listed unigram (pyctcdecode's CharTrie.has_node != 0).
  bool has_prefix(const std::string& prefix) const {
    auto it = std::lower_bound(listed_sorted_.begin(), listed_sorted_.end(), prefix);
    return it != listed_sorted_.end() && it->compare(0, prefix.size(), prefix) == 0;
  }

  // Every unigram except <s>, </s> and <unk> (the kit's rule), sorted; built on request.
  void index_all_unigrams() {
    if (!all_sorted_.empty()) return;
    for (WordId id = 1; id < words_.size(); ++id)
      if (id != bos_ && id != eos_) all_sorted_.push_back(words_[id]);
    std::sort(all_sorted_.begin(), all_sorted_.end());
  }
  bool is_word(WordId id) const { return id != kUnk && id != bos_ && id != eos_; }
  bool has_prefix_any(const std::string& prefix) const {
    auto it = std::lower_bound(all_sorted_.begin(), all_sorted_.end(), prefix);
    return it != all_sorted_.end() && it->compare(0, prefix.size(), prefix) == 0;
  }

  LMState begin_state() const {
    LMState s;
    s.length = 1;
    s.words[0] = bos_;
    s.backoff[0] = unigrams_[bos_].backoff;
    return s;
  }
  LMState null_state() const { return LMState{}; }

  // log10 P(word | in), writing the successor state to `out` (KenLM's BaseScore).
  float score(const LMState& in, WordId w, LMState& out) const {
    const NgramEntry& uni = unigrams_[w];
    float prob = uni.prob;
    int ngram_length = 1;
    out.words[0] = w;
    out.backoff[0] = uni.backoff;
    int out_len = (uni.extends && order_ > 1) ? 1 : 0;
    uint64_t h = hash_word(w);
    for (int k = 0; k < in.length; ++k) {
      h = hash_extend(h, in.words[k]);
      const NgramEntry* e = tables_[k + 2].find(h);
      if (e == nullptr) break;
      prob = e->prob;
      ngram_length = k + 2;
      if (k + 2 <= order_ - 1) {
        out.words[k + 1] = in.words[k];
        out.backoff[k + 1] = e->backoff;
        if (e->extends) out_len = k + 2;
      }
    }
    for (int i = ngram_length - 1; i < in.length; ++i) prob += in.backoff[i];
    out.length = static_cast<uint8_t>(out_len);
    for (int i = out_len; i < kMaxOrder - 1; ++i) {
      out.words[i] = 0;
      out.backoff[i] = 0.f;
    }
    return prob;
  }

  // Rebuild a state from its words (most recent first), looking the backoffs up.
  LMState state_from_words(const std::vector<WordId>& words) const {
    LMState s;
    int n = std::min<int>(static_cast<int>(words.size()), order_ - 1);
    uint64_t h = 0;
    int len = 0;
    for (int i = 0; i < n; ++i) {
      if (words[i] >= unigrams_.size()) throw std::invalid_argument("LM state holds an unknown word id");
      const NgramEntry* e;
      if (i == 0) {
        h = hash_word(words[0]);
        e = &unigrams_[words[0]];
      } else {
        h = hash_extend(h, words[i]);
        e = tables_[i + 1].find(h);
      }
      if (e == nullptr) break;
      s.words[i] = words[i];
      s.backoff[i] = e->backoff;
      len = i + 1;
    }
    s.length = static_cast<uint8_t>(len);
    return s;
  }

  // Per-word log10 scores of a sentence (and `</s>` last when eos), like kenlm.Model.full_scores.
  std::vector<float> full_scores(const std::vector<std::string>& sentence, bool bos, bool eos) const {
    std::vector<float> out;
    LMState s = bos ? begin_state() : null_state(), t;
    for (const auto& w : sentence) {
      out.push_back(score(s, index(w), t));
      s = t;
    }
    if (eos) out.push_back(score(s, eos_, t));
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& path, size_t line, const std::string& what) const {
    std::ostringstream msg;
    msg << "ARPA file '" << path << "' line " << line << ": " << what;
    throw std::invalid_argument(msg.str());
  }

  void load_binary(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    auto bad = [&](const char* what) {
      throw std::invalid_argument("binary language model '" + path + "' is corrupt or truncated (" + what + ")");
    };
    char head[8];
    in.read(head, 8);
    int32_t order = 0;
    in.read(reinterpret_cast<char*>(&order), sizeof order);
    if (!in || order < 1 || order > kMaxOrder) bad("order");
    order_ = order;
    for (int k = 0; k < order_; ++k) {
      uint64_t v = 0;
      in.read(reinterpret_cast<char*>(&v), sizeof v);
      counts_.push_back(static_cast<size_t>(v));
    }
    in.read(reinterpret_cast<char*>(&bos_), sizeof bos_);
    in.read(reinterpret_cast<char*>(&eos_), sizeof eos_);
    uint64_t n = 0;
    in.read(reinterpret_cast<char*>(&n), sizeof n);
    if (!in || n == 0 || n > counts_[0] + 3 || bos_ >= n || eos_ >= n) bad("vocabulary");
    words_.resize(n);
    unigrams_.resize(n);
    listed_.assign(n, false);
    vocab_.reserve(n * 2);
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t len = 0;
      in.read(reinterpret_cast<char*>(&len), sizeof len);
      if (!in || len > (1u << 20)) bad("word");
      words_[i].resize(len);
      in.read(&words_[i][0], len);
      if (!NgramTable::read_entry(in, unigrams_[i])) bad("unigram");
      char listed = 0;
      in.read(&listed, 1);
      listed_[i] = listed != 0;
      vocab_.emplace(words_[i], static_cast<WordId>(i));
    }
    if (!in || words_[kUnk] != "<unk>") bad("unigrams");
    tables_.resize(order_ + 1);
    for (int k = 2; k <= order_; ++k)
      if (!tables_[k].read(in, std::accumulate(counts_.begin() + (k - 1), counts_.end(), size_t{0}))) bad("n-gram table");
    for (WordId id = 1; id < words_.size(); ++id)
      if (listed_[id]) listed_sorted_.push_back(words_[id]);
    std::sort(listed_sorted_.begin(), listed_sorted_.end());
  }

  // Pruned ARPA files may hold "a b c" without its suffix "b c". Like KenLM, insert the
  // missing suffixes as blank entries whose probability is the backed-off one, so that
  // lookups (which walk suffixes from the word back into its history) reach "a b c".
  void add_missing_suffixes(const std::vector<WordId>& ids, int n) {
    const WordId w = ids[n - 1];
    uint64_t h = hash_word(w);
    std::vector<WordId> context;  // most recent first
    for (int m = 2; m <= n - 1; ++m) {
      const WordId older = ids[n - m];
      h = hash_extend(h, older);
      context.push_back(older);
      if (tables_[m].find(h) != nullptr) continue;
      LMState out;
      const float prob = score(state_from_words(context), w, out);
      NgramEntry* blank = tables_[m].insert(h);
      blank->prob = prob;
      blank->backoff = 0.f;
      // its context (the suffix without w) now leads somewhere
      if (m == 2) {
        unigrams_[ids[n - 2]].extends = true;
      } else {
        uint64_t hc = hash_word(ids[n - 2]);
        for (int k = n - 3; k >= n - m; --k) hc = hash_extend(hc, ids[k]);
        NgramEntry* c = tables_[m - 1].find_mut(hc);
        if (c != nullptr) c->extends = true;
      }
    }
  }

  WordId add_word(const std::string& w) {
    auto it = vocab_.find(w);
    if (it != vocab_.end()) return it->second;
    WordId id = static_cast<WordId>(words_.size());
    vocab_.emplace(w, id);
    words_.push_back(w);
    unigrams_.push_back(NgramEntry{});
    listed_.push_back(false);
    return id;
  }

  void load_arpa(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open language model file '" + path + "'");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0, line_no = 0;
    auto next_line = [&](std::string_view& line) -> bool {
      if (pos >= data.size()) return false;
      size_t end = data.find('\n', pos);
      if (end == std::string::npos) end = data.size();
      line = std::string_view(data).substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = end + 1;
      ++line_no;
      return true;
    };
    auto trim = [](std::string_view s) {
      size_t a = 0, b = s.size();
      while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
      while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
      return s.substr(a, b - a);
    };
    std::string_view line;
    bool seen_data = false;
    while (next_line(line)) {
      if (trim(line) == "\\data\\") {
        seen_data = true;
        break;
      }
    }
    if (!seen_data) fail(path, line_no, "no '\\data\\' header: not an ARPA language model (KenLM binary files are not read; pass the .arpa file)");
    while (next_line(line)) {
      std::string_view t = trim(line);
      if (t.empty()) {
        if (!counts_.empty()) break;
        continue;
      }
      if (t.substr(0, 6) != "ngram ") fail(path, line_no, "expected 'ngram N=count'");
      size_t eq = t.find('=');
      if (eq == std::string_view::npos) fail(path, line_no, "expected 'ngram N=count'");
      int n = std::atoi(std::string(t.substr(6, eq - 6)).c_str());
      long long c = std::atoll(std::string(t.substr(eq + 1)).c_str());
      if (n != static_cast<int>(counts_.size()) + 1 || c < 0) fail(path, line_no, "bad n-gram count line");
      counts_.push_back(static_cast<size_t>(c));
    }
    order_ = static_cast<int>(counts_.size());
    if (order_ < 1) fail(path, line_no, "no n-gram counts in the header");
    if (order_ > kMaxOrder) fail(path, line_no, "order " + std::to_string(order_) + " is above the supported maximum " + std::to_string(kMaxOrder));
    tables_.resize(order_ + 1);
    for (int n = 2; n <= order_; ++n) tables_[n].reserve(counts_[n - 1]);
    vocab_.reserve(counts_[0] * 2 + 4);
    words_.reserve(counts_[0] + 1);
    add_word("<unk>");
    unigrams_[kUnk].prob = -100.f;  // KenLM's default when the file has no <unk>

    std::vector<WordId> ids;
    std::vector<std::string_view> fields;
    for (int n = 1; n <= order_; ++n) {
      std::string header = "\\" + std::to_string(n) + "-grams:";
      bool found = false;
      while (next_line(line)) {
        std::string_view t = trim(line);
        if (t.empty()) continue;
        if (t == header) {
          found = true;
          break;
        }
        fail(path, line_no, "expected '" + header + "'");
      }
      if (!found) fail(path, line_no, "missing section '" + header + "'");
      size_t read = 0;
      while (read < counts_[n - 1]) {
        if (!next_line(line)) fail(path, line_no, "file ends inside the " + std::to_string(n) + "-grams");
        std::string_view t = trim(line);
        if (t.empty()) continue;
        if (t[0] == '\\') fail(path, line_no, "section ends early: header announced " + std::to_string(counts_[n - 1]) + " " + std::to_string(n) + "-grams");
        ++read;
        fields.clear();
        size_t i = 0;
        while (i < t.size()) {
          while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
          size_t j = i;
          while (j < t.size() && t[j] != ' ' && t[j] != '\t') ++j;
          if (j > i) fields.push_back(t.substr(i, j - i));
          i = j;
        }
        if (fields.size() != static_cast<size_t>(n) + 1 && fields.size() != static_cast<size_t>(n) + 2)
          fail(path, line_no, "expected a log10 probability, " + std::to_string(n) + " word(s) and an optional backoff");
        char* endp = nullptr;
        std::string num(fields[0]);
        float prob = std::strtof(num.c_str(), &endp);
        if (endp == num.c_str() || *endp != '\0') fail(path, line_no, "bad probability '" + num + "'");
        float backoff = 0.f;
        bool has_backoff = fields.size() == static_cast<size_t>(n) + 2;
        if (has_backoff) {
          std::string b(fields.back());
          backoff = std::strtof(b.c_str(), &endp);
          if (endp == b.c_str() || *endp != '\0') fail(path, line_no, "bad backoff '" + b + "'");
        }
        if (n == 1) {
          WordId id = add_word(std::string(fields[1]));
          NgramEntry& e = unigrams_[id];
          e.prob = prob;
          e.backoff = backoff;
          e.extends = backoff != 0.f;
          // pyctcdecode keeps a unigram when the stripped line splits into exactly 3 tab fields.
          size_t tabs = std::count(t.begin(), t.end(), '\t');
          if (tabs == 2 && id != kUnk) listed_[id] = true;
          if (fields[1] == "<s>") bos_ = id;
          if (fields[1] == "</s>") eos_ = id;
          continue;
        }
        ids.clear();
        bool known = true;
        for (int k = 1; k <= n; ++k) {
          auto it = vocab_.find(std::string(fields[k]));
          if (it == vocab_.end()) {
            known = false;
            break;
          }
          ids.push_back(it->second);
        }
        if (!known) fail(path, line_no, "n-gram uses a word that is not among the unigrams");
        if (n >= 3) add_missing_suffixes(ids, n);
        uint64_t h = hash_word(ids[n - 1]);
        for (int k = n - 2; k >= 0; --k) h = hash_extend(h, ids[k]);
        NgramEntry* e = tables_[n].insert(h);
        e->prob = prob;
        e->backoff = backoff;
        e->extends = e->extends || backoff != 0.f;
        // Mark the context (the first n-1 words, i.e. the n-gram without its last word).
        if (n == 2) {
          unigrams_[ids[0]].extends = true;
        } else {
          uint64_t hc = hash_word(ids[n - 2]);
          for (int k = n - 3; k >= 0; --k) hc = hash_extend(hc, ids[k]);
          NgramEntry* c = tables_[n - 1].find_mut(hc);
          if (c == nullptr)
            fail(path, line_no, "the context of this " + std::to_string(n) + "-gram is not among the " +
                                    std::to_string(n - 1) + "-grams (KenLM refuses such files too)");
          c->extends = true;
        }
      }
    }
    if (bos_ == kUnk) bos_ = add_word("<s>");
    if (eos_ == kUnk) eos_ = add_word("</s>");
    // pyctcdecode refuses a file without a single 3-field unigram line; we treat every word as known.
    if (std::find(listed_.begin() + 1, listed_.end(), true) == listed_.end())
      std::fill(listed_.begin() + 1, listed_.end(), true);
    for (WordId id = 1; id < words_.size(); ++id)
      if (listed_[id]) listed_sorted_.push_back(words_[id]);
    std::sort(listed_sorted_.begin(), listed_sorted_.end());
  }

  int order_ = 0;
  std::vector<size_t> counts_;
  std::unordered_map<std::string, WordId> vocab_;
  std::vector<std::string> words_;
  std::vector<NgramEntry> unigrams_;
  std::vector<bool> listed_;
  std::vector<std::string> listed_sorted_;
  std::vector<std::string> all_sorted_;
  std::vector<NgramTable> tables_;
  WordId bos_ = kUnk, eos_ = kUnk;
};

}  // namespace ckit
