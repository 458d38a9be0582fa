// Whether ops record autograd history on this thread. NoGradGuard switches it
// off for a scope (evaluation, optimiser updates, statistics).
#pragma once

namespace sceald {

class GradMode {
 public:
  static bool enabled();
  static void set_enabled(bool value);
};

class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace sceald
