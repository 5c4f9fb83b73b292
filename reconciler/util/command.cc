#include "reconciler/util/command.h"

namespace zrecon {

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
