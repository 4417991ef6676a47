// The reading side of incidents.dir: load() for the agent, read_incident() for the CLI.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "config/redact.hpp"
#include "incidents/files.hpp"
#include "incidents/files_dir.hpp"
#include "incidents/record_json.hpp"
#include "log/log.hpp"

namespace pgv::incidents {
namespace fs = std::filesystem;

namespace detail {

std::string error_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

bool usable_id(std::string_view id) {
  return !id.empty() && id.front() != '.' && id.find('/') == std::string_view::npos &&
         id.find('\0') == std::string_view::npos;
}

std::string join(const std::string& dir, std::string_view name) {
  return (fs::path(dir) / std::string(name)).string();
}

std::vector<JsonFile> json_files(const std::string& dir) {
  std::vector<JsonFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.ends_with(kSuffix) || name.size() == kSuffix.size() || name.front() == '.') continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back(
        {name, static_cast<std::uint64_t>(st.st_size),
         static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
  }
  return out;
}

}  // namespace detail

namespace {

using detail::error_text;
using detail::join;
using detail::json_files;
using detail::JsonFile;
using detail::kSuffix;
using detail::usable_id;
using logging::LogLevel;

IncidentRecord read_record_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open: " + error_text(errno));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return record_from_json(nlohmann::json::parse(text.str()));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not JSON: ") + e.what());
  }
}

bool newer(const IncidentRecord& a, const IncidentRecord& b) {
  return a.opened_unix != b.opened_unix ? a.opened_unix > b.opened_unix : a.id > b.id;
}

// The records of `dir`, newest first; a file that cannot be read is skipped with a warning.
std::vector<IncidentRecord> read_all(const std::string& dir) {
  std::vector<IncidentRecord> out;
  for (const JsonFile& f : json_files(dir)) {
    const std::string path = join(dir, f.name);
    try {
      out.push_back(read_record_file(path));
    } catch (const std::exception& e) {
      logging::log(LogLevel::warn, "incident file skipped",
                   {{"file", path}, {"error", config::redact(e.what())}});
    }
  }
  std::sort(out.begin(), out.end(), newer);
  return out;
}

// A record the files left open was being written when the agent went away: it ends where
// its last trace does.
void close_as_restarted(IncidentRecord& r) {
  double last = std::max(r.opened_unix, r.cleared_unix);
  for (const auto& t : r.transitions) last = std::max(last, t.t);
  for (const auto& s : r.during) last = std::max(last, s.t);
  for (const auto& m : r.moments) last = std::max(last, m->t);
  for (const auto& f : r.failures) last = std::max(last, f.time_unix);
  r.closed_unix = last;
  r.ended = "agent restarted";
  r.transitions.push_back({last, "incident closed: agent restarted (last written here)"});
}

}  // namespace

std::vector<std::shared_ptr<const IncidentRecord>> IncidentFiles::load() const {
  std::vector<std::shared_ptr<const IncidentRecord>> out;
  for (IncidentRecord& r : read_all(dir_)) {
    if (r.open()) close_as_restarted(r);
    out.push_back(std::make_shared<const IncidentRecord>(std::move(r)));
  }
  return out;
}

IncidentRecord read_incident(const std::string& dir, const std::string& which) {
  const std::string shown = "'" + config::redact(dir) + "'";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error("incidents.dir " + shown +
                             (fs::exists(dir, ec) ? ": not a directory" : ": no such directory"));
  }
  std::vector<JsonFile> files = json_files(dir);
  if (files.empty()) throw std::runtime_error("no incidents recorded in " + shown);
  if (which == "last") {
    std::vector<IncidentRecord> all = read_all(dir);
    if (all.empty()) throw std::runtime_error("no readable incident in " + shown);
    return std::move(all.front());
  }
  std::string id = which;
  if (id.ends_with(kSuffix)) id.resize(id.size() - kSuffix.size());
  if (usable_id(id)) {
    const std::string path = join(dir, id + std::string(kSuffix));
    if (fs::is_regular_file(path, ec)) {
      try {
        return read_record_file(path);
      } catch (const std::exception& e) {
        throw std::runtime_error("incident '" + id + "': " + path + ": " + e.what());
      }
    }
  }
  // Ids begin with the opening time, so the names sort newest first without reading them.
  std::sort(files.begin(), files.end(),
            [](const JsonFile& a, const JsonFile& b) { return a.name > b.name; });
  std::string known;
  constexpr std::size_t kShown = 5;
  for (std::size_t i = 0; i < files.size() && i < kShown; ++i) {
    known += (i == 0 ? "" : ", ") + files[i].name.substr(0, files[i].name.size() - kSuffix.size());
  }
  if (files.size() > kShown) known += ", ... (" + std::to_string(files.size()) + " in all)";
  throw std::runtime_error("no incident '" + which + "' in " + shown + "; recorded: " + known +
                           " (or 'last')");
}

}  // namespace pgv::incidents
