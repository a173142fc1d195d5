// Reading and writing torch.save zip files (see state_dict_io.h). The zip layout Python writes:
//   <archive>/data.pkl       pickle of the OrderedDict; tensors refer to storages by persistent id
//   <archive>/data/<key>     raw little-endian bytes of storage <key>
//   <archive>/version        "3"
//   <archive>/byteorder      "little" (newer torch only)
#include "fashioncut/models/state_dict_io.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/zip_check.h"
#include "fashioncut/models/pickle.h"

namespace fashioncut::models {
namespace {

namespace ser = caffe2::serialize;

constexpr std::size_t kMaxPickleBytes = std::size_t(64) << 20;  // a state_dict's data.pkl is ~200 B/tensor
constexpr std::int64_t kMaxDims = 64;

/// Storage class names of torch.save (torch.FloatStorage, ...) and their dtypes.
const std::vector<std::pair<std::string, torch::Dtype>>& storage_types() {
  static const std::vector<std::pair<std::string, torch::Dtype>> types = {
      {"FloatStorage", torch::kFloat32},   {"DoubleStorage", torch::kFloat64},
      {"HalfStorage", torch::kFloat16},    {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kInt64},      {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16},     {"CharStorage", torch::kInt8},
      {"ByteStorage", torch::kUInt8},      {"BoolStorage", torch::kBool},
      {"ComplexFloatStorage", torch::kComplexFloat}, {"ComplexDoubleStorage", torch::kComplexDouble}};
  return types;
}

std::optional<torch::Dtype> storage_dtype(const std::string& name) {
  for (const auto& [n, dtype] : storage_types()) {
    if (n == name) return dtype;
  }
  return std::nullopt;
}

std::string storage_name(torch::Dtype dtype) {
  for (const auto& [n, d] : storage_types()) {
    if (d == dtype) return n;
  }
  throw CheckpointError(std::string("write_state_dict: dtype ") + c10::toString(dtype) + " cannot be saved");
}

/// Serves the zip reader from memory.
class MemoryReadAdapter final : public ser::ReadAdapterInterface {
 public:
  explicit MemoryReadAdapter(std::string_view data) : data_(data) {}
  size_t size() const override { return data_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= data_.size()) return 0;
    n = std::min<size_t>(n, data_.size() - pos);
    std::memcpy(buf, data_.data() + pos, n);
    return n;
  }

