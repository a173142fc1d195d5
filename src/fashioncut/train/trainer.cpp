#include "fashioncut/train/trainer.h"

#include <csignal>
#include <ctime>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/device.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/fault.h"
#include "fashioncut/core/log.h"
#include "fashioncut/core/progress.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/core/threads.h"
#include "fashioncut/eval/metrics.h"
#include "fashioncut/models/checkpoint.h"
#include "fashioncut/models/weight_ema.h"
#include "fashioncut/train/image_grid.h"
#include "fashioncut/train/lr_schedule.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/metrics_log.h"
#include "fashioncut/train/report.h"
#include "fashioncut/train/streams.h"
#include "fashioncut/train/tensorboard_writer.h"

namespace fashioncut::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
volatile std::sig_atomic_t g_stop_requested = 0;
// The first SIGINT/SIGTERM asks for a checkpoint and a clean exit; a second one (an impatient
// Ctrl-C while the checkpoint is written) takes the default action at once, which is safe
// because every checkpoint write is atomic. Only async-signal-safe calls here.
extern "C" void on_stop_signal(int signal) {
  if (g_stop_requested) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_stop_requested = 1;
}

constexpr int64_t kGridColumns = 8;

std::string default_run_name(const std::string& method) {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&now));
  return method + "-" + buf;
}

class Trainer {
 public:
  Trainer(TrainConfig config, fs::path run_dir, bool resuming)
      : c_(std::move(config)), run_dir_(std::move(run_dir)), resuming_(resuming) {}
  TrainOutcome run();

 private:
  void setup();
  void restore();
  void restore_from(const fs::path& path);
  void apply_lr();
  void step_once();
  json evaluate();
  void write_samples();
  void save(const fs::path& path);
  void end_epoch();
  fs::path ckpt(const std::string& name) const { return run_dir_ / "checkpoints" / name; }
  /// The method's modules and, with classifier_ema, the weight average (checkpointed together).
  models::NamedModules checkpointed_modules();

  TrainConfig c_;
  fs::path run_dir_;
  bool resuming_;
  torch::Device device_{torch::kCPU};
  RunData data_;
  std::unique_ptr<Method> method_;
  std::shared_ptr<models::WeightEmaImpl> ema_;  ///< moving average of the classifier's weights (classifier_ema > 0)
  std::vector<OptimizerSlot> slots_;
  std::vector<std::vector<double>> base_lrs_;
  std::unique_ptr<BatchStream> source_, target_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<TensorboardWriter> tb_;
  // Position of the next step: epoch_ (0-based), steps already done in it, global iteration.
  int64_t epoch_ = 0, iter_in_epoch_ = 0, iteration_ = 0;
  double best_score_ = -1e300;
  json best_ = json::object(), last_eval_ = json::object();
  double step_seconds_ = 0, wait_seconds_ = 0;
  std::map<std::string, double> loss_sums_;
  int64_t loss_count_ = 0;
};

void Trainer::setup() {
  configure_threads(c_.threads);
  device_ = resolve_device(c_.device);
  torch::manual_seed(c_.seed);
  data_ = open_run_data(c_);
  log_info("source  ", data_.source->describe());
  log_info("target  ", data_.target->describe());
  if (data_.oracle) log_info("oracle  ", data_.oracle->describe(), " (scores only, never selects)");
  MethodContext ctx;
  ctx.device = device_;
  ctx.num_classes = static_cast<int64_t>(data_.classes.size());
  ctx.classes = data_.classes;
  ctx.channels = c_.channels;
  ctx.image_size = c_.image_size;
  ctx.iters_per_epoch = c_.iters_per_epoch;
  method_ = make_method(c_, ctx);
  for (auto& [name, module] : method_->modules()) module->to(device_);
  if (c_.classifier_ema > 0 && method_->has_classifier()) ema_ = std::make_shared<models::WeightEmaImpl>(*method_->classifier_module());
  slots_ = method_->optimizers();
  for (auto& slot : slots_) {  // each group's starting lr, captured before a checkpoint is loaded
    base_lrs_.emplace_back();
    for (auto& group : slot.optimizer->param_groups()) base_lrs_.back().push_back(group_lr(group));
  }
  data::LoaderOptions lo;
  lo.batch_size = c_.batch_size;
  lo.workers = c_.workers;
  lo.bad_files = c_.bad_files == "skip" ? data::BadFilePolicy::kSkip : data::BadFilePolicy::kFail;
  lo.seed = c_.seed;
  source_ = std::make_unique<BatchStream>(data_.source, lo);
  lo.seed = derive_seed(c_.seed, 1, 0x7A6E);
  target_ = std::make_unique<BatchStream>(data_.target, lo);
  ensure_writable_dir(run_dir_ / "checkpoints");
  ensure_writable_dir(run_dir_ / "samples");
  if (!resuming_) write_file_atomic(run_dir_ / "config.toml", to_toml(c_));
}

