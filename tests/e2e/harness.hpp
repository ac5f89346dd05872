// End-to-end harness: runs the real discodns binary from a generated config in a temp dir,
// waits for its readiness line, and talks to it over real UDP and TCP sockets. Answers are
// decoded with ldns (an independent decoder) and checked with small helpers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

// Last: ldns defines true/false as macros, which breaks <optional> and <compare>.
#include <ldns/ldns.h>

namespace discodns::e2e {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `file` atomically (temp file + rename), so a reader never sees half of it.
void write_file(const std::filesystem::path& file, const std::string& text);

// One registry instance, rendered in the /discovery/fetch/all shape.
struct FakeInstance {
  std::string appid = "goim.comet";
  std::string env = "dev";
  std::string zone = "gd";
  std::string hostname;
  std::vector<std::string> addrs;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string version = "v1";
  int status = 1;
  std::int64_t renew_ns = 0;
};
std::string fetch_all_json(const std::vector<FakeInstance>& instances);

// Output of a finished command.
struct RunResult {
  int exit_code = -1;  // -1: killed or timed out
  std::string out;
  std::string err;
};
RunResult run_command(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = 10s);

// A running child with stdout on a pipe and stderr in a file.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::filesystem::path& stderr_file);
  ~Process();  // kills it if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Next stdout line, or nullopt at EOF or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // SIGTERM, then waits (bounded); the exit code, or -1 when killed or signalled.
  int terminate(std::chrono::milliseconds timeout = 10s);
  // Waits for the exit without signalling; -1 on timeout (then kills).
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
};

// A DNS query in wire form; the name is sent exactly as written (case kept).
Bytes make_query(const std::string& name, std::uint16_t type, std::uint16_t id = 0x1234,
                 bool edns = false, bool rd = true);

// One datagram exchange; nullopt on timeout.
std::optional<Bytes> udp_exchange(std::uint16_t port, const Bytes& query,
                                  std::chrono::milliseconds timeout = 2s);

// A TCP connection to 127.0.0.1 with 2-byte length framing.
class TcpClient {
 public:
  explicit TcpClient(std::uint16_t port, std::chrono::milliseconds timeout = 2s);
  ~TcpClient();
  bool connected() const { return fd_ >= 0; }
  bool send(const Bytes& message);    // adds the length prefix
  bool send_raw(const Bytes& bytes);  // as is
  std::optional<Bytes> receive();     // one framed message; nullopt on EOF/timeout/error
  bool closed_by_peer();              // true when the server closed the connection

 private:
  bool read_exact(std::uint8_t* data, std::size_t size);
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
};

// An ldns packet owned RAII-style.
struct PacketDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;
Packet decode(const Bytes& wire);  // nullptr when ldns cannot parse it

// Assertion helpers (named like Knot's test DSL).
void expect_rcode(const ldns_pkt* pkt, ldns_pkt_rcode rcode);
// The records of `type` owned by `name` (case-insensitive) in `section`; expects at least one.
std::vector<const ldns_rr*> expect_rr(const ldns_pkt* pkt, ldns_pkt_section section,
                                      const std::string& name, ldns_rr_type type);
// All records of a section whose owner and type match (possibly none).
std::vector<const ldns_rr*> find_rr(const ldns_pkt* pkt, ldns_pkt_section section,
                                    const std::string& name, ldns_rr_type type);
std::size_t section_count(const ldns_pkt* pkt, ldns_pkt_section section);
std::string rdf_text(const ldns_rdf* rdf);  // presentation form of one RDATA field
std::string owner_text(const ldns_rr* rr);  // owner as sent, case kept

// A discodns on 127.0.0.1 (port 0 → picked) serving example.com from the repository's zone
// file and a registry file in the temp dir. The fixture writes the config, runs
// --check-config, spawns the server, waits up to 10 s for the readiness line and stops it with
// SIGTERM at teardown, expecting exit code 0.
class DiscodnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The default registry: goim.comet in dev/gd (comet-1..3 up, comet-4 waiting, comet-5 late),
  // goim.logic in prod/sh, and big.app in dev/gd with 40 instances.
  static std::vector<FakeInstance> default_instances();
  static constexpr std::int64_t kRenewNs = 1795552913236649322;

  // Extra lines for the [server] table of the generated config.
  virtual std::string server_options() const { return ""; }
  std::string config_text() const;
  void start_server();
  Packet query_udp(const std::string& name, ldns_rr_type type, bool edns = false);
  Packet query_tcp(const std::string& name, ldns_rr_type type);
  std::string stderr_text() const;

  TempDir dir_;
  std::filesystem::path config_file_;
  std::filesystem::path registry_file_;
  std::unique_ptr<Process> server_;
  std::uint16_t udp_port_ = 0;
  std::uint16_t tcp_port_ = 0;
};

}  // namespace discodns::e2e
