// Registration entry points of the built-in methods (called by register_builtin_methods()).
#pragma once

namespace fashioncut::train::methods {
/// cut, fastcut, fashion-cut, cut-then-classify (methods/cut_methods.cpp).
void register_cut_methods();
/// source-only (methods/source_only.cpp).
void register_source_only_method();
/// dann, bsp, mdd, afn (methods/baselines.cpp).
void register_baseline_methods();
}  // namespace fashioncut::train::methods
