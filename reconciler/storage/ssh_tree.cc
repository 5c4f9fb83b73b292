#include "reconciler/storage/ssh_tree.h"

#include <cctype>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// What a failed lstat means to the walker.
EntryKind KindOf(const SftpAttrs& attrs) {
  if (attrs.IsDirectory()) return EntryKind::kDirectory;
  if (attrs.IsRegular()) return EntryKind::kRegular;
  if (attrs.IsSymlink()) return EntryKind::kSymlink;
  return EntryKind::kOther;
}

class SshTree : public DestinationTree {
 public:
  SshTree(SshLocation location, const TransferLimits& limits)
      : location_(std::move(location)),
        limits_(limits),
        root_(StripTrailingSlashes(location_.path)) {}

  std::string PathOf(const std::string& relative) const override {
    return location_.Url() + (relative.empty() ? "" : "/" + relative);
  }

  std::string CheckRoot() override {
    if (!Connected()) return connect_error_.message();
    SftpAttrs attrs;
    SftpCode code;
    Status st = client_->Stat(root_, &attrs, &code);
    if (!st.ok()) return st.message();
    if (code == SftpCode::kNoSuchFile) return location_.Url() + " does not exist";
    if (!attrs.IsDirectory()) return location_.Url() + " is not a directory";
    return "";
  }

  EntryKind Inspect(const std::string& relative, std::string* what, uint64_t* size) override {
    if (!Connected()) {
      *what = connect_error_.message();
      return EntryKind::kError;
    }
    SftpAttrs attrs;
    SftpCode code;
    Status st = client_->Lstat(Remote(relative), &attrs, &code);
    if (!st.ok()) {
      *what = "cannot stat: " + st.message();
      return EntryKind::kError;
    }
    if (code == SftpCode::kNoSuchFile) return EntryKind::kMissing;
    if (size != nullptr) *size = attrs.size;
    return KindOf(attrs);
  }

  Status List(const std::string& relative, std::vector<std::string>* names) override {
    names->clear();
    if (!Connected()) return connect_error_;
    std::vector<SftpEntry> entries;
    Status st = client_->ListDirectory(Remote(relative), &entries);
    for (SftpEntry& e : entries) names->push_back(std::move(e.name));
    return st;
  }

  std::string LinkTarget(const std::string& relative) override {
    std::string target;
    if (!Connected() || !client_->Readlink(Remote(relative), &target).ok()) return "?";
    return Printable(target);
  }

  std::string Open(const std::string& relative, std::unique_ptr<ByteSource>* out,
                   uint64_t* size) override;

 private:
  std::string Remote(const std::string& relative) const {
    return relative.empty() ? root_ : JoinPath(root_, relative);
  }

  bool Connected() {
    if (client_) return true;
    if (!connect_error_.ok()) return false;
    connect_error_ = ConnectSftp(location_, limits_, &client_);
    return connect_error_.ok();
  }

 public:
  // For the readers it opened (SftpSource).
  SftpClient* client() const { return client_.get(); }
  bool Lost() const { return client_ != nullptr && client_->broken(); }
  // A new session after a lost one, waiting 2, 4 and 8 s (less once
  // interrupted) until an attempt connects.
  Status Reconnect() {
    Status st = Status::Error(location_.Url() + ": the ssh session is lost");
    for (int wait_ms : ReconnectWaitsMs()) {
      if (!SleepUnlessInterrupted(limits_.interrupt, wait_ms)) return st;
      client_.reset();
      connect_error_ = Status::Ok();
      if (Connected()) return Status::Ok();
      st = connect_error_;
    }
    return st;
  }

 private:
  SshLocation location_;
  TransferLimits limits_;
  std::string root_;
  std::unique_ptr<SftpClient> client_;
  Status connect_error_;
};

// Reads a remote file over the tree's session. A session lost on the way
// is reconnected (SshTree::Reconnect) and the file opened again where the
// reading stopped, up to kMaxResumes times: a restore or verify goes on
// through a dropped link. What the reader gets is checked against the
// catalog's SHA-256 anyway.
class SftpSource : public ByteSource {
 public:
  SftpSource(SshTree* tree, std::string path, std::unique_ptr<SftpReader> reader)
      : tree_(tree), path_(std::move(path)), reader_(std::move(reader)) {}

