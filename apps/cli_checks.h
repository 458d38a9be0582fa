// Validators for whole-number options whose CLI11 counterparts either accept
// what they should not (a uint64 option takes "-1" as 2^64 - 1) or answer
// with a 300-digit range.
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <climits>
#include <string>

namespace sceald::apps {

// Digits only (no sign), and at least `minimum`.
inline CLI::Validator whole_number(unsigned long long minimum = 0) {
  return CLI::Validator(
      [minimum](std::string& value) -> std::string {
        const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
        if (!digits) return "expected a whole number, got '" + value + "'";
        unsigned long long number = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (ec != std::errc() || end != value.data() + value.size())
          return "'" + value + "' is larger than " + std::to_string(ULLONG_MAX);
        if (number < minimum) return "must be at least " + std::to_string(minimum) + ", got " + value;
        return {};
      },
      minimum == 0 ? "NUMBER >= 0" : "NUMBER >= " + std::to_string(minimum));
}

}  // namespace sceald::apps
