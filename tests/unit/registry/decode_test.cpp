#include "registry/decode.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "registry/persist.hpp"

namespace discodns::registry {
namespace {

std::string envelope(const std::string& data) {
  return R"({"code":0,"message":"0","ttl":1,"data":)" + data + "}";
}

std::string instance(const std::string& fields) {
  return R"({"appid":"goim.comet","env":"dev","zone":"gd","hostname":"h1","status":1,)"
         R"("renew_timestamp":1795552913236649322,"latest_timestamp":1795552853489461163,)" +
         fields + "}";
}

RegistryData ok(const common::Result<RegistryData>& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
  return r.ok() ? r.value() : RegistryData{};
}

TEST(Decode, FetchAllShapeWithAndWithoutEnvelope) {
  std::string data = R"({"goim.comet":[)" +
                     instance(R"("addrs":["grpc://10.0.0.11:3109","http://10.0.0.11:3111"],)"
                              R"("metadata":{"weight":"20","color":"red"},"version":"v1")") +
                     "]}";
  for (const auto& doc : {envelope(data), data}) {
    auto d = ok(decode_registry_document(doc));
    ASSERT_EQ(d.instances.size(), 1u);
    const Instance& i = d.instances[0];
    EXPECT_EQ(i.appid, "goim.comet");
    EXPECT_EQ(i.weight, 20);
    EXPECT_EQ(i.metadata.at("color"), "red");
    ASSERT_EQ(i.endpoints.size(), 2u);
    EXPECT_EQ(i.endpoints[0], (Endpoint{"grpc", "10.0.0.11", 3109}));
    EXPECT_EQ(i.endpoints[1], (Endpoint{"http", "10.0.0.11", 3111}));
    // int64 nanoseconds beyond 2^53 stay exact.
    EXPECT_EQ(i.renew_ns, 1795552913236649322LL);
  }
}

TEST(Decode, FetchShapeZoneMapAndFlatArray) {
  std::string zone_map = envelope(R"({"instances":{"gd":[)" + instance(R"("addrs":[])") +
                                  R"(],"gd2":[]},"latest_timestamp":5,"scheduler":{"x":[1]}})");
  EXPECT_EQ(ok(decode_registry_document(zone_map)).instances.size(), 1u);
  std::string flat = envelope(R"({"instances":[)" + instance(R"("addrs":[])") + "]}");
  EXPECT_EQ(ok(decode_registry_document(flat)).instances.size(), 1u);
  std::string fetchs = envelope(R"({"goim.comet":{"instances":{"gd":[)" +
                                instance(R"("addrs":[])") + R"(]},"latest_timestamp":5}})");
  EXPECT_EQ(ok(decode_fetchs(fetchs)).instances.size(), 1u);
}

TEST(Decode, CommaJoinedAddrsAreSplitAndBadOnesSkipped) {
  auto d = ok(decode_registry_document(envelope(
      R"({"a":[)" +
      instance(R"("addrs":["grpc://10.0.0.1:1,http://10.0.0.1:2","bogus","grpc://[fd00::1]:9",)"
               R"("http://h:0","http://h:99999","x://a:1/path",7])") +
      "]}")));
  ASSERT_EQ(d.instances.size(), 1u);
  const auto& eps = d.instances[0].endpoints;
  ASSERT_EQ(eps.size(), 4u);
  EXPECT_EQ(eps[1], (Endpoint{"http", "10.0.0.1", 2}));
  EXPECT_EQ(eps[2], (Endpoint{"grpc", "fd00::1", 9}));
  EXPECT_EQ(eps[3], (Endpoint{"x", "a", 1}));
  EXPECT_EQ(d.skipped_addrs, 4u);
}

TEST(Decode, MetadataNullEmptyAndBadWeights) {
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
                                         {R"({"weight":"70000"})", 65535},
                                         {R"({"weight":"99999999999999999999999"})", 65535},
                                         {R"({"weight":7})", 10},
                                         {R"({"weight":"3"})", 3}}) {
    auto d = ok(decode_registry_document(
        envelope(R"({"a":[)" + instance(R"("addrs":[],"metadata":)" + c.metadata) + "]}")));
    ASSERT_EQ(d.instances.size(), 1u) << c.metadata;
    EXPECT_EQ(d.instances[0].weight, c.weight) << c.metadata;
  }
}

TEST(Decode, BrokenInstancesAreSkippedAndCounted) {
  std::string head = R"({"appid":"a","env":"dev","zone":"gd","hostname":"x",)";
  std::string bad = R"({"a":[)" + head + R"("status":3},)" +          // status other than 1, 2
                    R"({"appid":"a","env":"dev","hostname":"x"},)" +  // no status
                    R"({"appid":"a","env":5,"hostname":"x","status":1},)" + "7," + head +
                    R"("status":1,"renew_timestamp":1.5e18},)" +  // a double loses ns
                    head + R"("status":1,"renew_timestamp":"1"},)" + head + R"("status":2}]})";
  auto d = ok(decode_registry_document(envelope(bad)));
  ASSERT_EQ(d.instances.size(), 1u);
  EXPECT_EQ(d.instances[0].status, Status::kWaiting);
  EXPECT_EQ(d.skipped_instances, 6u);
}

TEST(Decode, DuplicatesKeepTheLastAndOutputIsSorted) {
  std::string doc = envelope(
      R"({"b":[{"appid":"b","env":"dev","zone":"gd","hostname":"z","status":1},)"
      R"({"appid":"b","env":"dev","zone":"gd","hostname":"a","status":1}],)"
      R"("a":[{"appid":"a","env":"dev","zone":"gd","hostname":"h","status":1,"version":"1"},)"
      R"({"appid":"a","env":"dev","zone":"gd","hostname":"h","status":1,"version":"2"}]})");
  auto d = ok(decode_registry_document(doc));
  ASSERT_EQ(d.instances.size(), 3u);
  EXPECT_EQ(d.instances[0].appid, "a");
  EXPECT_EQ(d.instances[0].version, "2");
  EXPECT_EQ(d.instances[1].hostname, "a");
  EXPECT_EQ(d.instances[2].hostname, "z");
}

TEST(Decode, ErrorsAreReportedNotCrashed) {
  EXPECT_FALSE(decode_registry_document(R"({"code":-500,"message":"-500","ttl":1})").ok());
  EXPECT_NE(decode_registry_document(R"({"code":-500,"message":"-500","ttl":1})")
                .error()
                .text.find("-500"),
            std::string::npos);
  EXPECT_FALSE(decode_registry_document("{\"code\":0,").ok());
  EXPECT_FALSE(decode_registry_document("").ok());
  EXPECT_FALSE(decode_registry_document("[1,2]").ok());
  EXPECT_FALSE(decode_registry_document(std::string(100000, '[')).ok());  // no stack overflow
  EXPECT_FALSE(decode_registry_document("{\"a\":\"\xff\xfe\"}").ok());
  EXPECT_FALSE(decode_fetch_all(R"({"data":{}})").ok());  // no code
}

TEST(Decode, PollsAnswers) {
  auto changed =
      decode_polls(R"({"code":0,"message":"0","data":{"goim.comet":{"instances":{"gd":[)" +
                   instance(R"("addrs":["grpc://1.2.3.4:5"])") +
                   R"(]},"latest_timestamp":1795552913114021967}},"error":{"-404":["no.such"]}})");
  ASSERT_TRUE(changed.ok()) << changed.error().text;
  EXPECT_EQ(changed->code, 0);
  EXPECT_EQ(changed->latest.at("goim.comet"), 1795552913114021967LL);
  EXPECT_EQ(changed->missing, std::vector<std::string>{"no.such"});
  EXPECT_EQ(changed->data.instances.size(), 1u);
  auto not_modified = decode_polls(R"({"code":-304,"message":"-304","ttl":1})");
  ASSERT_TRUE(not_modified.ok());
  EXPECT_EQ(not_modified->code, -304);
  auto protect = decode_polls(R"({"code":-500,"message":"-500","ttl":1})");
  ASSERT_TRUE(protect.ok());
  EXPECT_EQ(protect->code, -500);
  EXPECT_FALSE(
      decode_polls(R"({"code":0,"data":{"a":{"instances":{},"latest_timestamp":0}}})").ok());
  EXPECT_FALSE(decode_polls("garbage").ok());
}

TEST(Persist, RoundTripsThroughAnAtomicFile) {
  auto d = ok(decode_registry_document(envelope(
      R"({"goim.comet":[)" +
      instance(
          R"("addrs":["grpc://[fd00::1]:9","http://10.0.0.1:80"],"metadata":{"weight":"7"},"region":"china")") +
      "]}")));
  auto path =
      std::filesystem::temp_directory_path() / ("discodns-persist-" + std::to_string(::getpid()));
  ASSERT_TRUE(save_registry(path, d).ok());
  auto back = load_registry(path);
  ASSERT_TRUE(back.ok()) << back.error().text;
  EXPECT_EQ(back.value(), d);
  std::filesystem::remove(path);
  EXPECT_FALSE(load_registry(path).ok());
}

TEST(Decode, TheDemoFileDecodes) {
  auto r = load_registry(DISCODNS_SOURCE_DIR "/configs/demo-registry.json");
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->instances.size(), 11u);
  EXPECT_EQ(r->skipped_instances, 0u);
}

}  // namespace
}  // namespace discodns::registry
