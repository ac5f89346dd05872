#include "server/query_log.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "common/log.hpp"
#include "server/workers.hpp"
#include "wire/message.hpp"
#include "wire/name.hpp"

namespace discodns::server {
namespace {

std::string address_text(std::span<const std::uint8_t> address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.size() == 4) ::inet_ntop(AF_INET, address.data(), text, sizeof text);
  if (address.size() == 16) ::inet_ntop(AF_INET6, address.data(), text, sizeof text);
  return text;
}

std::string qtype_text(std::uint16_t qtype) {
  std::string_view name = kQtypeNames[qtype_index(qtype)];
  return name == "other" ? "TYPE" + std::to_string(qtype) : std::string(name);
}

}  // namespace

void log_query(query::Transport transport, std::span<const std::uint8_t> client_address,
               std::span<const std::uint8_t> message, const query::Outcome& outcome) {
  wire::QueryView view;
  std::string qname = "-";
  if (wire::parse_query(message, view) != wire::ParseStatus::kDrop && view.question_length != 0)
    qname = wire::wire_to_text({view.qname_lower.data(), view.qname_length});
  spdlog::info("query {} {} {} {} {} {}B{}", transport == query::Transport::kUdp ? "udp" : "tcp",
               address_text(client_address), qname, qtype_text(view.qtype),
               kRcodeNames[rcode_index(outcome.rcode)], outcome.size,
               outcome.truncated ? " TC" : "");
}

}  // namespace discodns::server
