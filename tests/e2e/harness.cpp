#include "e2e/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace discodns::e2e {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::vector<char*> argv_of(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// Spawns args with stdout (and stderr, unless stderr_file is given) on pipes.
pid_t spawn(const std::vector<std::string>& args, int* out_fd, int* err_fd,
            const std::filesystem::path* stderr_file) {
  int out[2];
  int err[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (err_fd != nullptr && pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (err_fd != nullptr) {
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  } else if (stderr_file != nullptr) {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file->c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  auto argv = argv_of(args);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (err_fd != nullptr) close(err[1]);
  if (rc != 0) {
    close(out[0]);
    if (err_fd != nullptr) close(err[0]);
    throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  }
  *out_fd = out[0];
  if (err_fd != nullptr) *err_fd = err[0];
  return pid;
}

// Waits for pid until deadline; the exit code, -1 when signalled, nullopt on timeout.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

ldns_rr_list* section_list(const ldns_pkt* pkt, ldns_pkt_section section) {
  switch (section) {
    case LDNS_SECTION_ANSWER:
      return ldns_pkt_answer(pkt);
    case LDNS_SECTION_AUTHORITY:
      return ldns_pkt_authority(pkt);
    case LDNS_SECTION_ADDITIONAL:
      return ldns_pkt_additional(pkt);
    default:
      return ldns_pkt_question(pkt);
  }
}

bool same_name(const ldns_rdf* a, const std::string& name) {
  ldns_rdf* b = ldns_dname_new_frm_str(name.c_str());
  if (b == nullptr) return false;
  bool same = ldns_dname_compare(a, b) == 0;
  ldns_rdf_deep_free(b);
  return same;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/discodns-e2e-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, file);
}

std::string fetch_all_json(const std::vector<FakeInstance>& instances) {
  // appid -> instances, in the /discovery/fetch/all envelope (discovery-protocol.md §3.7).
  std::vector<std::string> appids;
  for (const auto& i : instances)
    if (std::find(appids.begin(), appids.end(), i.appid) == appids.end()) appids.push_back(i.appid);
  std::ostringstream o;
  o << R"({"code":0,"message":"0","ttl":1,"data":{)";
  for (std::size_t a = 0; a < appids.size(); ++a) {
    o << (a ? "," : "") << '"' << json_escape(appids[a]) << "\":[";
    bool first = true;
    for (const auto& i : instances) {
      if (i.appid != appids[a]) continue;
      o << (first ? "" : ",") << R"({"region":"china","zone":")" << json_escape(i.zone)
        << R"(","env":")" << json_escape(i.env) << R"(","appid":")" << json_escape(i.appid)
        << R"(","hostname":")" << json_escape(i.hostname) << R"(","addrs":[)";
      for (std::size_t k = 0; k < i.addrs.size(); ++k)
        o << (k ? "," : "") << '"' << json_escape(i.addrs[k]) << '"';
      o << R"(],"version":")" << json_escape(i.version) << R"(","metadata":{)";
      for (std::size_t k = 0; k < i.metadata.size(); ++k)
        o << (k ? "," : "") << '"' << json_escape(i.metadata[k].first) << "\":\""
          << json_escape(i.metadata[k].second) << '"';
      std::int64_t reg = i.renew_ns - 3'600'000'000'000;
      o << R"(},"status":)" << i.status << R"(,"reg_timestamp":)" << reg << R"(,"up_timestamp":)"
        << reg << R"(,"renew_timestamp":)" << i.renew_ns << R"(,"dirty_timestamp":)" << reg
        << R"(,"latest_timestamp":)" << reg << "}";
      first = false;
    }
    o << "]";
  }
  o << "}}";
  return o.str();
}

RunResult run_command(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  RunResult result;
  int out_fd = -1;
  int err_fd = -1;
  pid_t pid = spawn(args, &out_fd, &err_fd, nullptr);
  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  while (open > 0 && Clock::now() < deadline) {
    if (poll(fds, 2, remaining_ms(deadline)) <= 0) continue;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[k]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[k].fd);
        fds[k].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  auto code = wait_until(pid, deadline);
  if (!code) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return result;
  }
  result.exit_code = *code;
  return result;
}

Process::Process(const std::vector<std::string>& args, const std::filesystem::path& stderr_file) {
  pid_ = spawn(args, &stdout_fd_, nullptr, &stderr_file);
}

Process::~Process() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    if (stdout_fd_ < 0) return std::nullopt;
    pollfd fd{stdout_fd_, POLLIN, 0};
    int r = poll(&fd, 1, remaining_ms(deadline));
    if (r == 0) return std::nullopt;
    if (r < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      close(stdout_fd_);
      stdout_fd_ = -1;
      continue;
    }
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

