#include "reconciler/storage/ssh_destination.h"

#include <unistd.h>

#include <functional>
#include <string_view>
#include <utility>

#include "reconciler/catalog/catalog_edits.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/zstd_encoder.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr const char* kFsync = "fsync@openssh.com";
constexpr const char* kPosixRename = "posix-rename@openssh.com";
// The layout is at most four levels deep; deeper trees are not zrecon's.
constexpr int kMaxCleanDepth = 16;
constexpr size_t kEncodeBuffer = 256 << 10;

std::string TempName(const std::string& base, unsigned serial) {
  return std::string(kTempPrefix) + "." + base + "." + std::to_string(::getpid()) + "." +
         std::to_string(serial);
}

// A stream written to a temporary file on the remote host, hashed as it is
// sent. The first error sticks; an uncommitted file is removed.
class SshStreamFile : public StreamFile, private EncoderOutput {
 public:
  struct Target {
    SftpClient* client;
    std::string dir;    // remote directory
    std::string temp;   // remote temporary file
    std::string final;  // remote final name
    std::string shown;  // the final name for messages (a URL)
    std::string file;   // as recorded
    std::string compression;
    std::function<bool()> recorded;
  };

  SshStreamFile(Target target, std::unique_ptr<ZstdEncoder> encoder,
                std::unique_ptr<SftpWriter> writer)
      : t_(std::move(target)), encoder_(std::move(encoder)), writer_(std::move(writer)) {
    if (encoder_) buffer_.resize(kEncodeBuffer);
  }

  ~SshStreamFile() override {
    if (committed_) return;
    writer_.reset();
    t_.client->Remove(t_.temp, true);
  }

  Status Write(const char* data, size_t size) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Error("cannot write " + t_.shown + ": already committed");
    bytes_in_ += size;
    Status st = encoder_ ? encoder_->Encode(data, size, false, this) : Emit(data, size);
    if (!st.ok()) error_ = st;
    return st;
  }

  Status Commit(StoredFile* stored) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Error("cannot commit " + t_.shown + ": already committed");
    Status st = encoder_ ? encoder_->Encode(nullptr, 0, true, this) : Status::Ok();
    if (st.ok()) st = writer_->Finish();
    if (st.ok()) st = Publish();
    if (!st.ok()) {
      error_ = st;
      return st;
    }
    committed_ = true;
    stored->file = t_.file;
    stored->size = size_;
    stored->sha256 = sha_.HexDigest();
    stored->compression = t_.compression;
    stored->stream_size = bytes_in_;
    return t_.client->FsyncDirectory(t_.dir).Prefixed(t_.shown +
                                                      " was committed but may not be durable");
  }

  uint64_t bytes_in() const override { return bytes_in_; }

 private:
  char* space() override { return buffer_.data(); }
  size_t space_size() const override { return buffer_.size(); }
  Status Fill(size_t n) override { return n == 0 ? Status::Ok() : Emit(buffer_.data(), n); }

  Status Emit(const char* data, size_t n) {
    sha_.Update(data, n);
    size_ += n;
    return writer_->Write(data, n);
  }

  // SFTP's RENAME never replaces a file. The final name exists only as
  // garbage of a crash between a commit and its Record* call: replaced
  // once the catalog confirms it is not recorded.
  Status Publish() {
    Status st = t_.client->RenameNoReplace(t_.temp, t_.final);
    if (st.ok()) return st;
    SftpAttrs attrs;
    SftpCode code;
    Status seen = t_.client->Lstat(t_.final, &attrs, &code);
    if (!seen.ok() || code != SftpCode::kOk) return st;
    if (t_.recorded()) {
      return Status::Error("refusing to replace " + t_.shown + ": the catalog records it");
    }
    if (!attrs.IsRegular()) {
      return Status::Error("refusing to replace " + t_.shown + ": not a regular file");
    }
    return t_.client->RenameReplace(t_.temp, t_.final);
  }

  Target t_;
  std::unique_ptr<ZstdEncoder> encoder_;
  std::unique_ptr<SftpWriter> writer_;
  std::string buffer_;
  Sha256 sha_;
  uint64_t size_ = 0;
  uint64_t bytes_in_ = 0;
  bool committed_ = false;
  Status error_;
};

}  // namespace

SshDestination::SshDestination(std::string name, SshLocation location, std::string host,
                               DestinationCatalog catalog, const TransferLimits& limits)
    : ManifestDestination(std::move(name), std::move(host), std::move(catalog)),
      location_(std::move(location)),
      limits_(limits) {}

SshDestination::~SshDestination() = default;

