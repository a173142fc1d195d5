#include "fashioncut/train/train_config.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "fashioncut/core/errors.h"

namespace fashioncut::train {
namespace {

template <typename T>
void add(CLI::App& app, const std::string& name, T& field, const std::string& doc, bool visible) {
  // TOML files may spell keys with '-' or '_' (source-count or source_count).
  std::string names = "--" + name;
  std::string underscored = name;
  std::replace(underscored.begin(), underscored.end(), '-', '_');
  if (underscored != name) names += ",--" + underscored;
  auto* opt = app.add_option(names, field, doc)->capture_default_str();
  if (!visible) opt->group("");
}

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) throw ConfigError("config key '" + key + "': " + what);
}

}  // namespace

void bind_train_config(CLI::App& app, TrainConfig& c, bool visible) {
  const bool v = visible;
  add(app, "method", c.method, "training method (see --list-methods)", true);
  add(app, "name", c.name, "run name (default <method>-<time>)", true);
  add(app, "runs-dir", c.runs_dir, "parent folder of run directories", true);
  add(app, "seed", c.seed, "random seed for everything", true);
  add(app, "device", c.device, "auto | cpu | cuda | cuda:N", true);
  add(app, "threads", c.threads, "LibTorch compute threads (0 = all cores)", true);
  add(app, "bf16", c.bf16, "bf16 autocast where supported", v);

  add(app, "source", c.source, "labelled source: folder or synth:<preset>", true);
  add(app, "target", c.target, "unlabelled target: folder, list file or fmnist:train", true);
  add(app, "eval", c.eval, "labelled target set for oracle scores (never used for selection)", true);
  add(app, "source-count", c.source_count, "distinct synthetic source images (0 = never repeat)", true);
  add(app, "heldout-count", c.heldout_count, "held-out synthetic images for label-free selection", v);
  add(app, "target-eval-count", c.target_eval_count, "target images scored each epoch", v);
  add(app, "eval-count", c.eval_count, "cap on oracle images per evaluation (0 = all)", v);
  add(app, "image-size", c.image_size, "training resolution (square px)", v);
  add(app, "channels", c.channels, "1 = gray, 3 = RGB", v);
  add(app, "bad-files", c.bad_files, "fail | skip", v);
  add(app, "workers", c.workers, "loader threads", v);

  add(app, "epochs", c.epochs, "training epochs", true);
  add(app, "iters-per-epoch", c.iters_per_epoch, "iterations per epoch (0 = one source pass)", v);
  add(app, "batch-size", c.batch_size, "images per step and domain", v);
  add(app, "decay-epochs", c.decay_epochs, "CUT linear lr decay over the last N epochs", v);
  add(app, "checkpoint-every", c.checkpoint_every, "iterations between latest checkpoints", v);
  add(app, "log-every", c.log_every, "iterations between metrics records", v);
  add(app, "keep-epoch-checkpoints", c.keep_epoch_checkpoints, "epoch checkpoints kept (0 = all)", v);
  add(app, "stop-after-iters", c.stop_after_iters, "stop as if interrupted after N iterations (0 = off)", v);
  add(app, "select", c.select, "label-free | oracle: what the best checkpoint follows", v);
  add(app, "classifier-ema", c.classifier_ema,
      "evaluate and ship a moving average of the classifier's weights with this momentum per step (0 = off)", v);

  add(app, "ngf", c.ngf, "generator width", v);
  add(app, "n-blocks", c.n_blocks, "generator residual blocks", v);
  add(app, "ndf", c.ndf, "discriminator width", v);
  add(app, "n-layers-d", c.n_layers_d, "discriminator layers", v);
  add(app, "antialias", c.antialias, "anti-aliased down/upsampling", v);
  add(app, "g-residual", c.g_residual,
      "residual translator: G(x) = clamp(x + g(x)), starting as the identity (not in CUT)", v);
  add(app, "nce-layers", c.nce_layers, "generator layers used by PatchNCE", v);
  add(app, "num-patches", c.num_patches, "PatchNCE patches per layer", v);
  add(app, "netf-nc", c.netf_nc, "PatchSampleMlp width", v);
  add(app, "nce-t", c.nce_t, "PatchNCE temperature", v);
  add(app, "lambda-gan", c.lambda_gan, "GAN loss weight", v);
  add(app, "lambda-nce", c.lambda_nce, "PatchNCE weight", v);
  add(app, "nce-idt", c.nce_idt, "identity PatchNCE on target images", v);
  add(app, "lr", c.lr, "Adam lr of G, D, F", v);
  add(app, "beta1", c.beta1, "Adam beta1", v);
  add(app, "beta2", c.beta2, "Adam beta2", v);

  add(app, "arch", c.arch, "resnet18 | resnet34 | resnet50", v);
  add(app, "small-input", c.small_input, "3x3 stem without max-pool", v);
  add(app, "pretrained", c.pretrained, "torchvision .pth for the backbone", v);
  add(app, "classifier-lr", c.classifier_lr, "classifier learning rate", v);
  add(app, "lambda-c", c.lambda_c, "classifier loss weight in the generator loss", v);
  add(app, "pseudo-label-start", c.pseudo_label_start, "epochs before pseudo-labels start", v);
  add(app, "pseudo-label-threshold", c.pseudo_label_threshold, "pseudo-label confidence threshold", v);
  add(app, "pseudo-label-fraction", c.pseudo_label_fraction, "share of real images in the classifier batch", v);
  add(app, "pseudo-labels", c.pseudo_labels, "use pseudo-labels (fashion-cut)", v);
  add(app, "pseudo-label-align", c.pseudo_label_align,
      "pick pseudo-labels from p / running mean of p (distribution alignment against collapse)", v);
  add(app, "pseudo-label-momentum", c.pseudo_label_momentum, "EMA momentum of the running class prior", v);
  add(app, "pseudo-label-teacher", c.pseudo_label_teacher,
      "self | ema: pseudo-labels from the classifier itself or from its weight average (classifier-ema)", v);
  add(app, "pseudo-label-augment", c.pseudo_label_augment,
      "none | weak | strong: the view of the real rows the classifier trains on, labelled from the teacher's plain view "
      "(weak: shift + flip; strong: also contrast and cutout)", v);
  add(app, "target-bn", c.target_bn,
      "fashion-cut: real images share the classifier's batch (batch-norm statistics) before pseudo-labels start", v);
  add(app, "translate-epochs", c.translate_epochs, "cut-then-classify: CUT epochs", v);

  add(app, "sgd-lr", c.sgd_lr, "SGD base lr of source-only and the baselines (0 = the method's TLL default)", v);
  add(app, "trade-off", c.trade_off, "adaptation loss weight", v);
  add(app, "bottleneck-dim", c.bottleneck_dim, "bottleneck width (0 = the method's TLL default)", v);
  add(app, "weight-decay", c.weight_decay, "SGD weight decay (< 0 = the method's TLL default)", v);
  add(app, "lr-gamma", c.lr_gamma, "inverse decay gamma", v);
  add(app, "lr-decay", c.lr_decay, "inverse decay exponent", v);
  add(app, "bsp-trade-off", c.bsp_trade_off, "BSP weight", v);
  add(app, "bsp-pretrain-epochs", c.bsp_pretrain_epochs, "BSP source-only epochs", v);
  add(app, "bsp-pretrain-lr", c.bsp_pretrain_lr, "SGD base lr of BSP's source-only epochs", v);
  add(app, "mdd-margin", c.mdd_margin, "MDD margin", v);
  add(app, "afn-delta", c.afn_delta, "AFN step size", v);
  add(app, "afn-trade-off", c.afn_trade_off, "AFN weight", v);
}

