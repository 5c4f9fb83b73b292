#include "reconciler/storage/sftp_client.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "reconciler/util/fd.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// Packet types (draft-ietf-secsh-filexfer-02, section 3).
constexpr uint8_t kInit = 1;
constexpr uint8_t kVersion = 2;
constexpr uint8_t kOpen = 3;
constexpr uint8_t kClose = 4;
constexpr uint8_t kRead = 5;
constexpr uint8_t kWrite = 6;
constexpr uint8_t kLstat = 7;
constexpr uint8_t kOpendir = 11;
constexpr uint8_t kReaddir = 12;
constexpr uint8_t kRemove = 13;
constexpr uint8_t kMkdir = 14;
constexpr uint8_t kRmdir = 15;
constexpr uint8_t kStat = 17;
constexpr uint8_t kRename = 18;
constexpr uint8_t kReadlink = 19;
constexpr uint8_t kStatus = 101;
constexpr uint8_t kHandle = 102;
constexpr uint8_t kData = 103;
constexpr uint8_t kName = 104;
constexpr uint8_t kAttrs = 105;
constexpr uint8_t kExtended = 200;
constexpr uint8_t kExtendedReply = 201;

// Open flags (section 6.3).
constexpr uint32_t kFxfRead = 0x01;
constexpr uint32_t kFxfWrite = 0x02;
constexpr uint32_t kFxfCreat = 0x08;
constexpr uint32_t kFxfTrunc = 0x10;
constexpr uint32_t kFxfExcl = 0x20;

// Attribute flags (section 5).
constexpr uint32_t kAttrSize = 0x01;
constexpr uint32_t kAttrUidGid = 0x02;
constexpr uint32_t kAttrPermissions = 0x04;
constexpr uint32_t kAttrAcModTime = 0x08;
constexpr uint32_t kAttrExtended = 0x80000000u;

constexpr const char* kFsyncExtension = "fsync@openssh.com";
constexpr const char* kPosixRenameExtension = "posix-rename@openssh.com";
constexpr const char* kLimitsExtension = "limits@openssh.com";

// The largest packet accepted from the server (OpenSSH sends at most 256 KiB
// of data per reply), and the most requests kept in flight per file.
constexpr uint32_t kMaxPacket = 1u << 20;
constexpr size_t kWriteWindow = 32;
constexpr size_t kReadWindow = 16;
constexpr uint32_t kMaxChunk = 255 * 1024;

void PutU32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

void PutU64(std::string* out, uint64_t v) {
  PutU32(out, static_cast<uint32_t>(v >> 32));
  PutU32(out, static_cast<uint32_t>(v));
}

