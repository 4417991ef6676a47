#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/agent_config.hpp"

// Splitting one target list across agents: which agent (shard) owns a target, and which
// shard this agent is (a fixed index, or `auto` from PGVITALS_SHARD_INDEX or the ordinal
// of a StatefulSet pod's host name).
namespace pgv::config {

inline constexpr int kMaxShards = 1'000'000;

// FNV-1a, 64 bits: the same on every host and build, so every agent of a sharded fleet
// agrees on which shard owns a target.
std::uint64_t stable_hash(std::string_view text);

// Lamping & Veach's jump consistent hash: a bucket in [0, buckets). Going from N to N+1
// buckets moves only the keys that land in the new bucket (about 1/(N+1) of them).
int jump_hash(std::uint64_t key, int buckets);

// The shard of `count` that owns the target (or pooler) of this name.
int shard_of(std::string_view name, int count);

// gethostname(): a Kubernetes pod's host name is its pod name (pgvitals-0, pgvitals-1, ...).
std::string current_host_name();

// The ordinal a StatefulSet puts at the end of its pods' names: the digits after the last
// '-' of the first label (pgvitals-2, or pgvitals-2.pgvitals-shards.ns.svc as an FQDN).
// Nothing when there are none.
std::optional<std::int64_t> host_ordinal(std::string_view host_name);

}  // namespace pgv::config

namespace pgv::config::detail {

// After the file: PGVITALS_SHARD_COUNT replaces count, PGVITALS_SHARD_INDEX replaces the
// index (fixed or auto), and an `auto` index left takes the host name's ordinal. Throws
// ConfigError naming the host name or the variable and the allowed range.
void resolve_shard(ShardConfig& shard, const Environment& env, std::string_view host_name);

// Drops the targets other shards own. A database reached through a pooler goes with its
// pooler, whose state its failures are placed against.
void keep_own_shard(AgentConfig& a);

}  // namespace pgv::config::detail
