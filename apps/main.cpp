// The sceald command line: `sceald <subcommand> [options]`. Errors are
// reported as one line on stderr with exit status 1 (2 for usage errors).
#include <algorithm>
#include <iostream>

#include "apps/command_registry.h"
#include "engine/error.h"

namespace sceald::apps {
std::vector<RegisteredCommand>& command_registry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}
}  // namespace sceald::apps

int main(int argc, char** argv) {
  CLI::App app{"sceald: facial expression recognition with semantic-correlation-amended label distributions"};
  app.require_subcommand(1);
  auto& registry = sceald::apps::command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& command : registry) command.setup(app);
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
