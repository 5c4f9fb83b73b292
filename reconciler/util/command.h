#ifndef ZRECON_UTIL_COMMAND_H_
#define ZRECON_UTIL_COMMAND_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "reconciler/util/status.h"

namespace zrecon {

// The vocabulary of commands and byte streams, shared by the layers that
// build commands (plan, restore), run them (host) and store their output
// (storage) without depending on each other.

// A command line: argv[0] and its arguments, never given to a shell.
using Argv = std::vector<std::string>;

// Receives a child's stdout as it is produced (zfs send into an export
// file). A failed Status from Write stops the child and fails the run.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(const char* data, size_t size) = 0;
};

// Supplies a child's stdin (an export file into zfs receive). Read sets
// *got to 0 at end of input; a failed Status stops the child.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Status Read(char* buffer, size_t capacity, size_t* got) = 0;
};

// A string as a child's stdin (vmadm create's payload, a hook's record).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  Status Read(char* buffer, size_t capacity, size_t* got) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// How one step of a run (an apply action, a restore step) ended.
// kSkipped: not run because an earlier failure it depends on (its zone's,
// its destination's, its image's) makes running it unsafe or pointless.
enum class Outcome { kDone, kFailed, kNotAttempted, kSkipped };
const char* OutcomeName(Outcome outcome);

}  // namespace zrecon

#endif  // ZRECON_UTIL_COMMAND_H_
