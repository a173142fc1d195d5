// Thread configuration for LibTorch and OpenCV.
#pragma once

namespace fashioncut {

/// Sets LibTorch intra-op threads to `threads` (<= 0: all cores), inter-op threads to 1
/// (once per process), and OpenCV to 1 thread (our loaders parallelise across images).
/// Note: LibTorch and Python torch both default to 1 thread on this machine.
/// Returns the number of intra-op threads in effect.
int configure_threads(int threads);

/// Number of hardware threads (at least 1).
int hardware_threads();

}  // namespace fashioncut
