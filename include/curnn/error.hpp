// Errors: every failure in libcurnn is a curnn::Error carrying the file, the line, the failing
// expression and a message (for CUDA, cuBLAS and cuRAND failures: the library's own message).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace curnn {

class Error : public std::runtime_error {
 public:
  Error(const char* file, int line, std::string expression, const std::string& message);
  const char* file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  const std::string& expression() const noexcept { return expression_; }
  // The message alone, without file, line and expression (what an app shows its user).
  const std::string& message() const noexcept { return message_; }

 private:
  const char* file_;
  int line_;
  std::string expression_;
  std::string message_;
};

// An argument with the wrong shape, device or value at a public entry point.
class ArgumentError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const char* expression,
                              const std::string& message);
[[noreturn]] void throw_argument_error(const char* file, int line, const char* expression,
                                       const std::string& message);
}  // namespace detail

}  // namespace curnn

// CURNN_CHECK(cond, "message " << value): throws curnn::Error when cond is false.
#define CURNN_CHECK(cond, msg)                                                   \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::ostringstream curnn_msg_;                                             \
      curnn_msg_ << msg;                                                         \
      ::curnn::detail::throw_error(__FILE__, __LINE__, #cond, curnn_msg_.str()); \
    }                                                                            \
  } while (0)

// CURNN_CHECK_ARG(cond, msg): the same for argument checks; throws curnn::ArgumentError.
#define CURNN_CHECK_ARG(cond, msg)                                                        \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::ostringstream curnn_msg_;                                                      \
      curnn_msg_ << msg;                                                                  \
      ::curnn::detail::throw_argument_error(__FILE__, __LINE__, #cond, curnn_msg_.str()); \
    }                                                                                     \
  } while (0)