void PutString(std::string* out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

void PutString(std::string* out, const char* data, size_t size) {
  PutU32(out, static_cast<uint32_t>(size));
  out->append(data, size);
}

// Reads the fields of a payload; any read past its end sets bad.
class Fields {
 public:
  explicit Fields(const std::string& data) : data_(data) {}
  uint32_t U32() {
    if (pos_ + 4 > data_.size()) return Bad();
    auto b = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    pos_ += 4;
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }
  uint64_t U64() {
    uint64_t high = U32();
    return (high << 32) | U32();
  }
  std::string String() {
    uint32_t n = U32();
    if (bad_ || n > data_.size() - pos_) {
      Bad();
      return "";
    }
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  SftpAttrs Attrs() {
    SftpAttrs a;
    uint32_t flags = U32();
    if (flags & kAttrSize) {
      a.has_size = true;
      a.size = U64();
    }
    if (flags & kAttrUidGid) {
      U32();
      U32();
    }
    if (flags & kAttrPermissions) {
      a.has_permissions = true;
      a.permissions = U32();
    }
    if (flags & kAttrAcModTime) {
      U32();
      a.has_mtime = true;
      a.mtime = U32();
    }
    if (flags & kAttrExtended) {
      uint32_t n = U32();
      for (uint32_t i = 0; i < n && !bad_; ++i) {
        String();
        String();
      }
    }
    return a;
  }
  bool bad() const { return bad_; }
  bool done() const { return pos_ >= data_.size(); }

 private:
  uint32_t Bad() {
    bad_ = true;
    pos_ = data_.size();
    return 0;
  }
  const std::string& data_;
  size_t pos_ = 0;
  bool bad_ = false;
};

std::string CodeName(uint32_t code) {
  static const char* const kNames[] = {
      "ok",          "end of file",   "no such file",    "permission denied",    "failure",
      "bad message", "no connection", "connection lost", "operation unsupported"};
  return code < std::size(kNames) ? kNames[code] : "status " + std::to_string(code);
}

std::string NoAttrs() {
  std::string s;
  PutU32(&s, 0);
  return s;
}

}  // namespace

bool SftpAttrs::IsDirectory() const { return has_permissions && S_ISDIR(permissions); }
bool SftpAttrs::IsRegular() const { return has_permissions && S_ISREG(permissions); }
bool SftpAttrs::IsSymlink() const { return has_permissions && S_ISLNK(permissions); }

// ---------------------------------------------------------------------------
// SftpClient: the session

Status SftpClient::Connect(const Argv& argv, std::string what, const TransferLimits& limits,
                           std::unique_ptr<SftpClient>* out) {
  std::unique_ptr<SftpClient> c(new SftpClient());
  c->what_ = std::move(what);
  c->timeout_ms_ = limits.stall_seconds > 0 ? limits.stall_seconds * 1000 : -1;
  c->interrupt_ = limits.interrupt;
  Status st = c->child_.Start(argv);
  if (!st.ok()) return st.Prefixed(c->what_);
  std::string init;
  PutU32(&init, 1 + 4);
  init.push_back(static_cast<char>(kInit));
  PutU32(&init, 3);
  if (WriteFully(c->child_.to_child(), init.data(), init.size()) != 0) {
    return c->Broken("cannot start the SFTP session");
  }
  std::string packet;
  st = c->ReadPacket(&packet);
  if (!st.ok()) return st;
  Fields f(packet);
  uint8_t type = packet.empty() ? 0 : static_cast<uint8_t>(packet[0]);
  if (type != kVersion) return c->Broken("the server's first reply is not SSH_FXP_VERSION");
  std::string rest = packet.substr(1);
  Fields v(rest);
  uint32_t version = v.U32();
  if (v.bad() || version < 3) {
    return c->Broken("the server speaks SFTP version " + std::to_string(version) +
                     ", zrecon needs 3");
  }
  while (!v.done() && !v.bad()) {
    std::string name = v.String();
    std::string data = v.String();
    if (!v.bad()) c->extensions_[name] = data;
  }
  if (c->HasExtension(kLimitsExtension)) {
    std::string body;
    PutString(&body, kLimitsExtension);
    uint8_t reply;
    std::string payload;
    st = c->Request(kExtended, body, &reply, &payload);
    if (!st.ok()) return st;
    if (reply == kExtendedReply) {
      Fields l(payload);
      l.U64();  // max packet length
      uint64_t max_read = l.U64();
      uint64_t max_write = l.U64();
      uint64_t limit = std::min(max_read, max_write);
      if (!l.bad() && limit >= 1024) {
        c->chunk_ = static_cast<uint32_t>(std::min<uint64_t>(limit, kMaxChunk));
      }
    }
  }
  *out = std::move(c);
  return Status::Ok();
}

SftpClient::~SftpClient() { child_.Stop(); }

Status SftpClient::Broken(const std::string& why) {
  if (broken_.ok()) {
    std::string said = child_.Stderr();
    std::string ended = child_.Stop(true);
    std::string message = what_ + ": the ssh session is lost: " + why;
    if (!ended.empty()) message += " (the ssh command " + ended + ")";
    if (!said.empty()) message += ": " + said;
    broken_ = Status::Error(message);
  }
  return broken_;
}

Status SftpClient::Send(uint8_t type, const std::string& body, uint32_t* id) {
  if (!broken_.ok()) return broken_;
  *id = next_id_++;
  std::string packet;
  packet.reserve(body.size() + 9);
  PutU32(&packet, static_cast<uint32_t>(body.size() + 5));
  packet.push_back(static_cast<char>(type));
  PutU32(&packet, *id);
  packet.append(body);
  if (int err = WriteFully(child_.to_child(), packet.data(), packet.size())) {
    return Broken(std::string("the connection is gone (write: ") + std::strerror(err) + ")");
  }
  return Status::Ok();
}

Status SftpClient::ReadPacket(std::string* packet) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  // Set once the interrupt is seen: the server has a grace period left.
  Clock::time_point grace_end = Clock::time_point::max();
  const int interrupt_fd = interrupt_ != nullptr ? interrupt_->fd() : -1;
  while (true) {
    if (inbuf_.size() >= 4) {
      Fields f(inbuf_);
      uint32_t length = f.U32();
      if (length == 0 || length > kMaxPacket) {
        return Broken("the server sent a packet of " + std::to_string(length) + " bytes");
      }
      if (inbuf_.size() >= 4 + size_t{length}) {
        packet->assign(inbuf_, 4, length);
        inbuf_.erase(0, 4 + size_t{length});
        return Status::Ok();
      }
    }
    if (grace_end == Clock::time_point::max() && interrupt_ != nullptr && interrupt_->raised()) {
      grace_end = Clock::now() + std::chrono::seconds(kInterruptGraceSeconds);
    }
    auto until = [](Clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    };
    int wait = -1;
    if (timeout_ms_ > 0) {
      auto left = until(deadline);
      if (left <= 0) {
        return Broken("no answer from the server in " + std::to_string(timeout_ms_ / 1000) +
                      " s (--stall-timeout)");
      }
      wait = static_cast<int>(left);
    }
    if (grace_end != Clock::time_point::max()) {
      auto left = until(grace_end);
      if (left <= 0) {
        return Broken(interrupt_->Describe() + ", and the server did not answer within " +
                      std::to_string(kInterruptGraceSeconds) + " s");
      }
      if (wait < 0 || left < wait) wait = static_cast<int>(left);
    }
    struct pollfd p[2] = {{child_.from_child(), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    // The interrupt's descriptor stays readable once raised: watched only
    // until then.
    nfds_t watched = interrupt_fd >= 0 && grace_end == Clock::time_point::max() ? 2 : 1;
    int ready = ::poll(p, watched, wait);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Broken(std::string("poll: ") + std::strerror(errno));
    if (ready == 0 || (p[0].revents == 0)) continue;
    char buffer[65536];
    ssize_t got = ::read(child_.from_child(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Broken(std::string("read: ") + std::strerror(errno));
    if (got == 0) return Broken("the connection closed");
    inbuf_.append(buffer, static_cast<size_t>(got));
  }
}

Status SftpClient::Receive(uint32_t id, uint8_t* type, std::string* payload) {
  auto early = early_.find(id);
  if (early != early_.end()) {
    *type = early->second.first;
    *payload = std::move(early->second.second);
    early_.erase(early);
    return Status::Ok();
  }
  while (true) {
    if (!broken_.ok()) return broken_;
    std::string packet;
    Status st = ReadPacket(&packet);
    if (!st.ok()) return st;
    if (packet.size() < 5) return Broken("the server sent a packet without a request id");
    Fields f(packet);
    uint32_t head = f.U32();
    uint8_t got_type = static_cast<uint8_t>(head >> 24);
    std::string id_bytes = packet.substr(1, 4);
    Fields idf(id_bytes);
    uint32_t got_id = idf.U32();
    std::string rest = packet.substr(5);
    if (got_id == id) {
      *type = got_type;
      *payload = std::move(rest);
      return Status::Ok();
    }
    if (got_id >= next_id_) {
      return Broken("the server answered request " + std::to_string(got_id) +
                    ", which was never sent");
    }
    early_[got_id] = {got_type, std::move(rest)};
  }
}

Status SftpClient::Request(uint8_t type, const std::string& body, uint8_t* reply,
                           std::string* payload) {
  uint32_t id;
  Status st = Send(type, body, &id);
  return st.ok() ? Receive(id, reply, payload) : st;
}

Status SftpClient::StatusError(const std::string& op, const std::string& path,
                               const std::string& payload, SftpCode* code) {
  Fields f(payload);
  uint32_t value = f.U32();
  std::string message = f.bad() ? "" : f.String();
  if (code) *code = static_cast<SftpCode>(value);
  std::string text = what_ + ": SFTP " + op + " " + Printable(path) + ": " + CodeName(value);
  if (!message.empty() && message != CodeName(value)) text += " (" + Printable(message) + ")";
  return Status::Error(text);
}

Status SftpClient::Call(uint8_t type, const std::string& body, const std::string& op,
                        const std::string& path, SftpCode* code) {
  uint8_t reply;
  std::string payload;
  Status st = Request(type, body, &reply, &payload);
  if (!st.ok()) return st;
  if (reply != kStatus) return Broken(op + " " + Printable(path) + ": unexpected reply type");
  Fields f(payload);
  uint32_t value = f.U32();
  if (code) *code = static_cast<SftpCode>(value);
  if (value == 0) return Status::Ok();
  return StatusError(op, path, payload, code);
}

// ---------------------------------------------------------------------------
// SftpClient: operations

Status SftpClient::Lstat(const std::string& path, SftpAttrs* attrs, SftpCode* code) {
  return StatWith(kLstat, "lstat", path, attrs, code);
}

Status SftpClient::Stat(const std::string& path, SftpAttrs* attrs, SftpCode* code) {
  return StatWith(kStat, "stat", path, attrs, code);
}

Status SftpClient::Readlink(const std::string& path, std::string* target) {
  std::string body;
  PutString(&body, path);
  uint8_t reply;
  std::string payload;
  Status st = Request(kReadlink, body, &reply, &payload);
  if (!st.ok()) return st;
  if (reply == kStatus) return StatusError("readlink", path, payload, nullptr);
  if (reply != kName) return Broken("readlink " + Printable(path) + ": unexpected reply type");
  Fields f(payload);
  uint32_t count = f.U32();
  *target = f.String();
  if (f.bad() || count < 1) return Broken("readlink " + Printable(path) + ": malformed name");
  return Status::Ok();
}

Status SftpClient::StatWith(uint8_t type, const char* op, const std::string& path, SftpAttrs* attrs,
                            SftpCode* code) {
  std::string body;
  PutString(&body, path);
  uint8_t reply;
  std::string payload;
  Status st = Request(type, body, &reply, &payload);
  if (!st.ok()) return st;
  if (reply == kAttrs) {
    Fields f(payload);
    *attrs = f.Attrs();
    if (f.bad()) return Broken(std::string(op) + " " + Printable(path) + ": malformed attributes");
    *code = SftpCode::kOk;
    return Status::Ok();
  }
  if (reply != kStatus) {
    return Broken(std::string(op) + " " + Printable(path) + ": unexpected reply type");
  }
  Status err = StatusError(op, path, payload, code);
  return *code == SftpCode::kNoSuchFile ? Status::Ok() : err;
}

Status SftpClient::ListDirectory(const std::string& path, std::vector<SftpEntry>* out) {
  out->clear();
  std::string body;
  PutString(&body, path);
  uint8_t reply;
  std::string payload;
  Status st = Request(kOpendir, body, &reply, &payload);
  if (!st.ok()) return st;
  if (reply == kStatus) return StatusError("opendir", path, payload, nullptr);
  if (reply != kHandle) return Broken("opendir " + Printable(path) + ": unexpected reply type");
  std::string handle = Fields(payload).String();
  std::string handle_body;
  PutString(&handle_body, handle);
  while (st.ok()) {
    st = Request(kReaddir, handle_body, &reply, &payload);
    if (!st.ok()) break;
    if (reply == kStatus) {
      SftpCode code;
      Status err = StatusError("readdir", path, payload, &code);
      if (code != SftpCode::kEof) st = err;
      break;
    }
    if (reply != kName) {
      st = Broken("readdir " + Printable(path) + ": unexpected reply type");
      break;
    }
    Fields f(payload);
    uint32_t count = f.U32();
    for (uint32_t i = 0; i < count && !f.bad(); ++i) {
      SftpEntry e;
      e.name = f.String();
      f.String();  // longname
      e.attrs = f.Attrs();
      if (!f.bad() && e.name != "." && e.name != "..") out->push_back(std::move(e));
    }
    if (f.bad()) st = Broken("readdir " + Printable(path) + ": malformed names");
  }
  Status closed = CloseHandle(handle, path);
  if (st.ok()) st = closed;
  std::sort(out->begin(), out->end(),
            [](const SftpEntry& a, const SftpEntry& b) { return a.name < b.name; });
  return st;
}

Status SftpClient::Mkdir(const std::string& path, bool* created) {
  if (created) *created = false;
  std::string body;
  PutString(&body, path);
  body += NoAttrs();
  SftpCode code;
  Status st = Call(kMkdir, body, "mkdir", path, &code);
  if (st.ok()) {
    if (created) *created = true;
    return st;
  }
  if (!broken_.ok()) return st;
  // OpenSSH answers "failure" for EEXIST: look at what is there.
  SftpAttrs attrs;
  SftpCode there;
  Status seen = Lstat(path, &attrs, &there);
  if (seen.ok() && there == SftpCode::kOk && attrs.IsDirectory()) return Status::Ok();
  if (seen.ok() && there == SftpCode::kOk) {
    return Status::Error(what_ + ": " + Printable(path) + " exists and is not a directory");
  }
  return st;
}

Status SftpClient::Remove(const std::string& path, bool missing_ok) {
  return RemoveName(kRemove, "remove", path, missing_ok);
}

Status SftpClient::Rmdir(const std::string& path, bool missing_ok) {
  return RemoveName(kRmdir, "rmdir", path, missing_ok);
}

Status SftpClient::RemoveName(uint8_t type, const char* op, const std::string& path,
                              bool missing_ok) {
  std::string body;
  PutString(&body, path);
  SftpCode code;
  Status st = Call(type, body, op, path, &code);
  if (!st.ok() && missing_ok && broken_.ok() && code == SftpCode::kNoSuchFile) return Status::Ok();
  return st;
}

Status SftpClient::RenameNoReplace(const std::string& from, const std::string& to) {
  std::string body;
  PutString(&body, from);
  PutString(&body, to);
  return Call(kRename, body, "rename to " + Printable(to) + " of", from);
}

Status SftpClient::RenameReplace(const std::string& from, const std::string& to) {
  if (!HasExtension(kPosixRenameExtension)) {
    return Status::Error(what_ + ": the SFTP server lacks " + kPosixRenameExtension +
                         ", which replacing " + Printable(to) + " atomically needs");
  }
  std::string body;
  PutString(&body, kPosixRenameExtension);
  PutString(&body, from);
  PutString(&body, to);
  return Call(kExtended, body, "posix-rename to " + Printable(to) + " of", from);
}

Status SftpClient::OpenHandle(const std::string& path, uint32_t flags, std::string* handle) {
  std::string body;
  PutString(&body, path);
  PutU32(&body, flags);
  if (flags & kFxfCreat) {
    PutU32(&body, kAttrPermissions);
    PutU32(&body, 0644);
  } else {
    body += NoAttrs();
  }
  uint8_t reply;
  std::string payload;
  Status st = Request(kOpen, body, &reply, &payload);
  if (!st.ok()) return st;
  if (reply == kStatus) return StatusError("open", path, payload, nullptr);
  if (reply != kHandle) return Broken("open " + Printable(path) + ": unexpected reply type");
  Fields f(payload);
  *handle = f.String();
  if (f.bad()) return Broken("open " + Printable(path) + ": malformed handle");
  return Status::Ok();
}

Status SftpClient::CloseHandle(const std::string& handle, const std::string& path) {
  std::string body;
  PutString(&body, handle);
  return Call(kClose, body, "close", path);
}

Status SftpClient::Fsync(const std::string& handle, const std::string& path) {
  if (!HasExtension(kFsyncExtension)) {
    if (!require_fsync_) return Status::Ok();
    return Status::Error(what_ + ": the SFTP server lacks " + kFsyncExtension + ", so " +
                         Printable(path) + " cannot be made durable");
  }
  std::string body;
  PutString(&body, kFsyncExtension);
  PutString(&body, handle);
  return Call(kExtended, body, "fsync", path);
}

Status SftpClient::FsyncDirectory(const std::string& path) {
  if (!HasExtension(kFsyncExtension) && !require_fsync_) return Status::Ok();
  std::string handle;
  Status st = OpenHandle(path, kFxfRead, &handle);
  if (!st.ok()) return st;
  st = Fsync(handle, path);
  Status closed = CloseHandle(handle, path);
  return st.ok() ? closed : st;
}

Status SftpClient::Create(const std::string& path, bool exclusive,
                          std::unique_ptr<SftpWriter>* out) {
  std::string handle;
  uint32_t flags = kFxfWrite | kFxfCreat | (exclusive ? kFxfExcl : kFxfTrunc);
  Status st = OpenHandle(path, flags, &handle);
  if (!st.ok()) return st;
  out->reset(new SftpWriter(this, path, std::move(handle)));
  return Status::Ok();
}

Status SftpClient::Open(const std::string& path, std::unique_ptr<SftpReader>* out,
                        uint64_t offset) {
  std::string handle;
  Status st = OpenHandle(path, kFxfRead, &handle);
  if (!st.ok()) return st;
  out->reset(new SftpReader(this, path, std::move(handle), offset));
  return Status::Ok();
}

Status SftpClient::ReadFile(const std::string& path, size_t limit, std::string* out) {
  out->clear();
  std::unique_ptr<SftpReader> reader;
  Status st = Open(path, &reader);
  char buffer[65536];
  while (st.ok()) {
    size_t got = 0;
    st = reader->Read(buffer, sizeof buffer, &got);
    if (!st.ok() || got == 0) break;
    out->append(buffer, got);
    if (out->size() > limit) {
      return Status::Error(what_ + ": " + Printable(path) + " is larger than " +
                           std::to_string(limit) + " bytes");
    }
  }
  return st;
}

Status SftpClient::WriteNewFile(const std::string& path, const std::string& data) {
  std::unique_ptr<SftpWriter> writer;
  Status st = Create(path, true, &writer);
  if (st.ok()) st = writer->Write(data.data(), data.size());
  if (st.ok()) st = writer->Finish();
  return st;
}

// ---------------------------------------------------------------------------
// SftpWriter

SftpWriter::~SftpWriter() {
  if (closed_ || !client_->broken_.ok()) return;
  // Abandoned: collect the acknowledgements, close the handle; the caller
  // removes the file.
  for (uint32_t id : in_flight_) {
    uint8_t type;
    std::string payload;
    if (!client_->Receive(id, &type, &payload).ok()) return;
  }
  client_->CloseHandle(handle_, path_);
}

Status SftpWriter::SendChunk(const char* data, size_t size) {
  if (in_flight_.size() >= kWriteWindow) {
    uint8_t type;
    std::string payload;
    uint32_t id = in_flight_.front();
    in_flight_.erase(in_flight_.begin());
    Status st = client_->Receive(id, &type, &payload);
    if (!st.ok()) return st;
    if (type != kStatus) return client_->Broken("write " + Printable(path_) + ": unexpected reply");
    Fields f(payload);
    if (f.U32() != 0) return client_->StatusError("write", path_, payload, nullptr);
  }
  std::string body;
  body.reserve(size + handle_.size() + 20);
  PutString(&body, handle_);
  PutU64(&body, sent_);
  PutString(&body, data, size);
  uint32_t id;
  Status st = client_->Send(kWrite, body, &id);
  if (!st.ok()) return st;
  in_flight_.push_back(id);
  sent_ += size;
  return Status::Ok();
}

Status SftpWriter::Write(const char* data, size_t size) {
  if (!failed_.ok()) return failed_;
  if (closed_) return Status::Error("write to " + Printable(path_) + " after it was closed");
  offset_ += size;
  size_t chunk = client_->chunk();
  if (!pending_.empty()) {
    size_t take = std::min(size, chunk - pending_.size());
    pending_.append(data, take);
    data += take;
    size -= take;
    if (pending_.size() == chunk) {
      failed_ = SendChunk(pending_.data(), pending_.size());
      pending_.clear();
    }
  }
  while (failed_.ok() && size >= chunk) {
    failed_ = SendChunk(data, chunk);
    data += chunk;
    size -= chunk;
  }
  if (failed_.ok() && size > 0) pending_.append(data, size);
  return failed_;
}

Status SftpWriter::Flush(bool) {
  if (!failed_.ok()) return failed_;
  if (!pending_.empty()) {
    failed_ = SendChunk(pending_.data(), pending_.size());
    pending_.clear();
  }
  while (failed_.ok() && !in_flight_.empty()) {
    uint8_t type;
    std::string payload;
    uint32_t id = in_flight_.front();
    in_flight_.erase(in_flight_.begin());
    failed_ = client_->Receive(id, &type, &payload);
    if (failed_.ok() && type != kStatus) {
      failed_ = client_->Broken("write " + Printable(path_) + ": unexpected reply");
    } else if (failed_.ok()) {
      Fields f(payload);
      if (f.U32() != 0) failed_ = client_->StatusError("write", path_, payload, nullptr);
    }
  }
  return failed_;
}

Status SftpWriter::Finish() {
  Status st = Flush(true);
  if (st.ok()) st = client_->Fsync(handle_, path_);
  if (!closed_ && client_->broken_.ok()) {
    closed_ = true;
    Status closed = client_->CloseHandle(handle_, path_);
    if (st.ok()) st = closed;
  }
  if (!st.ok()) failed_ = st;
  return st;
}

// ---------------------------------------------------------------------------
// SftpReader

SftpReader::~SftpReader() {
  if (closed_ || !client_->broken_.ok()) return;
  for (const auto& [id, length] : in_flight_) {
    uint8_t type;
    std::string payload;
    if (!client_->Receive(id, &type, &payload).ok()) return;
  }
  client_->CloseHandle(handle_, path_);
}

Status SftpReader::Refill() {
  while (!eof_ && in_flight_.size() < kReadWindow) {
    std::string body;
    PutString(&body, handle_);
    PutU64(&body, requested_);
    PutU32(&body, client_->chunk());
    uint32_t id;
    Status st = client_->Send(kRead, body, &id);
    if (!st.ok()) return st;
    in_flight_.emplace_back(id, client_->chunk());
    requested_ += client_->chunk();
  }
  if (in_flight_.empty()) return Status::Ok();
  auto [id, length] = in_flight_.front();
  in_flight_.erase(in_flight_.begin());
  uint8_t type;
  std::string payload;
  Status st = client_->Receive(id, &type, &payload);
  if (!st.ok()) return st;
  if (type == kStatus) {
    SftpCode code;
    Status err = client_->StatusError("read", path_, payload, &code);
    if (code != SftpCode::kEof) return err;
    eof_ = true;
    // Replies to the later requests are all EOF too.
    for (const auto& later : in_flight_) {
      st = client_->Receive(later.first, &type, &payload);
      if (!st.ok()) return st;
    }
    in_flight_.clear();
    return Status::Ok();
  }
  if (type != kData) return client_->Broken("read " + Printable(path_) + ": unexpected reply");
  Fields f(payload);
  buffer_ = f.String();
  buffer_pos_ = 0;
  if (f.bad()) return client_->Broken("read " + Printable(path_) + ": malformed data");
  if (buffer_.size() < length) {
    // A short read (the end of the file, or a server that sends less):
    // the requests already sent for later offsets would leave a gap, so
    // drain them and go on from where this one ended.
    uint64_t next = requested_ - client_->chunk() * (in_flight_.size() + 1) + buffer_.size();
    for (const auto& later : in_flight_) {
      st = client_->Receive(later.first, &type, &payload);
      if (!st.ok()) return st;
    }
    in_flight_.clear();
    requested_ = next;
  }
  return Status::Ok();
}

Status SftpReader::Read(char* buffer, size_t capacity, size_t* got) {
  *got = 0;
  while (buffer_pos_ >= buffer_.size()) {
    if (eof_ && in_flight_.empty()) {
      if (!closed_) {
        closed_ = true;
        Status st = client_->CloseHandle(handle_, path_);
        if (!st.ok()) return st;
      }
      return Status::Ok();
    }
    buffer_.clear();
    buffer_pos_ = 0;
    Status st = Refill();
    if (!st.ok()) return st;
  }
  size_t n = std::min(capacity, buffer_.size() - buffer_pos_);
  std::memcpy(buffer, buffer_.data() + buffer_pos_, n);
  buffer_pos_ += n;
  *got = n;
  return Status::Ok();
}

}  // namespace zrecon
