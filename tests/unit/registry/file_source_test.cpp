#include "registry/file_source.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace discodns::registry {
namespace {

std::string doc(const std::string& host) {
  return R"({"code":0,"message":"0","ttl":1,"data":{"a":[{"appid":"a","env":"dev","zone":"gd",)"
         R"("hostname":")" +
         host + R"(","status":1,"addrs":["grpc://10.0.0.1:1"]}]}})";
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
}

TEST(FileSource, DeliversChangesAndKeepsLastGoodData) {
  auto path = std::filesystem::temp_directory_path() / ("discodns-fs-" + std::to_string(getpid()));
  std::vector<std::string> seen;
  FileSource source(path, std::chrono::milliseconds(50), [&](auto data) {
    seen.push_back(data->instances.empty() ? "" : data->instances[0].hostname);
  });
  EXPECT_FALSE(source.check_now().ok());  // missing file: an error, nothing delivered
  write(path, doc("one"));
  ASSERT_TRUE(source.check_now().ok());
  EXPECT_EQ(seen, std::vector<std::string>{"one"});
  EXPECT_FALSE(source.check_now().value());  // unchanged: not delivered again
  write(path, "{broken");
  EXPECT_FALSE(source.check_now().ok());
  EXPECT_EQ(seen.size(), 1u);  // the last good data stays
  write(path, doc("two"));     // same second, different size: still noticed
  ASSERT_TRUE(source.check_now().ok());
  EXPECT_EQ(seen.back(), "two");
  write(path, doc("six"));  // same size, rewritten: mtime (ns) or inode differs
  ASSERT_TRUE(source.check_now().ok());
  EXPECT_EQ(seen.back(), "six");
  std::filesystem::remove(path);
}

TEST(FileSource, BackgroundThreadPicksUpChanges) {
  auto path = std::filesystem::temp_directory_path() / ("discodns-fs2-" + std::to_string(getpid()));
  write(path, doc("one"));
  std::atomic<int> deliveries{0};
  FileSource source(path, std::chrono::milliseconds(20), [&](auto) { ++deliveries; });
  source.start();
  for (int i = 0; i < 200 && deliveries.load() == 0; ++i)
    usleep(10000);
  EXPECT_EQ(deliveries.load(), 1);
  source.stop();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace discodns::registry
