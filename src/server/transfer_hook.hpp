// What the TCP server needs of zone transfers (transfer/ provides it): a query whose QTYPE is
// AXFR or IXFR is handed to a TransferHandler, which answers it with a stream of messages that
// the session writes one at a time, each before asking for the next, so a zone of any size
// goes out in 64 KiB of buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace discodns::server {

// A query (at least a header) with opcode QUERY, one question and QTYPE AXFR or IXFR: a zone
// transfer, which the
// TransferHandler answers (with more than one message, maybe). The engine parses the rest.
inline bool is_transfer_query(std::span<const std::uint8_t> m) {
  if ((m[2] & 0xF8) != 0 || m[4] != 0 || m[5] != 1) return false;  // QR, opcode, QDCOUNT
  std::size_t pos = 12;                                            // after the header
  while (pos < m.size() && m[pos] != 0) {
    if ((m[pos] & 0xC0) != 0) return false;
    pos += 1 + m[pos];
  }
  if (pos + 3 > m.size()) return false;
  const std::uint16_t qtype = static_cast<std::uint16_t>((m[pos + 1] << 8) | m[pos + 2]);
  return qtype == 251 || qtype == 252;  // IXFR, AXFR
}

class MessageStream {
 public:
  virtual ~MessageStream() = default;
  // Writes the next message into `out` (65,535 bytes); returns its size, 0 when done.
  virtual std::size_t next(std::span<std::uint8_t> out) = 0;
};

class TransferHandler {
 public:
  virtual ~TransferHandler() = default;
  // Called on worker threads, concurrently. `query` is an AXFR or IXFR query received over
  // TCP, `client_address` 4 or 16 bytes. Returns the messages that answer it (a refusal is a
  // stream of one), or nullptr to answer it as any other query.
  virtual std::unique_ptr<MessageStream> start(std::span<const std::uint8_t> query,
                                               std::span<const std::uint8_t> client_address) = 0;
  // A query that carried a TSIG record (a secondary's SOA check, RFC 8945 §5.3): the engine's
  // `size`-byte answer at the start of `answer` is signed in place (the TSIG record goes past
  // the client's payload size: the answers secondaries sign are small), or replaced by a
  // NOTAUTH when the request's signature does not verify. Returns the new size (0: drop).
  virtual std::size_t sign_answer(std::span<const std::uint8_t> query,
                                  std::span<std::uint8_t> answer, std::size_t size) = 0;
};

}  // namespace discodns::server
