#ifndef ZRECON_UTIL_STRINGS_H_
#define ZRECON_UTIL_STRINGS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zrecon {

// Splits on every occurrence of sep; "a::b" -> {"a", "", "b"}.
std::vector<std::string_view> Split(std::string_view text, char sep);
// Splits on the first max_fields-1 separators; the last field keeps the rest.
std::vector<std::string_view> SplitN(std::string_view text, char sep, size_t max_fields);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

bool StartsWith(std::string_view text, std::string_view prefix);
bool EndsWith(std::string_view text, std::string_view suffix);

// Strict decimal parsing: digits only (a leading '-' for the signed form), no
// spaces, no overflow.
bool ParseUint64(std::string_view text, uint64_t* out);
bool ParseInt64(std::string_view text, int64_t* out);

// Levenshtein distance, and the candidate closest to `word` when it is close
// enough to be a plausible typo ("" otherwise). Used for did-you-mean hints.
size_t EditDistance(std::string_view a, std::string_view b);
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// Quotes one argv element for display to humans (POSIX shell syntax). zrecon
// never runs a shell; this only makes printed commands copy-pasteable.
std::string ShellQuote(std::string_view arg);
std::string ShellJoin(const std::vector<std::string>& argv);

// Printable rendering of untrusted text in messages: control characters and
// bytes >= 0x7f outside valid UTF-8 are shown as \xNN, newlines as \n.
std::string Printable(std::string_view text);
// Printable(text) in double quotes, for a value in a message.
std::string Quoted(std::string_view text);

// "1.2 GiB", "512 KiB", "17 B".
std::string FormatBytes(uint64_t bytes);

// The pool of a dataset or snapshot name: "zones/a/b@s" -> "zones".
std::string PoolOf(std::string_view name);

}  // namespace zrecon

#endif  // ZRECON_UTIL_STRINGS_H_
