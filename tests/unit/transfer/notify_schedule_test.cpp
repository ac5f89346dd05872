// NotifySchedule on a manual clock: coalescing, one message in flight, back-off, giving up.
#include "transfer/notify_schedule.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <vector>

namespace discodns::transfer {
namespace {

constexpr common::Nanos kMs = 1'000'000;
constexpr std::uint8_t kNoError = 0;
constexpr std::uint8_t kRefused = 5;

NotifyOptions test_options() {
  NotifyOptions options;  // the defaults: 100 ms, 500 ms doubling to 30 s, 10 attempts
  options.max_retry = 4'000 * kMs;
  options.max_attempts = 4;
  return options;
}

// Ids 1, 2, 3, …: predictable, so a test can name a wrong one.
NotifySchedule make_schedule(std::size_t targets, NotifyOptions options = test_options()) {
  return NotifySchedule(targets, options, [next = std::uint16_t{0}]() mutable { return ++next; });
}

TEST(NotifySchedule, IdleWithoutASerial) {
  NotifySchedule schedule = make_schedule(2);
  EXPECT_FALSE(schedule.next_wakeup());
  EXPECT_TRUE(schedule.due(0).empty());
  EXPECT_EQ(schedule.counters(0), NotifyCounters{});
}

TEST(NotifySchedule, FiveSerialsWithinTheWindowAreOneSendWithTheNewest) {
  NotifySchedule schedule = make_schedule(1);
  for (std::uint32_t serial = 1; serial <= 5; ++serial)
    schedule.set_serial(serial, (serial - 1) * 20 * kMs);  // at 0, 20, …, 80 ms
  EXPECT_EQ(schedule.next_wakeup(), 100 * kMs);  // the window opened with the first change
  EXPECT_TRUE(schedule.due(99 * kMs).empty());
  const std::vector<NotifySchedule::Send> sends = schedule.due(100 * kMs);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].target, 0u);
  EXPECT_EQ(sends[0].serial, 5u);
  EXPECT_EQ(sends[0].attempt, 1u);
  schedule.on_response(0, sends[0].id, kNoError, 110 * kMs);
  EXPECT_FALSE(schedule.next_wakeup());
  EXPECT_TRUE(schedule.due(10'000 * kMs).empty());
  EXPECT_EQ(schedule.counters(0).sent, 1u);
  EXPECT_EQ(schedule.counters(0).acked, 1u);
  EXPECT_EQ(schedule.counters(0).last_acked_serial, 5u);
  EXPECT_FALSE(schedule.counters(0).pending);
}

TEST(NotifySchedule, ASerialArrivingInFlightGoesOutAfterTheAck) {
  NotifySchedule schedule = make_schedule(1);
  schedule.set_serial(1, 0);
  const auto first = schedule.due(100 * kMs);
  ASSERT_EQ(first.size(), 1u);
  schedule.set_serial(2, 300 * kMs);
  EXPECT_TRUE(schedule.due(450 * kMs).empty());  // one in flight at a time
  EXPECT_TRUE(schedule.counters(0).in_flight);
  schedule.on_response(0, first[0].id, kNoError, 460 * kMs);
  EXPECT_EQ(schedule.counters(0).last_acked_serial, 1u);
  EXPECT_EQ(schedule.next_wakeup(), 460 * kMs);  // at once: the last send is 360 ms ago
  const auto second = schedule.due(460 * kMs);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].serial, 2u);
  EXPECT_EQ(second[0].attempt, 1u);  // a new announcement starts its own back-off
  EXPECT_NE(second[0].id, first[0].id);
  schedule.on_response(0, second[0].id, kNoError, 470 * kMs);
  EXPECT_EQ(schedule.counters(0).last_acked_serial, 2u);
  EXPECT_FALSE(schedule.next_wakeup());
}

TEST(NotifySchedule, ANewerSerialAfterAQuickAckWaitsForTheWindowAfterTheLastSend) {
  NotifySchedule schedule = make_schedule(1);
  schedule.set_serial(1, 0);
  const auto first = schedule.due(100 * kMs);
  schedule.set_serial(2, 105 * kMs);
  schedule.on_response(0, first[0].id, kNoError, 110 * kMs);
  EXPECT_EQ(schedule.next_wakeup(), 200 * kMs);
  EXPECT_TRUE(schedule.due(199 * kMs).empty());
  ASSERT_EQ(schedule.due(200 * kMs).size(), 1u);
}

