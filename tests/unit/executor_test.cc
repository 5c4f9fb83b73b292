#include "reconciler/apply/executor.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "reconciler/apply/progress.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/host/recording_host.h"
#include "reconciler/storage/directory_destination.h"
#include "reconciler/util/files.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/sha256.h"
#include "tests/unit/fake_host.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {

namespace {

using Kind = FakeHost::Kind;

const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kRoot = "zones/" + kZone;
const std::string kDaily = kRoot + "@zrecon-daily-20261126T100000Z";

// A destination in memory: files become visible only on Commit, and every
// commit and catalog call is logged, so tests see exactly what apply
// recorded and in which order.
class MemoryDestination : public Destination {
 public:
  class File : public StreamFile {
   public:
    File(MemoryDestination* dest, std::string name) : dest_(dest), name_(std::move(name)) {}
    Status Write(const char* data, size_t size) override {
      data_.append(data, size);
      return Status::Ok();
    }
    Status Commit(StoredFile* stored) override {
      dest_->log.push_back("commit " + name_);
      dest_->files[name_] = data_;
      stored->file = name_;
      stored->size = data_.size();
      stored->sha256 = Sha256::Hex(data_);
      return Status::Ok();
    }
    uint64_t bytes_in() const override { return data_.size(); }
    void ExpectBytes(uint64_t bytes) override {
      dest_->log.push_back("expect " + name_ + " " + std::to_string(bytes));
    }

   private:
    MemoryDestination* dest_;
    std::string name_;
    std::string data_;
  };

  const std::string& name() const override { return name_; }
  const DestinationCatalog& catalog() const override { return catalog_; }
  Status Prepare() override { return Status::Ok(); }
  // A transport that comes back (when `recovers`): the journal works again.
  Status Recover(const Status& failure, const Interrupt*) override {
    log.push_back("recover");
    if (!recovers) return failure;
    journal_error.clear();
    return Status::Ok();
  }
  Status Create(const std::string& file, const std::string& compression,
                std::unique_ptr<StreamFile>* out) override {
    log.push_back("create " + file + " " + compression);
    *out = std::make_unique<File>(this, file);
    return Status::Ok();
  }
  Status JournalFile(const ZoneManifest& zone, const std::string& file) override {
    log.push_back("journal " + zone.uuid + " " + file);
    return journal_error.empty() ? Status::Ok() : Status::Error(journal_error);
  }
  Status RecordImage(const ImageManifest& image) override {
    log.push_back("image " + image.uuid + " guid " + std::to_string(image.guid));
    return Status::Ok();
  }
  Status RecordImageRecord(const std::string& image_uuid, const StoredFile& record,
                           const std::string& imgadm_type) override {
    log.push_back("imgadm record " + image_uuid + " " + record.file + " type " + imgadm_type);
    return Status::Ok();
  }
  Status RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) override {
    log.push_back("config " + zone.uuid + " " + zone.alias + " " + config.stored.file);
    return Status::Ok();
  }
  Status RecordLink(const ZoneManifest& zone, const Chain& chain, const ChainLink& link) override {
    links.push_back(link);
    log.push_back("link " + zone.uuid + " " + chain.id + " " + link.snapshot + " from " +
                  link.from + " guid " + std::to_string(link.guid) + " txg " +
                  std::to_string(link.createtxg) + " config " + link.config);
    return Status::Ok();
  }
  Status RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                     const std::vector<std::string>& removed) override {
    log.push_back("remove " + zone_uuid + " " + chain_id + " " + std::to_string(removed.size()));
    return Status::Ok();
  }
  Status RemoveLooseFiles(const std::string& zone_uuid,
                          const std::vector<std::string>& removed) override {
    log.push_back("remove loose " + zone_uuid + " " + Join(removed, ","));
    return Status::Ok();
  }

  std::map<std::string, std::string> files;
  std::vector<std::string> log;
  std::vector<ChainLink> links;
  std::string journal_error;  // JournalFile fails with it when set
  bool recovers = false;      // Recover clears journal_error

 private:
  std::string name_ = "usb";
  DestinationCatalog catalog_;
};

// Passes everything to a directory destination, and at each commit reads
// the zone manifest from disk: is the file being linked into place listed
// in loose_files at that moment?
class ProbeDestination : public Destination {
 public:
  class File : public StreamFile {
   public:
    File(ProbeDestination* probe, std::string name, std::unique_ptr<StreamFile> inner)
        : probe_(probe), name_(std::move(name)), inner_(std::move(inner)) {}
    Status Write(const char* data, size_t size) override { return inner_->Write(data, size); }
    int BeginDirect(std::function<void(uint64_t)> progress) override {
      return inner_->BeginDirect(std::move(progress));
    }
    Status Commit(StoredFile* stored) override {
      probe_->commits.push_back(name_ + (probe_->ListedOnDisk(name_) ? " listed" : " not listed"));
      return inner_->Commit(stored);
    }
    uint64_t bytes_in() const override { return inner_->bytes_in(); }

   private:
    ProbeDestination* probe_;
    std::string name_;
    std::unique_ptr<StreamFile> inner_;
  };

  ProbeDestination(Destination* inner, std::string host_dir)
      : inner_(inner), host_dir_(std::move(host_dir)) {}

