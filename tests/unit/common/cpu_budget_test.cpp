// cpu_budget: workers = 0 follows the cgroup CPU quota, not the host's core count (issue 13).
#include "common/cpu_budget.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

namespace discodns::common {
namespace {

std::filesystem::path temp_root() {
  auto dir = std::filesystem::temp_directory_path() /
             ("discodns-cgroup-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

TEST(CpuBudget, ParsesV2AndV1Quotas) {
  EXPECT_EQ(cpu_max_quota("max 100000\n"), std::nullopt);
  EXPECT_DOUBLE_EQ(cpu_max_quota("150000 100000\n").value(), 1.5);
  EXPECT_DOUBLE_EQ(cpu_max_quota("200000 100000").value(), 2.0);
  EXPECT_EQ(cpu_max_quota("garbage"), std::nullopt);
  EXPECT_EQ(cpu_max_quota(""), std::nullopt);
  EXPECT_EQ(cfs_quota(-1, 100000), std::nullopt);
  EXPECT_DOUBLE_EQ(cfs_quota(400000, 100000).value(), 4.0);
}

TEST(CpuBudget, TheTightestQuotaOnTheWayToTheRootWins) {
  auto root = temp_root();
  write(root / "cpu.max", "max 100000\n");
  write(root / "kubepods/cpu.max", "300000 100000\n");
  write(root / "kubepods/pod1/cpu.max", "max 100000\n");
  write(root / "kubepods/pod1/discodns/cpu.max", "max 100000\n");
  EXPECT_DOUBLE_EQ(cgroup_cpu_quota(root, "/kubepods/pod1/discodns").value(), 3.0);
  write(root / "kubepods/pod1/discodns/cpu.max", "150000 100000\n");
  EXPECT_DOUBLE_EQ(cgroup_cpu_quota(root, "/kubepods/pod1/discodns").value(), 1.5);
  EXPECT_EQ(cgroup_cpu_quota(root, "/elsewhere"), std::nullopt);
}

TEST(CpuBudget, ReadsCgroupV1) {
  auto root = temp_root();
  write(root / "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "200000\n");
  write(root / "cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  write(root / "cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  write(root / "cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_DOUBLE_EQ(cgroup_cpu_quota(root, "/docker/abc").value(), 2.0);
  EXPECT_EQ(cgroup_cpu_quota(root, "/"), std::nullopt);
}

TEST(CpuBudget, UsableCpusNeverExceedTheAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  unsigned all = usable_cpus();
  EXPECT_GE(all, 1u);
  EXPECT_LE(all, static_cast<unsigned>(CPU_COUNT(&set)));
  // Pinned to one CPU (a thread of its own, so the test process keeps its mask).
  std::thread([] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
    EXPECT_EQ(usable_cpus(), 1u);
  }).join();
}

}  // namespace
}  // namespace discodns::common
