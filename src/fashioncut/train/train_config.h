// The typed training configuration: one struct, every field with a default and a doc.
// The same field table serves the CLI, TOML config files (unknown keys are an error) and
// the effective `config.toml` written into each run directory.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fashioncut::train {

/// Every setting of a training run. TOML keys are the field names with '_' -> '-'.
struct TrainConfig {
  // ---- run ----
  std::string method = "fashion-cut";  ///< a registered method (fashioncut train --list-methods)
  std::string name = "";               ///< run name; empty = "<method>-<yyyymmdd-hhmmss>"
  std::string runs_dir = "runs";       ///< parent folder of run directories
  uint64_t seed = 0;                   ///< seeds torch, loaders and synthetic rendering
  std::string device = "auto";         ///< auto | cpu | cuda | cuda:N
  int threads = 0;                     ///< LibTorch compute threads (0 = all cores)
  bool bf16 = false;                   ///< bf16 autocast where supported (CPU AVX512_BF16, GPU)

  // ---- data ----
  std::string source = "synth:fmnist";  ///< labelled source: folder (root/<class>/img) or synth:<preset>
  std::string target = "fmnist:train";  ///< unlabelled target: folder, list file or fmnist:train
  std::string eval = "";                ///< optional labelled target set, logged as oracle/* only
  int64_t source_count = 0;             ///< synth: number of distinct source images (0 = never repeat)
  int64_t heldout_count = 500;          ///< held-out synthetic images for label-free selection
  int64_t target_eval_count = 2000;     ///< target images scored each epoch (entropy, balance)
  int64_t eval_count = 0;               ///< cap on oracle images per evaluation (0 = all)
  int image_size = 32;                  ///< training resolution (square)
  int channels = 1;                     ///< 1 = gray, 3 = RGB
  std::string bad_files = "fail";       ///< fail | skip: what a corrupt image does to training
  int workers = 2;                      ///< background decode/render threads per loader

  // ---- schedule ----
  int64_t epochs = 4;             ///< training epochs
  int64_t iters_per_epoch = 500;  ///< iterations per epoch (0 = one pass over the source)
  int64_t batch_size = 8;         ///< source images per step (target batch has the same size)
  int64_t decay_epochs = 0;       ///< CUT linear decay: the last N epochs decay lr linearly to ~0
  int64_t checkpoint_every = 200; ///< iterations between `latest` checkpoints (epoch ends always save)
  int64_t log_every = 10;         ///< iterations between metrics.jsonl step records
  int64_t keep_epoch_checkpoints = 3;  ///< keep the last N checkpoints/epoch_NNN.pt (0 = all)
  std::string select = "label-free";   ///< label-free | oracle: what `best` follows
  double classifier_ema = 0;           ///< > 0: evaluate and ship an exponential moving average of the classifier's weights (momentum per step, e.g. 0.995); 0 = the last weights
  int64_t stop_after_iters = 0;        ///< behave as if interrupted after this global iteration (0 = off; tests, fault drills)

  // ---- CUT translator ----
  int ngf = 32;                      ///< generator base width (CUT default 64)
  int n_blocks = 6;                  ///< generator residual blocks (CUT default 9)
  int ndf = 32;                      ///< discriminator base width (CUT default 64)
  int n_layers_d = 3;                ///< PatchGAN layers
  bool antialias = true;             ///< blur-pool down/upsampling (CUT default on)
  bool g_residual = false;           ///< G(x) = clamp(x + g(x)), g's last conv zero-initialised: G starts as the identity (not CUT)
  std::vector<int64_t> nce_layers{0, 4, 8, 12, 16};  ///< generator Sequential indices for PatchNCE
  int64_t num_patches = 256;         ///< patches per layer per image
  int64_t netf_nc = 256;             ///< PatchSampleMlp width
  double nce_t = 0.07;               ///< PatchNCE temperature
  double lambda_gan = 1.0;           ///< weight of the LSGAN generator loss
  double lambda_nce = 1.0;           ///< weight of PatchNCE
  bool nce_idt = true;               ///< identity PatchNCE on real images (CUT; off = FastCUT)
  double lr = 2e-4;                  ///< Adam lr for G, D, F
  double beta1 = 0.5;                ///< Adam beta1 for G, D, F
  double beta2 = 0.999;              ///< Adam beta2 for G, D, F

