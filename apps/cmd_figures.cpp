// `sceald figures --run DIR`: the paper's Figs. 4-5 for a finished run, one
// SVG of chosen training images with their given (and, under --noise, true)
// label, alpha and amended label distribution (nets/sceald/sample_figure.h).
#include <filesystem>
#include <iostream>
#include <sstream>

#include "apps/cli_checks.h"
#include "apps/command_registry.h"
#include "nets/sceald/sample_figure.h"

namespace sceald::apps {
namespace {

struct FiguresArgs {
  std::string run;
  std::string out;
  std::string ids;
  train::FigureOptions options;
};

void figures(const FiguresArgs& a) {
  train::FigureOptions o = a.options;
  std::stringstream ids(a.ids);
  for (std::string id; std::getline(ids, id, ',');)
    if (!id.empty()) o.ids.push_back(id);
  const std::string out = a.out.empty() ? (std::filesystem::path(a.run) / "figures.svg").string() : a.out;
  const auto chosen = train::write_sample_figure(a.run, o, out);
  std::cout << "wrote " << out << " (" << chosen.size() << " samples:";
  for (const auto& s : chosen) std::cout << " " << s.id;
  std::cout << ")\n";
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand(
      "figures", "Figs. 4-5: training images of a run with their labels, alpha and label distribution (SVG)");
  auto a = std::make_shared<FiguresArgs>();
  cmd->add_option("--run", a->run, "a `sceald train --out` folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "the SVG to write (default: RUN/figures.svg)");
  cmd->add_option("--ids", a->ids, "comma-separated sample ids to show, in this order (default: a seeded draw)");
  cmd->add_option("--count", a->options.count, "samples drawn per row: clean ones, and flipped ones under --noise")
      ->capture_default_str()
      ->check(whole_number(1));
  cmd->add_option("--seed", a->options.seed, "seed of the draw")->capture_default_str()->check(whole_number());
  cmd->callback([a] { figures(*a); });
}

const CommandRegistration registration("figures", setup);

}  // namespace
}  // namespace sceald::apps
