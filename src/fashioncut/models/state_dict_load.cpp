// Module <-> named tensors: `module_state` and `load_state_dict` (declared in state_dict_io.h).
#include <sstream>
#include <unordered_map>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/log.h"
#include "fashioncut/models/state_dict_io.h"

namespace fashioncut::models {
namespace {

void collect(const torch::nn::Module& module, const std::string& prefix, NamedTensors& out) {
  // Same order as PyTorch's Module.state_dict(): own parameters, own buffers, then children.
  for (const auto& item : module.named_parameters(/*recurse=*/false)) {
    if (item.value().defined()) out.emplace_back(prefix + item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/false)) {
    if (item.value().defined()) out.emplace_back(prefix + item.key(), item.value());
  }
  for (const auto& child : module.named_children()) collect(*child.value(), prefix + child.key() + ".", out);
}

std::string shape_string(const torch::Tensor& t) { return c10::str(t.sizes()); }

/// "3 missing keys: a, b, c" with at most 10 names listed.
void describe(std::ostringstream& msg, const std::vector<std::string>& items, const char* what, bool& first) {
  if (items.empty()) return;
  msg << (first ? " " : "; ") << items.size() << " " << what << ": ";
  first = false;
  for (std::size_t i = 0; i < items.size() && i < 10; ++i) msg << (i ? ", " : "") << items[i];
  if (items.size() > 10) msg << ", ... (" << items.size() - 10 << " more)";
}

}  // namespace

NamedTensors module_state(const torch::nn::Module& module) {
  NamedTensors out;
  collect(module, "", out);
  return out;
}

LoadReport load_state_dict(torch::nn::Module& module, const NamedTensors& entries, const LoadOptions& options,
                           const std::string& source_name) {
  const std::string source = source_name.empty() ? "state_dict" : source_name;
  const auto ignored = [&](const std::string& key) {
    for (const auto& prefix : options.ignore_prefixes) {
      if (key.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
  };

  std::unordered_map<std::string, const torch::Tensor*> file;
  for (const auto& [name, tensor] : entries) file[name] = &tensor;  // a repeated name: the last one wins

  LoadReport report;
  std::vector<std::string> mismatch_details;
  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  std::unordered_map<std::string, bool> in_module;
  for (const auto& [name, dst] : module_state(module)) {
    in_module[name] = true;
    const auto it = file.find(name);
    if (it == file.end()) {
      (ignored(name) ? report.skipped : report.missing).push_back(name);
      continue;
    }
    const torch::Tensor& src = *it->second;
    if (!src.defined() || src.sizes() != dst.sizes()) {
      const std::string detail = name + " (file " + (src.defined() ? shape_string(src) : "undefined") + ", model " +
                                 shape_string(dst) + ")";
      if (ignored(name) && options.allow_shape_mismatch_for_ignored) {
        report.skipped.push_back(name);
      } else {
        report.shape_mismatch.push_back(name);
        mismatch_details.push_back(detail);
      }
      continue;
    }
    copies.emplace_back(dst, it->second);
    report.loaded.push_back(name);
  }
  for (const auto& [name, tensor] : entries) {
    if (in_module.count(name)) continue;
    in_module[name] = true;  // report a repeated name once
    (ignored(name) ? report.skipped : report.unexpected).push_back(name);
  }

  const bool clean = report.missing.empty() && report.unexpected.empty() && report.shape_mismatch.empty();
  if (!clean) {
    std::ostringstream msg;
    msg << source << ": state_dict does not match the model:";
    bool first = true;
    describe(msg, report.missing, "missing keys", first);
    describe(msg, report.unexpected, "unexpected keys", first);
    describe(msg, mismatch_details, "shape mismatches", first);
    if (options.strict) {
      msg << ". Fix: use weights saved from the same architecture (depth, input channels, small-input stem), "
             "or ignore a replaced head (e.g. prefix 'fc.')";
      throw CheckpointError(msg.str());
    }
    log_warn(msg.str(), " (non-strict: loading the ", report.loaded.size(), " matching tensors)");
  }
  if (!report.skipped.empty()) {
    log_info(source, ": skipped ", report.skipped.size(), " ignored tensor(s), e.g. ", report.skipped.front());
  }

  torch::NoGradGuard no_grad;
  try {
    for (auto& [dst, src] : copies) dst.copy_(*src);
  } catch (const c10::Error& e) {
    throw CheckpointError(source + ": cannot copy tensors into the model (" + e.what_without_backtrace() + ")");
  }
  return report;
}

LoadReport load_state_dict_file(torch::nn::Module& module, const std::filesystem::path& path, const LoadOptions& options) {
  return load_state_dict(module, read_state_dict(path), options, path.string());
}

}  // namespace fashioncut::models