void Trainer::restore() {
  // A SIGKILL during an atomic write leaves its hidden temporary file; the target is intact.
  const size_t stale = remove_stale_temp_files(run_dir_ / "checkpoints") + remove_stale_temp_files(run_dir_);
  if (stale) log_info("removed ", stale, " temporary file(s) of a write that was interrupted");
  const fs::path path = ckpt("latest.pt");
  try {
    restore_from(path);
  } catch (const json::exception& e) {  // a field missing or of the wrong type: not an untyped error
    throw CheckpointError(path.string() + ": checkpoint metadata is incomplete (" + e.what() +
                          "); use an earlier checkpoint such as checkpoints/epoch_NNN.pt");
  }
}

void Trainer::restore_from(const fs::path& path) {
  models::Checkpoint checkpoint(path);  // verified and parsed once for the checks and the load
  const json& saved = checkpoint.meta();
  if (saved.value("method", std::string()) != c_.method)
    throw CheckpointError(path.string() + ": checkpoint of method '" + saved.value("method", std::string("?")) +
                          "', but the run's config.toml says '" + c_.method + "'");
  if (saved.at("classifier").at("classes") != json(data_.classes))
    throw CheckpointError(path.string() + ": checkpoint classes " + saved.at("classifier").at("classes").dump() +
                          " differ from the source classes " + json(data_.classes).dump());
  models::NamedOptimizers optimizers;
  for (auto& slot : slots_) optimizers.emplace_back(slot.name, slot.optimizer);
  const json& m = checkpoint.load(checkpointed_modules(), optimizers, /*restore_rng=*/true);
  epoch_ = m.at("epoch");
  iter_in_epoch_ = m.at("iter_in_epoch");
  iteration_ = m.at("iteration");
  best_ = m.value("best", json::object());
  best_score_ = m.value("best_score", -1e300);
  method_->load_state(m.value("method_state", json::object()));
  if (m.contains("log_window")) {  // absent in checkpoints of earlier versions: the window restarts
    loss_sums_ = m.at("log_window").at("loss_sums").get<std::map<std::string, double>>();
    loss_count_ = m.at("log_window").at("steps").get<int64_t>();
  }
  source_->seek(m.at("source_position"));
  target_->seek(m.at("target_position"));
  // Records carry the count of iterations done, as does the checkpoint: keep those <= it.
  const size_t pruned = prune_metrics_after(run_dir_ / "metrics.jsonl", iteration_);
  log_info("resuming ", run_dir_.string(), " at epoch ", epoch_ + 1, " step ", iter_in_epoch_, " (iteration ",
           iteration_, (pruned ? ", dropped " + std::to_string(pruned) + " log records written after it" : ""), ")");
}

void Trainer::apply_lr() {
  for (size_t s = 0; s < slots_.size(); ++s) {
    const double factor = lr_factor(slots_[s].schedule, c_, epoch_, iteration_);
    auto& groups = slots_[s].optimizer->param_groups();
    for (size_t g = 0; g < groups.size(); ++g) group_lr(groups[g]) = base_lrs_[s][g] * factor;
  }
}

