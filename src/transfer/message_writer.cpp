#include "transfer/message_writer.hpp"

#include <cstring>

#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace discodns::transfer {
namespace {

constexpr std::size_t kHeader = 12;
constexpr std::size_t kMaxPointerTarget = 0x3FFF;

}  // namespace

void MessageWriter::begin(std::span<std::uint8_t> out, std::size_t limit, std::uint16_t id,
                          std::uint16_t flags, std::span<const std::uint8_t> question) {
  out_ = out;
  limit_ = std::min(limit, out.size());
  answers_ = 0;
  names_.clear();
  wire::put_u16(&out_[0], id);
  wire::put_u16(&out_[2], flags);
  std::memset(&out_[4], 0, 8);
  size_ = kHeader;
  question_ = !question.empty();
  if (question_) {
    std::memcpy(&out_[size_], question.data(), question.size());
    size_ += question.size();
  }
}

bool MessageWriter::put_name(std::string_view name) {
  const std::size_t start = size_;
  std::size_t label = 0;
  while (label < name.size() && name[label] != 0) {
    std::string_view suffix = name.substr(label);
    auto it = names_.find(suffix);
    if (it != names_.end()) {
      if (size_ + 2 > limit_) break;
      wire::put_u16(&out_[size_], static_cast<std::uint16_t>(0xC000 | it->second));
      size_ += 2;
      return true;
    }
    const std::size_t length = 1 + static_cast<unsigned char>(name[label]);
    if (size_ + length > limit_) break;
    if (size_ <= kMaxPointerTarget) names_.emplace(suffix, static_cast<std::uint16_t>(size_));
    std::memcpy(&out_[size_], name.data() + label, length);
    size_ += length;
    label += length;
  }
  if (label < name.size() && name[label] == 0 && size_ + 1 <= limit_) {
    out_[size_++] = 0;
    return true;
  }
  rollback(start);
  return false;
}

void MessageWriter::rollback(std::size_t size) {
  for (auto it = names_.begin(); it != names_.end();)
    it = it->second >= size ? names_.erase(it) : std::next(it);
  size_ = size;
}

bool MessageWriter::add(const catalog::ZoneRecord& record) {
  const std::size_t start = size_;
  if (!put_name(record.owner)) return false;
  const std::size_t rdata = record.rdata_size();
  if (size_ + 10 + rdata > limit_) {
    rollback(start);
    return false;
  }
  wire::put_u16(&out_[size_], record.type);
  wire::put_u16(&out_[size_ + 2], wire::klass::kIn);
  wire::put_u32(&out_[size_ + 4], record.ttl);
  wire::put_u16(&out_[size_ + 8], static_cast<std::uint16_t>(rdata));
  size_ += 10;
  if (!record.rdata.empty()) std::memcpy(&out_[size_], record.rdata.data(), record.rdata.size());
  size_ += record.rdata.size();
  if (!record.rdata_tail.empty())
    std::memcpy(&out_[size_], record.rdata_tail.data(), record.rdata_tail.size());
  size_ += record.rdata_tail.size();
  ++answers_;
  return true;
}

std::size_t MessageWriter::finish() {
  wire::put_u16(&out_[4], question_ ? 1 : 0);
  wire::put_u16(&out_[6], answers_);
  return size_;
}

}  // namespace discodns::transfer
