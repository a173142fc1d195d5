#include "fashioncut/models/pickle.h"

#include <cstdio>
#include <cstring>
#include <limits>

#include "fashioncut/core/errors.h"

namespace fashioncut::models {
namespace {

// Opcodes (Python's Lib/pickle.py names).
enum Op : unsigned char {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kBinFloat = 'G', kBinInt = 'J',
  kBinInt1 = 'K', kBinInt2 = 'M', kNone = 'N', kBinPersId = 'Q', kReduce = 'R', kBinUnicode = 'X',
  kAppend = 'a', kBuild = 'b', kGlobal = 'c', kAppends = 'e', kBinGet = 'h', kLongBinGet = 'j',
  kBinPut = 'q', kLongBinPut = 'r', kSetItem = 's', kTuple = 't', kSetItems = 'u', kEmptyDict = '}',
  kEmptyList = ']', kEmptyTuple = ')', kProto = 0x80, kTuple1 = 0x85, kTuple2 = 0x86,
  kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a, kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
};

constexpr std::size_t kMaxGlobalLine = 256;

class Machine {
 public:
  Machine(std::string_view bytes, const UnpicklerHooks& hooks, PickleGraph& graph, const std::string& source)
      : data_(bytes), hooks_(hooks), graph_(graph), source_(source) {}

