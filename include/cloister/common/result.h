// Errors as values at library boundaries: every fallible library call returns Result<T>.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace cloister {

// A closed set of error kinds. Pick the one a caller would branch on; the message carries detail.
enum class Errc {
  invalid_argument,     // the caller's input is malformed (bad flag, bad hex, wrong size)
  not_found,            // a named file, key or object does not exist
  io,                   // the operating system refused (read, write, rename, ioctl)
  parse,                // untrusted bytes do not follow their format (corrupt tar, bad report)
  integrity,            // a digest or signature does not match: possible tampering
  unsupported,          // well-formed but outside what cloister implements
  limit_exceeded,       // a size, depth, step or time limit was hit
  permission_denied,    // a policy said no
  failed_precondition,  // the system is not in a state where this can run
  internal,             // a bug or an unexpected library failure
};

std::string_view errc_name(Errc code) noexcept;

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // Outermost context first, e.g. {"reading layer.tar", "entry etc/passwd"}.
  const std::vector<std::string>& context() const noexcept { return context_; }

  // Adds an outer layer of context ("while doing X") and returns *this for chaining.
  Error& wrap(std::string outer) & {
    context_.insert(context_.begin(), std::move(outer));
    return *this;
  }
  Error&& wrap(std::string outer) && { return std::move(wrap(std::move(outer))); }

  // "ctx1: ctx2: message"
  std::string to_string() const;

 private:
  Errc code_;
  std::string message_;
  std::vector<std::string> context_;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> make_error(Errc code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

inline tl::unexpected<Error> forward_error(Error error) { return tl::unexpected<Error>(std::move(error)); }

}  // namespace cloister

// Evaluates a Result/Status expression and returns its error from the enclosing function.
#define CLOISTER_RETURN_IF_ERROR(expr)                                  \
  do {                                                                  \
    auto cloister_status_ = (expr);                                     \
    if (!cloister_status_)                                              \
      return ::tl::unexpected(std::move(cloister_status_).error());     \
  } while (0)

// Unwraps a Result<T> expression or returns its error (a GNU statement expression: GCC and clang).
#define CLOISTER_TRY(expr)                                              \
  ({                                                                    \
    auto cloister_result_ = (expr);                                     \
    if (!cloister_result_)                                              \
      return ::tl::unexpected(std::move(cloister_result_).error());     \
    std::move(*cloister_result_);                                       \
  })
