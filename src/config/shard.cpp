#include "config/shard.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>

#include "config/shard_yaml.hpp"
#include "config/values.hpp"

namespace pgv::config {

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;  // FNV-1a 64-bit prime
  }
  return hash;
}

// "A Fast, Minimal Memory, Consistent Hash Algorithm" (Lamping, Veach 2014), figure 1.
int jump_hash(std::uint64_t key, int buckets) {
  std::int64_t b = -1;
  std::int64_t j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<std::int64_t>(
        static_cast<double>(b + 1) *
        (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<int>(b);
}

int shard_of(std::string_view name, int count) {
  return jump_hash(stable_hash(name), count);
}

std::string current_host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

std::optional<std::int64_t> host_ordinal(std::string_view host_name) {
  const std::string_view label = host_name.substr(0, host_name.find('.'));
  const std::size_t dash = label.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view digits = label.substr(dash + 1);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) return INT64_MAX;  // an ordinal, far too big
  return value;
}

namespace detail {
namespace {

// An empty variable counts as unset, as everywhere in load_config.
std::optional<std::string> lookup(const Environment& env, const std::string& name) {
  const auto it = env.find(name);
  if (it == env.end() || trim(it->second).empty()) return std::nullopt;
  return std::string(trim(it->second));
}

std::string range(int count) {
  return "0 to " + std::to_string(count - 1) + " (shard.count is " + std::to_string(count) + ")";
}

}  // namespace

ShardConfig read_shard(const Section& s) {
  const YamlReader& r = s.reader();
  ShardConfig out;
  s.read_int("count", out.count, 1, kMaxShards);
  if (!s.has("index")) return out;
  const YAML::Node node = s.get("index");
  const std::string text = r.text(node, s.key("index"));
  const std::string_view t = trim(text);
  if (t == "auto") {
    out.index_auto = true;
    return out;
  }
  const std::string allowed = range(out.count) + ", or auto";
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec == std::errc::invalid_argument || ptr != t.data() + t.size()) {
    r.fail(node, s.key("index"), "not an integer or auto", show_value(text), allowed);
  }
  if (ec == std::errc::result_out_of_range || value < 0 || value >= out.count) {
    r.fail(node, s.key("index"), "not below shard.count", show_value(text), allowed);
  }
  out.index = static_cast<int>(value);
  return out;
}

void resolve_shard(ShardConfig& shard, const Environment& env, std::string_view host_name) {
  if (const auto v = lookup(env, "PGVITALS_SHARD_COUNT")) {
    shard.count = static_cast<int>(parse_int("PGVITALS_SHARD_COUNT", *v, 1, kMaxShards));
  }
  if (const auto v = lookup(env, "PGVITALS_SHARD_INDEX")) {
    shard.index = static_cast<int>(parse_int("PGVITALS_SHARD_INDEX", *v, 0, shard.count - 1));
    shard.index_from = "PGVITALS_SHARD_INDEX";
    return;
  }
  if (shard.index_auto) {
    const std::string pods =
        "a StatefulSet pod's host name ending in -0 to -" + std::to_string(shard.count - 1) +
        " (shard.count is " + std::to_string(shard.count) +
        "), or PGVITALS_SHARD_INDEX set to 0 to " + std::to_string(shard.count - 1);
    const auto ordinal = host_ordinal(host_name);
    if (!ordinal) {
      fail("shard.index", "auto, but the host name has no ordinal at its end",
           show_value(host_name), pods);
    }
    if (*ordinal >= shard.count) {
      fail("shard.index", "auto, but the host name's ordinal is not below shard.count",
           show_value(host_name), pods);
    }
    shard.index = static_cast<int>(*ordinal);
    shard.index_from = "host name " + std::string(host_name);
    return;
  }
  if (shard.index >= shard.count) {  // only when PGVITALS_SHARD_COUNT lowered the count
    fail("shard.index", "not below PGVITALS_SHARD_COUNT", show_value(std::to_string(shard.index)),
         range(shard.count));
  }
}

void keep_own_shard(AgentConfig& a) {
  const int count = a.shard.count;
  const int index = a.shard.index;
  std::erase_if(a.targets, [&](const TargetConfig& t) {
    return shard_of(t.via.empty() ? t.name : t.via, count) != index;
  });
}

}  // namespace detail
}  // namespace pgv::config
