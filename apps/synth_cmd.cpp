// `fashioncut synth`: placeholder until its implementation lands.
#include "cli_common.h"

namespace fashioncut::cli {
void add_synth_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "synth", "Render labelled synthetic garment images", "issue 3");
}
}  // namespace fashioncut::cli