  PickleRef run() {
    while (true) {
      op_pos_ = pos_;
      const unsigned char code = u8();
      if (code == kStop) {
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " objects on the stack");
        return stack_.back();
      }
      step(code);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw CheckpointError(source_ + ": bad pickle at byte " + std::to_string(op_pos_) + ": " + what);
  }
  void need(std::size_t n) const {
    if (n > data_.size() - pos_) fail("data ends early (truncated or corrupt file)");
  }
  unsigned char u8() { need(1); return static_cast<unsigned char>(data_[pos_++]); }
  std::uint64_t le(std::size_t n) {
    need(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string_view take(std::uint64_t n) {
    if (n > data_.size() - pos_) fail("string of " + std::to_string(n) + " bytes runs past the end");
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const std::size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > kMaxGlobalLine) fail("unterminated GLOBAL name");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  PickleRef pop() {
    if (stack_.size() <= floor()) fail("pop from an empty stack");
    const PickleRef r = stack_.back();
    stack_.pop_back();
    return r;
  }
  PickleRef top() const {
    if (stack_.size() <= floor()) fail("empty stack");
    return stack_.back();
  }
  std::vector<PickleRef> pop_mark() {
    if (marks_.empty()) fail("no MARK to close");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  PickleRef make(PickleKind kind) {
    PickleObject o;
    o.kind = kind;
    return graph_.add(std::move(o));
  }
  void push(PickleRef r) { stack_.push_back(r); }
  void push_int(std::int64_t v) {
    PickleObject o;
    o.kind = PickleKind::kInt;
    o.int_value = v;
    push(graph_.add(std::move(o)));
  }
  void push_string(std::string_view s) {
    PickleObject o;
    o.kind = PickleKind::kString;
    o.text = std::string(s);
    push(graph_.add(std::move(o)));
  }
  void push_tuple(std::vector<PickleRef> items) {
    PickleObject o;
    o.kind = PickleKind::kTuple;
    o.items = std::move(items);
    push(graph_.add(std::move(o)));
  }
  void push_global(const std::string& module, const std::string& name) {
    if (!hooks_.allow_global || !hooks_.allow_global(module, name)) {
      fail("unsupported Python object '" + module + "." + name +
           "' (this is not a plain state_dict of tensors; save model.state_dict() with torch.save)");
    }
    PickleObject o;
    o.kind = PickleKind::kGlobal;
    o.text = module + "." + name;
    push(graph_.add(std::move(o)));
  }
  void memo_put(std::uint64_t index) {
    const PickleRef r = top();
    memo_[index] = r;
  }
  void memo_get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is not defined");
    push(it->second);
  }
  PickleObject& expect(PickleRef r, PickleKind kind, const char* op_name) {
    PickleObject& o = graph_.at(r);
    if (o.kind != kind) {
      fail(std::string(op_name) + " on a " + pickle_kind_name(o.kind) + ", expected a " + pickle_kind_name(kind));
    }
    return o;
  }
  void set_items(PickleRef dict, const std::vector<PickleRef>& kv) {
    if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of objects");
    expect(dict, PickleKind::kDict, "SETITEM");
    for (std::size_t i = 0; i < kv.size(); i += 2) graph_.dict_set(dict, kv[i], kv[i + 1]);
  }
  void append_items(PickleRef list, const std::vector<PickleRef>& values) {
    auto& items = expect(list, PickleKind::kList, "APPEND").items;
    items.insert(items.end(), values.begin(), values.end());
  }

  void step(unsigned char code) {
    switch (code) {
      case kProto: {
        const unsigned char version = u8();
        if (version > 5) fail("pickle protocol " + std::to_string(version) + " is newer than 5");
        break;
      }
      case kFrame: le(8); break;  // frame length: only a read-ahead hint
      case kMark: marks_.push_back(stack_.size()); break;
      case kPop: pop(); break;
      case kPopMark: pop_mark(); break;
      case kDup: push(top()); break;
      case kNone: push(make(PickleKind::kNone)); break;
      case kNewTrue:
      case kNewFalse: {
        PickleObject o;
        o.kind = PickleKind::kBool;
        o.int_value = code == kNewTrue ? 1 : 0;
        push(graph_.add(std::move(o)));
        break;
      }
      case kBinInt: push_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4)))); break;
      case kBinInt1: push_int(static_cast<std::int64_t>(le(1))); break;
      case kBinInt2: push_int(static_cast<std::int64_t>(le(2))); break;
      case kLong1: {
        const std::size_t n = u8();
        if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
        std::uint64_t v = le(n);
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t(0) << (8 * n);  // sign-extend
        push_int(static_cast<std::int64_t>(v));
        break;
      }
      case kBinFloat: {
        need(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(data_[pos_ + i]);  // big-endian
        pos_ += 8;
        PickleObject o;
        o.kind = PickleKind::kFloat;
        std::memcpy(&o.float_value, &bits, 8);
        push(graph_.add(std::move(o)));
        break;
      }
      case kShortBinUnicode: push_string(take(u8())); break;
      case kBinUnicode: push_string(take(le(4))); break;
      case kBinUnicode8: push_string(take(le(8))); break;
      case kEmptyTuple: push_tuple({}); break;
      case kTuple: push_tuple(pop_mark()); break;
      case kTuple1: {
        const PickleRef a = pop();
        push_tuple({a});
        break;
      }
      case kTuple2: {
        const PickleRef b = pop(), a = pop();
        push_tuple({a, b});
        break;
      }
      case kTuple3: {
        const PickleRef c = pop(), b = pop(), a = pop();
        push_tuple({a, b, c});
        break;
      }
      case kEmptyList: push(make(PickleKind::kList)); break;
      case kEmptyDict: push(make(PickleKind::kDict)); break;
      case kAppend: {
        const PickleRef v = pop();
        append_items(top(), {v});
        break;
      }
      case kAppends: {
        const auto values = pop_mark();
        append_items(top(), values);
        break;
      }
      case kSetItem: {
        const PickleRef v = pop(), k = pop();
        set_items(top(), {k, v});
        break;
      }
      case kSetItems: {
        const auto kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case kBinPut: memo_put(le(1)); break;
      case kLongBinPut: memo_put(le(4)); break;
      case kMemoize: memo_put(memo_.size()); break;
      case kBinGet: memo_get(le(1)); break;
      case kLongBinGet: memo_get(le(4)); break;
      case kGlobal: {
        const std::string module = line();
        const std::string name = line();
        push_global(module, name);
        break;
      }
      case kStackGlobal: {
        const PickleRef name = pop(), module = pop();
        const std::string module_text = expect(module, PickleKind::kString, "STACK_GLOBAL").text;
        const std::string name_text = expect(name, PickleKind::kString, "STACK_GLOBAL").text;
        push_global(module_text, name_text);
        break;
      }
      case kReduce: {
        const PickleRef args = pop();
        const PickleRef callable = pop();
        expect(args, PickleKind::kTuple, "REDUCE");
        const std::string name = expect(callable, PickleKind::kGlobal, "REDUCE").text;
        push(hooks_.reduce(graph_, name, args));
        break;
      }
      case kBuild: {
        const PickleRef state = pop();
        if (!hooks_.build) fail("unsupported BUILD");
        hooks_.build(graph_, top(), state);
        break;
      }
      case kBinPersId: {
        const PickleRef pid = pop();
        if (!hooks_.persistent_load) fail("unsupported persistent id");
        push(hooks_.persistent_load(graph_, pid));
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", code);
        fail(std::string("unsupported pickle opcode ") + hex);
      }
    }
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  const UnpicklerHooks& hooks_;
  PickleGraph& graph_;
  const std::string& source_;
  std::vector<PickleRef> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, PickleRef> memo_;
};

}  // namespace

const char* pickle_kind_name(PickleKind kind) {
  switch (kind) {
    case PickleKind::kNone: return "None";
    case PickleKind::kBool: return "bool";
    case PickleKind::kInt: return "int";
    case PickleKind::kFloat: return "float";
    case PickleKind::kString: return "str";
    case PickleKind::kTuple: return "tuple";
    case PickleKind::kList: return "list";
    case PickleKind::kDict: return "dict";
    case PickleKind::kGlobal: return "global";
    case PickleKind::kStorage: return "storage";
    case PickleKind::kTensor: return "tensor";
  }
  return "?";
}

PickleRef PickleGraph::add(PickleObject object) {
  if (objects_.size() >= std::numeric_limits<PickleRef>::max()) throw CheckpointError("pickle: too many objects");
  objects_.push_back(std::move(object));
  return static_cast<PickleRef>(objects_.size() - 1);
}

void PickleGraph::dict_set(PickleRef dict, PickleRef key, PickleRef value) {
  auto& items = at(dict).items;
  const PickleObject& k = at(key);
  if (k.kind == PickleKind::kString) {
    auto& index = dict_index_[dict];
    const auto [it, inserted] = index.emplace(k.text, items.size());
    if (!inserted) {
      items[it->second + 1] = value;
      return;
    }
  }
  items.push_back(key);
  items.push_back(value);
}

PickleRef unpickle(std::string_view bytes, const UnpicklerHooks& hooks, PickleGraph& graph,
                   const std::string& source) {
  return Machine(bytes, hooks, graph, source).run();
}

// ---- writer ----

PickleWriter::PickleWriter() {
  op(kProto);
  op(2);
}
void PickleWriter::mark() { op(kMark); }
void PickleWriter::stop() { op(kStop); }
void PickleWriter::global(std::string_view module, std::string_view name) {
  op(kGlobal);
  out_.append(module).push_back('\n');
  out_.append(name).push_back('\n');
}
void PickleWriter::string(std::string_view text) {
  op(kBinUnicode);
  const auto n = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out_.append(text);
}
void PickleWriter::integer(std::int64_t value) {
  auto put_le = [&](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  if (value >= 0 && value <= 0xff) {
    op(kBinInt1);
    put_le(static_cast<std::uint64_t>(value), 1);
  } else if (value >= 0 && value <= 0xffff) {
    op(kBinInt2);
    put_le(static_cast<std::uint64_t>(value), 2);
  } else if (value >= std::numeric_limits<std::int32_t>::min() && value <= std::numeric_limits<std::int32_t>::max()) {
    op(kBinInt);
    put_le(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)), 4);
  } else {
    // LONG1: minimal two's-complement little-endian bytes (here always 5..8 bytes).
    std::string bytes;
    std::uint64_t v = static_cast<std::uint64_t>(value);
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    while (bytes.size() > 1) {
      const auto last = static_cast<unsigned char>(bytes.back());
      const auto prev = static_cast<unsigned char>(bytes[bytes.size() - 2]);
      if ((last == 0x00 && !(prev & 0x80)) || (last == 0xff && (prev & 0x80))) bytes.pop_back();
      else break;
    }
    op(kLong1);
    out_.push_back(static_cast<char>(bytes.size()));
    out_ += bytes;
  }
}
void PickleWriter::boolean(bool value) { op(value ? kNewTrue : kNewFalse); }
void PickleWriter::none() { op(kNone); }
void PickleWriter::empty_tuple() { op(kEmptyTuple); }
void PickleWriter::empty_dict() { op(kEmptyDict); }
void PickleWriter::tuple_from_mark() { op(kTuple); }
void PickleWriter::reduce() { op(kReduce); }
void PickleWriter::binpersid() { op(kBinPersId); }
void PickleWriter::setitems() { op(kSetItems); }
void PickleWriter::int_tuple(const std::vector<std::int64_t>& values) {
  if (values.empty()) {
    empty_tuple();
    return;
  }
  if (values.size() > 3) mark();
  for (const auto v : values) integer(v);
  switch (values.size()) {
    case 1: op(kTuple1); break;
    case 2: op(kTuple2); break;
    case 3: op(kTuple3); break;
    default: tuple_from_mark();
  }
}

}  // namespace fashioncut::models