void Trainer::step_once() {
  const auto t0 = std::chrono::steady_clock::now();
  const double wait0 = source_->wait_seconds() + target_->wait_seconds();
  data::Batch src = source_->next();
  data::Batch tgt = target_->next();
  wait_seconds_ += source_->wait_seconds() + target_->wait_seconds() - wait0;
  apply_lr();
  StepInput in;
  in.source = src.images.to(device_);
  in.source_labels = src.labels.to(device_);
  in.target = tgt.images.to(device_);
  in.epoch = epoch_;
  in.iteration = iteration_;
  if (ema_) in.teacher = averaged_classifier(*method_, *ema_);
  for (auto& [name, module] : method_->modules()) module->train();
  const StepStats stats = method_->train_step(in);
  if (ema_) ema_->update(*method_->classifier_module(), c_.classifier_ema);
  for (const auto& [term, reported] : stats.losses) {
    const double value = fault::poison_loss(term, iteration_) ? std::nan("") : reported;
    // Nothing of this step is saved: the weights in memory may already hold the NaN, and the
    // exception leaves before the checkpoint at the end of this function.
    if (!std::isfinite(value)) {
      const std::string last_good =
          fs::exists(ckpt("latest.pt"))
              ? "the last good checkpoint is " + ckpt("latest.pt").string() +
                    " (lower the learning rates and resume from it)"
              : std::string("no checkpoint was written yet (lower the learning rates and start again)");
      throw NumericalError("loss term '" + term + "' became " + (std::isnan(value) ? "NaN" : "Inf") +
                           " at iteration " + std::to_string(iteration_) + " (epoch " + std::to_string(epoch_ + 1) +
                           "); " + last_good);
    }
    loss_sums_[term] += value;
  }
  ++loss_count_;
  step_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++iteration_;
  ++iter_in_epoch_;
  if (iteration_ % c_.log_every == 0) {
    json rec = {{"kind", "step"}, {"epoch", epoch_ + 1}, {"iter", iteration_}};
    json losses = json::object(), lrs = json::object();
    std::map<std::string, double> means;
    for (auto& [term, sum] : loss_sums_) means[term] = losses[term] = sum / loss_count_;
    for (size_t s = 0; s < slots_.size(); ++s)
      lrs[slots_[s].name] = group_lr(slots_[s].optimizer->param_groups().front());
    rec["losses"] = losses;
    rec["lr"] = lrs;
    rec["extras"] = stats.extras;
    rec["images_per_s"] = step_seconds_ > 0 ? loss_count_ * c_.batch_size / step_seconds_ : 0.0;
    rec["data_wait"] = step_seconds_ > 0 ? wait_seconds_ / step_seconds_ : 0.0;
    metrics_->log(rec);
    tb_->add_scalars(means, iteration_);
    tb_->add_scalar("speed/images_per_s", rec["images_per_s"], iteration_);
    loss_sums_.clear();
    loss_count_ = 0;
    step_seconds_ = wait_seconds_ = 0;
  }
  if (iteration_ % c_.checkpoint_every == 0 && iter_in_epoch_ < c_.iters_per_epoch) save(ckpt("latest.pt"));
}

models::NamedModules Trainer::checkpointed_modules() {
  models::NamedModules modules = method_->modules();
  if (ema_) modules.emplace_back("classifier_ema", ema_);
  return modules;
}

