// Viterbi CTC alignment over a graph of token nodes: the most probable single CTC path
// that spells one of the token sequences the graph allows (e.g. every tokenisation of a
// text), with each chosen token's frame span.
//
// States: 0 is the blank before the first token; node k has a token state (1 + 2k, which
// may repeat) and a blank-after state (2 + 2k). A token state is entered from itself, from
// the initial blank (start nodes), from a predecessor's blank, or directly from a
// predecessor's token state when the two tokens differ (CTC needs a blank between equal
// tokens). Emissions are log-softmaxed per frame and clipped at log(1e-15), as the beam
// search does, so a -inf class never makes every path impossible.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace ckit {

struct AlignGraph {
  std::vector<int32_t> token;       // token id of each node
  std::vector<int32_t> succ_begin;  // CSR: successors of node k are succ[succ_begin[k] .. succ_begin[k+1])
  std::vector<int32_t> succ;
  std::vector<uint8_t> is_start, is_final;
  bool allow_empty = false;         // an all-blank path is a valid alignment (empty text)
};

struct AlignResult {
  bool ok = false;
  double score = -std::numeric_limits<double>::infinity();
  std::vector<int32_t> nodes, starts, ends;  // chosen nodes in order, each with [start, end) frames
};

inline AlignResult ctc_align(const float* x, int T, int V, int blank, const AlignGraph& g) {
  const int N = static_cast<int>(g.token.size());
  const int S = 1 + 2 * N;
  const double kNeg = -std::numeric_limits<double>::infinity();
  const float kFloor = static_cast<float>(std::log(1e-15));
  for (int t : g.token)
    if (t < 0 || t >= V || t == blank) throw std::invalid_argument("alignment graph token outside the vocabulary or blank");
  // predecessor lists (CSR) of every state
  std::vector<std::vector<int32_t>> preds(S);
  preds[0].push_back(0);
  for (int k = 0; k < N; ++k) {
    preds[1 + 2 * k].push_back(1 + 2 * k);
    if (g.is_start[k]) preds[1 + 2 * k].push_back(0);
    preds[2 + 2 * k].push_back(2 + 2 * k);
    preds[2 + 2 * k].push_back(1 + 2 * k);
  }
  for (int k = 0; k < N; ++k)
    for (int e = g.succ_begin[k]; e < g.succ_begin[k + 1]; ++e) {
      const int j = g.succ[e];
      preds[1 + 2 * j].push_back(2 + 2 * k);
      if (g.token[k] != g.token[j]) preds[1 + 2 * j].push_back(1 + 2 * k);
    }
  for (const auto& p : preds)
    if (p.size() > 65535) throw std::invalid_argument("alignment graph node has too many predecessors");
  AlignResult result;
  if (T <= 0) {
    result.ok = g.allow_empty;
    result.score = g.allow_empty ? 0.0 : kNeg;
    return result;
  }
  std::vector<double> prev(S, kNeg), cur(S, kNeg);
  std::vector<uint16_t> back(static_cast<size_t>(T) * S, 0);
  std::vector<float> col(V);
  auto emissions = [&](int t) {
    const float* row = x + static_cast<size_t>(t) * V;
    float mx = row[0];
    for (int v = 1; v < V; ++v) mx = row[v] > mx ? row[v] : mx;
    const float shift = std::isfinite(mx) ? mx : 0.f;
    double total = 0.0;
    for (int v = 0; v < V; ++v) total += std::exp(static_cast<double>(row[v] - shift));
    const float norm = static_cast<float>(std::log(total));
    for (int v = 0; v < V; ++v) {
      float value = (row[v] - shift) - norm;
      col[v] = !(value >= kFloor) ? kFloor : (value > 0.f ? 0.f : value);
    }
  };
  auto label = [&](int s) { return s == 0 || s % 2 == 0 ? blank : g.token[(s - 1) / 2]; };
  emissions(0);
  prev[0] = col[blank];
  for (int k = 0; k < N; ++k)
    if (g.is_start[k]) prev[1 + 2 * k] = col[g.token[k]];
  for (int t = 1; t < T; ++t) {
    emissions(t);
    uint16_t* bt = back.data() + static_cast<size_t>(t) * S;
    for (int s = 0; s < S; ++s) {
      double best = kNeg;
      uint16_t arg = 0;
      const auto& p = preds[s];
      for (size_t i = 0; i < p.size(); ++i)
        if (prev[p[i]] > best) {
          best = prev[p[i]];
          arg = static_cast<uint16_t>(i);
        }
      cur[s] = best == kNeg ? kNeg : best + col[label(s)];
      bt[s] = arg;
    }
    prev.swap(cur);
  }
  int end_state = -1;
  double best = kNeg;
  if (g.allow_empty && prev[0] > best) best = prev[0], end_state = 0;
  for (int k = 0; k < N; ++k)
    if (g.is_final[k])
      for (int s : {1 + 2 * k, 2 + 2 * k})
        if (prev[s] > best) best = prev[s], end_state = s;
  if (end_state < 0) return result;
  std::vector<int32_t> states(T);
  int s = end_state;
  for (int t = T - 1; t >= 0; --t) {
    states[t] = s;
    if (t > 0) s = preds[s][back[static_cast<size_t>(t) * S + s]];
  }
  for (int t = 0; t < T; ++t) {
    const int st = states[t];
    if (st == 0 || st % 2 == 0) continue;
    const int k = (st - 1) / 2;
    if (t > 0 && states[t - 1] == st) {
      result.ends.back() = t + 1;
    } else {
      result.nodes.push_back(k);
      result.starts.push_back(t);
      result.ends.push_back(t + 1);
    }
  }
  result.ok = true;
  result.score = best;
  return result;
}

}  // namespace ckit