TEST(NotifySchedule, RetryIntervalsDoubleUpToTheMaximum) {
  NotifyOptions options = test_options();
  options.max_attempts = 10;
  NotifySchedule schedule = make_schedule(1, options);
  EXPECT_EQ(schedule.retry_interval(1), 500 * kMs);
  EXPECT_EQ(schedule.retry_interval(2), 1'000 * kMs);
  EXPECT_EQ(schedule.retry_interval(3), 2'000 * kMs);
  EXPECT_EQ(schedule.retry_interval(4), 4'000 * kMs);
  EXPECT_EQ(schedule.retry_interval(5), 4'000 * kMs);
  EXPECT_EQ(schedule.retry_interval(1'000'000), 4'000 * kMs);

  schedule.set_serial(7, 0);
  common::Nanos now = 100 * kMs;
  const common::Nanos gaps[] = {500, 1'000, 2'000, 4'000, 4'000, 4'000};
  for (unsigned attempt = 1; attempt <= std::size(gaps); ++attempt) {
    ASSERT_EQ(schedule.next_wakeup(), now);
    const auto sends = schedule.due(now);
    ASSERT_EQ(sends.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(sends[0].attempt, attempt);
    EXPECT_EQ(sends[0].serial, 7u);
    const common::Nanos next = now + gaps[attempt - 1] * kMs;
    EXPECT_EQ(schedule.next_wakeup(), next);  // the attempt's timeout is the next send
    EXPECT_TRUE(schedule.due(next - 1).empty());
    now = next;
  }
  EXPECT_EQ(schedule.counters(0).sent, 6u);
  EXPECT_EQ(schedule.counters(0).failed, 5u);  // the sixth is still in flight
}

TEST(NotifySchedule, GivesUpAfterMaxAttemptsUntilTheNextSerial) {
  NotifySchedule schedule = make_schedule(1);  // 4 attempts
  schedule.set_serial(3, 0);
  common::Nanos now = 100 * kMs;
  for (unsigned attempt = 1; attempt <= 4; ++attempt) {
    ASSERT_EQ(schedule.due(now).size(), 1u);
    now += schedule.retry_interval(attempt);
  }
  EXPECT_TRUE(schedule.due(now).empty());  // the fourth timed out: given up
  NotifyCounters counters = schedule.counters(0);
  EXPECT_EQ(counters.sent, 4u);
  EXPECT_EQ(counters.failed, 4u);
  EXPECT_EQ(counters.given_up, 1u);
  EXPECT_EQ(counters.acked, 0u);
  EXPECT_EQ(counters.last_acked_serial, 0u);
  EXPECT_FALSE(counters.in_flight);
  EXPECT_FALSE(counters.pending);
  EXPECT_FALSE(schedule.next_wakeup());

  schedule.set_serial(4, now);  // a new serial starts over
  const auto sends = schedule.due(now + 100 * kMs);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].attempt, 1u);
  EXPECT_EQ(sends[0].serial, 4u);
}

TEST(NotifySchedule, AnAckWithAnotherIdOrFromAnotherTargetIsIgnored) {
  NotifySchedule schedule = make_schedule(2);
  schedule.set_serial(9, 0);
  const auto sends = schedule.due(100 * kMs);
  ASSERT_EQ(sends.size(), 2u);
  const std::uint16_t id0 = sends[0].id;
  schedule.on_response(0, static_cast<std::uint16_t>(id0 + 100), kNoError, 110 * kMs);
  schedule.on_response(1, id0, kNoError, 110 * kMs);  // target 0's id, from target 1
  schedule.on_response(7, id0, kNoError, 110 * kMs);  // no such target
  EXPECT_TRUE(schedule.counters(0).in_flight);
  EXPECT_TRUE(schedule.counters(1).in_flight);
  EXPECT_EQ(schedule.counters(0).acked + schedule.counters(1).acked, 0u);
  EXPECT_EQ(schedule.counters(0).failed + schedule.counters(1).failed, 0u);
  schedule.on_response(0, id0, kNoError, 120 * kMs);
  EXPECT_EQ(schedule.counters(0).acked, 1u);
  EXPECT_EQ(schedule.counters(0).last_acked_serial, 9u);
  schedule.on_response(0, id0, kNoError, 130 * kMs);  // a duplicate answer counts once
  EXPECT_EQ(schedule.counters(0).acked, 1u);
  EXPECT_TRUE(schedule.counters(1).in_flight);
}

TEST(NotifySchedule, TheAnswerToAnEarlierAttemptIsIgnored) {
  NotifySchedule schedule = make_schedule(1);
  schedule.set_serial(1, 0);
  const auto first = schedule.due(100 * kMs);
  const auto second = schedule.due(600 * kMs);  // the first timed out
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].id, first[0].id);
  schedule.on_response(0, first[0].id, kNoError, 610 * kMs);
  EXPECT_EQ(schedule.counters(0).acked, 0u);
  schedule.on_response(0, second[0].id, kNoError, 620 * kMs);
  EXPECT_EQ(schedule.counters(0).acked, 1u);
  EXPECT_EQ(schedule.counters(0).failed, 1u);
}

TEST(NotifySchedule, AnErrorRcodeFailsTheAttemptAndRetriesWithBackOff) {
  NotifySchedule schedule = make_schedule(1);
  schedule.set_serial(5, 0);
  const auto first = schedule.due(100 * kMs);
  schedule.on_response(0, first[0].id, kRefused, 120 * kMs);
  EXPECT_EQ(schedule.counters(0).failed, 1u);
  EXPECT_EQ(schedule.counters(0).acked, 0u);
  EXPECT_FALSE(schedule.counters(0).in_flight);
  EXPECT_TRUE(schedule.counters(0).pending);
  // The retry goes out when a timeout would have sent it: back-off from the first send.
  EXPECT_EQ(schedule.next_wakeup(), 600 * kMs);
  EXPECT_TRUE(schedule.due(599 * kMs).empty());
  const auto second = schedule.due(600 * kMs);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2u);
  schedule.on_response(0, second[0].id, kRefused, 610 * kMs);
  EXPECT_EQ(schedule.next_wakeup(), 1'600 * kMs);  // doubled
  const auto third = schedule.due(1'600 * kMs);
  ASSERT_EQ(third.size(), 1u);
  schedule.on_response(0, third[0].id, kNoError, 1'610 * kMs);
  EXPECT_EQ(schedule.counters(0).failed, 2u);
  EXPECT_EQ(schedule.counters(0).acked, 1u);
  EXPECT_EQ(schedule.counters(0).last_acked_serial, 5u);
}

TEST(NotifySchedule, ErrorRcodesCountTowardsGivingUp) {
  NotifySchedule schedule = make_schedule(1);  // 4 attempts
  schedule.set_serial(5, 0);
  common::Nanos now = 100 * kMs;
  for (unsigned attempt = 1; attempt <= 4; ++attempt) {
    const auto sends = schedule.due(now);
    ASSERT_EQ(sends.size(), 1u);
    schedule.on_response(0, sends[0].id, kRefused, now + kMs);
    now += schedule.retry_interval(attempt);
  }
  EXPECT_EQ(schedule.counters(0).failed, 4u);
  EXPECT_EQ(schedule.counters(0).given_up, 1u);
  EXPECT_FALSE(schedule.next_wakeup());
}

TEST(NotifySchedule, ARetryCarriesTheNewestSerial) {
  NotifySchedule schedule = make_schedule(1);
  schedule.set_serial(1, 0);
  const auto first = schedule.due(100 * kMs);
  schedule.set_serial(2, 200 * kMs);
  const auto retry = schedule.due(600 * kMs);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].serial, 2u);
  EXPECT_EQ(retry[0].attempt, 2u);
  schedule.on_response(0, retry[0].id, kNoError, 610 * kMs);
  EXPECT_EQ(schedule.counters(0).last_acked_serial, 2u);
  EXPECT_FALSE(schedule.counters(0).pending);
  EXPECT_FALSE(schedule.next_wakeup());
}

TEST(NotifySchedule, TargetsAreIndependent) {
  NotifySchedule schedule = make_schedule(2);
  schedule.set_serial(1, 0);
  const auto sends = schedule.due(100 * kMs);
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_NE(sends[0].id, sends[1].id);
  schedule.on_response(1, sends[1].id, kNoError, 110 * kMs);
  EXPECT_EQ(schedule.next_wakeup(), 600 * kMs);  // target 0's timeout
  const auto retry = schedule.due(600 * kMs);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].target, 0u);
  EXPECT_EQ(schedule.counters(1).sent, 1u);
  EXPECT_EQ(schedule.counters(1).last_acked_serial, 1u);
}

}  // namespace
}  // namespace discodns::transfer
