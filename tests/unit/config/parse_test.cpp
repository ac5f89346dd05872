// The config's value grammar (config/parse.hpp) alone, without TOML: what each parser takes,
// what it makes of it, and the reason it gives when it refuses.
#include "config/parse.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace discodns::config {
namespace {

// The refusal's text, or "" when the value was taken.
std::string refusal(const Refusal& r) {
  return r.value_or("");
}

void expect_refused(const Refusal& r, std::string_view fragment) {
  ASSERT_TRUE(r.has_value()) << "expected a refusal mentioning " << fragment;
  EXPECT_NE(r->find(fragment), std::string::npos) << *r;
}

TEST(ParseDuration, EveryUnit) {
  std::int64_t ms = -1;
  EXPECT_EQ(refusal(parse_duration("500ms", ms)), "");
  EXPECT_EQ(ms, 500);
  EXPECT_EQ(refusal(parse_duration("10s", ms)), "");
  EXPECT_EQ(ms, 10'000);
  EXPECT_EQ(refusal(parse_duration("5m", ms)), "");
  EXPECT_EQ(ms, 300'000);
  EXPECT_EQ(refusal(parse_duration("1h", ms)), "");
  EXPECT_EQ(ms, kHourMs);
  EXPECT_EQ(refusal(parse_duration("0s", ms)), "");
  EXPECT_EQ(ms, 0);
}

TEST(ParseDuration, Refusals) {
  std::int64_t ms = 7;
  for (const char* bad : {"", "s", "10", "10 s", "1.5s", "-1s", "10d", "10S", " 10s"})
    expect_refused(parse_duration(bad, ms), "expected <integer><unit>");
  expect_refused(parse_duration("99999999999999999999ms", ms), "too large");
  expect_refused(parse_duration("9223372036854775807s", ms), "too large");
  EXPECT_EQ(ms, 7);  // untouched on refusal
  EXPECT_EQ(refusal(parse_duration("9223372036854775807ms", ms)), "");
}

TEST(FormatDuration, LargestUnitThatDivides) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(1500), "1500ms");
  EXPECT_EQ(format_duration(90'000), "90s");
  EXPECT_EQ(format_duration(120'000), "2m");
  EXPECT_EQ(format_duration(2 * kHourMs), "2h");
  EXPECT_EQ(format_duration(kMaxTtlMs), "2147483647s");
}

TEST(SplitHostPort, BothForms) {
  HostPort a;
  EXPECT_EQ(refusal(split_host_port("127.0.0.1:53", a)), "");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 53);
  EXPECT_FALSE(a.bracketed);
  EXPECT_EQ(refusal(split_host_port("[::1]:65535", a)), "");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 65535);
  EXPECT_TRUE(a.bracketed);
  EXPECT_EQ(refusal(split_host_port("name:0", a)), "");
  EXPECT_EQ(a.port, 0);
}

TEST(SplitHostPort, Refusals) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (auto [text, reason] : {
           Case{"", "empty address"},
           {"[::1", "missing \"]\""},
           {"[::1]", "missing port"},
           {"[::1]53", "expected \":port\""},
           {"host", "missing port"},
           {"::1:53", "must be in brackets"},
           {":53", "missing host"},
           {"[]:53", "missing host"},
           {"host:", "missing port"},
           {"host:5x", "port must be a number"},
           {"host:65536", "0..65535"},
           {"[1.2.3.4]:53", "bad IPv6 address"},
       }) {
    HostPort a;
    SCOPED_TRACE(text);
    expect_refused(split_host_port(text, a), reason);
  }
}

TEST(ParseListen, IpLiteralsOnly) {
  ListenAddress out;
  EXPECT_EQ(refusal(parse_listen("0.0.0.0:53", out)), "");
  EXPECT_EQ(out, (ListenAddress{"0.0.0.0", 53}));
  EXPECT_EQ(refusal(parse_listen("[::]:0", out)), "");
  EXPECT_EQ(out, (ListenAddress{"::", 0}));
  expect_refused(parse_listen("localhost:53", out), "not host names");
  expect_refused(parse_listen("1.2.3:53", out), "bad IPv4 address");
  expect_refused(parse_listen("[zz::1]:53", out), "bad IPv6 address");
}

TEST(CheckNode, NamesOrLiteralsWithAPort) {
  for (const char* good : {"127.0.0.1:7171", "[fd00::1]:7171", "discovery-1.svc_a.Local:80"})
    EXPECT_EQ(refusal(check_node(good)), "") << good;
  expect_refused(check_node("http://a:1"), "without a scheme");
  expect_refused(check_node("a:0"), "1..65535");
  expect_refused(check_node("a b:1"), "bad host");
  expect_refused(check_node("user@a:1"), "bad host");
  expect_refused(check_node("[::g]:1"), "bad IPv6 address");
}

TEST(NormalizeDomain, LowerCaseWithTrailingDot) {
  std::string out;
  EXPECT_EQ(refusal(normalize_domain("Example.COM", out)), "");
  EXPECT_EQ(out, "example.com.");
  EXPECT_EQ(refusal(normalize_domain("_srv.my-zone.example.", out)), "");
  EXPECT_EQ(out, "_srv.my-zone.example.");
  EXPECT_EQ(refusal(normalize_domain(std::string(63, 'a') + ".com", out)), "");
}

TEST(NormalizeDomain, Refusals) {
  std::string out;
  expect_refused(normalize_domain("", out), "not the root");
  expect_refused(normalize_domain(".", out), "not the root");
  expect_refused(normalize_domain("a..b", out), "empty label");
  expect_refused(normalize_domain(".a", out), "empty label");
  expect_refused(normalize_domain(std::string(64, 'a') + ".com", out), "longer than 63");
  expect_refused(normalize_domain("ex ample.com", out), "bad character \" \"");
  expect_refused(normalize_domain("ex*.com", out), "bad character \"*\"");
  std::string long_name;
  while (long_name.size() < 254)
    long_name += "abcdefghi.";
  expect_refused(normalize_domain(long_name.substr(0, 254), out), "too long (254 > 253)");
}

TEST(CheckRegion, OneLowerCaseHostLabel) {
  for (const char* good : {"china", "us-east-1", "0", "-"})
    EXPECT_EQ(refusal(check_region(good)), "") << good;
  EXPECT_EQ(refusal(check_region(std::string(63, 'a'))), "");
  expect_refused(check_region(""), "1..63");
  expect_refused(check_region(std::string(64, 'a')), "1..63");
  expect_refused(check_region("China"), "bad character \"C\"");
  expect_refused(check_region("cn_north"), "bad character \"_\"");
  expect_refused(check_region("cn.north"), "one DNS label of [a-z0-9-]");
}

}  // namespace
}  // namespace discodns::config