 private:
  std::string_view data_;
};

std::string first_line(const char* text) {
  std::string s(text);
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

/// Rejects files that cannot be a torch.save zip before the zip reader sees them.
void check_header(std::string_view head, std::uint64_t file_size, const std::string& source) {
  if (file_size == 0) throw CheckpointError(source + ": empty file (0 bytes), not a state_dict");
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return;
  if (!head.empty() && static_cast<unsigned char>(head[0]) == 0x80) {
    throw CheckpointError(source + ": legacy (non-zip) torch.save format is not supported; re-save it in Python "
                                   "with torch.save(torch.load(old_path), new_path) (torch >= 1.6 default settings)");
  }
  throw CheckpointError(source + ": not a PyTorch checkpoint (no zip header); expected a file written by "
                                 "torch.save(model.state_dict(), path)");
}

/// LibTorch's zip reader does not verify CRC-32s: a flipped byte in a tensor would load.
void check_zip(const std::string& problem, const std::string& source) {
  if (!problem.empty()) throw CheckpointError(source + ": corrupt or truncated PyTorch zip archive (" + problem + ")");
}

/// Unpickles data.pkl of an open archive into named tensors.
class ArchiveLoader {
 public:
  ArchiveLoader(ser::PyTorchStreamReader& reader, std::string source) : reader_(reader), source_(std::move(source)) {}

  NamedTensors load() {
    if (reader_.hasRecord("constants.pkl")) {
      throw CheckpointError(source_ + ": this is a TorchScript archive (torch.jit.save); save model.state_dict() "
                                      "with torch.save instead");
    }
    if (!reader_.hasRecord("data.pkl")) fail("zip archive has no data.pkl record; not a torch.save file");
    if (reader_.hasRecord("byteorder")) {
      auto [ptr, size] = reader_.getRecord("byteorder");
      const std::string order(static_cast<const char*>(ptr.get()), size);
      if (order != "little") throw CheckpointError(source_ + ": byte order '" + order + "' is not supported (little only)");
    }
    auto [pkl, pkl_size] = reader_.getRecord("data.pkl");
    if (pkl_size > kMaxPickleBytes) throw CheckpointError(source_ + ": data.pkl is implausibly large (" + std::to_string(pkl_size) + " bytes)");
    const std::string_view bytes(static_cast<const char*>(pkl.get()), pkl_size);

    UnpicklerHooks hooks;
    hooks.allow_global = [](const std::string& module, const std::string& name) {
      if (module == "collections") return name == "OrderedDict";
      if (module == "torch._utils") {
        return name == "_rebuild_tensor_v2" || name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state";
      }
      return module == "torch" && storage_dtype(name).has_value();
    };
    hooks.reduce = [this](PickleGraph& g, const std::string& callable, PickleRef args) { return reduce(g, callable, args); };
    hooks.persistent_load = [this](PickleGraph& g, PickleRef pid) { return persistent_load(g, pid); };
    hooks.build = [this](PickleGraph& g, PickleRef target, PickleRef /*state*/) {
      // OrderedDict's BUILD sets `_metadata` (module versions); loading by name does not need it.
      if (g.at(target).kind != PickleKind::kDict) fail(std::string("BUILD on a ") + pickle_kind_name(g.at(target).kind));
    };
    const PickleRef root = unpickle(bytes, hooks, graph_, source_ + " (data.pkl)");
    return to_named_tensors(root);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw CheckpointError(source_ + ": " + what); }

  const PickleObject& arg(const PickleGraph& g, PickleRef tuple, std::size_t i, PickleKind kind, const char* what) const {
    const PickleObject& o = g.at(g.at(tuple).items.at(i));
    if (o.kind != kind) {
      fail(std::string(what) + " is a " + pickle_kind_name(o.kind) + ", expected " + pickle_kind_name(kind));
    }
    return o;
  }

  std::vector<std::int64_t> int_tuple(const PickleGraph& g, PickleRef tuple, std::size_t i, const char* what) const {
    const PickleObject& t = arg(g, tuple, i, PickleKind::kTuple, what);
    if (static_cast<std::int64_t>(t.items.size()) > kMaxDims) fail(std::string(what) + " has too many dimensions");
    std::vector<std::int64_t> out;
    for (const PickleRef r : t.items) {
      const PickleObject& v = g.at(r);
      if (v.kind != PickleKind::kInt || v.int_value < 0) fail(std::string(what) + " holds a non-integer or negative entry");
      out.push_back(v.int_value);
    }
    return out;
  }

  /// ('storage', torch.XStorage, key, location, numel) -> the storage of record data/<key>.
  PickleRef persistent_load(PickleGraph& g, PickleRef pid) {
    const PickleObject& t = g.at(pid);
    if (t.kind != PickleKind::kTuple || t.items.size() != 5) fail("persistent id is not a 5-tuple ('storage', type, key, location, numel)");
    if (arg(g, pid, 0, PickleKind::kString, "persistent id tag").text != "storage") fail("persistent id tag is not 'storage'");
    const std::string type = arg(g, pid, 1, PickleKind::kGlobal, "storage type").text;
    const std::string key = arg(g, pid, 2, PickleKind::kString, "storage key").text;
    arg(g, pid, 3, PickleKind::kString, "storage location");
    const std::int64_t numel = arg(g, pid, 4, PickleKind::kInt, "storage size").int_value;
    const auto dtype = type.rfind("torch.", 0) == 0 ? storage_dtype(type.substr(6)) : std::nullopt;
    if (!dtype) fail("unsupported storage type " + type);
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos) fail("bad storage key '" + key + "'");

    auto it = storages_.find(key);
    if (it == storages_.end()) {
      const std::string record = "data/" + key;
      if (!reader_.hasRecord(record)) fail("storage record " + record + " is missing (truncated file?)");
      auto [ptr, size] = reader_.getRecord(record);
      it = storages_.emplace(key, c10::Storage(c10::Storage::use_byte_size_t(), size, std::move(ptr), nullptr, false)).first;
    }
    const auto itemsize = static_cast<std::int64_t>(c10::elementSize(*dtype));
    const auto nbytes = static_cast<std::int64_t>(it->second.nbytes());
    if (numel < 0 || numel > nbytes / itemsize || numel * itemsize != nbytes) {
      fail("storage " + key + " holds " + std::to_string(nbytes) + " bytes, expected " + std::to_string(numel) + " x " +
           std::to_string(itemsize) + " (corrupt file?)");
    }
    PickleObject o;
    o.kind = PickleKind::kStorage;
    o.storage = it->second;
    o.dtype = *dtype;
    return g.add(std::move(o));
  }

  PickleRef reduce(PickleGraph& g, const std::string& callable, PickleRef args) {
    const std::size_t n = g.at(args).items.size();
    if (callable == "collections.OrderedDict") {
      PickleObject dict;
      dict.kind = PickleKind::kDict;
      const PickleRef out = g.add(std::move(dict));
      if (n == 0) return out;
      // OrderedDict([(k, v), ...]) as older pickles write it.
      if (n != 1) fail("OrderedDict() called with " + std::to_string(n) + " arguments");
      const std::vector<PickleRef> pairs = arg(g, args, 0, PickleKind::kList, "OrderedDict argument").items;
      for (const PickleRef p : pairs) {
        if (g.at(p).kind != PickleKind::kTuple || g.at(p).items.size() != 2) fail("OrderedDict item is not a (key, value) pair");
        g.dict_set(out, g.at(p).items[0], g.at(p).items[1]);
      }
      return out;
    }
    if (callable == "torch._utils._rebuild_tensor_v2") {
      if (n != 6 && n != 7) fail("_rebuild_tensor_v2 called with " + std::to_string(n) + " arguments");
      return rebuild_tensor(g, args);
    }
    if (callable == "torch._utils._rebuild_parameter" || callable == "torch._utils._rebuild_parameter_with_state") {
      if (n < 3 || n > 4) fail(callable + " called with " + std::to_string(n) + " arguments");
      arg(g, args, 0, PickleKind::kTensor, "parameter data");
      return g.at(args).items[0];
    }
    fail("cannot call " + callable);
  }

  /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  PickleRef rebuild_tensor(PickleGraph& g, PickleRef args) {
    const PickleObject& storage = arg(g, args, 0, PickleKind::kStorage, "tensor storage");
    const std::int64_t offset = arg(g, args, 1, PickleKind::kInt, "tensor storage offset").int_value;
    const auto sizes = int_tuple(g, args, 2, "tensor size");
    const auto strides = int_tuple(g, args, 3, "tensor stride");
    arg(g, args, 4, PickleKind::kBool, "tensor requires_grad");
    if (sizes.size() != strides.size()) fail("tensor size and stride have different lengths");
    const auto itemsize = static_cast<std::int64_t>(c10::elementSize(storage.dtype));
    const std::int64_t storage_numel = static_cast<std::int64_t>(storage.storage.nbytes()) / itemsize;
    if (offset < 0 || offset > storage_numel) fail("tensor storage offset " + std::to_string(offset) + " is out of range");
    // Last element reached: offset + sum((size-1)*stride), computed without overflow.
    __int128 last = offset;
    bool empty = false;
    for (std::size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] == 0) empty = true;
      else last += static_cast<__int128>(sizes[d] - 1) * strides[d];
    }
    if (!empty && last >= storage_numel) {
      fail("tensor of size " + c10::str(c10::IntArrayRef(sizes)) + " and stride " + c10::str(c10::IntArrayRef(strides)) +
           " reaches past its storage of " + std::to_string(storage_numel) + " elements");
    }
    PickleObject o;
    o.kind = PickleKind::kTensor;
    o.tensor = torch::empty({0}, torch::TensorOptions().dtype(storage.dtype)).set_(storage.storage, offset, sizes, strides);
    return g.add(std::move(o));
  }

  NamedTensors to_named_tensors(PickleRef root) const {
    const PickleObject& dict = graph_.at(root);
    if (dict.kind != PickleKind::kDict) {
      fail(std::string("file holds a ") + pickle_kind_name(dict.kind) + ", expected a state_dict (dict of tensors)");
    }
    NamedTensors out;
    out.reserve(dict.items.size() / 2);
    for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
      const PickleObject& key = graph_.at(dict.items[i]);
      const PickleObject& value = graph_.at(dict.items[i + 1]);
      if (key.kind != PickleKind::kString) fail(std::string("state_dict key is a ") + pickle_kind_name(key.kind) + ", expected str");
      if (value.kind != PickleKind::kTensor) {
        fail("entry '" + key.text + "' is a " + pickle_kind_name(value.kind) +
             ", not a tensor (a training checkpoint? save model.state_dict() itself)");
      }
      out.emplace_back(key.text, value.tensor);
    }
    return out;
  }

  ser::PyTorchStreamReader& reader_;
  std::string source_;
  PickleGraph graph_;
  std::map<std::string, c10::Storage> storages_;
};

