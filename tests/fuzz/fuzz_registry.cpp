// libFuzzer target: any bytes as a registry answer, through every decoder. Each must return
// data or an error; never crash, hang or leak.
#include <string_view>

#include "registry/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto document = discodns::registry::decode_registry_document(text);
  auto all = discodns::registry::decode_fetch_all(text);
  auto polls = discodns::registry::decode_polls(text);
  (void)document;
  (void)all;
  (void)polls;
  return 0;
}
