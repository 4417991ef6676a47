#include "incidents/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <limits>
#include <system_error>

#include "config/error.hpp"
#include "config/redact.hpp"
#include "incidents/files_dir.hpp"
#include "incidents/record_json.hpp"
#include "log/log.hpp"

namespace pgv::incidents {
namespace fs = std::filesystem;
namespace {

using detail::error_text;
using detail::join;
using detail::json_files;
using detail::JsonFile;
using detail::kSuffix;
using detail::usable_id;
using logging::LogLevel;

// How often a record that stays open is rewritten: enough to survive a crash with its last
// minutes, rare enough that a long incident does not wear the disk.
constexpr double kOpenEvery = 5.0;
constexpr std::string_view kTmpSuffix = ".json.tmp";

double steady_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void prepare_dir(const std::string& dir) {
  const std::string shown = "incidents.dir: '" + config::redact(dir) + "': ";
  if (dir.empty()) throw config::ConfigError("incidents.dir: empty; a directory path is needed");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw config::ConfigError(shown + "not a directory");
  }
  fs::create_directories(dir, ec);
  if (ec) throw config::ConfigError(shown + "not writable: " + ec.message());
  if (!fs::is_directory(dir, ec)) throw config::ConfigError(shown + "not a directory");
  const std::string probe = join(dir, ".pgvitals-write-test-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw config::ConfigError(shown + "not writable: " + error_text(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

// What a crash in the middle of a write left behind.
void remove_leftovers(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.ends_with(kTmpSuffix)) continue;
    std::error_code rm;
    fs::remove(it->path(), rm);
    if (rm) {
      logging::log(LogLevel::warn, "incident temp file not removed",
                   {{"file", it->path().string()}, {"error", rm.message()}});
    }
  }
}

bool write_all(int fd, const std::string& body) {
  std::size_t done = 0;
  while (done < body.size()) {
    const ssize_t n = ::write(fd, body.data() + done, body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

IncidentFiles::IncidentFiles(std::string dir, Limits limits, std::function<void()> on_failure)
    : dir_(std::move(dir)), on_failure_(std::move(on_failure)), limits_(limits) {
  prepare_dir(dir_);
  remove_leftovers(dir_);
  thread_ = std::thread([this] { run(); });
}

IncidentFiles::~IncidentFiles() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void IncidentFiles::write(std::shared_ptr<const IncidentRecord> record) {
  if (!record) return;
  {
    std::lock_guard lock(mutex_);
    pending_[record->id] = std::move(record);
  }
  wake_.notify_all();
}

void IncidentFiles::set_limits(Limits limits) {
  std::lock_guard lock(mutex_);
  limits_ = limits;
}

void IncidentFiles::flush() {
  std::unique_lock lock(mutex_);
  ++flushing_;
  wake_.notify_all();
  idle_.wait(lock, [this] { return pending_.empty() && !busy_; });
  --flushing_;
}

void IncidentFiles::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    const double now = steady_now();
    double next_due = std::numeric_limits<double>::infinity();
    std::shared_ptr<const IncidentRecord> next;
    for (const auto& [id, record] : pending_) {
      const auto written = last_written_.find(id);
      const bool at_once =
          !record->open() || written == last_written_.end() || stopping_ || flushing_ > 0;
      const double due = at_once ? now : written->second + kOpenEvery;
      if (due <= now) {
        next = record;
        break;
      }
      next_due = std::min(next_due, due);
    }
    if (next) {
      pending_.erase(next->id);
      busy_ = true;
      lock.unlock();
      try {
        if (write_now(*next)) rotate(next->id + std::string(kSuffix));
      } catch (const std::exception& e) {
        logging::log(LogLevel::error, "incident file not written",
                     {{"id", next->id}, {"error", config::redact(e.what())}});
        if (on_failure_) on_failure_();
      }
      lock.lock();
      busy_ = false;
      // A failed write waits its turn too: a full disk is not retried in a loop.
      if (next->open()) {
        last_written_[next->id] = steady_now();
      } else {
        last_written_.erase(next->id);
      }
      idle_.notify_all();
      continue;
    }
    if (stopping_) return;  // everything queued is written
    idle_.notify_all();
    if (next_due == std::numeric_limits<double>::infinity()) {
      wake_.wait(lock);
    } else {
      wake_.wait_for(lock, std::chrono::duration<double>(next_due - now));
    }
  }
}

bool IncidentFiles::write_now(const IncidentRecord& record) {
  if (!usable_id(record.id)) {
    logging::log(LogLevel::error, "incident file not written: unusable id",
                 {{"id", config::redact(record.id)}});
    if (on_failure_) on_failure_();
    return false;
  }
  const std::string body = dump(to_json(record)) + "\n";
  const std::string path = join(dir_, record.id + std::string(kSuffix));
  const std::string tmp = path + ".tmp";
  const char* step = "open";
  int err = 0;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    err = errno;
  } else {
    if (!write_all(fd, body)) {
      step = "write";
      err = errno != 0 ? errno : EIO;
    } else if (::fsync(fd) != 0) {
      step = "fsync";
      err = errno;
    }
    if (::close(fd) != 0 && err == 0) {
      step = "close";
      err = errno;
    }
    if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
      step = "rename";
      err = errno;
    }
    if (err != 0) ::unlink(tmp.c_str());
  }
  if (err == 0) {
    // The rename is only durable once the directory is.
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
      step = "fsync of the directory";
      err = errno;
    }
    if (dfd >= 0) ::close(dfd);
  }
  if (err == 0) return true;
  logging::log(LogLevel::error, "incident file not written",
               {{"file", path}, {"step", step}, {"error", error_text(err)}});
  if (on_failure_) on_failure_();
  return false;
}

void IncidentFiles::rotate(const std::string& just_written) {
  Limits limits;
  {
    std::lock_guard lock(mutex_);
    limits = limits_;
  }
  std::vector<JsonFile> files = json_files(dir_);
  // Oldest first. A record's file is last written when it closes, and an open one is
  // rewritten every few seconds, so the modification time orders them by their last news.
  std::sort(files.begin(), files.end(), [](const JsonFile& a, const JsonFile& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.name < b.name;
  });
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.bytes;
  std::size_t count = files.size();
  for (const JsonFile& f : files) {
    if (count <= limits.keep && total <= limits.max_bytes) break;
    if (f.name == just_written) continue;
    const std::string path = join(dir_, f.name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      logging::log(LogLevel::warn, "old incident file not removed",
                   {{"file", path}, {"error", error_text(errno)}});
      continue;
    }
    --count;
    total -= f.bytes;
  }
}

}  // namespace pgv::incidents
