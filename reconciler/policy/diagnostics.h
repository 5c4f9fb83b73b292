#ifndef ZRECON_POLICY_DIAGNOSTICS_H_
#define ZRECON_POLICY_DIAGNOSTICS_H_

#include <string>
#include <vector>

namespace zrecon {

// A position in a policy file. Line and column are 1-based; 0 means unknown.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:col" (or "file" when the position is unknown).
  std::string ToString() const;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  SourceLoc loc;
  Severity severity = Severity::kError;
  std::string message;

  // "file:line:col: error: message"
  std::string ToString() const;
};

// The error style of the validation layer: every problem is collected, none
// stops the others from being found.
class Diagnostics {
 public:
  void Error(const SourceLoc& loc, std::string message);
  void Warning(const SourceLoc& loc, std::string message);

  bool has_errors() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  // Orders by file, line, column (stable for equal positions).
  void Sort();

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace zrecon

#endif  // ZRECON_POLICY_DIAGNOSTICS_H_
