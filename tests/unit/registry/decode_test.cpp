#include "registry/decode.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "registry/persist.hpp"

namespace discodns::registry {
namespace {

std::string envelope(const std::string& data) {
  return R"({"code":0,"message":"0","ttl":1,"data":)" + data + "}";
}

// A complete instance of goim.comet/dev/gd; `fields` adds members (RapidJSON keeps duplicate
// keys and finds the first, so a field given here cannot override one above).
std::string instance(const std::string& fields, const std::string& hostname = "h1") {
  return R"({"appid":"goim.comet","env":"dev","zone":"gd","hostname":")" + hostname +
         R"(","status":1,"renew_timestamp":1795552913236649322,)"
         R"("latest_timestamp":1795552853489461163)" +
         (fields.empty() ? "" : "," + fields) + "}";
}

// One instance from a raw JSON object, in the fetch/all shape under appid "a".
std::string one(const std::string& raw) {
  return envelope(R"({"a":[)" + raw + "]}");
}

InstanceList ok(const common::Result<InstanceList>& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
  return r.ok() ? r.value() : InstanceList{};
}

std::string error_of(const common::Result<InstanceList>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Decode, FetchAllShapeWithAndWithoutEnvelope) {
  std::string data = R"({"goim.comet":[)" +
                     instance(R"("addrs":["grpc://10.0.0.11:3109","http://10.0.0.11:3111"],)"
                              R"("metadata":{"weight":"20","color":"red"},"version":"v1",)"
                              R"("region":"china","unknown":{"x":[1,2]})") +
                     "]}";
  auto with = ok(decode_registry_document(envelope(data)));
  auto bare = ok(decode_registry_document(data));
  EXPECT_EQ(with, bare);
  EXPECT_EQ(ok(decode_fetch_all(envelope(data))), with);
  ASSERT_EQ(with.instances.size(), 1u);
  const Instance& i = with.instances[0];
  EXPECT_EQ(i.appid, "goim.comet");
  EXPECT_EQ(i.env, "dev");
  EXPECT_EQ(i.zone, "gd");
  EXPECT_EQ(i.region, "china");
  EXPECT_EQ(i.hostname, "h1");
  EXPECT_EQ(i.version, "v1");
  EXPECT_EQ(i.status, Status::kUp);
  EXPECT_EQ(i.weight, 20);
  EXPECT_EQ(i.metadata, (Metadata{{"color", "red"}, {"weight", "20"}}));
  EXPECT_EQ(i.endpoints,
            (std::vector<Endpoint>{{"grpc", "10.0.0.11", 3109}, {"http", "10.0.0.11", 3111}}));
  EXPECT_EQ(i.renew_ns, 1795552913236649322LL);  // int64 beyond 2^53, exact
  EXPECT_EQ(i.latest_ns, 1795552853489461163LL);
  EXPECT_EQ(with.skipped_instances, 0u);
  EXPECT_EQ(with.skipped_addrs, 0u);
}

TEST(Decode, EmptyRegistries) {
  EXPECT_TRUE(ok(decode_registry_document("{}")).instances.empty());
  EXPECT_TRUE(ok(decode_registry_document(envelope("{}"))).instances.empty());
  EXPECT_TRUE(ok(decode_fetch_all(R"({"code":0,"message":"0","ttl":1})")).instances.empty());
  EXPECT_TRUE(ok(decode_fetchs(envelope("{}"))).instances.empty());
  EXPECT_TRUE(ok(decode_registry_document(envelope(R"({"a":[],"b":null})"))).instances.empty());
}

TEST(Decode, FetchShapeZoneMapWithEmptyZonesAndAnyScheduler) {
  for (const std::string scheduler :
       {R"({"clients":{"gd":{"zones":{"gd":{"weight":3}}}},"remark":""})",
        R"([{"src":"gd","dst":{"gd":3}}])", "null", "7"}) {
    std::string doc =
        envelope(R"({"instances":{"gd":[)" + instance(R"("addrs":[])") +
                 R"(],"gd2":[],"gd3":null},"latest_timestamp":5,"scheduler":)" + scheduler + "}");
    auto d = ok(decode_registry_document(doc));
    ASSERT_EQ(d.instances.size(), 1u) << scheduler;
    EXPECT_EQ(d.skipped_instances, 0u);
  }
}

TEST(Decode, ZoneMapKeyFillsAMissingZone) {
  std::string raw = R"({"appid":"a","env":"dev","hostname":"x","status":1})";
  auto d = ok(decode_registry_document(
      envelope(R"({"instances":{"gd":[)" + raw + R"(]},"latest_timestamp":5})")));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].zone, "gd");
}

TEST(Decode, FetchShapeFlatArrayFixture) {
  auto d = ok(
      decode_registry_document(read_text(DISCODNS_TEST_DIR "/fixtures/registry-fetch-shape.json")));
  ASSERT_EQ(d.instances.size(), 2u);
  EXPECT_EQ(d.instances[0].hostname, "comet-1");
  EXPECT_EQ(d.instances[0].renew_ns, 1795552913236649322LL);
  EXPECT_EQ(d.instances[1].zone, "gd2");
  EXPECT_EQ(d.instances[1].endpoints, (std::vector<Endpoint>{{"grpc", "fd00::9", 3109}}));
}

