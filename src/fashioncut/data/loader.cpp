#include "fashioncut/data/loader.h"

#include <opencv2/core.hpp>

#include <chrono>
#include <limits>
#include <mutex>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/log.h"
#include "fashioncut/core/seed.h"

namespace fashioncut::data {
namespace {
constexpr uint64_t kAugmentStream = 1;
constexpr uint64_t kOrderStream = 2;
constexpr int64_t kDefaultUnlimitedBatches = 1000;

/// Uniform integer in [0, bound) without std:: distributions (their output differs across
/// standard libraries; ours must not).
uint64_t bounded(std::mt19937_64& rng, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * bound) >> 64);
}
}  // namespace

Loader::Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw ConfigError("Loader: no dataset");
  if (options_.batch_size < 1) throw ConfigError("batch_size must be >= 1");
  if (options_.workers < 0) throw ConfigError("loader workers must be >= 0");
  if (options_.prefetch_batches < 1) throw ConfigError("prefetch_batches must be >= 1");
  if (options_.batches_per_epoch < 0) throw ConfigError("batches_per_epoch must be >= 0");
  size_ = dataset_->size();
  if (size_ == 0) {
    batches_per_epoch_ = options_.batches_per_epoch;
    if (batches_per_epoch_ == 0) {
      if (!options_.infinite)
        throw ConfigError(dataset_->describe() + ": unlimited dataset needs batches_per_epoch > 0 (or infinite mode)");
      batches_per_epoch_ = kDefaultUnlimitedBatches;
    }
  } else {
    const auto n = static_cast<int64_t>(size_), b = options_.batch_size;
    batches_per_epoch_ = options_.drop_last ? n / b : (n + b - 1) / b;
    if (batches_per_epoch_ == 0)
      throw DataError(dataset_->describe() + ": fewer images (" + std::to_string(n) + ") than one batch (" +
                      std::to_string(b) + "); lower batch_size or disable drop_last");
    if (options_.batches_per_epoch > 0) batches_per_epoch_ = std::min(batches_per_epoch_, options_.batches_per_epoch);
  }
}

Loader::~Loader() { stop_workers(); }

std::shared_ptr<const std::vector<size_t>> Loader::order_for(int64_t epoch) {
  std::lock_guard<std::mutex> lock(order_mutex_);
  if (auto it = orders_.find(epoch); it != orders_.end()) return it->second;
  auto order = std::make_shared<std::vector<size_t>>(size_);
  for (size_t i = 0; i < size_; ++i) (*order)[i] = i;
  if (options_.shuffle) {
    auto rng = make_rng(options_.seed, static_cast<uint64_t>(epoch), kOrderStream);
    for (size_t i = size_; i > 1; --i) std::swap((*order)[i - 1], (*order)[bounded(rng, i)]);
  }
  while (orders_.size() >= 2) orders_.erase(orders_.begin());  // at most two epochs are ever in flight
  orders_.emplace(epoch, order);
  return order;
}

