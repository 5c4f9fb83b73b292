#include "reconciler/policy/naming.h"

#include <re2/re2.h>

#include <algorithm>

namespace zrecon {

namespace {

constexpr std::string_view kClassField = "{class}";
constexpr std::string_view kTimeField = "{time}";

bool ValidSnapshotChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

bool StartsWithField(std::string_view text, std::string_view field) {
  return text.compare(0, field.size(), field) == 0;
}

}  // namespace

NamingTemplate::NamingTemplate() = default;
NamingTemplate::~NamingTemplate() = default;
NamingTemplate::NamingTemplate(const NamingTemplate&) = default;
NamingTemplate& NamingTemplate::operator=(const NamingTemplate&) = default;

bool NamingTemplate::Compile(std::string_view tmpl, const std::vector<std::string>& class_names,
                             NamingTemplate* out, std::string* why) {
  size_t class_pos = tmpl.find(kClassField);
  size_t time_pos = tmpl.find(kTimeField);
  if (class_pos == std::string_view::npos || time_pos == std::string_view::npos) {
    *why = "naming template must contain both {class} and {time}";
    return false;
  }
  if (tmpl.find(kClassField, class_pos + 1) != std::string_view::npos ||
      tmpl.find(kTimeField, time_pos + 1) != std::string_view::npos) {
    *why = "naming template must contain {class} and {time} exactly once each";
    return false;
  }
  std::string pattern = "^";
  std::string literal;
  std::string prefix;
  bool prefix_done = false;
  int group = 0;
  NamingTemplate t;
  for (size_t i = 0; i < tmpl.size();) {
    std::string_view rest = tmpl.substr(i);
    bool is_class = StartsWithField(rest, kClassField);
    bool is_time = !is_class && StartsWithField(rest, kTimeField);
    if (is_class || is_time) {
      pattern += RE2::QuoteMeta(literal);
      literal.clear();
      prefix_done = true;
      ++group;
      if (is_class) {
        // Only the configured classes: a snapshot of a class this policy
        // does not define is not ours to prune.
        std::vector<std::string> sorted = class_names;
        // Longest first so that "hourly" never shadows "hourly2".
        std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
          return a.size() != b.size() ? a.size() > b.size() : a < b;
        });
        pattern += "(";
        for (size_t k = 0; k < sorted.size(); ++k) {
          if (k) pattern += "|";
          pattern += RE2::QuoteMeta(sorted[k]);
        }
        if (sorted.empty()) pattern += "[^\\x00-\\xff]";  // matches nothing
        pattern += ")";
        t.class_group_ = group;
        i += kClassField.size();
      } else {
        pattern += "([0-9]{8}T[0-9]{6}Z)";
        t.time_group_ = group;
        i += kTimeField.size();
      }
      continue;
    }
    char c = tmpl[i];
    if (c == '{' || c == '}') {
      *why = "naming template has an unknown field at \"" + std::string(rest.substr(0, 12)) +
             "\" (only {class} and {time} are known)";
      return false;
    }
    if (!ValidSnapshotChar(c)) {
      *why = std::string("naming template has character '") + c +
             "' which is not valid in a ZFS snapshot name (use letters, digits, _ . : -)";
      return false;
    }
    literal += c;
    if (!prefix_done) prefix += c;
    ++i;
  }
  pattern += RE2::QuoteMeta(literal) + "$";
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<RE2>(pattern, options);
  if (!re->ok()) {
    *why = "naming template does not compile: " + re->error();
    return false;
  }
  t.text_ = std::string(tmpl);
  t.literal_prefix_ = prefix;
  t.re_ = std::move(re);
  *out = std::move(t);
  return true;
}

std::string NamingTemplate::Format(std::string_view snapshot_class, EpochSeconds t) const {
  std::string out = text_;
  size_t pos = out.find(kClassField);
  out.replace(pos, kClassField.size(), snapshot_class);
  pos = out.find(kTimeField);
  out.replace(pos, kTimeField.size(), FormatCompact(t));
  return out;
}

bool NamingTemplate::Parse(std::string_view short_name, std::string_view* snapshot_class,
                           EpochSeconds* t) const {
  if (!re_ || short_name.compare(0, literal_prefix_.size(), literal_prefix_) != 0) return false;
  re2::StringPiece groups[3];
  if (!re_->Match(re2::StringPiece(short_name.data(), short_name.size()), 0, short_name.size(),
                  RE2::UNANCHORED, groups, 3)) {
    return false;
  }
  const re2::StringPiece& time = groups[time_group_];
  EpochSeconds when;
  if (!ParseCompact(std::string_view(time.data(), time.size()), &when)) return false;
  const re2::StringPiece& klass = groups[class_group_];
  *snapshot_class = std::string_view(klass.data(), klass.size());
  *t = when;
  return true;
}

}  // namespace zrecon
