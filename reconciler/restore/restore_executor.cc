#include "reconciler/restore/restore_executor.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "reconciler/restore/zone_payload.h"
#include "reconciler/storage/directory_layout.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/files.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

bool RestoreReport::ok() const {
  if (!interrupted.empty()) return false;
  for (const RestoreStepResult& r : results) {
    if (r.outcome == Outcome::kFailed) return false;
  }
  return true;
}

namespace {

constexpr size_t kChunk = 1 << 20;

// An export file as zfs receive's stdin: raw bytes are hashed as read (the
// manifest's SHA-256 is of the stored bytes), zstd files are decompressed.
class ExportFileSource : public ByteSource {
 public:
  ExportFileSource(std::string host_dir, const StoredFile& stored)
      : host_dir_(std::move(host_dir)),
        path_(host_dir_ + "/" + stored.file),
        stored_(stored),
        buffer_(kChunk) {}
  ~ExportFileSource() override {
    if (dctx_ != nullptr) ZSTD_freeDCtx(dctx_);
  }

  // Opened as every reader of a destination opens a stored file: no
  // symlink followed below the destination (directory_layout.h), and
  // close-on-exec, so zfs receive, spawned while it is open, does not
  // inherit it.
  Status Open() {
    uint64_t size = 0;
    std::string what = OpenStoredFile(host_dir_, stored_.file, &fd_, &size);
    if (!what.empty()) return Status::Error(path_ + ": " + what);
    if (stored_.compression == "zstd") {
      dctx_ = ZSTD_createDCtx();
      if (dctx_ == nullptr) return Status::Error("zstd: cannot create a decompression context");
    } else if (stored_.compression != "none") {
      return Status::Error(path_ + ": unknown compression \"" + stored_.compression + "\"");
    }
    return Status::Ok();
  }

  Status Read(char* out, size_t capacity, size_t* got) override {
    *got = 0;
    if (dctx_ == nullptr) return ReadRaw(out, capacity, got);
    // Decompress from buffer_[pos_, len_) into out, refilling as needed.
    while (*got == 0) {
      if (pos_ == len_) {
        Status s = ReadRaw(buffer_.data(), buffer_.size(), &len_);
        pos_ = 0;
        if (!s.ok()) return s;
        if (len_ == 0) {
          if (!frame_done_) return Status::Error(path_ + ": zstd stream is truncated");
          return Status::Ok();
        }
      }
      ZSTD_inBuffer in = {buffer_.data(), len_, pos_};
      ZSTD_outBuffer o = {out, capacity, 0};
      size_t r = ZSTD_decompressStream(dctx_, &o, &in);
      if (ZSTD_isError(r)) {
        return Status::Error(path_ + ": zstd: " + ZSTD_getErrorName(r));
      }
      frame_done_ = r == 0;
      pos_ = in.pos;
      *got = o.pos;
    }
    return Status::Ok();
  }

  uint64_t raw_bytes() const { return raw_; }

  // After a receive that stopped early: reads the rest of the file, so that
  // a file that differs from the catalog is named as the cause (a corrupt
  // stream usually makes zfs receive fail before its end). Ok when the file
  // matches or was read to its end already.
  Status CheckRest() {
    if (at_end_) return end_status_;
    std::vector<char> buf(kChunk);
    for (;;) {
      size_t got = 0;
      Status s = ReadRaw(buf.data(), buf.size(), &got);
      if (!s.ok() || got == 0) return s;
    }
  }

 private:
  // Reads stored bytes; at end of file checks size and SHA-256.
  Status ReadRaw(char* out, size_t capacity, size_t* got) {
    if (at_end_) {  // the digest is taken once; a read after the end repeats its verdict
      *got = 0;
      return end_status_;
    }
    for (;;) {
      ssize_t n = ::read(fd_.get(), out, capacity);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Error("cannot read " + path_ + ": " + std::strerror(errno));
      *got = static_cast<size_t>(n);
      break;
    }
    if (*got > 0) {
      hash_.Update(out, *got);
      raw_ += *got;
      return Status::Ok();
    }
    at_end_ = true;
    end_status_ = CheckEnd();
    return end_status_;
  }

  // At the end of the file: its size and SHA-256 against the catalog's.
  Status CheckEnd() {
    if (raw_ != stored_.size) {
      return Status::Error(path_ + ": " + std::to_string(raw_) + " bytes, the catalog records " +
                           std::to_string(stored_.size));
    }
    std::string digest = hash_.HexDigest();
    if (digest != stored_.sha256) {
      return Status::Error(path_ + ": sha256 " + digest + " differs from the catalog's " +
                           stored_.sha256);
    }
    return Status::Ok();
  }