NamedTensors load_archive(const std::function<std::unique_ptr<ser::PyTorchStreamReader>()>& open, const std::string& source) {
  try {
    auto reader = open();
    return ArchiveLoader(*reader, source).load();
  } catch (const CheckpointError&) {
    throw;
  } catch (const c10::Error& e) {
    throw CheckpointError(source + ": corrupt or truncated PyTorch zip archive (" + first_line(e.what_without_backtrace()) + ")");
  } catch (const std::bad_alloc&) {
    throw CheckpointError(source + ": out of memory while reading (corrupt sizes in the file?)");
  } catch (const std::exception& e) {
    throw CheckpointError(source + ": cannot read state_dict (" + first_line(e.what()) + ")");
  }
}

}  // namespace

NamedTensors read_state_dict(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw CheckpointError(source + (std::filesystem::exists(path, ec) ? ": not a regular file, expected a state_dict file"
                                                                       : ": no such state_dict file"));
  }
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw CheckpointError(source + ": cannot read (" + ec.message() + ")");
  std::string head(4, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CheckpointError(source + ": cannot open for reading");
    in.read(head.data(), 4);
    head.resize(static_cast<std::size_t>(in.gcount()));
  }
  check_header(head, size, source);
  check_zip(zip_file_problem(path), source);
  return load_archive([&] { return std::make_unique<ser::PyTorchStreamReader>(source); }, source);
}

