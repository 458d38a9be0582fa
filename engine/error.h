// Errors: one exception type carrying a message a user can act on (what,
// where, the offending value). SCEALD_CHECK builds the message lazily.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace sceald {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <typename T, typename... Rest>
void append_all(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append_all(os, rest...);
}
}  // namespace detail

// Concatenates every argument with operator<< into one string.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  detail::append_all(os, args...);
  return os.str();
}

}  // namespace sceald

#define SCEALD_CHECK(cond, ...)                                     \
  do {                                                              \
    if (!(cond)) throw ::sceald::Error(::sceald::str_cat(__VA_ARGS__)); \
  } while (0)
