// `fashioncut predict`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_predict_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "predict", "Label images to CSV/JSON", "issue 7");
}
}  // namespace fashioncut::cli
