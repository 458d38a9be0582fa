// `sceald dataset check --dataset NAME --data-root PATH [--split S]`: reads a
// dataset as training would, stats and decodes every image, and prints counts
// per class and split, what was dropped and why, missing and undecodable
// files and label-distribution statistics. Exits 1 when anything is wrong.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "apps/cli_checks.h"
#include "apps/command_registry.h"
#include "engine/data/dataset_check.h"
#include "engine/error.h"

namespace sceald::apps {
namespace {

struct CheckArgs {
  std::string dataset;
  std::string root;
  std::string split;
  std::string labels = "plurality";
  bool decode = true;
  int max_listed = 20;
};

// Progress on stderr: one rewritten line on a terminal, a line per 10% otherwise.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO) != 0) {}
  void operator()(data::Split split, std::int64_t done, std::int64_t total) {
    if (split != split_ || done < last_done_) {  // a new split
      next_decile_ = 1;
      last_done_ = -1;
    }
    split_ = split;
    if (done == last_done_ && done == total) return;  // already shown
    last_done_ = done;
    const int percent = total ? static_cast<int>(100 * done / total) : 100;
    if (tty_) {
      std::cerr << "\rdecoding " << data::split_name(split) << ": " << done << "/" << total << " (" << percent << "%)"
                << (done == total ? "\n" : "") << std::flush;
    } else if (percent >= 10 * next_decile_ || done == total) {
      next_decile_ = percent / 10 + 1;
      std::cerr << "decoding " << data::split_name(split) << ": " << done << "/" << total << "\n";
    }
  }

 private:
  bool tty_;
  data::Split split_ = data::Split::Train;
  std::int64_t last_done_ = -1;
  int next_decile_ = 1;
};

void run_check(const CheckArgs& args) {
  data::DatasetOptions options;
  options.kind = data::parse_dataset_kind(args.dataset);
  SCEALD_CHECK(options.kind != data::DatasetKind::Synthetic,
               "dataset check: the synthetic dataset is generated; to check a generated set, give its folder with "
               "--dataset ferplus --data-root DIR");
  options.root = args.root;
  options.labels = data::parse_ferplus_labels(args.labels);
  std::optional<data::Split> split;
  if (!args.split.empty()) split = data::parse_split(args.split);

  data::CheckOptions check;
  check.decode = args.decode;
  auto progress = std::make_shared<Progress>();
  check.progress = [progress](data::Split s, std::int64_t done, std::int64_t total) { (*progress)(s, done, total); };
  const data::DatasetCheck result = data::check_dataset(options, split, check);
  data::print_check(std::cout, result, args.max_listed);
  std::cout.flush();
  SCEALD_CHECK(result.ok(), "dataset check failed: ", result.problem_count(), " problem(s), listed above");
}

void setup(CLI::App& root) {
  CLI::App* dataset = root.add_subcommand("dataset", "Work with datasets on disk");
  dataset->require_subcommand(1);
  CLI::App* check = dataset->add_subcommand("check", "Read a dataset as training would and report what is wrong");
  auto args = std::make_shared<CheckArgs>();
  check->add_option("--dataset", args->dataset, "ferplus, rafdb, affectnet or folder")->required();
  check->add_option("--data-root", args->root, "the dataset's root folder")->required();
  check->add_option("--split", args->split, "train, valid or test (default: every split found)");
  check->add_option("--labels", args->labels, "FERPlus labels: plurality (default) or fer2013");
  check->add_flag("--decode,!--no-decode", args->decode, "decode every image (default on)");
  check->add_option("--max-listed", args->max_listed, "files listed per kind of problem (default 20)")
      ->check(whole_number());
  check->callback([args] { run_check(*args); });
}

const CommandRegistration registration("dataset", setup);

}  // namespace
}  // namespace sceald::apps
