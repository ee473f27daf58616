// Word n-gram language model read from an ARPA file or the kit's memory-mapped binary,
// scored like KenLM.
//
// Scores are log10, computed in float32 with the same backoff rule and the same order of
// additions as KenLM's probing model (longest matching n-gram, then the backoffs of the
// context lengths it did not match, shortest first), so results agree with the `kenlm`
// Python module to float rounding. States keep at most order-1 words (most recent first)
// and the backoffs of those contexts, minimised like KenLM's right state (a context that
// starts no longer n-gram and has a zero backoff is dropped), so equal futures compare equal.
//
// Storage (ngram_table.hpp): per order a hash table sized once from the ARPA header (16
// bytes a slot, 12 at the highest order, load factor 0.75), the unigrams, the words and a
// word -> id table. An ARPA file is streamed into tables the model owns; a binary file
// (save_binary) is mapped read-only and used in place: opening it reads only its header,
// pages come in on demand and every process mapping the file shares them. A KenLM binary
// (`build_binary`, probing or trie; kenlm_binary.hpp) is mapped and used in place
// the same way, with KenLM's own keys, tables and tries, so its scores are KenLM's bit for bit.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>  // (beam_search.hpp relies on these two coming from here)
#include <utility>
#include <vector>

#include "arpa_reader.hpp"
#include "kenlm_binary.hpp"
#include "ngram_table.hpp"

namespace ckit {

// A memory mapping: anonymous (zero-filled, writable) or of a whole file (read-only, shared).
class Mapping {
 public:
  Mapping() = default;
  ~Mapping() { reset(); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = o.data_, size_ = o.size_;
      o.data_ = nullptr, o.size_ = 0;
    }
    return *this;
  }
  static Mapping anonymous(size_t n) {
    Mapping m;
    if (n == 0) return m;
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    m.data_ = static_cast<unsigned char*>(p);
    m.size_ = n;
    return m;
  }
  static Mapping file(int fd, size_t n) {
    Mapping m;
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return m;
    m.data_ = static_cast<unsigned char*>(p);
    m.size_ = n;
    return m;
  }
  unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  void reset() {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  unsigned char* data_ = nullptr;
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

// The size and modification time (ns) of a file, as the binary cache records its source.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

class NgramLM {
 public:
  static constexpr WordId kUnk = 0;
  static constexpr WordId kNone = 0xffffffffu;

  // Reads an ARPA file, or maps a binary file written by save_binary (recognised by its magic).
  explicit NgramLM(const std::string& path) : path_(path) {
    char head[8] = {};
    size_t got = 0;
    {
      std::FILE* f = std::fopen(path.c_str(), "rb");
      if (f == nullptr) throw std::runtime_error("cannot open language model file '" + path + "'");
      got = std::fread(head, 1, 8, f);
      std::fclose(f);
    }
    if (got == 8 && std::memcmp(head, kBinaryMagic, 8) == 0)
      open_binary(path);
    else if (got == 8 && std::memcmp(head, "CKITLM0", 7) == 0)
      throw std::invalid_argument("binary language model '" + path + "' was written by an older ctcdecode_kit (format " +
                                  std::string(head, 8) + "); delete it and load the ARPA file again");
    else if (got == 8 && std::memcmp(head, "mmap lm ", 8) == 0)
      open_kenlm(path);
    else
      load_arpa(path);
  }
  // Reads ARPA text from a stream (a decompressor, say); `name` names it in errors.
  NgramLM(const std::string& name, ReadChunk read) : path_(name) {
    LineReader in(name, std::move(read));
    load_arpa(in);
  }
  NgramLM(const NgramLM&) = delete;
  NgramLM& operator=(const NgramLM&) = delete;

  // The source stamp recorded in a binary file, when `path` is a complete binary file of
  // this format (false otherwise: missing, foreign, truncated or from another version).
  static bool binary_stamp(const std::string& path, FileStamp& stamp) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    BinaryHeader h;
    size_t got = std::fread(&h, 1, sizeof h, f);
    std::fclose(f);
    struct stat st;
    if (got != sizeof h || ::stat(path.c_str(), &st) != 0 || !header_ok(h)) return false;
    if (static_cast<uint64_t>(st.st_size) != h.header_size + h.body_size) return false;
    stamp.size = h.source_size;
    stamp.mtime_ns = h.source_mtime_ns;
    return true;
  }

  // Writes the binary file atomically (a temporary file renamed over `path`); `source`
  // records the ARPA file it stands for (zeros: none).
  void save_binary(const std::string& path, FileStamp source = {}) const {
    static std::atomic<unsigned> counter{0};
    std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
    bool ok = write_binary(f, source);
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::string why = std::strerror(errno);
      std::remove(tmp.c_str());
      throw std::runtime_error("writing '" + path + "' failed: " + why);
    }
  }

  // Checks the whole body of a mapped binary file against its checksum (a model read from
  // an ARPA file has nothing to check).
  void verify() const {
    if (!mapped()) return;
    if (kenlm_) return verify_kenlm();
    const auto* h = reinterpret_cast<const BinaryHeader*>(map_.data());
    Checksum c;
    c.update(map_.data() + h->header_size, h->body_size);
    if (c.digest() != h->body_checksum)
      throw std::invalid_argument("binary language model '" + path_ +
                                  "' is corrupt: its body does not match the checksum in its header; delete it "
                                  "and load the ARPA file again");
  }

