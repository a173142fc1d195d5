#include "fashioncut/core/threads.h"

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>

#include <mutex>
#include <thread>

namespace fashioncut {

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int configure_threads(int threads) {
  const int n = threads > 0 ? threads : hardware_threads();
  at::set_num_threads(n);
  static std::once_flag interop_once;
  std::call_once(interop_once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Already started by an earlier parallel call; harmless.
    }
  });
  cv::setNumThreads(1);
  return n;
}

}  // namespace fashioncut
