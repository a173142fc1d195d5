// `fashioncut export`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_export_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "export", "Export the classifier as a torchvision state_dict", "issue 7");
}
}  // namespace fashioncut::cli
