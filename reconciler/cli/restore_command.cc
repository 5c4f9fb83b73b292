#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "reconciler/apply/progress.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/restore/restore_executor.h"
#include "reconciler/restore/restore_plan.h"
#include "reconciler/util/files.h"
#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/verify.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// Finds the zone by uuid, or by alias when that is unambiguous.
Status FindZone(const DestinationCatalog& cat, const std::string& wanted,
                const ZoneManifest** out) {
  auto it = cat.zones.find(wanted);
  if (it != cat.zones.end()) {
    *out = &it->second;
    return Status::Ok();
  }
  std::vector<const ZoneManifest*> by_alias;
  std::vector<std::string> known;
  for (const auto& [uuid, m] : cat.zones) {
    if (m.alias == wanted) by_alias.push_back(&m);
    known.push_back(uuid + (m.alias.empty() ? "" : " (" + m.alias + ")"));
  }
  if (by_alias.size() == 1) {
    *out = by_alias[0];
    return Status::Ok();
  }
  if (by_alias.size() > 1) {
    return Status::Error("alias \"" + Printable(wanted) +
                         "\" names several zones in the catalog; give the uuid");
  }
  return Status::Error("no zone \"" + Printable(wanted) + "\" in the catalog; it has: " +
                       (known.empty() ? std::string("none") : Join(known, ", ")));
}

class RestoreProgress : public RestoreObserver {
 public:
  void StepStarted(const RestorePlan& plan, size_t index) override {
    const RestoreStep& s = plan.steps[index];
    std::cout << "[" << index + 1 << "/" << plan.steps.size() << "] " << RestoreStepLabel(s.kind);
    if (s.kind == RestoreStepKind::kRegisterImage) {
      std::cout << " write " << Printable(s.file) << "\n";
    } else {
      std::cout << " " << Printable(ShellJoin(s.argv))
                << (s.file.empty() ? "" : " < " + Printable(s.file)) << "\n";
    }
    std::cout.flush();
  }
  void StepFinished(const RestorePlan&, size_t, const RestoreStepResult& r) override {
    if (r.outcome == Outcome::kFailed) {
      std::cout << "      FAILED: " << Printable(r.error) << "\n";
    } else if (r.bytes > 0) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", r.seconds);
      std::cout << "      done: " << FormatBytes(r.bytes) << " in " << seconds << "s\n";
    }
    std::cout.flush();
  }
};

}  // namespace

