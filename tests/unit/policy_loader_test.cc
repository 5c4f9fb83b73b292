#include "reconciler/policy/policy_loader.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace zrecon {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = ZRECON_SOURCE_DIR;

std::vector<fs::path> FilesIn(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == extension) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// "LINE:COL: severity: message" without the file name, as .expected files
// are written.
std::string Render(const Diagnostic& d) {
  return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.column) + ": " +
         (d.severity == Severity::kError ? "error: " : "warning: ") + d.message;
}

std::string RenderAll(const Diagnostics& diags) {
  std::string out;
  for (const Diagnostic& d : diags.items()) out += Render(d) + "\n";
  return out;
}

// An .expected line "LINE:COL: text" matches a diagnostic at exactly that
// position whose "severity: message" contains text.
bool Matches(const std::string& expected, const Diagnostic& d) {
  std::string position = std::to_string(d.loc.line) + ":" + std::to_string(d.loc.column) + ": ";
  if (expected.compare(0, position.size(), position) != 0) return false;
  std::string text = expected.substr(position.size());
  std::string actual = (d.severity == Severity::kError ? "error: " : "warning: ") + d.message;
  return actual.find(text) != std::string::npos;
}

Policy MustLoad(const std::string& yaml) {
  Policy p;
  Diagnostics diags;
  bool ok = LoadPolicy("test.yaml", yaml, &p, &diags);
  INFO(RenderAll(diags));
  REQUIRE(ok);
  return p;
}

Diagnostics LoadErrors(const std::string& yaml) {
  Policy p;
  Diagnostics diags;
  CHECK_FALSE(LoadPolicy("test.yaml", yaml, &p, &diags));
  return diags;
}

const char kMinimal[] =
    "version: 1\n"
    "policies:\n"
    "  p: {keep: {daily: 7}}\n"
    "zones:\n"
    "  - {match: {alias: \"*\"}, policy: p}\n";

TEST_CASE("policy_loader: every example loads without errors or warnings") {
  std::vector<fs::path> examples = FilesIn(kSourceDir / "examples", ".yaml");
  REQUIRE(examples.size() >= 4);
  for (const fs::path& path : examples) {
    CAPTURE(path);
    Policy p;
    Diagnostics diags;
    CHECK(LoadPolicyFile(path.string(), &p, &diags));
    CHECK(RenderAll(diags) == "");
    CHECK(p.file == path.string());
    CHECK_FALSE(p.zones.empty());
  }
}

TEST_CASE("policy_loader: every invalid fixture reports exactly its expected diagnostics") {
  size_t fixtures = 0;
  size_t largest = 0;
  for (const char* kind : {"schema", "zrecon"}) {
    fs::path dir = kSourceDir / "tests/fixtures/policies/invalid" / kind;
    for (const fs::path& path : FilesIn(dir, ".yaml")) {
      CAPTURE(path);
      fs::path expected_path = fs::path(path).replace_extension(".expected");
      REQUIRE(fs::exists(expected_path));
      std::vector<std::string> expected = ReadLines(expected_path);
      Policy p;
      Diagnostics diags;
      CHECK_FALSE(LoadPolicyFile(path.string(), &p, &diags));
      INFO("actual:\n" << RenderAll(diags));
      REQUIRE(diags.items().size() == expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(expected[i]);
        CHECK(Matches(expected[i], diags.items()[i]));
        CHECK(diags.items()[i].loc.file == path.string());
      }
      largest = std::max(largest, expected.size());
      ++fixtures;
    }
  }
  CHECK(fixtures >= 30);
  CHECK(largest >= 5);
}

