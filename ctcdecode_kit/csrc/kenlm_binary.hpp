// The layout of KenLM's binary language models (`build_binary`), as far as the native model
// reads them: the `probing` type and the `trie` type (plain, quantised, pointer-compressed),
// used in place from a read-only mapping (nothing is copied but an index of where each
// word's string starts). Only `rest_probing` (model type 1) is left to KenLM.
//
// File layout (little-endian, offsets from the start of the file), format version 5:
//   0    magic "mmap lm http://kheafield.com/code format version 5\n" and NULs (56 bytes)
//   56   sanity values: float 0, 1, -0.5; uint32 1, 0xffffffff; 4 pad bytes; uint64 1
//   88   order (uint8), 3 pad bytes, probing multiplier (float32), model type (int32,
//        0 = probing), has-vocabulary (uint8), 3 pad bytes, search version (uint32)
//   108  n-gram counts, `order` uint64 (unaligned)
//   H = 108 + 8 * order rounded up to a multiple of 8: the vocabulary,
//        uint32 version (0), uint32 word count, then a probing hash table of 12-byte
//        entries (uint64 MurmurHash64A of the word with seed 0, uint32 word id)
//   then (no padding) the unigrams: (counts[0] + 1) x (float prob, float backoff) by id,
//        then for n = 2 .. order-1 a probing table of 16-byte entries (uint64 key, float
//        prob, float backoff), and for n = order one of 12-byte entries (key, prob)
//   then the words, NUL-terminated, in id order, to the end of the file.
// A probing table of `count` entries has max(count + 1, (uint64)(multiplier * count))
// buckets; an entry lives at bucket key % buckets or after it (linear probing, wrapping),
// and key 0 marks an empty bucket. The key of the n-gram w_1 .. w_n is built from the last
// word backwards: k = id(w_n), then k = k * C1 ^ (1 + id(w_i)) * C2 for i = n-1 .. 1.
// Probabilities are stored with the sign bit cleared when the n-gram is "independent left"
// (no longer n-gram ends with it); the log10 probability is the value with the sign bit set.
// A backoff of -0.0 marks an n-gram that starts no longer n-gram (KenLM's right-state
// minimisation drops it from states).
//
// The `trie` type (model type 2: not quantised, no pointer compression; search version 1)
// shares the header, then holds:
//   the vocabulary: uint64 count c (words but <unk>), then counts[0] uint64 word hashes,
//        sorted ascending over the first c; a word's id is 1 + its hash's position (0: <unk>)
//   the unigrams: (counts[0] + 2) x (float prob, float backoff, uint64 next) by id; the
//        children of word w (its bigrams, most recent word first) are entries
//        [next(w), next(w + 1)) of the order-2 array
//   for n = 2 .. order-1 a bit array of counts[n-1] + 1 records of
//        W + 63 + R bits (W = bits of counts[0], R = bits of counts[n]): the older word's id,
//        the probability's 31 low bits (sign implied), the float32 backoff, and the start of
//        the record's children in the order-(n+1) array (the next record's start ends them);
//        ((counts[n-1] + 1) * bits + 7) / 8 + 8 bytes
//   for n = order a bit array of W + 31 bits records (id, probability): same size rule.
// The quantised trie (model type 3, `build_binary -q P -b B trie`) starts its search region
// with 8 bytes (quantiser version 2, P, B), then per order n = 2 .. order-1 a table of 2^P
// float probabilities and one of 2^B float backoffs (codes 0 and 1 are -0.0 and 0.0), then
// the highest order's 2^P probabilities; its records hold B backoff bits then P probability
// bits in place of the 63 (or 31) value bits.
// The pointer-compressed trie (model types 4 and 5, `-a BITS`) stores only the low R - c bits
// of each child pointer in the records, where c (0 .. min(R, BITS)) minimises
// (counts[n] >> (R - c)) * 64 - (counts[n-1] + 1) * c (the first minimum); each order-n array
// (n < order) is then preceded by a header (byte 0: version 0, byte 1: BITS) and, from the
// next 8-byte boundary plus 8 bytes, (counts[n] >> (R - c)) + 1 uint64 record indices: the
// high part of record i's pointer is the position of the last index <= i. That block takes
// 8 * (2 + (counts[n] >> (R - c))) + 7 bytes.
// Records of one parent are sorted by word id. Bits are read little-endian: a field at bit
// b is the 64-bit word at byte b / 8 shifted right by b % 8. Header counts include the blank
// n-grams build_binary adds, so they may exceed the ARPA's.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "ngram_table.hpp"

