// fashioncut: the command-line entry point. Parses, dispatches to one subcommand, and
// turns library errors into one line on stderr and a non-zero exit code.
#include <c10/util/Exception.h>

#include <iostream>

#include "cli_common.h"
#include "fashioncut/core/errors.h"

namespace {
/// The first line of a (possibly multi-line) exception message.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }
}  // namespace

int main(int argc, char** argv) {
  namespace cli = fashioncut::cli;
  CLI::App app{"fashioncut: label real product photos with a classifier trained on synthetic images only"};
  app.set_version_flag("--version", std::string("fashioncut ") + FASHIONCUT_VERSION);
  app.require_subcommand(1);
  cli::Action action;
  cli::add_synth_command(app, action);
  cli::add_data_command(app, action);
  cli::add_train_command(app, action);
  cli::add_eval_command(app, action);
  cli::add_predict_command(app, action);
  cli::add_translate_command(app, action);
  cli::add_export_command(app, action);
  cli::add_bench_command(app, action);
  try {
    app.parse(argc, argv);
    cli::apply_config_files(app);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fashioncut::Error& e) {  // e.g. a --config file that cannot be read
    std::cerr << "fashioncut: error: " << e.what() << '\n';
    return 1;
  }
  try {
    return action ? action() : 0;
  } catch (const fashioncut::NotImplementedError& e) {
    std::cerr << "fashioncut: " << e.what() << '\n';
    return 2;
  } catch (const fashioncut::Error& e) {
    std::cerr << "fashioncut: error: " << e.what() << '\n';
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "fashioncut: error (LibTorch): " << first_line(e.what_without_backtrace()) << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fashioncut: error: " << first_line(e.what()) << '\n';
    return 1;
  }
}