TEST(Decode, FetchsShape) {
  std::string data = R"({"goim.comet":{"instances":{"gd":[)" + instance(R"("addrs":[])") +
                     R"(],"gd2":[]},"latest_timestamp":5},)"
                     R"("goim.logic":{"instances":[)" +
                     instance(R"("addrs":[])", "l1").replace(10, 10, "goim.logic") +
                     R"(],"latest_timestamp":6}})";
  for (const auto& d :
       {ok(decode_fetchs(envelope(data))), ok(decode_registry_document(envelope(data))),
        ok(decode_registry_document(data))}) {
    ASSERT_EQ(d.instances.size(), 2u);
    EXPECT_EQ(d.instances[0].appid, "goim.comet");
    EXPECT_EQ(d.instances[1].appid, "goim.logic");
  }
  // An app called "instances" in a fetchs answer is not mistaken for the fetch shape.
  std::string odd = envelope(std::string(R"({"instances":{"instances":{"gd":[)") +
                             R"({"env":"dev","zone":"gd","hostname":"x","status":1})" +
                             R"(]},"latest_timestamp":5}})");
  auto d = ok(decode_registry_document(odd));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].appid, "instances");
}

TEST(Decode, InstanceAppidWinsOverTheKeyItIsFiledUnder) {
  std::string data = R"({"wrong.key":[{"appid":"right","env":"dev","zone":"gd","hostname":"x",)"
                     R"("status":1},{"appid":"","env":"dev","zone":"gd","hostname":"y",)"
                     R"("status":1},{"env":"dev","zone":"gd","hostname":"z","status":1}]})";
  auto d = ok(decode_registry_document(data));
  ASSERT_EQ(d.instances.size(), 3u);
  EXPECT_EQ(d.instances[0].appid, "right");
  EXPECT_EQ(d.instances[1].appid, "wrong.key");
  EXPECT_EQ(d.instances[2].appid, "wrong.key");
}

