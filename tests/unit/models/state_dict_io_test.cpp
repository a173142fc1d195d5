// state_dict files written by Python's torch.save, read in C++, written back and read by
// Python's torch.load / torchvision. One Python call builds every input file for the suite
// (torchvision import costs ~2 s), one more verifies what C++ wrote.
#include "fashioncut/models/state_dict_io.h"

#include <gmock/gmock.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut::models {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Python: builds the files users have. BN statistics are randomised so that buffers are not trivial.
constexpr const char* kMakeFiles = R"PY(
import json, torch, torchvision
D = "@DIR@"
def checksum(t):
    b = t.detach().contiguous().reshape(-1).view(torch.uint8).to(torch.int64)
    return int((b * (torch.arange(b.numel(), dtype=torch.int64) % 251 + 1)).sum())
def manifest(sd, name):
    json.dump([{"key": k, "shape": list(v.shape), "stride": list(v.stride()), "offset": v.storage_offset(),
                "dtype": str(v.dtype).replace("torch.", ""), "checksum": checksum(v)} for k, v in sd.items()],
              open(D + "/" + name, "w"))
torch.manual_seed(0)
r = torchvision.models.resnet18()
for mod in r.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.normal_(); mod.running_var.uniform_(0.5, 2.0); mod.num_batches_tracked.fill_(7)
torch.save(r.state_dict(), D + "/resnet18.pth"); manifest(r.state_dict(), "resnet18.json")
class Mixed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(3, 4))
        base = torch.randn(4, 6, dtype=torch.float64)
        self.register_buffer("transposed", base.t())            # non-contiguous view
        self.register_buffer("tail", base[1:, 2:])               # offset view of the same storage
        self.register_buffer("fp16", torch.randn(5).half())
        self.register_buffer("bf16", torch.randn(2, 3).bfloat16())
        self.register_buffer("steps", torch.tensor(123456789012, dtype=torch.int64))  # 0-dim, > 32 bits
        self.register_buffer("ints", torch.tensor([-7, 0, 2**31 - 1], dtype=torch.int32))
        self.register_buffer("int8", torch.tensor([-128, 5, 127], dtype=torch.int8))
        self.register_buffer("uint8", torch.arange(0, 256, 17, dtype=torch.uint8))
        self.register_buffer("mask", torch.tensor([True, False, True]))
        self.register_buffer("empty", torch.zeros(0, 3))
        self.register_buffer("scalar", torch.tensor(2.5))
        self.register_buffer("expanded", torch.randn(3, 1).expand(3, 4))  # stride 0
        self.sub = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
m = Mixed()
torch.save(m.state_dict(), D + "/mixed.pth"); manifest(m.state_dict(), "mixed.json")
torch.save(m.state_dict(), D + "/mixed_p4.pth", pickle_protocol=4)
torch.save(dict(m.state_dict()), D + "/plain_dict.pth")
torch.save(m.state_dict(), D + "/legacy.pth", _use_new_zipfile_serialization=False)
torch.save({"epoch": 3, "model": m.state_dict()}, D + "/training_checkpoint.pth")
torch.save(m, D + "/whole_module.pth")
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), D + "/torchscript.pt")
print("MADE")
)PY";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

std::int64_t checksum(const torch::Tensor& t) {
  const auto b = t.detach().contiguous().reshape({-1}).view(torch::kUInt8).to(torch::kInt64);
  return (b * (torch::arange(b.numel(), torch::kInt64) % 251 + 1)).sum().item<std::int64_t>();
}

std::string dtype_name(torch::Dtype d) {
  switch (d) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kFloat16: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kInt8: return "int8";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return "other";
  }
}

class StateDictIoTest : public testing::SeedingFixture {
 protected:
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static void SetUpTestSuite() {
    dir_ = fs::path(FASHIONCUT_SCRATCH) / ("StateDictIoShared-" + std::to_string(::getpid()));  // ctest -j runs tests as parallel processes
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto made = testing::run_python(replace_all(kMakeFiles, "@DIR@", dir_.string()));
    python_ok_ = made.exit_code == 0 && made.output.find("MADE") != std::string::npos;
    python_output_ = made.output;
  }
  void SetUp() override {
    testing::SeedingFixture::SetUp();
    // A failure here (not a skip): the suite needs /usr/bin/python3 with torch and torchvision.
    ASSERT_TRUE(python_ok_) << "Python failed to make the input files:\n" << python_output_;
  }
  static fs::path file(const std::string& name) { return dir_ / name; }