NamedTensors parse_state_dict(std::string_view bytes, const std::string& source_name, bool verify_crcs) {
  check_header(bytes.substr(0, 4), bytes.size(), source_name);
  if (verify_crcs) check_zip(zip_problem(bytes), source_name);
  return load_archive(
      [&] { return std::make_unique<ser::PyTorchStreamReader>(std::make_shared<MemoryReadAdapter>(bytes)); },
      source_name);
}

std::string serialize_state_dict(const NamedTensors& entries) {
  // Storages to write: one record per (storage, dtype); entries sharing a storage share a record.
  struct Record {
    torch::Tensor owner;  // keeps the storage alive
    std::string key;
  };
  std::map<std::pair<const void*, int>, Record> records;
  std::vector<std::pair<std::string, torch::Tensor>> storage_order;
  std::unordered_map<std::string, bool> seen;

  PickleWriter p;
  p.global("collections", "OrderedDict");
  p.empty_tuple();
  p.reduce();
  p.mark();
  for (const auto& [name, original] : entries) {
    if (name.empty()) throw CheckpointError("write_state_dict: empty key");
    if (!seen.emplace(name, true).second) throw CheckpointError("write_state_dict: duplicate key '" + name + "'");
    if (!original.defined()) throw CheckpointError("write_state_dict: tensor '" + name + "' is undefined");
    if (original.layout() != torch::kStrided || original.is_quantized() || original.is_mkldnn()) {
      throw CheckpointError("write_state_dict: tensor '" + name + "' is not a dense tensor");
    }
    torch::Tensor t = original.detach();
    if (!t.device().is_cpu()) t = t.to(torch::kCPU).contiguous();
    const auto itemsize = static_cast<std::int64_t>(t.element_size());
    if (!t.has_storage() || t.storage().nbytes() % itemsize != 0) t = t.contiguous().clone();
    const std::pair<const void*, int> id{t.storage().unsafeGetStorageImpl(), static_cast<int>(t.scalar_type())};
    auto it = records.find(id);
    if (it == records.end()) {
      it = records.emplace(id, Record{t, std::to_string(records.size())}).first;
      storage_order.emplace_back(it->second.key, t);
    }
    p.string(name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    {
      p.mark();
      p.string("storage");
      p.global("torch", storage_name(t.scalar_type()));
      p.string(it->second.key);
      p.string("cpu");
      p.integer(static_cast<std::int64_t>(t.storage().nbytes()) / itemsize);
      p.tuple_from_mark();
      p.binpersid();
      p.integer(t.storage_offset());
      p.int_tuple(t.sizes().vec());
      p.int_tuple(t.strides().vec());
      p.boolean(false);
      p.global("collections", "OrderedDict");  // backward_hooks
      p.empty_tuple();
      p.reduce();
    }
    p.tuple_from_mark();
    p.reduce();
  }
  p.setitems();
  p.stop();

  std::string out;
  {
    ser::PyTorchStreamWriter writer([&out](const void* data, size_t n) {
      out.append(static_cast<const char*>(data), n);
      return n;
    });
    writer.writeRecord("data.pkl", p.bytes().data(), p.bytes().size());
    for (const auto& [key, t] : storage_order) {
      writer.writeRecord("data/" + key, t.storage().data(), t.storage().nbytes());
    }
    writer.writeRecord("byteorder", "little", 6);
    writer.writeEndOfFile();
  }
  return out;
}

void write_state_dict(const std::filesystem::path& path, const NamedTensors& entries) {
  std::string bytes;
  try {
    bytes = serialize_state_dict(entries);
  } catch (const CheckpointError& e) {
    throw CheckpointError(path.string() + ": " + e.what());
  } catch (const c10::Error& e) {
    throw CheckpointError(path.string() + ": cannot serialise state_dict (" + first_line(e.what_without_backtrace()) + ")");
  }
  write_file_atomic(path, bytes);
}

}  // namespace fashioncut::models
