#include "nets/sceald/reports.h"

#include <filesystem>
#include <fstream>
#include <iomanip>

#include "engine/data/expressions.h"
#include "engine/data/synthetic.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "nets/sceald/metrics.h"

namespace sceald::train {
namespace fs = std::filesystem;

void append_json_line(const std::string& path, const nlohmann::json& record) {
  std::ofstream out(path, std::ios::app);
  SCEALD_CHECK(out.good(), "cannot open ", path, " for appending");
  out << record.dump() << "\n";
}

void write_json_file(const std::string& path, const nlohmann::json& value) {
  io::write_file_atomically(path, [&](std::ostream& out) { out << value.dump(2) << "\n"; });
}

namespace {

// A CSV field, quoted when it holds a comma, a quote or a line break (a
// folder dataset's file name may).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void write_samples_csv(const std::string& path, const data::Dataset& train, bool noise_added, const Tensor& alpha,
                       const Tensor& semantic_graph, const Tensor& task_graph, const Tensor& label_distributions) {
  const std::size_t n = train.size();
  const auto a = alpha.to(DType::Float64).to_vector<double>();
  const auto ss = semantic_graph.to(DType::Float64).to_vector<double>();
  const auto st = task_graph.to(DType::Float64).to_vector<double>();
  const auto ld = label_distributions.to(DType::Float64).to_vector<double>();
  SCEALD_CHECK(a.size() == n && ss.size() == n * 7 && st.size() == n * 7 && ld.size() == n * 7,
               "write_samples_csv: expected ", n, " samples in every column");
  io::write_file_atomically(path, [&](std::ostream& out) {
    out << "id,label,original_label,alpha";
    for (const char* prefix : {"ss_", "st_", "ld_"})
      for (auto name : data::kExpressionNames) out << "," << prefix << name;
    out << "\n" << std::setprecision(9);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& s = train.samples[i];
      out << csv_field(s.id) << "," << s.label << ",";
      if (noise_added) out << s.original_label;
      out << "," << a[i];
      for (const auto* v : {&ss, &st, &ld})
        for (std::size_t k = 0; k < 7; ++k) out << "," << (*v)[i * 7 + k];
      out << "\n";
    }
  });
}

std::optional<std::map<std::string, std::array<double, 7>>> true_distributions(const data::Dataset& dataset) {
  if (dataset.name != "synthetic") return std::nullopt;
  const char* folder = dataset.split == data::Split::Train   ? "FER2013Train"
                       : dataset.split == data::Split::Valid ? "FER2013Valid"
                                                             : "FER2013Test";
  // The reader's root may be the cache folder; the images' own folder is surest.
  std::string dir = (fs::path(dataset.root) / folder).string();
  if (!dataset.samples.empty()) dir = fs::path(dataset.samples[0].path).parent_path().string();
  if (!fs::exists(fs::path(dir) / "true_distribution.csv")) return std::nullopt;
  std::map<std::string, std::array<double, 7>> out;
  for (const auto& t : data::read_true_distributions(dir)) out[t.name] = t.distribution;
  return out;
}

double mean_kl_true(const std::map<std::string, std::array<double, 7>>& truth, const data::Dataset& dataset,
                    const Tensor& q) {
  const auto qv = q.to(DType::Float64).to_vector<double>();
  double total = 0;
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    auto it = truth.find(dataset.samples[i].id);
    SCEALD_CHECK(it != truth.end(), "no true distribution for sample ", dataset.samples[i].id);
    total += method::kl_divergence(it->second, std::span<const double>(qv.data() + i * 7, 7));
  }
  return total / static_cast<double>(dataset.size());
}

}  // namespace sceald::train
