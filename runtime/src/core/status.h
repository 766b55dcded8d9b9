// Errors as values: a Status code plus a message, and Result<T> carrying either a value or one.
//
// Library code never aborts or exits on bad input; it returns an Error. Codes mirror the public
// edgeformer_status enum one for one (checked by static_assert in c_api.cc).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace edgeformer {

enum class Status : int {
  kOk = 0,
  kInvalidArgument = 1,  // the caller passed a bad value
  kIoError = 2,          // a file could not be opened, read or mapped
  kInvalidModel = 3,     // a model or checkpoint file is malformed, truncated or inconsistent
  kUnsupported = 4,      // well-formed, but uses a feature this build does not implement
  kOutOfMemory = 5,      // an allocation failed
  kContextFull = 6,      // the KV cache has no room for the tokens asked for
  kCancelled = 7,        // stopped on request
  kInternal = 8,         // a bug in edgeformer
  kBusy = 9,             // the object is in use by a call that has not returned
};

const char* StatusName(Status status);

class [[nodiscard]] Error {
 public:
  Error() = default;
  Error(Status status, std::string message) : status_(status), message_(std::move(message)) {}

  static Error Ok() { return Error(); }
  bool ok() const { return status_ == Status::kOk; }
  Status status() const { return status_; }
  const std::string& message() const { return message_; }

 private:
  Status status_ = Status::kOk;
  std::string message_;
};

// Reports a value() or take() of a Result that holds an error (a bug in the caller, never a
// consequence of input) on stderr and aborts: continuing would read an absent value.
[[noreturn]] void ResultHasNoValue(const Error& error);

// Holds a T, or the Error that prevented making one. Construct from either. A Result made from
// an Ok Error (a bug: there is no value) holds a kInternal error that says so, never an ok()
// Result without a value. value() and take() require ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error)  // NOLINT(google-explicit-constructor)
      : error_(error.ok() ? Error(Status::kInternal, "internal error: a result without a value was made from an "
                                                     "ok status")
                          : std::move(error)) {}

  bool ok() const { return value_.has_value(); }
  const Error& error() const { return error_; }
  T& value() & {
    if (!ok()) ResultHasNoValue(error_);
    return *value_;
  }
  const T& value() const& {
    if (!ok()) ResultHasNoValue(error_);
    return *value_;
  }
  T take() {
    if (!ok()) ResultHasNoValue(error_);
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
  Error error_;
};

}  // namespace edgeformer

// Returns the Error from the enclosing function when `expr` (an Error) is not ok.
#define EF_RETURN_IF_ERROR(expr)           \
  do {                                     \
    ::edgeformer::Error ef_err_ = (expr);  \
    if (!ef_err_.ok()) return ef_err_;     \
  } while (0)
