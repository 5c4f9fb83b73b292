#include "reconciler/policy/policy_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <re2/re2.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "reconciler/policy/naming.h"
#include "reconciler/util/s3_location.h"
#include "reconciler/util/ssh_location.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// A value that holds a secret instead of naming where one is: a PEM or
// OpenSSH private key pasted in. Paths and host names never look so.
bool LooksLikeSecret(const std::string& value) {
  return value.find("PRIVATE KEY") != std::string::npos ||
         value.find("-----BEGIN") != std::string::npos || value.find('\n') != std::string::npos;
}

constexpr int kMaxKeep = 100000;
constexpr int kMinKeepChains = 1;
constexpr int kMaxKeepChains = 1000;
constexpr int kMaxMaxDestroy = 10000000;
constexpr size_t kMaxClassNameLength = 32;
constexpr size_t kMaxEntityNameLength = 64;
constexpr size_t kMaxHostNameLength = 255;
constexpr size_t kMaxShownLength = 60;
constexpr char kEntityNameRule[] = "use a letter or digit, then up to 63 of A-Z a-z 0-9 _ . -";
constexpr off_t kMaxPolicyFileBytes = 16 << 20;

// yaml-cpp gives plain scalars the non-specific tag "?" and quoted or block
// scalars "!"; explicit tags arrive in their expanded form.
const char kPlainTag[] = "?";
const char kQuotedTag[] = "!";
const char kIntTag[] = "tag:yaml.org,2002:int";
const char kStrTag[] = "tag:yaml.org,2002:str";

// The vocabulary of the format, built once and never destroyed.
struct Vocabulary {
  std::vector<std::string> top = {"version",  "host",  "naming",  "classes", "destinations",
                                  "policies", "zones", "exclude", "limits",  "notify"};
  std::vector<std::string> destination = {
      "type",       "path",        "compression",      "host",   "port",   "user",
      "identity",   "known_hosts", "endpoint",         "region", "bucket", "prefix",
      "path_style", "ca_bundle",   "credentials_file", "profile"};
  std::vector<std::string> policy = {"keep", "datasets", "export", "hooks"};
  std::vector<std::string> hooks = {"pre_snapshot", "post_snapshot", "timeout_seconds"};
  std::vector<std::string> export_rule = {"destination", "class", "full_every", "keep_chains"};
  std::vector<std::string> zone = {"match", "policy", "keep"};
  std::vector<std::string> match = {"alias", "uuid", "alias_regex", "brand"};
  std::vector<std::string> limits = {"max_destroy"};
  std::vector<std::string> notify = {"on_success", "on_failure", "timeout_seconds"};
  std::vector<std::string> destination_types = {"directory", "ssh", "s3"};
  std::vector<std::string> compressions = {"none", "zstd"};
  std::vector<std::string> dataset_roles = {"zoneroot", "disks", "cores"};
};

const Vocabulary& Words() {
  static const Vocabulary* words = new Vocabulary;
  return *words;
}

// What a plain scalar means to a YAML parser. The policy schema is checked
// against data parsed by other tools (PyYAML speaks YAML 1.1, where yes/no/on/
// off are booleans), so a plain scalar that any of them would read as a
// non-string is refused where a string is expected: "alias: no" must not be
// the string "no" for zrecon and false for the schema.
enum class PlainKind { kNull, kBoolean, kInteger, kFloat, kString };

