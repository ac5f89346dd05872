#include "catalog/serial.hpp"

namespace discodns::catalog {

std::uint32_t next_serial(std::uint32_t previous, std::uint32_t zone_file_serial,
                          common::Nanos now_ns) {
  auto now_s = static_cast<std::uint32_t>(now_ns / common::kNanosPerSecond);
  std::uint32_t candidate = previous + 1;
  // RFC 1982 comparison: take the larger in sequence-space terms.
  auto greater = [](std::uint32_t a, std::uint32_t b) {
    return a != b && static_cast<std::int32_t>(a - b) > 0;
  };
  if (greater(now_s, candidate)) candidate = now_s;
  if (greater(zone_file_serial, candidate)) candidate = zone_file_serial;
  return candidate;
}

}  // namespace discodns::catalog