json Trainer::evaluate() {
  for (auto& [name, module] : method_->modules()) module->eval();
  // Scored (and selected) is the classifier that ships: the weight average when there is one.
  models::EmaSwapGuard averaged(ema_.get(), method_->classifier_module().get());
  const int64_t bs = std::max<int64_t>(c_.batch_size, 64);
  json ev = json::object();
  if (!method_->has_classifier()) {  // translation only: nothing to score, the latest is the best
    best_ = {{"epoch", epoch_ + 1}, {"score", 0.0}, {"criterion", "latest (no classifier)"}};
    return {{"kind", "epoch"}, {"epoch", epoch_ + 1}, {"iter", iteration_}, {"eval", ev}, {"is_best", true},
            {"selection_criterion", "latest (translation-only method)"}, {"selection_score", 0.0}};
  }
  double heldout_acc = 0;
  if (data_.heldout) {
    auto [logits, labels] = collect_logits(
        *data_.heldout, [&](const torch::Tensor& x) { return method_->classify_source(x); }, device_, bs, c_.workers);
    const auto m = eval::classification_metrics(logits.argmax(1), labels, data_.classes.size());
    heldout_acc = m.accuracy;
    ev["synthetic/accuracy"] = m.accuracy;
  }
  auto [tlogits, tlabels] = collect_logits(
      *data_.target_eval, [&](const torch::Tensor& x) { return method_->classify(x); }, device_, bs, c_.workers);
  const auto stats = eval::prediction_stats(torch::softmax(tlogits, 1), 0.9);
  ev["target/entropy"] = stats.mean_entropy;
  ev["target/class_balance"] = stats.class_balance;
  ev["target/pseudo_label_acceptance"] = stats.acceptance;
  ev["target/mean_confidence"] = stats.mean_confidence;
  const double score = eval::label_free_score(heldout_acc, stats);
  ev["selection/label_free_score"] = score;
  json confusion;
  if (data_.oracle) {
    auto [ologits, olabels] = collect_logits(
        *data_.oracle, [&](const torch::Tensor& x) { return method_->classify(x); }, device_, bs, c_.workers);
    const auto map = torch::tensor(data_.oracle_to_source, torch::kLong);
    const auto m = eval::classification_metrics(ologits.argmax(1), map.index_select(0, olabels), data_.classes.size());
    ev["oracle/accuracy"] = m.accuracy;
    ev["oracle/macro_accuracy"] = m.macro_accuracy;
    confusion = m.confusion;
  }
  const bool oracle_select = c_.select == "oracle";
  const double selected = oracle_select ? ev.value("oracle/accuracy", 0.0) : score;
  const bool is_best = selected > best_score_;
  json rec = {{"kind", "epoch"}, {"epoch", epoch_ + 1}, {"iter", iteration_}, {"eval", ev}, {"is_best", is_best},
              {"selection_criterion", oracle_select ? "oracle/accuracy (uses target labels)"
                                                    : "label-free score = held-out synthetic accuracy x target "
                                                      "class balance"},
              {"selection_score", selected}};
  if (!confusion.is_null()) rec["confusion"] = confusion;
  if (is_best) {
    best_score_ = selected;
    best_ = {{"epoch", epoch_ + 1}, {"score", selected}, {"criterion", rec["selection_criterion"]}};
  }
  return rec;
}

void Trainer::write_samples() {
  torch::NoGradGuard no_grad;
  auto take = [&](const data::Dataset& d) {
    std::vector<torch::Tensor> xs;
    for (int64_t i = 0; i < kGridColumns && i < static_cast<int64_t>(d.size() ? d.size() : kGridColumns); ++i) {
      std::mt19937_64 rng(derive_seed(c_.seed, i, 0x6A1D));
      xs.push_back(d.get(static_cast<size_t>(i), rng).image);
    }
    return torch::stack(xs).to(device_);
  };
  const auto x = take(data_.heldout ? *data_.heldout : *data_.source);
  const auto y = take(*data_.target_eval);
  std::vector<std::vector<cv::Mat>> rows{tensor_to_u8_images(x)};
  ImageGridOptions options;
  options.row_labels = {"synthetic"};
  const auto gx = method_->translate(x);
  if (gx.defined()) {
    rows.push_back(tensor_to_u8_images(gx));
    options.row_labels.push_back("translated");
  }
  rows.push_back(tensor_to_u8_images(y));
  options.row_labels.push_back("real");
  if (gx.defined()) {
    rows.push_back(tensor_to_u8_images(method_->translate(y)));
    options.row_labels.push_back("real through G");
  }
  const cv::Mat grid = image_grid(rows, options);
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03lld.png", static_cast<long long>(epoch_ + 1));
  write_png(run_dir_ / "samples" / name, grid);
  tb_->add_image("samples", grid, iteration_);
}

