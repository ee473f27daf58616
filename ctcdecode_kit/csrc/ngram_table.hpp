// The compact n-gram storage shared by the ARPA loader and the memory-mapped binary.
//
// One open-addressing table per order n >= 2, keyed by a 64-bit hash of the n-gram's word
// ids (KenLM's probing model also keys by hash only). A slot is the key followed by the
// float32 log10 probability and, below the highest order, the float32 backoff: 16 bytes,
// or 12 at the highest order. Bit 0 of a key is always 1 (0 marks an empty slot) and bit 1
// holds the `extends` flag (some longer n-gram continues this one, or its backoff is
// non-zero), so the flag costs no space. Tables are sized once from the ARPA header counts
// at load factor 0.75 and never copied; slots are read with memcpy, so a table works in
// place from a read-only mapping whatever its stride.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

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
constexpr uint64_t kExtendsBit = 2;
inline uint64_t fix_key(uint64_t h) { return (h | 1ULL) & ~kExtendsBit; }
inline uint64_t hash_word(WordId w) { return fix_key(mix64(0x9e3779b97f4a7c15ULL + w)); }
inline uint64_t hash_extend(uint64_t h, WordId older) { return fix_key(mix64(h * 31 + 0x632be59bd9b4e019ULL + older)); }

// A stable 64-bit string hash (the vocabulary table is stored in the binary file).
inline uint64_t hash_string(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}

// Streaming 64-bit checksum of a byte sequence (header and body checks of the binary file).
// Each 8-byte word goes through a bijection of the running state, so any change of one
// word changes the result.
class Checksum {
 public:
  void update(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (n > 0 && fill_ != 0) {
      pending_[fill_++] = *p++;
      --n;
      if (fill_ == 8) {
        word(load(pending_));
        fill_ = 0;
      }
    }
    for (; n >= 8; n -= 8, p += 8) word(load(p));
    if (n > 0) {  // here fill_ == 0 and n < 8
      std::memcpy(pending_, p, n);
      fill_ = static_cast<unsigned>(n);
    }
  }
  uint64_t digest() const {
    uint64_t h = state_;
    if (fill_ != 0) {
      unsigned char tail[8] = {};
      std::memcpy(tail, pending_, fill_);
      h = (h ^ load(tail) ^ (uint64_t{fill_} << 56)) * 0x9e3779b97f4a7c15ULL;
    }
    return mix64(h ^ count_);
  }

 private:
  static uint64_t load(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  void word(uint64_t v) {
    state_ = ((state_ ^ v) * 0x9e3779b97f4a7c15ULL);
    state_ = (state_ << 29) | (state_ >> 35);
    ++count_;
  }
  uint64_t state_ = 0x243f6a8885a308d3ULL;
  uint64_t count_ = 0;
  unsigned char pending_[8] = {};
  unsigned fill_ = 0;
};

// Slot count for `n` entries at load factor 0.75.
inline uint64_t table_capacity(uint64_t n) { return n + n / 3 + 2; }

// A read-mostly view of one order's table: `slots` points at cap * stride bytes.
struct TableView {
  unsigned char* slots = nullptr;
  uint64_t cap = 0;
  uint32_t stride = 16;  // 16 (key, prob, backoff) or 12 (key, prob) at the highest order

