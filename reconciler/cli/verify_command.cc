#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/storage/verify.h"
#include "reconciler/util/strings.h"
#include "reconciler/util/time.h"

namespace zrecon {

namespace {

using Json = nlohmann::ordered_json;

// Version of the --json document (README, "Verifying exports"): bumped
// when a key changes meaning or goes away, not when one is added.
constexpr int kVerifyJsonVersion = 1;

struct Totals {
  size_t zones = 0;
  size_t images = 0;
  size_t problems = 0;
  size_t unknown_files = 0;
  size_t leftover_files = 0;
  size_t loose_files = 0;
  size_t failed_hosts = 0;
};

Totals Count(const VerifyReport& report) {
  Totals t;
  for (const HostReport& h : report.hosts) {
    t.zones += h.zones.size();
    t.images += h.images.size();
    t.problems += h.problems.size();
    for (const ZoneReport& z : h.zones) t.problems += z.problems.size();
    for (const ImageReport& i : h.images) t.problems += i.problems.size();
    t.unknown_files += h.unknown_files.size();
    t.leftover_files += h.leftover_files.size();
    t.loose_files += h.loose_files.size();
    if (!h.ok()) ++t.failed_hosts;
  }
  return t;
}

std::string Plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Verdict(bool ok) { return ok ? "OK" : "PROBLEMS"; }

// ---------------------------------------------------------------------------
// Text

void PrintProblems(const std::vector<VerifyProblem>& problems, const std::string& indent) {
  for (const VerifyProblem& p : problems) {
    std::cout << indent << "problem: " << Printable(p.file.empty() ? "." : p.file) << ": "
              << Printable(p.what) << "\n";
  }
}

std::string ChainVerdict(const ChainReport& c) {
  if (c.ok) return "OK";
  if (c.restorable_links == c.links) return "PROBLEMS (every stream verifies)";
  if (c.restorable_links == 0) return "PROBLEMS (nothing restorable)";
  return "PROBLEMS (restorable up to @" + c.restorable_tip + ", " +
         std::to_string(c.restorable_links) + " of " + std::to_string(c.links) + " links)";
}

std::string BaseText(const ChainReport& c) {
  if (c.origin.empty()) return "full stream";
  if (c.image_uuid.empty()) return "incremental from " + Printable(c.origin);
  return "incremental from image " + c.image_uuid;
}

void PrintChain(const ChainReport& c) {
  std::cout << "    chain " << Printable(c.id) << " of " << Printable(c.dataset) << ": "
            << ChainVerdict(c) << "\n"
            << "      " << Plural(c.links, "link", "links") << ", " << c.bytes
            << " bytes, base: " << BaseText(c) << "\n"
            << "      snapshots " << Printable(c.first.snapshot) << " .. "
            << Printable(c.tip.snapshot) << "\n"
            << "      created   " << FormatRfc3339(c.first.creation) << " .. "
            << FormatRfc3339(c.tip.creation) << "\n"
            << "      written   " << c.first.written << " .. " << c.tip.written << "\n";
}

void PrintHost(const HostReport& h) {
  std::cout << "host " << Printable(h.where.host) << " (" << Printable(h.where.dir) << ")\n";
  for (const ImageReport& i : h.images) {
    std::cout << "  image " << Printable(i.uuid) << ": " << Verdict(i.ok()) << "\n";
    if (i.manifest_ok) {
      std::cout << "    " << Printable(i.image.stream.file) << ", " << i.image.stream.size
                << " bytes, written " << i.image.written << "\n";
    }
    PrintProblems(i.problems, "    ");
  }
  for (const ZoneReport& z : h.zones) {
    std::cout << "  zone " << Printable(z.uuid)
              << (z.alias.empty() ? "" : " (" + Printable(z.alias) + ")") << ": " << Verdict(z.ok())
              << "\n";
    for (const ChainReport& c : z.chains) PrintChain(c);
    PrintProblems(z.problems, "    ");
  }
  for (const std::string& f : h.unknown_files) {
    std::cout << "  unknown file (no manifest names it): " << Printable(f) << "\n";
  }
  for (const std::string& f : h.leftover_files) {
    std::cout << "  leftover temporary file (not a problem; the next apply removes it): "
              << Printable(f) << "\n";
  }
  for (const std::string& f : h.loose_files) {
    std::cout << "  loose file (its manifest lists it; not a problem; the next apply removes it): "
              << Printable(f) << "\n";
  }
  PrintProblems(h.problems, "  ");
  std::cout << "host " << Printable(h.where.host) << ": " << Verdict(h.ok()) << "\n\n";
}

void PrintText(const VerifyReport& report) {
  for (const HostReport& h : report.hosts) PrintHost(h);
  Totals t = Count(report);
  std::cout << "verify: " << Verdict(report.ok()) << ": "
            << Plural(report.hosts.size(), "host", "hosts") << ", "
            << Plural(t.zones, "zone", "zones") << ", " << Plural(t.images, "image", "images")
            << "; read " << Plural(report.files_read, "file", "files") << ", " << report.bytes_read
            << " bytes";
  if (!report.ok()) {
    std::cout << "; " << Plural(t.problems, "problem", "problems") << ", "
              << Plural(t.unknown_files, "unknown file", "unknown files") << " in "
              << Plural(t.failed_hosts, "host", "hosts");
  }
  std::cout << "\n";
}

// ---------------------------------------------------------------------------
// JSON

Json ProblemsJson(const std::vector<VerifyProblem>& problems) {
  Json out = Json::array();
  for (const VerifyProblem& p : problems) out.push_back({{"file", p.file}, {"message", p.what}});
  return out;
}

Json LinkJson(const ChainLink& l) {
  return {{"snapshot", l.snapshot}, {"created", FormatRfc3339(l.creation)}, {"written", l.written}};
}

Json ChainJson(const ChainReport& c) {
  return {{"id", c.id},
          {"dataset", c.dataset},
          {"ok", c.ok},
          {"base", c.origin.empty() ? "full" : "incremental"},
          {"origin", c.origin},
          {"image_uuid", c.image_uuid},
          {"links", c.links},
          {"bytes", c.bytes},
          {"first", LinkJson(c.first)},
          {"tip", LinkJson(c.tip)},
          {"restorable_links", c.restorable_links},
          {"restorable_tip", c.restorable_tip}};
}

Json ZoneJson(const ZoneReport& z) {
  Json chains = Json::array();
  for (const ChainReport& c : z.chains) chains.push_back(ChainJson(c));
  return {{"uuid", z.uuid},
          {"alias", z.alias},
          {"ok", z.ok()},
          {"manifest", z.manifest},
          {"configs", z.configs},
          {"chains", chains},
          {"problems", ProblemsJson(z.problems)}};
}

Json ImageJson(const ImageReport& i) {
  return {{"uuid", i.uuid},
          {"ok", i.ok()},
          {"manifest", i.manifest},
          {"file", i.image.stream.file},
          {"bytes", i.image.stream.size},
          {"written", i.image.written},
          {"problems", ProblemsJson(i.problems)}};
}

Json HostJson(const HostReport& h) {
  Json images = Json::array();
  for (const ImageReport& i : h.images) images.push_back(ImageJson(i));
  Json zones = Json::array();
  for (const ZoneReport& z : h.zones) zones.push_back(ZoneJson(z));
  return {{"host", h.where.host},
          {"dir", h.where.dir},
          {"ok", h.ok()},
          {"images", images},
          {"zones", zones},
          {"unknown_files", h.unknown_files},
          {"leftover_files", h.leftover_files},
          {"loose_files", h.loose_files},
          {"problems", ProblemsJson(h.problems)}};
}

void PrintJson(const std::string& from, const VerifyReport& report) {
  Totals t = Count(report);
  Json hosts = Json::array();
  for (const HostReport& h : report.hosts) hosts.push_back(HostJson(h));
  Json doc = {{"format_version", kVerifyJsonVersion},
              {"from", from},
              {"ok", report.ok()},
              {"summary",
               {{"hosts", report.hosts.size()},
                {"zones", t.zones},
                {"images", t.images},
                {"problems", t.problems},
                {"unknown_files", t.unknown_files},
                {"leftover_files", t.leftover_files},
                {"loose_files", t.loose_files},
                {"files_read", report.files_read},
                {"bytes_read", report.bytes_read}}},
              {"hosts", hosts}};
  // File names come from the medium and may not be UTF-8.
  std::cout << doc.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

}  // namespace

int RunVerify(const VerifyFlags& flags) {
  VerifyOptions options;
  options.host = flags.host;
  options.zones = flags.zones;
  VerifyReport report;
  DestinationAddress address;
  std::string label;
  std::vector<HostDirectory> hosts;
  Status s = ResolveSource(flags.source, &address, &label);
  if (s.ok()) s = FindHostsOf(address, label, &hosts);
  if (s.ok()) s = VerifyHosts(std::move(hosts), label, options, &report);
  if (!s.ok()) {
    std::cerr << "zrecon: " << s.message() << "\n";
    return kExitError;
  }
  if (flags.json) {
    PrintJson(label, report);
  } else {
    PrintText(report);
  }
  return report.ok() ? kExitOk : kExitError;
}

}  // namespace zrecon