TEST_CASE("policy_loader: the standard example loads exactly as written") {
  std::string path = (kSourceDir / "examples/standard.yaml").string();
  Policy p;
  Diagnostics diags;
  REQUIRE(LoadPolicyFile(path, &p, &diags));
  CHECK(p.version == 1);
  CHECK(p.host == std::optional<std::string>("demo01"));
  CHECK(p.naming == "zrecon-{class}-{time}");
  CHECK(p.ClassNames() ==
        std::vector<std::string>{"daily", "frequent", "hourly", "monthly", "weekly", "yearly"});
  CHECK(p.FindClass("monthly")->period.ToString() == "1mo");
  CHECK(p.FindClass("hourly")->loc.ToString() == path + ":6:3");
  CHECK(p.max_destroy == 200);

  REQUIRE(p.destinations.size() == 1);
  const DestinationSpec& usb = p.destinations.at("usb");
  CHECK(usb.name == "usb");
  CHECK(usb.type == "directory");
  CHECK(usb.path == "/mnt/usb/zrecon");
  CHECK(usb.compression == "none");
  CHECK(usb.loc.ToString() == path + ":12:3");

  REQUIRE(p.policies.size() == 1);
  const PolicyDef& standard = p.policies.at("standard");
  CHECK(standard.name == "standard");
  CHECK(standard.loc.ToString() == path + ":16:3");
  CHECK(standard.keep == KeepCounts{{"hourly", 24}, {"daily", 7}, {"weekly", 4}, {"monthly", 12}});
  CHECK(standard.datasets == std::vector<DatasetRole>{DatasetRole::kZoneRoot, DatasetRole::kDisks});
  REQUIRE(standard.exports.size() == 1);
  const ExportRule& rule = standard.exports[0];
  CHECK(rule.destination == "usb");
  CHECK(rule.snapshot_class == "daily");
  REQUIRE(rule.full_every.has_value());
  CHECK(rule.full_every->ToString() == "30d");
  CHECK(rule.keep_chains == 2);
  CHECK(rule.loc.ToString() == path + ":21:9");

  REQUIRE(p.zones.size() == 2);
  CHECK(p.zones[0].match.Describe() == "alias=web*");
  CHECK(p.zones[0].loc.ToString() == path + ":26:5");
  CHECK(p.zones[0].match.loc.ToString() == path + ":26:12");
  CHECK(p.zones[0].policy == "standard");
  CHECK(p.zones[0].keep_override.empty());
  CHECK(p.zones[1].match.uuid ==
        std::optional<std::string>("85dbcafe-889a-e402-cf36-c7ffdd15e568"));
  CHECK(p.zones[1].keep_override == KeepCounts{{"hourly", 48}});
  CHECK(EffectiveKeep(standard, p.zones[1]) ==
        KeepCounts{{"hourly", 48}, {"daily", 7}, {"weekly", 4}, {"monthly", 12}});

  REQUIRE(p.exclude.size() == 1);
  CHECK(p.exclude[0].alias == std::optional<std::string>("scratch*"));
  CHECK(p.exclude[0].loc.ToString() == path + ":32:5");

  CHECK(p.notify.on_failure ==
        std::vector<std::string>{"/opt/custom/bin/zrecon-alert", "root@localhost"});
  CHECK(p.notify.on_success.empty());
  CHECK(p.notify.timeout_seconds == 60);
}

TEST_CASE("policy_loader: omitted keys take their documented defaults") {
  Policy p = MustLoad(
      "version: 1\n"
      "destinations:\n"
      "  usb: {path: /mnt/usb}\n"
      "policies:\n"
      "  p:\n"
      "    keep: {daily: 7}\n"
      "    export: [{destination: usb, class: daily}]\n"
      "zones:\n"
      "  - {match: {alias: \"*\"}, policy: p}\n");
  CHECK_FALSE(p.host.has_value());
  CHECK(p.naming == "zrecon-{class}-{time}");
  CHECK(p.ClassNames() ==
        std::vector<std::string>{"daily", "frequent", "hourly", "monthly", "weekly", "yearly"});
  CHECK(p.max_destroy == 200);
  CHECK(p.exclude.empty());
  CHECK(p.destinations.at("usb").type == "directory");
  CHECK(p.destinations.at("usb").compression == "none");
  const PolicyDef& def = p.policies.at("p");
  CHECK(def.datasets == std::vector<DatasetRole>{DatasetRole::kZoneRoot, DatasetRole::kDisks});
  REQUIRE(def.exports.size() == 1);
  CHECK(def.exports[0].keep_chains == 2);
  CHECK_FALSE(def.exports[0].full_every.has_value());
  CHECK(p.notify.on_success.empty());
  CHECK(p.notify.on_failure.empty());
  CHECK(p.notify.timeout_seconds == 60);
}