  const std::string& name() const override { return inner_->name(); }
  const DestinationCatalog& catalog() const override { return inner_->catalog(); }
  Status Prepare() override { return inner_->Prepare(); }
  Status Create(const std::string& file, const std::string& compression,
                std::unique_ptr<StreamFile>* out) override {
    std::unique_ptr<StreamFile> inner;
    Status st = inner_->Create(file, compression, &inner);
    if (st.ok()) *out = std::make_unique<File>(this, file, std::move(inner));
    return st;
  }
  Status JournalFile(const ZoneManifest& zone, const std::string& file) override {
    return inner_->JournalFile(zone, file);
  }
  Status RecordImage(const ImageManifest& image) override { return inner_->RecordImage(image); }
  Status RecordImageRecord(const std::string& image_uuid, const StoredFile& record,
                           const std::string& imgadm_type) override {
    return inner_->RecordImageRecord(image_uuid, record, imgadm_type);
  }
  Status RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) override {
    return inner_->RecordConfig(zone, config);
  }
  Status RecordLink(const ZoneManifest& zone, const Chain& chain, const ChainLink& link) override {
    return inner_->RecordLink(zone, chain, link);
  }
  Status RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                     const std::vector<std::string>& files) override {
    return inner_->RemoveChain(zone_uuid, chain_id, files);
  }
  Status RemoveLooseFiles(const std::string& zone_uuid,
                          const std::vector<std::string>& files) override {
    return inner_->RemoveLooseFiles(zone_uuid, files);
  }

  // The zone manifest on disk, as a reader would find it.
  ZoneManifest OnDisk(const std::string& zone_uuid) const {
    std::string text;
    ZoneManifest m;
    Status st = ReadFile(host_dir_ + "/" + zone_uuid + "/manifest.json", &text);
    if (st.ok()) st = DecodeZoneManifest(text, &m);
    REQUIRE_MESSAGE(st.ok(), st.message());
    return m;
  }

  std::vector<std::string> commits;  // "<file> listed" or "<file> not listed"

 private:
  bool ListedOnDisk(const std::string& file) const {
    return OnDisk(file.substr(0, file.find('/'))).loose_files.count(file) == 1;
  }

  Destination* inner_;
  std::string host_dir_;
};

Action Command(ActionKind kind, Argv argv, std::vector<std::string> snapshots) {
  Action a;
  a.kind = kind;
  a.zone = kZone;
  a.argv = std::move(argv);
  a.snapshots = std::move(snapshots);
  return a;
}

// snapshot, config, send (of the new snapshot), hold, mark, destroy, remove.
Plan SamplePlan() {
  Plan p;
  p.host = "demo01";
  p.destinations["usb"] = PlanDestination{"directory", "/mnt/usb", "none", {}, {}};
  p.zones[kZone] = PlanZone{"web01", "joyent", "img"};
  p.actions.push_back(Command(ActionKind::kSnapshot, {"zfs", "snapshot", kDaily}, {kDaily}));
  Action cfg;
  cfg.kind = ActionKind::kSaveConfig;
  cfg.zone = kZone;
  cfg.argv = {"vmadm", "get", kZone};
  cfg.destination = "usb";
  cfg.file = kZone + "/config/20261126T100000Z.json";
  p.actions.push_back(cfg);
  Action send;
  send.kind = ActionKind::kSend;
  send.zone = kZone;
  send.snapshot = kDaily;
  send.from = "zones/img@final";
  send.argv = {"zfs", "send", "-i", send.from, kDaily};
  send.destination = "usb";
  send.file = kZone + "/root/20261126T100000Z/0001-zrecon-daily-20261126T100000Z.zfs";
  send.stream.dataset = kRoot;
  send.stream.from_guid = 77;
  send.stream.chain_id = "root/20261126T100000Z";
  send.stream.new_chain = true;
  send.stream.origin = "zones/img@final";
  send.stream.origin_guid = 77;
  send.stream.config_file = cfg.file;
  p.actions.push_back(send);
  p.actions.push_back(Command(ActionKind::kHold, {"zfs", "hold", "zrecon", kDaily}, {kDaily}));
  p.actions.push_back(
      Command(ActionKind::kMarkTip, {"zfs", "set", "zrecon:exported=usb", kDaily}, {kDaily}));
  p.actions.push_back(Command(ActionKind::kDestroy,
                              {"zfs", "destroy", kRoot + "@zrecon-hourly-20261125T000000Z"},
                              {kRoot + "@zrecon-hourly-20261125T000000Z"}));
  Action remove;
  remove.kind = ActionKind::kRemoveExport;
  remove.zone = kZone;
  remove.destination = "usb";
  remove.chain_id = "root/20261001T000000Z";
  remove.files = {kZone + "/root/20261001T000000Z/0001-x.zfs"};
  p.actions.push_back(remove);
  return p;
}

const Argv kLookup = {
    "zfs", "get", "-H", "-p", "-o", "name,property,value", "guid,createtxg,creation", kDaily};
const Argv kEstimate = {"zfs", "send", "-nP", "-i", "zones/img@final", kDaily};

void AnswerHappyPath(FakeHost* host) {
  host->Answer(kLookup,
               FakeHost::Output(kDaily + "\tguid\t123456789\n" + kDaily + "\tcreatetxg\t4242\n" +
                                kDaily + "\tcreation\t1795687200\n"));
  host->Answer(kEstimate,
               FakeHost::Output("incremental\tfinal\t" + kDaily + "\t100000\nsize\t100000\n"));
  host->Answer({"vmadm", "get", kZone}, FakeHost::Streamed("{\"uuid\": \"" + kZone + "\"}\n"));
  host->Answer({"zfs", "send", "-i", "zones/img@final", kDaily},
               FakeHost::Streamed(std::string(100000, 'z')));
}

struct Recorder : ApplyObserver {
  void ActionStarted(const Plan&, size_t index) override {
    events.push_back("start " + std::to_string(index));
  }
  void ActionProgress(const Plan&, size_t index, uint64_t bytes, uint64_t expected) override {
    progress.push_back({index, bytes, expected});
  }
  void ActionFinished(const Plan&, size_t index, const ActionResult& r) override {
    events.push_back("finish " + std::to_string(index) + " " + OutcomeName(r.outcome));
  }
  struct Progress {
    size_t index;
    uint64_t bytes;
    uint64_t expected;
  };
  std::vector<std::string> events;
  std::vector<Progress> progress;
};

// SamplePlan with what a real destination's manifests require.
Plan SamplePlanForDisk(const std::string& compression) {
  Plan plan = SamplePlan();
  plan.destinations["usb"].compression = compression;
  plan.zones[kZone].image_uuid = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
  return plan;
}

