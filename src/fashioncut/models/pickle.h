// A small, defensive reader and writer for the subset of Python's pickle format that
// `torch.save` emits for a state_dict (protocol 2; the common protocol 3-5 opcodes are
// read too). The reader builds an object graph in an arena: objects refer to each other by
// index, so malicious input can neither recurse the C++ stack nor leak through reference
// cycles. Every read is bounds-checked; anything unexpected throws CheckpointError naming
// the source and the byte offset. Torch-specific meaning (globals, persistent ids) comes in
// through `UnpicklerHooks`; see state_dict_io.cpp.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fashioncut::models {

/// Index of an object in a `PickleGraph`.
using PickleRef = std::uint32_t;

/// Kinds of objects the reader can build.
enum class PickleKind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kStorage, kTensor };

/// Printable name of a kind ("tuple", "dict", ...), for error messages.
const char* pickle_kind_name(PickleKind kind);

/// One unpickled object. Which fields are meaningful depends on `kind`:
/// kBool/kInt: `int_value`; kFloat: `float_value`; kString: `text`; kGlobal: `text` = "module.name";
/// kTuple/kList: `items`; kDict: `items` = key0, value0, key1, value1, ... (insertion order);
/// kStorage: `storage` + `dtype`; kTensor: `tensor`.
struct PickleObject {
  PickleKind kind = PickleKind::kNone;
  std::int64_t int_value = 0;
  double float_value = 0.0;
  std::string text;
  std::vector<PickleRef> items;
  c10::Storage storage;
  torch::Dtype dtype = torch::kFloat32;
  torch::Tensor tensor;
};

/// The arena of objects built while unpickling.
class PickleGraph {
 public:
  /// Adds an object and returns its reference.
  PickleRef add(PickleObject object);
  const PickleObject& at(PickleRef ref) const { return objects_.at(ref); }
  PickleObject& at(PickleRef ref) { return objects_.at(ref); }
  std::size_t size() const { return objects_.size(); }

  /// Sets `dict[key] = value`, replacing an existing string key in place (Python semantics).
  void dict_set(PickleRef dict, PickleRef key, PickleRef value);

 private:
  std::vector<PickleObject> objects_;
  /// Per dict: string key -> position of the key in `items`.
  std::unordered_map<PickleRef, std::unordered_map<std::string, std::size_t>> dict_index_;
};

/// What the reader asks its user. Each hook throws CheckpointError to reject the input.
struct UnpicklerHooks {
  /// GLOBAL / STACK_GLOBAL: return true if `module.name` may be referenced.
  std::function<bool(const std::string& module, const std::string& name)> allow_global;
  /// REDUCE: build the result of calling global `callable` with tuple `args`.
  std::function<PickleRef(PickleGraph&, const std::string& callable, PickleRef args)> reduce;
  /// BINPERSID: turn persistent id `pid` into an object (e.g. a storage).
  std::function<PickleRef(PickleGraph&, PickleRef pid)> persistent_load;
  /// BUILD on `target` with `state`; the default (unset) rejects every BUILD.
  std::function<void(PickleGraph&, PickleRef target, PickleRef state)> build;
};

/// Runs the pickle machine over `bytes` and returns the top object (what STOP sees).
/// `source` names the file in error messages.
/// Throws CheckpointError on unknown opcodes, truncated or inconsistent input.
PickleRef unpickle(std::string_view bytes, const UnpicklerHooks& hooks, PickleGraph& graph,
                   const std::string& source);

/// Appends pickle opcodes to a byte string (protocol 2, as Python's pickler writes them).
class PickleWriter {
 public:
  PickleWriter();  ///< emits PROTO 2
  void mark();
  void stop();
  void global(std::string_view module, std::string_view name);
  void string(std::string_view text);  ///< BINUNICODE (UTF-8 bytes as given)
  void integer(std::int64_t value);    ///< BININT1/BININT2/BININT/LONG1, smallest that fits
  void boolean(bool value);
  void none();
  void empty_tuple();
  void empty_dict();
  void tuple_from_mark();
  void reduce();
  void binpersid();
  void setitems();  ///< SETITEMS (closes a mark)
  /// Writes a tuple of integers (`(a, b, ...)`) the way Python does (EMPTY_TUPLE/TUPLE1-3/MARK..TUPLE).
  void int_tuple(const std::vector<std::int64_t>& values);
  const std::string& bytes() const { return out_; }

 private:
  void op(unsigned char code) { out_.push_back(static_cast<char>(code)); }
  std::string out_;
};

}  // namespace fashioncut::models