TEST_CASE("policy_loader: file classes merge over the defaults and stay sorted") {
  Policy p = MustLoad(
      "version: 1\n"
      "classes:\n"
      "  quarterly: 3mo\n"
      "  hourly: 2h\n"
      "  a_first: 5m\n"
      "policies:\n"
      "  p: {keep: {quarterly: 4, a_first: 1}}\n"
      "zones:\n"
      "  - {match: {alias: \"*\"}, policy: p}\n");
  CHECK(p.ClassNames() == std::vector<std::string>{"a_first", "daily", "frequent", "hourly",
                                                   "monthly", "quarterly", "weekly", "yearly"});
  CHECK(p.FindClass("hourly")->period.ToString() == "2h");
  CHECK(p.FindClass("hourly")->loc.ToString() == "test.yaml:4:3");
  CHECK(p.FindClass("quarterly")->period.ToString() == "3mo");
  CHECK(p.FindClass("daily")->period.ToString() == "1d");
  CHECK(p.FindClass("daily")->loc.line == 0);
  CHECK(p.policies.at("p").keep == KeepCounts{{"quarterly", 4}, {"a_first", 1}});
}

TEST_CASE("policy_loader: naming is compiled against every class, including new ones") {
  Policy p = MustLoad(
      "version: 1\n"
      "naming: \"auto_{time}.{class}\"\n"
      "classes: {half_day: 12h}\n"
      "policies:\n"
      "  p: {keep: {half_day: 2}}\n"
      "zones:\n"
      "  - {match: {alias: \"*\"}, policy: p}\n");
  CHECK(p.naming == "auto_{time}.{class}");

  Diagnostics diags = LoadErrors("version: 1\nnaming: 'x-{class}-{tim}'\n");
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].loc.ToString() == "test.yaml:2:9");
  CHECK(diags.items()[0].message.find("{time}") != std::string::npos);
}

TEST_CASE("policy_loader: keys are checked against the known ones, with a hint when close") {
  Diagnostics diags = LoadErrors("version: 1\npolices: {}\nzzz: 1\n");
  REQUIRE(diags.items().size() == 2);
  CHECK(Render(diags.items()[0]) ==
        "2:1: error: unknown key \"polices\" (did you mean \"policies\"?)");
  CHECK(Render(diags.items()[1]) == "3:1: error: unknown key \"zzz\"");
}

TEST_CASE("policy_loader: unused policies and destinations are warnings, not errors") {
  Policy p;
  Diagnostics diags;
  CHECK(LoadPolicy("test.yaml",
                   "version: 1\n"
                   "destinations:\n"
                   "  usb: {path: /mnt/usb}\n"
                   "policies:\n"
                   "  used: {keep: {daily: 1}}\n"
                   "  spare: {keep: {daily: 1}}\n"
                   "zones:\n"
                   "  - {match: {brand: lx}, policy: used}\n",
                   &p, &diags));
  CHECK(RenderAll(diags) ==
        "3:3: warning: destination \"usb\" is not used by any policy\n"
        "6:3: warning: policy \"spare\" is not used by any zone entry\n");
  CHECK(p.policies.size() == 2);
}

TEST_CASE("policy_loader: the result reflects only this load's errors") {
  Diagnostics diags;
  diags.Error(SourceLoc{"other.yaml", 1, 1}, "an earlier problem");
  Policy p;
  CHECK(LoadPolicy("test.yaml", kMinimal, &p, &diags));
  CHECK(diags.items().size() == 1);
  CHECK(p.policies.count("p") == 1);
}

