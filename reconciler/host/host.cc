#include "reconciler/host/host.h"

#include <string_view>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// A comma-list destroy can carry ~96 KiB of names; an error message only
// needs enough of the command to recognise it.
constexpr size_t kMaxCommandText = 400;
constexpr size_t kMaxDetailText = 300;

// Cuts text to at most max bytes without splitting a UTF-8 sequence.
std::string_view Truncate(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

std::string CommandText(const Argv& argv) {
  std::string joined = ShellJoin(argv);
  std::string_view shown = Truncate(joined, kMaxCommandText);
  std::string text = Printable(shown);
  if (shown.size() < joined.size()) text += " ...";
  return text;
}

// The first line with visible text: zfs and vmadm put the actual error
// there and follow it with usage text or hints.
std::string_view FirstLine(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r\n";
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    size_t first = line.find_first_not_of(kBlank);
    if (first != std::string_view::npos) {
      return line.substr(first, line.find_last_not_of(kBlank) - first + 1);
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return {};
}

}  // namespace

std::string DescribeFailure(const Argv& argv, const CommandResult& result) {
  std::string text = CommandText(argv);
  if (result.timed_out) {
    text += " timed out (exit " + std::to_string(result.exit_code) + ")";
  } else {
    text += " exited " + std::to_string(result.exit_code);
  }
  std::string_view line = FirstLine(result.err);
  if (line.empty()) return text + " with no error output";
  std::string_view shown = Truncate(line, kMaxDetailText);
  text += ": " + Printable(shown);
  if (shown.size() < line.size()) text += " ...";
  return text;
}

}  // namespace zrecon
