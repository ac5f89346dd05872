#include "registry/file_source.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <vector>

#include "common/guarded_loop.hpp"
#include "registry/decode.hpp"

namespace discodns::registry {
namespace {

// A fetch/all document whose only instance is called `host` (same length -> same file size).
std::string doc(const std::string& host) {
  return R"({"code":0,"message":"0","ttl":1,"data":{"a":[{"appid":"a","env":"dev","zone":"gd",)"
         R"("hostname":")" +
         host + R"(","status":1,"addrs":["grpc://10.0.0.1:1"]}]}})";
}

// Rewrites in place (same inode), as an editor or `cat >` would.
void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
}

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("discodns-fs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "registry.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  FileSource::Sink sink() {
    return [this](std::shared_ptr<const RegistryData> data) {
      std::lock_guard lock(mutex_);
      auto list = data->flatten();
      seen_.push_back(list.instances.empty() ? "" : list.instances[0].hostname);
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  std::filesystem::path dir_, path_;
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

TEST_F(FileSourceTest, DeliversChangesAndKeepsTheLastGoodData) {
  FileSource source(path_, std::chrono::milliseconds(50), sink());
  auto missing = source.check_now();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().text.find("No such file"), std::string::npos) << missing.error().text;
  EXPECT_TRUE(seen().empty());

  write(path_, doc("one"));
  auto first = source.check_now();
  ASSERT_TRUE(first.ok()) << first.error().text;
  EXPECT_TRUE(first.value());
  EXPECT_EQ(seen(), std::vector<std::string>{"one"});
  auto again = source.check_now();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value());  // unchanged: not delivered again
  EXPECT_EQ(seen().size(), 1u);

  write(path_, "{broken");
  auto broken = source.check_now();
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().text.find("invalid JSON"), std::string::npos) << broken.error().text;
  EXPECT_FALSE(source.check_now().ok());  // still broken, still reported; nothing delivered
  EXPECT_EQ(seen().size(), 1u);

  write(path_, doc("two"));
  auto fixed = source.check_now();
  ASSERT_TRUE(fixed.ok()) << fixed.error().text;
  EXPECT_TRUE(fixed.value());
  EXPECT_EQ(seen(), (std::vector<std::string>{"one", "two"}));
}

TEST_F(FileSourceTest, FixedBackToTheSameContentIsDeliveredAgain) {
  FileSource source(path_, std::chrono::milliseconds(50), sink());
  write(path_, doc("one"));
  ASSERT_TRUE(source.check_now().value());
  write(path_, "not json");
  ASSERT_FALSE(source.check_now().ok());
  write(path_, doc("one"));
  auto fixed = source.check_now();
  ASSERT_TRUE(fixed.ok()) << fixed.error().text;
  EXPECT_TRUE(fixed.value());
  EXPECT_EQ(seen(), (std::vector<std::string>{"one", "one"}));
}

TEST_F(FileSourceTest, SameSizeRewritesInTheSameInstantAreNoticed) {
  FileSource source(path_, std::chrono::milliseconds(50), sink());
  // Faster than any mtime tick: same inode, same size, possibly the same mtime.
  std::vector<std::string> expected;
  for (const std::string host : {"aaa", "bbb", "ccc", "ddd", "eee"}) {
    write(path_, doc(host));
    auto r = source.check_now();
    ASSERT_TRUE(r.ok()) << r.error().text;
    EXPECT_TRUE(r.value()) << host;
    expected.push_back(host);
  }
  EXPECT_EQ(seen(), expected);
  // Re-reading an unchanged, still-recent file finds the same bytes: nothing new.
  auto same = source.check_now();
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same.value());
  EXPECT_EQ(seen(), expected);
}

TEST_F(FileSourceTest, AtomicReplaceByRenameIsNoticed) {
  FileSource source(path_, std::chrono::milliseconds(50), sink());
  write(path_, doc("one"));
  ASSERT_TRUE(source.check_now().value());
  auto tmp = dir_ / "registry.json.tmp";
  write(tmp, doc("two"));
  std::filesystem::rename(tmp, path_);
  ASSERT_TRUE(source.check_now().value());
  EXPECT_EQ(seen(), (std::vector<std::string>{"one", "two"}));
}

