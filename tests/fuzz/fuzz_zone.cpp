// libFuzzer target: any bytes as a zone file. The loader must either return a zone or throw
// ZoneError; never crash, hang or leak.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "catalog/static_zone.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::string path = "/tmp/discodns-fuzz-zone-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    auto zone = discodns::catalog::load_static_zone(path, "example.com.");
    (void)zone;
  } catch (const discodns::catalog::ZoneError&) {
  }
  return 0;
}
