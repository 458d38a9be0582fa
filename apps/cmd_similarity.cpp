// `sceald similarity [--word-vectors FILE]`: the paper's Fig. 3, the cosine
// similarity of every pair of class word vectors, from FILE (any word2vec
// format) or the built-in default set.
#include <cstdio>
#include <iostream>

#include "apps/command_registry.h"
#include "engine/data/expressions.h"
#include "nets/sceald/semantic.h"

namespace sceald::apps {
namespace {

// The paper's two-letter class abbreviations (Fig. 3), in class order.
constexpr const char* kShortNames[] = {"Su", "Fe", "Di", "Ha", "Sa", "An", "Ne"};

void similarity(const std::string& path) {
  const io::WordVectors vectors = method::load_class_word_vectors(path);
  const Tensor sim = method::word_similarity_matrix(vectors.to_tensor(DType::Float64));
  const std::vector<double> s = sim.to_vector<double>();
  const int c = data::kNumExpressions;
  std::cout << "Cosine similarity of the class word vectors (" << vectors.dim << "-d, from "
            << (path.empty() ? std::string(method::default_word_vectors_origin()) : path) << ")\n";
  std::cout << " ";
  for (int k = 0; k < c; ++k)
    std::cout << " " << kShortNames[k] << " = " << data::kExpressionWords[k] << (k + 1 < c ? "," : "\n");
  std::cout << "    ";
  for (int l = 0; l < c; ++l) std::cout << "      " << kShortNames[l];
  std::cout << "\n";
  char cell[32];
  for (int k = 0; k < c; ++k) {
    std::cout << "  " << kShortNames[k];
    for (int l = 0; l < c; ++l) {
      std::snprintf(cell, sizeof cell, "  %6.3f", s[k * c + l]);
      std::cout << cell;
    }
    std::cout << "\n";
  }
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("similarity", "Print the cosine similarity matrix of the class word vectors (Fig. 3)");
  auto path = std::make_shared<std::string>();
  cmd->add_option("--word-vectors", *path,
                  "a word2vec file (binary or text, e.g. GoogleNews-vectors-negative300.bin); default: the built-in set")
      ->check(CLI::ExistingFile);
  cmd->callback([path] { similarity(*path); });
}

const CommandRegistration registration("similarity", setup);

}  // namespace
}  // namespace sceald::apps
