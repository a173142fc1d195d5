// Fault drills on the real CLI (docs/RELIABILITY.md): SIGKILL at five points of one run
// (two of them halfway through a checkpoint write), SIGTERM and SIGINT, a file-size limit
// during a checkpoint, NaN in a loss, and checkpoints or configs that do not fit. Each drill
// checks that `latest.pt` is never torn, that `--resume` finishes the run, and that the final
// weights equal an uninterrupted run's bit for bit (CPU, fixed seed, one thread).
// The faults come from the test-only hook FASHIONCUT_FAULT (src/fashioncut/core/fault.h).
#include <gmock/gmock.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/models/checkpoint.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/train_config.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using fashioncut::testing::CommandResult;
using fashioncut::testing::run_command;
using fashioncut::testing::shell_quote;

void write_images(const fs::path& root, bool labelled, const std::vector<std::string>& classes, int per_class) {
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path dir = labelled ? root / classes[c] : root;
    fs::create_directories(dir);
    for (int i = 0; i < per_class; ++i) {
      cv::Mat img(32, 32, CV_8UC1, cv::Scalar(10 + 5 * i));
      cv::rectangle(img, {4 + 3 * int(c), 6 + i % 3, 14, 8 + 4 * int(c)}, cv::Scalar(220), cv::FILLED);
      cv::imwrite((dir / (classes[c] + "_" + std::to_string(i) + ".png")).string(), img);
    }
  }
}

/// Iterations: 3 epochs x 3; mid-epoch `latest` checkpoints at iterations 2, 4 and 8, epoch
/// checkpoints (epoch_NNN.pt, then latest.pt) at 3, 6 and 9.
class FaultsTest : public fashioncut::testing::SeedingFixture {
 protected:
  void SetUp() override {
    SeedingFixture::SetUp();
    write_images(scratch() / "src", true, {"bar", "square"}, 4);
    write_images(scratch() / "tgt", false, {"x", "y"}, 4);
  }

  fs::path write_config(const std::string& method) {
    const fs::path path = scratch() / (method + ".toml");
    std::ofstream f(path);
    f << "method = \"" << method << "\"\nruns-dir = \"" << (scratch() / "runs").string() << "\"\n"
      << "source = \"" << (scratch() / "src").string() << "\"\ntarget = \"" << (scratch() / "tgt").string() << "\"\n"
      << "device = \"cpu\"\nthreads = 1\nworkers = 1\nimage-size = 32\nchannels = 1\nepochs = 3\n"
      << "iters-per-epoch = 3\nbatch-size = 2\ncheckpoint-every = 2\nlog-every = 1\nkeep-epoch-checkpoints = 0\n"
      << "ngf = 4\nndf = 4\nn-blocks = 1\nn-layers-d = 2\nnce-layers = [0, 4, 8, 12]\nnum-patches = 8\n"
      << "netf-nc = 8\npseudo-label-start = 1\nheldout-count = 0\ntarget-eval-count = 8\n";
    return path;
  }

  CommandResult cli(const std::string& args, const std::string& fault = "", const std::string& prefix = "") {
    const std::string env = "OMP_NUM_THREADS=1 FASHIONCUT_FAULT=" + shell_quote(fault) + " ";
    return run_command(prefix + env + shell_quote(FASHIONCUT_CLI) + " " + args);
  }
  CommandResult train(const std::string& method, const std::string& name, const std::string& fault = "") {
    return cli("train --config " + shell_quote(write_config(method).string()) + " --name " + name, fault);
  }
  CommandResult resume(const std::string& name, const std::string& fault = "", const std::string& prefix = "") {
    return cli("train --resume " + shell_quote(run(name).string()), fault, prefix);
  }
  fs::path run(const std::string& name) const { return scratch() / "runs" / name; }

  /// No hidden temporary file (a killed or failed writer's leftover) is left in checkpoints/.
  void expect_no_temporary_files(const std::string& name) const {
    for (const auto& entry : fs::directory_iterator(run(name) / "checkpoints"))
      EXPECT_NE(entry.path().filename().string()[0], '.') << "temporary file left: " << entry.path();
  }

