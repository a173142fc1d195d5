// The TLL baselines: one file per method (dann.cpp, bsp.cpp, mdd.cpp, afn.cpp); source-only
// (ERM) registers itself from source_only.cpp.
#include "fashioncut/train/methods/baselines.h"

#include "fashioncut/train/methods/methods.h"

namespace fashioncut::train::methods {
void register_baseline_methods() {
  register_dann_method();
  register_bsp_method();
  register_mdd_method();
  register_afn_method();
}
}  // namespace fashioncut::train::methods
