// The on-the-fly synthetic source: the renderer of synth/ as a Dataset, so training reads
// `synth:<preset>` without writing images to disk. Sample i is rendered from (seed, i) in
// the loader's threads; a count larger than any run needs means no image is shown twice.
#pragma once
#include <memory>
#include <string>

#include "fashioncut/data/dataset.h"
#include "fashioncut/synth/renderer.h"

namespace fashioncut::data {

/// `count` renders of `renderer` (indices 0..count-1), transformed per `transform`.
class SynthDataset : public Dataset {
 public:
  SynthDataset(std::shared_ptr<const synth::Renderer> renderer, size_t count, TransformOptions transform);
  size_t size() const override { return count_; }
  Example get(size_t index, std::mt19937_64& rng) const override;
  const std::vector<std::string>& classes() const override { return renderer_->class_names(); }
  std::string describe() const override;

 private:
  std::shared_ptr<const synth::Renderer> renderer_;
  size_t count_;
  TransformOptions transform_;
};

/// Registers the "synth" prefix with open_dataset (idempotent). Spec:
/// `synth:<preset>` or `synth:<file.toml|file.json>` (SynthOptions keys, as `fashioncut synth --print-config`), followed by optional
/// `?count=N&seed=S&label=pattern|garment` (count default 10000, seed default 0).
void register_synth_dataset();

}  // namespace fashioncut::data
