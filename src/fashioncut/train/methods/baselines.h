// Registration functions of the TLL baselines, one per methods/<name>.cpp; all called by
// register_baseline_methods() (methods/baselines.cpp).
#pragma once

namespace fashioncut::train::methods {
/// "dann" (methods/dann.cpp).
void register_dann_method();
/// "bsp" (methods/bsp.cpp).
void register_bsp_method();
/// "mdd" (methods/mdd.cpp).
void register_mdd_method();
/// "afn" (methods/afn.cpp).
void register_afn_method();
}  // namespace fashioncut::train::methods