  std::string host_dir_;
  std::string path_;
  StoredFile stored_;
  Fd fd_;
  ZSTD_DCtx* dctx_ = nullptr;
  std::vector<char> buffer_;
  size_t pos_ = 0, len_ = 0;
  bool frame_done_ = false;
  // Hashed beside the receive, on a thread of its own: restore goes at the
  // pace of zfs receive, not of receive plus SHA-256.
  BackgroundSha256 hash_;
  uint64_t raw_ = 0;
  bool at_end_ = false;
  Status end_status_;  // once at_end_
};

// The payload of vmadm create as its stdin.
class StringSource : public ByteSource {
 public:
  explicit StringSource(const std::string& data) : data_(data) {}
  Status Read(char* out, size_t capacity, size_t* got) override {
    *got = std::min(capacity, data_.size() - pos_);
    std::memcpy(out, data_.data() + pos_, *got);
    pos_ += *got;
    return Status::Ok();
  }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

class RestoreRun {
 public:
  RestoreRun(const RestorePlan& plan, Host& host, std::string host_dir, RestoreObserver* observer,
             const RestoreOptions& options)
      : plan_(plan),
        host_(host),
        host_dir_(std::move(host_dir)),
        observer_(observer),
        options_(options) {
    if (!options_.sleep) {
      options_.sleep = [](int s) { std::this_thread::sleep_for(std::chrono::seconds(s)); };
    }
    if (!options_.monotonic) {
      options_.monotonic = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
      };
    }
  }