int Process::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  return wait(timeout);
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto code = wait_until(pid_, Clock::now() + timeout);
  if (!code) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
  return code.value_or(-1);
}

Bytes make_query(const std::string& name, std::uint16_t type, std::uint16_t id, bool edns,
                 bool rd) {
  Bytes b;
  put16(b, id);
  put16(b, rd ? 0x0100 : 0);  // QUERY, RD as asked
  put16(b, 1);
  put16(b, 0);
  put16(b, 0);
  put16(b, edns ? 1 : 0);
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<std::uint8_t>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
             name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  b.push_back(0);
  put16(b, type);
  put16(b, 1);  // IN
  if (edns) {
    b.push_back(0);  // root
    put16(b, 41);    // OPT
    put16(b, 1232);  // payload size
    put16(b, 0);     // extended rcode, version
    put16(b, 0);     // flags
    put16(b, 0);     // no options
  }
  return b;
}

std::optional<Bytes> udp_exchange(std::uint16_t port, const Bytes& query,
                                  std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<Bytes> answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
      send(fd, query.data(), query.size(), 0) == static_cast<ssize_t>(query.size())) {
    auto deadline = Clock::now() + timeout;
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, remaining_ms(deadline)) > 0) {
      Bytes buf(65535);
      ssize_t n = recv(fd, buf.data(), buf.size(), 0);
      if (n < 0) break;
      buf.resize(static_cast<std::size_t>(n));
      // Only the answer to this query (same ID) counts.
      if (buf.size() >= 2 && buf[0] == query[0] && buf[1] == query[1]) {
        answer = std::move(buf);
        break;
      }
    }
  }
  close(fd);
  return answer;
}

TcpClient::TcpClient(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return;
  }
  fd_ = fd;
}

TcpClient::~TcpClient() {
  if (fd_ >= 0) close(fd_);
}

bool TcpClient::send_raw(const Bytes& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool TcpClient::send(const Bytes& message) {
  Bytes framed;
  put16(framed, static_cast<unsigned>(message.size()));
  framed.insert(framed.end(), message.begin(), message.end());
  return send_raw(framed);
}

bool TcpClient::read_exact(std::uint8_t* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = recv(fd_, data + done, size - done, 0);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<Bytes> TcpClient::receive() {
  if (fd_ < 0) return std::nullopt;
  std::uint8_t header[2];
  if (!read_exact(header, 2)) return std::nullopt;
  Bytes message(static_cast<std::size_t>(header[0] << 8 | header[1]));
  if (!read_exact(message.data(), message.size())) return std::nullopt;
  return message;
}

bool TcpClient::closed_by_peer() {
  std::uint8_t byte;
  ssize_t n = recv(fd_, &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

Packet decode(const Bytes& wire) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
  return Packet(pkt);
}

void expect_rcode(const ldns_pkt* pkt, ldns_pkt_rcode rcode) {
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt), rcode);
}

std::vector<const ldns_rr*> find_rr(const ldns_pkt* pkt, ldns_pkt_section section,
                                    const std::string& name, ldns_rr_type type) {
  std::vector<const ldns_rr*> found;
  if (pkt == nullptr) return found;
  ldns_rr_list* list = section_list(pkt, section);
  for (std::size_t i = 0; list != nullptr && i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) == type && same_name(ldns_rr_owner(rr), name)) found.push_back(rr);
  }
  return found;
}

std::vector<const ldns_rr*> expect_rr(const ldns_pkt* pkt, ldns_pkt_section section,
                                      const std::string& name, ldns_rr_type type) {
  auto found = find_rr(pkt, section, name, type);
  EXPECT_FALSE(found.empty()) << "no type " << type << " record for " << name << " in section "
                              << section;
  return found;
}

std::size_t section_count(const ldns_pkt* pkt, ldns_pkt_section section) {
  ldns_rr_list* list = section_list(pkt, section);
  return list == nullptr ? 0 : ldns_rr_list_rr_count(list);
}

std::string rdf_text(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string s = text != nullptr ? text : "";
  free(text);
  return s;
}

std::string owner_text(const ldns_rr* rr) {
  return rdf_text(ldns_rr_owner(rr));
}

// ---- fixture ----

