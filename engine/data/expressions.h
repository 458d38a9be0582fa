// The seven expression classes in the one canonical order used everywhere
// (SPEC: RAF-DB's label order 1..7, the paper's), with the word each class
// uses in the semantic space. Loaders map every dataset's own order onto this.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace sceald::data {

inline constexpr int kNumExpressions = 7;

enum class Expression : int { Surprise = 0, Fear, Disgust, Happiness, Sadness, Anger, Neutral };

// Class names as reports print them.
inline constexpr std::array<std::string_view, kNumExpressions> kExpressionNames = {
    "surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"};

// SPEC: the word looked up in the word vectors for each class.
inline constexpr std::array<std::string_view, kNumExpressions> kExpressionWords = {
    "surprised", "fear", "disgusted", "happy", "sad", "angry", "neutral"};

// Matches the names and synonyms people use for folders and labels
// (case-insensitive): angry/anger, happy/happiness, sad/sadness,
// surprise/surprised, fear/fearful, disgust/disgusted, neutral. Other names
// (contempt, unknown, ...) give nullopt.
std::optional<int> expression_from_name(std::string_view name);

}  // namespace sceald::data