TEST_CASE("policy_loader: exported classes must stay taken, per policy and per zone") {
  Diagnostics diags = LoadErrors(
      "version: 1\n"
      "destinations: {usb: {path: /m}}\n"
      "policies:\n"
      "  p:\n"
      "    keep: {daily: 7}\n"
      "    export: [{destination: usb, class: daily}, {destination: usb, class: weekly}]\n"
      "zones:\n"
      "  - {match: {alias: a}, policy: p, keep: {daily: 0}}\n"
      "  - {match: {alias: b}, policy: p, keep: {daily: 1}}\n");
  CHECK(RenderAll(diags) ==
        "6:62: error: policy \"p\" has a second export rule for destination \"usb\" (first at "
        "line 6)\n"
        "6:74: error: class \"weekly\" is exported but not taken by policy \"p\" (give it a keep "
        "count above 0)\n"
        "8:43: error: keep daily: 0 stops taking class \"daily\", which policy \"p\" exports to "
        "\"usb\"\n");
}

TEST_CASE("policy_loader: integers must be plain decimal YAML integers in range") {
  auto keep_error = [](const std::string& value) {
    Diagnostics diags = LoadErrors("version: 1\npolicies: {p: {keep: {daily: " + value +
                                   "}}}\nzones: [{match: {alias: x}, policy: p}]\n");
    REQUIRE(diags.items().size() == 1);
    return diags.items()[0].message;
  };
  CHECK(keep_error("'7'") ==
        "expected an integer for \"daily\", found the string \"7\" (remove "
        "the quotes)");
  CHECK(keep_error("7.0") == "expected an integer for \"daily\", found the number 7.0");
  CHECK(keep_error("true") == "expected an integer for \"daily\", found the boolean true");
  CHECK(keep_error("[7]") == "expected an integer for \"daily\", found a list");
  CHECK(keep_error("100001") == "\"daily\" must be an integer from 0 to 100000, found 100001");
  CHECK(keep_error("-9223372036854775809") ==
        "\"daily\" must be an integer from 0 to 100000, found -9223372036854775809");
  CHECK(keep_error("010").find("decimal") != std::string::npos);

  Policy p = MustLoad(
      "version: 1\n"
      "policies: {p: {keep: {daily: +7, hourly: 0, weekly: !!int 3}}}\n"
      "zones: [{match: {alias: x}, policy: p}]\n"
      "limits: {max_destroy: 10000000}\n");
  CHECK(p.policies.at("p").keep == KeepCounts{{"daily", 7}, {"hourly", 0}, {"weekly", 3}});
  CHECK(p.max_destroy == 10000000);
}

TEST_CASE("policy_loader: one mistake is reported once, not again by what depends on it") {
  Diagnostics diags = LoadErrors(
      "version: 1\n"
      "destinations: {usb: {path: /m}}\n"
      "policies:\n"
      "  p:\n"
      "    export: [{destination: usb, class: daily}, {destinaton: usb, class: daily}]\n"
      "  q:\n"
      "    keep: {dayly: 3}\n"
      "    export: [{destination: usb, class: dayly}]\n"
      "zones:\n"
      "  - {match: {alais: x}, policy: p}\n"
      "  - {match: {alias: y}, policy: q}\n");
  CHECK(RenderAll(diags) ==
        "4:3: error: missing required key \"keep\" in policy \"p\"\n"
        "5:49: error: unknown key \"destinaton\" (did you mean \"destination\"?)\n"
        "7:12: error: unknown class \"dayly\" in keep (did you mean \"daily\"?)\n"
        "8:40: error: unknown class \"dayly\" (did you mean \"daily\"?)\n"
        "10:14: error: unknown key \"alais\"\n");

  Diagnostics typo = LoadErrors(
      "version: 1\ndestinatons: {usb: {path: /m}}\nclases: {q: 3mo}\npolices: {p: {keep: {}}}\n"
      "zones: [{match: {alias: x}, policy: p}]\n"
      "exclude: [{alias: y}]\n");
  CHECK(RenderAll(typo) ==
        "2:1: error: unknown key \"destinatons\" (did you mean \"destinations\"?)\n"
        "3:1: error: unknown key \"clases\" (did you mean \"classes\"?)\n"
        "4:1: error: unknown key \"polices\" (did you mean \"policies\"?)\n");
}

