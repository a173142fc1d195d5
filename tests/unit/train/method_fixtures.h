// Helpers shared by the method tests of this folder.
#pragma once
#include <cstdint>

#include "fashioncut/train/method.h"

namespace fashioncut::train::fixtures {

/// What a method learns from the data at construction: three classes a, b, c of gray size×size
/// images.
inline MethodContext tiny_context(int64_t size) {
  MethodContext ctx;
  ctx.num_classes = 3;
  ctx.classes = {"a", "b", "c"};
  ctx.channels = 1;
  ctx.image_size = size;
  return ctx;
}

}  // namespace fashioncut::train::fixtures
