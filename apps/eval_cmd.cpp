// `fashioncut eval`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_eval_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "eval", "Score a model on a labelled folder", "issue 7");
}
}  // namespace fashioncut::cli
