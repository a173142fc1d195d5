// Subcommands whose implementation has not landed yet. Each moves to its own
// <name>_cmd.cpp when it is built (and its line here is removed).
#include "cli_common.h"

namespace fashioncut::cli {
void add_synth_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "synth", "Render labelled synthetic garment images", "issue 3");
}
void add_data_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "data", "Import real datasets (Fashion-MNIST)", "issue 2");
}
void add_train_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "train", "Adapt a classifier from synthetic to real images", "issue 5");
}
void add_eval_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "eval", "Score a model on a labelled folder", "issue 7");
}
void add_predict_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "predict", "Label images to CSV/JSON", "issue 7");
}
void add_translate_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "translate", "Translate synthetic images to the real look", "issue 7");
}
void add_export_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "export", "Export the classifier as a torchvision state_dict", "issue 7");
}
void add_bench_command(CLI::App& root, Action& action) {
  add_pending_command(root, action, "bench", "Measure speed against the Python reference", "issue 9");
}
}  // namespace fashioncut::cli
