#include "reconciler/plan/plan_json.h"

#include <nlohmann/json.hpp>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

using Json = nlohmann::ordered_json;

Json EncodeStream(const StreamTarget& t) {
  Json j;
  j["dataset"] = t.dataset;
  j["guid"] = std::to_string(t.guid);
  j["createtxg"] = std::to_string(t.createtxg);
  j["creation"] = t.creation;
  j["from_guid"] = std::to_string(t.from_guid);
  j["chain"] = t.chain_id;
  j["new_chain"] = t.new_chain;
  j["origin"] = t.origin;
  j["origin_guid"] = std::to_string(t.origin_guid);
  j["image_uuid"] = t.image_uuid;
  j["config_file"] = t.config_file;
  return j;
}

Json EncodeAction(const Action& a) {
  Json j;
  j["kind"] = ActionKindName(a.kind);
  j["zone"] = a.zone;
  j["alias"] = a.alias;
  j["reason"] = a.reason;
  j["argv"] = a.argv;
  switch (a.kind) {
    case ActionKind::kSnapshot:
    case ActionKind::kDestroy:
    case ActionKind::kHold:
    case ActionKind::kRelease:
      j["snapshots"] = a.snapshots;
      break;
    case ActionKind::kMarkTip:
      j["snapshots"] = a.snapshots;
      j["value"] = a.property_value;
      break;
    case ActionKind::kSend:
    case ActionKind::kSaveImage:
    case ActionKind::kSaveImageRecord:
      j["destination"] = a.destination;
      j["file"] = a.file;
      j["snapshot"] = a.snapshot;
      j["from"] = a.from.empty() ? Json(nullptr) : Json(a.from);
      j["stream"] = EncodeStream(a.stream);
      break;
    case ActionKind::kSaveConfig:
      j["destination"] = a.destination;
      j["file"] = a.file;
      break;
    case ActionKind::kRemoveExport:
      j["destination"] = a.destination;
      j["chain"] = a.chain_id;
      j["files"] = a.files;
      break;
    case ActionKind::kRemoveLoose:
      j["destination"] = a.destination;
      j["files"] = a.files;
      break;
    case ActionKind::kHook:
      j["hook"] = a.hook;
      j["timeout_seconds"] = a.timeout_seconds;
      break;
  }
  return j;
}

// Strict reader: every accessor checks presence and type and records the
// JSON path of the first problem.
class Reader {
 public:
  explicit Reader(std::string* error) : error_(error) {}
  bool ok() const { return error_->empty(); }

  void Fail(const std::string& path, const std::string& what) {
    if (ok()) *error_ = path + ": " + what;
  }

  const Json* Get(const Json& obj, const std::string& path, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      Fail(path, std::string("missing key \"") + key + "\"");
      return nullptr;
    }
    return &*it;
  }

  std::string String(const Json& obj, const std::string& path, const char* key) {
    const Json* v = Get(obj, path, key);
    if (v == nullptr) return "";
    if (!v->is_string()) {
      Fail(path + "." + key, "expected a string");
      return "";
    }
    return v->get<std::string>();
  }

  // A string or null ("" for null).
  std::string OptString(const Json& obj, const std::string& path, const char* key) {
    const Json* v = Get(obj, path, key);
    if (v == nullptr || v->is_null()) return "";
    if (!v->is_string()) {
      Fail(path + "." + key, "expected a string or null");
      return "";
    }
    return v->get<std::string>();
  }

  uint64_t Decimal(const Json& obj, const std::string& path, const char* key) {
    std::string s = String(obj, path, key);
    uint64_t n = 0;
    if (ok() && !ParseUint64(s, &n)) {
      Fail(path + "." + key, "expected a decimal string, got \"" + Printable(s) + "\"");
    }
    return n;
  }

  int64_t Integer(const Json& obj, const std::string& path, const char* key) {
    const Json* v = Get(obj, path, key);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) {
      Fail(path + "." + key, "expected an integer");
      return 0;
    }
    return v->get<int64_t>();
  }

  bool Bool(const Json& obj, const std::string& path, const char* key) {
    const Json* v = Get(obj, path, key);
    if (v == nullptr) return false;
    if (!v->is_boolean()) {
      Fail(path + "." + key, "expected true or false");
      return false;
    }
    return v->get<bool>();
  }

  std::vector<std::string> Strings(const Json& obj, const std::string& path, const char* key) {
    std::vector<std::string> out;
    const Json* v = Get(obj, path, key);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      Fail(path + "." + key, "expected a list of strings");
      return out;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        Fail(path + "." + key + "[" + std::to_string(i) + "]", "expected a string");
        return out;
      }
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }

 private:
  std::string* error_;
};

