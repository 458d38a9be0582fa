#include "engine/data/synthetic.h"

#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/data/encode.h"
#include "engine/data/face_renderer.h"
#include "engine/data/reader_support.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarkerName = "synthetic.json";
constexpr const char* kMarkerFormat = "sceald-synthetic";

// Canonical order: surprise, fear, disgust, happiness, sadness, anger, neutral.
// docs/SYNTHETIC.md explains the choices (compound expressions after Du,
// Tao & Martinez 2014, and which pairs FERPlus annotators split their votes over).
constexpr std::array<std::array<int, kNumExpressions>, kNumExpressions> kCooccurrence = {{
    //  sur fea dis hap sad ang neu
    {0, 12, 2, 12, 2, 2, 1},   // surprise
    {12, 0, 3, 1, 6, 3, 3},    // fear
    {2, 3, 0, 2, 4, 12, 2},    // disgust
    {12, 1, 2, 0, 1, 1, 10},   // happiness
    {2, 6, 4, 1, 0, 5, 10},    // sadness
    {2, 3, 12, 1, 5, 0, 6},    // anger
    {1, 3, 2, 10, 10, 6, 0},   // neutral
}};

// Each image owns 2^24 Philox blocks: room for the noise of a 512x512 image.
constexpr int kImageStreamShift = 24;

}  // namespace

// ---- options

bool SyntheticOptions::same_data(const SyntheticOptions& o) const {
  return train == o.train && valid == o.valid && test == o.test && size == o.size && seed == o.seed;
}

std::string SyntheticOptions::cache_name() const {
  return str_cat("synthetic-v", kSyntheticVersion, "-s", size, "-n", train, "-", valid, "-", test, "-seed", seed);
}

std::int64_t SyntheticOptions::count(Split split) const {
  switch (split) {
    case Split::Train: return train;
    case Split::Valid: return valid;
    case Split::Test: return test;
  }
  return 0;
}

void SyntheticOptions::validate() const {
  SCEALD_CHECK(size >= 16 && size <= 512, "synthetic dataset: size must be in [16, 512], got ", size);
  for (auto [name, n] : {std::pair{"train", train}, {"valid", valid}, {"test", test}})
    SCEALD_CHECK(n >= 0 && n <= 1000000, "synthetic dataset: the ", name, " count must be in [0, 1000000], got ", n);
  SCEALD_CHECK(train + valid + test > 0, "synthetic dataset: every split count is 0; nothing to generate");
  SCEALD_CHECK(threads >= 0, "synthetic dataset: threads must be >= 0 (0: OpenMP's default), got ", threads);
}

// ---- the generative model

const std::array<std::array<int, kNumExpressions>, kNumExpressions>& synthetic_cooccurrence() { return kCooccurrence; }

ExpressionMixture draw_expression_mixture(Generator& g) {
  ExpressionMixture m;
  if (g.next_uniform() < kSyntheticPureShare) {
    m.dominant = static_cast<int>(g.next_below(kNumExpressions));
    m.distribution[static_cast<std::size_t>(m.dominant)] = 1.0;
    return m;
  }
  int total = 0;
  for (int a = 0; a < kNumExpressions; ++a)
    for (int b = a + 1; b < kNumExpressions; ++b) total += kCooccurrence[a][b];
  auto pick = static_cast<int>(g.next_below(static_cast<std::uint64_t>(total)));
  int first = -1, second = -1;
  for (int a = 0; a < kNumExpressions && first < 0; ++a)
    for (int b = a + 1; b < kNumExpressions; ++b) {
      pick -= kCooccurrence[a][b];
      if (pick < 0) {
        first = a, second = b;
        break;
      }
    }
  if (g.next_uniform() < 0.5) std::swap(first, second);
  const int percent = 55 + static_cast<int>(g.next_below(31));
  m.dominant = first;
  m.secondary = second;
  // Weights in hundredths: exact in true_distribution.csv's two decimals.
  m.distribution[static_cast<std::size_t>(first)] = percent / 100.0;
  m.distribution[static_cast<std::size_t>(second)] = (100 - percent) / 100.0;
  return m;
}

FerPlusVotes draw_votes(const std::array<double, kNumExpressions>& distribution, Generator& g) {
  std::array<int, kNumExpressions> canonical_to_column{};
  for (int c = 0; c < kNumExpressions; ++c) canonical_to_column[kFerPlusToCanonical[c]] = c;
  FerPlusVotes votes{};
  for (int annotator = 0; annotator < 10; ++annotator) {
    const double u = g.next_uniform();
    double cumulative = 0.0;
    int chosen = -1;
    for (int k = 0; k < kNumExpressions; ++k) {
      if (distribution[k] <= 0.0) continue;
      chosen = k;  // the last class with mass absorbs rounding at the top end
      cumulative += distribution[k];
      if (u < cumulative) break;
    }
    SCEALD_CHECK(chosen >= 0, "draw_votes: the distribution has no mass");
    ++votes[canonical_to_column[chosen]];
  }
  return votes;
}