  /// Every entry matches Python's manifest: order, shape, stride, offset, dtype, exact bytes.
  static void expect_matches_manifest(const NamedTensors& read, const std::string& manifest_name) {
    const auto manifest = nlohmann::json::parse(read_file(dir_ / manifest_name));
    ASSERT_EQ(read.size(), manifest.size());
    for (std::size_t i = 0; i < read.size(); ++i) {
      const auto& m = manifest[i];
      const auto& [key, t] = read[i];
      SCOPED_TRACE(key);
      EXPECT_EQ(key, m["key"].get<std::string>());
      EXPECT_EQ(t.sizes().vec(), m["shape"].get<std::vector<std::int64_t>>());
      EXPECT_EQ(t.strides().vec(), m["stride"].get<std::vector<std::int64_t>>());
      EXPECT_EQ(t.storage_offset(), m["offset"].get<std::int64_t>());
      EXPECT_EQ(dtype_name(t.scalar_type()), m["dtype"].get<std::string>());
      EXPECT_EQ(checksum(t), m["checksum"].get<std::int64_t>());
      EXPECT_TRUE(t.device().is_cpu());
    }
  }

  static fs::path dir_;
  static bool python_ok_;
  static std::string python_output_;
};
fs::path StateDictIoTest::dir_;
bool StateDictIoTest::python_ok_ = false;
std::string StateDictIoTest::python_output_;

torch::Tensor find(const NamedTensors& entries, const std::string& key) {
  for (const auto& [k, t] : entries) {
    if (k == key) return t;
  }
  ADD_FAILURE() << "no key " << key;
  return {};
}

TEST_F(StateDictIoTest, ReadsTorchvisionResnet18FileBitExactly) {
  const auto sd = read_state_dict(file("resnet18.pth"));
  EXPECT_EQ(sd.size(), 122u);  // 62 params + 60 BN buffers
  expect_matches_manifest(sd, "resnet18.json");
  EXPECT_EQ(sd.front().first, "conv1.weight");
  EXPECT_EQ(sd.back().first, "fc.bias");
  EXPECT_EQ(find(sd, "layer4.1.bn2.num_batches_tracked").item<std::int64_t>(), 7);
}

TEST_F(StateDictIoTest, ReadsDtypesViewsScalarsEmptyAndSharedStorage) {
  const auto sd = read_state_dict(file("mixed.pth"));
  expect_matches_manifest(sd, "mixed.json");
  // Views of one Python storage share one C++ storage, as torch.load gives.
  EXPECT_TRUE(find(sd, "transposed").is_alias_of(find(sd, "tail")));
  EXPECT_FALSE(find(sd, "transposed").is_contiguous());
  EXPECT_EQ(find(sd, "steps").dim(), 0);
  EXPECT_EQ(find(sd, "steps").item<std::int64_t>(), 123456789012LL);
  EXPECT_EQ(find(sd, "empty").numel(), 0);
  EXPECT_EQ(find(sd, "expanded").stride(1), 0);
  EXPECT_FLOAT_EQ(find(sd, "scalar").item<float>(), 2.5f);
}

TEST_F(StateDictIoTest, ReadsPickleProtocol4AndPlainDictTheSame) {
  expect_matches_manifest(read_state_dict(file("mixed_p4.pth")), "mixed.json");
  expect_matches_manifest(read_state_dict(file("plain_dict.pth")), "mixed.json");
  // The in-memory entry point reads the same bytes.
  expect_matches_manifest(parse_state_dict(read_file(file("mixed.pth")), "mem"), "mixed.json");
}

