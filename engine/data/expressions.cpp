#include "engine/data/expressions.h"

#include <cctype>

namespace sceald::data {

std::optional<int> expression_from_name(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  struct Synonym {
    std::string_view word;
    Expression expression;
  };
  static constexpr Synonym kSynonyms[] = {
      {"surprise", Expression::Surprise}, {"surprised", Expression::Surprise}, {"fear", Expression::Fear},
      {"fearful", Expression::Fear},      {"afraid", Expression::Fear},        {"disgust", Expression::Disgust},
      {"disgusted", Expression::Disgust}, {"happy", Expression::Happiness},    {"happiness", Expression::Happiness},
      {"sad", Expression::Sadness},       {"sadness", Expression::Sadness},    {"angry", Expression::Anger},
      {"anger", Expression::Anger},       {"neutral", Expression::Neutral},
  };
  for (const Synonym& s : kSynonyms)
    if (lower == s.word) return static_cast<int>(s.expression);
  return std::nullopt;
}

}  // namespace sceald::data
