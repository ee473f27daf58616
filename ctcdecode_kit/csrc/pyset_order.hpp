// The iteration order of CPython's `set(indices) | {argmax}` for small non-negative ints.
//
// pyctcdecode visits the candidate tokens of a frame in that order, and the order decides
// which beam's word frames survive a merge and how exact score ties are broken. To give
// the same answers we replay CPython 3.x's set table (open addressing, 9 linear probes,
// perturbation shift 5, resize at 3/5 fill) instead of sorting the indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ckit {

class PySetOrder {
 public:
  // `ascending` are the indices in the order numpy.where yields them; `extra` is the argmax.
  // Writes the iteration order of `set(ascending) | {extra}` to `out`.
  void order(const std::vector<int32_t>& ascending, int32_t extra, std::vector<int32_t>& out) {
    // a = set(ascending)
    a_.init(8);
    for (int32_t k : ascending) a_.add(k);
    // result = set_copy(a): merge into an empty set
    r_.init(8);
    r_.merge(a_);
    // result |= {extra}
    b_.init(8);
    b_.add(extra);
    r_.merge(b_);
    out.clear();
    for (int64_t k : r_.table)
      if (k >= 0) out.push_back(static_cast<int32_t>(k));
  }

 private:
  static constexpr size_t kLinearProbes = 9;
  static constexpr int kPerturbShift = 5;

  struct Table {
    std::vector<int64_t> table;  // -1: empty slot
    size_t mask = 7, fill = 0, used = 0;

    void init(size_t size) {
      table.assign(size, -1);
      mask = size - 1;
      fill = used = 0;
    }
    static void insert_clean(std::vector<int64_t>& t, size_t mask, int64_t key) {
      size_t perturb = static_cast<size_t>(key);
      size_t i = static_cast<size_t>(key) & mask;
      while (true) {
        if (t[i] < 0) {
          t[i] = key;
          return;
        }
        if (i + kLinearProbes <= mask) {
          for (size_t j = 1; j <= kLinearProbes; ++j) {
            if (t[i + j] < 0) {
              t[i + j] = key;
              return;
            }
          }
        }
        perturb >>= kPerturbShift;
        i = (i * 5 + 1 + perturb) & mask;
      }
    }
    void resize(size_t minused) {
      size_t newsize = 8;
      while (newsize <= minused) newsize <<= 1;
      std::vector<int64_t> old;
      old.swap(table);
      table.assign(newsize, -1);
      mask = newsize - 1;
      for (int64_t k : old)
        if (k >= 0) insert_clean(table, mask, k);
      fill = used;
    }
    void add(int64_t key) {
      size_t perturb = static_cast<size_t>(key);
      size_t i = static_cast<size_t>(key) & mask;
      while (true) {
        size_t probes = (i + kLinearProbes <= mask) ? kLinearProbes : 0;
        size_t e = i;
        while (true) {
          if (table[e] < 0) {
            table[e] = key;
            ++fill;
            ++used;
            if (fill * 5 < mask * 3) return;
            resize(used > 50000 ? used * 2 : used * 4);
            return;
          }
          if (table[e] == key) return;
          if (probes == 0) break;
          --probes;
          ++e;
        }
        perturb >>= kPerturbShift;
        i = (i * 5 + 1 + perturb) & mask;
      }
    }
    void merge(const Table& other) {
      if (other.used == 0) return;
      if ((fill + other.used) * 5 >= mask * 3) resize((used + other.used) * 2);
      if (fill == 0 && mask == other.mask && other.fill == other.used) {
        table = other.table;
        fill = other.fill;
        used = other.used;
        return;
      }
      if (fill == 0) {
        fill = used = other.used;
        for (int64_t k : other.table)
          if (k >= 0) insert_clean(table, mask, k);
        return;
      }
      for (int64_t k : other.table)
        if (k >= 0) add(k);
    }
  };

  Table a_, r_, b_;
};

}  // namespace ckit