PlainKind ClassifyPlain(const std::string& text) {
  static const RE2* null = new RE2("~|null|Null|NULL");
  static const RE2* boolean =
      new RE2("true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF");
  static const RE2* integer = new RE2("[-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+");
  static const RE2* number = new RE2(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?"
      "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  if (text.empty() || RE2::FullMatch(text, *null)) return PlainKind::kNull;
  if (RE2::FullMatch(text, *boolean)) return PlainKind::kBoolean;
  if (RE2::FullMatch(text, *integer)) return PlainKind::kInteger;
  if (RE2::FullMatch(text, *number)) return PlainKind::kFloat;
  return PlainKind::kString;
}

bool IsPlain(const YAML::Node& node) { return node.Tag() == kPlainTag; }

bool IsStringScalar(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  const std::string& tag = node.Tag();
  if (tag == kQuotedTag || tag == kStrTag) return true;
  return tag == kPlainTag && ClassifyPlain(node.Scalar()) == PlainKind::kString;
}

// Untrusted text shown in a message, cut so a 1 MB scalar stays one line.
std::string Shown(const std::string& text) {
  if (text.size() <= kMaxShownLength) return "\"" + Printable(text) + "\"";
  return "\"" + Printable(text.substr(0, kMaxShownLength)) + "...\"";
}

std::string ShownBare(const std::string& text) {
  if (text.size() <= kMaxShownLength) return Printable(text);
  return Printable(text.substr(0, kMaxShownLength)) + "...";
}

// "a list", "the integer 12", "the string \"x\"": what was found instead.
std::string Found(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  const std::string& text = node.Scalar();
  if (!IsPlain(node)) {
    if (node.Tag() == kQuotedTag || node.Tag() == kStrTag) return "the string " + Shown(text);
    return "a value tagged " + Shown(node.Tag());
  }
  switch (ClassifyPlain(text)) {
    case PlainKind::kNull:
      return "nothing";
    case PlainKind::kBoolean:
      return "the boolean " + text;
    case PlainKind::kInteger:
      return "the integer " + ShownBare(text);
    case PlainKind::kFloat:
      return "the number " + ShownBare(text);
    case PlainKind::kString:
      break;
  }
  return "the string " + Shown(text);
}

// yaml-cpp marks are 0-based; a node built without a position (an empty
// document) points at the start of the file.
SourceLoc MarkLoc(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return SourceLoc{file, 1, 1};
  return SourceLoc{file, mark.line + 1, mark.column + 1};
}

std::string Hint(const std::string& close) {
  return close.empty() ? "" : " (did you mean \"" + close + "\"?)";
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  return Hint(ClosestMatch(word, candidates));
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLower(c) || IsDigit(c) || (c >= 'A' && c <= 'Z'); }

// ^[a-z][a-z0-9_]{0,31}$: class names end up inside snapshot names.
bool ValidClassName(const std::string& name) {
  if (name.empty() || name.size() > kMaxClassNameLength || !IsLower(name[0])) return false;
  for (char c : name) {
    if (!IsLower(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

// ^[A-Za-z0-9][A-Za-z0-9_.-]{0,max_length-1}$. Destination names are
// comma-joined in the zrecon:exported user property, so no name may contain
// a comma; host names are compared with hostname(1), which never prints
// spaces or control characters.
bool ValidName(const std::string& name, size_t max_length) {
  if (name.empty() || name.size() > max_length || !IsAlnum(name[0])) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

std::vector<std::string> Names(const std::set<std::string>& set) {
  return std::vector<std::string>(set.begin(), set.end());
}

// One pair of a mapping whose key is a unique string, or one item of a list.
// `what` names it in messages; `key` locates it when the value is empty
// (yaml-cpp marks an empty value at the next token, often the next line).
struct Field {
  std::string name;
  std::string what;
  YAML::Node key;
  YAML::Node value;
};

// The pairs of a mapping whose keys are known; `hinted` holds the known keys
// that an unknown key was probably a misspelling of, so that the typo is not
// also reported as a missing key.
struct KnownMapping {
  std::vector<Field> pairs;
  std::set<std::string> hinted;
};

// A keep mapping as loaded: the valid counts, the classes whose entry was
// refused (so that checks depending on them stay quiet), and where each
// class was written.
struct KeepSection {
  bool loaded = false;  // a mapping was there to read
  KeepCounts counts;
  std::set<std::string> invalid;
  std::map<std::string, SourceLoc> at;
};

class Loader {
 public:
  Loader(std::string file, Diagnostics* diags) : file_(std::move(file)), diags_(diags) {}

  void Load(const std::vector<YAML::Node>& documents, Policy* out);

 private:
  SourceLoc At(const YAML::Mark& mark) const;
  SourceLoc At(const YAML::Node& node) const { return At(node.Mark()); }
  SourceLoc ValueAt(const Field& f) const;
  void Error(const SourceLoc& loc, std::string message) { diags_->Error(loc, std::move(message)); }
  void Expected(const Field& f, const std::string& type);

  std::vector<Field> Pairs(const Field& map);
  KnownMapping KnownPairs(const Field& map, const std::vector<std::string>& known);
  std::vector<Field> Items(const Field& list);
  // Reports each required key missing from `mapping` at `where`.
  void RequireKeys(const Field& map, const KnownMapping& mapping,
                   const std::vector<std::string>& required, const SourceLoc& where);

  bool GetString(const Field& f, std::string* out);
  bool GetBool(const Field& f, bool* out);
  bool GetInt(const Field& f, int64_t lo, int64_t hi, int* out);
  bool GetDuration(const Field& f, Duration* out);
  bool GetEnum(const Field& f, const std::vector<std::string>& allowed, std::string* out);

  bool Unknown(const std::set<std::string>& declared, const std::string& name,
               const char* section) const;

  void LoadTop(const Field& root, Policy* out);
  void LoadVersion(const Field* f, const Field& root, Policy* out);
  void LoadClasses(const Field* f, Policy* out);
  void LoadNaming(const Field* f, Policy* out);
  // The pairs of the destinations or policies mapping; each name is added
  // to *declared and checked.
  std::vector<Field> NamedEntries(const Field& f, const std::string& kind,
                                  std::set<std::string>* declared);
  void LoadDestinations(const Field& f, Policy* out);
  DestinationSpec LoadDestination(const Field& f);
  void CheckDestinationType(const KnownMapping& mapping, DestinationSpec* d);
  bool LoadS3Key(const Field& p, S3Location* s3);
  void LoadPolicies(const Field& f, Policy* out);
  PolicyDef LoadPolicyDef(const Field& f);
  KeepSection LoadKeep(const Field& f);
  std::vector<DatasetRole> LoadDatasets(const Field& f);
  std::vector<ExportRule> LoadExports(const Field& f, const PolicyDef& policy,
                                      const KeepSection& keep);
  void LoadZones(const Field& f, Policy* out);
  ZoneEntry LoadZone(const Field& f, const Policy& policy);
  void CheckExportsStillTaken(const KeepSection& keep, const ZoneEntry& entry,
                              const Policy& policy);
  void LoadExclude(const Field& f, Policy* out);
  ZoneMatch LoadMatch(const Field& f);
  void LoadLimits(const Field& f, Policy* out);
  void LoadNotify(const Field& f, Policy* out);
  std::vector<std::string> LoadCommand(const Field& f);
  void WarnUnused(const Policy& policy);

  std::string file_;
  Diagnostics* diags_;
  // Names declared in the file, valid or not, so that a reference to an
  // entity with its own error does not also report "unknown".
  std::set<std::string> classes_;
  std::set<std::string> destinations_;
  std::set<std::string> policies_;
  std::set<std::string> used_policies_;
  // Top-level keys that a misspelled key was taken for: names that section
  // would have declared are not reported as unknown.
  std::set<std::string> hinted_sections_;
};

SourceLoc Loader::At(const YAML::Mark& mark) const { return MarkLoc(file_, mark); }

SourceLoc Loader::ValueAt(const Field& f) const {
  if (f.value.IsDefined() && !f.value.IsNull()) return At(f.value);
  return At(f.key);
}

void Loader::Expected(const Field& f, const std::string& type) {
  Error(ValueAt(f), "expected " + type + " for " + f.what + ", found " + Found(f.value));
}

std::vector<Field> Loader::Pairs(const Field& map) {
  std::vector<Field> pairs;
  if (!map.value.IsMap()) {
    Expected(map, "a mapping");
    return pairs;
  }
  // yaml-cpp keeps every pair of a mapping with repeated keys; YAML forbids
  // them and other parsers silently keep the last one, so they are refused.
  std::map<std::string, YAML::Mark> seen;
  for (const auto& pair : map.value) {
    YAML::Node key = pair.first;
    if (!key.IsScalar() || (IsPlain(key) && ClassifyPlain(key.Scalar()) == PlainKind::kNull)) {
      Error(At(key), "expected a string key in " + map.what + ", found " + Found(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (IsPlain(key) && name == "<<") {
      Error(At(key), "YAML merge keys (<<) are not supported: write the keys out");
      continue;
    }
    auto [first, inserted] = seen.emplace(name, key.Mark());
    if (!inserted) {
      SourceLoc was = At(first->second);
      Error(At(key), "duplicate key " + Shown(name) + " (first at line " +
                         std::to_string(was.line) + ", column " + std::to_string(was.column) + ")");
      continue;
    }
    pairs.push_back(Field{name, Shown(name), key, pair.second});
  }
  return pairs;
}

KnownMapping Loader::KnownPairs(const Field& map, const std::vector<std::string>& known) {
  KnownMapping mapping;
  for (Field& f : Pairs(map)) {
    if (std::find(known.begin(), known.end(), f.name) == known.end()) {
      std::string close = ClosestMatch(f.name, known);
      Error(At(f.key), "unknown key " + Shown(f.name) + Hint(close));
      if (!close.empty()) mapping.hinted.insert(close);
      continue;
    }
    mapping.pairs.push_back(std::move(f));
  }
  return mapping;
}

std::vector<Field> Loader::Items(const Field& list) {
  std::vector<Field> items;
  if (!list.value.IsSequence()) {
    Expected(list, "a list");
    return items;
  }
  for (const YAML::Node& item : list.value) {
    std::string what = list.name + "[" + std::to_string(items.size()) + "]";
    items.push_back(Field{what, what, list.value, item});
  }
  return items;
}

void Loader::RequireKeys(const Field& map, const KnownMapping& mapping,
                         const std::vector<std::string>& required, const SourceLoc& where) {
  for (const std::string& key : required) {
    bool present = std::any_of(mapping.pairs.begin(), mapping.pairs.end(),
                               [&key](const Field& f) { return f.name == key; });
    if (!present && mapping.hinted.count(key) == 0) {
      Error(where, "missing required key \"" + key + "\" in " + map.what);
    }
  }
}

bool Loader::GetBool(const Field& f, bool* out) {
  if (f.value.IsScalar() && IsPlain(f.value)) {
    const std::string& v = f.value.Scalar();
    if (v == "true" || v == "True" || v == "TRUE") {
      *out = true;
      return true;
    }
    if (v == "false" || v == "False" || v == "FALSE") {
      *out = false;
      return true;
    }
  }
  Error(ValueAt(f), "expected true or false for " + f.what + ", found " + Found(f.value));
  return false;
}

bool Loader::GetString(const Field& f, std::string* out) {
  if (!IsStringScalar(f.value)) {
    bool plain_scalar = f.value.IsScalar() && IsPlain(f.value) && !f.value.IsNull();
    Error(ValueAt(f), "expected a string for " + f.what + ", found " + Found(f.value) +
                          (plain_scalar ? " (quote it to make it a string)" : ""));
    return false;
  }
  *out = f.value.Scalar();
  return true;
}

bool Loader::GetInt(const Field& f, int64_t lo, int64_t hi, int* out) {
  const YAML::Node& v = f.value;
  bool tagged_int = v.IsScalar() && (IsPlain(v) || v.Tag() == kIntTag);
  if (!tagged_int || ClassifyPlain(v.Scalar()) != PlainKind::kInteger) {
    bool quoted_int =
        v.IsScalar() && !IsPlain(v) && ClassifyPlain(v.Scalar()) == PlainKind::kInteger;
    Error(ValueAt(f), "expected an integer for " + f.what + ", found " + Found(v) +
                          (quoted_int ? " (remove the quotes)" : ""));
    return false;
  }
  std::string text = v.Scalar();
  if (text[0] == '+') text.erase(0, 1);
  size_t digits = text[0] == '-' ? 1 : 0;
  // YAML 1.1 readers take 010 as octal 8 and 0x10 as 16: only plain decimal
  // means the same to every parser.
  if (text.size() > digits + 1 && text[digits] == '0') {
    Error(ValueAt(f), "expected a decimal integer for " + f.what + ", found " + Shown(v.Scalar()) +
                          " (no leading zeros, no hex or octal)");
    return false;
  }
  int64_t value = 0;
  bool parsed = ParseInt64(text, &value);
  if (!parsed || value < lo || value > hi) {
    Error(ValueAt(f), f.what + " must be an integer from " + std::to_string(lo) + " to " +
                          std::to_string(hi) + ", found " + ShownBare(v.Scalar()));
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

bool Loader::GetDuration(const Field& f, Duration* out) {
  if (!f.value.IsScalar()) {
    Expected(f, "a duration such as \"1d\"");
    return false;
  }
  const std::string& text = f.value.Scalar();
  std::string why;
  bool parsed = false;
  // Duration::Parse would call the missing unit an unknown unit "".
  if (!text.empty() && std::all_of(text.begin(), text.end(), IsDigit)) {
    why = "missing unit (m, h, d, w, mo or y), e.g. \"" + ShownBare(text) + "m\"";
  } else {
    parsed = Duration::Parse(text, out, &why);
  }
  if (!parsed) Error(ValueAt(f), "invalid duration " + Shown(text) + " for " + f.what + ": " + why);
  return parsed;
}

bool Loader::GetEnum(const Field& f, const std::vector<std::string>& allowed, std::string* out) {
  std::string text;
  if (!GetString(f, &text)) return false;
  if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    std::string expected =
        allowed.size() == 1 ? Quoted(allowed[0]) : "one of " + Join(allowed, ", ");
    Error(ValueAt(f), "invalid value " + Shown(text) + " for " + f.what + ": expected " + expected +
                          DidYouMean(text, allowed));
    return false;
  }
  *out = text;
  return true;
}

void Loader::Load(const std::vector<YAML::Node>& documents, Policy* out) {
  if (documents.empty()) {
    Error(SourceLoc{file_, 1, 1},
          "the policy file is empty: expected a mapping with \"version: 1\"");
    return;
  }
  for (size_t i = 1; i < documents.size(); ++i) {
    if (documents[i].IsNull()) continue;
    Error(At(documents[i]), "a policy file holds one YAML document; this is another one");
    break;
  }
  Field root{"", "the top level", documents[0], documents[0]};
  LoadTop(root, out);
}

bool Loader::Unknown(const std::set<std::string>& declared, const std::string& name,
                     const char* section) const {
  return declared.count(name) == 0 && hinted_sections_.count(section) == 0;
}

void Loader::LoadTop(const Field& root, Policy* out) {
  KnownMapping top = KnownPairs(root, Words().top);
  if (!root.value.IsMap()) return;
  hinted_sections_ = top.hinted;
  std::map<std::string, const Field*> by_name;
  for (const Field& f : top.pairs) by_name[f.name] = &f;
  auto find = [&by_name](const char* name) -> const Field* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  };
  // Sections are loaded in dependency order, whatever their order in the
  // file: naming needs the classes, policies the destinations, zones the
  // policies.
  LoadVersion(find("version"), root, out);
  if (const Field* f = find("host")) {
    std::string host;
    if (GetString(*f, &host)) {
      if (!ValidName(host, kMaxHostNameLength)) {
        Error(ValueAt(*f), "invalid host " + Shown(host) +
                               ": use a letter or digit, then up to 254 of A-Z a-z 0-9 _ . -");
      }
      out->host = host;
    }
  }
  LoadClasses(find("classes"), out);
  LoadNaming(find("naming"), out);
  if (const Field* f = find("destinations")) LoadDestinations(*f, out);
  if (const Field* f = find("policies")) LoadPolicies(*f, out);
  if (const Field* f = find("zones")) LoadZones(*f, out);
  if (const Field* f = find("exclude")) LoadExclude(*f, out);
  if (const Field* f = find("limits")) LoadLimits(*f, out);
  if (const Field* f = find("notify")) LoadNotify(*f, out);
  WarnUnused(*out);
}

void Loader::LoadVersion(const Field* f, const Field& root, Policy* out) {
  if (f == nullptr) {
    if (hinted_sections_.count("version") != 0) return;
    Error(At(root.value), "missing required key \"version\" (this zrecon reads version 1)");
    return;
  }
  int version = 0;
  if (!GetInt(*f, INT_MIN, INT_MAX, &version)) return;
  if (version != 1) {
    Error(ValueAt(*f),
          "unsupported version " + std::to_string(version) + " (this zrecon reads version 1)");
    return;
  }
  out->version = version;
}

void Loader::LoadClasses(const Field* f, Policy* out) {
  std::map<std::string, SnapshotClass> merged;
  for (SnapshotClass& c : DefaultClasses()) {
    classes_.insert(c.name);
    merged[c.name] = std::move(c);
  }
  if (f != nullptr) {
    for (const Field& c : Pairs(*f)) {
      classes_.insert(c.name);
      if (!ValidClassName(c.name)) {
        Error(At(c.key), "invalid class name " + Shown(c.name) +
                             ": use a lowercase letter, then up to 31 of a-z, 0-9, _");
      }
      Duration period;
      if (GetDuration(c, &period)) merged[c.name] = SnapshotClass{c.name, period, At(c.key)};
    }
  }
  out->classes.clear();
  for (auto& [name, c] : merged) out->classes.push_back(std::move(c));
}

void Loader::LoadNaming(const Field* f, Policy* out) {
  if (f != nullptr && !GetString(*f, &out->naming)) return;
  NamingTemplate compiled;
  std::string why;
  if (!NamingTemplate::Compile(out->naming, out->ClassNames(), &compiled, &why)) {
    Error(f != nullptr ? ValueAt(*f) : SourceLoc{file_, 1, 1}, why);
  }
}

std::vector<Field> Loader::NamedEntries(const Field& f, const std::string& kind,
                                        std::set<std::string>* declared) {
  std::vector<Field> entries = Pairs(f);
  for (const Field& e : entries) {
    declared->insert(e.name);
    if (!ValidName(e.name, kMaxEntityNameLength)) {
      Error(At(e.key), "invalid " + kind + " name " + Shown(e.name) + ": " + kEntityNameRule);
    }
  }
  return entries;
}

void Loader::LoadDestinations(const Field& f, Policy* out) {
  for (const Field& d : NamedEntries(f, "destination", &destinations_)) {
    out->destinations[d.name] = LoadDestination(d);
  }
}

DestinationSpec Loader::LoadDestination(const Field& f) {
  DestinationSpec d;
  d.name = f.name;
  d.loc = At(f.key);
  Field map{f.name, "destination " + Shown(f.name), f.key, f.value};
  KnownMapping mapping = KnownPairs(map, Words().destination);
  if (!f.value.IsMap()) return d;
  bool s3 = std::any_of(mapping.pairs.begin(), mapping.pairs.end(), [](const Field& p) {
    return p.name == "type" && p.value.IsScalar() && p.value.Scalar() == "s3";
  });
  RequireKeys(
      map, mapping,
      s3 ? std::vector<std::string>{"endpoint", "bucket"} : std::vector<std::string>{"path"},
      d.loc);
  for (const Field& p : mapping.pairs) {
    if (LoadS3Key(p, &d.s3)) continue;
    if (p.name == "type") {
      GetEnum(p, Words().destination_types, &d.type);
    } else if (p.name == "compression") {
      GetEnum(p, Words().compressions, &d.compression);
    } else if (p.name == "path" && GetString(p, &d.path)) {
      if (d.path.find('\0') != std::string::npos) {
        Error(ValueAt(p), "path " + Shown(d.path) + " contains a NUL character");
      } else if (d.path.empty() || d.path[0] != '/') {
        Error(ValueAt(p), "path " + Shown(d.path) + " must be absolute (start with /)");
      } else if (d.path.find_first_not_of('/') == std::string::npos) {
        Error(ValueAt(p), "path must not be the root directory");
      }
    } else if (p.name == "port") {
      GetInt(p, 1, 65535, &d.port);
    } else if (p.name == "host" || p.name == "user" || p.name == "identity" ||
               p.name == "known_hosts") {
      std::string* field = p.name == "host"       ? &d.host
                           : p.name == "user"     ? &d.user
                           : p.name == "identity" ? &d.identity
                                                  : &d.known_hosts;
      if (GetString(p, field) && LooksLikeSecret(*field)) {
        Error(ValueAt(p), p.name +
                              " holds what looks like a private key: a policy never holds a "
                              "secret; name the key file (identity: /path/to/key) instead");
        field->clear();
      }
    }
  }
  CheckDestinationType(mapping, &d);
  return d;
}

// The keys of type s3; false for any other key.
bool Loader::LoadS3Key(const Field& p, S3Location* s3) {
  std::string* field = p.name == "endpoint"           ? &s3->endpoint
                       : p.name == "region"           ? &s3->region
                       : p.name == "bucket"           ? &s3->bucket
                       : p.name == "prefix"           ? &s3->prefix
                       : p.name == "ca_bundle"        ? &s3->ca_bundle
                       : p.name == "credentials_file" ? &s3->credentials_file
                       : p.name == "profile"          ? &s3->profile
                                                      : nullptr;
  if (p.name == "path_style") {
    GetBool(p, &s3->path_style);
    return true;
  }
  if (field == nullptr) return false;
  if (GetString(p, field) && LooksLikeSecret(*field)) {
    Error(ValueAt(p), p.name +
                          " holds what looks like a private key: a policy never holds a "
                          "secret; name the credentials file instead");
    field->clear();
  }
  return true;
}

// The keys of one type are refused for the others; for ssh and s3, the
// location as a whole is checked as ssh or the store will use it.
void Loader::CheckDestinationType(const KnownMapping& mapping, DestinationSpec* d) {
  const std::set<std::string> ssh_only = {"host", "port", "user", "identity", "known_hosts"};
  const std::set<std::string> s3_only = {"endpoint",   "region",    "bucket",           "prefix",
                                         "path_style", "ca_bundle", "credentials_file", "profile"};
  for (const Field& p : mapping.pairs) {
    bool refused = (ssh_only.count(p.name) && d->type != "ssh") ||
                   (s3_only.count(p.name) && d->type != "s3") ||
                   (p.name == "path" && d->type == "s3");
    if (refused) {
      Error(At(p.key),
            "destination " + Shown(d->name) + ": " + p.name + " is not a key of type " + d->type);
    }
  }
  if (d->type == "s3") {
    Status st = CheckS3Location(d->s3);
    if (!d->s3.bucket.empty() && !d->s3.endpoint.empty() && !st.ok()) {
      Error(d->loc, "destination " + Shown(d->name) + ": " + st.message());
    }
    return;
  }
  if (d->type != "ssh") return;
  const Field* host = nullptr;
  for (const Field& p : mapping.pairs) {
    if (p.name == "host") host = &p;
  }
  if (host == nullptr) {
    Error(d->loc, "destination " + Shown(d->name) + " of type ssh needs a host");
    return;
  }
  SshLocation location{d->user, d->host, d->port, d->path, d->identity, d->known_hosts};
  Status st = CheckSshLocation(location);
  if (!d->path.empty() && !d->host.empty() && !st.ok()) {
    Error(d->loc, "destination " + Shown(d->name) + ": " + st.message());
  }
}

void Loader::LoadPolicies(const Field& f, Policy* out) {
  for (const Field& p : NamedEntries(f, "policy", &policies_)) {
    out->policies[p.name] = LoadPolicyDef(p);
  }
}

PolicyDef Loader::LoadPolicyDef(const Field& f) {
  PolicyDef def;
  def.name = f.name;
  def.loc = At(f.key);
  def.datasets = {DatasetRole::kZoneRoot, DatasetRole::kDisks};
  Field map{f.name, "policy " + Shown(f.name), f.key, f.value};
  KnownMapping mapping = KnownPairs(map, Words().policy);
  if (!f.value.IsMap()) return def;
  // Without keep, retention would destroy every managed snapshot of the
  // zones: refusing a forgotten keep is safer than reading it as empty.
  RequireKeys(map, mapping, {"keep"}, def.loc);
  KeepSection keep;
  const Field* exports = nullptr;
  for (const Field& p : mapping.pairs) {
    if (p.name == "keep") {
      keep = LoadKeep(p);
      def.keep = keep.counts;
    }
    if (p.name == "datasets") def.datasets = LoadDatasets(p);
    if (p.name == "export") exports = &p;
    if (p.name == "hooks") {
      for (const Field& h : KnownPairs(p, Words().hooks).pairs) {
        if (h.name == "pre_snapshot") def.pre_snapshot = LoadCommand(h);
        if (h.name == "post_snapshot") def.post_snapshot = LoadCommand(h);
        if (h.name == "timeout_seconds") GetInt(h, 1, 3600, &def.hook_timeout_seconds);
      }
    }
  }
  if (exports != nullptr) def.exports = LoadExports(*exports, def, keep);
  return def;
}

KeepSection Loader::LoadKeep(const Field& f) {
  KeepSection keep;
  keep.loaded = f.value.IsMap();
  for (const Field& k : Pairs(f)) {
    keep.at[k.name] = At(k.key);
    if (Unknown(classes_, k.name, "classes")) {
      Error(At(k.key),
            "unknown class " + Shown(k.name) + " in keep" + DidYouMean(k.name, Names(classes_)));
      keep.invalid.insert(k.name);
      continue;
    }
    int count = 0;
    if (GetInt(k, 0, kMaxKeep, &count)) {
      keep.counts[k.name] = count;
    } else {
      keep.invalid.insert(k.name);
    }
  }
  return keep;
}

std::vector<DatasetRole> Loader::LoadDatasets(const Field& f) {
  std::vector<DatasetRole> roles;
  std::vector<Field> items = Items(f);
  if (f.value.IsSequence() && items.empty()) {
    Error(ValueAt(f), "datasets must list at least one of zoneroot, disks, cores");
  }
  for (const Field& item : items) {
    std::string name;
    if (!GetEnum(item, Words().dataset_roles, &name)) continue;
    DatasetRole role = name == "zoneroot" ? DatasetRole::kZoneRoot
                       : name == "disks"  ? DatasetRole::kDisks
                                          : DatasetRole::kCores;
    if (std::find(roles.begin(), roles.end(), role) != roles.end()) {
      Error(ValueAt(item), "duplicate dataset role " + Shown(name) + " in datasets");
      continue;
    }
    roles.push_back(role);
  }
  return roles;
}

std::vector<ExportRule> Loader::LoadExports(const Field& f, const PolicyDef& policy,
                                            const KeepSection& keep) {
  std::vector<ExportRule> rules;
  std::map<std::string, SourceLoc> destination_seen;
  for (const Field& item : Items(f)) {
    ExportRule rule;
    rule.loc = ValueAt(item);
    KnownMapping mapping = KnownPairs(item, Words().export_rule);
    if (!item.value.IsMap()) continue;
    RequireKeys(item, mapping, {"destination", "class"}, rule.loc);
    for (const Field& p : mapping.pairs) {
      if (p.name == "destination" && GetString(p, &rule.destination)) {
        if (Unknown(destinations_, rule.destination, "destinations")) {
          Error(ValueAt(p), "unknown destination " + Shown(rule.destination) +
                                DidYouMean(rule.destination, Names(destinations_)));
        } else if (!destination_seen.emplace(rule.destination, ValueAt(p)).second) {
          Error(ValueAt(p), "policy " + Shown(policy.name) +
                                " has a second export rule for destination " +
                                Shown(rule.destination) + " (first at line " +
                                std::to_string(destination_seen[rule.destination].line) + ")");
        }
      } else if (p.name == "class" && GetString(p, &rule.snapshot_class)) {
        const std::string& c = rule.snapshot_class;
        if (Unknown(classes_, c, "classes")) {
          Error(ValueAt(p), "unknown class " + Shown(c) + DidYouMean(c, Names(classes_)));
        } else if (keep.loaded && keep.invalid.count(c) == 0 &&
                   (keep.counts.count(c) == 0 || keep.counts.at(c) == 0)) {
          Error(ValueAt(p), "class " + Shown(c) + " is exported but not taken by policy " +
                                Shown(policy.name) + " (give it a keep count above 0)");
        }
      } else if (p.name == "full_every") {
        Duration every;
        if (GetDuration(p, &every)) rule.full_every = every;
      } else if (p.name == "keep_chains") {
        GetInt(p, kMinKeepChains, kMaxKeepChains, &rule.keep_chains);
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

void Loader::LoadZones(const Field& f, Policy* out) {
  for (const Field& item : Items(f)) out->zones.push_back(LoadZone(item, *out));
}

ZoneEntry Loader::LoadZone(const Field& f, const Policy& policy) {
  ZoneEntry entry;
  entry.loc = ValueAt(f);
  KnownMapping mapping = KnownPairs(f, Words().zone);
  if (!f.value.IsMap()) return entry;
  RequireKeys(f, mapping, {"match", "policy"}, entry.loc);
  KeepSection keep;
  for (const Field& p : mapping.pairs) {
    if (p.name == "match") {
      entry.match = LoadMatch(p);
    } else if (p.name == "policy" && GetString(p, &entry.policy)) {
      used_policies_.insert(entry.policy);
      if (Unknown(policies_, entry.policy, "policies")) {
        Error(ValueAt(p),
              "unknown policy " + Shown(entry.policy) + DidYouMean(entry.policy, Names(policies_)));
      }
    } else if (p.name == "keep") {
      keep = LoadKeep(p);
      entry.keep_override = keep.counts;
    }
  }
  CheckExportsStillTaken(keep, entry, policy);
  return entry;
}

// An override may set an exported class to 0; the export would then have
// no snapshot to send for this zone, so it is refused like a policy that
// exports a class it does not take.
void Loader::CheckExportsStillTaken(const KeepSection& keep, const ZoneEntry& entry,
                                    const Policy& policy) {
  auto def = policy.policies.find(entry.policy);
  if (def == policy.policies.end()) return;
  std::set<std::string> reported;
  for (const ExportRule& rule : def->second.exports) {
    auto k = keep.counts.find(rule.snapshot_class);
    if (k == keep.counts.end() || k->second > 0 || !reported.insert(k->first).second) continue;
    Error(keep.at.at(rule.snapshot_class),
          "keep " + rule.snapshot_class + ": 0 stops taking class " + Shown(rule.snapshot_class) +
              ", which policy " + Shown(entry.policy) + " exports to " + Shown(rule.destination));
  }
}

void Loader::LoadExclude(const Field& f, Policy* out) {
  for (const Field& item : Items(f)) out->exclude.push_back(LoadMatch(item));
}

ZoneMatch Loader::LoadMatch(const Field& f) {
  ZoneMatch match;
  match.loc = ValueAt(f);
  KnownMapping mapping = KnownPairs(f, Words().match);
  if (!f.value.IsMap()) return match;
  // A mapping whose only keys are unknown has been reported already.
  if (f.value.size() == 0) {
    Error(ValueAt(f), f.what + " needs at least one of alias, uuid, alias_regex, brand");
  }
  for (const Field& p : mapping.pairs) {
    std::string text;
    if (!GetString(p, &text)) continue;
    if (p.name == "alias") match.alias = text;
    if (p.name == "uuid") match.uuid = text;
    if (p.name == "brand") match.brand = text;
    if (p.name == "alias_regex") {
      match.alias_regex = text;
      RE2::Options options;
      options.set_log_errors(false);
      RE2 re(text, options);
      if (!re.ok()) {
        Error(ValueAt(p), "invalid alias_regex " + Shown(text) + ": " + Printable(re.error()));
      }
    }
  }
  return match;
}

void Loader::LoadLimits(const Field& f, Policy* out) {
  for (const Field& p : KnownPairs(f, Words().limits).pairs) {
    GetInt(p, 0, kMaxMaxDestroy, &out->max_destroy);
  }
}

// An argv: a non-empty list of strings whose first is an absolute path
// (nothing goes through a shell, and cron's PATH is not the operator's).
std::vector<std::string> Loader::LoadCommand(const Field& f) {
  std::vector<std::string> argv;
  std::vector<Field> items = Items(f);
  if (f.value.IsSequence() && items.empty()) {
    Error(ValueAt(f), f.what + " must list the program and its arguments");
  }
  for (const Field& item : items) {
    std::string arg;
    if (GetString(item, &arg)) argv.push_back(arg);
  }
  if (!argv.empty() && (argv[0].empty() || argv[0][0] != '/')) {
    Error(ValueAt(items[0]), f.what + " must start with an absolute path, got " + Shown(argv[0]) +
                                 " (commands run without a shell)");
  } else if (!argv.empty() && argv[0].find('=') != std::string::npos) {
    // Hooks run through env(1), which would take it for an assignment.
    Error(ValueAt(items[0]),
          f.what + ": the program path must not contain '=', got " + Shown(argv[0]));
  }
  return argv;
}

void Loader::LoadNotify(const Field& f, Policy* out) {
  out->notify.loc = At(f.key);
  for (const Field& p : KnownPairs(f, Words().notify).pairs) {
    if (p.name == "on_success") out->notify.on_success = LoadCommand(p);
    if (p.name == "on_failure") out->notify.on_failure = LoadCommand(p);
    if (p.name == "timeout_seconds") GetInt(p, 1, 3600, &out->notify.timeout_seconds);
  }
}

void Loader::WarnUnused(const Policy& policy) {
  std::set<std::string> used_destinations;
  for (const auto& [name, def] : policy.policies) {
    for (const ExportRule& rule : def.exports) used_destinations.insert(rule.destination);
  }
  for (const auto& [name, def] : policy.policies) {
    if (used_policies_.count(name) == 0) {
      diags_->Warning(def.loc, "policy " + Shown(name) + " is not used by any zone entry");
    }
  }
  for (const auto& [name, d] : policy.destinations) {
    if (used_destinations.count(name) == 0) {
      diags_->Warning(d.loc, "destination " + Shown(name) + " is not used by any policy");
    }
  }
}

// yaml-cpp 0.7 (Debian 12) never returns from LoadAll when a document
// starts with a token that cannot begin a node, such as a stray ',': every
// round yields one more empty document at the same place without consuming
// the token, until memory runs out (jbeder/yaml-cpp#1040, fixed after 0.7
// by #1318 and #1319). This pass walks the documents with the same parser
// and stops at the first one that starts where the previous one did.
class StalledDocumentFinder : public YAML::EventHandler {
 public:
  // Throws YAML::ParserException at the token that stalls the parser.
  static void Check(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    StalledDocumentFinder finder;
    while (parser.HandleNextDocument(finder)) {
    }
  }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (started_ && mark.pos == last_start_.pos) {
      throw YAML::ParserException(mark, "unexpected character where a value should start");
    }
    started_ = true;
    last_start_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  bool started_ = false;
  YAML::Mark last_start_;
};

size_t CountErrors(const Diagnostics& diags) {
  return std::count_if(diags.items().begin(), diags.items().end(),
                       [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace

bool LoadPolicy(const std::string& file_name, std::string_view yaml_text, Policy* out,
                Diagnostics* diags) {
  size_t errors_before = CountErrors(*diags);
  Policy policy;
  policy.file = file_name;
  Loader loader(file_name, diags);
  // yaml-cpp reports syntax errors (and nesting past its depth guard) by
  // throwing; nothing else it throws may escape the library either.
  try {
    std::string text(yaml_text);
    StalledDocumentFinder::Check(text);
    loader.Load(YAML::LoadAll(text), &policy);
  } catch (const YAML::DeepRecursion& e) {
    diags->Error(MarkLoc(file_name, e.mark), "YAML nesting is too deep (more than " +
                                                 std::to_string(e.depth() - 1) + " levels)");
  } catch (const YAML::Exception& e) {
    diags->Error(MarkLoc(file_name, e.mark), "YAML syntax error: " + Printable(e.msg));
  } catch (const std::exception& e) {
    diags->Error(SourceLoc{file_name, 1, 1}, std::string("cannot read the policy: ") + e.what());
  }
  diags->Sort();
  if (CountErrors(*diags) != errors_before) return false;
  *out = std::move(policy);
  return true;
}

bool LoadPolicyFile(const std::string& path, Policy* out, Diagnostics* diags) {
  SourceLoc loc{path, 0, 0};
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    diags->Error(loc, std::string("cannot open policy file: ") + strerror(errno));
    return false;
  }
  std::string text;
  struct stat st;
  std::string problem;
  if (fstat(fd, &st) != 0) {
    problem = std::string("cannot stat policy file: ") + strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    problem = "policy file is a directory";
  } else if (st.st_size > kMaxPolicyFileBytes) {
    problem = "policy file is larger than " + std::to_string(kMaxPolicyFileBytes >> 20) + " MiB";
  } else {
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) text.append(buf, static_cast<size_t>(n));
      if (text.size() > static_cast<size_t>(kMaxPolicyFileBytes)) break;
    }
    if (n < 0) problem = std::string("cannot read policy file: ") + strerror(errno);
    if (text.size() > static_cast<size_t>(kMaxPolicyFileBytes)) {
      problem = "policy file is larger than " + std::to_string(kMaxPolicyFileBytes >> 20) + " MiB";
    }
  }
  close(fd);
  if (!problem.empty()) {
    diags->Error(loc, problem);
    return false;
  }
  return LoadPolicy(path, text, out, diags);
}

}  // namespace zrecon