std::vector<FakeInstance> DiscodnsTest::default_instances() {
  constexpr std::int64_t kLate = kRenewNs - 600 * 1'000'000'000LL;
  std::vector<FakeInstance> v;
  v.push_back({.hostname = "comet-1",
               .addrs = {"grpc://10.0.0.11:3109", "http://10.0.0.11:3111"},
               .metadata = {{"color", "red"}, {"weight", "10"}},
               .version = "v1.2",
               .renew_ns = kRenewNs});
  v.push_back({.hostname = "comet-2",
               .addrs = {"grpc://10.0.0.12:3109"},
               .metadata = {{"weight", "20"}},
               .renew_ns = kRenewNs - 2'000'000'000LL});
  v.push_back(
      {.hostname = "comet-3", .addrs = {"grpc://[2001:db8::13]:3109"}, .renew_ns = kRenewNs});
  v.push_back({.hostname = "comet-4",  // WAITING: never in service answers
               .addrs = {"grpc://10.0.0.14:3109"},
               .status = 2,
               .renew_ns = kRenewNs});
  v.push_back({.hostname = "comet-5",  // late: left out while punctual instances exist
               .addrs = {"grpc://10.0.0.15:3109"},
               .renew_ns = kLate});
  v.push_back({.appid = "goim.logic",
               .env = "prod",
               .zone = "sh",
               .hostname = "logic-1",
               .addrs = {"http://10.1.0.1:8080"},
               .renew_ns = kRenewNs});
  // Too many addresses for 512 bytes: UDP without EDNS truncates, TCP gets them all.
  for (int i = 0; i < 40; ++i)
    v.push_back({.appid = "big.app",
                 .hostname = "big-" + std::to_string(i),
                 .addrs = {"http://10.2.0." + std::to_string(i + 1) + ":80"},
                 .renew_ns = kRenewNs});
  return v;
}

std::string DiscodnsTest::config_text() const {
  std::ostringstream o;
  o << "[server]\n"
    << "listen = [\"127.0.0.1:0\"]\n"
    << "workers = 2\n"
    << server_options() << "\n"
    << "[zone]\n"
    << "domain = \"example.com\"\n"
    << "file = \"" << DISCODNS_SOURCE_DIR << "/zones/example.com.zone\"\n"
    << "[[registry]]\n"
    << "region = \"china\"\n"
    << "source = \"file\"\n"
    << "file = \"" << registry_file_.filename().string() << "\"\n"
    << "file_check_interval = \"100ms\"\n"
    << "[log]\n"
    << "level = \"info\"\n";
  return o.str();
}

void DiscodnsTest::SetUp() {
  config_file_ = dir_.path() / "discodns.toml";
  registry_file_ = dir_.path() / "registry.json";
  write_file(registry_file_, fetch_all_json(default_instances()));
  write_file(config_file_, config_text());
  start_server();
}

void DiscodnsTest::start_server() {
  RunResult check = run_command({DISCODNS_BINARY, "--check-config", config_file_.string()});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  ASSERT_EQ(check.out, config_file_.string() + ": ok\n");

  server_ = std::make_unique<Process>(
      std::vector<std::string>{DISCODNS_BINARY, "--config", config_file_.string()},
      dir_.path() / "stderr.log");
  static const std::regex ready(
      R"(^discodns ready udp=127\.0\.0\.1:(\d+) tcp=127\.0\.0\.1:(\d+)$)");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = server_->read_line(left);
    if (!line) break;
    std::smatch m;
    if (std::regex_match(*line, m, ready)) {
      udp_port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      tcp_port_ = static_cast<std::uint16_t>(std::stoi(m[2]));
      break;
    }
  }
  ASSERT_NE(udp_port_, 0) << "no readiness line; stderr:\n" << stderr_text();
  ASSERT_EQ(udp_port_, tcp_port_);
}

void DiscodnsTest::TearDown() {
  if (!server_) return;
  int code = server_->terminate(10s);
  EXPECT_EQ(code, 0) << "stderr:\n" << stderr_text();
  server_.reset();
}

std::string DiscodnsTest::stderr_text() const {
  std::ifstream in(dir_.path() / "stderr.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Packet DiscodnsTest::query_udp(const std::string& name, ldns_rr_type type, bool edns) {
  auto wire = udp_exchange(udp_port_, make_query(name, type, 0x4242, edns));
  EXPECT_TRUE(wire.has_value()) << "no UDP answer for " << name;
  if (!wire) return nullptr;
  Packet p = decode(*wire);
  EXPECT_NE(p, nullptr) << "ldns cannot decode the answer for " << name;
  return p;
}

Packet DiscodnsTest::query_tcp(const std::string& name, ldns_rr_type type) {
  TcpClient client(tcp_port_);
  EXPECT_TRUE(client.connected());
  if (!client.connected() || !client.send(make_query(name, type, 0x5151))) return nullptr;
  auto wire = client.receive();
  EXPECT_TRUE(wire.has_value()) << "no TCP answer for " << name;
  if (!wire) return nullptr;
  return decode(*wire);
}

}  // namespace discodns::e2e
