#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace pgv::testing {

// Runs argv to completion (as `run_as_user` when we are root and it is non-empty) and
// returns what it printed; throws with that output when it fails.
std::string run_command(const std::vector<std::string>& argv, const std::string& run_as_user = "");

// Waits for a child to exit; true if it did within `timeout`.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status = nullptr);

// Starts argv[0] (a path) in its own process group as `user` (when we are root), stdout and
// stderr appended to `output_path` (created with `mode`), killed with `death_signal` if
// this process dies first (servers that outlive a crashed test would pile up). Returns at
// once; the caller reaps it.
pid_t spawn_server(std::vector<std::string> argv, const std::string& user,
                   const std::string& output_path, int mode, int death_signal);

// Switches the current (forked) process to `user` if we are root.
void become_user(const std::string& user);

bool is_root();

}  // namespace pgv::testing
