// Subcommands register themselves, one file each: a file defines a setup
// function that adds its CLI11 subcommand and callback, and a static
// CommandRegistration that hands it to main(). Apps stay thin: parsing,
// progress and output; the work lives in the library.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace sceald::apps {

using CommandSetup = std::function<void(CLI::App& root)>;

struct RegisteredCommand {
  std::string name;
  CommandSetup setup;
};

std::vector<RegisteredCommand>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(setup)});
  }
};

}  // namespace sceald::apps