void Trainer::save(const fs::path& path) {
  json m;
  m["kind"] = "training-checkpoint";
  m["method"] = c_.method;
  m["config_toml"] = to_toml(c_);
  m["epoch"] = epoch_;
  m["iter_in_epoch"] = iter_in_epoch_;
  m["iteration"] = iteration_;
  m["source_position"] = source_->position();
  m["target_position"] = target_->position();
  m["best"] = best_;
  m["best_score"] = best_score_;
  m["method_state"] = method_->state();
  // The loss sums of the log window in progress, so that the first metrics record after a
  // resume averages over the same steps as an uninterrupted run's (a SIGTERM checkpoint need
  // not fall on a multiple of log_every).
  m["log_window"] = {{"loss_sums", loss_sums_}, {"steps", loss_count_}};
  m["classifier"] = method_->classifier_spec();
  // What is scored and shipped is C's weight average: readers of the checkpoint (eval, predict)
  // load it instead of C's last weights.
  if (ema_) m["classifier_average"] = "classifier_ema";
  models::NamedOptimizers optimizers;
  for (auto& slot : slots_) optimizers.emplace_back(slot.name, slot.optimizer);
  models::save_checkpoint(path, checkpointed_modules(), optimizers, m);
}

void Trainer::end_epoch() {
  method_->on_epoch_end(epoch_);
  last_eval_ = evaluate();
  write_samples();
  metrics_->log(last_eval_);
  for (auto& [name, value] : last_eval_["eval"].items()) tb_->add_scalar("eval/" + name, value.get<double>(), iteration_);
  tb_->flush();
  const bool is_best = last_eval_["is_best"];
  const int64_t finished = epoch_ + 1;
  ++epoch_;
  iter_in_epoch_ = 0;
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03lld.pt", static_cast<long long>(finished));
  const fs::path epoch_file = ckpt(name);
  save(epoch_file);
  // latest.pt is the commit point of the epoch and is written last: a SIGKILL anywhere before
  // it resumes from the previous latest.pt and redoes this epoch end (deterministically), so
  // best.pt, model.pt and the report are rewritten. Written first, a kill between it and
  // best.pt would resume past this epoch with best_ naming it but best.pt/model.pt older.
  if (is_best) write_file_atomic(ckpt("best.pt"), read_file(epoch_file));
  if (is_best && method_->has_classifier()) {
    models::EmaSwapGuard averaged(ema_.get(), method_->classifier_module().get());
    models::NamedModules classifier{{"classifier", method_->classifier_module()}};
    models::save_checkpoint(run_dir_ / "model.pt", classifier, {},
                            {{"kind", "classifier"}, {"classifier", method_->classifier_spec()},
                             {"method", c_.method}, {"epoch", finished}, {"selection", best_}});
  }
  if (c_.keep_epoch_checkpoints > 0 && finished > c_.keep_epoch_checkpoints) {
    std::snprintf(name, sizeof name, "epoch_%03lld.pt", static_cast<long long>(finished - c_.keep_epoch_checkpoints));
    fs::remove(ckpt(name));
  }
  ReportData report;
  report.title = run_dir_.filename().string();
  report.config_summary = {{"method", c_.method}, {"source", c_.source}, {"target", c_.target},
                           {"eval (oracle)", c_.eval}, {"epochs", c_.epochs}, {"iters_per_epoch", c_.iters_per_epoch},
                           {"batch_size", c_.batch_size}, {"image_size", c_.image_size}, {"arch", c_.arch}};
  report.class_names = data_.classes;
  add_records(report, read_metrics(run_dir_ / "metrics.jsonl"));
  write_report(run_dir_, report);
  write_file_atomic(ckpt("latest.pt"), read_file(epoch_file));
}