TEST_CASE("policy_loader: YAML merge keys are refused with an explanation") {
  Diagnostics diags = LoadErrors(
      "version: 1\n"
      "policies:\n"
      "  base: &base {keep: {daily: 7}}\n"
      "  web: {<<: *base, datasets: [zoneroot]}\n"
      "zones: [{match: {alias: x}, policy: base}, {match: {alias: y}, policy: web}]\n");
  REQUIRE(diags.items().size() == 2);
  CHECK(Render(diags.items()[0]).find("4:3: error: missing required key \"keep\"") == 0);
  CHECK(Render(diags.items()[1]) ==
        "4:9: error: YAML merge keys (<<) are not supported: write the keys out");
}

TEST_CASE("policy_loader: YAML syntax errors carry the parser's position") {
  Diagnostics diags = LoadErrors("version: 1\nzones: [\n");
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].loc.ToString() == "test.yaml:3:1");
  CHECK(diags.items()[0].message.find("YAML syntax error") == 0);
}

TEST_CASE("policy_loader: hostile input never crashes and always yields a positioned error") {
  std::string nested(10000, '[');
  nested += std::string(10000, ']');
  std::string huge = "version: 1\nhost: [" + std::string(1 << 20, 'x') + "]\n";
  std::string huge_key = "version: 1\n" + std::string(1 << 20, 'k') + ": 1\n";
  std::string junk;
  uint32_t state = 12345;
  for (int i = 0; i < 65536; ++i) {
    state = state * 1103515245u + 12345u;
    junk += static_cast<char>(state >> 24);
  }
  const std::string inputs[] = {
      "",
      "[",
      std::string("\x00\xff", 2),
      "\xff\xfe\xfd",
      nested,
      huge,
      huge_key,
      junk,
      "*unknown_alias",
      "version: 1\nzones: &z [*z]\n",
      "version: 1\npolicies: &p {a: *p}\nzones: [{match: &m {alias: *m}, policy: a}]\n",
      "version: 1\nclasses: {? [a, b] : 1h}\n",
      "- a\n- b\n",
      "just a scalar",
      "~",
      "version: 99999999999999999999999999\n",
      "version: 1\n---\nversion: 1\n",
      std::string("version: 1\nhost: \"a\\0b\"\n"),
      "version: 1\ndestinations: {d: {path: \"/a\\0b\"}}\n",
  };
  for (const std::string& input : inputs) {
    CAPTURE(input.substr(0, 40));
    Policy p;
    Diagnostics diags;
    bool ok = true;
    CHECK_NOTHROW(ok = LoadPolicy("hostile.yaml", input, &p, &diags));
    CHECK_FALSE(ok);
    REQUIRE(diags.has_errors());
    for (const Diagnostic& d : diags.items()) {
      CHECK(d.loc.file == "hostile.yaml");
      CHECK(d.loc.line >= 1);
      CHECK(d.loc.column >= 1);
      CHECK(d.message.size() < 400);
    }
  }
}

TEST_CASE("policy_loader: deep nesting is reported as such") {
  std::string nested = "version: 1\nzones: " + std::string(10000, '[') + std::string(10000, ']');
  Diagnostics diags = LoadErrors(nested);
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].message.find("nesting is too deep") != std::string::npos);
}

TEST_CASE("policy_loader: LoadPolicyFile reports unreadable paths as one diagnostic") {
  Policy p;
  Diagnostics diags;
  CHECK_FALSE(LoadPolicyFile("/nonexistent/zrecon/policy.yaml", &p, &diags));
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].loc.file == "/nonexistent/zrecon/policy.yaml");
  CHECK(diags.items()[0].message.find("No such file") != std::string::npos);

  Diagnostics dir_diags;
  CHECK_FALSE(LoadPolicyFile(kSourceDir.string(), &p, &dir_diags));
  REQUIRE(dir_diags.items().size() == 1);
  CHECK(dir_diags.items()[0].message.find("directory") != std::string::npos);
}

}  // namespace
}  // namespace zrecon