void DecodeStream(Reader& r, const Json& j, const std::string& path, StreamTarget* t) {
  if (!j.is_object()) return r.Fail(path, "expected an object");
  t->dataset = r.String(j, path, "dataset");
  t->guid = r.Decimal(j, path, "guid");
  t->createtxg = r.Decimal(j, path, "createtxg");
  t->creation = r.Integer(j, path, "creation");
  t->from_guid = r.Decimal(j, path, "from_guid");
  t->chain_id = r.String(j, path, "chain");
  t->new_chain = r.Bool(j, path, "new_chain");
  t->origin = r.String(j, path, "origin");
  t->origin_guid = r.Decimal(j, path, "origin_guid");
  t->image_uuid = r.String(j, path, "image_uuid");
  t->config_file = r.String(j, path, "config_file");
}

void DecodeAction(Reader& r, const Json& j, const std::string& path, Action* a) {
  if (!j.is_object()) return r.Fail(path, "expected an object");
  std::string kind = r.String(j, path, "kind");
  if (r.ok() && !ParseActionKind(kind, &a->kind)) {
    return r.Fail(path + ".kind", "unknown action kind \"" + Printable(kind) + "\"");
  }
  a->zone = r.String(j, path, "zone");
  a->alias = r.String(j, path, "alias");
  a->reason = r.String(j, path, "reason");
  a->argv = r.Strings(j, path, "argv");
  const bool runs_command =
      a->kind != ActionKind::kRemoveExport && a->kind != ActionKind::kRemoveLoose;
  if (r.ok() && a->argv.empty() && runs_command) {
    return r.Fail(path + ".argv", "must not be empty");
  }
  if (r.ok() && !a->argv.empty() && !runs_command) {
    return r.Fail(path + ".argv", "must be empty: " + kind + " runs no command");
  }
  switch (a->kind) {
    case ActionKind::kSnapshot:
    case ActionKind::kDestroy:
    case ActionKind::kHold:
    case ActionKind::kRelease:
      a->snapshots = r.Strings(j, path, "snapshots");
      break;
    case ActionKind::kMarkTip:
      a->snapshots = r.Strings(j, path, "snapshots");
      a->property_value = r.String(j, path, "value");
      break;
    case ActionKind::kSend:
    case ActionKind::kSaveImage:
    case ActionKind::kSaveImageRecord:
      a->destination = r.String(j, path, "destination");
      a->file = r.String(j, path, "file");
      a->snapshot = r.String(j, path, "snapshot");
      a->from = r.OptString(j, path, "from");
      if (const Json* s = r.Get(j, path, "stream"))
        DecodeStream(r, *s, path + ".stream", &a->stream);
      break;
    case ActionKind::kSaveConfig:
      a->destination = r.String(j, path, "destination");
      a->file = r.String(j, path, "file");
      break;
    case ActionKind::kRemoveExport:
      a->destination = r.String(j, path, "destination");
      a->chain_id = r.String(j, path, "chain");
      a->files = r.Strings(j, path, "files");
      break;
    case ActionKind::kRemoveLoose:
      a->destination = r.String(j, path, "destination");
      a->files = r.Strings(j, path, "files");
      if (r.ok() && a->files.empty()) r.Fail(path + ".files", "must not be empty");
      break;
    case ActionKind::kHook: {
      a->hook = r.String(j, path, "hook");
      int64_t timeout = r.Integer(j, path, "timeout_seconds");
      if (r.ok() && a->hook != "pre_snapshot" && a->hook != "post_snapshot") {
        r.Fail(path + ".hook", "expected \"pre_snapshot\" or \"post_snapshot\"");
      }
      if (r.ok() && (timeout < 1 || timeout > 3600)) {
        r.Fail(path + ".timeout_seconds", "expected 1 to 3600");
      }
      a->timeout_seconds = static_cast<int>(timeout);
      break;
    }
  }
  if (r.ok() &&
      (a->kind == ActionKind::kSnapshot || a->kind == ActionKind::kDestroy ||
       a->kind == ActionKind::kHold || a->kind == ActionKind::kRelease ||
       a->kind == ActionKind::kMarkTip) &&
      a->snapshots.empty()) {
    r.Fail(path + ".snapshots", "must not be empty");
  }
}

}  // namespace

