// [transfer]: who may transfer the zone, whom to NOTIFY, the transferred TTL, the IXFR journal's
// bounds, and an optional TSIG key. Values are checked here; the daemon turns them into
// transfer::Options.
#include "config/load_transfer.hpp"

#include <algorithm>

#include "common/address_prefix.hpp"
#include "config/parse.hpp"

namespace discodns::config {
namespace {

bool is_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  for (char c : text) {
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
    if (c == '=') {
      ++padding;
    } else if (!letter || padding > 0) {
      return false;  // a character past the padding, or not base64 at all
    }
  }
  return padding <= 2;
}

void read_tsig(const TomlReader& in, const Section& section, TransferConfig& out) {
  if (section.table == nullptr) return;
  in.check_keys(section, {"name", "algorithm", "secret"});
  TsigKeyConfig key;
  std::string name = in.require_string(section, "name");
  if (auto error = normalize_domain(name, key.name))
    in.fail(*TomlReader::find(section, "name"), TomlReader::key_path(section, "name"), *error);
  if (auto algorithm = in.get_string(section, "algorithm")) {
    // Not hmac-sha384: ldns 1.8.3 misspells its name and can neither sign nor verify with it.
    constexpr std::string_view kAlgorithms[] = {"hmac-sha256", "hmac-sha512", "hmac-sha1"};
    if (std::find(std::begin(kAlgorithms), std::end(kAlgorithms), *algorithm) ==
        std::end(kAlgorithms)) {
      in.fail(*TomlReader::find(section, "algorithm"), TomlReader::key_path(section, "algorithm"),
              "must be one of hmac-sha256, hmac-sha512, hmac-sha1; got " + in_quotes(*algorithm));
    }
    key.algorithm = *algorithm;
  }
  key.secret = in.require_string(section, "secret");
  if (!is_base64(key.secret))
    in.fail(*TomlReader::find(section, "secret"), TomlReader::key_path(section, "secret"),
            "must be base64, as tsig-keygen or keymgr print it");
  out.tsig = std::move(key);
}

void read_allow(const TomlReader& in, const Section& section, TransferConfig& out) {
  auto entries = in.get_strings(section, "allow");
  if (!entries) return;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& [text, node] = (*entries)[i];
    if (!common::parse_address_prefix(text))
      in.fail(
          *node, TomlReader::key_path(section, "allow") + "[" + std::to_string(i) + "]",
          "must be an address or prefix such as \"10.0.0.0/8\" or \"::1\"; got " + in_quotes(text));
    out.allow.push_back(text);
  }
}

void read_notify(const TomlReader& in, const Section& section, TransferConfig& out) {
  auto entries = in.get_strings(section, "notify");
  if (!entries) return;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& [text, node] = (*entries)[i];
    ListenAddress address;
    auto error = parse_listen(text, address);
    if (!error && address.port == 0) error = "port must not be 0";
    if (error)
      in.fail(*node, TomlReader::key_path(section, "notify") + "[" + std::to_string(i) + "]",
              *error);
    out.notify.push_back(text);
  }
}

}  // namespace

void read_transfer(const TomlReader& in, const Section& section, TransferConfig& out) {
  if (section.table == nullptr) return;
  in.check_keys(section, {"allow", "notify", "ttl", "journal_changes", "journal_bytes", "tsig"});
  read_allow(in, section, out);
  read_notify(in, section, out);
  if (auto v = in.get_seconds(section, "ttl", 0, kMaxTtlMs)) out.ttl = *v;
  if (auto v = in.get_int(section, "journal_changes", 0, 100'000))
    out.journal_changes = static_cast<unsigned>(*v);
  if (auto v = in.get_int(section, "journal_bytes", 0, std::int64_t{1} << 40))
    out.journal_bytes = static_cast<std::uint64_t>(*v);
  read_tsig(in, in.sub_table(section, "tsig"), out);
}

}  // namespace discodns::config