// Files below `dir`, relative to it.
std::set<std::string> FilesBelow(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_directory()) out.insert(e.path().lexically_relative(dir).string());
  }
  return out;
}

ExecutorOptions FixedClock() {
  ExecutorOptions o;
  o.clock = [] { return EpochSeconds{1795690000}; };
  o.monotonic = [] { return 0.0; };
  return o;
}

}  // namespace

TEST_CASE("executor: runs every action in order and records exports after commit") {
  Plan plan = SamplePlan();
  FakeHost host;
  AnswerHappyPath(&host);
  MemoryDestination usb;
  Recorder observer;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, &observer, FixedClock());
  REQUIRE(report.ok());
  CHECK(report.Count(Outcome::kDone) == plan.actions.size());
  CHECK(host.CommandLines() ==
        std::vector<std::string>{"zfs snapshot " + kDaily, "vmadm get " + kZone, ShellJoin(kLookup),
                                 ShellJoin(kEstimate), "zfs send -i zones/img@final " + kDaily,
                                 "zfs hold zrecon " + kDaily,
                                 "zfs set zrecon:exported=usb " + kDaily,
                                 "zfs destroy " + kRoot + "@zrecon-hourly-20261125T000000Z"});
  CHECK(usb.log ==
        std::vector<std::string>{
            "create " + plan.actions[1].file + " none",
            "journal " + kZone + " " + plan.actions[1].file, "commit " + plan.actions[1].file,
            "config " + kZone + " web01 " + plan.actions[1].file,
            "create " + plan.actions[2].file + " none",
            // zfs send -nP's estimate, before the first byte (S3 sizes its
            // parts from it).
            "expect " + plan.actions[2].file + " 100000",
            "journal " + kZone + " " + plan.actions[2].file, "commit " + plan.actions[2].file,
            "link " + kZone +
                " root/20261126T100000Z zrecon-daily-20261126T100000Z from "
                "zones/img@final guid 123456789 txg 4242 config " +
                plan.actions[1].file,
            "remove " + kZone + " root/20261001T000000Z 1"});
  CHECK(usb.files[plan.actions[2].file] == std::string(100000, 'z'));
  REQUIRE(usb.links.size() == 1);
  CHECK(usb.links[0].creation == 1795687200);
  CHECK(usb.links[0].written == "2026-11-26T10:46:40Z");
  CHECK(usb.links[0].stream.sha256 == Sha256::Hex(std::string(100000, 'z')));
  CHECK(observer.events.size() == 2 * plan.actions.size());
  CHECK(report.results[2].bytes == 100000);
}

TEST_CASE("executor: remove_loose goes to its destination and runs no command") {
  Plan plan;
  plan.host = "demo01";
  plan.destinations["usb"] = PlanDestination{"directory", "/mnt/usb", "none", {}, {}};
  Action loose;
  loose.kind = ActionKind::kRemoveLoose;
  loose.zone = kZone;
  loose.destination = "usb";
  loose.files = {kZone + "/config/a.json", kZone + "/root/b.zfs"};
  plan.actions = {loose};
  plan.actions.push_back(SamplePlan().actions[0]);
  FakeHost host;
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  REQUIRE(report.ok());
  CHECK(usb.log == std::vector<std::string>{"remove loose " + kZone + " " + kZone +
                                            "/config/a.json," + kZone + "/root/b.zfs"});
  CHECK(host.CommandLines() == std::vector<std::string>{"zfs snapshot " + kDaily});
  // A destination that is not given fails the action, and its zone stops.
  FakeHost other;
  report = Execute(plan, other, {}, nullptr, FixedClock());
  CHECK(report.results[0].outcome == Outcome::kFailed);
  CHECK(report.results[1].outcome == Outcome::kSkipped);
  CHECK(report.results[1].error == "zone " + kZone + " stopped: action [1] of it did not complete");
  CHECK(report.failed_destinations == std::vector<std::string>{"usb"});
  CHECK(other.calls().empty());
}

TEST_CASE("executor: a stream the destination can take directly is written by the child") {
  for (std::string compression : {"none", "zstd"}) {
    CAPTURE(compression);
    testing::TempDir dir("zrecon-executor");
    Plan plan = SamplePlanForDisk(compression);
    FakeHost host;
    AnswerHappyPath(&host);
    // 40 MiB: two progress reports, at 16 MiB and at least 16 MiB later.
    std::string stream;
    for (int i = 0; stream.size() < (40u << 20); ++i) stream += std::to_string(i) + "\n";
    stream.resize(40u << 20);
    host.Answer(plan.actions[2].argv, FakeHost::Streamed(stream));
    host.SetChunkSize(1 << 20);
    DirectoryDestination usb("usb", dir.path(), plan.host, DestinationCatalog());
    REQUIRE(usb.Prepare().ok());
    Recorder observer;
    ApplyReport report = Execute(plan, host, {{"usb", &usb}}, &observer, FixedClock());
    for (const ActionResult& r : report.results) CHECK_MESSAGE(r.error.empty(), r.error);
    REQUIRE(report.ok());

    // Configs are never compressed, so the config always goes direct.
    const Kind send_kind = compression == "none" ? Kind::kToFile : Kind::kToSink;
    CHECK(host.kinds() == std::vector<Kind>{Kind::kRun, Kind::kToFile, Kind::kRun, Kind::kRun,
                                            send_kind, Kind::kRun, Kind::kRun, Kind::kRun});
    const ChainLink& link = usb.catalog().zones.at(kZone).chains.at(0).links.at(0);
    std::string on_disk;
    REQUIRE(ReadFile(dir / plan.host + "/" + plan.actions[2].file, &on_disk).ok());
    CHECK(link.stream.size == on_disk.size());
    CHECK(link.stream.sha256 == Sha256::Hex(on_disk));
    if (compression == "none") CHECK(on_disk == stream);
    CHECK(report.results[2].bytes == stream.size());
    CHECK(report.results[2].stored == on_disk.size());
    std::string config;
    REQUIRE(ReadFile(dir / plan.host + "/" + plan.actions[1].file, &config).ok());
    CHECK(config == "{\"uuid\": \"" + kZone + "\"}\n");

    REQUIRE(observer.progress.size() == 2);
    for (const Recorder::Progress& p : observer.progress) {
      CHECK(p.index == 2);
      CHECK(p.expected == 100000);
    }
    CHECK(observer.progress[0].bytes >= (16u << 20));
    CHECK(observer.progress[1].bytes >= observer.progress[0].bytes + (16u << 20));
    CHECK(observer.progress[1].bytes <= stream.size());
  }
}

