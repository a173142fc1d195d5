// The pickle reader/writer alone, and hand-built torch.save archives with hostile content.
#include "fashioncut/models/pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>

#include <limits>

#include "fashioncut/core/errors.h"
#include "fashioncut/models/state_dict_io.h"
#include "support/test_support.h"

namespace fashioncut::models {
namespace {
using ::testing::HasSubstr;
using namespace std::string_literals;

class PickleTest : public testing::SeedingFixture {};

UnpicklerHooks no_hooks() {
  UnpicklerHooks hooks;
  hooks.allow_global = [](const std::string& module, const std::string&) { return module == "ok"; };
  hooks.reduce = [](PickleGraph& g, const std::string& callable, PickleRef) {
    PickleObject o;
    o.kind = PickleKind::kString;
    o.text = "called " + callable;
    return g.add(std::move(o));
  };
  return hooks;
}

std::string error_of(std::string_view bytes) {
  PickleGraph graph;
  try {
    unpickle(bytes, no_hooks(), graph, "src.pth");
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(PickleTest, IntegersRoundTripThroughEveryEncoding) {
  const std::vector<std::int64_t> values = {0, 1, 255, 256, 65535, 65536, -1, -256,
                                            std::numeric_limits<std::int32_t>::min(),
                                            std::numeric_limits<std::int32_t>::max(),
                                            std::int64_t{1} << 31, -(std::int64_t{1} << 31) - 1, std::int64_t{1} << 40,
                                            std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::min()};
  PickleWriter w;
  w.mark();
  for (const auto v : values) w.integer(v);
  w.tuple_from_mark();
  w.stop();
  PickleGraph graph;
  const PickleRef root = unpickle(w.bytes(), no_hooks(), graph, "ints");
  ASSERT_EQ(graph.at(root).kind, PickleKind::kTuple);
  ASSERT_EQ(graph.at(root).items.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(graph.at(graph.at(root).items[i]).int_value, values[i]);
}

TEST_F(PickleTest, WriterTuplesStringsAndReduce) {
  PickleWriter w;
  w.global("ok", "thing");
  w.int_tuple({7, 8, 9, 10});
  w.reduce();
  w.stop();
  PickleGraph graph;
  const PickleRef root = unpickle(w.bytes(), no_hooks(), graph, "w");
  EXPECT_EQ(graph.at(root).text, "called ok.thing");
}

TEST_F(PickleTest, DictKeepsInsertionOrderAndReplacesRepeatedKeys) {
  // {} ( 'b' 1 'a' 2 'b' 3 u .
  const std::string bytes = std::string("\x80\x02}(") + "\x8c\x01" "b" "K\x01" "\x8c\x01" "a" "K\x02" "\x8c\x01" "b" "K\x03" "u.";
  PickleGraph graph;
  const auto& dict = graph.at(unpickle(bytes, no_hooks(), graph, "d"));
  ASSERT_EQ(dict.items.size(), 4u);
  EXPECT_EQ(graph.at(dict.items[0]).text, "b");
  EXPECT_EQ(graph.at(dict.items[1]).int_value, 3);
  EXPECT_EQ(graph.at(dict.items[2]).text, "a");
}

TEST_F(PickleTest, MalformedInputGivesCheckpointErrorWithSourceAndOffset) {
  EXPECT_THAT(error_of(""), HasSubstr("src.pth: bad pickle at byte 0: data ends early"));
  EXPECT_THAT(error_of("\x80\x02\xff"), HasSubstr("byte 2: unsupported pickle opcode 0xff"));
  EXPECT_THAT(error_of("\x80\x02" "cos\nsystem\n."), HasSubstr("unsupported Python object 'os.system'"));
  EXPECT_THAT(error_of("\x80\x02h\x05."), HasSubstr("memo entry 5 is not defined"));
  EXPECT_THAT(error_of("\x80\x02\x85."), HasSubstr("pop from an empty stack"));
  EXPECT_THAT(error_of("\x80\x02]K\x01K\x02s."), HasSubstr("SETITEM on a list, expected a dict"));
  EXPECT_THAT(error_of("\x80\x02K\x01K\x02."), HasSubstr("STOP with 2 objects"));
  EXPECT_THAT(error_of("\x80\x02K\x01"), HasSubstr("data ends early"));
  EXPECT_THAT(error_of("\x80\x02X\xff\xff\xff\x7f" "abc."), HasSubstr("runs past the end"));
  EXPECT_THAT(error_of("\x80\x02\x8a\x09" "123456789."), HasSubstr("does not fit in 64 bits"));
  EXPECT_THAT(error_of("\x80\x02K\x01)R."), HasSubstr("REDUCE on a int, expected a global"));
  EXPECT_THAT(error_of("\x80\x02(K\x01(K\x02."), HasSubstr("STOP with"));
  EXPECT_THAT(error_of("\x80\x02(0."), HasSubstr("pop from an empty stack"));
  EXPECT_THAT(error_of("\x80\x02" "cok\nthing"), HasSubstr("unterminated GLOBAL name"));
  EXPECT_THAT(error_of("\x80\x02}K\x01" "b."), HasSubstr("unsupported BUILD"));
  EXPECT_THAT(error_of("\x80\x09."), HasSubstr("protocol 9"));
}

TEST_F(PickleTest, DeepNestingAndCyclesNeitherRecurseNorLeak) {
  // 200k nested 1-tuples, and a list that contains itself: the arena handles both.
  std::string bytes = "\x80\x02)";
  bytes += std::string(200000, '\x85');
  bytes += "0]q\x00h\x00" "a."s;  // POP; [] memo 0; append memo 0 to itself
  PickleGraph graph;
  const PickleRef root = unpickle(bytes, no_hooks(), graph, "deep");
  EXPECT_EQ(graph.at(root).kind, PickleKind::kList);
  EXPECT_EQ(graph.at(root).items.at(0), root);
}

// ---- hand-built archives through parse_state_dict ----

std::string make_archive(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& records) {
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&out](const void* data, size_t n) {
    out.append(static_cast<const char*>(data), n);
    return n;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (const auto& [name, bytes] : records) writer.writeRecord(name, bytes.data(), bytes.size());
  writer.writeEndOfFile();
  return out;
}

/// {name: _rebuild_tensor_v2(storage(type, "0", numel), offset, sizes, strides, False, OrderedDict())}
std::string tensor_pickle(const std::string& storage_type, std::int64_t numel, std::int64_t offset,
                          const std::vector<std::int64_t>& sizes, const std::vector<std::int64_t>& strides,
                          const std::string& key = "0") {
  PickleWriter p;
  p.empty_dict();
  p.string("w");
  p.global("torch._utils", "_rebuild_tensor_v2");
  p.mark();
  p.mark();
  p.string("storage");
  p.global("torch", storage_type);
  p.string(key);
  p.string("cpu");
  p.integer(numel);
  p.tuple_from_mark();
  p.binpersid();
  p.integer(offset);
  p.int_tuple(sizes);
  p.int_tuple(strides);
  p.boolean(false);
  p.global("collections", "OrderedDict");
  p.empty_tuple();
  p.reduce();
  p.tuple_from_mark();
  p.reduce();
  return p.bytes() + "s.";  // SETITEM, STOP
}

std::string parse_error(const std::string& archive) {
  try {
    parse_state_dict(archive, "crafted.pth");
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(PickleTest, CraftedArchiveWithValidTensorReads) {
  const std::string data(6 * 4, '\0');
  const auto sd = parse_state_dict(make_archive(tensor_pickle("FloatStorage", 6, 1, {2, 2}, {2, 1}), {{"data/0", data}}), "ok");
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd[0].second.sizes(), torch::IntArrayRef({2, 2}));
  EXPECT_EQ(sd[0].second.storage_offset(), 1);
}

TEST_F(PickleTest, CraftedArchivesWithBadTensorsAreRejected) {
  const std::string data(6 * 4, '\0');
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("FloatStorage", 6, 3, {2, 2}, {2, 1}), {{"data/0", data}})),
              HasSubstr("reaches past its storage"));
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("FloatStorage", 6, 0, {2, 2}, {2, 1}), {})),
              HasSubstr("storage record data/0 is missing"));
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("FloatStorage", 7, 0, {2}, {1}), {{"data/0", data}})),
              HasSubstr("holds 24 bytes, expected 7 x 4"));
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("FloatStorage", 6, 9, {0}, {1}), {{"data/0", data}})),
              HasSubstr("storage offset 9 is out of range"));
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("QInt8Storage", 6, 0, {2}, {1}), {{"data/0", data}})),
              HasSubstr("'torch.QInt8Storage'"));
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("FloatStorage", 6, 0, {2}, {1}, "../x"), {{"data/0", data}})),
              HasSubstr("bad storage key"));
  EXPECT_THAT(parse_error(make_archive(tensor_pickle("FloatStorage", 6, 0, {std::int64_t{1} << 62, 4}, {4, 1}), {{"data/0", data}})),
              HasSubstr("reaches past its storage"));
  EXPECT_THAT(parse_error(make_archive("\x80\x02]." , {})), HasSubstr("file holds a list, expected a state_dict"));
  EXPECT_THAT(parse_error(make_archive("\x80\x02}K\x01K\x02s.", {})), HasSubstr("key is a int, expected str"));
}

TEST_F(PickleTest, MutatedPicklesInsideValidZipsNeverCrash) {
  // Mutations of data.pkl itself (the zip CRC would otherwise catch most byte flips).
  const std::string data(6 * 4, '\0');
  const std::string good = tensor_pickle("FloatStorage", 6, 1, {2, 2}, {2, 1});
  std::mt19937_64 rng(7);
  int ok = 0, rejected = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    std::string bytes = good;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const auto pos = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[pos] = static_cast<char>(rng()); break;
        case 1: bytes.erase(pos, 1 + rng() % 4); break;
        default: bytes.insert(pos, 1, "(tu0sRQbhq)\x85\x86\x87}]KJ"[rng() % 18]);
      }
      if (bytes.empty()) bytes = ".";
    }
    try {
      parse_state_dict(make_archive(bytes, {{"data/0", data}}), "m");
      ++ok;
    } catch (const CheckpointError&) {
      ++rejected;
    }
  }
  EXPECT_EQ(ok + rejected, 1500);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace fashioncut::models
