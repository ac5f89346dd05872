// Packs the records of a zone transfer into DNS messages: header, the question in the first
// message only, as many records as fit under a size limit, owner names compressed against the
// names already in the message (RFC 1035 §4.1.4). RDATA is copied as stored (uncompressed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>

#include "catalog/zone_records.hpp"

namespace discodns::transfer {

class MessageWriter {
 public:
  // Starts a message in `out`; `limit` caps its size (at most out.size()). `question` (as the
  // query carried it) is written when not empty.
  void begin(std::span<std::uint8_t> out, std::size_t limit, std::uint16_t id, std::uint16_t flags,
             std::span<const std::uint8_t> question);
  // Appends one answer record; false when it does not fit (the message is unchanged).
  bool add(const catalog::ZoneRecord& record);
  // Sets the counts; returns the message's size.
  std::size_t finish();
  std::uint16_t records() const { return answers_; }

 private:
  // Writes `name`, ending in a pointer to the longest suffix already written; records the
  // suffixes it wrote. false: out of room.
  bool put_name(std::string_view name);
  // Out of room: back to `size`, forgetting the suffixes written past it (once per message).
  void rollback(std::size_t size);

  std::span<std::uint8_t> out_;
  std::size_t limit_ = 0;
  std::size_t size_ = 0;
  std::uint16_t answers_ = 0;
  bool question_ = false;
  // Suffix (a view into the record's owner, which outlives the message) -> offset.
  std::unordered_map<std::string_view, std::uint16_t> names_;
};

}  // namespace discodns::transfer