TEST_CASE("executor: a zone's file is journaled on disk before it is linked, unlisted after") {
  for (std::string compression : {"none", "zstd"}) {
    CAPTURE(compression);
    testing::TempDir dir("zrecon-executor");
    Plan plan = SamplePlanForDisk(compression);
    FakeHost host;
    AnswerHappyPath(&host);
    DirectoryDestination disk("usb", dir.path(), plan.host, DestinationCatalog());
    REQUIRE(disk.Prepare().ok());
    ProbeDestination usb(&disk, dir / plan.host);
    ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
    for (const ActionResult& r : report.results) CHECK_MESSAGE(r.error.empty(), r.error);
    REQUIRE(report.ok());
    CHECK(usb.commits == std::vector<std::string>{plan.actions[1].file + " listed",
                                                  plan.actions[2].file + " listed"});
    ZoneManifest after = usb.OnDisk(kZone);
    CHECK(after.loose_files.empty());
    REQUIRE(after.chains.size() == 1);
    CHECK(after.chains[0].links.at(0).stream.file == plan.actions[2].file);
  }
}

TEST_CASE("executor: a file that cannot be journaled is never committed") {
  Plan plan = SamplePlan();
  FakeHost host;
  AnswerHappyPath(&host);
  MemoryDestination usb;
  usb.journal_error = "cannot write manifest.json: No space left on device";
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK(report.results[1].outcome == Outcome::kFailed);
  CHECK(report.results[1].error == usb.journal_error);
  CHECK(usb.files.empty());
  // A full disk is the medium's failure: asked whether it recovers (no).
  CHECK(usb.log == std::vector<std::string>{"create " + plan.actions[1].file + " none",
                                            "journal " + kZone + " " + plan.actions[1].file,
                                            "recover"});
}

TEST_CASE("executor: an image stream is not journaled; its name is its own") {
  const std::string image = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
  const std::string final_snapshot = "zones/" + image + "@final";
  Plan plan;
  plan.host = "demo01";
  plan.destinations["usb"] = PlanDestination{"directory", "/mnt/usb", "none", {}, {}};
  Action a;
  a.kind = ActionKind::kSaveImage;
  a.zone = kZone;
  a.destination = "usb";
  a.snapshot = final_snapshot;
  a.argv = {"zfs", "send", final_snapshot};
  a.file = "images/" + image + ".zfs";
  a.stream.image_uuid = image;
  a.stream.guid = 77;
  a.stream.createtxg = 5;
  plan.actions.push_back(a);
  FakeHost host;
  host.Answer(a.argv, FakeHost::Streamed("image"));
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  REQUIRE(report.ok());
  CHECK(usb.log == std::vector<std::string>{"create " + a.file + " none", "commit " + a.file,
                                            "image " + image + " guid 77"});
}

TEST_CASE("executor: a direct send that dies half way leaves no file behind") {
  testing::TempDir dir("zrecon-executor");
  Plan plan = SamplePlanForDisk("none");
  FakeHost host;
  AnswerHappyPath(&host);
  host.Answer(plan.actions[2].argv,
              FakeHost::Streamed(std::string(5000, 'z'), 1, "cannot send: I/O error\n"));
  DirectoryDestination usb("usb", dir.path(), plan.host, DestinationCatalog());
  REQUIRE(usb.Prepare().ok());
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK(host.kinds().at(4) == Kind::kToFile);
  CHECK(report.results[2].outcome == Outcome::kFailed);
  CHECK(report.results[2].error == "usb:" + plan.actions[2].file +
                                       ": zfs send -i zones/img@final " + kDaily +
                                       " exited 1: cannot send: I/O error");
  CHECK(FilesBelow(dir.path()) ==
        std::set<std::string>{plan.host + "/" + plan.actions[1].file,
                              plan.host + "/" + kZone + "/manifest.json"});
  CHECK(usb.catalog().zones.at(kZone).chains.empty());
}

TEST_CASE("executor: a failure stops its zone; none of the zone's later actions runs") {
  Plan plan = SamplePlan();
  for (size_t fail = 1; fail <= 8; ++fail) {
    CAPTURE(fail);
    FakeHost host;
    AnswerHappyPath(&host);
    host.FailCall(fail, FakeHost::Failure(1, "cannot do it: I/O error\n"));
    MemoryDestination usb;
    ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
    if (fail == 4) {
      // The size estimate only feeds progress output: its failure is not one.
      CHECK(report.ok());
      continue;
    }
    CHECK_FALSE(report.ok());
    CHECK(report.Count(Outcome::kFailed) == 1);
    CHECK(host.calls().size() == fail);
    size_t failed = 0;
    while (failed + 1 < report.results.size() && report.results[failed].outcome == Outcome::kDone) {
      ++failed;
    }
    CHECK(report.results[failed].outcome == Outcome::kFailed);
    CHECK(report.results[failed].error.find("I/O error") != std::string::npos);
    for (size_t i = failed + 1; i < plan.actions.size(); ++i) {
      CHECK(report.results[i].outcome == Outcome::kSkipped);
    }
    CHECK(ZoneOutcome(plan, report, kZone) == Outcome::kFailed);
    // A failed export is never recorded; the destroy never follows it.
    if (fail <= 5) CHECK(usb.links.empty());
    for (const std::string& line : usb.log) CHECK(line.find("remove") == std::string::npos);
  }
}

