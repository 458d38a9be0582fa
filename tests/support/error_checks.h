// Checks on the errors a call throws: the project's rule is that an error
// names the file, the field and the value, so tests look for those parts.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/error.h"

namespace sceald::testing {

// Passes when `call` throws a sceald::Error whose message holds every part.
inline ::testing::AssertionResult throws_with(const std::function<void()>& call, const std::vector<std::string>& parts) {
  try {
    call();
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const std::string& part : parts)
      if (message.find(part) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks '" << part << "': " << message;
    return ::testing::AssertionSuccess() << message;
  }
  return ::testing::AssertionFailure() << "no sceald::Error thrown";
}

// The message of the sceald::Error `call` throws, or "(no error)".
inline std::string error_message(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace sceald::testing