void TrainConfig::validate() const {
  require(!method.empty(), "method", "must not be empty");
  require(!source.empty(), "source", "must name a folder or synth:<preset>");
  require(!target.empty(), "target", "must name a folder, list file or fmnist:train");
  require(source_count >= 0, "source-count", "must be >= 0");
  require(heldout_count >= 0 && heldout_count <= 1000000, "heldout-count", "must be in 0..1000000");
  require(target_eval_count >= 0, "target-eval-count", "must be >= 0");
  require(eval_count >= 0, "eval-count", "must be >= 0");
  require(image_size >= 8 && image_size <= 2048, "image-size", "must be in 8..2048");
  require(channels == 1 || channels == 3, "channels", "must be 1 or 3");
  require(bad_files == "fail" || bad_files == "skip", "bad-files", "must be fail or skip");
  require(workers >= 0 && workers <= 64, "workers", "must be in 0..64");
  require(epochs >= 1, "epochs", "must be >= 1");
  require(iters_per_epoch >= 0, "iters-per-epoch", "must be >= 0");
  require(batch_size >= 1 && batch_size <= 4096, "batch-size", "must be in 1..4096");
  require(decay_epochs >= 0 && decay_epochs <= epochs, "decay-epochs", "must be in 0..epochs");
  require(checkpoint_every >= 1, "checkpoint-every", "must be >= 1");
  require(stop_after_iters >= 0, "stop-after-iters", "must be >= 0");
  require(log_every >= 1, "log-every", "must be >= 1");
  require(keep_epoch_checkpoints >= 0, "keep-epoch-checkpoints", "must be >= 0");
  require(select == "label-free" || select == "oracle", "select", "must be label-free or oracle");
  require(select != "oracle" || !eval.empty(), "select", "oracle selection needs --eval DIR");
  require(ngf >= 1 && ndf >= 1, "ngf/ndf", "must be >= 1");
  require(n_blocks >= 1, "n-blocks", "must be >= 1");
  require(n_layers_d >= 1 && n_layers_d <= 6, "n-layers-d", "must be in 1..6");
  require(!nce_layers.empty(), "nce-layers", "must not be empty");
  require(std::is_sorted(nce_layers.begin(), nce_layers.end()) && nce_layers.front() >= 0, "nce-layers",
          "must be ascending, non-negative indices");
  require(nce_layers.back() < 12 + n_blocks, "nce-layers",
          "index " + std::to_string(nce_layers.back()) + " is past the generator encoder (last: " +
              std::to_string(11 + n_blocks) + ")");
  require(num_patches >= 1, "num-patches", "must be >= 1");
  require(netf_nc >= 1, "netf-nc", "must be >= 1");
  require(nce_t > 0, "nce-t", "must be > 0");
  require(lambda_gan >= 0 && lambda_nce >= 0 && lambda_c >= 0, "lambda-*", "must be >= 0");
  require(lr > 0 && classifier_lr > 0, "lr/classifier-lr", "must be > 0");
  require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "beta1/beta2", "must be in [0,1)");
  require(arch == "resnet18" || arch == "resnet34" || arch == "resnet50", "arch",
          "'" + arch + "' is not one of resnet18, resnet34, resnet50");
  require(pseudo_label_start >= 0, "pseudo-label-start", "must be >= 0");
  require(pseudo_label_threshold >= 0 && pseudo_label_threshold < 1, "pseudo-label-threshold", "must be in [0,1)");
  require(pseudo_label_fraction > 0 && pseudo_label_fraction < 1, "pseudo-label-fraction", "must be in (0,1)");
  require(pseudo_label_momentum >= 0 && pseudo_label_momentum < 1, "pseudo-label-momentum", "must be in [0,1)");
  require(pseudo_label_teacher == "self" || pseudo_label_teacher == "ema", "pseudo-label-teacher",
          "'" + pseudo_label_teacher + "' is not one of self, ema");
  require(pseudo_label_teacher != "ema" || classifier_ema > 0, "pseudo-label-teacher",
          "'ema' needs a weight average: set classifier-ema (e.g. 0.995)");
  require(pseudo_label_augment == "none" || pseudo_label_augment == "weak" || pseudo_label_augment == "strong",
          "pseudo-label-augment", "'" + pseudo_label_augment + "' is not one of none, weak, strong");
  require(pseudo_label_augment == "none" || pseudo_label_teacher == "ema", "pseudo-label-augment",
          "needs pseudo-label-teacher = ema (the labels come from the plain view)");
  require(classifier_ema >= 0 && classifier_ema < 1, "classifier-ema", "must be in [0,1) (0 = off)");
  require(translate_epochs >= 0 && translate_epochs < epochs + (epochs == 1 ? 1 : 0), "translate-epochs",
          "must be in 0..epochs-1");
  require(sgd_lr >= 0, "sgd-lr", "must be > 0 (or 0 for the method's TLL default)");
  require(trade_off >= 0, "trade-off", "must be >= 0");
  require(bottleneck_dim >= 0, "bottleneck-dim", "must be >= 1 (or 0 for the method's TLL default)");
  require(std::isfinite(weight_decay), "weight-decay", "must be >= 0 (or < 0 for the method's TLL default)");
  require(lr_gamma >= 0 && lr_decay >= 0, "lr-gamma/lr-decay", "must be >= 0");
  require(bsp_trade_off >= 0, "bsp-trade-off", "must be >= 0");
  require(bsp_pretrain_lr > 0, "bsp-pretrain-lr", "must be > 0");
  require(bsp_pretrain_epochs >= 0 && bsp_pretrain_epochs < epochs + 1, "bsp-pretrain-epochs", "must be in 0..epochs");
  require(mdd_margin > 0, "mdd-margin", "must be > 0");
  require(afn_delta >= 0 && afn_trade_off >= 0, "afn-*", "must be >= 0");
}

