// Registry JSON parsed safely: a pre-pass that refuses deep nesting and rewrites what
// RapidJSON would refuse the whole answer for (numbers beyond an int64, unpaired surrogate
// escapes), then RapidJSON's iterative, encoding-validating parse into a tree whose memory
// suits the answer's size.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string_view>

#include "common/result.hpp"

namespace discodns::registry {

// Largest document accepted; bigger ones are refused before parsing.
inline constexpr std::size_t kMaxDocumentSize = 64u << 20;

// The parsed tree of a large answer lives in 1 MiB chunks, which malloc serves with mmap:
// freed, they go back to the kernel instead of leaving holes in the heap between the
// instances decoded from them (worth ~10 % of RSS at 100k instances). Small answers (polls)
// keep RapidJSON's 64 KiB chunks.
class TreeMemory {
 public:
  explicit TreeMemory(std::string_view json)
      : pool_(json.size() > (1u << 20) ? (1u << 20) : 64u << 10) {}
  rapidjson::MemoryPoolAllocator<>* allocator() { return &pool_; }

 private:
  rapidjson::MemoryPoolAllocator<> pool_;
};

// Parses `json` into `doc` (whose allocator is a TreeMemory's); an Error says why not. The
// document must be a JSON object.
common::Result<bool> parse_document(std::string_view json, rapidjson::Document& doc);

}  // namespace discodns::registry
