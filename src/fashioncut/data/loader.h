// Batches from a Dataset: background decode threads, a bounded prefetch queue, and an
// order/augmentation that is a pure function of (seed, epoch, index), whatever the worker count.
#pragma once
#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fashioncut/data/dataset.h"

namespace fashioncut::data {

enum class BadFilePolicy {
  kFail,  ///< the first bad file (in batch order) makes next() throw its ImageError
  kSkip,  ///< bad files are left out of their batch, logged once each, and listed by skipped()
};

struct LoaderOptions {
  int64_t batch_size = 8;
  bool shuffle = true;      ///< a fresh permutation per epoch (seeded by (seed, epoch))
  bool drop_last = true;    ///< drop the final partial batch of an epoch
  bool infinite = false;    ///< next() never ends: it runs on into the next epoch itself
  int workers = 2;          ///< decode threads; 0 = decode inside next() on the calling thread
  int prefetch_batches = 4; ///< most batches decoded ahead of the consumer (>= 1)
  uint64_t seed = 0;
  BadFilePolicy bad_files = BadFilePolicy::kFail;
  /// Epoch length in batches. 0 = from the dataset size. For a finite dataset a smaller value
  /// caps the epoch (quick runs). Required (> 0) for an unlimited dataset (size() == 0) unless
  /// `infinite`, where it then defaults to 1000 (the epoch only keys the augmentation RNG).
  int64_t batches_per_epoch = 0;
};

/// One batch. Under kSkip a batch that contained bad files comes out smaller (no refill, so the
/// order stays a pure function of (seed, epoch)); a batch whose files were all bad is skipped.
struct Batch {
  torch::Tensor images;  ///< float [N,C,H,W]
  torch::Tensor labels;  ///< int64 [N], -1 for unlabelled
  std::vector<std::string> paths;
  int64_t epoch = 0;     ///< epoch and position of this batch (for exact resume)
  int64_t index = 0;
};

/// Iterates a dataset in batches. Order: epoch e is the permutation seeded by (seed, e) (or
/// 0..n-1 without shuffle); batch b holds positions [b*B, (b+1)*B). Sample i of epoch e is
/// transformed with make_rng(derive_seed(seed, e, 1), i), so results are identical for any
/// number of workers, and start_epoch(e, k) gives exactly what skipping k batches would.
/// Single consumer: call start_epoch/next from one thread.
class Loader {
 public:
  /// Throws ConfigError for bad options, DataError if the dataset is empty or smaller than
  /// one batch with drop_last.
  Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~Loader();  ///< stops and joins the workers, also mid-epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Starts epoch `epoch` at batch `first_batch` (for exact resume); discards any prefetched work.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  /// Next batch of the current epoch, or nullopt at its end (infinite mode: never ends, moves
  /// to the next epoch itself). Starts epoch 0 if start_epoch was never called. Under kFail
  /// rethrows the ImageError of a bad file (again on every call until start_epoch).
  std::optional<Batch> next();

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  /// Epoch and batch index that the next call to next() will return (checkpoint these to resume).
  int64_t epoch() const;
  int64_t batch_in_epoch() const;
  /// Total seconds next() spent blocked waiting for workers (for the data-wait fraction).
  double wait_seconds() const;
  /// Bad files skipped under kSkip so far, sorted.
  std::vector<std::string> skipped() const;
  const Dataset& dataset() const { return *dataset_; }

 private:
  struct Slot {
    std::optional<Batch> batch;  // nullopt: every file in it was skipped
    std::exception_ptr error;
  };
  Slot build(int64_t global_batch);
  std::shared_ptr<const std::vector<size_t>> order_for(int64_t epoch);
  void worker_loop();
  void stop_workers();
  void start_workers();

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  size_t size_ = 0;  // 0 = unlimited
  int64_t batches_per_epoch_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable space_cv_, ready_cv_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
  bool started_ = false;
  int64_t next_deliver_ = 0;  // global batch number = epoch * batches_per_epoch + batch
  int64_t next_claim_ = 0;
  int64_t limit_ = 0;         // first global batch not to produce
  std::map<int64_t, Slot> ready_;
  std::exception_ptr failure_;
  double wait_seconds_ = 0;

  std::mutex order_mutex_;
  std::map<int64_t, std::shared_ptr<const std::vector<size_t>>> orders_;

  mutable std::mutex skipped_mutex_;
  std::set<std::string> skipped_;
};

}  // namespace fashioncut::data