TEST(Decode, CommaJoinedAddrsAreSplit) {
  auto d = ok(decode_registry_document(
      one(instance(R"("addrs":["grpc://10.0.0.1:1,http://10.0.0.1:2", "gorpc://10.0.0.1:3 , )"
                   R"(http://10.0.0.1:2,,bogus,"])"))));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].endpoints,
            (std::vector<Endpoint>{
                {"grpc", "10.0.0.1", 1}, {"http", "10.0.0.1", 2}, {"gorpc", "10.0.0.1", 3}}));
  EXPECT_EQ(d.skipped_addrs, 1u);  // "bogus"; the duplicate and the empty parts are not errors
}

TEST(Decode, Ipv6Addrs) {
  auto d = ok(decode_registry_document(one(instance(
      R"("addrs":["grpc://[fd00::21]:3109","http://[::1]:80","http://[::ffff:10.0.0.1]:81",)"
      R"("http://fd00::1:80","http://[zz::1]:80","http://[::1]","http://[::1]x:80",)"
      R"("http://[]:80","http://[fe80::1%eth0]:80"])"))));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].endpoints,
            (std::vector<Endpoint>{
                {"grpc", "fd00::21", 3109}, {"http", "::1", 80}, {"http", "::ffff:10.0.0.1", 81}}));
  EXPECT_EQ(d.skipped_addrs, 6u);
}

TEST(Decode, BogusAddrsAreSkippedAndCounted) {
  auto d = ok(decode_registry_document(one(instance(
      R"("addrs":["bogus","http://h:0","http://h:65536","http://h:99999999999","http://:80",)"
      R"("://h:1","1http://h:1","http://user@h:1","http://h:8x","http://h:","http://h:+80",)"
      R"("http://h h:80","",7,null,{},)"
      R"("HTTP://Host-1.example:65535/path?q","x+y.z-1://a_b:1#frag"])"))));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].endpoints,
            (std::vector<Endpoint>{{"http", "Host-1.example", 65535}, {"x+y.z-1", "a_b", 1}}));
  EXPECT_EQ(d.skipped_addrs, 15u);  // 12 bad strings + 3 non-strings; "" is nothing
}

TEST(Decode, AddrsMayBeMissingNullOrEmpty) {
  for (const std::string addrs : {"", R"("addrs":null)", R"("addrs":[])"}) {
    auto d = ok(decode_registry_document(one(instance(addrs))));
    ASSERT_EQ(d.instances.size(), 1u) << addrs;
    EXPECT_TRUE(d.instances[0].endpoints.empty());
  }
}

TEST(Decode, MetadataNullEmptyAndOddValues) {
  auto md = [](const std::string& metadata) {
    auto d = ok(decode_registry_document(one(instance(R"("metadata":)" + metadata))));
    EXPECT_EQ(d.instances.size(), 1u) << metadata;
    return d.instances.empty() ? Metadata{} : d.instances[0].metadata;
  };
  EXPECT_TRUE(md("null").empty());
  EXPECT_TRUE(md("{}").empty());
  EXPECT_EQ(md(R"({"color":"","cluster":"c1"})"), (Metadata{{"cluster", "c1"}, {"color", ""}}));
  // Non-string values are what the server stores as "" (§3.1).
  EXPECT_EQ(md(R"({"weight":7,"x":null,"y":[1]})"),
            (Metadata{{"weight", ""}, {"x", ""}, {"y", ""}}));
  // Sorted by key; a key written twice keeps the last value.
  EXPECT_EQ(md(R"({"z":"1","a":"2","z":"3"})"), (Metadata{{"a", "2"}, {"z", "3"}}));
  EXPECT_TRUE(ok(decode_registry_document(one(instance("")))).instances[0].metadata.empty());
}

TEST(Decode, Weights) {
  struct Case {
    std::string metadata;
    std::uint16_t weight;
  };
  for (const auto& c : std::vector<Case>{{"null", 10},
                                         {"{}", 10},
                                         {R"({"weight":""})", 10},
                                         {R"({"weight":"abc"})", 10},
                                         {R"({"weight":"0"})", 10},
                                         {R"({"weight":"-5"})", 10},
                                         {R"({"weight":"+5"})", 10},
                                         {R"({"weight":" 5"})", 10},
                                         {R"({"weight":"5.5"})", 10},
                                         {R"({"weight":7})", 10},
                                         {R"({"weight":"1"})", 1},
                                         {R"({"weight":"3"})", 3},
                                         {R"({"weight":"007"})", 7},
                                         {R"({"weight":"65535"})", 65535},
                                         {R"({"weight":"70000"})", 65535},
                                         {R"({"weight":"99999999999999999999999"})", 65535}}) {
    auto d = ok(decode_registry_document(one(instance(R"("metadata":)" + c.metadata))));
    ASSERT_EQ(d.instances.size(), 1u) << c.metadata;
    EXPECT_EQ(d.instances[0].weight, c.weight) << c.metadata;
  }
}

TEST(Decode, Statuses) {
  std::string head = R"({"appid":"a","env":"dev","zone":"gd","hostname":")";
  std::string doc = one(head + R"(up","status":1},)" + head + R"(waiting","status":2},)" + head +
                        R"(three","status":3},)" + head + R"(zero","status":0},)" + head +
                        R"(minus","status":-1},)" + head + R"(text","status":"1"},)" + head +
                        R"(real","status":1.0},)" + head + R"(none"})");
  auto d = ok(decode_registry_document(doc));
  ASSERT_EQ(d.instances.size(), 2u);
  EXPECT_EQ(d.instances[0].hostname, "up");
  EXPECT_EQ(d.instances[0].status, Status::kUp);
  EXPECT_EQ(d.instances[1].hostname, "waiting");
  EXPECT_EQ(d.instances[1].status, Status::kWaiting);
  EXPECT_EQ(d.skipped_instances, 6u);
}

TEST(Decode, MissingFieldsAreSkippedAndCounted) {
  std::string doc =
      envelope(R"({"instances":[)"
               R"({"env":"dev","zone":"gd","hostname":"no-appid","status":1},)"
               R"({"appid":"a","zone":"gd","hostname":"no-env","status":1},)"
               R"({"appid":"a","env":"","zone":"gd","hostname":"empty-env","status":1},)"
               R"({"appid":"a","env":"dev","zone":"gd","status":1},)"
               R"({"appid":"a","env":"dev","zone":"gd","hostname":"","status":1},)"
               R"({"appid":"a","env":"dev","zone":"gd","hostname":"no-status"},)"
               R"({"appid":"a","env":"dev","hostname":"no-zone-is-kept","status":1}],)"
               R"("latest_timestamp":1})");
  auto d = ok(decode_registry_document(doc));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].hostname, "no-zone-is-kept");
  EXPECT_EQ(d.instances[0].zone, "");  // catalog/ decides whether it can be served
  EXPECT_EQ(d.skipped_instances, 6u);
}

TEST(Decode, WrongTypesAreSkippedAndCounted) {
  std::vector<std::string> bad = {
      R"("appid":5)", R"("env":5)", R"("hostname":["x"])", R"("zone":1)", R"("region":{})",
      R"("version":1)", R"("metadata":"x")", R"("metadata":[])", R"("addrs":"grpc://1.2.3.4:5")",
      R"("renew_timestamp":"1")", R"("renew_timestamp":1.5e18)", R"("latest_timestamp":true)",
      R"("renew_timestamp":18446744073709551615)", R"("renew_timestamp":1e300)",
      // Beyond double's range: only this instance is lost.
      R"("renew_timestamp":1e400)", R"("latest_timestamp":-1E+400)", R"("status":1.0e400)",
      R"("status":4294967297)", R"("renew_timestamp":)" + std::string(400, '9'),
      R"("latest_timestamp":-1)" + std::string(400, '0')};
  std::string list;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    // Put the wrong-typed member first: RapidJSON's FindMember returns the first of duplicates.
    std::string raw = instance("", "h" + std::to_string(i));
    list += "{" + bad[i] + "," + raw.substr(1) + ",";
  }
  list += R"(7,"x",null,[],true,)";
  list += instance(R"("region":null,"version":null)", "good");
  auto d = ok(decode_registry_document(envelope("{\"a\":[" + list + "]}")));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].hostname, "good");
  EXPECT_EQ(d.skipped_instances, bad.size() + 5);
  // A zone whose value is not a list is counted too.
  auto z = ok(decode_registry_document(
      envelope(R"({"instances":{"gd":5,"gd2":[]},"latest_timestamp":1})")));
  EXPECT_EQ(z.skipped_instances, 1u);
}

