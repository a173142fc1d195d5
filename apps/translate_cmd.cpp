// `fashioncut translate`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_translate_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "translate", "Translate synthetic images to the real look", "issue 7");
}
}  // namespace fashioncut::cli