TEST_F(StateDictIoTest, UnsupportedFilesNameThePathAndTheFix) {
  const auto expect_error = [](const fs::path& path, const std::string& text) {
    SCOPED_TRACE(path.string());
    try {
      read_state_dict(path);
      ADD_FAILURE() << "expected CheckpointError";
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      EXPECT_THAT(e.what(), HasSubstr(text));
    }
  };
  expect_error(file("legacy.pth"), "legacy");
  expect_error(file("training_checkpoint.pth"), "'epoch' is a int, not a tensor");
  expect_error(file("whole_module.pth"), "unsupported Python object '");
  expect_error(file("torchscript.pt"), "TorchScript");
  expect_error(scratch() / "missing.pth", "no such state_dict file");
  expect_error(scratch(), "not a regular file");

  write_file_atomic(scratch() / "empty.pth", "");
  expect_error(scratch() / "empty.pth", "empty file (0 bytes)");
  write_file_atomic(scratch() / "text.pth", "conv1.weight: [1, 2, 3]\n");
  expect_error(scratch() / "text.pth", "not a PyTorch checkpoint");
  write_file_atomic(scratch() / "pk.pth", std::string("PK\x03\x04", 4) + std::string(100, 'x'));
  expect_error(scratch() / "pk.pth", "corrupt or truncated");
}

TEST_F(StateDictIoTest, EveryTruncationIsACheckpointError) {
  const std::string bytes = read_file(file("mixed.pth"));
  const auto path = scratch() / "cut.pth";
  for (std::size_t n = 1; n < bytes.size(); n += std::max<std::size_t>(1, bytes.size() / 97)) {
    SCOPED_TRACE(n);
    EXPECT_THROW(parse_state_dict(std::string_view(bytes).substr(0, n), "cut"), CheckpointError);
  }
  write_file_atomic(path, std::string_view(bytes).substr(0, bytes.size() - 1));
  EXPECT_THROW(read_state_dict(path), CheckpointError);
  // A big file cut in its storage data.
  const std::string big = read_file(file("resnet18.pth"));
  EXPECT_THROW(parse_state_dict(std::string_view(big).substr(0, big.size() / 2), "cut"), CheckpointError);
}

TEST_F(StateDictIoTest, RandomByteCorruptionNeverCrashes) {
  const std::string bytes = read_file(file("mixed.pth"));
  std::mt19937_64 rng(42);
  int rejected = 0, accepted = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    try {
      parse_state_dict(mutated, "mutated");
      ++accepted;
    } catch (const CheckpointError&) {
      ++rejected;
    }
  }
  EXPECT_EQ(rejected + accepted, 400);
  EXPECT_GT(rejected, 0);
}

/// Mirrors a torchvision-style module: conv1 (no bias), bn1, layer1.0 (conv), fc.
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).bias(false)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(4))),
        layer1(register_module("layer1", torch::nn::Sequential(torch::nn::Conv2d(4, 4, 1)))),
        fc(register_module("fc", torch::nn::Linear(4, 5))) {}
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Sequential layer1;
  torch::nn::Linear fc;
};
TORCH_MODULE(TinyNet);

// Python: reads what C++ wrote and checks it against the originals and torchvision.
constexpr const char* kVerify = R"PY(
import collections, torch, torchvision
D = "@DIR@"; S = "@SCRATCH@"
def same(a, b, views):
    assert type(b) is collections.OrderedDict, type(b)
    assert list(a.keys()) == list(b.keys()), (list(a.keys()), list(b.keys()))
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]), k
        if views: assert a[k].stride() == b[k].stride() and a[k].storage_offset() == b[k].storage_offset(), k
same(torch.load(D + "/resnet18.pth"), torch.load(S + "/resnet18_back.pth"), True)
torchvision.models.resnet18().load_state_dict(torch.load(S + "/resnet18_back.pth"), strict=True)
mixed = torch.load(S + "/mixed_back.pth")
same(torch.load(D + "/mixed.pth"), mixed, True)
assert mixed["transposed"].storage().data_ptr() == mixed["tail"].storage().data_ptr()
head = torch.load(S + "/resnet18_head10.pth")
torchvision.models.resnet18(num_classes=10).load_state_dict(head, strict=True)
class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, bias=False); self.bn1 = torch.nn.BatchNorm2d(4)
        self.layer1 = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 1)); self.fc = torch.nn.Linear(4, 5)