Loader::Slot Loader::build(int64_t global_batch) {
  Slot slot;
  try {
    const int64_t epoch = global_batch / batches_per_epoch_;
    const int64_t b = global_batch % batches_per_epoch_;
    const uint64_t aug_seed = derive_seed(options_.seed, static_cast<uint64_t>(epoch), kAugmentStream);
    std::shared_ptr<const std::vector<size_t>> order;
    int64_t begin = b * options_.batch_size, end = begin + options_.batch_size;
    if (size_ > 0) {
      order = order_for(epoch);
      end = std::min<int64_t>(end, static_cast<int64_t>(size_));
    }
    std::vector<torch::Tensor> images;
    std::vector<int64_t> labels;
    Batch batch;
    for (int64_t pos = begin; pos < end; ++pos) {
      const size_t index = order ? (*order)[static_cast<size_t>(pos)]
                                 : static_cast<size_t>(global_batch * options_.batch_size + (pos - begin));
      auto rng = make_rng(aug_seed, index);
      try {
        Example ex = dataset_->get(index, rng);
        images.push_back(std::move(ex.image));
        labels.push_back(ex.label);
        batch.paths.push_back(std::move(ex.path));
      } catch (const ImageError& e) {
        if (options_.bad_files == BadFilePolicy::kFail) throw;
        std::lock_guard<std::mutex> lock(skipped_mutex_);
        if (skipped_.insert(e.path).second) log_warn("skipping bad image ", e.what());
      }
    }
    if (!images.empty()) {
      batch.images = torch::stack(images);
      batch.labels = torch::tensor(labels, torch::kInt64);
      batch.epoch = epoch;
      batch.index = b;
      slot.batch = std::move(batch);
    }
  } catch (...) {
    slot.error = std::current_exception();
  }
  return slot;
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    space_cv_.wait(lock, [&] {
      return stop_ || (next_claim_ < limit_ && next_claim_ < next_deliver_ + options_.prefetch_batches);
    });
    if (stop_) return;
    const int64_t g = next_claim_++;
    lock.unlock();
    Slot slot = build(g);
    lock.lock();
    if (stop_) return;
    ready_[g] = std::move(slot);
    ready_cv_.notify_all();
  }
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = false;
  ready_.clear();
}

void Loader::start_workers() {
  // Parallelism comes from decoding many images at once, so OpenCV's own pool stays at one
  // thread. cv::setNumThreads is a process-wide setting that resizes OpenCV's pool and is not
  // thread-safe: set it once, from here, not from every worker as it starts (two workers doing
  // it at the same moment crashed a test under load).
  static std::once_flag opencv_single_thread;
  std::call_once(opencv_single_thread, [] { cv::setNumThreads(1); });
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  if (epoch < 0 || first_batch < 0 || first_batch > batches_per_epoch_)
    throw ConfigError("start_epoch(" + std::to_string(epoch) + ", " + std::to_string(first_batch) +
                      "): batch must be in 0.." + std::to_string(batches_per_epoch_));
  stop_workers();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    next_deliver_ = next_claim_ = epoch * batches_per_epoch_ + first_batch;
    limit_ = options_.infinite ? std::numeric_limits<int64_t>::max() : (epoch + 1) * batches_per_epoch_;
    failure_ = nullptr;
    started_ = true;
  }
  start_workers();
}

std::optional<Batch> Loader::next() {
  if (!started_) start_epoch(0, 0);
  int64_t empty_in_a_row = 0;
  while (true) {
    if (failure_) std::rethrow_exception(failure_);
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (next_deliver_ >= limit_) return std::nullopt;
      const int64_t g = next_deliver_;
      if (workers_.empty()) {
        lock.unlock();
        slot = build(g);
        lock.lock();
      } else {
        if (!ready_.count(g)) {
          const auto t0 = std::chrono::steady_clock::now();
          ready_cv_.wait(lock, [&] { return ready_.count(g) > 0; });
          wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        slot = std::move(ready_[g]);
        ready_.erase(g);
      }
      ++next_deliver_;
    }
    space_cv_.notify_all();
    if (slot.error) {
      failure_ = slot.error;
      stop_workers();
      std::rethrow_exception(failure_);
    }
    if (slot.batch) return std::move(slot.batch);
    if (++empty_in_a_row >= batches_per_epoch_)
      throw DataError(dataset_->describe() + ": every image in a whole epoch was bad (skipped " +
                      std::to_string(skipped().size()) + " files)");
  }
}

int64_t Loader::epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_deliver_ / batches_per_epoch_;
}

int64_t Loader::batch_in_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_deliver_ % batches_per_epoch_;
}

double Loader::wait_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_seconds_;
}

std::vector<std::string> Loader::skipped() const {
  std::lock_guard<std::mutex> lock(skipped_mutex_);
  return {skipped_.begin(), skipped_.end()};
}

}  // namespace fashioncut::data
