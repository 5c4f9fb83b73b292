#include "reconciler/cli/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "reconciler/cli/commands.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// A week: no single zfs or vmadm command other than a transfer takes that
// long, so a larger --timeout is a typo.
constexpr int kMaxTimeoutSeconds = 7 * 24 * 3600;

void AddHostFlags(CLI::App* cmd, HostFlags* flags) {
  cmd->add_option("--zfs", flags->zfs, "zfs binary (default: zfs on PATH)");
  cmd->add_option("--vmadm", flags->vmadm, "vmadm binary (default: vmadm on PATH)");
  cmd->add_option("--dialect", flags->dialect,
                  "zfs CLI dialect: auto (detect), illumos (SmartOS), legacy (zfs-fuse)")
      ->check(CLI::IsMember({"auto", "illumos", "legacy"}));
  cmd->add_option("--timeout", flags->timeout_seconds,
                  "seconds any zfs or vmadm command may take, except zfs send and receive "
                  "(0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, kMaxTimeoutSeconds));
}

// apply and restore: the transfers' equivalent of --timeout.
void AddStallFlag(CLI::App* cmd, HostFlags* flags) {
  cmd->add_option("--stall-timeout", flags->stall_seconds,
                  "seconds a zfs send or receive, or a request to an ssh or S3 destination, may "
                  "go without moving any data before it is stopped (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0, kMaxTimeoutSeconds));
}

// Only runs that change the host take the lock (lock.h).
void AddLockFlag(CLI::App* cmd, HostLockFlags* flags, int argc, char** argv) {
  cmd->add_option("--lock-file", flags->file,
                  std::string("one apply or restore per host holds this file (default: "
                              "$ZRECON_LOCK, else ") +
                      kDefaultLockPath + ")");
  flags->command_line = ShellJoin(std::vector<std::string>(argv, argv + argc));
}

// Flags shared by plan and apply. --inventory and --catalog only make sense
// for plan: apply acts on the live host and its real destinations.
void AddPlanningFlags(CLI::App* cmd, PlanningFlags* flags, std::vector<std::string>* catalogs,
                      bool offline_inputs) {
  cmd->add_option("-f,--file", flags->policy, "policy file")->capture_default_str();
  if (offline_inputs) {
    cmd->add_option("--inventory", flags->inventory_dir,
                    "plan against a recorded host (DIR/zfs-list.txt, DIR/vmadm-lookup.json)");
    cmd->add_option("--catalog", *catalogs,
                    "read destination NAME's catalog from DIR instead of its path (NAME=DIR)");
  }
  cmd->add_option("--now", flags->now, "act as of this RFC 3339 time (default: the clock)");
  cmd->add_option("--host", flags->host,
                  "act as host NAME (needed when the policy's host is not this machine's name)");
  AddHostFlags(cmd, &flags->host_flags);
}

// NAME=DIR pairs of --catalog.
bool ParseCatalogPairs(const std::vector<std::string>& pairs,
                       std::map<std::string, std::string>* out) {
  for (const std::string& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size()) {
      std::cerr << "zrecon: --catalog \"" << p << "\": expected DESTINATION=DIR\n";
      return false;
    }
    (*out)[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return true;
}

// Every subcommand's flags, and its CLI11 node once added.
struct Subcommands {
  ValidateFlags validate;
  CLI::App* validate_cmd = nullptr;
  PlanFlags plan;
  std::vector<std::string> plan_catalogs;
  CLI::App* plan_cmd = nullptr;
  ApplyFlags apply;
  std::vector<std::string> apply_catalogs;
  CLI::App* apply_cmd = nullptr;
  RestoreFlags restore;
  CLI::App* restore_cmd = nullptr;
  UnprotectFlags unprotect;
  CLI::App* unprotect_cmd = nullptr;
  InventoryFlags inventory;
  CLI::App* inventory_cmd = nullptr;
  std::string schema_name = "policy";
  CLI::App* schema_cmd = nullptr;
  VerifyFlags verify;
  CLI::App* verify_cmd = nullptr;
  StatusFlags status;
  std::vector<std::string> status_catalogs;
  CLI::App* status_cmd = nullptr;
};

void AddValidate(CLI::App* app, Subcommands* c) {
  c->validate_cmd =
      app->add_subcommand("validate", "Check policy files; report every problem as FILE:LINE:COL");
  c->validate_cmd
      ->add_option("files,-f,--file", c->validate.files, "policy files (also as arguments)")
      ->default_str(kDefaultPolicyPath);
  c->validate_cmd->add_option("--format", c->validate.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
}

void AddPlan(CLI::App* app, Subcommands* c) {
  CLI::App* cmd = c->plan_cmd = app->add_subcommand(
      "plan", "Compare the policy with the host and print the snapshots, sends and prunes due");
  PlanFlags& plan = c->plan;
  AddPlanningFlags(cmd, &plan.planning, &c->plan_catalogs, true);
  cmd->add_flag("--json", plan.json, "print the plan as JSON (schema: zrecon schema plan)");
  cmd->add_option("--out", plan.out, "save the plan as JSON for `zrecon apply FILE`");
  cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode,
                "exit 0 when there are no changes, 2 when there are, 1 on error");
  cmd->add_flag("-v,--verbose", plan.verbose,
                "also list unmatched zones and snapshots kept by protection");
}

void AddApply(CLI::App* app, Subcommands* c, int argc, char** argv) {
  CLI::App* cmd = c->apply_cmd = app->add_subcommand(
      "apply", "Plan and execute (or execute a saved plan): snapshots, exports, prunes");
  ApplyFlags& apply = c->apply;
  AddPlanningFlags(cmd, &apply.planning, &c->apply_catalogs, false);
  cmd->add_option("planfile", apply.plan_file,
                  "a plan saved by `zrecon plan --out`; refused if the host changed since");
  cmd->add_flag("--dry-run", apply.dry_run,
                "run nothing: print every command apply would run, write nothing");
  cmd->add_flag("--allow-destroy", apply.allow_destroy,
                "allow a plan that destroys more snapshots than limits.max_destroy");
  cmd->add_flag("--json", apply.json, "progress as JSON lines");
  cmd->add_flag("-v,--verbose", apply.verbose, "also print the plan's notes");
  cmd->add_option("--metrics-file", apply.metrics_file,
                  "after the run, write Prometheus metrics of it and of the host's protection "
                  "to this file (atomically; for node_exporter's textfile collector)");
  cmd->add_option("--run-log", apply.run_log,
                  "append one JSON line describing the run (outcome, per zone) to this file");
  AddStallFlag(cmd, &apply.planning.host_flags);
  AddLockFlag(cmd, &apply.lock, argc, argv);
}

// --from, or --destination with the policy it is declared in.
void AddSourceFlags(CLI::App* cmd, SourceFlags* source) {
  CLI::Option* from = cmd->add_option(
      "--from", source->from,
      "the destination: a path (or one host's directory in it), ssh://[user@]host[:port]/path, or "
      "s3://bucket[/prefix] (the store at $AWS_ENDPOINT_URL)");
  CLI::Option* named = cmd->add_option("--destination", source->destination,
                                       "the destination of this name in the policy (-f)");
  cmd->add_option("-f,--file", source->policy, "policy file, for --destination")
      ->default_str(kDefaultPolicyPath);
  from->excludes(named);
}

void AddRestore(CLI::App* app, Subcommands* c, int argc, char** argv) {
  CLI::App* cmd = c->restore_cmd = app->add_subcommand(
      "restore", "Recover a zone from export files (each verified as it is received)");
  RestoreFlags& restore = c->restore;
  AddSourceFlags(cmd, &restore.source);
  cmd->add_option("--zone", restore.zone, "zone uuid or alias")->required();
  cmd->add_option("--host", restore.host, "whose exports, when --from holds several hosts");
  cmd->add_option("--at", restore.at, "exported snapshot to restore to (default: newest)");
  cmd->add_option("--pool", restore.pool,
                  "pool to restore into (default: the one it was exported from)");
  cmd->add_flag("--dry-run", restore.dry_run, "plan and verify only; change nothing");
  cmd->add_flag("--start", restore.start, "start the zone when restored");
  cmd->add_flag("--verify-first", restore.verify_first,
                "read and check every file before anything is written to the pool "
                "(two passes; by default each file is checked as it is received)");
  cmd->add_flag("--no-space-check", restore.no_space_check,
                "do not refuse when the streams and fresh volumes may not fit the pool");
  // The sandbox's hosts keep theirs elsewhere (tools/sandbox-env.sh).
  if (const char* db = std::getenv("ZRECON_IMGADM_DB")) restore.imgadm_db = db;
  cmd->add_option("--imgadm-db", restore.imgadm_db,
                  "imgadm's database directory, where a restored image is registered "
                  "(default: $ZRECON_IMGADM_DB or /var/imgadm)")
      ->capture_default_str();
  cmd->add_flag("--force", restore.force,
                "replace the zone if it exists (the plan says exactly what goes)");
  AddHostFlags(cmd, &restore.host_flags);
  AddStallFlag(cmd, &restore.host_flags);
  AddLockFlag(cmd, &restore.lock, argc, argv);
}

void AddUnprotect(CLI::App* app, Subcommands* c, int argc, char** argv) {
  CLI::App* cmd = c->unprotect_cmd = app->add_subcommand(
      "unprotect",
      "Release zrecon's holds (and marks) on a zone's snapshots, so that vmadm delete, "
      "reprovision and rollback-snapshot work");
  UnprotectFlags& unprotect = c->unprotect;
  cmd->add_option("zones", unprotect.zones, "zone uuids or aliases")->required();
  cmd->add_option("-f,--file", unprotect.policy, "policy file (its naming template)")
      ->capture_default_str();
  cmd->add_flag("--dry-run", unprotect.dry_run, "print what would be released");
  AddHostFlags(cmd, &unprotect.host_flags);
  AddLockFlag(cmd, &unprotect.lock, argc, argv);
}

void AddReaders(CLI::App* app, Subcommands* c) {
  c->inventory_cmd = app->add_subcommand("inventory", "Read the host's zfs and vmadm listings");
  c->inventory_cmd->add_option("--save", c->inventory.save_dir,
                               "write DIR/zfs-list.txt (illumos format) and DIR/vmadm-lookup.json");
  AddHostFlags(c->inventory_cmd, &c->inventory.host_flags);

  c->schema_cmd = app->add_subcommand("schema", "Print a JSON Schema");
  c->schema_cmd->add_option("name", c->schema_name, "policy (default), plan or manifest")
      ->check(CLI::IsMember({"policy", "plan", "manifest"}));

  CLI::App* cmd = c->verify_cmd = app->add_subcommand(
      "verify", "Check exported files against their manifests: sizes, SHA-256, complete chains");
  VerifyFlags& verify = c->verify;
  AddSourceFlags(cmd, &verify.source);
  cmd->add_option("--host", verify.host, "only this host's directory");
  cmd->add_option("--zone", verify.zones, "only this zone, by uuid or alias (repeatable)");
  cmd->add_flag("--json", verify.json, "print one JSON document (README: Verifying exports)");
}

void AddStatus(CLI::App* app, Subcommands* c) {
  CLI::App* cmd = c->status_cmd = app->add_subcommand(
      "status",
      "How fresh each protected zone's snapshots and exports are; exits as a Nagios check "
      "(0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)");
  StatusFlags& status = c->status;
  AddPlanningFlags(cmd, &status.planning, &c->status_catalogs, true);
  cmd->add_option("--warn", status.warn,
                  "WARNING when the newest snapshot or export of a class is older than this "
                  "many of its periods")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--crit", status.crit, "CRITICAL beyond this many periods")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", status.json, "print one JSON document");
  cmd->add_option("--metrics-file", status.metrics_file,
                  "also write the levels and ages as Prometheus metrics to this file "
                  "(atomically; use another file than apply's)");
}

// CLI11 reports a mistyped subcommand as "a subcommand is required"; this
// names what was typed and what it was probably meant to be. Returns the
// exit code, or -1 to go on parsing.
int CheckCommandWord(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  if (argc < 2) {
    std::cerr << app.help() << "\nzrecon: a command is required\n";
    return kExitUsage;
  }
  std::string first = argv[1];
  if (first != "-h" && first != "--help" && first != "--version" && !first.empty() &&
      first[0] == '-') {
    std::cerr << "zrecon: unknown option \"" << Printable(first)
              << "\" (options go after the command; see zrecon --help)\n";
    return kExitUsage;
  }
  if (!first.empty() && first[0] != '-' &&
      std::find(commands.begin(), commands.end(), first) == commands.end()) {
    std::string hint = ClosestMatch(first, commands);
    std::cerr << "zrecon: unknown command \"" << Printable(first) << "\""
              << (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)")
              << "; commands: " << Join(commands, ", ") << "\n";
    return kExitUsage;
  }
  return -1;
}

// verify and restore read from exactly one of --from and --destination.
bool SourceGiven(const char* command, const SourceFlags& source) {
  if (!source.from.empty() || !source.destination.empty()) return true;
  std::cerr << "zrecon " << command
            << ": say where to read from: --from PATH, --from ssh://[user@]host[:port]/path, or "
               "--destination NAME (of the policy -f)\n";
  return false;
}

int RunParsed(Subcommands& c) {
  if (c.validate_cmd->parsed()) {
    if (c.validate.files.empty()) c.validate.files.push_back(kDefaultPolicyPath);
    return RunValidate(c.validate);
  }
  if (c.plan_cmd->parsed()) {
    if (!ParseCatalogPairs(c.plan_catalogs, &c.plan.planning.catalog_paths)) return kExitUsage;
    return RunPlan(c.plan);
  }
  // The commands that change the host stop cleanly on Ctrl-C/SIGTERM.
  if (c.apply_cmd->parsed()) {
    c.apply.planning.host_flags.interrupt = CatchInterrupts();
    return ExitCodeFor(RunApply(c.apply));
  }
  if (c.unprotect_cmd->parsed()) {
    c.unprotect.host_flags.interrupt = CatchInterrupts();
    return ExitCodeFor(RunUnprotect(c.unprotect));
  }
  if (c.restore_cmd->parsed()) {
    if (!SourceGiven("restore", c.restore.source)) return kExitUsage;
    c.restore.host_flags.interrupt = CatchInterrupts();
    return ExitCodeFor(RunRestore(c.restore));
  }
  if (c.inventory_cmd->parsed()) return RunInventory(c.inventory);
  if (c.schema_cmd->parsed()) return RunSchema(c.schema_name);
  if (c.verify_cmd->parsed()) {
    return SourceGiven("verify", c.verify.source) ? RunVerify(c.verify) : kExitUsage;
  }
  if (c.status_cmd->parsed()) {
    if (!ParseCatalogPairs(c.status_catalogs, &c.status.planning.catalog_paths)) return 3;
    return RunStatus(c.status);
  }
  return kExitUsage;
}

int Dispatch(int argc, char** argv) {
  CLI::App app{"zrecon: declarative snapshots, exports and recovery for SmartOS zones"};
  app.name("zrecon");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("zrecon ") + ZRECON_VERSION);
  Subcommands c;
  AddValidate(&app, &c);
  AddPlan(&app, &c);
  AddApply(&app, &c, argc, argv);
  AddRestore(&app, &c, argc, argv);
  AddUnprotect(&app, &c, argc, argv);
  AddReaders(&app, &c);
  AddStatus(&app, &c);
  int early = CheckCommandWord(app, argc, argv);
  if (early >= 0) return early;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return RunParsed(c);
}

}  // namespace

int RunCli(int argc, char** argv) {
  // The library reports errors as values; anything thrown here is a bug or
  // resource exhaustion, and still must not end in an unexplained abort.
  try {
    return Dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "zrecon: internal error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace zrecon