  bool mapped() const { return map_.data() != nullptr; }
  int order() const { return order_; }
  size_t vocab_size() const { return vocab_size_; }
  const std::vector<size_t>& counts() const { return counts_; }
  WordId begin_sentence_id() const { return bos_; }
  WordId end_sentence_id() const { return eos_; }
  // Bytes of the n-gram storage (tables, unigrams, words), as the binary file holds them.
  uint64_t storage_bytes() const {
    if (kenlm_) return map_.size();
    uint64_t total = vocab_size_ * sizeof(Unigram) + (vocab_size_ + 1) * 8 + blob_size_ + vcap_ * 8 + (n_listed_ + n_all_) * 4;
    for (int k = 2; k <= order_; ++k) total += tables_[k].cap * tables_[k].stride;
    return total;
  }

  WordId index(std::string_view word) const {
    WordId id = find_word(word);
    return id == kNone ? kUnk : id;
  }
  std::string_view word(WordId id) const {
    if (id >= vocab_size_) return {};
    uint64_t a = off_[id], b = off_[id + 1];
    if (a > b || b > blob_size_) return {};  // only a corrupt file (verify() says so)
    if (kword_nul_ && b > a) --b;  // a KenLM binary's words end with a NUL
    return std::string_view(blob_ + a, b - a);
  }
  // Unigrams written with a backoff column: pyctcdecode's `load_unigram_set_from_arpa` set.
  bool listed(WordId id) const {
    if (kenlm_) return is_word(id) && id < vocab_size_;  // a KenLM binary keeps no backoff columns: every word
    return id != kUnk && id < vocab_size_ && (uni_[id].flags & kUniListed) != 0;
  }
  bool has_listed() const { return n_listed_ > 0; }
  std::vector<std::string> listed_words() const {
    std::vector<std::string> out;
    ensure_sorted();
    out.reserve(n_listed_);
    for (uint64_t i = 0; i < n_listed_; ++i) out.emplace_back(word(listed_sorted_[i]));
    return out;
  }
  // Every word but <s>, </s> and <unk> (sorted): the kit's unigram list.
  std::vector<std::string> all_words() const {
    std::vector<std::string> out;
    ensure_sorted();
    out.reserve(n_all_);
    for (uint64_t i = 0; i < n_all_; ++i) out.emplace_back(word(all_sorted_[i]));
    return out;
  }
  // Whether `prefix` starts some listed unigram (pyctcdecode's CharTrie.has_node != 0).
  bool has_prefix(std::string_view prefix) const {
    ensure_sorted();
    return prefix_in(listed_sorted_, n_listed_, prefix);
  }

  // Kept for callers: the index of all unigrams is built with the model.
  void index_all_unigrams() {}
  bool is_word(WordId id) const { return id != kUnk && id != bos_ && id != eos_; }
  // Whether `prefix` starts some unigram other than <s>, </s> and <unk> (the kit's rule).
  bool has_prefix_any(std::string_view prefix) const {
    ensure_sorted();
    return prefix_in(all_sorted_, n_all_, prefix);
  }

  LMState begin_state() const {
    LMState s;
    s.length = 1;
    s.words[0] = bos_;
    s.backoff[0] = kenlm_ ? load_float(kenlm_unigram(bos_) + 4) : uni_[bos_].backoff;
    return s;
  }
  LMState null_state() const { return LMState{}; }

  // log10 P(word | in), writing the successor state to `out` (KenLM's BaseScore).
  float score(const LMState& in, WordId w, LMState& out) const {
    if (kenlm_) return score_kenlm(in, w, out);
    const Unigram& uni = uni_[w];
    float prob = uni.prob;
    int ngram_length = 1;
    out.words[0] = w;
    out.backoff[0] = uni.backoff;
    int out_len = ((uni.flags & kUniExtends) != 0 && order_ > 1) ? 1 : 0;
    uint64_t h = hash_word(w);
    const int max_k = std::min<int>(in.length, order_ - 1);
    for (int k = 0; k < max_k; ++k) {
      h = hash_extend(h, in.words[k]);
      const TableView& t = tables_[k + 2];
      const unsigned char* e = t.find(h);
      if (e == nullptr) break;
      prob = TableView::prob(e);
      ngram_length = k + 2;
      if (k + 2 <= order_ - 1) {
        out.words[k + 1] = in.words[k];
        out.backoff[k + 1] = t.backoff(e);
        if (TableView::extends(e)) out_len = k + 2;
      }
    }
    return finish_score(in, out, ngram_length, out_len, prob);
  }