TrainOutcome Trainer::run() {
  const auto t0 = std::chrono::steady_clock::now();
  g_stop_requested = 0;  // before setup: a signal while the data loads must stop the run too
  if (const std::string faults = fault::describe(); !faults.empty()) log_warn("fault drill: FASHIONCUT_FAULT=", faults);
  setup();
  if (resuming_) restore();
  metrics_ = std::make_unique<MetricsLog>(run_dir_ / "metrics.jsonl");
  tb_ = std::make_unique<TensorboardWriter>(run_dir_ / "tensorboard");
  if (resuming_) tb_->add_session_start(iteration_ + 1);  // TensorBoard drops the stale tail
  log_info("run     ", run_dir_.string(), "  method ", c_.method, "  device ", describe_device(device_));
  TrainOutcome out;
  out.run_dir = run_dir_;
  while (epoch_ < c_.epochs) {
    Progress progress("epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(c_.epochs), c_.iters_per_epoch);
    progress.advance(iter_in_epoch_);
    while (iter_in_epoch_ < c_.iters_per_epoch) {
      fault::before_iteration(iteration_);
      if (g_stop_requested || (c_.stop_after_iters > 0 && iteration_ >= c_.stop_after_iters)) {
        save(ckpt("latest.pt"));
        progress.finish("interrupted");
        out.interrupted = true;
        out.iterations_done = iteration_;
        out.epochs_done = epoch_;
        return out;
      }
      step_once();
      std::string extra;
      if (!loss_sums_.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s %.3f", loss_sums_.begin()->first.c_str(),
                      loss_sums_.begin()->second / std::max<int64_t>(1, loss_count_));
        extra = buf;
      }
      progress.advance(1, extra);
    }
    progress.finish();
    end_epoch();
    log_info("epoch ", epoch_, ": ", last_eval_["eval"].dump());
  }
  out.epochs_done = epoch_;
  out.iterations_done = iteration_;
  out.last_eval = last_eval_;
  out.best = best_;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace

void request_stop() { g_stop_requested = 1; }

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // The handler only sets a flag, so a signal from outside must not make a system call of
  // whichever thread it lands on (a loader worker's read, a write to a piped log) fail with
  // EINTR: restart them.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A file-size limit (ulimit -f) must fail the write (EFBIG -> IoError naming the file, the
  // previous checkpoint intact), not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
}

TrainOutcome train(const TrainConfig& config) {
  config.validate();
  register_builtin_methods();
  TrainConfig c = config;
  if (c.name.empty()) c.name = default_run_name(c.method);
  const fs::path run_dir = fs::path(c.runs_dir) / c.name;
  if (fs::exists(run_dir / "checkpoints" / "latest.pt") || fs::exists(run_dir / "config.toml"))
    throw ConfigError(run_dir.string() + " already holds a run; continue it with `fashioncut train --resume " +
                      run_dir.string() + "` or choose another --name");
  return Trainer(c, run_dir, false).run();
}

TrainOutcome resume(const fs::path& run_dir, int64_t epochs) {
  register_builtin_methods();
  if (!fs::exists(run_dir / "config.toml"))
    throw ConfigError(run_dir.string() + ": no config.toml here; --resume takes a run directory such as runs/<name>");
  if (!fs::exists(run_dir / "checkpoints" / "latest.pt"))
    throw CheckpointError(run_dir.string() + ": no checkpoints/latest.pt yet (the run stopped before its first "
                          "checkpoint); start it again without --resume");
  TrainConfig c = load_train_config(run_dir / "config.toml");
  c.stop_after_iters = 0;  // a drill's stop point applies to the first run only
  if (epochs > 0) {
    c.epochs = epochs;
    c.validate();
    write_file_atomic(run_dir / "config.toml", to_toml(c));
  }
  return Trainer(c, run_dir, true).run();
}

}  // namespace fashioncut::train