  /// Every non-hidden .pt of the run reads back (none is torn); returns latest.pt's iteration.
  int64_t check_checkpoints(const std::string& name) {
    for (const auto& entry : fs::directory_iterator(run(name) / "checkpoints")) {
      const std::string file = entry.path().filename().string();
      if (file[0] == '.') continue;  // a killed writer's temporary file, never read
      EXPECT_NO_THROW(models::read_checkpoint_meta(entry.path())) << file << " is torn";
    }
    return models::read_checkpoint_meta(run(name) / "checkpoints/latest.pt").at("iteration");
  }

  /// Everything a checkpoint of `method` resumes from, in a canonical order: every module's
  /// parameters and buffers by name, every optimizer's per-parameter state in parameter order,
  /// the CPU RNG state, and the position/method-state metadata. Canonical because LibTorch
  /// writes an optimizer's state in the order of a hash map keyed by each parameter's
  /// TensorImpl address (torch/optim/serialize.h), which differs from process to process: two
  /// checkpoints of the same state do not list their optimizer tensors in the same order.
  std::vector<std::pair<std::string, torch::Tensor>> state(const std::string& method, const fs::path& ckpt) {
    register_builtin_methods();
    TrainConfig c = load_train_config(write_config(method));
    MethodContext ctx;
    ctx.num_classes = 2;
    ctx.classes = {"bar", "square"};
    ctx.channels = 1;
    ctx.image_size = 32;
    auto m = make_method(c, ctx);
    models::NamedOptimizers optimizers;
    for (auto& slot : m->optimizers()) optimizers.emplace_back(slot.name, slot.optimizer);
    const nlohmann::json meta = models::load_checkpoint(ckpt, m->modules(), optimizers, /*restore_rng=*/false);
    std::vector<std::pair<std::string, torch::Tensor>> out;
    torch::serialize::InputArchive archive;
    archive.load_from(ckpt.string());
    torch::Tensor rng;
    EXPECT_TRUE(archive.try_read("rng.cpu", rng)) << ckpt;
    out.emplace_back("rng.cpu", rng);
    for (auto& [n, module] : m->modules()) {
      for (auto& p : module->named_parameters()) out.emplace_back(n + "." + p.key(), p.value().detach().clone());
      for (auto& b : module->named_buffers()) out.emplace_back(n + "." + b.key(), b.value().clone());
    }
    for (auto& [n, opt] : optimizers) {
      for (size_t g = 0; g < opt->param_groups().size(); ++g) {
        const auto& params = opt->param_groups()[g].params();
        for (size_t i = 0; i < params.size(); ++i) {
          const std::string key = n + "/" + std::to_string(g) + "/" + std::to_string(i);
          auto it = opt->state().find(c10::guts::to_string(params[i].unsafeGetTensorImpl()));
          if (it == opt->state().end()) continue;
          if (auto* a = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
            out.emplace_back(key + ".step", torch::tensor(a->step()));
            out.emplace_back(key + ".exp_avg", a->exp_avg());
            out.emplace_back(key + ".exp_avg_sq", a->exp_avg_sq());
            if (a->max_exp_avg_sq().defined()) out.emplace_back(key + ".max_exp_avg_sq", a->max_exp_avg_sq());
          } else if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
            if (s->momentum_buffer().defined()) out.emplace_back(key + ".momentum", s->momentum_buffer());
          } else {
            ADD_FAILURE() << "optimizer state of a type this test does not compare: " << key;
          }
        }
      }
    }
    for (const char* field : {"iteration", "epoch", "iter_in_epoch", "source_position", "target_position",
                              "method_state", "best_score"}) {
      const std::string text = meta.value(field, nlohmann::json()).dump();
      out.emplace_back(std::string("meta.") + field,
                       torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())},
                                        torch::kChar).clone());
    }
    return out;
  }

  /// The final checkpoints of runs `a` and `b` hold the same state, bit for bit.
  void expect_same_state(const std::string& method, const std::string& a, const std::string& b) {
    const auto sa = state(method, run(a) / "checkpoints/latest.pt");
    const auto sb = state(method, run(b) / "checkpoints/latest.pt");
    ASSERT_EQ(sa.size(), sb.size());
    size_t differ = 0;
    for (size_t i = 0; i < sa.size(); ++i) {
      ASSERT_EQ(sa[i].first, sb[i].first);
      const bool same = sa[i].second.sizes() == sb[i].second.sizes() &&
                        sa[i].second.dtype() == sb[i].second.dtype() && torch::equal(sa[i].second, sb[i].second);
      if (!same && ++differ <= 10) ADD_FAILURE() << sa[i].first << " differs between " << a << " and " << b;
    }
    EXPECT_EQ(differ, 0u) << "of " << sa.size() << " entries";
  }

  /// Starts `fashioncut ARGS` in the background (stdout+stderr to `log`); returns its pid.
  pid_t start(const std::string& args, const fs::path& log) const {
    const std::string command = "OMP_NUM_THREADS=1 exec " + shell_quote(FASHIONCUT_CLI) + " " + args + " >" +
                                shell_quote(log.string()) + " 2>&1";
    const pid_t pid = fork();
    if (pid == 0) {
      ::unsetenv("FASHIONCUT_FAULT");
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }

  /// Step records in the run's metrics.jsonl (one per iteration with log-every = 1).
  int64_t step_records(const std::string& name) const {
    std::ifstream f(run(name) / "metrics.jsonl");
    int64_t n = 0;
    for (std::string line; std::getline(f, line);) n += line.find("\"kind\":\"step\"") != std::string::npos;
    return n;
  }

  /// Waits until `name` has logged `steps` steps (or the process ended), sleeps `delay`, then
  /// sends `sig` from this process; returns the wait status of the CLI.
  int signal_after(pid_t pid, const std::string& name, int64_t steps, std::chrono::milliseconds delay, int sig) {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (step_records(name) < steps && std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) return status;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(delay);
    ::kill(pid, sig);
    waitpid(pid, &status, 0);
    return status;
  }
};