std::string EncodePlanJson(const Plan& plan) {
  Json j;
  j["format_version"] = std::to_string(plan.format_major) + "." + std::to_string(plan.format_minor);
  j["zrecon_version"] = plan.zrecon_version;
  j["now"] = FormatRfc3339(plan.now);
  j["host"] = plan.host;
  j["dialect"] = ZfsDialectName(plan.dialect);
  j["zfs"] = plan.zfs;
  j["vmadm"] = plan.vmadm;
  j["fingerprint"] = plan.fingerprint;
  j["max_destroy"] = plan.max_destroy;
  j["warnings"] = plan.warnings;
  j["notes"] = plan.notes;
  Json destinations = Json::object();
  for (const auto& [name, d] : plan.destinations) {
    destinations[name] = {{"type", d.type}, {"path", d.path}, {"compression", d.compression}};
    if (d.type == "ssh") {
      Json& e = destinations[name];
      e["host"] = d.ssh.host;
      if (d.ssh.port != 0) e["port"] = d.ssh.port;
      if (!d.ssh.user.empty()) e["user"] = d.ssh.user;
      if (!d.ssh.identity.empty()) e["identity"] = d.ssh.identity;
      if (!d.ssh.known_hosts.empty()) e["known_hosts"] = d.ssh.known_hosts;
    }
    if (d.type == "s3") {
      Json& e = destinations[name];
      e["endpoint"] = d.s3.endpoint;
      e["region"] = d.s3.region;
      e["bucket"] = d.s3.bucket;
      e["prefix"] = d.s3.prefix;
      e["path_style"] = d.s3.path_style;
      if (!d.s3.ca_bundle.empty()) e["ca_bundle"] = d.s3.ca_bundle;
      if (!d.s3.credentials_file.empty()) e["credentials_file"] = d.s3.credentials_file;
      e["profile"] = d.s3.profile;
    }
  }
  j["destinations"] = std::move(destinations);
  Json zones = Json::object();
  for (const auto& [uuid, z] : plan.zones) {
    zones[uuid] = {{"alias", z.alias}, {"brand", z.brand}, {"image_uuid", z.image_uuid}};
  }
  j["zones"] = std::move(zones);
  Json actions = Json::array();
  for (const Action& a : plan.actions) actions.push_back(EncodeAction(a));
  j["actions"] = std::move(actions);
  PlanSummary s = plan.Summary();
  j["summary"] = {{"snapshot", s.snapshots},       {"send", s.sends},
                  {"save_image", s.images},        {"save_image_record", s.image_records},
                  {"save_config", s.configs},      {"tip_change", s.tip_changes},
                  {"destroy", s.destroys},         {"remove_export", s.removed_chains},
                  {"remove_loose", s.loose_files}, {"text", s.ToString()}};
  // Invalid UTF-8 in a name must not make encoding throw; replace it.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

namespace {

Status DecodeVersion(Reader& r, const Json& j, const std::string& error, Plan* p) {
  std::string version = r.String(j, "$", "format_version");
  if (!r.ok()) return Status::Error(error);
  size_t dot = version.find('.');
  int64_t major = 0, minor = 0;
  if (dot == std::string::npos || !ParseInt64(version.substr(0, dot), &major) ||
      !ParseInt64(version.substr(dot + 1), &minor)) {
    return Status::Error("$.format_version: expected \"MAJOR.MINOR\", got \"" + Printable(version) +
                         "\"");
  }
  if (major != kPlanFormatMajor) {
    return Status::Error("$.format_version: plan format " + version +
                         " is not supported by this zrecon (it reads " +
                         std::to_string(kPlanFormatMajor) + ".x)");
  }
  p->format_major = static_cast<int>(major);
  p->format_minor = static_cast<int>(minor);
  return Status::Ok();
}

void DecodeHeader(Reader& r, const Json& j, Plan* p) {
  p->zrecon_version = r.String(j, "$", "zrecon_version");
  std::string now = r.String(j, "$", "now");
  if (r.ok() && !ParseRfc3339(now, &p->now)) r.Fail("$.now", "expected an RFC 3339 time");
  p->host = r.String(j, "$", "host");
  std::string dialect = r.String(j, "$", "dialect");
  if (r.ok() && !ParseZfsDialect(dialect, &p->dialect)) {
    r.Fail("$.dialect", "expected \"illumos\" or \"legacy\"");
  }
  p->zfs = r.String(j, "$", "zfs");
  p->vmadm = r.String(j, "$", "vmadm");
  p->fingerprint = r.String(j, "$", "fingerprint");
  int64_t max_destroy = r.Integer(j, "$", "max_destroy");
  if (r.ok() && (max_destroy < 0 || max_destroy > 10000000)) {
    r.Fail("$.max_destroy", "out of range");
  }
  p->max_destroy = static_cast<int>(max_destroy);
  p->warnings = r.Strings(j, "$", "warnings");
  p->notes = r.Strings(j, "$", "notes");
}

void DecodeSshLocation(Reader& r, const Json& j, const std::string& path, PlanDestination* d) {
  d->ssh.path = d->path;
  d->ssh.host = r.String(j, path, "host");
  auto optional = [&](const char* key, std::string* out) {
    if (r.ok() && j.contains(key)) *out = r.String(j, path, key);
  };
  optional("user", &d->ssh.user);
  optional("identity", &d->ssh.identity);
  optional("known_hosts", &d->ssh.known_hosts);
  if (r.ok() && j.contains("port")) {
    int64_t port = r.Integer(j, path, "port");
    if (r.ok() && (port < 1 || port > 65535)) r.Fail(path + ".port", "out of range");
    d->ssh.port = static_cast<int>(port);
  }
  if (!r.ok()) return;
  Status st = CheckSshLocation(d->ssh);
  if (!st.ok()) r.Fail(path, st.message());
}

void DecodeS3Location(Reader& r, const Json& j, const std::string& path, PlanDestination* d) {
  d->s3.endpoint = r.String(j, path, "endpoint");
  d->s3.region = r.String(j, path, "region");
  d->s3.bucket = r.String(j, path, "bucket");
  d->s3.prefix = r.String(j, path, "prefix");
  d->s3.profile = r.String(j, path, "profile");
  if (r.ok() && j.contains("ca_bundle")) d->s3.ca_bundle = r.String(j, path, "ca_bundle");
  if (r.ok() && j.contains("credentials_file")) {
    d->s3.credentials_file = r.String(j, path, "credentials_file");
  }
  if (r.ok()) {
    const Json* style = r.Get(j, path, "path_style");
    if (style != nullptr && !style->is_boolean())
      r.Fail(path + ".path_style", "expected a boolean");
    if (style != nullptr && style->is_boolean()) d->s3.path_style = style->get<bool>();
  }
  if (!r.ok()) return;
  Status st = CheckS3Location(d->s3);
  if (!st.ok()) r.Fail(path, st.message());
}

void DecodeDestinations(Reader& r, const Json& j, Plan* p) {
  const Json* dests = r.Get(j, "$", "destinations");
  if (dests == nullptr) return;
  if (!dests->is_object()) r.Fail("$.destinations", "expected an object");
  for (auto it = dests->begin(); r.ok() && it != dests->end(); ++it) {
    std::string path = "$.destinations." + it.key();
    if (!it->is_object()) {
      r.Fail(path, "expected an object");
      break;
    }
    PlanDestination d;
    d.type = r.String(*it, path, "type");
    d.path = r.String(*it, path, "path");
    d.compression = r.String(*it, path, "compression");
    if (r.ok() && d.type != "directory" && d.type != "ssh" && d.type != "s3") {
      r.Fail(path + ".type", "expected \"directory\", \"ssh\" or \"s3\"");
    }
    if (r.ok() && d.type == "ssh") DecodeSshLocation(r, *it, path, &d);
    if (r.ok() && d.type == "s3") DecodeS3Location(r, *it, path, &d);
    if (r.ok() && d.type != "s3" && (d.path.empty() || d.path[0] != '/')) {
      r.Fail(path + ".path", "expected an absolute path");
    }
    if (r.ok() && d.compression != "none" && d.compression != "zstd") {
      r.Fail(path + ".compression", "expected \"none\" or \"zstd\"");
    }
    p->destinations[it.key()] = d;
  }
}

void DecodeZones(Reader& r, const Json& j, Plan* p) {
  const Json* zones = r.Get(j, "$", "zones");
  if (zones == nullptr) return;
  if (!zones->is_object()) r.Fail("$.zones", "expected an object");
  for (auto it = zones->begin(); r.ok() && it != zones->end(); ++it) {
    std::string path = "$.zones." + it.key();
    if (!it->is_object()) {
      r.Fail(path, "expected an object");
      break;
    }
    p->zones[it.key()] = PlanZone{r.String(*it, path, "alias"), r.String(*it, path, "brand"),
                                  r.String(*it, path, "image_uuid")};
  }
}

void DecodeActions(Reader& r, const Json& j, Plan* p) {
  const Json* actions = r.Get(j, "$", "actions");
  if (actions != nullptr && !actions->is_array()) r.Fail("$.actions", "expected a list");
  if (!r.ok()) return;
  for (size_t i = 0; i < actions->size() && r.ok(); ++i) {
    Action a;
    DecodeAction(r, (*actions)[i], "$.actions[" + std::to_string(i) + "]", &a);
    p->actions.push_back(std::move(a));
  }
}

// A plan file is input from disk: every destination it names must be
// declared and every file must stay inside the destination.
void CheckActionTargets(Reader& r, const Plan& p) {
  for (size_t i = 0; r.ok() && i < p.actions.size(); ++i) {
    const Action& a = p.actions[i];
    std::string path = "$.actions[" + std::to_string(i) + "]";
    const bool removes = a.kind == ActionKind::kRemoveExport || a.kind == ActionKind::kRemoveLoose;
    bool has_destination = a.kind == ActionKind::kSend || a.kind == ActionKind::kSaveImage ||
                           a.kind == ActionKind::kSaveImageRecord ||
                           a.kind == ActionKind::kSaveConfig || removes;
    if (has_destination && !p.destinations.count(a.destination)) {
      r.Fail(path + ".destination",
             "\"" + Printable(a.destination) + "\" is not in $.destinations");
    }
    std::vector<std::string> files = a.files;
    if (!a.file.empty() || (has_destination && !removes)) {
      files.push_back(a.file);
    }
    for (const std::string& f : files) {
      if (r.ok() && !IsSafeRelativePath(f)) {
        r.Fail(path, "file \"" + Printable(f) + "\" is not a safe relative path");
      }
    }
  }
}

}  // namespace

Status DecodePlanJson(std::string_view text, Plan* out) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::Error(std::string("not valid JSON: ") + e.what());
  }
  std::string error;
  Reader r(&error);
  if (!j.is_object()) return Status::Error("$: expected a JSON object");
  Plan p;
  Status version = DecodeVersion(r, j, error, &p);
  if (!version.ok()) return version;
  DecodeHeader(r, j, &p);
  DecodeDestinations(r, j, &p);
  DecodeZones(r, j, &p);
  DecodeActions(r, j, &p);
  CheckActionTargets(r, p);
  if (!r.ok()) return Status::Error(error);
  *out = std::move(p);
  return Status::Ok();
}

}  // namespace zrecon