int RunRestore(const RestoreFlags& flags) {
  std::unique_ptr<HostLock> lock;
  if (!flags.dry_run) {
    Status s = TakeHostLock(flags.lock, &lock);
    if (!s.ok()) return Fail(s);
  }
  std::vector<HostDirectory> hosts;
  Status s = FindHosts(flags.from, &hosts);
  if (!s.ok()) return Fail(s);
  const HostDirectory* chosen = nullptr;
  for (const HostDirectory& h : hosts) {
    if (flags.host.empty() ? hosts.size() == 1 : h.host == flags.host) chosen = &h;
  }
  if (chosen == nullptr) {
    std::vector<std::string> names;
    for (const HostDirectory& h : hosts) names.push_back(h.host);
    return Fail(Status::Error(flags.host.empty()
                                  ? flags.from + " holds exports of several hosts (" +
                                        Join(names, ", ") + "); choose one with --host"
                                  : "no exports of host " + flags.host + " in " + flags.from +
                                        " (it has: " + Join(names, ", ") + ")"));
  }
  DestinationCatalog catalog;
  s = ReadDirectoryCatalog("--from", chosen->path, chosen->host, &catalog);
  if (s.ok() && !catalog.reachable) s = Status::Error(catalog.unreachable_reason);
  if (!s.ok()) return Fail(s.Prefixed(flags.from));
  const ZoneManifest* zone = nullptr;
  s = FindZone(catalog, flags.zone, &zone);
  if (!s.ok()) return Fail(s);
  RestorePoint point;
  s = SelectRestorePoint(*zone, flags.at, flags.pool, &point);
  if (!s.ok()) return Fail(s);

  // The config steers everything after it: check it before reading it.
  const std::string& host_dir = chosen->dir;
  std::vector<StoredFile> config_file;
  for (const ConfigRecord& c : zone->configs) {
    if (c.stored.file == point.config_file) config_file.push_back(c.stored);
  }
  if (config_file.empty()) {
    return Fail(Status::Error("the catalog names config " + point.config_file + " for @" +
                              point.snapshot + " but has no record of it"));
  }
  std::vector<std::string> problems;
  s = VerifyStoredFiles(host_dir, config_file, &problems);
  if (s.ok() && !problems.empty()) s = Status::Error(Join(problems, "; "));
  std::string config;
  if (s.ok()) s = ReadFile(host_dir + "/" + point.config_file, &config);
  if (!s.ok()) return Fail(s.Prefixed("refusing to restore"));

  // imgadm's records of the images the chains need, from the media (checked
  // like the config), and whether this host's imgadm knows them already.
  const std::string target_pool =
      flags.pool.empty()
          ? point.datasets.front().dataset.substr(0, point.datasets.front().dataset.find('/'))
          : flags.pool;
  std::map<std::string, std::string> image_records;
  std::set<std::string> registered;
  for (const DatasetRestore& d : point.datasets) {
    const std::string& image = d.chain->image_uuid;
    if (image.empty() || image_records.count(image) || registered.count(image)) continue;
    struct stat st;
    if (::stat(ImgadmDatabaseFile(flags.imgadm_db, target_pool, image).c_str(), &st) == 0) {
      registered.insert(image);
    }
    auto it = catalog.images.find(image);
    if (it == catalog.images.end() || it->second.imgadm_record.file.empty()) continue;
    problems.clear();
    s = VerifyStoredFiles(host_dir, {it->second.imgadm_record}, &problems);
    if (s.ok() && !problems.empty()) s = Status::Error(Join(problems, "; "));
    std::string record;
    if (s.ok()) s = ReadFile(host_dir + "/" + it->second.imgadm_record.file, &record);
    if (!s.ok()) return Fail(s.Prefixed("refusing to restore"));
    image_records[image] = std::move(record);
  }

  PosixHost reader(flags.host_flags.timeout_seconds, flags.host_flags.interrupt);
  Inventory inventory;
  ZfsDialect dialect;
  s = ObserveLiveHost(reader, flags.host_flags, &inventory, &dialect);
  if (!s.ok()) return Fail(s);

  RestoreInput input;
  input.zone = zone;
  input.images = &catalog.images;
  input.inventory = &inventory;
  input.point = point;
  input.pool = flags.pool;
  input.config_json = config;
  input.force = flags.force;
  input.start = flags.start;
  input.commands.zfs = flags.host_flags.zfs;
  input.commands.vmadm = flags.host_flags.vmadm;
  input.commands.dialect = dialect;
  input.image_records = std::move(image_records);
  input.registered_images = std::move(registered);
  input.imgadm_db = flags.imgadm_db;
  if (!flags.no_space_check) {
    uint64_t available = 0;
    Argv argv = input.commands.Available(target_pool);
    CommandResult r;
    s = reader.Run(argv, &r);
    if (s.ok() && r.exit_code != 0) s = Status::Error(DescribeFailure(argv, r));
    if (s.ok()) s = ParseAvailable(r.out, &available).Prefixed(ShellJoin(argv));
    if (!s.ok()) return Fail(s);
    input.pool_available = static_cast<int64_t>(available);
  }
  RestorePlan plan;
  s = PlanRestore(input, &plan);
  if (!s.ok()) return Fail(s);
  std::cout << RenderRestorePlan(plan);

  // By default every file is read once: into zfs receive, its size and
  // SHA-256 checked on the way (the executor), the received data kept in
  // -partial datasets until all of it has been. --verify-first and
  // --dry-run read every file in full first.
  // Every file is there and of its size in any case: a missing or short
  // file is refused before anything changes.
  bool read_first = flags.verify_first || flags.dry_run;
  {
    problems.clear();
    // Reading every file may take long; Ctrl-C stops it, nothing changed yet.
    s = VerifyStoredFiles(host_dir, plan.files_to_verify, &problems, flags.host_flags.interrupt,
                          read_first);
    if (!s.ok()) return Fail(s.Prefixed("refusing to restore"));
    if (!problems.empty()) {
      std::cerr << "zrecon: refusing to restore: " << problems.size()
                << (problems.size() == 1 ? " file does" : " files do")
                << " not match the catalog; nothing was changed:\n";
      for (const std::string& p : problems) std::cerr << "  " << Printable(p) << "\n";
      return kExitError;
    }
  }
  if (read_first) {
    std::cout << "\nVerified " << plan.files_to_verify.size() << " files against the catalog.\n";
  } else {
    std::cout << "\n"
              << plan.files_to_verify.size()
              << " files are there with their recorded sizes; each is checked against the "
                 "catalog's SHA-256 as it is received, and nothing but -partial datasets changes "
                 "until all are.\n";
  }
  if (flags.dry_run) {
    std::cout << "Dry run: nothing was changed.\n";
    return kExitOk;
  }
  std::cout << "\n";
  std::unique_ptr<Host> host = MakeExecutionHost(flags.host_flags, flags.host_flags.zfs);
  RestoreProgress progress;
  RestoreOptions options;
  options.monotonic = Monotonic;
  options.interrupt = flags.host_flags.interrupt;
  RestoreReport report = ExecuteRestore(plan, *host, host_dir, &progress, options);
  for (const std::string& c : report.cleanup) std::cout << "  cleanup: " << Printable(c) << "\n";
  if (!report.interrupted.empty()) {
    std::cout << "\nRestore STOPPED, " << report.interrupted
              << ". Run the same command again: it continues from what is on the host.\n";
    return kExitError;
  }
  if (!report.ok()) {
    std::cout << "\nRestore FAILED. Fix the cause and run the same command again: it continues "
                 "from what is on the host.\n";
    return kExitError;
  }
  std::cout << "\nRestored zone " << plan.zone
            << (plan.alias.empty() ? "" : " (" + Printable(plan.alias) + ")") << " to @"
            << plan.point.snapshot << (flags.start ? " and started it" : "") << ".\n";
  return kExitOk;
}

}  // namespace zrecon