bool killed(const CommandResult& r) { return r.exit_code == 137 || r.exit_code == -1; }

TEST_F(FaultsTest, SigkillAtFivePointsResumesToTheUninterruptedWeights) {
  ASSERT_EQ(train("fashion-cut", "straight").exit_code, 0);
  // (fault, latest.pt's iteration after it): mid-epoch, inside the epoch checkpoint's write,
  // inside latest.pt's write at an epoch end, right after an epoch end, inside a mid-epoch
  // latest.pt write.
  const std::vector<std::pair<std::string, int64_t>> points = {
      {"kill@5", 4}, {"kill-in-write:epoch_002.pt#1", 4}, {"kill-in-write:latest.pt#1", 4},
      {"kill@7", 6}, {"kill-in-write:latest.pt#1", 6}};
  for (size_t i = 0; i < points.size(); ++i) {
    SCOPED_TRACE(points[i].first);
    const auto r = i == 0 ? train("fashion-cut", "broken", points[i].first) : resume("broken", points[i].first);
    EXPECT_TRUE(killed(r)) << r.exit_code << "\n" << r.output;
    EXPECT_EQ(check_checkpoints("broken"), points[i].second);
  }
  const auto done = resume("broken");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_THAT(done.output, HasSubstr("temporary file"));  // the killed write's leftover is cleaned
  expect_no_temporary_files("broken");
  EXPECT_EQ(check_checkpoints("broken"), 9);
  expect_same_state("fashion-cut", "straight", "broken");
}