std::string SshDestination::Remote(const std::string& relative) const {
  std::string host_dir = JoinPath(StripTrailingSlashes(location_.path), host());
  return relative.empty() ? host_dir : JoinPath(host_dir, relative);
}

std::string SshDestination::Shown(const std::string& relative) const {
  return location_.Url() + "/" + host() + (relative.empty() ? "" : "/" + relative);
}

Status SshDestination::Ready() {
  if (!prepare_error_.ok()) return prepare_error_;
  return Status::Ok();
}

Status SshDestination::Prepare() {
  client_.reset();
  prepare_error_ = Status::Ok();
  auto fail = [this](const Status& st) {
    prepare_error_ = st.Prefixed("destination " + name());
    client_.reset();
    return prepare_error_;
  };
  if (host().empty() || host().find('/') != std::string::npos || !IsSafeRelativePath(host())) {
    return fail(Status::Error("invalid host directory name " + Quoted(host())));
  }
  Status st = ConnectSftp(location_, limits_, &client_);
  if (!st.ok()) return fail(Status::Error("is unreachable: " + st.message()));
  for (const char* ext : {kFsync, kPosixRename}) {
    if (!client_->HasExtension(ext)) {
      return fail(Status::Error("the SFTP server of " + location_.Url() + " lacks " + ext +
                                ", which durable, atomic writes need (OpenSSH has both)"));
    }
  }
  SftpAttrs attrs;
  SftpCode code;
  st = client_->Stat(StripTrailingSlashes(location_.path), &attrs, &code);
  if (st.ok() && code == SftpCode::kNoSuchFile) {
    st = Status::Error("is unreachable: " + location_.Url() +
                       " does not exist (create it on the remote host)");
  } else if (st.ok() && !attrs.IsDirectory()) {
    st = Status::Error(location_.Url() + " is not a directory");
  }
  if (st.ok()) st = EnsureDirectory("");
  if (st.ok()) st = RemoveTemps("", 0);
  return st.ok() ? st : fail(st);
}

Status SshDestination::Recover(const Status& failure, const Interrupt* interrupt) {
  if (client_ == nullptr || !client_->broken()) return failure;
  Status st = failure;
  for (int wait_ms : recover_waits_ms_) {
    if (!SleepUnlessInterrupted(interrupt, wait_ms)) return failure;
    st = Prepare();
    if (st.ok()) return st;
    // Only a destination that cannot be reached is worth waiting for.
    if (st.message().find("is unreachable: ") == std::string::npos) break;
  }
  return st;
}

Status SshDestination::EnsureDirectory(const std::string& relative) {
  std::vector<std::string> parts{""};
  if (!relative.empty()) {
    for (std::string_view part : Split(relative, '/')) parts.emplace_back(part);
  }
  std::string walked;
  for (const std::string& part : parts) {
    walked = JoinPath(walked, part);
    SftpAttrs attrs;
    SftpCode code;
    Status st = client_->Lstat(Remote(walked), &attrs, &code);
    if (!st.ok()) return st;
    if (code == SftpCode::kNoSuchFile) {
      st = client_->Mkdir(Remote(walked));
      if (!st.ok()) return st;
      continue;
    }
    if (attrs.IsSymlink()) {
      return Status::Error("refusing to follow symlink " + Shown(walked) +
                           ": zrecon follows no symlink inside a destination");
    }
    if (!attrs.IsDirectory())
      return Status::Error(Shown(walked) + " exists and is not a directory");
  }
  return Status::Ok();
}

Status SshDestination::RemoveTemps(const std::string& relative, int depth) {
  std::vector<SftpEntry> entries;
  Status st = client_->ListDirectory(Remote(relative), &entries);
  for (size_t i = 0; i < entries.size() && st.ok(); ++i) {
    const SftpEntry& e = entries[i];
    std::string child = JoinPath(relative, e.name);
    if (e.attrs.IsDirectory()) {
      if (depth < kMaxCleanDepth) st = RemoveTemps(child, depth + 1);
    } else if (StartsWith(e.name, kTempPrefix)) {
      st = client_->Remove(Remote(child), true)
               .Prefixed("cannot remove leftover temporary file " + Shown(child));
    }
  }
  return st;
}

