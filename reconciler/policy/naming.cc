#include "reconciler/policy/naming.h"

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

// The length of {time}: %Y%m%dT%H%M%SZ.
constexpr size_t kTimeLength = 16;

// [0-9]{8}T[0-9]{6}Z
bool IsCompactTime(std::string_view s) {
  if (s.size() != kTimeLength || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
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
  NamingTemplate t;
  std::string* literal = &t.before_;
  for (size_t i = 0; i < tmpl.size();) {
    std::string_view rest = tmpl.substr(i);
    bool is_class = StartsWithField(rest, kClassField);
    if (is_class || StartsWithField(rest, kTimeField)) {
      if (literal == &t.before_) t.time_first_ = !is_class;
      literal = literal == &t.before_ ? &t.between_ : &t.after_;
      i += is_class ? kClassField.size() : kTimeField.size();
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
    *literal += c;
    ++i;
  }
  t.text_ = std::string(tmpl);
  // Only the configured classes: a snapshot of a class this policy does not
  // define is not ours to prune.
  t.classes_ = class_names;
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
  const size_t fixed = before_.size() + between_.size() + after_.size() + kTimeLength;
  if (text_.empty() || short_name.size() <= fixed ||
      short_name.compare(0, before_.size(), before_) != 0 ||
      short_name.compare(short_name.size() - after_.size(), after_.size(), after_) != 0) {
    return false;
  }
  // The middle is "<time><between><class>" or "<class><between><time>".
  std::string_view middle =
      short_name.substr(before_.size(), short_name.size() - before_.size() - after_.size());
  const size_t class_length = middle.size() - between_.size() - kTimeLength;
  std::string_view time, klass;
  size_t between_pos;
  if (time_first_) {
    time = middle.substr(0, kTimeLength);
    between_pos = kTimeLength;
    klass = middle.substr(kTimeLength + between_.size());
  } else {
    klass = middle.substr(0, class_length);
    between_pos = class_length;
    time = middle.substr(class_length + between_.size());
  }
  if (middle.compare(between_pos, between_.size(), between_) != 0 || !IsCompactTime(time) ||
      std::find(classes_.begin(), classes_.end(), klass) == classes_.end()) {
    return false;
  }
  EpochSeconds when;
  if (!ParseCompact(time, &when)) return false;
  *snapshot_class = klass;
  *t = when;
  return true;
}

}  // namespace zrecon
