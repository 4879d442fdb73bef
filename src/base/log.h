// User-facing diagnostics on stderr: info lines, warnings, and progress for long operations.
//
// Output adapts to where stderr goes: a live progress bar on a terminal, a start and an end line
// otherwise (CI logs), nothing but warnings and errors with --quiet. Thread-safe.
#pragma once

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace hardbase {

enum class Verbosity { kQuiet, kNormal, kVerbose };

void SetVerbosity(Verbosity v);
Verbosity GetVerbosity();
bool StderrIsTerminal();

void LogLine(Verbosity min_level, const std::string& line);

template <class... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(Verbosity::kNormal, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void LogDebug(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(Verbosity::kVerbose, fmt::format(f, std::forward<Args>(args)...));
}
// Warnings show even with --quiet.
template <class... Args>
void LogWarn(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(Verbosity::kQuiet, "warning: " + fmt::format(f, std::forward<Args>(args)...));
}

// Sends whatever is written to the stderr file descriptor while this object lives to /dev/null,
// for libraries that print diagnostics they cannot be told to keep (librnp). hardbase's own log
// lines wait meanwhile; keep the scope short.
class QuietStderr {
 public:
  QuietStderr();
  ~QuietStderr();
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
  int saved_fd_ = -1;
};

// Progress of one operation over a known total (bytes or items).
class Progress {
 public:
  enum class Unit { kItems, kBytes };
  Progress(std::string label, uint64_t total, Unit unit);
  ~Progress();  // prints the final line if Finish was not called
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Advance(uint64_t amount);
  // Grows the total when an operation discovers more work (e.g. an unknown Content-Length).
  void AddToTotal(uint64_t amount);
  void Finish();

 private:
  void Render(bool final_line);
  std::string FormatAmount(uint64_t v) const;

  std::mutex mu_;
  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  Unit unit_;
  bool finished_ = false;
  bool live_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_render_;
};

}  // namespace hardbase