Status SshDestination::Create(const std::string& file, const std::string& compression,
                              std::unique_ptr<StreamFile>* out) {
  Status st = Ready();
  if (st.ok()) st = CheckNewFile(catalog(), file, compression);
  if (st.ok()) st = EnsureDirectory(RelativeParent(file));
  if (!st.ok()) return st;
  SshStreamFile::Target t;
  t.client = client_.get();
  t.dir = Remote(RelativeParent(file));
  t.temp = JoinPath(t.dir, TempName(BaseName(file), next_temp_++));
  t.final = Remote(file);
  t.shown = Shown(file);
  t.file = file;
  t.compression = compression;
  t.recorded = [this, file] { return CatalogRecordsFile(catalog(), file); };
  std::unique_ptr<ZstdEncoder> encoder;
  if (compression == "zstd") st = ZstdEncoder::Create(t.shown, &encoder);
  // A leftover of a crashed run with the same pid is replaced.
  if (st.ok()) st = client_->Remove(t.temp, true);
  std::unique_ptr<SftpWriter> writer;
  if (st.ok()) st = client_->Create(t.temp, true, &writer);
  if (!st.ok()) return st;
  *out = std::make_unique<SshStreamFile>(std::move(t), std::move(encoder), std::move(writer));
  return Status::Ok();
}

Status SshDestination::CheckCommitted(const StoredFile& stored) {
  if (!IsSafeRelativePath(stored.file)) {
    return Status::Error("refusing to record " + Quoted(stored.file) +
                         ": not a relative path of ordinary components");
  }
  SftpAttrs attrs;
  SftpCode code;
  Status st = client_->Lstat(Remote(stored.file), &attrs, &code);
  if (!st.ok()) return st;
  std::string path = Shown(stored.file);
  if (code != SftpCode::kOk) {
    return Status::Error("refusing to record a file that was not committed: " + path +
                         ": no such file");
  }
  if (!attrs.IsRegular())
    return Status::Error("refusing to record " + path + ": not a regular file");
  if (attrs.size != stored.size) {
    return Status::Error("refusing to record " + path + ": it holds " + std::to_string(attrs.size) +
                         " bytes but the record says " + std::to_string(stored.size));
  }
  return Status::Ok();
}

Status SshDestination::WriteAtomically(const std::string& relative, const std::string& data) {
  std::string parent = RelativeParent(relative);
  Status st = EnsureDirectory(parent);
  std::string temp = JoinPath(Remote(parent), TempName(BaseName(relative), next_temp_++));
  if (st.ok()) st = client_->Remove(temp, true);
  if (st.ok()) st = client_->WriteNewFile(temp, data);
  if (st.ok()) st = client_->RenameReplace(temp, Remote(relative));
  if (!st.ok()) {
    client_->Remove(temp, true);
    return st.Prefixed("cannot write " + Shown(relative));
  }
  return client_->FsyncDirectory(Remote(parent))
      .Prefixed(Shown(relative) + " was written but may not be durable");
}

Status SshDestination::PutZoneManifest(const ZoneManifest& manifest) {
  return WriteAtomically(manifest.uuid + "/" + kZoneManifestName, EncodeZoneManifest(manifest));
}

Status SshDestination::PutImageManifest(const ImageManifest& manifest) {
  return WriteAtomically(std::string(kImagesDir) + "/" + manifest.uuid + kJsonSuffix,
                         EncodeImageManifest(manifest));
}

// A loose file (`regular_only`) is a name a manifest journaled, not one it
// records: whatever else now has that name was not written by zrecon.
Status SshDestination::RemoveFile(const std::string& file, const std::string& zone_uuid,
                                  bool regular_only) {
  std::string parent = RelativeParent(file);
  // The directories on the way must be real ones (no symlink followed).
  std::string walked;
  for (std::string_view part : Split(parent, '/')) {
    walked = JoinPath(walked, std::string(part));
    SftpAttrs attrs;
    SftpCode code;
    Status st = client_->Lstat(Remote(walked), &attrs, &code);
    if (!st.ok()) return st;
    if (code == SftpCode::kNoSuchFile) return Status::Ok();
    if (!attrs.IsDirectory()) {
      return Status::Error("refusing to remove " + Shown(file) + ": " + Shown(walked) +
                           " is not a directory");
    }
  }
  SftpAttrs attrs;
  SftpCode code;
  Status st = client_->Lstat(Remote(file), &attrs, &code);
  if (!st.ok()) return st;
  if (code == SftpCode::kNoSuchFile) return Status::Ok();
  if (regular_only && !attrs.IsRegular()) {
    return Status::Error("refusing to remove " + Shown(file) + ": not a regular file");
  }
  st = client_->Remove(Remote(file), true);
  if (!st.ok()) return st;
  // Directories the removal emptied, deepest first, up to but not
  // including the zone directory; the first non-empty one ends it.
  for (std::string sub = parent; sub != zone_uuid && !sub.empty(); sub = RelativeParent(sub)) {
    if (!client_->Rmdir(Remote(sub), true).ok()) break;
  }
  return Status::Ok();
}

}  // namespace zrecon
