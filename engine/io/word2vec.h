// Word vectors in the two word2vec file formats (Mikolov's word2vec tool,
// Google News, gensim's KeyedVectors.save_word2vec_format):
//
//   binary: an ASCII header "<words> <dim>\n", then per word its bytes up to
//           one space, `dim` little-endian float32, and optionally '\n'
//           (Google's files put one there, gensim's do not: both are read).
//   text:   the same header, then one line per word: "word v1 ... vdim".
//
// load_word_vectors streams the file through a fixed buffer, so a 3.6 GB
// Google News file is never loaded whole: it keeps only the words asked for
// (`wanted`; empty = every word, meant for small files) and, by default,
// stops reading as soon as it has all of them (the rest of the file is then
// not checked). Words are compared byte for byte (case matters: Google News
// has both "Happy" and "happy"); a word the file holds twice counts by its
// first occurrence. The format is detected from the first record unless
// given: text when the rest of the first line is exactly `dim` numbers.
//
// Every failure throws sceald::Error naming the file (or source name), the
// rule and where: the word index (0-based, in file order) and the byte
// offset. Checked: the header (two integers, 1 <= dim <= 100000), words
// (non-empty, at most kMaxWordBytes bytes, no control bytes), vectors (all
// `dim` values present and finite), truncation anywhere, the word count the
// header announces, trailing data, duplicates in `wanted`, and every wanted
// word present (a missing one is named with the file).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sceald::io {

enum class WordVectorFormat { Auto, Binary, Text };

// The longest word (in bytes) the reader accepts; Google News phrases are far shorter.
inline constexpr std::size_t kMaxWordBytes = 1024;

struct WordVectors {
  std::vector<std::string> words;  // in the order of `wanted`, or file order when all were read
  std::int64_t dim = 0;
  std::vector<float> values;       // [words.size(), dim], row-major
  std::string source;              // the path or source name, for messages
  WordVectorFormat format = WordVectorFormat::Auto;  // the format it was read from
  std::int64_t file_word_count = 0;  // the count in the file's header

  std::int64_t size() const { return static_cast<std::int64_t>(words.size()); }
  std::span<const float> vector(std::int64_t index) const;  // row `index`
  std::optional<std::int64_t> index_of(const std::string& word) const;
  // The vector of `word`; throws naming the word and the source when absent.
  std::span<const float> at(const std::string& word) const;
  // The vectors as a [size(), dim] CPU tensor of `dtype` (float32 or float64).
  Tensor to_tensor(DType dtype = DType::Float32) const;
};

struct WordVectorLoadOptions {
  WordVectorFormat format = WordVectorFormat::Auto;
  // Stop reading once every wanted word is found (a big file's tail is never
  // read, nor checked). false reads and validates the whole file.
  bool stop_when_found = true;
};

WordVectors load_word_vectors(const std::string& path, const std::vector<std::string>& wanted = {},
                              const WordVectorLoadOptions& options = {});
// The same, from bytes in memory; `source_name` stands for the file in messages.
WordVectors parse_word_vectors(std::string_view bytes, const std::string& source_name,
                               const std::vector<std::string>& wanted = {},
                               const WordVectorLoadOptions& options = {});

// The file bytes of `vectors` in the text format (each value in the shortest
// decimal that reads back as the same float32) or the binary format (with or
// without the '\n' after each vector).
std::string format_word_vectors_text(const WordVectors& vectors);
std::string format_word_vectors_binary(const WordVectors& vectors, bool newline_after_vector = true);
// Writes atomically (atomic_file.h); Auto means text.
void save_word_vectors(const std::string& path, const WordVectors& vectors,
                       WordVectorFormat format = WordVectorFormat::Text, bool newline_after_vector = true);

const char* word_vector_format_name(WordVectorFormat format);  // "auto", "binary", "text"

}  // namespace sceald::io
