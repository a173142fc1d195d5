// `fashioncut synth`: render a labelled synthetic dataset. A few flags on the command line;
// every SynthOptions field is also a (hidden) option of the same name, so a --config TOML
// file can set any of them (CLI11 maps TOML keys to long option names; unknown keys error).
#include <iostream>
#include <set>

#include "cli_common.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/log.h"
#include "fashioncut/core/threads.h"
#include "fashioncut/synth/dataset_writer.h"
#include "fashioncut/synth/renderer.h"

namespace fashioncut::cli {
namespace {

struct SynthCliState {
  synth::SynthOptions fields;  // values as parsed (only the given ones are used)
  std::vector<std::pair<std::string, CLI::Option*>> field_options;
  int64_t count = -1;
  std::string out;
  int threads = 0;
  std::string shard = "1/1";
  bool print_config = false;
};

/// "k/n" -> (k, n); throws ConfigError.
std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) {
      size_t a = 0, b = 0;
      const int k = std::stoi(text.substr(0, slash), &a), n = std::stoi(text.substr(slash + 1), &b);
      if (a == slash && b == text.size() - slash - 1 && n >= 1 && k >= 1 && k <= n) return {k, n};
    }
  } catch (const std::exception&) {
  }
  throw ConfigError("--shard '" + text + "' is invalid; use k/n with 1 <= k <= n (e.g. 2/4)");
}

int run_synth(const SynthCliState& st) {
  // Start from the chosen preset, then apply only the keys given on the command line or in --config.
  nlohmann::json j = synth::SynthOptions::preset_options(st.fields.preset).to_json();
  const nlohmann::json given = st.fields.to_json();
  for (const auto& [name, opt] : st.field_options)
    if (opt->count() > 0) j[name] = given[name];
  const synth::SynthOptions options = synth::SynthOptions::from_json(j);
  if (st.print_config) {
    options.validate();
    std::cout << options.to_toml();
    return 0;
  }
  if (st.count < 0)
    throw ConfigError(st.count == -1 ? "--count is required (number of images, >= 0)"
                                     : "--count must be >= 0, got " + std::to_string(st.count));
  if (st.out.empty()) throw ConfigError("--out is required (the output folder)");
  const auto [k, n] = parse_shard(st.shard);
  configure_threads(1);  // rendering parallelises across images; keep OpenCV/torch single-threaded
  const synth::Renderer renderer(options);
  synth::WriteOptions wo;
  wo.count = st.count;
  wo.threads = st.threads <= 0 ? hardware_threads() : st.threads;
  wo.shard_k = k;
  wo.shard_n = n;
  wo.out = st.out;
  const auto summary = synth::write_dataset(renderer, wo);
  log_info("synth: wrote ", summary.written, " images (", renderer.class_names().size(), " classes, label ",
           options.label, ") to ", st.out, " in ", summary.seconds, " s (",
           summary.seconds > 0 ? summary.written / summary.seconds : 0.0, " img/s)");
  return 0;
}

}  // namespace

void add_synth_command(CLI::App& root, Action& action) {
  auto st = std::make_shared<SynthCliState>();
  auto* sub = root.add_subcommand("synth", "Render labelled synthetic garment images");
  add_config_option(*sub);
  sub->add_option("--count", st->count, "number of images (all shards together)");
  sub->add_option("--out", st->out, "output folder (DIR/<label>/<index>.png, manifest.jsonl, stats.json, preview.png)");
  sub->add_option("--threads", st->threads, "render threads (0 = all cores)");
  sub->add_option("--shard", st->shard, "render only indices i with i % n == k-1 (k/n)")->capture_default_str();
  sub->add_flag("--print-config", st->print_config, "print the full configuration as TOML and exit");
  // Fields with a visible flag; all others are hidden options settable from --config.
  static const std::map<std::string, std::string> visible{{"preset", "--preset"},
                                                          {"label", "--label"},
                                                          {"size", "--size"},
                                                          {"seed", "--seed"},
                                                          {"backgrounds_dir", "--backgrounds,--backgrounds_dir"}};
  synth::for_each_field(st->fields, [&](const char* name, auto& field, const char* doc) {
    const auto it = visible.find(name);
    CLI::Option* opt = sub->add_option(it != visible.end() ? it->second : std::string("--") + name, field, doc);
    if (it == visible.end()) opt->group("");  // hidden from --help, still a config key
    using T = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<T, std::vector<std::string>>) opt->expected(0, CLI::detail::expected_max_vector_size);
    st->field_options.emplace_back(name, opt);
  });
  sub->footer("Every key of `fashioncut synth --print-config` can be set in the --config TOML file.");
  sub->callback([st, &action] { action = [st] { return run_synth(*st); }; });
}

}  // namespace fashioncut::cli
