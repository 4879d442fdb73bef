#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "base/printable.h"

namespace hardbase {
namespace {

std::atomic<Verbosity> g_verbosity{Verbosity::kNormal};
std::mutex g_stderr_mu;

}  // namespace

void SetVerbosity(Verbosity v) { g_verbosity = v; }
Verbosity GetVerbosity() { return g_verbosity; }
bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

// A log line is one line: values from others that it carries (package names, registry messages,
// paths from archives) cannot start another one or send escape sequences.
void LogLine(Verbosity min_level, const std::string& line) {
  if (static_cast<int>(g_verbosity.load()) < static_cast<int>(min_level)) return;
  std::string printable = Printable(line);
  std::lock_guard<std::mutex> lock(g_stderr_mu);
  std::fprintf(stderr, "%s\n", printable.c_str());
}

QuietStderr::QuietStderr() : lock_(g_stderr_mu) {
  std::fflush(stderr);
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) return;
  saved_fd_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved_fd_ >= 0) ::dup2(null_fd, STDERR_FILENO);
  ::close(null_fd);
}

QuietStderr::~QuietStderr() {
  if (saved_fd_ < 0) return;
  std::fflush(stderr);
  ::dup2(saved_fd_, STDERR_FILENO);
  ::close(saved_fd_);
}

Progress::Progress(std::string label, uint64_t total, Unit unit)
    : label_(Printable(label)),
      total_(total),
      unit_(unit),
      live_(StderrIsTerminal() && GetVerbosity() != Verbosity::kQuiet),
      start_(std::chrono::steady_clock::now()),
      last_render_(start_) {
  if (!live_) LogInfo("{} ({})", label_, FormatAmount(total_));
}

Progress::~Progress() { Finish(); }

void Progress::Advance(uint64_t amount) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += amount;
  if (!live_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_render_ < std::chrono::milliseconds(100)) return;
  last_render_ = now;
  Render(false);
}

void Progress::AddToTotal(uint64_t amount) {
  std::lock_guard<std::mutex> lock(mu_);
  total_ += amount;
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  Render(true);
}

std::string Progress::FormatAmount(uint64_t v) const {
  if (unit_ == Unit::kItems) return fmt::format("{}", v);
  if (v >= 1024 * 1024)
    return fmt::format("{:.1f} MiB", static_cast<double>(v) / (1024.0 * 1024.0));
  if (v >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(v) / 1024.0);
  return fmt::format("{} B", v);
}

void Progress::Render(bool final_line) {
  if (GetVerbosity() == Verbosity::kQuiet) return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::lock_guard<std::mutex> lock(g_stderr_mu);
  if (!live_) {
    if (final_line) {
      std::fprintf(stderr, "%s: done, %s in %.2f s\n", label_.c_str(), FormatAmount(done_).c_str(),
                   secs);
    }
    return;
  }
  constexpr int kWidth = 30;
  double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  if (frac > 1) frac = 1;
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K%s [%s] %s / %s", label_.c_str(), bar.c_str(),
               FormatAmount(done_).c_str(), FormatAmount(total_).c_str());
  if (final_line) std::fprintf(stderr, " in %.2f s\n", secs);
  std::fflush(stderr);
}

}  // namespace hardbase