TrainConfig load_train_config(const std::filesystem::path& path) {
  TrainConfig config;
  CLI::App app("config");
  bind_train_config(app, config);
  app.set_config("--config", "", "", true);
  app.allow_config_extras(CLI::config_extras_mode::error);
  try {
    app.parse(std::vector<std::string>{path.string(), "--config"});  // CLI11 parses reversed vectors
  } catch (const CLI::ParseError& e) {
    throw ConfigError(path.string() + ": " + e.what() + " (check the key names with `fashioncut train --print-config`)");
  }
  config.validate();
  return config;
}

std::string to_toml(const TrainConfig& config) {
  TrainConfig copy = config;
  CLI::App app("config");
  bind_train_config(app, copy, true);
  app.parse(std::vector<std::string>{});
  // CLI11 2.1 writes a vector default as one quoted string ("0 4 8"), which it cannot read back;
  // write those lines as TOML arrays.
  std::istringstream lines(app.config_to_str(true, false));
  std::string out = "# fashioncut train: effective configuration\n", line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos && line[0] != '#') {
      const CLI::Option* opt = app.get_option_no_throw("--" + line.substr(0, eq));
      if (opt != nullptr && opt->get_expected_max() > 1) {
        std::string value = line.substr(eq + 1);
        value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
        std::istringstream items(value);
        std::string item, array;
        while (items >> item) array += (array.empty() ? "" : ", ") + item;
        line = line.substr(0, eq + 1) + "[" + array + "]";
      }
    }
    out += line + '\n';
  }
  return out;
}

}  // namespace fashioncut::train