TEST_F(FileSourceTest, RemovedFileKeepsDataUntilItComesBack) {
  FileSource source(path_, std::chrono::milliseconds(50), sink());
  write(path_, doc("one"));
  ASSERT_TRUE(source.check_now().value());
  std::filesystem::remove(path_);
  EXPECT_FALSE(source.check_now().ok());
  EXPECT_FALSE(source.check_now().ok());
  write(path_, doc("two"));
  ASSERT_TRUE(source.check_now().value());
  EXPECT_EQ(seen(), (std::vector<std::string>{"one", "two"}));
}

TEST_F(FileSourceTest, OtherShapesAndBadFiles) {
  FileSource source(path_, std::chrono::milliseconds(50), sink());
  write(path_, R"({"code":0,"message":"0","ttl":1,"data":{"instances":[{"appid":"a","env":"dev",)"
               R"("zone":"gd","hostname":"flat","status":1}],"latest_timestamp":1}})");
  ASSERT_TRUE(source.check_now().value());
  write(path_, R"({"code":-500,"message":"-500","ttl":1})");
  auto refused = source.check_now();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().text.find("-500"), std::string::npos) << refused.error().text;
  write(path_, "");
  EXPECT_FALSE(source.check_now().ok());
  EXPECT_EQ(seen(), std::vector<std::string>{"flat"});

  FileSource directory(dir_, std::chrono::milliseconds(50), sink());
  EXPECT_FALSE(directory.check_now().ok());

  // Refused from its size alone (a sparse file: nothing is read or allocated).
  auto big = dir_ / "big.json";
  write(big, "{}");
  std::filesystem::resize_file(big, kMaxDocumentSize + 1);
  FileSource huge(big, std::chrono::milliseconds(50), sink());
  auto too_big = huge.check_now();
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().text.find("larger than"), std::string::npos) << too_big.error().text;
  EXPECT_EQ(seen().size(), 1u);
}

TEST_F(FileSourceTest, BackgroundThreadPicksUpChangesAndStopsPromptly) {
  write(path_, doc("one"));
  FileSource source(path_, std::chrono::milliseconds(20), sink());
  source.start();
  source.start();  // a second start is harmless
  auto wait_for = [this](std::size_t n) {
    for (int i = 0; i < 500 && seen().size() < n; ++i)
      ::usleep(10000);
    return seen().size();
  };
  EXPECT_EQ(wait_for(1), 1u);
  write(path_, doc("two"));
  EXPECT_EQ(wait_for(2), 2u);
  EXPECT_EQ(seen(), (std::vector<std::string>{"one", "two"}));
  source.stop();
  source.stop();

  // A long interval must not delay stop(): the wait is on a condition variable.
  FileSource slow(path_, std::chrono::hours(1), [](auto) {});
  slow.start();
  auto t0 = std::chrono::steady_clock::now();
  slow.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(FileSourceTest, DestructorStopsTheThread) {
  write(path_, doc("one"));
  std::atomic<int> deliveries{0};
  {
    FileSource source(path_, std::chrono::milliseconds(10), [&](auto) { ++deliveries; });
    source.start();
    for (int i = 0; i < 500 && deliveries.load() == 0; ++i)
      ::usleep(10000);
  }
  EXPECT_EQ(deliveries.load(), 1);
}

}  // namespace
}  // namespace discodns::registry

namespace discodns::registry {
namespace {

// Issue 13: an exception on the background thread (here the sink's) is caught, counted and
// survived, and the data it cost is read and delivered again.
TEST_F(FileSourceTest, ASinkThatThrowsDoesNotEndTheThreadAndTheDataComesAgain) {
  write(path_, doc("one"));
  std::atomic<int> calls{0};
  auto inner = sink();
  auto errors_before = common::background_errors(common::BackgroundThread::kFile);
  FileSource source(path_, std::chrono::milliseconds(20),
                    [&](std::shared_ptr<const RegistryData> d) {
                      if (calls.fetch_add(1) == 0)
                        throw std::runtime_error("test: the sink failed");
                      inner(std::move(d));
                    });
  source.start();
  for (int i = 0; i < 500 && seen().empty(); ++i)
    ::usleep(10000);
  EXPECT_EQ(seen(), (std::vector<std::string>{"one"}));
  EXPECT_EQ(common::background_errors(common::BackgroundThread::kFile), errors_before + 1);
  write(path_, doc("two"));
  for (int i = 0; i < 500 && seen().size() < 2; ++i)
    ::usleep(10000);
  EXPECT_EQ(seen(), (std::vector<std::string>{"one", "two"}));
  EXPECT_GT(source.heartbeat().count(), 2u);
}

}  // namespace
}  // namespace discodns::registry
