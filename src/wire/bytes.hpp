// Big-endian helpers and a bounded writer with rollback marks (style.md §2 practice 5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace discodns::wire {

inline std::uint16_t read_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}
inline void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// Writes into a fixed buffer up to `limit` bytes. A write that does not fit writes nothing
// and makes the writer fail (sticky) until rolled back to a mark taken before the failure.
class Writer {
 public:
  Writer(std::span<std::uint8_t> buffer, std::size_t limit)
      : buf_(buffer.data()), limit_(limit < buffer.size() ? limit : buffer.size()) {}

  std::size_t size() const { return pos_; }
  std::size_t limit() const { return limit_; }
  bool failed() const { return failed_; }
  std::uint8_t* data() { return buf_; }
  std::size_t remaining() const { return limit_ - pos_; }

  // Reserves room at the end (e.g. for OPT) that later writes may not use.
  void reserve_tail(std::size_t n) { limit_ = n <= limit_ ? limit_ - n : 0; }
  void release_tail(std::size_t n) { limit_ += n; }

  struct Mark {
    std::size_t pos;
  };
  Mark mark() const { return {pos_}; }
  void rollback(Mark m) {
    pos_ = m.pos;
    failed_ = false;
  }

  bool bytes(const void* p, std::size_t n) {
    if (!room(n)) return false;
    if (n == 0) return true;  // p may be null then; memcpy must not see it
    std::memcpy(buf_ + pos_, p, n);
    pos_ += n;
    return true;
  }
  bool u8(std::uint8_t v) { return bytes(&v, 1); }
  bool u16(std::uint16_t v) {
    if (!room(2)) return false;
    put_u16(buf_ + pos_, v);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t v) {
    if (!room(4)) return false;
    put_u32(buf_ + pos_, v);
    pos_ += 4;
    return true;
  }

 private:
  bool room(std::size_t n) {
    if (failed_ || n > limit_ - pos_) {
      failed_ = true;
      return false;
    }
    return true;
  }

  std::uint8_t* buf_;
  std::size_t limit_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace discodns::wire