TEST_CASE("executor: an interrupt lets the action in progress end, then nothing starts") {
  Plan plan = SamplePlan();
  // The action each call belongs to, from an uninterrupted run.
  std::vector<size_t> action_of_call;
  {
    FakeHost host;
    AnswerHappyPath(&host);
    struct : ApplyObserver {
      void ActionStarted(const Plan&, size_t index) override { current = index; }
      size_t current = 0;
    } tracker;
    host.OnCall([&](size_t) { action_of_call.push_back(tracker.current); });
    MemoryDestination usb;
    REQUIRE(Execute(plan, host, {{"usb", &usb}}, &tracker, FixedClock()).ok());
  }
  REQUIRE(action_of_call.size() == 8);
  for (size_t at = 1; at <= action_of_call.size(); ++at) {
    CAPTURE(at);
    const size_t running = action_of_call[at - 1];
    FakeHost host;
    AnswerHappyPath(&host);
    Interrupt interrupt;
    host.OnCall([&](size_t n) {
      if (n == at) interrupt.Raise(SIGINT);
    });
    MemoryDestination usb;
    Recorder observer;
    ExecutorOptions options = FixedClock();
    options.interrupt = &interrupt;
    ApplyReport report = Execute(plan, host, {{"usb", &usb}}, &observer, options);
    CHECK_FALSE(report.ok());
    CHECK(report.interrupted == "interrupted by SIGINT");
    // FakeHost commands do not watch the interrupt: the action running when
    // it came completes, and is the last one started.
    CHECK(report.Count(Outcome::kFailed) == 0);
    for (size_t i = 0; i < plan.actions.size(); ++i) {
      CHECK(report.results[i].outcome == (i <= running ? Outcome::kDone : Outcome::kNotAttempted));
    }
    CHECK(observer.events.back() == "finish " + std::to_string(running) + " done");
    size_t calls = 0;
    for (size_t a : action_of_call) calls += a <= running ? 1 : 0;
    CHECK(host.calls().size() == calls);
  }
}

TEST_CASE("executor: an interrupt raised before the run starts nothing, and is reported once") {
  Plan plan = SamplePlan();
  FakeHost host;
  Interrupt interrupt;
  interrupt.Raise(SIGTERM);
  interrupt.Raise(SIGINT);  // the first one is kept
  MemoryDestination usb;
  std::ostringstream json;
  JsonLinesProgress progress(json, [] { return 0.0; });
  ExecutorOptions options = FixedClock();
  options.interrupt = &interrupt;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, &progress, options);
  CHECK(report.interrupted == "interrupted by SIGTERM");
  CHECK(report.Count(Outcome::kNotAttempted) == plan.actions.size());
  CHECK(host.calls().empty());
  CHECK(usb.log.empty());
  CHECK(json.str() ==
        "{\"event\":\"interrupted\",\"reason\":\"interrupted by SIGTERM\"}\n"
        "{\"event\":\"summary\",\"outcome\":\"interrupted\",\"zones\":[{\"zone\":\"" +
            kZone +
            "\",\"alias\":\"web01\",\"outcome\":\"not "
            "attempted\"}],\"failed_destinations\":[]}\n");
}

TEST_CASE("executor: a send that dies half way leaves no committed file") {
  Plan plan = SamplePlan();
  FakeHost host;
  AnswerHappyPath(&host);
  host.Answer({"zfs", "send", "-i", "zones/img@final", kDaily},
              FakeHost::Streamed(std::string(5000, 'z'), 1, "cannot send: I/O error\n"));
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK(report.results[2].outcome == Outcome::kFailed);
  CHECK(report.results[2].error.find("exited 1") != std::string::npos);
  CHECK(usb.files.count(plan.actions[2].file) == 0);
  CHECK(usb.links.empty());
}

TEST_CASE("executor: hold and release accept their already-done answers, nothing else") {
  Plan plan;
  plan.actions.push_back(Command(ActionKind::kHold, {"zfs", "hold", "zrecon", kDaily}, {kDaily}));
  plan.actions.push_back(
      Command(ActionKind::kRelease, {"zfs", "release", "zrecon", kDaily}, {kDaily}));
  FakeHost host;
  host.Answer(plan.actions[0].argv,
              FakeHost::Failure(1, "cannot hold snapshot '" + kDaily +
                                       "': tag already exists on this dataset\n"));
  host.Answer(plan.actions[1].argv,
              FakeHost::Failure(1, "cannot release hold from snapshot '" + kDaily +
                                       "': no such tag on this dataset\n"));
  CHECK(Execute(plan, host, {}, nullptr, FixedClock()).ok());
  host.Answer(plan.actions[0].argv, FakeHost::Failure(1, "cannot hold: dataset is busy\n"));
  CHECK_FALSE(Execute(plan, host, {}, nullptr, FixedClock()).ok());
}

TEST_CASE("executor: a dry run on a RecordingHost runs nothing and sees every command") {
  Plan plan = SamplePlan();
  RecordingHost host;
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK(report.ok());
  std::vector<std::string> lines;
  for (const RecordingHost::Call& c : host.calls()) lines.push_back(ShellJoin(c.argv));
  CHECK(lines == std::vector<std::string>{
                     "zfs snapshot " + kDaily, "vmadm get " + kZone, ShellJoin(kLookup),
                     ShellJoin(kEstimate), "zfs send -i zones/img@final " + kDaily,
                     "zfs hold zrecon " + kDaily, "zfs set zrecon:exported=usb " + kDaily,
                     "zfs destroy " + kRoot + "@zrecon-hourly-20261125T000000Z"});
}

TEST_CASE("executor: an export to a destination it was not given fails clearly") {
  Plan plan = SamplePlan();
  FakeHost host;
  AnswerHappyPath(&host);
  ApplyReport report = Execute(plan, host, {}, nullptr, FixedClock());
  CHECK(report.results[1].outcome == Outcome::kFailed);
  CHECK(report.results[1].error.find("destination usb") != std::string::npos);
}