  Status Read(char* buffer, size_t capacity, size_t* got) override {
    Status st = reader_->Read(buffer, capacity, got);
    while (!st.ok() && resumes_ < kMaxResumes && tree_->Lost()) {
      ++resumes_;
      reader_.reset();  // its session is gone: nothing to close
      Status back = tree_->Reconnect();
      if (!back.ok()) return Status::Error(st.message() + "; then " + back.message());
      Status reopened = tree_->client()->Open(path_, &reader_, delivered_);
      if (!reopened.ok()) return reopened;
      st = reader_->Read(buffer, capacity, got);
    }
    if (st.ok()) delivered_ += *got;
    return st;
  }

 private:
  static constexpr int kMaxResumes = 3;
  SshTree* tree_;
  std::string path_;
  std::unique_ptr<SftpReader> reader_;
  uint64_t delivered_ = 0;
  int resumes_ = 0;
};

// Each component lstat'ed before the next is looked at: no symlink is
// followed below the root. (SFTP has no openat: a name swapped for a
// symlink between the lstat and the open is not caught, which only someone
// who can already write to the remote directory can do.)
std::string SshTree::Open(const std::string& relative, std::unique_ptr<ByteSource>* out,
                          uint64_t* size) {
  if (!IsSafeRelativePath(relative) || relative.find('/') == std::string::npos) {
    return "not a relative path of ordinary components";
  }
  if (!Connected()) return connect_error_.message();
  std::vector<std::string> parts;
  for (std::string_view part : Split(relative, '/')) parts.emplace_back(part);
  std::string walked;
  std::string below;
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    walked = JoinPath(walked, parts[i]);
    if (i > 0) below = JoinPath(below, parts[i]);
    const std::string shown = i == 0 ? "the host directory" : below;
    SftpAttrs attrs;
    SftpCode code;
    Status st = client_->Lstat(Remote(walked), &attrs, &code);
    if (!st.ok()) return "cannot stat " + shown + ": " + st.message();
    if (code == SftpCode::kNoSuchFile) return "missing";
    if (attrs.IsSymlink()) {
      std::string where = LinkTarget(walked) + ": zrecon follows no symlink inside a destination";
      return last ? "is a symlink to " + where
                  : "reached through " + shown + ", a symlink to " + where;
    }
    if (!last && !attrs.IsDirectory()) return shown + " is not a directory";
    if (last && !attrs.IsRegular()) return "not a regular file";
    if (last) *size = attrs.size;
  }
  if (out == nullptr) return "";
  std::unique_ptr<SftpReader> reader;
  Status st = client_->Open(Remote(relative), &reader);
  if (!st.ok()) return "cannot open: " + st.message();
  *out = std::make_unique<SftpSource>(this, Remote(relative), std::move(reader));
  return "";
}

}  // namespace

Argv SshSftpArgv(const SshLocation& loc) {
  const char* program = std::getenv("ZRECON_SSH");
  Argv argv = {program != nullptr && *program ? program : "ssh",
               "-o",
               "BatchMode=yes",
               "-o",
               "ServerAliveInterval=15",
               "-o",
               "ServerAliveCountMax=4",
               "-o",
               "ConnectTimeout=" + std::to_string(kSshConnectTimeoutSeconds)};
  if (loc.port != 0) argv.insert(argv.end(), {"-p", std::to_string(loc.port)});
  if (!loc.user.empty()) argv.insert(argv.end(), {"-l", loc.user});
  if (!loc.identity.empty()) {
    argv.insert(argv.end(), {"-i", loc.identity, "-o", "IdentitiesOnly=yes"});
  }
  if (!loc.known_hosts.empty()) {
    argv.insert(argv.end(),
                {"-o", "UserKnownHostsFile=" + loc.known_hosts, "-o", "StrictHostKeyChecking=yes"});
  }
  argv.insert(argv.end(), {"-s", "--", loc.host, "sftp"});
  return argv;
}

Status ConnectSftp(const SshLocation& location, const TransferLimits& limits,
                   std::unique_ptr<SftpClient>* out) {
  return SftpClient::Connect(SshSftpArgv(location), location.Url(), limits, out);
}

std::unique_ptr<DestinationTree> SshDestinationTree(const SshLocation& location,
                                                    const TransferLimits& limits) {
  return std::make_unique<SshTree>(location, limits);
}

}  // namespace zrecon
