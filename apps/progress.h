// Progress of a long pass on stderr: a bar with images/s and ETA on a
// terminal (isatty(stderr)), plain lines every few seconds otherwise (logs, CI).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace sceald::apps {

class Progress {
 public:
  Progress();
  // Images `done` of `total` in the pass named by stage and epoch.
  void update(const std::string& stage, int epoch, std::int64_t done, std::int64_t total);
  void finish_line();  // ends a bar before other output
 private:
  bool tty_;
  std::string key_;
  std::chrono::steady_clock::time_point start_, last_;
  bool open_ = false;
};

}  // namespace sceald::apps
