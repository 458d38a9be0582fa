#include "engine/data/dataset_check.h"

#include <omp.h>

#include <atomic>
#include <cmath>
#include <iomanip>
#include <unordered_map>

#include "engine/data/decode.h"
#include "engine/data/fer2013_csv.h"
#include "engine/data/ferplus.h"
#include "engine/data/reader_support.h"
#include "engine/error.h"

namespace sceald::data {

bool DatasetCheck::ok() const {
  for (const SplitCheck& s : splits)
    if (!s.ok()) return false;
  return !splits.empty();
}

std::int64_t DatasetCheck::problem_count() const {
  std::int64_t n = 0;
  for (const SplitCheck& s : splits)
    n += static_cast<std::int64_t>(s.dataset.report.missing_files.size() + s.undecodable.size() + s.problems.size());
  return n;
}

void decode_all(const Dataset& dataset, SplitCheck& result, const CheckOptions& check) {
  const auto n = static_cast<std::int64_t>(dataset.samples.size());
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  std::vector<std::string> formats(static_cast<std::size_t>(n));
  std::vector<char> outside(static_cast<std::size_t>(n), 0);
  std::atomic<std::int64_t> done{0};
  const std::int64_t step = std::max<std::int64_t>(1, std::min<std::int64_t>(1000, n / 100 + 1));
  std::int64_t next_report = step;
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int64_t i = 0; i < n; ++i) {
    const Sample& s = dataset.samples[static_cast<std::size_t>(i)];
    try {
      const Image image = s.image ? *s.image : decode_image(s.path);  // pixels held by the label file
      formats[static_cast<std::size_t>(i)] = image.str();
      if (s.crop) {
        const CropBox& c = *s.crop;
        outside[static_cast<std::size_t>(i)] =
            c.left < 0 || c.top < 0 || c.left + c.width > image.width || c.top + c.height > image.height;
      }
    } catch (const std::exception& e) {
      errors[static_cast<std::size_t>(i)] = e.what();
    }
    const std::int64_t finished = ++done;
    if (check.progress && omp_get_thread_num() == 0 && finished >= next_report) {
      next_report = finished + step;
      check.progress(dataset.split, finished, n);
    }
  }
  if (check.progress) check.progress(dataset.split, n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (!errors[k].empty()) {
      result.undecodable.push_back({dataset.samples[k].path, errors[k]});
    } else {
      ++result.image_formats[formats[k]];
      result.crops_reaching_outside += outside[k];
    }
  }
  result.decoded = true;
}

namespace {

DistributionStats distribution_stats(const Dataset& dataset) {
  DistributionStats stats;
  double entropy = 0, share = 0;
  for (const Sample& s : dataset.samples) {
    if (!s.distribution) continue;
    ++stats.samples;
    for (float p : *s.distribution)
      if (p > 0) entropy -= static_cast<double>(p) * std::log2(static_cast<double>(p));
    share += static_cast<double>((*s.distribution)[static_cast<std::size_t>(s.label)]);
  }
  if (stats.samples > 0) {
    stats.mean_entropy_bits = entropy / static_cast<double>(stats.samples);
    stats.mean_label_share = share / static_cast<double>(stats.samples);
  }
  return stats;
}

// FERPlus: opens the split with both label choices and counts agreements.
void compare_ferplus_labels(const DatasetOptions& options, Split split, SplitCheck& result) {
  const std::string folder = detail::join_path(options.root, ferplus_split_folder(split));
  // The CSV layout (fer2013_csv.h) carries FER2013's label in its emotion column.
  const bool csv_layout =
      !detail::is_regular_file(detail::join_path(folder, "label.csv")) && has_fer2013_csv(options.root);
  if (!csv_layout && !detail::is_regular_file(detail::join_path(folder, "fer2013_label.csv"))) {
    result.dataset.report.notes.push_back("no fer2013_label.csv beside label.csv: no comparison with FER2013's labels");
    return;
  }
  DatasetOptions o = options;
  o.split = split;
  o.check_files = false;
  o.labels = FerPlusLabels::Plurality;
  const Dataset plurality = open_dataset(o);
  o.labels = FerPlusLabels::Fer2013;
  const Dataset fer2013 = open_dataset(o);
  std::unordered_map<std::string, int> by_id;
  for (const Sample& s : plurality.samples) by_id.emplace(s.id, s.label);
  for (const Sample& s : fer2013.samples) {
    const auto it = by_id.find(s.id);
    if (it == by_id.end()) continue;
    ++result.distribution.fer2013_compared;
    result.distribution.fer2013_agreeing += it->second == s.label;
  }
}

}  // namespace

