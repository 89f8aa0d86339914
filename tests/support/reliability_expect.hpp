#pragma once
// Checks for bad-input errors: the call throws dlfs::InputError whose message is one sentence
// for a user (one line, ends with '.'), names the file or option and says what is wrong.
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <initializer_list>
#include <string>

#include "dlfs/runtime/error.hpp"

namespace dlfs::testing {

// Returns the message (empty when the expectation failed) so callers can check more.
inline std::string expect_one_sentence_input_error(const std::function<void()>& call,
                                                   const std::string& names,
                                                   std::initializer_list<std::string> phrases) {
  try {
    call();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(names), std::string::npos) << "does not name '" << names << "': " << m;
    for (const std::string& phrase : phrases)
      EXPECT_NE(m.find(phrase), std::string::npos) << "lacks '" << phrase << "': " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "not one line: " << m;
    EXPECT_TRUE(!m.empty() && m.back() == '.') << "not a sentence: " << m;
    EXPECT_TRUE(!m.empty() && std::isupper(static_cast<unsigned char>(m.front())))
        << "does not start with a capital: " << m;
    return m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected dlfs::InputError naming " << names
                  << ", got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected dlfs::InputError naming " << names << ", nothing was thrown";
  return "";
}

}  // namespace dlfs::testing
