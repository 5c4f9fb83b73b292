#ifndef ZRECON_UTIL_STATUS_H_
#define ZRECON_UTIL_STATUS_H_

#include <string>
#include <utility>

namespace zrecon {

// The runtime error type of the library (validation uses Diagnostics
// instead). A Status is either OK or carries one human-readable message that
// names the offending value, file or command. The library never prints and
// never exits; the CLI turns a failed Status into a message and exit code.
class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>".
  Status Prefixed(const std::string& context) const {
    return ok() ? *this : Error(context + ": " + message_);
  }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace zrecon

#endif  // ZRECON_UTIL_STATUS_H_
