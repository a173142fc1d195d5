// `fashioncut train`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_train_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "train", "Adapt a classifier from synthetic to real images", "issue 5");
}
}  // namespace fashioncut::cli