namespace ckit {

constexpr char kKenlmMagic[] = "mmap lm http://kheafield.com/code format version 5\n";
constexpr char kKenlmIncomplete[] = "mmap lm http://kheafield.com/code incomplete\n";
constexpr uint64_t kKenlmMagicBytes = 56;
constexpr uint64_t kKenlmParamsAt = 88;
constexpr uint64_t kKenlmCountsAt = 108;
constexpr uint64_t kKenlmC1 = 8978948897894561157ULL;
constexpr uint64_t kKenlmC2 = 17894857484156487943ULL;
constexpr uint32_t kSignBit = 0x80000000u;

// MurmurHash64A (Austin Appleby's public-domain hash), little-endian reads.
inline uint64_t murmur64a(const void* key, size_t len, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  uint64_t h = seed ^ (len * m);
  const auto* p = static_cast<const unsigned char*>(key);
  const size_t blocks = len / 8;
  for (size_t i = 0; i < blocks; ++i, p += 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t rest = len & 7;
  if (rest != 0) {
    uint64_t tail = 0;
    for (size_t i = 0; i < rest; ++i) tail |= static_cast<uint64_t>(p[i]) << (8 * i);
    h ^= tail;
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

inline uint64_t kenlm_extend(uint64_t key, WordId older) {
  return (key * kKenlmC1) ^ ((static_cast<uint64_t>(older) + 1) * kKenlmC2);
}

inline float kenlm_prob(const unsigned char* p) {  // a stored probability, sign bit set
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  bits |= kSignBit;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}
inline float load_float(const unsigned char* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
// Whether a stored backoff marks an n-gram that some longer n-gram continues (not -0.0).
inline bool kenlm_extends(const unsigned char* backoff) {
  uint32_t bits;
  std::memcpy(&bits, backoff, 4);
  return bits != kSignBit;
}

// One probing table in the mapping.
struct KenlmTable {
  const unsigned char* base = nullptr;
  uint64_t buckets = 0;
  uint32_t stride = 16;

  static uint64_t bucket_count(uint64_t entries, float multiplier) {
    const uint64_t scaled = static_cast<uint64_t>(multiplier * static_cast<float>(entries));
    return scaled > entries + 1 ? scaled : entries + 1;
  }
  // The entry whose key is `key`, or nullptr (bounded by the bucket count, so a damaged
  // table full of keys cannot loop forever).
  const unsigned char* find(uint64_t key) const {
    if (buckets == 0) return nullptr;
    uint64_t i = key % buckets;
    for (uint64_t probes = 0; probes < buckets; ++probes) {
      const unsigned char* e = base + i * stride;
      uint64_t k;
      std::memcpy(&k, e, 8);
      if (k == key) return e;
      if (k == 0) return nullptr;
      if (++i == buckets) i = 0;
    }
    return nullptr;
  }
};

// Bit-packed reads of the trie arrays (the file pads each array by 8 bytes, so a read at
// any record's field stays inside it).
inline uint64_t read_bits(const unsigned char* base, uint64_t bit, uint8_t length) {
  uint64_t v;
  std::memcpy(&v, base + (bit >> 3), 8);
  v >>= (bit & 7);
  return length >= 64 ? v : v & ((uint64_t{1} << length) - 1);
}
inline float read_float_bits(const unsigned char* base, uint64_t bit, bool sign) {
  uint32_t bits = static_cast<uint32_t>(read_bits(base, bit, 32));
  if (sign) bits |= kSignBit;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}
inline uint8_t required_bits(uint64_t max_value) {
  uint8_t n = 0;
  while (max_value != 0) {
    ++n;
    max_value >>= 1;
  }
  return n;
}

// One order's bit array of a trie file.
struct KenlmTrieLevel {
  const unsigned char* base = nullptr;
  uint64_t records = 0;  // counts[n-1]; one more sentinel record holds the last end pointer
  uint8_t total_bits = 0, next_bits = 0;  // next_bits = 0 at the highest order
  uint8_t value_bits = 0;                 // 63 / 31, or B + P / P when quantised
  const unsigned char* prob_table = nullptr;     // quantised: 2^P floats
  const unsigned char* backoff_table = nullptr;  // quantised, below the highest order: 2^B floats
  const unsigned char* high = nullptr;           // pointer-compressed: n_high uint64 record indices
  uint64_t n_high = 0;
  // The high bits of record i's child pointer (pointer-compressed tries).
  uint64_t high_part(uint64_t i) const {
    uint64_t lo = 0, hi = n_high;  // the first index > i, minus one
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      uint64_t v;
      std::memcpy(&v, high + 8 * mid, 8);
      if (v <= i)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
  }
  // The record of `word` among [begin, end) (sorted by word id), or `end`.
  uint64_t find(uint8_t word_bits, uint64_t begin, uint64_t end, WordId word) const {
    if (end > records) end = records;
    while (begin < end) {
      const uint64_t mid = begin + (end - begin) / 2;
      const uint64_t w = read_bits(base, mid * total_bits, word_bits);
      if (w == word) return mid;
      if (w < word)
        begin = mid + 1;
      else
        end = mid;
    }
    return ~uint64_t{0};
  }
};

// Where everything lies in a KenLM probing binary of `size` bytes (checked against the size).
struct KenlmLayout {
  int order = 0;
  uint64_t counts[kMaxOrder] = {};
  uint64_t words = 0;  // the vocabulary's word count (ids 0 .. words-1)
  KenlmTable vocab;
  const unsigned char* unigrams = nullptr;  // (counts[0] + 1) x 8 bytes
  KenlmTable tables[kMaxOrder + 1];
  uint64_t strings = 0;  // offset of the words, NUL-terminated, to the end of the file
  // the trie type
  bool trie = false;
  const unsigned char* sorted_hashes = nullptr;  // sorted_count uint64 word hashes
  uint64_t sorted_count = 0;
  uint8_t word_bits = 0;
  bool quantised = false, compressed = false;
  uint8_t prob_bits = 0, backoff_bits = 0;
  KenlmTrieLevel levels[kMaxOrder + 1];  // n = 2 .. order

  // Reads the header of the mapped file; throws std::invalid_argument naming `path`.
  static KenlmLayout read(const unsigned char* data, uint64_t size, const std::string& path) {
    auto bad = [&](const std::string& what) -> std::invalid_argument {
      return std::invalid_argument("KenLM binary file '" + path + "' " + what);
    };
    const size_t magic_len = sizeof(kKenlmMagic) - 1;
    if (size >= sizeof(kKenlmIncomplete) - 1 && std::memcmp(data, kKenlmIncomplete, sizeof(kKenlmIncomplete) - 1) == 0)
      throw bad("is incomplete (build_binary did not finish writing it)");
    if (size < magic_len || std::memcmp(data, kKenlmMagic, magic_len) != 0)
      throw bad("has an unknown header (only format version 5 of build_binary is read)");
    if (size < kKenlmCountsAt) throw bad("is truncated: " + std::to_string(size) + " bytes, shorter than its header");
    for (uint64_t i = magic_len; i < kKenlmMagicBytes; ++i)
      if (data[i] != 0) throw bad("has a damaged header (magic)");
    // The sanity block: KenLM writes these values so that a reader of another byte order,
    // float format or word size notices.
    static const unsigned char sanity[32] = {0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf, 1, 0, 0, 0,
                                             0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 32; ++i)
      if (i < 20 || i >= 24)
        if (data[kKenlmMagicBytes + i] != sanity[i])
          throw bad("was written on a machine of another byte order or float format, or its header is damaged");
    const unsigned char* params = data + kKenlmParamsAt;
    KenlmLayout L;
    L.order = params[0];
    float multiplier;
    std::memcpy(&multiplier, params + 4, 4);
    int32_t model_type;
    std::memcpy(&model_type, params + 8, 4);
    const bool has_vocabulary = params[12] != 0;
    uint32_t search_version;
    std::memcpy(&search_version, params + 16, 4);
    if (model_type < 0 || model_type > 5 || model_type == 1) {
      static const char* const names[] = {"probing", "rest_probing", "trie", "quantized trie", "array trie", "quantized array trie"};
      const std::string name = model_type >= 0 && model_type < 6 ? names[model_type] : "unknown (" + std::to_string(model_type) + ")";
      throw bad("is of type '" + name + "'; the native reader reads the 'probing' and 'trie' types (quantised or not): "
                "load it with ctcdecode_kit.lm.KenLM (pip install 'ctcdecode-kit[kenlm]'), or rebuild it with build_binary "
                "probing or trie");
    }
    if (L.order < 1 || L.order > kMaxOrder)
      throw bad("has order " + std::to_string(L.order) + " (the native reader supports 1.." + std::to_string(kMaxOrder) + ")");
    if (!(multiplier >= 1.0f && multiplier < 1e6f)) throw bad("has a damaged header (probing multiplier)");
    L.trie = model_type >= 2;
    L.quantised = model_type == 3 || model_type == 5;
    L.compressed = model_type >= 4;
    if (search_version != (L.trie ? 1u : 0u))
      throw bad("has search version " + std::to_string(search_version) + " (expected " + (L.trie ? "1" : "0") + ")");
    if (!has_vocabulary) throw bad("holds no vocabulary strings (built without them), so its words cannot be looked up");
    const uint64_t header = (kKenlmCountsAt + 8 * static_cast<uint64_t>(L.order) + 7) / 8 * 8;
    if (size < header) throw bad("is truncated: " + std::to_string(size) + " bytes, shorter than its header");
    for (int n = 0; n < L.order; ++n) {
      std::memcpy(&L.counts[n], data + kKenlmCountsAt + 8 * n, 8);
      if (L.counts[n] > size) throw bad("has a damaged header (the " + std::to_string(n + 1) + "-gram count)");
    }
    if (L.counts[0] == 0) throw bad("has no unigrams");
    if (L.trie) return read_trie(L, data, size, header, bad);
    // vocabulary
    uint64_t at = header;
    if (size < at + 8) throw bad("is truncated inside its vocabulary");
    uint32_t vocab_version, bound;
    std::memcpy(&vocab_version, data + at, 4);
    std::memcpy(&bound, data + at + 4, 4);
    if (vocab_version != 0) throw bad("has vocabulary version " + std::to_string(vocab_version) + " (expected 0)");
    if (bound == 0 || bound > L.counts[0] + 1) throw bad("has a damaged vocabulary header");
    L.words = bound;
    at += 8;
    uint64_t end = 0;
    auto place = [&](KenlmTable& t, uint64_t entries, uint32_t stride, const char* what) {
      t.buckets = KenlmTable::bucket_count(entries, multiplier);
      t.stride = stride;
      end = at + t.buckets * stride;
      if (end > size) throw bad(std::string("is truncated inside its ") + what);
      t.base = data + at;
      at = end;
    };
    place(L.vocab, L.counts[0], 12, "vocabulary");
    // unigrams
    const uint64_t unigram_bytes = (L.counts[0] + 1) * 8;
    if (at + unigram_bytes > size) throw bad("is truncated inside its unigrams");
    L.unigrams = data + at;
    at += unigram_bytes;
    for (int n = 2; n <= L.order; ++n)
      place(L.tables[n], L.counts[n - 1], n == L.order ? 12 : 16, (std::to_string(n) + "-grams").c_str());
    L.strings = at;
    if (L.strings >= size) throw bad("is truncated: its vocabulary strings are missing");
    return L;
  }

 private:
  template <class Bad>
  static KenlmLayout read_trie(KenlmLayout& L, const unsigned char* data, uint64_t size, uint64_t at, Bad& bad) {
    if (L.counts[0] >= 0xffffffffULL) throw bad("has too many words");
    L.words = L.counts[0];
    if (size < at + 8 + 8 * L.counts[0]) throw bad("is truncated inside its vocabulary");
    std::memcpy(&L.sorted_count, data + at, 8);
    if (L.sorted_count > L.counts[0]) throw bad("has a damaged vocabulary header");
    L.sorted_hashes = data + at + 8;
    at += 8 + 8 * L.counts[0];
    if (L.quantised) {
      if (at + 8 > size) throw bad("is truncated inside its quantisation tables");
      if (data[at] != 2) throw bad("has quantiser version " + std::to_string(data[at]) + " (expected 2)");
      L.prob_bits = data[at + 1];
      L.backoff_bits = data[at + 2];
      if (L.prob_bits < 1 || L.prob_bits > 25 || L.backoff_bits < 1 || L.backoff_bits > 25)
        throw bad("has a damaged quantisation header");
      const uint64_t prob_bytes = 4 * (uint64_t{1} << L.prob_bits), backoff_bytes = 4 * (uint64_t{1} << L.backoff_bits);
      const uint64_t bytes = (L.order - 2) * (prob_bytes + backoff_bytes) + prob_bytes + 8;
      if (at + bytes > size) throw bad("is truncated inside its quantisation tables");
      uint64_t t = at + 8;
      for (int n = 2; n < L.order; ++n) {
        L.levels[n].prob_table = data + t;
        L.levels[n].backoff_table = data + t + prob_bytes;
        t += prob_bytes + backoff_bytes;
      }
      L.levels[L.order].prob_table = data + t;
      at += bytes;
    }
    const uint64_t unigram_bytes = (L.counts[0] + 2) * 16;
    if (at + unigram_bytes > size) throw bad("is truncated inside its unigrams");
    L.unigrams = data + at;
    at += unigram_bytes;
    L.word_bits = required_bits(L.counts[0]);
    for (int n = 2; n <= L.order; ++n) {
      KenlmTrieLevel& v = L.levels[n];
      v.next_bits = n < L.order ? required_bits(L.counts[n]) : 0;
      if (L.quantised)
        v.value_bits = static_cast<uint8_t>(n < L.order ? L.prob_bits + L.backoff_bits : L.prob_bits);
      else
        v.value_bits = n < L.order ? 63 : 31;
      v.records = L.counts[n - 1];
      if (L.compressed && n < L.order) {
        if (at + 2 > size) throw bad("is truncated inside its " + std::to_string(n) + "-grams");
        if (data[at] != 0) throw bad("has pointer compression version " + std::to_string(data[at]) + " (expected 0)");
        const uint8_t configured = data[at + 1];
        const uint8_t required = v.next_bits;
        const uint64_t max_offset = v.records + 1, max_next = L.counts[n];
        uint8_t chop = 0;
        int64_t lowest = INT64_MAX;
        for (uint8_t c = 0; c <= std::min(required, configured); ++c) {
          const int64_t change = static_cast<int64_t>((max_next >> (required - c)) * 64) - static_cast<int64_t>(max_offset) * c;
          if (change < lowest) {
            lowest = change;
            chop = c;
          }
        }
        v.n_high = (max_next >> (required - chop)) + 1;
        const uint64_t block = 8 * (1 + v.n_high) + 7;
        const uint64_t aligned = (at + 7) / 8 * 8;
        if (at + block > size || aligned + 8 + 8 * v.n_high > size) throw bad("is truncated inside its " + std::to_string(n) + "-grams");
        v.high = data + aligned + 8;
        v.next_bits = static_cast<uint8_t>(required - chop);
        at += block;
      }
      v.total_bits = static_cast<uint8_t>(L.word_bits + v.value_bits + v.next_bits);
      if (L.word_bits > 57 || v.next_bits > 57) throw bad("is too big for the native reader");
      const uint64_t bytes = ((v.records + 1) * v.total_bits + 7) / 8 + 8;
      if (at + bytes > size) throw bad("is truncated inside its " + std::to_string(n) + "-grams");
      v.base = data + at;
      at += bytes;
    }
    L.strings = at;
    if (L.strings >= size) throw bad("is truncated: its vocabulary strings are missing");
    return L;
  }

 public:
};

}  // namespace ckit