SyntheticSample synthesize_sample(std::uint64_t seed, std::int64_t index, int size) {
  SCEALD_CHECK(index >= 0 && index < (std::int64_t{1} << 32), "synthesize_sample: index out of range: ", index);
  Generator g(seed);
  g.set_state(seed, static_cast<std::uint64_t>(index) << kImageStreamShift);
  SyntheticSample s;
  s.mixture = draw_expression_mixture(g);
  s.votes = draw_votes(s.mixture.distribution, g);
  const FaceAppearance appearance = draw_appearance(g);
  s.image = render_face(blend_expressions(s.mixture.distribution), appearance, size, g);
  return s;
}

// ---- files

namespace {

std::string image_name(std::int64_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "fer%07lld.png", static_cast<long long>(index));
  return buffer;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  SCEALD_CHECK(out.good(), "synthetic dataset: could not write ", path, ": ", std::strerror(errno));
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

std::string two_decimals(double v) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

// Renders one split's images in parallel (OpenMP; every image from its own
// stream, so the thread count does not matter), then writes its CSVs.
void write_split(const std::string& folder, Split split, std::int64_t first_index, const SyntheticOptions& options) {
  fs::create_directories(folder);
  const std::int64_t n = options.count(split);
  std::vector<SyntheticSample> samples(static_cast<std::size_t>(n));
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      SyntheticSample s = synthesize_sample(options.seed, first_index + i, options.size);
      write_bytes(detail::join_path(folder, image_name(first_index + i)), encode_png(s.image));
      s.image = Image();  // only the labels are kept
      samples[static_cast<std::size_t>(i)] = std::move(s);
    } catch (...) {
      const std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);

  std::ostringstream labels, truth, fer2013;
  const std::string box = str_cat("\"(0, 0, ", options.size, ", ", options.size, ")\"");
  truth << "name";
  for (std::string_view c : kExpressionNames) truth << ',' << c;
  truth << '\n';
  fer2013 << "name,fer2013_label,rmse,status\n";
  for (std::int64_t i = 0; i < n; ++i) {
    const SyntheticSample& s = samples[static_cast<std::size_t>(i)];
    const std::string name = image_name(first_index + i);
    labels << name << ',' << box;
    for (int v : s.votes) labels << ',' << v;
    labels << '\n';
    truth << name;
    for (double p : s.mixture.distribution) truth << ',' << two_decimals(p);
    truth << '\n';
    fer2013 << name << ',' << kExpressionNames[static_cast<std::size_t>(s.mixture.dominant)] << ",0.00,unique\n";
  }
  write_text(detail::join_path(folder, "label.csv"), labels.str());
  write_text(detail::join_path(folder, "true_distribution.csv"), truth.str());
  write_text(detail::join_path(folder, "fer2013_label.csv"), fer2013.str());
}

std::string marker_text(const SyntheticOptions& o) {
  nlohmann::ordered_json j;
  j["format"] = kMarkerFormat;
  j["version"] = kSyntheticVersion;
  j["size"] = o.size;
  j["train"] = o.train;
  j["valid"] = o.valid;
  j["test"] = o.test;
  j["seed"] = o.seed;
  j["layout"] = "FERPlus (FER2013Train, FER2013Valid, FER2013Test)";
  return j.dump(2) + "\n";
}

// Flushes everything written under `folder` to disk at once (one syncfs
// rather than an fsync per image), so the rename below never publishes
// files whose data is still only in memory.
void flush_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  SCEALD_CHECK(fd >= 0, "synthetic dataset: cannot open ", folder, ": ", std::strerror(errno));
#ifdef __linux__
  const int status = ::syncfs(fd);
#else
  ::sync();
  const int status = ::fsync(fd);
#endif
  const int saved = errno;
  ::close(fd);
  SCEALD_CHECK(status == 0, "synthetic dataset: flushing ", folder, " failed: ", std::strerror(saved));
}

bool is_empty_folder(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

void check_replaceable(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  SCEALD_CHECK(fs::is_directory(dir, ec), "synthetic dataset: ", dir, " exists and is not a folder");
  SCEALD_CHECK(is_empty_folder(dir) || read_synthetic_marker(dir).has_value(), "synthetic dataset: ", dir,
               " is not empty and holds no ", kMarkerName,
               ", so it is not a generated set; refusing to replace it (give a new or empty folder)");
}

// Moves `fresh` to `dir`, replacing what check_replaceable allowed there.
void publish(const std::string& fresh, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    const std::string old = str_cat(dir, ".old.", ::getpid());
    fs::remove_all(old, ec);
#ifdef RENAME_EXCHANGE
    // One atomic swap: readers see the old set or the new one, never neither.
    if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
      fs::remove_all(fresh, ec);
      return;
    }
#endif
    fs::rename(dir, old);
    fs::rename(fresh, dir);
    fs::remove_all(old, ec);
    return;
  }
  fs::rename(fresh, dir);
}

