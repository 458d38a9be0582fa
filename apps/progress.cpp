#include "apps/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sceald::apps {

Progress::Progress() : tty_(isatty(fileno(stderr)) != 0) {}

void Progress::update(const std::string& stage, int epoch, std::int64_t done, std::int64_t total) {
  const auto now = std::chrono::steady_clock::now();
  const std::string key = stage + ":" + std::to_string(epoch);
  if (key != key_) {
    finish_line();
    key_ = key;
    start_ = last_ = now;
  }
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? done / secs : 0.0;
  const double eta = rate > 0 ? (total - done) / rate : 0.0;
  const bool last = done >= total;
  if (tty_) {
    if (std::chrono::duration<double>(now - last_).count() < 0.1 && !last) return;
    const int width = 30;
    const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\r%-8s epoch %3d [%s%s] %lld/%lld  %.0f img/s  ETA %.0fs ", stage.c_str(), epoch,
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate, eta);
    open_ = true;
    if (last) finish_line();
  } else {
    if (std::chrono::duration<double>(now - last_).count() < 10.0 && !last) return;
    std::fprintf(stderr, "%s epoch %d: %lld/%lld images, %.0f img/s, ETA %.0fs\n", stage.c_str(), epoch,
                 static_cast<long long>(done), static_cast<long long>(total), rate, eta);
  }
  last_ = now;
  std::fflush(stderr);
}

void Progress::finish_line() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace sceald::apps