TEST(Decode, TimestampsAreExactInt64) {
  auto ts = [](const std::string& value) {
    auto d = ok(decode_registry_document(
        one(R"({"appid":"a","env":"dev","zone":"gd","hostname":"x","status":1,)"
            R"("renew_timestamp":)" +
            value + R"(,"latest_timestamp":)" + value + "}")));
    EXPECT_EQ(d.instances.size(), 1u) << value;
    return d.instances.empty() ? std::int64_t{-1} : d.instances[0].renew_ns;
  };
  EXPECT_EQ(ts("9007199254740993"), 9007199254740993LL);  // 2^53 + 1: a double would round
  EXPECT_EQ(ts("1795552913236649322"), 1795552913236649322LL);
  EXPECT_EQ(ts("9223372036854775807"), 9223372036854775807LL);
  EXPECT_EQ(ts("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ts("-0"), 0);
  EXPECT_EQ(ts("0"), 0);
  auto absent = ok(decode_registry_document(
      one(R"({"appid":"a","env":"dev","zone":"gd","hostname":"x","status":1})")));
  ASSERT_EQ(absent.instances.size(), 1u);
  EXPECT_EQ(absent.instances[0].renew_ns, 0);
}

// RapidJSON 1.1 refuses a whole document for one number beyond double's range; the decoder
// rewrites such numbers first, so one loses at most the instance that carries it.
TEST(Decode, AnOutOfRangeNumberLosesAtMostItsInstance) {
  std::string big = "1" + std::string(400, '0');
  std::string doc =
      R"({"code":0,"message":"0","ttl":1e400,"data":{"a":[)" +
      instance(R"("addrs":["grpc://10.0.0.1:1"])", "a1") + "," +
      instance("", "a2").replace(0, 1, R"({"renew_timestamp":1e400,)") + "," +
      // A number in a field the decoder ignores, or where it wants a string, changes nothing
      // else: metadata values become "" as for any number, addrs elements are skipped.
      instance(R"("reg_timestamp":1e400,"dirty_timestamp":-)" + big +
                   R"(,"up_timestamp":1.5e999,"metadata":{"weight":1e400,"x":"y"},)"
                   R"("addrs":[1e400,"grpc://10.0.0.3:3"],"extra":[1e400,{"n":-1e400}])",
               "a3") +
      R"(],"b":[)" + instance("", "b1").replace(10, 10, "b") + R"(]},"extra":)" + big + "}";
  for (const auto& d : {ok(decode_fetch_all(doc)), ok(decode_registry_document(doc))}) {
    ASSERT_EQ(d.instances.size(), 3u);  // sorted by appid: b, then goim.comet
    EXPECT_EQ(d.instances[0].appid, "b");
    EXPECT_EQ(d.instances[0].hostname, "b1");
    const Instance& a1 = d.instances[1];
    EXPECT_EQ(a1.hostname, "a1");
    EXPECT_EQ(a1.endpoints, (std::vector<Endpoint>{{"grpc", "10.0.0.1", 1}}));
    EXPECT_EQ(a1.renew_ns, 1795552913236649322LL);
    const Instance& a3 = d.instances[2];
    EXPECT_EQ(a3.hostname, "a3");
    EXPECT_EQ(a3.metadata, (Metadata{{"weight", ""}, {"x", "y"}}));
    EXPECT_EQ(a3.weight, 10);
    EXPECT_EQ(a3.endpoints, (std::vector<Endpoint>{{"grpc", "10.0.0.3", 3}}));
    EXPECT_EQ(a3.renew_ns, 1795552913236649322LL);
    EXPECT_EQ(a3.latest_ns, 1795552853489461163LL);
    EXPECT_EQ(d.skipped_instances, 1u);  // a2
    EXPECT_EQ(d.skipped_addrs, 1u);      // a3's 1e400
  }
  // A polls answer: the instance is skipped, the app and its version are kept.
  auto polls = decode_polls(R"({"code":0,"message":"0","data":{"goim.comet":{"instances":{"gd":[)" +
                            instance("", "bad").replace(0, 1, R"({"status":1e400,)") + "," +
                            instance("", "good") +
                            R"(]},"latest_timestamp":7,"scheduler":{"w":1e400}}},)"
                            R"("error":{"-404":null,"x":1e400}})");
  ASSERT_TRUE(polls.ok()) << polls.error().text;
  EXPECT_EQ(polls->latest, (std::map<std::string, std::int64_t>{{"goim.comet", 7}}));
  ASSERT_EQ(polls->data.instances.size(), 1u);
  EXPECT_EQ(polls->data.instances[0].hostname, "good");
  EXPECT_EQ(polls->data.skipped_instances, 1u);
}

TEST(Decode, AnOutOfRangeNumberInTheEnvelopeOrAnAppVersionIsStillAnError) {
  // The code is the envelope itself; an app's latest_timestamp is the version token of the
  // next poll (0 or none: the answer is an error, §7.5).
  std::string text = error_of(decode_fetch_all(R"({"code":1e400,"message":"0","data":{}})"));
  EXPECT_NE(text.find("no integer \"code\""), std::string::npos) << text;
  EXPECT_FALSE(decode_polls(R"({"code":-1e400,"message":"0"})").ok());
  EXPECT_FALSE(
      decode_polls(R"({"code":0,"data":{"a":{"instances":{},"latest_timestamp":1e400}}})").ok());
  EXPECT_FALSE(decode_nodes(R"({"code":1e400,"data":[]})").ok());
  // Node lists: numbers elsewhere do not matter.
  auto nodes = decode_nodes(R"({"code":0,"ttl":1e400,"data":[{"addr":"1.2.3.4:7171",)"
                            R"("status":1e400},{"addr":1e400}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().text;
  EXPECT_EQ(*nodes, (std::vector<std::string>{"1.2.3.4:7171"}));
}

TEST(Decode, NumberRewritingNeverMakesBrokenJsonValid) {
  for (const std::string bad :
       {"1e", "1e+", "1.", "1.e400", ".5e400", "01e400", "--1e400", "+1e400", "1e400x", "1e400.5",
        "1e4-00", "-", "0x1e400", "1e400e1", "Infinity", "NaN", "-Infinity"}) {
    EXPECT_FALSE(decode_registry_document(one(instance(R"("x":)" + bad))).ok()) << bad;
    EXPECT_FALSE(decode_registry_document(R"({"a":[)" + bad + "]}").ok()) << bad;
  }
  // Error offsets still point into the answer (rewrites keep the length).
  std::string text = error_of(decode_registry_document(R"({"a":[1e400,2e400 x]})"));
  EXPECT_NE(text.find("offset 18"), std::string::npos) << text;
  // Numbers inside strings are text.
  auto d = ok(decode_registry_document(one(instance(
      R"("version":"1e400","metadata":{"1e400":"-1E400 \" 1e400","w":"\\"},"region":"[1e400]")"))));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].version, "1e400");
  EXPECT_EQ(d.instances[0].region, "[1e400]");
  EXPECT_EQ(d.instances[0].metadata, (Metadata{{"1e400", "-1E400 \" 1e400"}, {"w", "\\"}}));
}

bool clean_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20) return false;
    std::size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (b == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return false;  // surrogate
    i += n;
  }
  return true;
}

void expect_all_clean(const InstanceList& d) {
  for (const auto& i : d.instances) {
    for (const std::string* s : {&i.appid, &i.env, &i.zone, &i.region, &i.hostname, &i.version})
      EXPECT_TRUE(clean_utf8(*s)) << *s;
    for (const auto& [k, v] : i.metadata) {
      EXPECT_TRUE(clean_utf8(k)) << k;
      EXPECT_TRUE(clean_utf8(v)) << v;
    }
  }
}

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// JSON escapes can put NUL and other C0 controls in a string, and RapidJSON turns a lone low
// surrogate escape into bytes that are not UTF-8 (and refuses the whole document for a lone
// high one). Each becomes U+FFFD; the instance is kept.
TEST(Decode, EscapedControlsAndLoneSurrogatesBecomeReplacementCharacters) {
  auto d = ok(decode_fetch_all(envelope(
      R"({"a\u0000pp":[{"env":"d\udc80v","hostname":"h\u0000x\ud800\u0041y\udbff\ud83d\ude00z",)"
      R"("status":1,"version":"v\n1\t\u001f\u007f\u00e9","region":"\ud800",)"
      R"("metadata":{"k\u001b[31m":"a\u0000b\udc80","pair":"\ud83d\ude00\udc80\ud83d\ude00",)"
      R"("raw":"é€😀","lit":"\\ud800\\u0000"}}],)"
      R"("b":{"instances":{"g\u0000d":[{"env":"dev","hostname":"h","status":1}]},)"
      R"("latest_timestamp":1}})")));
  ASSERT_EQ(d.instances.size(), 2u);
  EXPECT_EQ(d.skipped_instances, 0u);
  const Instance& a = d.instances[0];
  EXPECT_EQ(a.appid, "a" + kFffd + "pp");
  EXPECT_EQ(a.env, "d" + kFffd + "v");
  // \ud800 followed by a non-surrogate escape is one U+FFFD, the A is kept; \udbff followed
  // by a pair is one U+FFFD and the pair decodes.
  EXPECT_EQ(a.hostname, "h" + kFffd + "x" + kFffd + "Ay" + kFffd + "\xF0\x9F\x98\x80z");
  EXPECT_EQ(a.version, "v" + kFffd + "1" + kFffd + kFffd + "\x7F\xC3\xA9");  // DEL is kept
  EXPECT_EQ(a.region, kFffd);
  EXPECT_EQ(a.metadata, (Metadata{{"k" + kFffd + "[31m", "a" + kFffd + "b" + kFffd},
                                  {"lit", "\\ud800\\u0000"},  // escaped backslashes: plain text
                                  {"pair", "\xF0\x9F\x98\x80" + kFffd + "\xF0\x9F\x98\x80"},
                                  {"raw", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"}}));
  EXPECT_EQ(d.instances[1].zone, "g" + kFffd + "d");  // from the zone map's key
  expect_all_clean(d);
  // Exact bytes asked for: "a\u0000b\udc80" -> a, U+FFFD, b, U+FFFD.
  auto md = ok(decode_registry_document(one(instance(R"("metadata":{"v":"a\u0000b\udc80"})"))));
  ASSERT_EQ(md.instances.size(), 1u);
  EXPECT_EQ(md.instances[0].metadata, (Metadata{{"v",
                                                 "a\xEF\xBF\xBD"
                                                 "b\xEF\xBF\xBD"}}));
  // Broken escapes are still broken JSON.
  for (const std::string bad : {R"(\u12)", R"(\u12G4)", R"(\x41)", R"(\ud800\u12)"}) {
    EXPECT_FALSE(decode_registry_document(one(instance(R"("version":")" + bad + "\""))).ok())
        << bad;
  }
}

TEST(Decode, EscapedControlsInPollsAndNodesAnswers) {
  auto polls = decode_polls(R"({"code":0,"message":"0","data":{"a\udc80":{"instances":[)"
                            R"({"env":"dev","zone":"gd","hostname":"h","status":1}],)"
                            R"("latest_timestamp":5}},"error":{"-404":["m\u0000\udc80"]}})");
  ASSERT_TRUE(polls.ok()) << polls.error().text;
  EXPECT_EQ(polls->latest, (std::map<std::string, std::int64_t>{{"a" + kFffd, 5}}));
  EXPECT_EQ(polls->missing, (std::vector<std::string>{"m" + kFffd + kFffd}));
  ASSERT_EQ(polls->data.instances.size(), 1u);
  EXPECT_EQ(polls->data.instances[0].appid, "a" + kFffd);
  auto nodes = decode_nodes(R"({"code":0,"data":[{"addr":"1.2.3.4:1\n\udc80"}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().text;
  EXPECT_EQ(*nodes, (std::vector<std::string>{"1.2.3.4:1" + kFffd + kFffd}));
  std::string text = error_of(decode_fetch_all(R"({"code":-400,"message":"bad\u0000\udc80\n"})"));
  EXPECT_NE(text.find("bad" + kFffd + kFffd + kFffd), std::string::npos) << text;
}

TEST(Decode, LongErrorMessagesAreCutForTheLog) {
  // 2 MB of "é" (2 bytes each): the cut must not split a character.
  std::string long_message;
  for (int i = 0; i < 1'000'000; ++i)
    long_message += "\xc3\xa9";
  std::string text =
      error_of(decode_fetch_all(R"({"code":-500,"message":")" + long_message + R"("})"));
  EXPECT_LT(text.size(), 300u) << text.substr(0, 400);
  EXPECT_NE(text.find("\xc3\xa9... (2000000 bytes)"), std::string::npos) << text;
  EXPECT_EQ(text.find(kFffd), std::string::npos) << text;
}

TEST(Decode, DuplicatesKeepTheLastAndOutputIsSorted) {
  auto inst = [](const std::string& appid, const std::string& env, const std::string& zone,
                 const std::string& host, const std::string& version) {
    return R"({"appid":")" + appid + R"(","env":")" + env + R"(","zone":")" + zone +
           R"(","hostname":")" + host + R"(","status":1,"version":")" + version + R"("})";
  };
  std::string doc = envelope(
      R"({"b":[)" + inst("b", "dev", "gd", "z", "") + "," + inst("b", "dev", "gd", "a", "") + "," +
      inst("b", "dev", "sh", "a", "") + "," + inst("b", "prod", "gd", "a", "") + R"(],"a":[)" +
      inst("a", "dev", "gd", "h", "1") + "," + inst("a", "dev", "gd", "h", "2") + R"(],"c":[)" +
      inst("a", "dev", "gd", "h", "3") + "]}");
  auto d = ok(decode_registry_document(doc));
  std::vector<std::string> keys;
  for (const auto& i : d.instances)
    keys.push_back(i.appid + "/" + i.env + "/" + i.zone + "/" + i.hostname + "/" + i.version);
  EXPECT_EQ(keys, (std::vector<std::string>{"a/dev/gd/h/3", "b/dev/gd/a/", "b/dev/gd/z/",
                                            "b/dev/sh/a/", "b/prod/gd/a/"}));
}

TEST(Decode, ErrorEnvelopeNamesCodeAndMessage) {
  std::string text =
      error_of(decode_registry_document(R"({"code":-500,"message":"-500","ttl":1})"));
  EXPECT_NE(text.find("-500"), std::string::npos) << text;
  text = error_of(decode_fetch_all(R"({"code":-400,"message":"Key: 'x' failed","ttl":1})"));
  EXPECT_NE(text.find("-400"), std::string::npos) << text;
  EXPECT_NE(text.find("Key: 'x' failed"), std::string::npos) << text;
  error_of(decode_registry_document(R"({"code":-404,"message":"-404","ttl":1,"data":null})"));
  error_of(decode_fetchs(R"({"code":-500,"message":"-500","ttl":1,"data":{}})"));
  error_of(decode_registry_document(R"({"code":0,"message":"0","ttl":1})"));  // no data
  error_of(decode_registry_document(R"({"code":1.5,"data":{}})"));
  error_of(decode_fetch_all(R"({"data":{}})"));  // the live answers need the envelope
  error_of(decode_fetch_all(R"({"code":"0","data":{}})"));
}

TEST(Decode, InvalidJson) {
  std::string text = error_of(decode_registry_document("{\"code\":0,"));
  EXPECT_NE(text.find("offset 10"), std::string::npos) << text;
  EXPECT_NE(text.find("Missing a name"), std::string::npos) << text;
  error_of(decode_registry_document(""));
  error_of(decode_registry_document("   "));
  error_of(decode_registry_document("{} x"));  // trailing garbage
  error_of(decode_registry_document("[1,2]"));
  error_of(decode_registry_document("\"text\""));
  error_of(decode_registry_document("{\"a\":[{\"hostname\":\"\xff\xfe\"}]}"));  // not UTF-8
}

TEST(Decode, NotARegistryDocument) {
  error_of(decode_registry_document(R"({"name":"x"})"));
  error_of(decode_registry_document(R"({"a":{"b":1}})"));
  error_of(decode_registry_document(R"({"a":5})"));
  error_of(decode_registry_document(envelope("[]")));
  error_of(decode_fetch_all(envelope("7")));
}

TEST(Decode, DeepNestingIsAnErrorNotACrash) {
  error_of(decode_registry_document(std::string(100000, '[')));
  error_of(decode_registry_document(std::string(100000, '{')));
  std::string open;
  for (int i = 0; i < 100000; ++i)
    open += "{\"a\":";
  error_of(decode_registry_document(open));
  // Well-formed but deep: refused before parsing (the parser's heap grows with depth).
  std::string deep = "{\"a\":[" + std::string(100000, '[') + std::string(100000, ']') + "]}";
  std::string text = error_of(decode_registry_document(deep));
  EXPECT_NE(text.find("nested deeper than 32"), std::string::npos) << text;
  // Brackets inside strings (escaped quotes too) are not nesting.
  std::string in_string = "{\"a\":[\"\\\"" + std::string(1000, '[') + "\"]}";
  auto d = ok(decode_registry_document(in_string));
  EXPECT_EQ(d.skipped_instances, 1u);
}

TEST(Decode, OversizedDocumentsAreRefusedBeforeParsing) {
  std::string huge(kMaxDocumentSize + 1, ' ');
  std::string text = error_of(decode_registry_document(huge));
  EXPECT_NE(text.find("larger than"), std::string::npos) << text;
  error_of(decode_fetch_all(huge));
  EXPECT_FALSE(decode_polls(huge).ok());
}

TEST(Decode, PollsAnswers) {
  auto changed =
      decode_polls(R"({"code":0,"message":"0","data":{"goim.comet":{"instances":{"gd":[)" +
                   instance(R"("addrs":["grpc://1.2.3.4:5"])") +
                   R"(],"gd2":[]},"latest_timestamp":1795552913114021967}},)"
                   R"("error":{"-404":["no.such","other"]}})");
  ASSERT_TRUE(changed.ok()) << changed.error().text;
  EXPECT_EQ(changed->code, 0);
  EXPECT_EQ(changed->latest,
            (std::map<std::string, std::int64_t>{{"goim.comet", 1795552913114021967LL}}));
  EXPECT_EQ(changed->missing, (std::vector<std::string>{"no.such", "other"}));
  ASSERT_EQ(changed->data.instances.size(), 1u);
  EXPECT_EQ(changed->data.instances[0].endpoints, (std::vector<Endpoint>{{"grpc", "1.2.3.4", 5}}));

  auto no_miss = decode_polls(R"({"code":0,"message":"0","data":{"a":{"instances":{"gd":[]},)"
                              R"("latest_timestamp":7}},"error":{"-404":null}})");
  ASSERT_TRUE(no_miss.ok()) << no_miss.error().text;
  EXPECT_TRUE(no_miss->missing.empty());
  EXPECT_EQ(no_miss->latest.at("a"), 7);  // an app with no instance left still reports

  auto not_modified = decode_polls(R"({"code":-304,"message":"-304","ttl":1})");
  ASSERT_TRUE(not_modified.ok());
  EXPECT_EQ(not_modified->code, -304);
  EXPECT_TRUE(not_modified->data.instances.empty());
  auto protect = decode_polls(R"({"code":-500,"message":"-500","ttl":1})");
  ASSERT_TRUE(protect.ok());
  EXPECT_EQ(protect->code, -500);

  EXPECT_FALSE(
      decode_polls(R"({"code":0,"data":{"a":{"instances":{},"latest_timestamp":0}}})").ok());
  EXPECT_FALSE(decode_polls(R"({"code":0,"data":{"a":{"instances":{}}}})").ok());
  EXPECT_FALSE(decode_polls(R"({"code":0,"message":"0"})").ok());
  EXPECT_FALSE(decode_polls(R"({"message":"0","data":{}})").ok());
  EXPECT_FALSE(decode_polls("garbage").ok());
}

TEST(Decode, Nodes) {
  auto nodes = decode_nodes(
      R"({"code":0,"message":"0","ttl":1,"data":[{"addr":"127.0.0.1:7181","status":0,"zone":"gd"},)"
      R"({"addr":"127.0.0.1:7182","status":1,"zone":"gd"},{"addr":5},{}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().text;
  EXPECT_EQ(*nodes, (std::vector<std::string>{"127.0.0.1:7181", "127.0.0.1:7182"}));
  EXPECT_FALSE(decode_nodes(R"({"code":-500,"message":"-500","ttl":1})").ok());
  EXPECT_FALSE(decode_nodes(R"({"code":0,"message":"0","ttl":1,"data":{}})").ok());
}

TEST(Decode, SmallFixture) {
  auto d =
      ok(decode_registry_document(read_text(DISCODNS_TEST_DIR "/fixtures/registry-small.json")));
  ASSERT_EQ(d.instances.size(), 3u);
  EXPECT_EQ(d.skipped_instances, 0u);
  EXPECT_EQ(d.skipped_addrs, 0u);
  EXPECT_EQ(d.instances[1].hostname, "comet-2");
  EXPECT_EQ(d.instances[1].endpoints.size(), 2u);  // comma-joined
  EXPECT_EQ(d.instances[2].appid, "goim.logic");
  EXPECT_TRUE(d.instances[2].metadata.empty());
}

TEST(Decode, TheDemoFileDecodes) {
  auto r = decode_registry_document(read_text(DISCODNS_SOURCE_DIR "/configs/demo-registry.json"));
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->instances.size(), 11u);
  EXPECT_EQ(r->skipped_instances, 0u);
  EXPECT_EQ(r->skipped_addrs, 0u);
  std::map<std::string, const Instance*> by_host;
  std::int64_t newest = 0;
  for (const auto& i : r->instances) {
    by_host[i.hostname] = &i;
    newest = std::max(newest, i.renew_ns);
  }
  ASSERT_EQ(by_host.size(), 11u);
  EXPECT_EQ(by_host["comet-2"]->endpoints.size(), 2u);
  EXPECT_EQ(by_host["comet-3"]->weight, 30);
  EXPECT_EQ(by_host["comet-sh-1"]->endpoints[0].host, "fd00::21");
  EXPECT_EQ(by_host["logic-2"]->status, Status::kWaiting);
  EXPECT_EQ(by_host["comet-p1"]->env, "prod");
  EXPECT_EQ(newest - by_host["account-2"]->renew_ns, 600'000'000'000LL);  // the late one
  EXPECT_EQ(by_host["discovery-1"]->endpoints[0], (Endpoint{"http", "127.0.0.1", 7171}));
}

// The state file is read back with encoding validation: whatever the decoder gave must survive.
TEST(Persist, EscapedControlsAndSurrogatesRoundTrip) {
  auto d = ok(decode_registry_document(
      envelope(R"({"a\udc80":[{"env":"dev","zone":"gd","hostname":"h\u0000\udc80","status":1,)"
               R"("version":"\ud800","metadata":{"k\u0001":"v\udfff"}}]})")));
  ASSERT_EQ(d.instances.size(), 1u);
  auto path = std::filesystem::temp_directory_path() /
              ("discodns-persist-escaped-" + std::to_string(::getpid()));
  ASSERT_TRUE(save_registry(path, RegistryData::from(d)).ok());
  auto back = load_registry(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.ok()) << back.error().text;
  EXPECT_EQ(back.value().flatten(), d);
}

TEST(Persist, RoundTripsThroughTheDecoder) {
  auto d = ok(decode_registry_document(
      one(instance(R"("addrs":["grpc://[fd00::1]:9","http://10.0.0.1:80"],)"
                   R"("metadata":{"weight":"7"},"region":"china")"))));
  auto path =
      std::filesystem::temp_directory_path() / ("discodns-persist-" + std::to_string(::getpid()));
  ASSERT_TRUE(save_registry(path, RegistryData::from(d)).ok());
  auto back = load_registry(path);
  ASSERT_TRUE(back.ok()) << back.error().text;
  EXPECT_EQ(back.value().flatten(), d);
  std::filesystem::remove(path);
  EXPECT_FALSE(load_registry(path).ok());
}

}  // namespace
}  // namespace discodns::registry
