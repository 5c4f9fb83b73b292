#include "reconciler/util/command.h"

#include <algorithm>
#include <cstring>

namespace zrecon {

Status StringSource::Read(char* buffer, size_t capacity, size_t* got) {
  *got = std::min(capacity, data_.size() - pos_);
  std::memcpy(buffer, data_.data() + pos_, *got);
  pos_ += *got;
  return Status::Ok();
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kDone:
      return "done";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kNotAttempted:
      return "not attempted";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "?";
}

}  // namespace zrecon
