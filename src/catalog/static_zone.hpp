// The static part of the zone: zones/<domain>.zone read with ldns. Holds the apex SOA and NS
// and any other records written there (they win over synthesized names).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace discodns::catalog {

struct StaticRecord {
  std::string owner;  // lower-cased wire-format name
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::vector<std::uint8_t> rdata;  // uncompressed wire RDATA

  bool operator==(const StaticRecord&) const = default;
};

struct StaticZone {
  std::string apex;       // lower-cased wire-format name of the served domain
  std::string apex_text;  // "example.com."
  std::uint32_t soa_serial = 0;
  std::uint32_t soa_ttl = 0;
  std::uint32_t soa_minimum = 0;
  std::vector<StaticRecord> records;  // includes SOA and NS

  bool operator==(const StaticZone&) const = default;
};

// Thrown with "FILE:LINE: reason".
class ZoneError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a master file for `domain` (text, e.g. "example.com."). Requires exactly one SOA at
// the apex, at least one NS at the apex, and every owner at or below the apex.
StaticZone load_static_zone(const std::filesystem::path& file, const std::string& domain);

}  // namespace discodns::catalog