  RestoreReport Run() {
    RestoreReport report;
    report.results.resize(plan_.steps.size());
    size_t last_receive = 0;
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      if (plan_.steps[i].kind == RestoreStepKind::kReceive) last_receive = i + 1;
    }
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      // Stopping between steps leaves what a rerun continues from: every
      // receive so far is complete.
      if (Interrupted(&report)) break;
      if (observer_) observer_->StepStarted(plan_, i);
      double start = options_.monotonic();
      RestoreStepResult& r = report.results[i];
      Status s = RunStep(plan_.steps[i], &r, &report);
      r.seconds = options_.monotonic() - start;
      r.outcome = s.ok() ? Outcome::kDone : Outcome::kFailed;
      if (!s.ok()) r.error = s.message();
      if (observer_) observer_->StepFinished(plan_, i, r);
      if (s.ok()) continue;
      // Until every receive finished, the -partial datasets are incomplete:
      // remove them. Afterwards they are whole and a rerun continues.
      if (i < last_receive) Cleanup(&report);
      break;
    }
    Interrupted(&report);
    return report;
  }

 private:
  bool Interrupted(RestoreReport* report) const {
    if (options_.interrupt == nullptr || !options_.interrupt->raised()) return false;
    report->interrupted = options_.interrupt->Describe();
    return true;
  }

  // imgadm's database record, written as imgadm writes it: the whole file
  // replaced at once (WriteFileAtomically: temp file, fsync, rename).
  Status RegisterImage(const RestoreStep& step) {
    size_t slash = step.file.rfind('/');
    Status s =
        slash == std::string::npos ? Status::Ok() : MakeDirectories(step.file.substr(0, slash));
    if (s.ok()) s = WriteFileAtomically(step.file, step.input);
    return s;
  }

  // Reads the fresh dataset's local properties and sets each on the
  // received one; a fresh dataset that does not exist has none to give.
  Status CopyProperties(const RestoreStep& step) {
    CommandResult r;
    Status s = host_.Run(step.argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0) {
      for (const std::string& text : step.tolerate) {
        if (r.err.find(text) != std::string::npos) return Status::Ok();
      }
      return Status::Error(DescribeFailure(step.argv, r));
    }
    std::vector<std::pair<std::string, std::string>> properties;
    s = ParseLocalProperties(r.out, &properties);
    if (!s.ok()) return s.Prefixed(ShellJoin(step.argv));
    bool mountpoint = false;
    for (const auto& [name, value] : properties) {
      Argv set = plan_.commands.SetProperty(step.target, name, value);
      r = CommandResult();
      s = host_.Run(set, &r);
      if (!s.ok()) return s;
      if (r.exit_code != 0) return Status::Error(DescribeFailure(set, r));
      mountpoint = mountpoint || name == "mountpoint";
    }
    if (!mountpoint) return Status::Ok();
    // The received dataset stays unmounted until it has its final name.
    // illumos remounts after a mountpoint change only what was mounted
    // (libzfs_changelist.c); zfs-fuse mounts it anyway.
    Argv umount = plan_.commands.Unmount(step.target);
    r = CommandResult();
    s = host_.Run(umount, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0 && r.err.find("not currently mounted") == std::string::npos) {
      return Status::Error(DescribeFailure(umount, r));
    }
    return Status::Ok();
  }

  // The volumes vmadm created against the names the plan received the disks
  // for. On a difference the just-created zone is deleted again (its
  // volumes are fresh and empty) and the -partial datasets removed: the
  // host is as before the restore.
  Status CheckDisks(const RestoreStep& step, RestoreReport* report) {
    CommandResult r;
    Status s = host_.Run(step.argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0) return Status::Error(DescribeFailure(step.argv, r));
    std::vector<std::string> created;
    s = DiskVolumes(r.out, &created);
    if (!s.ok()) return s.Prefixed(ShellJoin(step.argv));
    std::vector<std::string> expected;
    for (std::string_view line : Split(step.input, '\n')) {
      if (!line.empty()) expected.emplace_back(line);
    }
    if (created == expected) return Status::Ok();
    Argv remove = plan_.commands.VmadmDelete(plan_.zone);
    r = CommandResult();
    s = host_.Run(remove, &r);
    std::string undone = s.ok() && r.exit_code == 0
                             ? "the zone was deleted again"
                             : "deleting the zone again failed (" +
                                   (s.ok() ? DescribeFailure(remove, r) : s.message()) + ")";
    Cleanup(report);
    return Status::Error("vmadm created the zone's disks as " +
                         (created.empty() ? std::string("none") : Join(created, ", ")) +
                         ", but the media's disks were received for " + Join(expected, ", ") +
                         "; " + undone + " and nothing of the restore is left");
  }

  Status RunStep(const RestoreStep& step, RestoreStepResult* result, RestoreReport* report) {
    if (step.kind == RestoreStepKind::kCheckDisks) return CheckDisks(step, report);
    if (step.kind == RestoreStepKind::kRegisterImage) return RegisterImage(step);
    if (step.kind == RestoreStepKind::kCopyProperties) return CopyProperties(step);
    CommandResult r;
    Status s;
    for (int attempt = 0;; ++attempt) {
      r = CommandResult();
      if (step.kind == RestoreStepKind::kReceive) {
        ExportFileSource source(host_dir_, step.stored);
        s = source.Open();
        if (!s.ok()) return s;
        s = host_.RunFromSource(step.argv, &source, &r);
        result->bytes = source.raw_bytes();
        if (s.ok() && r.exit_code != 0) {
          Status file = source.CheckRest();
          if (!file.ok())
            return Status::Error(file.message() + " (" + DescribeFailure(step.argv, r) + ")");
        }
      } else if (step.kind == RestoreStepKind::kCreateZone) {
        StringSource source(step.input);
        s = host_.RunFromSource(step.argv, &source, &r);
      } else {
        s = host_.Run(step.argv, &r);
      }
      if (!s.ok()) return s;
      if (r.exit_code == 0) return Status::Ok();
      for (const std::string& text : step.tolerate) {
        if (r.err.find(text) != std::string::npos) return Status::Ok();
      }
      bool busy = r.err.find("busy") != std::string::npos;
      if (!step.retry_when_busy || !busy || attempt >= options_.busy_retries) break;
      if (options_.interrupt != nullptr && options_.interrupt->raised()) break;
      options_.sleep(1);
    }
    return Status::Error(DescribeFailure(step.argv, r));
  }

  void Cleanup(RestoreReport* report) {
    for (const Argv& argv : plan_.cleanup) {
      CommandResult r;
      Status s = host_.Run(argv, &r);
      if (!s.ok()) {
        report->cleanup.push_back(s.message());
      } else if (r.exit_code == 0) {
        report->cleanup.push_back("removed: " + ShellJoin(argv));
      } else if (r.err.find("does not exist") == std::string::npos) {
        report->cleanup.push_back("could not clean up: " + DescribeFailure(argv, r));
      }
    }
  }

  const RestorePlan& plan_;
  Host& host_;
  std::string host_dir_;
  RestoreObserver* observer_;
  RestoreOptions options_;
};

}  // namespace

RestoreReport ExecuteRestore(const RestorePlan& plan, Host& host, const std::string& host_dir,
                             RestoreObserver* observer, const RestoreOptions& options) {
  return RestoreRun(plan, host, host_dir, observer, options).Run();
}

}  // namespace zrecon
