#include "server/query_log.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>

#include <boost/lockfree/spsc_queue.hpp>

#include "common/log.hpp"
#include "common/thread_priority.hpp"
#include "wire/message.hpp"
#include "wire/name.hpp"
#include "wire/names.hpp"

namespace discodns::server {
namespace {

std::string address_text(const SampledQuery& q) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (q.address_length == 4) ::inet_ntop(AF_INET, q.address.data(), text, sizeof text);
  if (q.address_length == 16) ::inet_ntop(AF_INET6, q.address.data(), text, sizeof text);
  return text;
}

std::string qtype_text(std::uint16_t qtype) {
  std::string_view name = wire::kQtypeNames[wire::qtype_index(qtype)];
  return name == "other" ? "TYPE" + std::to_string(qtype) : std::string(name);
}

std::string qname_text(const SampledQuery& q) {
  // Only header and question were kept: say so in the counts before parsing.
  std::array<std::uint8_t, SampledQuery::kKeptBytes> copy = q.message;
  if (q.kept >= 12) std::fill(copy.begin() + 6, copy.begin() + 12, std::uint8_t{0});
  wire::QueryView view;
  if (wire::parse_query({copy.data(), q.kept}, view) == wire::ParseStatus::kDrop ||
      view.question_length == 0)
    return "-";
  return wire::wire_to_text({view.qname_lower.data(), view.qname_length});
}

}  // namespace

std::string query_line(const SampledQuery& q) {
  return fmt::format(
      "query {} {} {} {} {} {}B{}", q.transport == query::Transport::kUdp ? "udp" : "tcp",
      address_text(q), qname_text(q), qtype_text(q.qtype),
      wire::kRcodeNames[wire::rcode_index(q.rcode)], q.response_size, q.truncated ? " TC" : "");
}

struct QueryLog::Queue {
  boost::lockfree::spsc_queue<SampledQuery, boost::lockfree::capacity<kQueueLength>> lines;
};

QueryLog::QueryLog(std::size_t producers, Sink sink) : sink_(std::move(sink)) {
  if (!sink_) sink_ = [](std::string_view line) { spdlog::info("{}", line); };
  for (std::size_t i = 0; i < producers; ++i)
    queues_.push_back(std::make_unique<Queue>());
}

QueryLog::~QueryLog() {
  stop();
}

bool QueryLog::record(std::size_t producer, query::Transport transport,
                      std::span<const std::uint8_t> client_address,
                      std::span<const std::uint8_t> message,
                      const query::Outcome& outcome) noexcept {
  SampledQuery q;
  q.transport = transport;
  q.truncated = outcome.truncated;
  q.rcode = outcome.rcode;
  q.qtype = outcome.qtype;
  q.response_size = static_cast<std::uint32_t>(outcome.size);
  q.address_length = static_cast<std::uint8_t>(std::min(client_address.size(), q.address.size()));
  // memcpy from an empty span's null data is undefined even for 0 bytes (UBSan says so).
  if (q.address_length != 0) std::memcpy(q.address.data(), client_address.data(), q.address_length);
  q.kept = static_cast<std::uint16_t>(std::min(message.size(), q.message.size()));
  if (q.kept != 0) std::memcpy(q.message.data(), message.data(), q.kept);
  return queues_[producer]->lines.push(q);
}

std::size_t QueryLog::drain() {
  std::size_t written = 0;
  for (auto& queue : queues_) {
    written += queue->lines.consume_all([this](const SampledQuery& q) {
      try {
        sink_(query_line(q));
      } catch (const std::exception& e) {  // a failing log must not end the log thread
        spdlog::warn("query log: {}", e.what());
      }
    });
  }
  return written;
}

void QueryLog::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    common::name_current_thread("dd-query-log");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(50));
      lock.unlock();
      drain();
      lock.lock();
    }
  });
}

void QueryLog::stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  drain();
}

}  // namespace discodns::server
