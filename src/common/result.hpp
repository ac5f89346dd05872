// Result<T>: a value or an Error with a human-readable reason. Used for expected failures
// (bad registry answers, bad files); exceptions are kept for start-up errors only.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace discodns::common {

struct Error {
  std::string text;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace discodns::common
