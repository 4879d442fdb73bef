#include "vuln/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/archive.h"
#include "base/fs.h"
#include "base/fs_safe.h"
#include "base/time.h"
#include "vuln/osv.h"
#include "vuln/tracker.h"

namespace hardbase::vuln {
namespace {

// Parses OSV records on every core while the caller reads them one after another. The records
// come out in the order they went in, so the database does not depend on thread timing.
//
// Not base's ParallelFor, by design: that is fork-join, so parsing bounded batches with it keeps
// the order and the memory bound but stops inflating the zip while a batch is parsed and parsing
// while the next is inflated. Inflating Debian's whole OSV export takes ~1.7 s of CPU: hidden
// behind the parsing here, it would add to every import there (the more cores, the more of it).
// (An allowed exception in scripts/check-one-home.sh.)
class ParallelParser {
 public:
  ParallelParser() {
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~ParallelParser() { Stop(); }
  ParallelParser(const ParallelParser&) = delete;
  ParallelParser& operator=(const ParallelParser&) = delete;

  // Queues one record; waits while too many records or bytes are queued, to bound memory.
  void Add(std::string name, std::string text) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] {
      return queue_.empty() || (queue_.size() < kMaxQueued && queued_bytes_ < kMaxQueuedBytes);
    });
    queued_bytes_ += text.size();
    queue_.push_back({results_.size(), std::move(name), std::move(text)});
    results_.emplace_back();
    ready_.notify_one();
  }

  // Whether a record has failed already: reading more cannot make the import succeed.
  bool Failed() {
    std::lock_guard lock(mutex_);
    return failed_;
  }

  // The records in input order, or the error of the first (in that order) that failed.
  Result<std::vector<OsvRecord>> Finish() {
    Stop();
    std::vector<OsvRecord> records;
    records.reserve(results_.size());
    for (auto& result : results_) {
      if (!*result) return Fail(std::move(result->error()));
      records.push_back(std::move(**result));
    }
    return records;
  }

 private:
  static constexpr size_t kMaxQueued = 512;
  static constexpr size_t kMaxQueuedBytes = size_t{64} << 20;
  struct Item {
    size_t index;
    std::string name;
    std::string text;
  };

  void Work() {
    std::unique_lock lock(mutex_);
    while (true) {
      ready_.wait(lock, [this] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      Item item = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= item.text.size();
      room_.notify_one();
      lock.unlock();
      Result<OsvRecord> record = ParseOsvRecord(item.text, item.name);
      lock.lock();
      if (!record) failed_ = true;
      results_[item.index] = std::move(record);
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    ready_.notify_all();
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;  // queue_ has items, or done_
  std::condition_variable room_;   // queue_ has room
  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;  // text of the records in queue_
  bool failed_ = false;
  bool done_ = false;
  std::vector<std::optional<Result<OsvRecord>>> results_;
  std::vector<std::thread> workers_;
};

// Counts decompressed bytes against ImportLimits; the errors name the entry that crossed a bound.
class SizeBudget {
 public:
  explicit SizeBudget(const ImportLimits& limits) : limits_(limits) {}

  // Whether `record` may grow by `n` bytes to `record_size + n`.
  Result<void> Take(const std::string& where, uint64_t record_size, uint64_t n) {
    if (record_size + n > limits_.max_record_bytes) {
      return Fail(ErrorCode::kSpec, where + ": larger than " + Mib(limits_.max_record_bytes) +
                                        " once decompressed (no OSV record is)");
    }
    if (total_ + n > limits_.max_total_bytes) {
      return Fail(ErrorCode::kSpec, where + ": the records decompress to more than " +
                                        Mib(limits_.max_total_bytes) + " in all");
    }
    total_ += n;
    return {};
  }

 private:
  static std::string Mib(uint64_t bytes) {
    return bytes % (uint64_t{1} << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                            : std::to_string(bytes) + " bytes";
  }
  const ImportLimits& limits_;
  uint64_t total_ = 0;
};

// Every *.json member of the zip at `path`, in archive order.
Result<void> ReadZip(const std::string& path, ParallelParser& parser, SizeBudget& budget) {
  ArchiveReader zip(archive_read_new());
  // The seekable reader starts from the central directory at the end, so a truncated file fails
  // at once instead of yielding the members before the cut.
  archive_read_support_format_zip_seekable(zip.get());
  auto corrupt = [&] {
    return Fail(ErrorCode::kSpec, path + ": corrupt or truncated zip: " +
                                      ArchiveWhy(zip.get(), "unreadable archive"));
  };
  if (archive_read_open_filename(zip.get(), path.c_str(), size_t{1} << 20) != ARCHIVE_OK) {
    return corrupt();
  }
  std::vector<char> buffer(size_t{1} << 16);
  while (true) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(zip.get(), &entry);
    if (status == ARCHIVE_EOF) return {};
    if (status < ARCHIVE_WARN) return corrupt();
    const char* member = archive_entry_pathname(entry);
    std::string name = member ? member : "";
    if (archive_entry_filetype(entry) != AE_IFREG || !name.ends_with(".json")) continue;
    if (parser.Failed()) return {};  // Finish reports the record that failed
    const std::string where = path + ": entry " + name;
    std::string text;
    // The size the zip declares is checked before anything is inflated, the bytes as they come.
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      HB_TRY_VOID(budget.Take(where, 0, static_cast<uint64_t>(archive_entry_size(entry))));
      text.reserve(static_cast<size_t>(archive_entry_size(entry)));
    }
    const bool declared = archive_entry_size_is_set(entry);
    while (true) {
      la_ssize_t n = archive_read_data(zip.get(), buffer.data(), buffer.size());
      if (n < 0) return corrupt();
      if (n == 0) break;
      if (!declared ||
          text.size() + static_cast<size_t>(n) > static_cast<uint64_t>(archive_entry_size(entry))) {
        HB_TRY_VOID(budget.Take(where, text.size(), static_cast<uint64_t>(n)));
      }
      text.append(buffer.data(), static_cast<size_t>(n));
    }
    parser.Add(path + ": " + name, std::move(text));
  }
}

// Every *.json file directly in `path`, by name.
Result<void> ReadDirectory(const std::string& path, ParallelParser& parser, SizeBudget& budget,
                           const ImportLimits& limits) {
  std::vector<std::string> files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(path, error), end; !error && it != end;
       it.increment(error)) {
    if (it->path().extension() == ".json" && it->is_regular_file(error)) {
      files.push_back(it->path().string());
    }
  }
  if (error) return Fail(ErrorCode::kIo, "list " + path + ": " + error.message());
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    HB_TRY(std::string text, ReadRegularFile(file, limits.max_record_bytes));
    HB_TRY_VOID(budget.Take(file, 0, text.size()));
    parser.Add(file, std::move(text));
  }
  return {};
}

