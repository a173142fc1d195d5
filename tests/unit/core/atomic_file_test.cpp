#include "fashioncut/core/atomic_file.h"

#include <gmock/gmock.h>
#include <sys/stat.h>

#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut {
namespace {
using ::testing::HasSubstr;

class AtomicFileTest : public testing::SeedingFixture {};

TEST_F(AtomicFileTest, WritesAndReplacesWholeFile) {
  const auto path = scratch() / "sub" / "a.bin";
  write_file_atomic(path, "first version");
  EXPECT_EQ(read_file(path), "first version");
  write_file_atomic(path, "v2");
  EXPECT_EQ(read_file(path), "v2");
  EXPECT_FALSE(std::filesystem::exists(temp_sibling(path)));
}

TEST_F(AtomicFileTest, UnwritableFolderKeepsOldFileAndNamesPath) {
  if (::geteuid() == 0) {
    // root ignores permission bits; use a path under a regular file instead.
    const auto blocker = scratch() / "blocker";
    write_file_atomic(blocker, "x");
    try {
      write_file_atomic(blocker / "child.bin", "data");
      FAIL() << "expected IoError";
    } catch (const IoError& e) {
      EXPECT_THAT(e.what(), HasSubstr("blocker"));
    }
    EXPECT_EQ(read_file(blocker), "x");
    return;
  }
  const auto dir = scratch() / "ro";
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "keep.bin", "old");
  ::chmod(dir.c_str(), 0555);
  EXPECT_THROW(write_file_atomic(dir / "keep.bin", "new"), IoError);
  ::chmod(dir.c_str(), 0755);
  EXPECT_EQ(read_file(dir / "keep.bin"), "old");
}

TEST_F(AtomicFileTest, MissingFileErrorNamesPath) {
  try {
    read_file(scratch() / "missing.txt");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.txt"));
  }
}

}  // namespace
}  // namespace fashioncut
