#include "wire/names.hpp"

#include "wire/types.hpp"

namespace discodns::wire {

std::size_t rcode_index(std::uint8_t rcode) {
  if (rcode <= rcode::kRefused) return rcode;
  return rcode == rcode::kBadVers ? 6 : 7;
}

std::size_t qtype_index(std::uint16_t qtype) {
  switch (qtype) {
    case type::kA:
      return 0;
    case type::kAaaa:
      return 1;
    case type::kSrv:
      return 2;
    case type::kTxt:
      return 3;
    case type::kSoa:
      return 4;
    case type::kNs:
      return 5;
    case type::kAny:
      return 6;
    default:
      return 7;
  }
}

}  // namespace discodns::wire