tiny = Tiny(); sd = torch.load(S + "/tiny.pth")
assert list(sd.keys()) == list(tiny.state_dict().keys()), list(sd.keys())
tiny.load_state_dict(sd, strict=True)
for i, (k, v) in enumerate(tiny.state_dict().items()):
    want = (torch.arange(v.numel(), dtype=torch.float64).reshape(v.shape) * 0.5 + i).to(v.dtype)
    assert torch.equal(v, want), k
print("VERIFIED")
)PY";

TEST_F(StateDictIoTest, FilesWrittenInCppLoadInPythonAndTorchvision) {
  // 1. A torchvision file read and written back: identical tensors, torchvision accepts it.
  const auto resnet = read_state_dict(file("resnet18.pth"));
  write_state_dict(scratch() / "resnet18_back.pth", resnet);
  write_state_dict(scratch() / "mixed_back.pth", read_state_dict(file("mixed.pth")));
  // 2. A head replaced with 10 classes (shapes Python's resnet18(num_classes=10) expects).
  NamedTensors head = resnet;
  for (auto& [k, t] : head) {
    if (k == "fc.weight") t = torch::randn({10, 512});
    if (k == "fc.bias") t = torch::zeros({10});
  }
  write_state_dict(scratch() / "resnet18_head10.pth", head);
  // 3. A LibTorch module named like torchvision, with recognisable values.
  TinyNet tiny;
  const auto state = module_state(*tiny);
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < state.size(); ++i) {
      const auto& t = state[i].second;
      t.copy_((torch::arange(t.numel(), torch::kFloat64).reshape(t.sizes()) * 0.5 + static_cast<double>(i)).to(t.scalar_type()));
    }
  }
  write_state_dict(scratch() / "tiny.pth", state);
  EXPECT_EQ(read_state_dict(scratch() / "tiny.pth").size(), state.size());

  const auto verified = testing::run_python(
      replace_all(replace_all(kVerify, "@DIR@", dir_.string()), "@SCRATCH@", scratch().string()));
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_THAT(verified.output, HasSubstr("VERIFIED"));
}

TEST_F(StateDictIoTest, WriteRoundTripsInCppAndPreservesSharing) {
  const auto base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  const NamedTensors entries = {{"t", base.t()}, {"row", base[1]}, {"flag", torch::tensor(true)},
                                {"bf", torch::ones({2}, torch::kBFloat16)}, {"big", torch::tensor(int64_t{1} << 40)},
                                {"none", torch::empty({0, 2})}};
  const auto path = scratch() / "sub" / "rt.pth";
  write_state_dict(path, entries);
  const auto back = read_state_dict(path);
  ASSERT_EQ(back.size(), entries.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].first, entries[i].first);
    EXPECT_EQ(back[i].second.scalar_type(), entries[i].second.scalar_type());
    EXPECT_EQ(back[i].second.strides(), entries[i].second.strides());
    EXPECT_TRUE(torch::equal(back[i].second, entries[i].second)) << back[i].first;
  }
  EXPECT_TRUE(back[0].second.is_alias_of(back[1].second));
}

TEST_F(StateDictIoTest, WriteRejectsBadEntriesAndLeavesNoFile) {
  const auto path = scratch() / "bad.pth";
  const auto expect_error = [&](const NamedTensors& entries, const std::string& text) {
    try {
      write_state_dict(path, entries);
      ADD_FAILURE() << "expected CheckpointError for " << text;
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      EXPECT_THAT(e.what(), HasSubstr(text));
    }
    EXPECT_FALSE(fs::exists(path));
  };
  expect_error({{"a", torch::ones(1)}, {"a", torch::ones(1)}}, "duplicate key 'a'");
  expect_error({{"a", torch::Tensor()}}, "'a' is undefined");
  expect_error({{"", torch::ones(1)}}, "empty key");
}

}  // namespace
}  // namespace fashioncut::models
