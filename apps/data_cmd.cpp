// `fashioncut data`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_data_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "data", "Import real datasets (Fashion-MNIST)", "issue 2");
}
}  // namespace fashioncut::cli