namespace {

const std::string kZone2 = "0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10";

std::string Swap(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// SamplePlan's actions for another zone: every name of kZone renamed.
std::vector<Action> SecondZoneActions() {
  std::vector<Action> out = SamplePlan().actions;
  for (Action& a : out) {
    auto swap = [](std::string* s) { *s = Swap(*s, kZone, kZone2); };
    swap(&a.zone);
    swap(&a.file);
    swap(&a.snapshot);
    swap(&a.stream.dataset);
    swap(&a.stream.config_file);
    for (std::string& x : a.argv) swap(&x);
    for (std::string& x : a.snapshots) swap(&x);
    for (std::string& x : a.files) swap(&x);
  }
  return out;
}

void AnswerHappyPathFor(FakeHost* host, const std::string& zone) {
  const std::string daily = Swap(kDaily, kZone, zone);
  Argv lookup = kLookup;
  for (std::string& x : lookup) x = Swap(x, kZone, zone);
  host->Answer(lookup,
               FakeHost::Output(daily + "\tguid\t123456789\n" + daily + "\tcreatetxg\t4242\n" +
                                daily + "\tcreation\t1795687200\n"));
  host->Answer({"vmadm", "get", zone}, FakeHost::Streamed("{\"uuid\": \"" + zone + "\"}\n"));
  host->Answer({"zfs", "send", "-i", "zones/img@final", daily},
               FakeHost::Streamed(std::string(1000, 'z')));
}

// Two zones: kZone's seven actions, then kZone2's.
Plan TwoZonePlan() {
  Plan plan = SamplePlan();
  plan.zones[kZone2] = PlanZone{"db01", "joyent", "img"};
  for (Action& a : SecondZoneActions()) plan.actions.push_back(a);
  return plan;
}

std::vector<std::string> Outcomes(const ApplyReport& report) {
  std::vector<std::string> out;
  for (const ActionResult& r : report.results) out.push_back(OutcomeName(r.outcome));
  return out;
}

}  // namespace

TEST_CASE("executor: one zone's failure leaves the other zones' actions running") {
  Plan plan = TwoZonePlan();
  FakeHost host;
  AnswerHappyPathFor(&host, kZone);
  AnswerHappyPathFor(&host, kZone2);
  // web01's send fails for a reason of its own (not the medium's).
  host.Answer({"zfs", "send", "-i", "zones/img@final", kDaily},
              FakeHost::Streamed("", 1, "cannot send: dataset is busy\n"));
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK_FALSE(report.ok());
  CHECK(Outcomes(report) == std::vector<std::string>{"done", "done", "failed", "skipped", "skipped",
                                                     "skipped", "skipped", "done", "done", "done",
                                                     "done", "done", "done", "done"});
  CHECK(report.results[5].error == "zone " + kZone + " stopped: action [3] of it did not complete");
  CHECK(report.failed_destinations.empty());
  CHECK(ZoneOutcome(plan, report, kZone) == Outcome::kFailed);
  CHECK(ZoneOutcome(plan, report, kZone2) == Outcome::kDone);
  // web01's snapshot is never destroyed nor its chain removed; db01's are.
  for (const Argv& argv : host.calls())
    CHECK(ShellJoin(argv).find("destroy " + kRoot) == std::string::npos);
  CHECK(std::count(usb.log.begin(), usb.log.end(),
                   "remove " + kZone2 + " root/20261001T000000Z 1") == 1);
  CHECK(std::count(usb.log.begin(), usb.log.end(),
                   "remove " + kZone + " root/20261001T000000Z 1") == 0);
}

TEST_CASE("executor: a failing medium ends the work on it; zones without work there go on") {
  Plan plan = TwoZonePlan();
  plan.destinations["nas"] = PlanDestination{"directory", "/mnt/nas", "none", {}, {}};
  // db01 exports to the other destination.
  for (Action& a : plan.actions) {
    if (a.zone == kZone2 && !a.destination.empty()) a.destination = "nas";
  }
  FakeHost host;
  AnswerHappyPathFor(&host, kZone);
  AnswerHappyPathFor(&host, kZone2);
  MemoryDestination usb, nas;
  usb.journal_error = "cannot write /mnt/usb/demo01/x/manifest.json: No space left on device";
  // An ssh destination fails the same way: its SFTP server refuses, or the
  // session is lost.
  SUBCASE("a full disk") {}
  SUBCASE("an SFTP refusal") {
    usb.journal_error = "ssh://vault/srv/z/demo01/x/manifest.json: SFTP write /srv/z/x: failure";
  }
  SUBCASE("a lost ssh session") {
    usb.journal_error = "ssh://vault/srv/z: the ssh session is lost: the connection closed";
  }
  ApplyReport report = Execute(plan, host, {{"usb", &usb}, {"nas", &nas}}, nullptr, FixedClock());
  CHECK(report.failed_destinations == std::vector<std::string>{"usb"});
  CHECK(report.results[1].outcome == Outcome::kFailed);  // web01's config, journaled first
  for (size_t i = 2; i < 7; ++i) CHECK(report.results[i].outcome == Outcome::kSkipped);
  for (size_t i = 7; i < 14; ++i) CHECK(report.results[i].outcome == Outcome::kDone);
  CHECK(ZoneOutcome(plan, report, kZone2) == Outcome::kDone);

  SUBCASE("and another zone's work on it is skipped, with that zone's later actions") {
    for (Action& a : plan.actions) {
      if (a.zone == kZone2 && a.destination == "nas" && a.kind == ActionKind::kSend) {
        a.destination = "usb";
      }
    }
    FakeHost again;
    AnswerHappyPathFor(&again, kZone);
    AnswerHappyPathFor(&again, kZone2);
    MemoryDestination usb2, nas2;
    usb2.journal_error = usb.journal_error;
    report = Execute(plan, again, {{"usb", &usb2}, {"nas", &nas2}}, nullptr, FixedClock());
    // db01: snapshot and config (to nas) done, its send to usb skipped, so
    // its tip is neither held nor marked and nothing of it is destroyed.
    CHECK(Outcomes(report) == std::vector<std::string>{"done", "failed", "skipped", "skipped",
                                                       "skipped", "skipped", "skipped", "done",
                                                       "done", "skipped", "skipped", "skipped",
                                                       "skipped", "skipped"});
    CHECK(report.results[9].error ==
          "destination usb failed at action [2]; nothing more is written there");
    CHECK(report.results[10].error ==
          "zone " + kZone2 + " stopped: action [10] of it did not complete");
    CHECK(ZoneOutcome(plan, report, kZone2) == Outcome::kSkipped);
    CHECK(nas2.links.empty());
  }
}

TEST_CASE("executor: a destination that recovers gets the failed action again, once") {
  Plan plan = TwoZonePlan();
  FakeHost host;
  AnswerHappyPathFor(&host, kZone);
  AnswerHappyPathFor(&host, kZone2);
  MemoryDestination usb;
  usb.journal_error = "ssh://vault/srv/z: the ssh session is lost: the connection closed";
  usb.recovers = true;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK(report.ok());
  CHECK(report.failed_destinations.empty());
  // web01's config: failed, recovered, run again from its command on.
  CHECK(report.results[1].outcome == Outcome::kDone);
  CHECK(report.results[1].retried_after.find("the ssh session is lost") != std::string::npos);
  CHECK(std::count(usb.log.begin(), usb.log.end(), "recover") == 1);
  CHECK(std::count(host.calls().begin(), host.calls().end(), plan.actions[1].argv) == 2);
  CHECK(std::count(usb.log.begin(), usb.log.end(),
                   "journal " + kZone + " " + plan.actions[1].file) == 2);
  for (size_t i = 2; i < report.results.size(); ++i) {
    CHECK(report.results[i].retried_after.empty());
  }

  SUBCASE("a failure that is the zone's is not retried") {
    FakeHost again;
    AnswerHappyPathFor(&again, kZone);
    AnswerHappyPathFor(&again, kZone2);
    again.Answer(plan.actions[1].argv, FakeHost::Streamed("", 1, "vmadm: no such VM\n"));
    MemoryDestination usb2;
    usb2.recovers = true;
    report = Execute(plan, again, {{"usb", &usb2}}, nullptr, FixedClock());
    CHECK(report.results[1].outcome == Outcome::kFailed);
    CHECK(report.results[1].retried_after.empty());
    CHECK(std::count(usb2.log.begin(), usb2.log.end(), "recover") == 0);
  }
  SUBCASE("one that does not recover ends the destination, as before") {
    MemoryDestination usb3;
    usb3.journal_error = "ssh://vault/srv/z: the ssh session is lost: the connection closed";
    FakeHost again;
    AnswerHappyPathFor(&again, kZone);
    AnswerHappyPathFor(&again, kZone2);
    report = Execute(plan, again, {{"usb", &usb3}}, nullptr, FixedClock());
    CHECK(report.failed_destinations == std::vector<std::string>{"usb"});
    CHECK(report.results[1].outcome == Outcome::kFailed);
    CHECK(report.results[1].retried_after.empty());
    CHECK(std::count(usb3.log.begin(), usb3.log.end(), "recover") == 1);
  }
}

TEST_CASE("executor: a new chain from an image that was not saved there is not started") {
  Plan plan = TwoZonePlan();
  const std::string image = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
  Action save;
  save.kind = ActionKind::kSaveImage;
  save.zone = kZone;
  save.destination = "usb";
  save.snapshot = "zones/" + image + "@final";
  save.argv = {"zfs", "send", save.snapshot};
  save.file = "images/" + image + ".zfs";
  save.stream.dataset = "zones/" + image;
  save.stream.guid = 77;
  save.stream.image_uuid = image;
  plan.actions.insert(plan.actions.begin() + 1, save);  // after web01's snapshot
  for (Action& a : plan.actions) {
    if (a.kind == ActionKind::kSend) a.stream.image_uuid = image;
  }
  FakeHost host;
  AnswerHappyPathFor(&host, kZone);
  AnswerHappyPathFor(&host, kZone2);
  host.Answer(save.argv, FakeHost::Streamed("", 1, "cannot send: dataset does not exist\n"));
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK(report.failed_destinations.empty());
  // db01's send (index 10) starts a new chain from the image: skipped.
  CHECK(report.results[10].outcome == Outcome::kSkipped);
  CHECK(report.results[10].error ==
        "image " + image +
            " was not saved to usb (action [2]): a new chain from it could not be "
            "restored without it");
  CHECK(report.results[8].outcome == Outcome::kDone);  // db01's snapshot
  CHECK(report.results[9].outcome == Outcome::kDone);  // and config
  for (size_t i = 11; i < 15; ++i) CHECK(report.results[i].outcome == Outcome::kSkipped);
  CHECK(usb.links.empty());
}

// Every position a command can fail at, with a zone's error or the
// medium's, on a plan of two zones and two destinations: what apply then
// runs keeps the invariants the isolation rules exist for.
TEST_CASE("executor: wherever a command fails, only what depends on it is skipped") {
  Plan plan = TwoZonePlan();
  plan.destinations["nas"] = PlanDestination{"directory", "/mnt/nas", "none", {}, {}};
  // db01's config goes to nas, its send to usb: a zone on both.
  for (Action& a : plan.actions) {
    if (a.zone == kZone2 && a.kind == ActionKind::kSaveConfig) a.destination = "nas";
  }
  FakeHost probe;
  AnswerHappyPathFor(&probe, kZone);
  AnswerHappyPathFor(&probe, kZone2);
  MemoryDestination usb0, nas0;
  REQUIRE(Execute(plan, probe, {{"usb", &usb0}, {"nas", &nas0}}, nullptr, FixedClock()).ok());
  const size_t calls = probe.calls().size();
  for (size_t n = 1; n <= calls; ++n) {
    for (const char* error : {"cannot do it: dataset is busy", "write: No space left on device"}) {
      CAPTURE(n);
      CAPTURE(error);
      FakeHost host;
      AnswerHappyPathFor(&host, kZone);
      AnswerHappyPathFor(&host, kZone2);
      host.FailCall(n, FakeHost::Failure(1, std::string(error) + "\n"));
      MemoryDestination usb, nas;
      ApplyReport report =
          Execute(plan, host, {{"usb", &usb}, {"nas", &nas}}, nullptr, FixedClock());
      std::set<std::string> stopped_zones, failed_destinations;
      for (size_t i = 0; i < plan.actions.size(); ++i) {
        const Action& a = plan.actions[i];
        const Outcome o = report.results[i].outcome;
        CAPTURE(i);
        CHECK(o != Outcome::kNotAttempted);  // no interrupt: everything is decided
        if (stopped_zones.count(a.zone) || failed_destinations.count(a.destination)) {
          CHECK(o == Outcome::kSkipped);
        } else {
          // Nothing else is skipped: a skip has a cause before it.
          CHECK(o != Outcome::kSkipped);
        }
        if (o == Outcome::kFailed || o == Outcome::kSkipped) stopped_zones.insert(a.zone);
        if (o == Outcome::kFailed && !a.destination.empty() &&
            std::string(error).find("No space") != std::string::npos) {
          failed_destinations.insert(a.destination);
        }
      }
      // A zone whose export did not complete is never pruned.
      for (const std::string& zone : {kZone, kZone2}) {
        bool exported = true;
        for (size_t i = 0; i < plan.actions.size(); ++i) {
          const Action& a = plan.actions[i];
          if (a.zone != zone) continue;
          if (a.kind == ActionKind::kSend || a.kind == ActionKind::kSaveConfig) {
            exported = exported && report.results[i].outcome == Outcome::kDone;
          }
          if (a.kind == ActionKind::kDestroy || a.kind == ActionKind::kRemoveExport ||
              a.kind == ActionKind::kMarkTip || a.kind == ActionKind::kHold) {
            if (!exported) CHECK(report.results[i].outcome == Outcome::kSkipped);
          }
        }
      }
      CHECK(report.failed_destinations ==
            std::vector<std::string>(failed_destinations.begin(), failed_destinations.end()));
      CHECK(report.ok() == (report.Count(Outcome::kFailed) == 0));
    }
  }
}

namespace {

Action Hook(const std::string& zone, const char* which, const std::string& program) {
  Action a;
  a.kind = ActionKind::kHook;
  a.zone = zone;
  a.hook = which;
  a.timeout_seconds = 30;
  a.argv = {"/usr/bin/env", std::string("ZRECON_HOOK=") + which, program};
  return a;
}

// TwoZonePlan with web01's snapshot between its hooks.
Plan HookedPlan() {
  Plan plan = TwoZonePlan();
  plan.actions.insert(plan.actions.begin(), Hook(kZone, "pre_snapshot", "/hooks/pre"));
  plan.actions.insert(plan.actions.begin() + 2, Hook(kZone, "post_snapshot", "/hooks/post"));
  return plan;
}

}  // namespace

TEST_CASE("executor: a failed pre_snapshot hook skips the snapshot; post_snapshot still runs") {
  Plan plan = HookedPlan();
  FakeHost host;
  AnswerHappyPathFor(&host, kZone);
  AnswerHappyPathFor(&host, kZone2);
  host.Answer(plan.actions[0].argv, FakeHost::Failure(1, "mysql: cannot lock tables\n"));
  host.Answer(plan.actions[2].argv, FakeHost::Output(""));
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  CHECK_FALSE(report.ok());
  CHECK(report.results[0].outcome == Outcome::kFailed);
  CHECK(report.results[0].error ==
        "pre_snapshot hook: /usr/bin/env ZRECON_HOOK=pre_snapshot /hooks/pre exited 1: mysql: "
        "cannot lock tables");
  CHECK(report.results[1].outcome == Outcome::kSkipped);  // the snapshot
  CHECK(report.results[2].outcome == Outcome::kDone);     // post_snapshot
  for (size_t i = 3; i < 9; ++i) CHECK(report.results[i].outcome == Outcome::kSkipped);
  for (size_t i = 9; i < plan.actions.size(); ++i) {
    CHECK(report.results[i].outcome == Outcome::kDone);  // db01
  }
  for (const Argv& argv : host.calls())
    CHECK(ShellJoin(argv).find("snapshot " + kDaily) == std::string::npos);
}

TEST_CASE("executor: hooks run in order around the snapshot; a failed post hook stops the zone") {
  Plan plan = HookedPlan();
  FakeHost host;
  AnswerHappyPathFor(&host, kZone);
  AnswerHappyPathFor(&host, kZone2);
  host.Answer(plan.actions[0].argv, FakeHost::Output(""));
  host.Answer(plan.actions[2].argv, FakeHost::Failure(2, "cannot unlock\n"));
  MemoryDestination usb;
  ApplyReport report = Execute(plan, host, {{"usb", &usb}}, nullptr, FixedClock());
  REQUIRE(host.calls().size() >= 3);
  CHECK(host.calls()[0] == plan.actions[0].argv);
  CHECK(host.calls()[1] == plan.actions[1].argv);  // zfs snapshot
  CHECK(host.calls()[2] == plan.actions[2].argv);
  CHECK(report.results[1].outcome == Outcome::kDone);
  CHECK(report.results[2].outcome == Outcome::kFailed);
  CHECK(report.results[3].outcome == Outcome::kSkipped);  // web01's config and sends
  CHECK(ZoneOutcome(plan, report, kZone2) == Outcome::kDone);
}

}  // namespace zrecon
