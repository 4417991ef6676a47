#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "incidents/record.hpp"

namespace pgv::incidents {

// incidents.dir: one JSON file per incident, <id>.json, written atomically (temp file,
// fsync, rename, fsync of the directory) by a thread of its own, so that a slow or full
// disk never holds up the watcher, a probe or an HTTP answer.
class IncidentFiles {
 public:
  struct Limits {
    std::size_t keep = 50;
    std::uint64_t max_bytes = 64ull << 20;
  };

  // Creates `dir` when missing and proves it writable with a test file. Throws
  // config::ConfigError ("incidents.dir: '/x': not writable: Permission denied") when it is
  // not: the agent exits 2. `on_failure` is called (on the writer thread) for every write
  // that fails; the failure is also logged, and the agent goes on.
  IncidentFiles(std::string dir, Limits limits, std::function<void()> on_failure = {});
  ~IncidentFiles();  // writes what is queued, then stops the thread
  IncidentFiles(const IncidentFiles&) = delete;
  IncidentFiles& operator=(const IncidentFiles&) = delete;

  // The records the directory holds, newest first; a file that cannot be read or parsed is
  // skipped with a warning naming it. A record the files still show open was left so by an
  // agent that went away: it comes back closed, ended "agent restarted", at its last trace
  // (the file itself is left as it is; write() it to keep that).
  std::vector<std::shared_ptr<const IncidentRecord>> load() const;

  // Queues `record` for writing and returns at once. A record that stays open is written at
  // most every few seconds (the newest copy wins); one that opens or closes goes out at once.
  // After each write the oldest files beyond `keep`, and beyond `max_bytes` in all, are
  // removed (never the file just written).
  void write(std::shared_ptr<const IncidentRecord> record);
  void set_limits(Limits limits);
  // Blocks until every queued record is on disk (tests, shutdown).
  void flush();

  const std::string& dir() const noexcept { return dir_; }

 private:
  void run();
  bool write_now(const IncidentRecord& record);  // false when it failed (logged, reported)
  void rotate(const std::string& just_written);

  const std::string dir_;
  std::function<void()> on_failure_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  Limits limits_;
  std::map<std::string, std::shared_ptr<const IncidentRecord>> pending_;  // by id
  std::map<std::string, double> last_written_;                            // by id, steady secs
  bool busy_ = false;
  int flushing_ = 0;  // callers waiting in flush(): everything queued is due at once
  bool stopping_ = false;
  std::thread thread_;
};

// For `pgvitals check --incident`: the record `which` ("last": the newest by opened time,
// else an id) from `dir`, as written: one still open stays open (the agent may be running).
// Throws std::runtime_error saying what is missing.
IncidentRecord read_incident(const std::string& dir, const std::string& which);

}  // namespace pgv::incidents
