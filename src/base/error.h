// Error values and Result<T>: how every module reports failure.
//
// A failure carries a category (which decides the process exit code) and a one-line message with
// its context, innermost cause last: "lock examples/java17/image.yaml: resolve amd64: unknown
// package 'foo'". Layers add context with Error::Wrap; no exception crosses a module boundary.
// A failure with several independent causes (every mistake in a spec) also lists them, one line
// each, in `details`; its message then sums them up ("image.yaml: 3 errors").
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace hardbase {

// What kind of failure this is. Each has a distinct process exit code (see ExitCode), documented
// in `hardbase --help`; keep both in step when adding one.
enum class ErrorCode {
  kInternal,         // a bug or an unexpected condition
  kUsage,            // bad command line
  kSpec,             // a spec, lock or other user document is malformed or inconsistent
  kIo,               // reading or writing a local file failed
  kNetwork,          // a server could not be reached or kept failing
  kNotFound,         // a server or file does not have what was asked for
  kIntegrity,        // a signature, hash or size did not match: possible tampering
  kResolve,          // dependencies cannot be satisfied
  kStale,            // a lock no longer matches its spec or the repositories
  kVerification,     // no valid signature or attestation covers what was to be verified
  kAuth,             // a password or credential was refused (wrong key password, registry login)
  kVulnerable,       // a scan found what its --fail-on / --fail-on-fixable gate forbids
  kUntranslatable,   // `migrate` met what it cannot carry onto a hardened image (with the line)
  kNotReproducible,  // `reproduce` rebuilt an image from its provenance and got other bytes
};

// Process exit code for a category: 0 is success, 1 is kept for "internal".
int ExitCode(ErrorCode code);
// Short name of a category, as printed in JSON output ("integrity", "resolve", ...).
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Further lines, each a complete message of its own, shown one per line below `message`.
  std::vector<std::string> details;

  Error() = default;
  Error(ErrorCode code, std::string message, std::vector<std::string> details = {})
      : code(code), message(std::move(message)), details(std::move(details)) {}

  // The same error with `context` in front of its message: "context: message" (details unchanged).
  Error Wrap(std::string_view context) const &;
  Error Wrap(std::string_view context) &&;
};

template <class T>
using Result = tl::expected<T, Error>;

// Failure value convertible to any Result<T>: `return Fail(ErrorCode::kIo, "open x: ...");`
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// Adds context to the error of a failed Result and returns it unchanged otherwise.
template <class T>
Result<T> WithContext(Result<T> result, std::string_view context) {
  if (!result) return Fail(std::move(result.error()).Wrap(context));
  return result;
}

}  // namespace hardbase

// Evaluates a Result-returning expression; on failure returns its error from the enclosing
// function.
#define HB_TRY_VOID(expr)                                                            \
  do {                                                                               \
    auto hb_try_result_ = (expr);                                                    \
    if (!hb_try_result_) return ::hardbase::Fail(std::move(hb_try_result_.error())); \
  } while (0)

// Declares `var` from a Result-returning expression, or returns its error.
#define HB_TRY_CONCAT_INNER(a, b) a##b
#define HB_TRY_CONCAT(a, b) HB_TRY_CONCAT_INNER(a, b)
#define HB_TRY(var, expr)                                                         \
  auto HB_TRY_CONCAT(hb_try_, __LINE__) = (expr);                                 \
  if (!HB_TRY_CONCAT(hb_try_, __LINE__))                                          \
    return ::hardbase::Fail(std::move(HB_TRY_CONCAT(hb_try_, __LINE__).error())); \
  var = std::move(*HB_TRY_CONCAT(hb_try_, __LINE__))