  // ---- classifier ----
  std::string arch = "resnet18";     ///< resnet18 | resnet34 | resnet50
  bool small_input = true;           ///< 3x3 stem without max-pool (for inputs <= 64 px)
  std::string pretrained = "";       ///< torchvision state_dict .pth to initialise the backbone
  double classifier_lr = 2e-4;       ///< classifier lr (Adam for CUT methods, SGD base lr for baselines)
  double lambda_c = 1.0;             ///< weight of CE(C(G(x_s)), y_s) in the generator loss
  int64_t pseudo_label_start = 2;    ///< epochs before pseudo-labels start (paper: after epoch 2)
  double pseudo_label_threshold = 0; ///< confidence needed to keep a pseudo-label (0 = keep all)
  double pseudo_label_fraction = 0.5;  ///< share of the classifier batch replaced by real images
  bool pseudo_labels = true;         ///< false = the paper's plain "Fashion CUT" row
  bool pseudo_label_align = true;    ///< distribution alignment: labels from p / running mean of p (anti-collapse)
  double pseudo_label_momentum = 0.99;  ///< EMA momentum of that running mean (per step)
  std::string pseudo_label_teacher = "self";  ///< self | ema: pseudo-labels from C itself or from its weight average (needs classifier_ema > 0)
  /// none | weak | strong: the student's view of its real rows while the teacher labels them plain
  /// (needs teacher ema): weak = shifted by up to image_size/8 and flipped; strong = weak plus
  /// contrast ±50% and a cutout hole of up to half the image (data::random_strong_view).
  std::string pseudo_label_augment = "none";
  bool target_bn = true;             ///< fashion-cut: real images share C's batch (batch-norm statistics) before pseudo-labels start
  int64_t translate_epochs = 0;      ///< cut-then-classify: epochs of CUT before the classifier stage (0 = epochs/2)

  // ---- baselines (TLL = thuml Transfer-Learning-Library examples/domain_adaptation/image_classification) ----
  // sgd_lr, weight_decay and bottleneck_dim differ per method in TLL; their "auto" values (0, < 0, 0)
  // pick the method's TLL default (methods/tll_common.cpp tll_defaults()); any other value wins.
  double sgd_lr = 0;                 ///< SGD base lr; 0 = TLL default: erm.py 0.001, dann.py 0.01, bsp.py 0.003, mdd.py 0.004, afn.py 0.001
  double trade_off = 1.0;            ///< weight of the DANN/BSP domain loss and MDD's -disparity (TLL dann/bsp/mdd.py --trade-off 1.0)
  int64_t bottleneck_dim = 0;        ///< bottleneck width; 0 = TLL default: dann/bsp.py 256, mdd.py 1024, afn.py 1000
  double weight_decay = -1;          ///< SGD weight decay; < 0 = TLL default: dann/bsp.py 1e-3, erm/mdd/afn.py 5e-4
  double lr_gamma = 0.001;           ///< inverse decay lr0*(1+gamma*i)^-decay (TLL dann/bsp/afn.py 0.001; mdd.py uses 0.0002, erm.py 0.0003)
  double lr_decay = 0.75;            ///< inverse decay exponent (TLL --lr-decay 0.75)
  double bsp_trade_off = 2e-4;       ///< BSP penalty weight (TLL bsp.py --trade-off-bsp 2e-4)
  int64_t bsp_pretrain_epochs = 1;   ///< BSP source-only epochs first (TLL bsp.py --pretrain-epochs 3 of 20; 1 of our 4)
  double bsp_pretrain_lr = 0.001;    ///< SGD base lr of BSP's source-only phase (TLL bsp.py --pretrain-lr 0.001)
  double mdd_margin = 4.0;           ///< MDD margin gamma (TLL mdd.py --margin 4)
  double afn_delta = 1.0;            ///< AFN feature-norm step Delta r (TLL afn.py -r 1.0)
  double afn_trade_off = 0.05;       ///< AFN feature-norm weight (TLL afn.py --trade-off-norm 0.05)

  /// Throws ConfigError naming the key on any invalid value.
  void validate() const;
};

/// Registers every TrainConfig field on `app` as a long option (hidden from --help unless
/// `visible`), so CLI11's TOML reader fills them and rejects unknown keys.
void bind_train_config(CLI::App& app, TrainConfig& config, bool visible = false);

/// Reads a TOML file strictly (unknown keys, wrong types -> ConfigError naming the file).
TrainConfig load_train_config(const std::filesystem::path& path);

/// The full effective configuration as TOML (every key, defaults included).
std::string to_toml(const TrainConfig& config);

}  // namespace fashioncut::train
