#include "nets/sceald/sample_figure.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "engine/data/decode.h"
#include "engine/data/encode.h"
#include "engine/data/reader_support.h"
#include "engine/data/transforms.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/rng.h"
#include "nets/sceald/run_state.h"
#include "nets/sceald/train_config.h"

namespace sceald::train {

namespace {

namespace fs = std::filesystem;
constexpr int kClasses = data::kNumExpressions;

// Panel geometry (SVG user units = pixels).
constexpr int kPanelWidth = 330, kPanelHeight = 156, kImageSide = 96, kRowLabelHeight = 22, kTitleHeight = 44;
constexpr int kBarX = 180, kBarLength = 110, kBarTop = 60, kBarStep = 12;
constexpr int kMaxPanelsPerRow = 6;

std::string expected_header() {
  std::string h = "id,label,original_label,alpha";
  for (const char* prefix : {"ss_", "st_", "ld_"})
    for (std::string_view name : data::kExpressionNames) h += str_cat(",", prefix, name);
  return h;
}

int parse_class(const std::string& text, const std::string& where, std::string_view field) {
  const std::int64_t v = data::detail::parse_int_field(text, where, field);
  SCEALD_CHECK(v >= 0 && v < kClasses, where, ": field ", field, ": class ", v, " is not in 0..6");
  return static_cast<int>(v);
}

// Text for an SVG element: XML's five special characters escaped, control
// characters (not allowed in XML 1.0) dropped.
std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') continue;
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// At most `bytes` bytes of `text`, never cutting a UTF-8 sequence.
std::string utf8_prefix(const std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // a continuation byte
  return text.substr(0, end);
}

std::string number(double v, const char* format = "%.4g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string text(int x, int y, std::string_view content, const std::string& style = "font-size:11px") {
  return str_cat("<text x=\"", x, "\" y=\"", y, "\" style=\"", style, "\">", escaped(content), "</text>\n");
}

std::string panel(const FigureSample& s, const data::Image& image, int x0, int y0) {
  std::string svg = str_cat("<g transform=\"translate(", x0, ",", y0, ")\">\n");
  svg += str_cat("<rect width=\"", kPanelWidth - 6, "\" height=\"", kPanelHeight - 6,
                 "\" style=\"fill:none;stroke:#bbb\"/>\n");
  const std::string id = s.id.size() > 30 ? utf8_prefix(s.id, 27) + "..." : s.id;
  svg += text(8, 16, id, "font-size:10px;fill:#555");
  const std::string png = "data:image/png;base64," + base64(data::encode_png(image));
  svg += str_cat("<image x=\"8\" y=\"26\" width=\"", kImageSide, "\" height=\"", kImageSide,
                 "\" preserveAspectRatio=\"xMidYMid meet\" style=\"image-rendering:pixelated\" href=\"", png,
                 "\" xlink:href=\"", png, "\"/>\n");
  svg += text(114, 16, "\u03b1 = " + number(s.alpha), "font-size:12px;font-weight:bold");
  svg += text(114, 32, str_cat("given: ", data::kExpressionNames[s.label]), "font-size:11px;fill:#2458a6");
  if (s.flipped())
    svg += text(114, 46, str_cat("noisy; true: ", data::kExpressionNames[s.original_label]),
                "font-size:11px;fill:#1e7b45");
  else if (s.original_label >= 0)
    svg += text(114, 46, "clean label", "font-size:11px;fill:#555");
  for (int k = 0; k < kClasses; ++k) {
    const int y = kBarTop + k * kBarStep;
    const double share = std::clamp(s.distribution[k], 0.0, 1.0);
    const char* colour = k == s.label ? "#2458a6" : (s.flipped() && k == s.original_label ? "#1e7b45" : "#999");
    svg += text(114, y + 9, data::kExpressionNames[k], "font-size:9px");
    svg += str_cat("<rect x=\"", kBarX, "\" y=\"", y + 1, "\" width=\"", number(kBarLength * share, "%.2f"),
                   "\" height=\"", kBarStep - 3, "\" style=\"fill:", colour, "\"/>\n");
    svg += text(kBarX + static_cast<int>(kBarLength * share) + 3, y + 9, number(s.distribution[k], "%.3f"),
                "font-size:9px;fill:#333");
  }
  return svg + "</g>\n";
}

}  // namespace

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) |
                            (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::vector<FigureSample> read_samples_csv(const std::string& path) {
  data::detail::LineReader reader(path);
  std::string line;
  SCEALD_CHECK(reader.next(line), path, ": empty file; expected samples.csv's header");
  SCEALD_CHECK(line == expected_header(), reader.where(), ": not samples.csv's header (", expected_header(), ")");
  std::vector<FigureSample> samples;
  while (reader.next(line)) {
    if (data::detail::trim(line).empty()) continue;
    const std::string where = reader.where();
    const std::vector<std::string> f = data::detail::split_csv_line(line, where);
    SCEALD_CHECK(f.size() == 4 + 3 * kClasses, where, ": expected ", 4 + 3 * kClasses, " fields, got ", f.size());
    FigureSample s;
    s.id = f[0];
    s.label = parse_class(f[1], where, "2 (label)");
    if (!data::detail::trim(f[2]).empty()) s.original_label = parse_class(f[2], where, "3 (original_label)");
    s.alpha = data::detail::parse_number_field(f[3], where, "4 (alpha)");
    for (int k = 0; k < kClasses; ++k) {
      const int column = 4 + 2 * kClasses + k;  // after id, labels, alpha, S^s and S^t
      s.distribution[k] = data::detail::parse_number_field(
          f[column], where, str_cat(column + 1, " (ld_", data::kExpressionNames[k], ")"));
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

std::vector<FigureSample> choose_figure_samples(const std::vector<FigureSample>& samples,
                                                const FigureOptions& options) {
  std::vector<FigureSample> chosen;
  if (!options.ids.empty()) {
    std::map<std::string, const FigureSample*> by_id;
    for (const FigureSample& s : samples) by_id.emplace(s.id, &s);
    for (const std::string& id : options.ids) {
      const auto it = by_id.find(id);
      SCEALD_CHECK(it != by_id.end(), "--ids: no training sample '", id, "' in the run's samples.csv");
      chosen.push_back(*it->second);
    }
    return chosen;
  }
  SCEALD_CHECK(options.count >= 1, "--count ", options.count, ": must be >= 1");
  Generator gen(options.seed);
  for (const bool flipped : {false, true}) {
    std::vector<std::size_t> group;
    for (std::size_t i = 0; i < samples.size(); ++i)
      if (samples[i].flipped() == flipped) group.push_back(i);
    // A partial Fisher-Yates draw, then file order.
    const std::size_t take = std::min(group.size(), static_cast<std::size_t>(options.count));
    for (std::size_t i = 0; i < take; ++i)
      std::swap(group[i], group[i + gen.next_below(group.size() - i)]);
    group.resize(take);
    std::sort(group.begin(), group.end());
    for (std::size_t i : group) chosen.push_back(samples[i]);
  }
  return chosen;
}

std::string render_sample_figure(const std::vector<FigureSample>& chosen, const std::vector<data::Image>& images,
                                 const std::string& title) {
  SCEALD_CHECK(chosen.size() == images.size(), "render_sample_figure: ", chosen.size(), " samples but ",
               images.size(), " images");
  // Rows: clean samples, then flipped ones, each wrapped at kMaxPanelsPerRow.
  struct Row {
    std::string label;
    std::vector<std::size_t> members;
  };
  std::vector<Row> rows;
  const bool noisy_run = std::any_of(chosen.begin(), chosen.end(), [](const auto& s) { return s.original_label >= 0; });
  for (const bool flipped : {false, true}) {
    std::vector<std::size_t> group;
    for (std::size_t i = 0; i < chosen.size(); ++i)
      if (chosen[i].flipped() == flipped) group.push_back(i);
    const std::string label = !noisy_run ? "samples" : flipped ? "noisy labels (flipped by --noise)" : "clean labels";
    for (std::size_t start = 0; start < group.size(); start += kMaxPanelsPerRow) {
      const std::size_t size = std::min<std::size_t>(kMaxPanelsPerRow, group.size() - start);
      const auto first = group.begin() + static_cast<std::ptrdiff_t>(start);
      const auto last = first + static_cast<std::ptrdiff_t>(size);
      rows.push_back({start == 0 ? label : "", std::vector<std::size_t>(first, last)});
    }
  }
  std::size_t columns = 1;
  for (const Row& r : rows) columns = std::max(columns, r.members.size());
  const int width = std::max(static_cast<int>(columns) * kPanelWidth + 10, 900);  // room for the legend
  const int height = kTitleHeight + static_cast<int>(rows.size()) * (kRowLabelHeight + kPanelHeight) + 10;
  std::string svg = str_cat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" ",
                            "width=\"", width, "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ", height,
                            "\" style=\"font-family:sans-serif;background:#fff\">\n");
  svg += str_cat("<rect width=\"", width, "\" height=\"", height, "\" style=\"fill:#fff\"/>\n");
  svg += text(10, 20, title, "font-size:13px;font-weight:bold");
  svg += text(10, 36,
              "bars: the amended label distribution l_i (Eq. 6) at the end of training; blue: the given label, "
              "green: the true label of a flipped one; alpha: the confidence of Eq. 5",
              "font-size:11px;fill:#555");
  int y = kTitleHeight;
  for (const Row& r : rows) {
    svg += text(10, y + 15, r.label, "font-size:12px;fill:#333");
    y += kRowLabelHeight;
    for (std::size_t c = 0; c < r.members.size(); ++c)
      svg += panel(chosen[r.members[c]], images[r.members[c]], 10 + static_cast<int>(c) * kPanelWidth, y);
    y += kPanelHeight;
  }
  return svg + "</svg>\n";
}

std::vector<FigureSample> write_sample_figure(const std::string& run_dir, const FigureOptions& options,
                                              const std::string& out_path) {
  const std::string config_path = (fs::path(run_dir) / "config.json").string();
  const std::string samples_path = (fs::path(run_dir) / "samples.csv").string();
  SCEALD_CHECK(fs::exists(config_path) && fs::exists(samples_path), "--run ", run_dir,
               ": expected config.json and samples.csv there (a finished `sceald train` run folder)");
  const TrainConfig config = TrainConfig::from_json_text(io::read_file(config_path), config_path);
  const std::vector<FigureSample> chosen = choose_figure_samples(read_samples_csv(samples_path), options);

  const data::Dataset train = open_split(config, config.train_split, config.labels);
  std::map<std::string, const data::Sample*> by_id;
  for (const data::Sample& s : train.samples) by_id.emplace(s.id, &s);
  std::vector<data::Image> images;
  for (const FigureSample& f : chosen) {
    const auto it = by_id.find(f.id);
    SCEALD_CHECK(it != by_id.end(), samples_path, ": sample '", f.id, "' is not in the ", config.train_split,
                 " split of ", config.dataset, " at '", config.data_root, "' (has the dataset changed?)");
    const data::Sample& s = *it->second;
    data::Image image = s.image ? *s.image : data::decode_image(s.path);
    if (s.crop) image = data::crop(image, *s.crop);
    if (std::max(image.width, image.height) > 2 * kImageSide) image = data::resize(image, kImageSide, kImageSide);
    images.push_back(std::move(image));
  }
  const std::string title = str_cat("SCE-ALD: ", config.dataset, " ", config.train_split, ", noise ", config.noise,
                                    ", beta ", config.beta, ", ", config.confidence_distance, " W (", run_dir, ")");
  const std::string svg = render_sample_figure(chosen, images, title);
  io::write_file_atomically(out_path, [&](std::ostream& out) { out << svg; });
  return chosen;
}

}  // namespace sceald::train
