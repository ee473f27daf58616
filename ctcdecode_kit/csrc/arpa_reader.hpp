// Streaming ARPA text reading: lines from a fixed buffer (the file is never held whole),
// fields as string_views, numbers with std::from_chars (correctly rounded to float32, as
// KenLM's reader does, and independent of the C locale).
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ckit {

// Fills `buf` with up to `n` bytes of a stream; returns how many (0 at its end).
using ReadChunk = std::function<size_t(char* buf, size_t n)>;

class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), buf_(size_t{4} << 20) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) throw std::runtime_error("cannot open language model file '" + path + "'");
  }
  // Lines of a stream (a decompressor, say); `name` names it in errors.
  LineReader(const std::string& name, ReadChunk read) : path_(name), read_(std::move(read)), buf_(size_t{4} << 20) {}
  ~LineReader() {
    if (file_ != nullptr) std::fclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its end of line; valid until the next call.
  bool next(std::string_view& line) {
    for (;;) {
      const char* base = buf_.data();
      const void* nl = end_ > begin_ ? std::memchr(base + begin_, '\n', end_ - begin_) : nullptr;
      if (nl != nullptr) {
        size_t stop = static_cast<const char*>(nl) - base;
        emit(line, stop);
        begin_ = stop + 1;
        return true;
      }
      if (eof_) {
        if (begin_ >= end_) return false;
        emit(line, end_);
        begin_ = end_;
        return true;
      }
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
      size_t got;
      if (file_ != nullptr) {
        got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
        if (got == 0 && std::ferror(file_)) throw std::runtime_error("reading '" + path_ + "' failed");
      } else {
        got = read_(buf_.data() + end_, buf_.size() - end_);
      }
      if (got == 0) eof_ = true;
      end_ += got;
    }
  }
  size_t line_no() const { return line_no_; }

 private:
  void emit(std::string_view& line, size_t stop) {
    line = std::string_view(buf_.data() + begin_, stop - begin_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no_;
  }
  std::string path_;
  std::FILE* file_ = nullptr;
  ReadChunk read_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0, line_no_ = 0;
  bool eof_ = false;
};

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

inline std::string_view trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && is_space(s[a])) ++a;
  while (b > a && is_space(s[b - 1])) --b;
  return s.substr(a, b - a);
}

// Splits on spaces and tabs into `out` (at most `max` fields); returns the field count,
// or max + 1 when there are more.
inline size_t split_fields(std::string_view t, std::string_view* out, size_t max) {
  size_t n = 0, i = 0;
  while (i < t.size()) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    size_t j = i;
    while (j < t.size() && t[j] != ' ' && t[j] != '\t') ++j;
    if (j > i) {
      if (n == max) return max + 1;
      out[n++] = t.substr(i, j - i);
    }
    i = j;
  }
  return n;
}

// The whole field as a float; false when it is not a number.
inline bool parse_float(std::string_view s, float& v) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') ++first;
  auto r = std::from_chars(first, last, v);
  if (r.ec == std::errc::result_out_of_range && r.ptr == last) {  // underflow / overflow: strtof's answer
    std::string copy(s);
    v = std::strtof(copy.c_str(), nullptr);
    return true;
  }
  return r.ec == std::errc() && r.ptr == last;
}

}  // namespace ckit