void sync_parent(const std::string& dir) {
  const fs::path parent = fs::absolute(dir).parent_path();
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void generate_synthetic_dataset(const std::string& dir, const SyntheticOptions& options) {
  options.validate();
  SCEALD_CHECK(!dir.empty(), "synthetic dataset: the output folder is empty");
  const std::string clean = fs::path(dir).lexically_normal().string();
  const std::string target = clean.size() > 1 && clean.back() == '/' ? clean.substr(0, clean.size() - 1) : clean;
  check_replaceable(target);
  const fs::path parent = fs::absolute(target).parent_path();
  fs::create_directories(parent);

  static std::atomic<int> counter{0};
  const std::string fresh = str_cat(target, ".tmp.", ::getpid(), ".", counter++);
  std::error_code ec;
  fs::remove_all(fresh, ec);
  try {
    fs::create_directories(fresh);
    std::int64_t first = 0;
    for (Split split : {Split::Train, Split::Valid, Split::Test}) {
      write_split(detail::join_path(fresh, ferplus_split_folder(split)), split, first, options);
      first += options.count(split);
    }
    write_text(detail::join_path(fresh, kMarkerName), marker_text(options));
    flush_folder(fresh);
    // Another process may have published the same set meanwhile: keep theirs.
    const auto there = read_synthetic_marker(target);
    if (there && there->version == kSyntheticVersion && there->options.same_data(options)) {
      fs::remove_all(fresh, ec);
      return;
    }
    check_replaceable(target);
    publish(fresh, target);
    sync_parent(target);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(fresh, ec);
    throw Error(str_cat("synthetic dataset: writing ", target, " failed: ", e.what()));
  } catch (...) {
    fs::remove_all(fresh, ec);
    throw;
  }
}

std::optional<SyntheticMarker> read_synthetic_marker(const std::string& dir) {
  const std::string path = detail::join_path(dir, kMarkerName);
  if (!detail::is_regular_file(path)) return std::nullopt;
  const std::string text = io::read_file(path);
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("format", std::string()) != kMarkerFormat) return std::nullopt;
    SyntheticMarker m;
    m.version = j.at("version").get<int>();
    m.options.size = j.at("size").get<int>();
    m.options.train = j.at("train").get<std::int64_t>();
    m.options.valid = j.at("valid").get<std::int64_t>();
    m.options.test = j.at("test").get<std::int64_t>();
    m.options.seed = j.at("seed").get<std::uint64_t>();
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw Error(str_cat(path, ": not a valid synthetic-set marker: ", e.what(),
                        " (delete the folder to have it generated again)"));
  }
}

bool ensure_synthetic_dataset(const std::string& dir, const SyntheticOptions& options) {
  const auto marker = read_synthetic_marker(dir);
  if (marker && marker->version == kSyntheticVersion && marker->options.same_data(options)) return false;
  generate_synthetic_dataset(dir, options);
  return true;
}

std::string sceald_cache_root() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return detail::join_path(xdg, "sceald");  // XDG: relative paths are to be ignored
  const char* home = std::getenv("HOME");
  SCEALD_CHECK(home && *home, "synthetic dataset: neither XDG_CACHE_HOME nor HOME is set; give a folder with --data-root");
  return detail::join_path(detail::join_path(home, ".cache"), "sceald");
}

std::string synthetic_cache_dir(const SyntheticOptions& options) {
  return detail::join_path(sceald_cache_root(), options.cache_name());
}

std::vector<TrueDistribution> read_true_distributions(const std::string& split_folder) {
  const std::string path = detail::join_path(split_folder, "true_distribution.csv");
  detail::LineReader reader(path);
  std::string line;
  SCEALD_CHECK(reader.next(line), path, ": empty file; expected a header line");
  std::vector<TrueDistribution> rows;
  while (reader.next(line)) {
    if (detail::trim(line).empty()) continue;
    const std::vector<std::string> fields = detail::split_csv_line(line, reader.where());
    SCEALD_CHECK(fields.size() == 1 + kNumExpressions, reader.where(), ": expected ", 1 + kNumExpressions,
                 " fields (name and the 7 classes), got ", fields.size());
    TrueDistribution row;
    row.name = detail::trim(fields[0]);
    for (int k = 0; k < kNumExpressions; ++k)
      row.distribution[k] = detail::parse_number_field(fields[k + 1], reader.where(), kExpressionNames[k]);
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- the dataset

namespace {

Dataset read_generated(const std::string& dir, const DatasetOptions& options) {
  DatasetOptions ferplus = options;
  ferplus.kind = DatasetKind::FerPlus;
  ferplus.root = dir;
  Dataset ds = open_ferplus(ferplus);
  ds.name = "synthetic";
  ds.report.notes.push_back(str_cat("synthetic set in ", dir));
  return ds;
}

}  // namespace

Dataset open_synthetic_dataset(const DatasetOptions& options, const SyntheticOptions& synthetic) {
  const std::string dir = options.root.empty() ? synthetic_cache_dir(synthetic) : options.root;
  ensure_synthetic_dataset(dir, synthetic);
  return read_generated(dir, options);
}

Dataset open_synthetic_dataset(const DatasetOptions& options) {
  if (!options.root.empty() && read_synthetic_marker(options.root)) return read_generated(options.root, options);
  return open_synthetic_dataset(options, SyntheticOptions{});
}

}  // namespace sceald::data