// Faults at moments that are not iteration boundaries, as bench/faults sends them: a SIGKILL
// inside best.pt's write at an epoch end (after epoch_001.pt, before latest.pt), then signals
// sent from this process while the CLI is in the middle of a step: SIGTERM, then SIGKILL.
// The final state (weights, buffers, optimizer moments, RNG, positions, the pseudo-label
// prior) must equal the uninterrupted run's, and best.pt too.
TEST_F(FaultsTest, OutsideSignalsMidStepResumeToTheUninterruptedState) {
  ASSERT_EQ(train("fashion-cut", "straight").exit_code, 0);
  const std::string name = "outside";
  const auto first = train("fashion-cut", name, "kill-in-write:best.pt#1");
  EXPECT_TRUE(killed(first)) << first.exit_code << "\n" << first.output;
  // latest.pt is written last at an epoch end: the kill inside best.pt's write (iteration 3)
  // leaves the mid-epoch latest.pt of iteration 2, and the resume redoes the epoch end.
  EXPECT_EQ(check_checkpoints(name), 2);
  using std::chrono::milliseconds;
  const std::string resume_args = "train --resume " + shell_quote(run(name).string());
  const fs::path log = scratch() / "outside.log";
  auto read_log = [&] { return read_file(log); };

  int status = signal_after(start(resume_args, log), name, 5, milliseconds(20), SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << status << "\n" << read_log();
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_log();
  EXPECT_THAT(read_log(), HasSubstr("fashioncut train --resume " + run(name).string()));
  const int64_t at_term = check_checkpoints(name);
  EXPECT_GE(at_term, 5);
  EXPECT_EQ(step_records(name), at_term);  // checkpointed at the boundary after the signal

  status = signal_after(start(resume_args, log), name, at_term + 2, milliseconds(30), SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status << "\n" << read_log();
  check_checkpoints(name);

  const auto done = resume(name);
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_EQ(check_checkpoints(name), 9);
  expect_same_state("fashion-cut", "straight", name);
  ASSERT_TRUE(fs::exists(run(name) / "checkpoints/best.pt"));
  ASSERT_TRUE(fs::exists(run(name) / "model.pt"));
  const auto best_a = state("fashion-cut", run("straight") / "checkpoints/best.pt");
  const auto best_b = state("fashion-cut", run(name) / "checkpoints/best.pt");
  ASSERT_EQ(best_a.size(), best_b.size());
  for (size_t i = 0; i < best_a.size(); ++i) EXPECT_TRUE(torch::equal(best_a[i].second, best_b[i].second)) << best_a[i].first;
}

TEST_F(FaultsTest, SigtermAndSigintCheckpointExitWithResumeHint) {
  ASSERT_EQ(train("source-only", "straight").exit_code, 0);
  const auto term = train("source-only", "stopped", "term@5");
  EXPECT_EQ(term.exit_code, 130) << term.output;
  EXPECT_THAT(term.output, HasSubstr("interrupted at iteration 5"));
  EXPECT_THAT(term.output, HasSubstr("fashioncut train --resume " + run("stopped").string()));
  EXPECT_EQ(check_checkpoints("stopped"), 5);  // the checkpoint of the signal, not the periodic one
  const auto sigint = resume("stopped", "int@7");
  EXPECT_EQ(sigint.exit_code, 130) << sigint.output;
  EXPECT_EQ(check_checkpoints("stopped"), 7);
  const auto done = resume("stopped");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  expect_same_state("source-only", "straight", "stopped");
}

TEST_F(FaultsTest, FileSizeLimitDuringCheckpointKeepsThePreviousOne) {
  ASSERT_EQ(train("source-only", "straight").exit_code, 0);
  ASSERT_EQ(train("source-only", "full", "term@3").exit_code, 130);
  const auto latest = run("full") / "checkpoints/latest.pt";
  const std::string before = read_file(latest);
  // 1 MiB per file (bash counts 1024-byte blocks): logs fit, a checkpoint (tens of MB) does not.
  const auto r = resume("full", "", "ulimit -f 1024; ");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("latest.pt: write failed (File too large); previous file left intact"));
  EXPECT_EQ(read_file(latest), before);
  expect_no_temporary_files("full");
  const auto done = resume("full");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  expect_same_state("source-only", "straight", "full");
}

TEST_F(FaultsTest, NanInALossNamesTermAndStepAndTheLastCheckpointLoads) {
  ASSERT_EQ(train("fashion-cut", "straight").exit_code, 0);
  const auto r = train("fashion-cut", "nan", "nan:G/nce@5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("loss term 'G/nce' became NaN at iteration 5 (epoch 2)"));
  EXPECT_THAT(r.output, HasSubstr(run("nan").string() + "/checkpoints/latest.pt"));
  EXPECT_EQ(check_checkpoints("nan"), 4);
  for (const auto& [name, t] : state("fashion-cut", run("nan") / "checkpoints/latest.pt"))
    if (t.is_floating_point()) {
      EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name;
    }
  const auto done = resume("nan");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  expect_same_state("fashion-cut", "straight", "nan");
  // Before the first checkpoint there is none to point to.
  const auto early = train("source-only", "early", "nan:C/ce@0");
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_THAT(early.output, HasSubstr("no checkpoint was written yet"));
}

TEST_F(FaultsTest, CheckpointsAndConfigsThatDoNotFitGiveOneClearError) {
  ASSERT_EQ(train("source-only", "a", "term@2").exit_code, 130);
  ASSERT_EQ(train("fashion-cut", "b", "term@2").exit_code, 130);
  const fs::path a = run("a") / "checkpoints/latest.pt";
  const std::string good = read_file(a);
  auto expect_error = [&](const std::string& what, const std::string& needle) {
    SCOPED_TRACE(what);
    const auto r = resume("a");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr(needle));
    size_t errors = 0;
    for (size_t at = r.output.find("error"); at != std::string::npos; at = r.output.find("error", at + 1)) ++errors;
    EXPECT_EQ(errors, 1u) << "one error line expected:\n" << r.output;
  };
  write_file_atomic(a, good.substr(0, good.size() / 2));
  expect_error("truncated", a.string() + ": not a readable fashioncut checkpoint (truncated or corrupt: no end-of-central-directory record");
  std::string flipped = good;
  // The zip's central directory (the last bytes).
  for (size_t i = flipped.size() - 64; i < flipped.size(); ++i) flipped[i] = char(~flipped[i]);
  write_file_atomic(a, flipped);
  expect_error("corrupt directory", a.string() + ": not a readable fashioncut checkpoint (truncated or corrupt");
  // One bit inside a tensor's bytes (the middle of the file): LibTorch's reader would load it as
  // a changed weight; the CRC-32 check refuses it, naming the entry.
  flipped = good;
  flipped[flipped.size() / 2] = char(flipped[flipped.size() / 2] ^ 0x10);
  write_file_atomic(a, flipped);
  expect_error("bit flip in a tensor", "fails its CRC-32 check");
  write_file_atomic(a, "");
  expect_error("empty", a.string() + ": checkpoint is empty (0 bytes)");
  write_file_atomic(a, read_file(run("b") / "checkpoints/latest.pt"));
  expect_error("another method", "checkpoint of method 'fashion-cut', but the run's config.toml says 'source-only'");
  write_file_atomic(a, good);
  const fs::path config = run("a") / "config.toml";
  const std::string toml = read_file(config);
  std::string other_arch = toml;
  const auto arch_at = other_arch.find("arch=\"resnet18\"");
  ASSERT_NE(arch_at, std::string::npos) << toml;
  other_arch.replace(arch_at, std::string("arch=\"resnet18\"").size(), "arch=\"resnet34\"");
  write_file_atomic(config, other_arch);
  expect_error("another architecture", "module 'C' does not fit this architecture");
  write_file_atomic(config, toml + "a-key-from-a-newer-version = 1\n");
  expect_error("newer config", "a-key-from-a-newer-version");
  write_file_atomic(config, toml);
  fs::create_directories(scratch() / "src" / "circle");
  fs::copy(scratch() / "src" / "bar" / "bar_0.png", scratch() / "src" / "circle" / "c.png");
  expect_error("another class list", "differ from the source classes");
  fs::remove_all(scratch() / "src" / "circle");
  ASSERT_EQ(resume("a").exit_code, 0);
}

}  // namespace
}  // namespace fashioncut::train