  // Rebuild a state from its words (most recent first), looking the backoffs up.
  LMState state_from_words(const std::vector<WordId>& words) const {
    if (kenlm_) return state_from_words_kenlm(words);
    LMState s;
    int n = std::min<int>(static_cast<int>(words.size()), order_ - 1);
    uint64_t h = 0;
    int len = 0;
    for (int i = 0; i < n; ++i) {
      if (words[i] >= vocab_size_) throw std::invalid_argument("LM state holds an unknown word id");
      float backoff;
      if (i == 0) {
        h = hash_word(words[0]);
        backoff = uni_[words[0]].backoff;
      } else {
        h = hash_extend(h, words[i]);
        const unsigned char* e = tables_[i + 1].find(h);
        if (e == nullptr) break;
        backoff = tables_[i + 1].backoff(e);
      }
      s.words[i] = words[i];
      s.backoff[i] = backoff;
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
  // The end of every layout's scoring step (kit table, KenLM probing, KenLM trie): add the
  // backoffs of the history words the matched n-gram did not use, and close the new state.
  static float finish_score(const LMState& in, LMState& out, int ngram_length, int out_len, float prob) {
    for (int i = ngram_length - 1; i < in.length; ++i) prob += in.backoff[i];
    out.length = static_cast<uint8_t>(out_len);
    for (int i = out_len; i < kMaxOrder - 1; ++i) {
      out.words[i] = 0;
      out.backoff[i] = 0.f;
    }
    return prob;
  }

  // ---- lookups shared by both storages ----
  WordId find_word(std::string_view w) const {
    if (kenlm_) {  // KenLM's answer, hash only (a word colliding with another gets its id, as in KenLM)
      if (kl_.trie) return trie_word(murmur64a(w.data(), w.size(), 0));
      const unsigned char* e = kl_.vocab.find(murmur64a(w.data(), w.size(), 0));
      if (e == nullptr) return kNone;
      uint32_t id;
      std::memcpy(&id, e + 8, 4);
      return id < vocab_size_ ? id : kNone;
    }
    if (vcap_ == 0) return kNone;
    uint64_t h = hash_string(w);
    uint64_t i = static_cast<uint64_t>((static_cast<unsigned __int128>(h) * vcap_) >> 64);
    for (uint64_t probes = 0; probes < vcap_; ++probes) {
      const uint64_t slot = vslots_[i];
      if (slot == 0) return kNone;
      const uint32_t v = static_cast<uint32_t>(slot);
      if ((slot >> 32) == (h >> 32) && v - 1 < vocab_size_ && word(v - 1) == w) return v - 1;
      if (++i == vcap_) i = 0;
    }
    return kNone;
  }
  bool prefix_in(const uint32_t* ids, uint64_t n, std::string_view prefix) const {
    const uint32_t* end = ids + n;
    const uint32_t* it = std::lower_bound(ids, end, prefix, [&](uint32_t id, std::string_view p) { return word(id) < p; });
    return it != end && word(*it).substr(0, prefix.size()) == prefix;
  }

  // ---- the binary file ----
  static bool header_ok(const BinaryHeader& h) {
    if (std::memcmp(h.magic, kBinaryMagic, 8) != 0 || h.version != kBinaryVersion || h.endian != kEndianMark ||
        h.header_size != sizeof(BinaryHeader))
      return false;
    Checksum c;
    c.update(&h, offsetof(BinaryHeader, header_checksum));
    return c.digest() == h.header_checksum;
  }

  [[noreturn]] void bad_binary(const std::string& what) const {
    throw std::invalid_argument("binary language model '" + path_ + "' is corrupt or truncated (" + what +
                                "); delete it and load the ARPA file again");
  }

  void open_binary(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open language model file '" + path + "'");
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot read language model file '" + path + "'");
    }
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    if (file_size < sizeof(BinaryHeader)) {
      ::close(fd);
      bad_binary("the file has " + std::to_string(file_size) + " bytes, shorter than its header");
    }
    map_ = Mapping::file(fd, file_size);
    ::close(fd);
    if (!mapped()) throw std::runtime_error("cannot map language model file '" + path + "': " + std::strerror(errno));
    const auto& h = *reinterpret_cast<const BinaryHeader*>(map_.data());
    if (h.endian != kEndianMark && h.endian == __builtin_bswap32(kEndianMark))
      bad_binary("written on a machine of the other byte order");
    if (h.version != kBinaryVersion)
      bad_binary("format version " + std::to_string(h.version) + ", this ctcdecode_kit reads version " + std::to_string(kBinaryVersion));
    if (!header_ok(h)) bad_binary("bad header checksum");
    if (file_size != h.header_size + h.body_size)
      bad_binary("the file has " + std::to_string(file_size) + " bytes, its header announces " +
                 std::to_string(h.header_size + h.body_size));
    if (h.order < 1 || h.order > kMaxOrder) bad_binary("order");
    if (h.vocab_size < 1 || h.vocab_size >= kNone || h.bos >= h.vocab_size || h.eos >= h.vocab_size) bad_binary("vocabulary");
    auto section = [&](uint64_t off, uint64_t bytes, const char* what) {
      if (off % kSectionAlign != 0 || off < h.header_size || off > file_size || bytes > file_size - off) bad_binary(what);
      return map_.data() + off;
    };
    order_ = static_cast<int>(h.order);
    vocab_size_ = h.vocab_size;
    bos_ = h.bos;
    eos_ = h.eos;
    for (int k = 0; k < order_; ++k) counts_.push_back(static_cast<size_t>(h.counts[k]));
    uni_ = reinterpret_cast<const Unigram*>(section(h.unigrams, h.vocab_size * sizeof(Unigram), "unigrams"));
    off_ = reinterpret_cast<const uint64_t*>(section(h.word_offsets, (h.vocab_size + 1) * 8, "words"));
    blob_ = reinterpret_cast<const char*>(section(h.blob, h.blob_size, "words"));
    blob_size_ = h.blob_size;
    if (h.vocab_cap == 0 || h.vocab_cap > file_size) bad_binary("vocabulary table");
    vslots_ = reinterpret_cast<const uint64_t*>(section(h.vocab_slots, h.vocab_cap * 8, "vocabulary table"));
    vcap_ = h.vocab_cap;
    if (h.n_listed > h.vocab_size || h.n_all > h.vocab_size) bad_binary("word lists");
    listed_sorted_ = reinterpret_cast<const uint32_t*>(section(h.listed_sorted, h.n_listed * 4, "word lists"));
    n_listed_ = h.n_listed;
    all_sorted_ = reinterpret_cast<const uint32_t*>(section(h.all_sorted, h.n_all * 4, "word lists"));
    n_all_ = h.n_all;
    for (int k = 2; k <= order_; ++k) {
      TableView& t = tables_[k];
      t.stride = k == order_ ? 12 : 16;
      if (h.caps[k] == 0 || h.caps[k] > file_size) bad_binary("n-gram table");
      t.cap = h.caps[k];
      t.slots = const_cast<unsigned char*>(section(h.tables[k], t.cap * t.stride, "n-gram table"));  // read only
    }
    for (int k = 0; k < order_; ++k) size_[k + 1] = counts_[k];
  }

  bool write_binary(std::FILE* f, FileStamp source) const {
    if (kenlm_)
      throw std::runtime_error("'" + path_ + "' is a KenLM binary file; it is used as it is and cannot be rewritten in the kit's format");
    BinaryHeader h;
    std::memset(&h, 0, sizeof h);
    std::memcpy(h.magic, kBinaryMagic, 8);
    h.version = kBinaryVersion;
    h.endian = kEndianMark;
    h.header_size = sizeof(BinaryHeader);
    h.order = static_cast<uint32_t>(order_);
    h.bos = bos_;
    h.eos = eos_;
    h.has_listed = n_listed_ > 0;
    h.vocab_size = vocab_size_;
    for (int k = 0; k < order_; ++k) h.counts[k] = counts_[k];
    h.source_size = source.size;
    h.source_mtime_ns = source.mtime_ns;
    struct Piece {
      const void* data;
      uint64_t bytes;
      uint64_t* offset;
    };
    std::vector<Piece> pieces = {
        {uni_, vocab_size_ * sizeof(Unigram), &h.unigrams},
        {off_, (vocab_size_ + 1) * 8, &h.word_offsets},
        {blob_, blob_size_, &h.blob},
        {vslots_, vcap_ * 8, &h.vocab_slots},
        {listed_sorted_, n_listed_ * 4, &h.listed_sorted},
        {all_sorted_, n_all_ * 4, &h.all_sorted},
    };
    for (int k = 2; k <= order_; ++k) pieces.push_back({tables_[k].slots, tables_[k].cap * tables_[k].stride, &h.tables[k]});
    h.blob_size = blob_size_;
    h.vocab_cap = vcap_;
    h.n_listed = n_listed_;
    h.n_all = n_all_;
    for (int k = 2; k <= order_; ++k) h.caps[k] = tables_[k].cap;
    uint64_t at = align_up(sizeof h);
    for (Piece& p : pieces) {
      *p.offset = at;
      at = align_up(at + p.bytes);
    }
    h.body_size = at - sizeof h;
    // body first (after a placeholder header), then the finished header
    static const unsigned char zeros[kSectionAlign] = {};
    Checksum body;
    auto put = [&](const void* data, uint64_t bytes) {
      body.update(data, bytes);
      return std::fwrite(data, 1, bytes, f) == bytes;
    };
    if (std::fwrite(&h, 1, sizeof h, f) != sizeof h) return false;
    uint64_t pos = sizeof h;
    if (!put(zeros, align_up(pos) - pos)) return false;
    pos = align_up(pos);
    for (const Piece& p : pieces) {
      if (p.bytes > 0 && !put(p.data, p.bytes)) return false;
      pos += p.bytes;
      if (!put(zeros, align_up(pos) - pos)) return false;
      pos = align_up(pos);
    }
    h.body_checksum = body.digest();
    Checksum hc;
    hc.update(&h, offsetof(BinaryHeader, header_checksum));
    h.header_checksum = hc.digest();
    return std::fseek(f, 0, SEEK_SET) == 0 && std::fwrite(&h, 1, sizeof h, f) == sizeof h && std::fflush(f) == 0;
  }

  // ---- the ARPA reader ----
  [[noreturn]] void fail(size_t line, const std::string& what) const {
    throw std::invalid_argument("ARPA file '" + path_ + "' line " + std::to_string(line) + ": " + what);
  }

  void refresh_views() {
    uni_ = uni_own_.data();
    vocab_size_ = uni_own_.size();
    off_ = off_own_.data();
    blob_ = blob_own_.data();
    blob_size_ = blob_own_.size();
    vslots_ = vslots_own_.data();
    vcap_ = vslots_own_.size();
  }

  WordId add_word(std::string_view w) {
    WordId found = find_word(w);
    if (found != kNone) return found;
    if ((uni_own_.size() + 1) * 2 > vslots_own_.size()) {  // the header undercounted: rehash
      std::vector<uint64_t> bigger(vslots_own_.size() * 2 + 16, 0);
      vslots_own_.swap(bigger);
      refresh_views();
      for (WordId id = 0; id < uni_own_.size(); ++id) place_word(id);
    }
    WordId id = static_cast<WordId>(uni_own_.size());
    blob_own_.append(w.data(), w.size());
    off_own_.push_back(blob_own_.size());
    uni_own_.push_back(Unigram{});
    refresh_views();
    place_word(id);
    return id;
  }
  void place_word(WordId id) {
    const uint64_t h = hash_string(word(id));
    uint64_t i = static_cast<uint64_t>((static_cast<unsigned __int128>(h) * vcap_) >> 64);
    while (vslots_own_[i] != 0)
      if (++i == vcap_) i = 0;
    vslots_own_[i] = (h >> 32 << 32) | (id + 1);
  }

  void make_table(int k, uint64_t cap) {
    own_[k] = Mapping::anonymous(cap * (k == order_ ? 12 : 16));
    tables_[k].slots = own_[k].data();
    tables_[k].cap = cap;
    tables_[k].stride = k == order_ ? 12 : 16;
  }
  // The slot for hash `h` in the order-k table, inserted when absent (the table grows only
  // when a pruned file needs more blank entries than the header announced n-grams).
  unsigned char* upsert(int k, uint64_t h) {
    TableView& t = tables_[k];
    if ((size_[k] + 1) * 16 > t.cap * 15) {
      TableView old = t;
      Mapping old_map = std::move(own_[k]);
      make_table(k, table_capacity(size_[k] + size_[k] / 4 + 16));
      for (uint64_t i = 0; i < old.cap; ++i) {
        uint64_t key = old.key_at(i);
        if (key == 0) continue;
        bool fresh;
        unsigned char* s = t.claim(key & ~kExtendsBit, &fresh);
        std::memcpy(s, old.slots + i * old.stride, old.stride);
      }
    }
    bool fresh = false;
    unsigned char* s = t.claim(h, &fresh);
    if (fresh) ++size_[k];
    return s;
  }
  unsigned char* find_mut(int k, uint64_t h) { return const_cast<unsigned char*>(tables_[k].find(h)); }

  // Pruned ARPA files may hold "a b c" without its suffix "b c". Like KenLM, insert the
  // missing suffixes as blank entries whose probability is the backed-off one, so that
  // lookups (which walk suffixes from the word back into its history) reach "a b c".
  // `suffix[m]` is the hash of the last m words of the n-gram `ids`.
  void add_missing_suffixes(const WordId* ids, int n, const uint64_t* suffix) {
    const WordId w = ids[n - 1];
    std::vector<WordId> context;  // most recent first
    for (int m = 2; m <= n - 1; ++m) {
      if (tables_[m].find(suffix[m]) != nullptr) continue;
      context.clear();
      for (int j = 2; j <= m; ++j) context.push_back(ids[n - j]);
      LMState out;
      const float prob = score(state_from_words(context), w, out);
      unsigned char* blank = upsert(m, suffix[m]);
      tables_[m].set_values(blank, prob, 0.f);
      mark_context(ids + (n - m), m);  // its context (the suffix without w) now leads somewhere
    }
  }
  void prefetch(int k, uint64_t h) const {
    const TableView& t = tables_[k];
    __builtin_prefetch(t.slots + t.start(h) * t.stride);
  }
  // Marks the first m-1 words of the m-gram `ids` as extended; false when absent.
  bool mark_context(const WordId* ids, int m) {
    if (m == 2) {
      uni_own_[ids[0]].flags |= kUniExtends;
      return true;
    }
    uint64_t hc = hash_word(ids[m - 2]);
    for (int k = m - 3; k >= 0; --k) hc = hash_extend(hc, ids[k]);
    unsigned char* c = find_mut(m - 1, hc);
    if (c == nullptr) return false;
    TableView::set_extends(c);
    return true;
  }

  void load_arpa(const std::string& path) {
    LineReader in(path);
    load_arpa(in);
  }
  void load_arpa(LineReader& in) {
    std::string_view line;
    bool seen_data = false;
    while (in.next(line)) {
      if (trim(line) == "\\data\\") {
        seen_data = true;
        break;
      }
    }
    if (!seen_data) fail(in.line_no(), "no '\\data\\' header: not an ARPA language model (KenLM binary files are not read; pass the .arpa file)");
    while (in.next(line)) {
      std::string_view t = trim(line);
      if (t.empty()) {
        if (!counts_.empty()) break;
        continue;
      }
      if (t.substr(0, 6) != "ngram ") fail(in.line_no(), "expected 'ngram N=count'");
      size_t eq = t.find('=');
      if (eq == std::string_view::npos) fail(in.line_no(), "expected 'ngram N=count'");
      int n = std::atoi(std::string(t.substr(6, eq - 6)).c_str());
      long long c = std::atoll(std::string(t.substr(eq + 1)).c_str());
      if (n != static_cast<int>(counts_.size()) + 1 || c < 0) fail(in.line_no(), "bad n-gram count line");
      counts_.push_back(static_cast<size_t>(c));
      if (counts_.size() > static_cast<size_t>(kMaxOrder))
        fail(in.line_no(), "order " + std::to_string(counts_.size()) + " is above the supported maximum " + std::to_string(kMaxOrder));
    }
    order_ = static_cast<int>(counts_.size());
    if (order_ < 1) fail(in.line_no(), "no n-gram counts in the header");
    for (int n = 2; n <= order_; ++n) make_table(n, table_capacity(counts_[n - 1]));
    uni_own_.reserve(counts_[0] + 3);
    off_own_.reserve(counts_[0] + 4);
    off_own_.push_back(0);
    vslots_own_.assign(2 * (counts_[0] + 3) + 16, 0);
    refresh_views();
    add_word("<unk>");
    uni_own_[kUnk].prob = -100.f;  // KenLM's default when the file has no <unk>

    std::string_view fields[kMaxOrder + 3];
    int prev_n = 0;  // order of the previous n-gram line, whose words and ids are kept here
    std::string prev_words[kMaxOrder];
    WordId prev_ids[kMaxOrder] = {};
    // n-gram lines parsed but not yet stored (FIFO, so the file's order is kept)
    struct Pending {
      int n;
      bool same_context;
      float prob, backoff;
      size_t line;
      WordId ids[kMaxOrder];
      uint64_t suffix[kMaxOrder + 1];
      uint64_t context;
    };
    constexpr int kDepth = 8;
    Pending ring[kDepth];
    int ring_head = 0, ring_size = 0;
    auto pop = [&]() {
      const Pending& p = ring[ring_head];
      ring_head = (ring_head + 1) % kDepth;
      --ring_size;
      const int n = p.n;
      if (n >= 3) add_missing_suffixes(p.ids, n, p.suffix);
      unsigned char* e = upsert(n, p.suffix[n]);
      tables_[n].set_values(e, p.prob, p.backoff);
      if (p.backoff != 0.f) TableView::set_extends(e);
      // Mark the context (the first n-1 words, i.e. the n-gram without its last word).
      if (p.same_context) return;
      if (n == 2) {
        uni_own_[p.ids[0]].flags |= kUniExtends;
        return;
      }
      unsigned char* c = find_mut(n - 1, p.context);
      if (c == nullptr)
        fail(p.line, "the context of this " + std::to_string(n) + "-gram is not among the " + std::to_string(n - 1) +
                         "-grams (KenLM refuses such files too)");
      TableView::set_extends(c);
    };
    auto drain = [&]() {
      while (ring_size > 0) pop();
    };
    // A parse error: the lines before it are stored first, so an earlier error wins.
    auto failed = [&](size_t line_no, const std::string& what) {
      drain();
      fail(line_no, what);
    };
    for (int n = 1; n <= order_; ++n) {
      std::string header = "\\" + std::to_string(n) + "-grams:";
      bool found = false;
      while (in.next(line)) {
        std::string_view t = trim(line);
        if (t.empty()) continue;
        if (t == header) {
          found = true;
          break;
        }
        fail(in.line_no(), "expected '" + header + "'");
      }
      if (!found) fail(in.line_no(), "missing section '" + header + "'");
      size_t read = 0;
      const size_t max_fields = static_cast<size_t>(n) + 2;
      while (read < counts_[n - 1]) {
        if (!in.next(line)) failed(in.line_no(), "file ends inside the " + std::to_string(n) + "-grams");
        std::string_view t = trim(line);
        if (t.empty()) continue;
        if (t[0] == '\\') failed(in.line_no(), "section ends early: header announced " + std::to_string(counts_[n - 1]) + " " + std::to_string(n) + "-grams");
        ++read;
        size_t nf = split_fields(t, fields, max_fields);
        if (nf != static_cast<size_t>(n) + 1 && nf != static_cast<size_t>(n) + 2)
          failed(in.line_no(), "expected a log10 probability, " + std::to_string(n) + " word(s) and an optional backoff");
        float prob;
        if (!parse_float(fields[0], prob)) failed(in.line_no(), "bad probability '" + std::string(fields[0]) + "'");
        float backoff = 0.f;
        if (nf == static_cast<size_t>(n) + 2 && !parse_float(fields[nf - 1], backoff))
          failed(in.line_no(), "bad backoff '" + std::string(fields[nf - 1]) + "'");
        if (n == 1) {
          WordId id = add_word(fields[1]);
          Unigram& e = uni_own_[id];
          e.prob = prob;
          e.backoff = backoff;
          e.flags = (e.flags & kUniListed) | (backoff != 0.f ? kUniExtends : 0);
          // pyctcdecode keeps a unigram when the stripped line splits into exactly 3 tab fields.
          if (id != kUnk && std::count(t.begin(), t.end(), '\t') == 2) e.flags |= kUniListed;
          if (fields[1] == "<s>") bos_ = id;
          if (fields[1] == "</s>") eos_ = id;
          continue;
        }
        // Sorted files repeat words from one line to the next: reuse their ids, and skip
        // marking a context the previous line marked already.
        Pending& p = ring[(ring_head + ring_size) % kDepth];
        p.n = n;
        p.line = in.line_no();
        p.prob = prob;
        p.backoff = backoff;
        p.same_context = prev_n == n;
        for (int k = 0; k < n; ++k) {
          const std::string_view f = fields[k + 1];
          if (prev_n == n && f == prev_words[k]) {
            p.ids[k] = prev_ids[k];
            continue;
          }
          if (k < n - 1) p.same_context = false;
          WordId id = find_word(f);
          if (id == kNone) failed(in.line_no(), "n-gram uses a word that is not among the unigrams");
          p.ids[k] = prev_ids[k] = id;
          prev_words[k].assign(f.data(), f.size());
        }
        prev_n = n;
        // The hashes of the n-gram's suffixes (the last one is the n-gram itself) and of its
        // context. Their slots are prefetched here and used kDepth lines later, so the
        // cache misses of several lines overlap.
        p.suffix[1] = hash_word(p.ids[n - 1]);
        for (int m = 2; m <= n; ++m) {
          p.suffix[m] = hash_extend(p.suffix[m - 1], p.ids[n - m]);
          prefetch(m, p.suffix[m]);
        }
        p.context = 0;
        if (n >= 3 && !p.same_context) {
          p.context = hash_word(p.ids[n - 2]);
          for (int k = n - 3; k >= 0; --k) p.context = hash_extend(p.context, p.ids[k]);
          prefetch(n - 1, p.context);
        }
        if (++ring_size == kDepth) pop();
      }
      drain();
    }
    if (bos_ == kUnk) bos_ = add_word("<s>");
    if (eos_ == kUnk) eos_ = add_word("</s>");
    // pyctcdecode refuses a file without a single 3-field unigram line; we treat every word as known.
    bool any = false;
    for (WordId id = 1; id < uni_own_.size(); ++id) any = any || (uni_own_[id].flags & kUniListed) != 0;
    if (!any)
      for (WordId id = 1; id < uni_own_.size(); ++id) uni_own_[id].flags |= kUniListed;
    auto by_word = [&](uint32_t a, uint32_t b) { return word(a) < word(b); };
    for (WordId id = 1; id < uni_own_.size(); ++id) {
      if (uni_own_[id].flags & kUniListed) listed_own_.push_back(id);
      if (is_word(id)) all_own_.push_back(id);
    }
    std::sort(listed_own_.begin(), listed_own_.end(), by_word);
    std::sort(all_own_.begin(), all_own_.end(), by_word);
    refresh_views();
    listed_sorted_ = listed_own_.data();
    n_listed_ = listed_own_.size();
    all_sorted_ = all_own_.data();
    n_all_ = all_own_.size();
  }

  // ---- a KenLM binary (kenlm_binary.hpp), mapped and used in place ----
  void open_kenlm(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open language model file '" + path + "'");
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot read language model file '" + path + "'");
    }
    map_ = Mapping::file(fd, static_cast<size_t>(st.st_size));
    ::close(fd);
    if (!mapped()) throw std::runtime_error("cannot map language model file '" + path + "': " + std::strerror(errno));
    kl_ = KenlmLayout::read(map_.data(), map_.size(), path);
    kenlm_ = true;
    order_ = kl_.order;
    for (int n = 0; n < order_; ++n) counts_.push_back(static_cast<size_t>(kl_.counts[n]));
    vocab_size_ = kl_.words;
    // The words, NUL-terminated in id order, run to the end of the file: index where each starts.
    blob_ = reinterpret_cast<const char*>(map_.data() + kl_.strings);
    blob_size_ = map_.size() - kl_.strings;
    off_own_.clear();
    off_own_.reserve(vocab_size_ + 1);
    uint64_t at = 0;
    while (off_own_.size() < vocab_size_ && at < blob_size_) {
      const void* nul = std::memchr(blob_ + at, 0, blob_size_ - at);
      if (nul == nullptr) break;
      off_own_.push_back(at);
      at = static_cast<uint64_t>(static_cast<const char*>(nul) - blob_) + 1;
    }
    if (off_own_.size() != vocab_size_ || at != blob_size_)
      throw std::invalid_argument("KenLM binary file '" + path + "' is truncated or damaged: it holds " +
                                  std::to_string(off_own_.size()) + " complete vocabulary strings" +
                                  (at != blob_size_ && off_own_.size() == vocab_size_ ? " and trailing bytes" : "") +
                                  ", its header announces " + std::to_string(vocab_size_));
    // word(id) is [off[id], off[id + 1]) less the NUL ending it (kword_nul_).
    off_own_.push_back(blob_size_);
    off_ = off_own_.data();
    kword_nul_ = true;
    bos_ = find_word("<s>") == kNone ? kUnk : find_word("<s>");
    eos_ = find_word("</s>") == kNone ? kUnk : find_word("</s>");
    if (bos_ == kUnk || eos_ == kUnk)
      throw std::invalid_argument("KenLM binary file '" + path + "' has no <s> or </s> in its vocabulary");
    // The sorted word list (prefix checks) is built on first use, so opening stays a mapping.
    n_all_ = n_listed_ = vocab_size_ - 3;
  }
  // The words but <unk>, <s> and </s>, sorted, of a KenLM binary (built once, thread-safe).
  void ensure_sorted() const {
    if (!kenlm_) return;
    std::call_once(sorted_once_, [this] {
      std::vector<uint32_t>& ids = const_cast<std::vector<uint32_t>&>(all_own_);
      ids.clear();
      for (WordId id = 0; id < vocab_size_; ++id)
        if (is_word(id)) ids.push_back(id);
      std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return word(a) < word(b); });
      const_cast<NgramLM*>(this)->all_sorted_ = ids.data();
      const_cast<NgramLM*>(this)->listed_sorted_ = ids.data();
    });
  }

  // The body check of a KenLM binary: every word's hash leads to its own id (<unk>, id 0,
  // is not in KenLM's table: a word it does not find is <unk>).
  void verify_kenlm() const {
    for (WordId id = 1; id < vocab_size_; ++id) {
      const std::string_view w = word(id);
      if (kl_.trie) {
        if (trie_word(murmur64a(w.data(), w.size(), 0)) != id)
          throw std::invalid_argument("KenLM binary file '" + path_ + "' is corrupt: its vocabulary table does not find word " +
                                      std::to_string(id) + " ('" + std::string(w) + "')");
        continue;
      }
      const unsigned char* e = kl_.vocab.find(murmur64a(w.data(), w.size(), 0));
      uint32_t got = kNone;
      if (e != nullptr) std::memcpy(&got, e + 8, 4);
      if (got != id)
        throw std::invalid_argument("KenLM binary file '" + path_ + "' is corrupt: its vocabulary table does not find word " +
                                    std::to_string(id) + " ('" + std::string(w) + "')");
    }
  }

  // KenLM's probing lookup: the longest n-gram ending in `w` found by extending its key
  // with the history (most recent word first), then the backoffs of the unmatched contexts.
  float score_kenlm(const LMState& in, WordId w, LMState& out) const {
    if (w >= vocab_size_) w = kUnk;
    if (kl_.trie) return score_trie(in, w, out);
    const unsigned char* u = kl_.unigrams + 8 * uint64_t{w};
    float prob = kenlm_prob(u);
    int ngram_length = 1;
    out.words[0] = w;
    out.backoff[0] = load_float(u + 4);
    int out_len = (kenlm_extends(u + 4) && order_ > 1) ? 1 : 0;
    uint64_t key = w;
    const int max_k = std::min<int>(in.length, order_ - 1);
    for (int k = 0; k < max_k; ++k) {
      key = kenlm_extend(key, in.words[k]);
      const unsigned char* e = kl_.tables[k + 2].find(key);
      if (e == nullptr) break;
      prob = kenlm_prob(e + 8);
      ngram_length = k + 2;
      if (k + 2 <= order_ - 1) {
        out.words[k + 1] = in.words[k];
        out.backoff[k + 1] = load_float(e + 12);
        if (kenlm_extends(e + 12)) out_len = k + 2;
      }
    }
    return finish_score(in, out, ngram_length, out_len, prob);
  }

  LMState state_from_words_kenlm(const std::vector<WordId>& words) const {
    if (kl_.trie) return state_from_words_trie(words);
    LMState s;
    const int n = std::min<int>(static_cast<int>(words.size()), order_ - 1);
    uint64_t key = 0;
    int len = 0;
    for (int i = 0; i < n; ++i) {
      if (words[i] >= vocab_size_) throw std::invalid_argument("LM state holds an unknown word id");
      float backoff;
      if (i == 0) {
        key = words[0];
        backoff = load_float(kenlm_unigram(words[0]) + 4);
      } else {
        key = kenlm_extend(key, words[i]);
        const unsigned char* e = kl_.tables[i + 1].find(key);
        if (e == nullptr) break;
        backoff = load_float(e + 12);
      }
      s.words[i] = words[i];
      s.backoff[i] = backoff;
      len = i + 1;
    }
    s.length = static_cast<uint8_t>(len);
    return s;
  }

  // ---- the trie type: a word's children are a sorted range of the next order's records ----
  const unsigned char* kenlm_unigram(WordId w) const { return kl_.unigrams + (kl_.trie ? 16 : 8) * uint64_t{w}; }
  WordId trie_word(uint64_t hash) const {
    const uint64_t n = kl_.sorted_count;
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      uint64_t h;
      std::memcpy(&h, kl_.sorted_hashes + 8 * mid, 8);
      if (h == hash) return mid + 1 < vocab_size_ ? static_cast<WordId>(mid + 1) : kNone;
      if (h < hash)
        lo = mid + 1;
      else
        hi = mid;
    }
    return kNone;
  }
  // The children range of unigram `w`.
  void trie_children(WordId w, uint64_t& begin, uint64_t& end) const {
    const unsigned char* u = kenlm_unigram(w);
    std::memcpy(&begin, u + 8, 8);
    std::memcpy(&end, u + 16 + 8, 8);
  }
  // Finds `word` among [begin, end) of order n; on success reads its values and replaces
  // [begin, end) with its children (empty at the highest order).
  bool trie_step(int n, WordId word, uint64_t& begin, uint64_t& end, float& prob, float& backoff) const {
    const KenlmTrieLevel& v = kl_.levels[n];
    if (begin >= end) return false;
    const uint64_t i = v.find(kl_.word_bits, begin, end, word);
    if (i == ~uint64_t{0}) return false;
    const uint64_t at = i * v.total_bits + kl_.word_bits;
    if (kl_.quantised) {  // codes into the order's tables: backoff first, then probability
      const uint8_t bb = n == order_ ? 0 : kl_.backoff_bits;
      prob = load_float(v.prob_table + 4 * read_bits(v.base, at + bb, kl_.prob_bits));
      backoff = bb != 0 ? load_float(v.backoff_table + 4 * read_bits(v.base, at, bb)) : 0.f;
    } else {
      prob = read_float_bits(v.base, at, true);
      backoff = n == order_ ? 0.f : read_float_bits(v.base, at + 31, false);
    }
    if (n == order_) {
      begin = end = 0;
      return true;
    }
    begin = read_bits(v.base, at + v.value_bits, v.next_bits);
    end = read_bits(v.base, at + v.value_bits + v.total_bits, v.next_bits);
    if (kl_.compressed) {  // the pointers' high bits come from the order's index array
      begin |= v.high_part(i) << v.next_bits;
      end |= v.high_part(i + 1) << v.next_bits;
    }
    return true;
  }
  float score_trie(const LMState& in, WordId w, LMState& out) const {
    const unsigned char* u = kenlm_unigram(w);
    float prob = load_float(u);
    int ngram_length = 1;
    out.words[0] = w;
    out.backoff[0] = load_float(u + 4);
    int out_len = (kenlm_extends(u + 4) && order_ > 1) ? 1 : 0;
    uint64_t begin, end;
    trie_children(w, begin, end);
    const int max_k = std::min<int>(in.length, order_ - 1);
    for (int k = 0; k < max_k; ++k) {
      float p, b;
      if (!trie_step(k + 2, in.words[k], begin, end, p, b)) break;
      prob = p;
      ngram_length = k + 2;
      if (k + 2 <= order_ - 1) {
        out.words[k + 1] = in.words[k];
        out.backoff[k + 1] = b;
        uint32_t bits;
        std::memcpy(&bits, &b, 4);
        if (bits != kSignBit) out_len = k + 2;
      }
    }
    return finish_score(in, out, ngram_length, out_len, prob);
  }
  LMState state_from_words_trie(const std::vector<WordId>& words) const {
    LMState s;
    const int n = std::min<int>(static_cast<int>(words.size()), order_ - 1);
    uint64_t begin = 0, end = 0;
    int len = 0;
    for (int i = 0; i < n; ++i) {
      if (words[i] >= vocab_size_) throw std::invalid_argument("LM state holds an unknown word id");
      float backoff;
      if (i == 0) {
        backoff = load_float(kenlm_unigram(words[0]) + 4);
        trie_children(words[0], begin, end);
      } else {
        float prob;
        if (!trie_step(i + 1, words[i], begin, end, prob, backoff)) break;
      }
      s.words[i] = words[i];
      s.backoff[i] = backoff;
      len = i + 1;
    }
    s.length = static_cast<uint8_t>(len);
    return s;
  }

  bool kenlm_ = false;
  mutable std::once_flag sorted_once_;
  bool kword_nul_ = false;  // word ids' strings end with a NUL to leave out (KenLM's layout)
  KenlmLayout kl_;

  std::string path_;
  int order_ = 0;
  std::vector<size_t> counts_;
  WordId bos_ = kUnk, eos_ = kUnk;
  // views (into the mapping, or into the owned storage below)
  const Unigram* uni_ = nullptr;
  uint64_t vocab_size_ = 0;
  const uint64_t* off_ = nullptr;
  const char* blob_ = nullptr;
  uint64_t blob_size_ = 0;
  const uint64_t* vslots_ = nullptr;
  uint64_t vcap_ = 0;
  const uint32_t* listed_sorted_ = nullptr;
  uint64_t n_listed_ = 0;
  const uint32_t* all_sorted_ = nullptr;
  uint64_t n_all_ = 0;
  TableView tables_[kMaxOrder + 1];
  uint64_t size_[kMaxOrder + 1] = {};
  // a binary file, mapped
  Mapping map_;
  // a model read from ARPA text
  std::vector<Unigram> uni_own_;
  std::vector<uint64_t> off_own_;
  std::string blob_own_;
  std::vector<uint64_t> vslots_own_;
  std::vector<uint32_t> listed_own_, all_own_;
  Mapping own_[kMaxOrder + 1];
};

}  // namespace ckit