  uint64_t start(uint64_t h) const { return static_cast<uint64_t>((static_cast<unsigned __int128>(h) * cap) >> 64); }
  uint64_t key_at(uint64_t i) const {
    uint64_t k;
    std::memcpy(&k, slots + i * stride, 8);
    return k;
  }
  // The slot holding hash `h` (extends bit clear), or nullptr.
  const unsigned char* find(uint64_t h) const {
    if (cap == 0) return nullptr;
    uint64_t i = start(h);
    for (uint64_t probes = 0; probes < cap; ++probes) {
      uint64_t k = key_at(i);
      if (k == 0) return nullptr;
      if ((k & ~kExtendsBit) == h) return slots + i * stride;
      if (++i == cap) i = 0;
    }
    return nullptr;
  }
  static float prob(const unsigned char* slot) {
    float v;
    std::memcpy(&v, slot + 8, 4);
    return v;
  }
  float backoff(const unsigned char* slot) const {
    if (stride < 16) return 0.f;
    float v;
    std::memcpy(&v, slot + 12, 4);
    return v;
  }
  static bool extends(const unsigned char* slot) {
    uint64_t k;
    std::memcpy(&k, slot, 8);
    return (k & kExtendsBit) != 0;
  }
  // Writers (only on tables the loader owns).
  // The slot for `h`, claimed when absent (`*fresh` says which); nullptr when the table is full.
  unsigned char* claim(uint64_t h, bool* fresh) {
    uint64_t i = start(h);
    for (uint64_t probes = 0; probes < cap; ++probes) {
      unsigned char* s = slots + i * stride;
      uint64_t k = key_at(i);
      if (k == 0) {
        std::memcpy(s, &h, 8);
        *fresh = true;
        return s;
      }
      if ((k & ~kExtendsBit) == h) {
        *fresh = false;
        return s;
      }
      if (++i == cap) i = 0;
    }
    return nullptr;
  }
  static void set_extends(unsigned char* slot) {
    uint64_t k;
    std::memcpy(&k, slot, 8);
    k |= kExtendsBit;
    std::memcpy(slot, &k, 8);
  }
  void set_values(unsigned char* slot, float prob, float backoff) const {
    std::memcpy(slot + 8, &prob, 4);
    if (stride >= 16) std::memcpy(slot + 12, &backoff, 4);
  }
};

// A unigram: 12 bytes in the file.
struct Unigram {
  float prob = 0.f;
  float backoff = 0.f;
  uint32_t flags = 0;  // kUniExtends | kUniListed
};
constexpr uint32_t kUniExtends = 1;
constexpr uint32_t kUniListed = 2;  // written with a backoff column (pyctcdecode's unigram set)

// The binary file's header (little- or big-endian as written; refused when the reader's
// endianness differs). Offsets are from the start of the file, 64-byte aligned.
struct BinaryHeader {
  char magic[8];
  uint32_t version;
  uint32_t endian;  // kEndianMark as the writer stored it
  uint64_t header_size;
  uint64_t body_size;
  uint64_t body_checksum;
  uint32_t order;
  uint32_t bos, eos;
  uint32_t has_listed;
  uint64_t vocab_size;
  uint64_t counts[kMaxOrder];     // n-gram counts of the ARPA header
  uint64_t caps[kMaxOrder + 1];   // slot count of the order-n table (n >= 2)
  uint64_t tables[kMaxOrder + 1]; // offset of the order-n table
  uint64_t unigrams;              // vocab_size Unigram
  uint64_t word_offsets;          // vocab_size + 1 uint64 offsets into the blob
  uint64_t blob, blob_size;       // the words' UTF-8 bytes, concatenated
  uint64_t vocab_slots, vocab_cap;  // uint64 (hash_string's high half << 32 | id + 1; 0 = empty)
  uint64_t listed_sorted, n_listed; // uint32 ids of listed unigrams, by word
  uint64_t all_sorted, n_all;       // uint32 ids of all words but <unk>, <s>, </s>, by word
  uint64_t source_size;             // size and mtime (ns) of the ARPA it was built from (0 = unknown)
  int64_t source_mtime_ns;
  uint64_t reserved[8];
  uint64_t header_checksum;  // Checksum of every byte above
};
// The layout is the file format (tests/lm/test_ngram_binary.py edits these fields).
static_assert(offsetof(BinaryHeader, version) == 8 && offsetof(BinaryHeader, order) == 40, "binary header layout");
static_assert(sizeof(BinaryHeader) % 8 == 0, "binary header layout");
constexpr char kBinaryMagic[9] = "CKITNGRM";
constexpr uint32_t kBinaryVersion = 3;
constexpr uint32_t kEndianMark = 0x01020304;
constexpr uint64_t kSectionAlign = 64;
inline uint64_t align_up(uint64_t x) { return (x + kSectionAlign - 1) / kSectionAlign * kSectionAlign; }

}  // namespace ckit
