#include "curnn/error.hpp"

#include "curnn/tensor.hpp"

namespace curnn {

namespace {
std::string compose(const char* file, int line, const std::string& expression,
                    const std::string& message) {
  return std::string(file) + ":" + std::to_string(line) + ": " + message + " [" + expression + "]";
}
}  // namespace

Error::Error(const char* file, int line, std::string expression, const std::string& message)
    : std::runtime_error(compose(file, line, expression, message)),
      file_(file),
      line_(line),
      expression_(std::move(expression)),
      message_(message) {}

const char* device_name(Device device) noexcept {
  return device == Device::CUDA ? "cuda" : "cpu";
}

namespace detail {
void throw_error(const char* file, int line, const char* expression, const std::string& message) {
  throw Error(file, line, expression, message);
}
void throw_argument_error(const char* file, int line, const char* expression,
                          const std::string& message) {
  throw ArgumentError(file, line, expression, message);
}
}  // namespace detail

}  // namespace curnn
