// Test-only fault injection for the reliability drills (tests/integration/faults_test.cpp,
// bench/faults, docs/RELIABILITY.md). Driven by the environment variable FASHIONCUT_FAULT, a
// comma-separated list of items; unset (the normal case) every hook is one branch on a
// cached empty list:
//   kill@N | term@N | int@N   raise SIGKILL / SIGTERM / SIGINT just before training iteration N
//                             (N = iterations already done, as in checkpoints and metrics.jsonl)
//   nan:TERM@N                report loss term TERM (e.g. G/gan, C/ce) as NaN at iteration N
//   kill-in-write:NAME#K      SIGKILL halfway through the K-th atomic write of a file named NAME
//                             in this process (e.g. latest.pt#1): the temporary file is half
//                             written, the rename has not happened
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace fashioncut::fault {

/// The FASHIONCUT_FAULT items in force, as text ("" when none); the trainer logs it.
std::string describe();

/// Raises the signal of a kill@/term@/int@ item whose N equals `iteration`.
void before_iteration(int64_t iteration);

/// True when a nan:TERM@N item names `term` and `iteration`.
bool poison_loss(const std::string& term, int64_t iteration);

/// True when some kill-in-write item exists (write_file_atomic then writes in two halves).
bool watches_writes();

/// Called by write_file_atomic between the two halves of `path`: counts writes of files with
/// this name and SIGKILLs the process at the K-th.
void during_atomic_write(const std::filesystem::path& path);

}  // namespace fashioncut::fault
