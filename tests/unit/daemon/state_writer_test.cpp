// StateWriter: the zone serial never goes backwards across restarts (issue 12, defect 9), and
// warm-start copies are written off the caller's thread.
#include "daemon/state_writer.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "registry/persist.hpp"

namespace discodns::daemon {
namespace {

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("discodns-state-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(StateWriter, SerialsContinueAboveEveryServedOneAfterARestart) {
  auto file = temp_dir() / "discodns.serial";
  std::uint32_t served = 0;
  {
    StateWriter first(file);
    EXPECT_EQ(first.reserved(), 0u);
    // A burst: far more serials than one reservation covers, faster than the clock.
    for (std::uint32_t s = 2'000'000'000; s < 2'000'000'000 + 3 * StateWriter::kSerialsAhead; ++s) {
      first.reserve(s);
      EXPECT_FALSE(serial_greater(s, first.reserved())) << s;  // durable before it is served
      served = s;
    }
    first.stop();
  }
  StateWriter second(file);
  EXPECT_TRUE(serial_greater(second.reserved(), served));
}

TEST(StateWriter, WrapsInSequenceSpace) {
  auto file = temp_dir() / "discodns.serial";
  StateWriter writer(file);
  writer.reserve(0xffffff00u);
  writer.reserve(0x00000010u);  // past the wrap: greater in RFC 1982 terms
  EXPECT_FALSE(serial_greater(0x00000010u, writer.reserved()));
  EXPECT_TRUE(serial_greater(0x00000010u, 0xffffff00u));
}

TEST(StateWriter, NoFileNoSerial) {
  StateWriter writer({});
  writer.reserve(5);
  EXPECT_EQ(writer.reserved(), 0u);
}

TEST(StateWriter, SavesTheNewestCopyOfEachFile) {
  auto file = temp_dir() / "china.json";
  StateWriter writer({});
  registry::InstanceList list;
  registry::Instance one;
  one.appid = "a";
  one.env = "dev";
  one.zone = "gd";
  one.hostname = "h1";
  list.instances.push_back(one);
  writer.save(file, std::make_shared<const registry::RegistryData>());
  writer.save(file,
              std::make_shared<const registry::RegistryData>(registry::RegistryData::from(list)));
  writer.stop();
  auto loaded = registry::load_registry(file);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value().instances(), 1u);
}

}  // namespace
}  // namespace discodns::daemon
