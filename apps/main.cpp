// The sceald command line: `sceald <subcommand> [options]`. Errors are
// reported as one line on stderr with exit status 1 (2 for usage errors).
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

#include "apps/command_registry.h"
#include "engine/error.h"
#include "kernels/cpu/cpu_features.h"

namespace sceald::apps {
std::vector<RegisteredCommand>& command_registry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}
}  // namespace sceald::apps

int main(int argc, char** argv) {
  CLI::App app{"sceald: facial expression recognition with semantic-correlation-amended label distributions"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sceald " SCEALD_VERSION);
  auto& registry = sceald::apps::command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& command : registry) command.setup(app);
  // Before any parallel region: libgomp crashes when asked for tens of thousands of threads.
  if (omp_get_max_threads() > sceald::kernels::cpu::kMaxCpuThreads) {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
      std::cerr << "sceald: error: OMP_NUM_THREADS=" << env << " asks for " << omp_get_max_threads()
                << " threads; at most " << sceald::kernels::cpu::kMaxCpuThreads << "\n";
      return 2;
    }
    omp_set_num_threads(sceald::kernels::cpu::kMaxCpuThreads);  // a machine with more hardware threads
  }
  // CLI11 would answer "A subcommand is required" to a mistyped one.
  if (argc > 1 && argv[1][0] != '-' &&
      std::none_of(registry.begin(), registry.end(), [&](const auto& c) { return c.name == argv[1]; })) {
    std::string names;
    for (const auto& command : registry) names += (names.empty() ? "" : ", ") + command.name;
    std::cerr << "sceald: unknown command '" << argv[1] << "' (the commands: " << names << ")\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message; every usage error (unknown option, bad value,
    // missing file) exits 2, help exits 0.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const sceald::Error& e) {
    std::cerr << "sceald: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "sceald: unexpected error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