Result<Database> ImportTracker(const std::string& path, Metadata metadata,
                               const ImportLimits& limits) {
  HB_TRY(std::string text, ReadRegularFile(path, limits.max_input_bytes));
  HB_TRY(TrackerData data, ParseTrackerJson(text, path));
  HB_TRY(int64_t mtime, FileMtime(path));
  metadata.data_date = Rfc3339(static_cast<int64_t>(mtime));
  metadata.records = data.records;
  metadata.skipped = data.skipped;
  metadata.skipped_examples = std::move(data.skipped_examples);
  return Database::Make(std::move(metadata), std::move(data.entries),
                        std::move(data.vulnerabilities));
}

}  // namespace

Result<InputKind> DetectInput(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return InputKind::kOsvDirectory;
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return Fail(ErrorCode::kIo, "open " + path + ": " + std::strerror(errno));
  char head[4096];
  size_t size = std::fread(head, 1, sizeof head, file.get());
  std::string_view start(head, size);
  if (start.starts_with(std::string_view("PK\x03\x04", 4))) return InputKind::kOsvZip;
  size_t first = start.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && start[first] == '{') return InputKind::kTrackerJson;
  return Fail(ErrorCode::kSpec, path +
                                    ": neither an OSV zip, a directory of OSV records nor Debian "
                                    "security tracker JSON");
}

Result<Database> ImportPath(const std::string& path, const std::string& source,
                            const ImportLimits& limits) {
  HB_TRY(InputKind kind, DetectInput(path));
  Metadata metadata;
  metadata.format_version = kDatabaseFormatVersion;
  metadata.source = source;
  metadata.imported_at = Rfc3339(std::time(nullptr));
  if (kind == InputKind::kTrackerJson) return ImportTracker(path, std::move(metadata), limits);

  ParallelParser parser;
  SizeBudget budget(limits);
  Result<void> read = kind == InputKind::kOsvZip ? ReadZip(path, parser, budget)
                                                 : ReadDirectory(path, parser, budget, limits);
  Result<std::vector<OsvRecord>> records = parser.Finish();
  if (!read) return Fail(std::move(read.error()));
  if (!records) return Fail(std::move(records.error()));
  // Rather no database than an empty one that would report every image clean.
  if (records->empty()) return Fail(ErrorCode::kSpec, path + ": no OSV records (*.json) in it");
  Database db = BuildFromOsv(std::move(*records), std::move(metadata));
  if (db.entries().empty()) {
    return Fail(ErrorCode::kSpec, path + ": no Debian entries in its records (wrong export?)");
  }
  return db;
}

}  // namespace hardbase::vuln
