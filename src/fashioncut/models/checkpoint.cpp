#include "fashioncut/models/checkpoint.h"

#include <algorithm>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <mutex>
#include <sstream>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/zip_check.h"

namespace fashioncut::models {
namespace {

torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

torch::serialize::InputArchive open_archive(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw CheckpointError(path.string() + ": checkpoint not found; check the run directory or --model path");
  if (std::filesystem::file_size(path) == 0)
    throw CheckpointError(path.string() + ": checkpoint is empty (0 bytes); use an earlier checkpoint");
  // LibTorch's reader trusts the bytes: a flip inside a tensor loads as a changed weight, and
  // one inside the archive's TorchScript source can crash its parser. The CRC-32s catch both.
  if (const auto problem = zip_file_problem(path); !problem.empty())
    throw CheckpointError(path.string() + ": not a readable fashioncut checkpoint (truncated or corrupt: " + problem +
                          "); use an earlier checkpoint such as checkpoints/epoch_NNN.pt");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string(), torch::kCPU);
  } catch (const c10::Error& e) {
    throw CheckpointError(path.string() + ": not a readable fashioncut checkpoint (truncated or corrupt); "
                          "use an earlier checkpoint such as checkpoints/epoch_NNN.pt");
  }
  return archive;
}

nlohmann::json read_meta(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  c10::IValue value;
  if (!archive.try_read("meta", value) || !value.isString())
    throw CheckpointError(path.string() + ": has no fashioncut metadata (not a fashioncut checkpoint)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(value.toStringRef());
  } catch (const std::exception&) {
    throw CheckpointError(path.string() + ": metadata is not valid JSON (corrupt checkpoint)");
  }
  // Any valid JSON parses: a number or a string-valued "format" would otherwise escape as an
  // untyped json::type_error (found by tests/fuzz/checkpoint_loader_fuzz).
  if (!meta.is_object())
    throw CheckpointError(path.string() + ": metadata is not a JSON object (corrupt or not a fashioncut checkpoint)");
  if (meta.contains("format") && !meta["format"].is_number_integer())
    throw CheckpointError(path.string() + ": metadata field 'format' is not an integer (corrupt checkpoint)");
  const int64_t format = meta.value("format", int64_t(0));
  if (format > kCheckpointFormat)
    throw CheckpointError(path.string() + ": written by a newer fashioncut (checkpoint format " +
                          std::to_string(format) + ", this build reads up to " + std::to_string(kCheckpointFormat) +
                          "); upgrade fashioncut");
  return meta;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const NamedModules& modules,
                     const NamedOptimizers& optimizers, const nlohmann::json& meta) {
  torch::serialize::OutputArchive archive;
  nlohmann::json full = meta;
  full["format"] = kCheckpointFormat;
  archive.write("meta", c10::IValue(full.dump()));
  for (const auto& [name, module] : modules) {
    torch::serialize::OutputArchive sub;
    module->save(sub);
    archive.write("module." + name, sub);
  }
  for (const auto& [name, optimizer] : optimizers) {
    torch::serialize::OutputArchive sub;
    optimizer->save(sub);
    archive.write("optimizer." + name, sub);
  }
  archive.write("rng.cpu", cpu_rng_state());
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

namespace {
/// Runs `fn`; a torch exception that escapes it (the archive's records are unpickled lazily, so a
/// corrupt record fails inside try_read, found by tests/fuzz/checkpoint_loader_fuzz) becomes a
/// CheckpointError naming the file. Our own CheckpointErrors pass through unchanged.
template <class Fn>
auto guard_corrupt(const std::filesystem::path& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // c10::Error, or torch::jit's ErrorReport from the unpickler
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
    // The first non-blank line (TorchScript's errors start with a newline).
    what.erase(0, std::min(what.find_first_not_of(" \t\r\n"), what.size()));
    what = what.substr(0, std::min(what.find('\n'), size_t{160}));
    throw CheckpointError(path.string() + ": not a readable fashioncut checkpoint (corrupt record: " +
                          (what.empty() ? std::string("no details") : what) +
                          "); use an earlier checkpoint such as checkpoints/epoch_NNN.pt");
  }
}

void load_from_archive(torch::serialize::InputArchive& archive, const nlohmann::json& meta,
                       const std::filesystem::path& path, const NamedModules& modules,
                       const NamedOptimizers& optimizers, bool restore_rng);
}  // namespace

Checkpoint::Checkpoint(const std::filesystem::path& path) : path_(path) {
  guard_corrupt(path_, [&] {
    archive_ = open_archive(path_);
    meta_ = read_meta(archive_, path_);
  });
}

const nlohmann::json& Checkpoint::load(const NamedModules& modules, const NamedOptimizers& optimizers,
                                       bool restore_rng) {
  guard_corrupt(path_, [&] { load_from_archive(archive_, meta_, path_, modules, optimizers, restore_rng); });
  return meta_;
}

nlohmann::json read_checkpoint_meta(const std::filesystem::path& path) { return Checkpoint(path).meta(); }

nlohmann::json load_checkpoint(const std::filesystem::path& path, const NamedModules& modules,
                               const NamedOptimizers& optimizers, bool restore_rng) {
  return Checkpoint(path).load(modules, optimizers, restore_rng);
}

namespace {
void load_from_archive(torch::serialize::InputArchive& archive, const nlohmann::json& meta,
                       const std::filesystem::path& path, const NamedModules& modules,
                       const NamedOptimizers& optimizers, bool restore_rng) {
  for (const auto& [name, module] : modules) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read("module." + name, sub))
      throw CheckpointError(path.string() + ": has no module '" + name +
                            "' (checkpoint of another method: " + meta.value("method", std::string("?")) + ")");
    // Module::load replaces tensors without comparing shapes: record them and compare after.
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
    for (const auto& item : module->named_parameters()) shapes.emplace_back(item.key(), item.value().sizes().vec());
    for (const auto& item : module->named_buffers()) shapes.emplace_back(item.key(), item.value().sizes().vec());
    try {
      module->load(sub);
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      throw CheckpointError(path.string() + ": module '" + name + "' does not fit this architecture (" +
                            what.substr(0, what.find('\n')) + ")");
    }
    const auto params = module->named_parameters();
    const auto buffers = module->named_buffers();
    for (const auto& [key, shape] : shapes) {
      const torch::Tensor* t = params.find(key);
      if (!t) t = buffers.find(key);
      if (t && t->sizes().vec() != shape)
        throw CheckpointError(path.string() + ": module '" + name + "' does not fit this architecture ('" + key +
                              "' has shape " + c10::str(t->sizes()) + " in the checkpoint, " + c10::str(shape) +
                              " here; another class list or model size?)");
    }
  }
  for (const auto& [name, optimizer] : optimizers) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read("optimizer." + name, sub))
      throw CheckpointError(path.string() + ": has no optimizer '" + name + "'");
    try {
      optimizer->load(sub);
    } catch (const c10::Error& e) {
      throw CheckpointError(path.string() + ": optimizer '" + name + "' does not fit (" +
                            std::string(e.what_without_backtrace()).substr(0, 200) + ")");
    }
  }
  if (restore_rng) {
    torch::Tensor state;
    if (archive.try_read("rng.cpu", state)) set_cpu_rng_state(state);
  }
}
}  // namespace

}  // namespace fashioncut::models