DatasetCheck check_dataset(const DatasetOptions& options, std::optional<Split> only_split, const CheckOptions& check) {
  DatasetCheck out;
  out.options = options;
  const std::vector<Split> splits = only_split ? std::vector<Split>{*only_split} : available_splits(options);
  for (Split split : splits) {
    DatasetOptions o = options;
    o.split = split;
    o.check_files = true;
    SplitCheck result;
    result.split = split;
    result.dataset = open_dataset(o);
    result.problems = result.dataset.report.problems;
    if (result.dataset.samples.empty()) result.problems.push_back("no samples");
    result.distribution = distribution_stats(result.dataset);
    if (options.kind == DatasetKind::FerPlus) {
      try {
        compare_ferplus_labels(options, split, result);
      } catch (const Error& e) {
        result.problems.push_back(str_cat("cannot compare with FER2013's labels: ", e.what()));
      }
    }
    if (check.decode) decode_all(result.dataset, result, check);
    out.splits.push_back(std::move(result));
  }
  return out;
}

namespace {

template <typename List, typename Show>
void print_list(std::ostream& out, const std::string& title, const List& items, int max_listed, Show show) {
  if (items.empty()) {
    out << "  " << title << ": none\n";
    return;
  }
  out << "  " << title << ": " << items.size() << "\n";
  const std::size_t shown = std::min(items.size(), static_cast<std::size_t>(std::max(0, max_listed)));
  for (std::size_t i = 0; i < shown; ++i) out << "    " << show(items[i]) << "\n";
  if (items.size() > shown) out << "    ... and " << items.size() - shown << " more\n";
}

}  // namespace

void print_check(std::ostream& out, const DatasetCheck& check, int max_listed) {
  const DatasetOptions& o = check.options;
  out << dataset_kind_name(o.kind) << " at " << o.root;
  if (o.kind == DatasetKind::FerPlus) out << " (labels: " << ferplus_labels_name(o.labels) << ")";
  out << "\n\n";

  // Class table: one column per split.
  out << std::left << std::setw(12) << "class" << std::right;
  for (const SplitCheck& s : check.splits) out << std::setw(10) << split_name(s.split);
  out << "\n";
  std::vector<std::array<std::int64_t, kNumExpressions>> counts;
  for (const SplitCheck& s : check.splits) counts.push_back(s.dataset.class_counts());
  for (int c = 0; c < kNumExpressions; ++c) {
    out << std::left << std::setw(12) << kExpressionNames[c] << std::right;
    for (const auto& split_counts : counts) out << std::setw(10) << split_counts[c];
    out << "\n";
  }
  out << std::left << std::setw(12) << "total" << std::right;
  for (const SplitCheck& s : check.splits) out << std::setw(10) << s.dataset.size();
  out << "\n";

  for (const SplitCheck& s : check.splits) {
    const DatasetReport& r = s.dataset.report;
    out << "\nsplit " << split_name(s.split) << ": " << r.entries_read << " entries read, " << s.dataset.size()
        << " kept, " << r.dropped_total() << " dropped";
    if (!r.dropped.empty()) {
      out << " (";
      bool first = true;
      for (const auto& [reason, count] : r.dropped) {
        out << (first ? "" : ", ") << reason << " " << count;
        first = false;
      }
      out << ")";
    }
    out << "\n";
    const DistributionStats& d = s.distribution;
    if (d.samples > 0) {
      out << std::fixed << std::setprecision(3) << "  label distributions: " << d.samples << " samples, mean entropy "
          << d.mean_entropy_bits << " bits (of at most 2.807), mean share of the given label " << d.mean_label_share
          << "\n";
      if (d.fer2013_compared > 0)
        out << "  plurality agrees with the FER2013 label for " << std::setprecision(1) << 100.0 * d.fer2013_agreement()
            << "% of images (" << d.fer2013_agreeing << " of " << d.fer2013_compared << ")\n";
      out << std::defaultfloat << std::setprecision(6);
    }
    if (s.decoded) {
      out << "  images decoded: " << s.dataset.size() - s.undecodable.size() << " of " << s.dataset.size();
      for (const auto& [format, count] : s.image_formats) out << "; " << format << ": " << count;
      out << "\n";
      if (s.crops_reaching_outside > 0)
        out << "  face boxes reaching outside their image: " << s.crops_reaching_outside << " (zero-filled when cropped)\n";
    } else {
      out << "  images not decoded (--no-decode)\n";
    }
    print_list(out, "missing files", r.missing_files, max_listed, [](const std::string& p) { return p; });
    if (s.decoded)
      print_list(out, "undecodable files", s.undecodable, max_listed,
                 [](const UndecodableFile& f) {
                   return f.reason.find(f.path) != std::string::npos ? f.reason : f.path + ": " + f.reason;
                 });
    print_list(out, "other problems", s.problems, max_listed, [](const std::string& p) { return p; });
    for (const std::string& note : r.notes) out << "  note: " << note << "\n";
  }
  out << "\n" << (check.ok() ? "OK" : str_cat("FAILED: ", check.problem_count(), " problem(s)")) << "\n";
}

}  // namespace sceald::data
