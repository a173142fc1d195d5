// `fashioncut bench`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_bench_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "bench", "Measure speed against the Python reference", "issue 9");
}
}  // namespace fashioncut::cli
