#include "engine/io/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/error.h"

namespace sceald::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh folder per test, removed afterwards.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("sceald_atomic_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, RoundTripsContentLargerThanTheBuffer) {
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>(i * 7 + (i >> 9));
  content += std::string("\0 embedded zero", 15);
  const std::string file = path("data.bin");
  write_file_atomically(file, [&](std::ostream& os) {
    os.write(content.data(), 5);  // small writes go through the buffer, large ones past it
    os.write(content.data() + 5, static_cast<std::streamsize>(content.size() - 5));
  });
  EXPECT_EQ(read_file(file), content);
  EXPECT_EQ(entries(), std::vector<std::string>{"data.bin"});
}

TEST_F(AtomicFileTest, ReplacesAnExistingFileAndKeepsItsPermissions) {
  const std::string file = path("f.txt");
  write_file_atomically(file, [](std::ostream& os) { os << "old content that is longer"; });
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  write_file_atomically(file, [](std::ostream& os) { os << "new"; });
  EXPECT_EQ(read_file(file), "new");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(entries(), std::vector<std::string>{"f.txt"});
}

TEST_F(AtomicFileTest, WriterExceptionLeavesOldFileAndNoTemporary) {
  const std::string file = path("keep.txt");
  write_file_atomically(file, [](std::ostream& os) { os << "precious"; });
  EXPECT_THROW(write_file_atomically(file,
                                     [](std::ostream& os) {
                                       os << std::string(200000, 'x');  // some of it reaches the disk
                                       throw std::runtime_error("writer failed half-way");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read_file(file), "precious");
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.txt"});
}

TEST_F(AtomicFileTest, WriterExceptionWithNoOldFileLeavesNothing) {
  const std::string file = path("never.txt");
  EXPECT_THROW(write_file_atomically(file, [](std::ostream&) { throw Error("no"); }), Error);
  EXPECT_TRUE(entries().empty());
}

TEST_F(AtomicFileTest, MissingFolderIsAnErrorNamingIt) {
  const std::string file = path("no_such_folder/out.bin");
  try {
    write_file_atomically(file, [](std::ostream& os) { os << "x"; });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("no_such_folder"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("No such file or directory"));
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(AtomicFileTest, ReadMissingFileNamesItAndTheReason) {
  const std::string file = path("absent.bin");
  try {
    read_file(file);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(file));
    EXPECT_THAT(std::string(e.what()), HasSubstr("No such file or directory"));
  }
}

TEST_F(AtomicFileTest, ReadFolderIsAnError) {
  try {
    read_file(dir_.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("it is a folder"));
  }
}

TEST_F(AtomicFileTest, ReadOnlyFileReadsRangesAndReportsShortFiles) {
  const std::string file = path("r.bin");
  write_file_atomically(file, [](std::ostream& os) { os << "0123456789"; });
  ReadOnlyFile f(file);
  EXPECT_EQ(f.size(), 10u);
  char buf[4] = {};
  f.read_at(3, buf, 4);
  EXPECT_EQ(std::string(buf, 4), "3456");
  try {
    f.read_at(8, buf, 4);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("the file ended at byte 10"));
  }
}

// The pid of a process that has exited and been reaped: no process has it now
// (pids are not reused that quickly).
pid_t finished_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST_F(AtomicFileTest, OnlyStaleTemporariesOfFinishedWritersAreRemoved) {
  const pid_t dead = finished_pid();
  const auto temporary = [&](const std::string& name, pid_t pid, int counter) {
    return path(name + ".sceald-tmp." + std::to_string(pid) + "." + std::to_string(counter));
  };
  const std::string stale = temporary("checkpoint.safetensors", dead, 3);
  const std::string fresh = temporary("log.jsonl", dead, 4);          // written seconds ago
  const std::string locked = temporary("samples.csv", dead, 5);       // a writer elsewhere holds its lock
  const std::string ours = temporary("checkpoint.safetensors", ::getpid(), 0);
  const std::string running = temporary("config.json", ::getppid(), 1);
  const std::vector<std::string> others = {path("backup.tmp.2024.06"), path("a.sceald-tmp.x.1"), path("data.csv")};
  std::vector<std::string> all = {stale, fresh, locked, ours, running};
  all.insert(all.end(), others.begin(), others.end());
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const std::string& p : all) {
    write_file_atomically(p, [](std::ostream& out) { out << "x"; });
    if (p != fresh) fs::last_write_time(p, an_hour_ago);
  }
  const int holder = ::open(locked.c_str(), O_RDONLY);
  ASSERT_EQ(::flock(holder, LOCK_EX), 0);
  EXPECT_EQ(remove_stale_temporaries(dir_.string()), 1);
  EXPECT_FALSE(fs::exists(stale));
  for (const std::string& p : all)
    if (p != stale) EXPECT_TRUE(fs::exists(p)) << p;
  ::close(holder);
  EXPECT_EQ(remove_stale_temporaries(dir_.string()), 1);  // its lock is free now
  EXPECT_FALSE(fs::exists(locked));
  EXPECT_EQ(remove_stale_temporaries(path("missing")), 0);
}

TEST_F(AtomicFileTest, EmptyContentIsAnEmptyFile) {
  const std::string file = path("empty");
  write_file_atomically(file, [](std::ostream&) {});
  EXPECT_EQ(read_file(file), "");
}

}  // namespace
}  // namespace sceald::io
