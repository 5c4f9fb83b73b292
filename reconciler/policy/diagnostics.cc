#include "reconciler/policy/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace zrecon {

std::string SourceLoc::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column > 0 ? column : 1);
}

std::string Diagnostic::ToString() const {
  return loc.ToString() + (severity == Severity::kError ? ": error: " : ": warning: ") + message;
}

void Diagnostics::Error(const SourceLoc& loc, std::string message) {
  items_.push_back({loc, Severity::kError, std::move(message)});
}

void Diagnostics::Warning(const SourceLoc& loc, std::string message) {
  items_.push_back({loc, Severity::kWarning, std::move(message)});
}

bool Diagnostics::has_errors() const {
  return std::any_of(items_.begin(), items_.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

void Diagnostics::Sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.loc.file, a.loc.line, a.loc.column) <
           std::tie(b.loc.file, b.loc.line, b.loc.column);
  });
}

}  // namespace zrecon
