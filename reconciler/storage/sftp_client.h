#ifndef ZRECON_STORAGE_SFTP_CLIENT_H_
#define ZRECON_STORAGE_SFTP_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/util/command.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/spawn.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A client of the SFTP protocol, version 3 (draft-ietf-secsh-filexfer-02,
// the version OpenSSH's sftp-server speaks), over the stdin and stdout of a
// child: `ssh ... -s HOST sftp` in production, a local sftp-server in tests.
// OpenSSH does the connection, its configuration, host keys and the
// identity or agent; zrecon never sees a secret. Paths travel as protocol
// strings, never through a remote shell, so no name needs quoting.
//
// Used extensions, when the server announces them (OpenSSH PROTOCOL file):
// fsync@openssh.com (durable writes), posix-rename@openssh.com (atomic
// replacement), limits@openssh.com (largest read and write). Plain RENAME
// of version 3 refuses an existing target (OpenSSH links, then unlinks),
// which is what a commit that must never replace a file wants.
//
// Writes and reads are pipelined (several requests in flight) so that a
// stream goes at the link's pace, not at one round trip per chunk. Every
// wait for the server is bounded by the limits given to Connect: a server
// that says nothing for stall_seconds fails the call and ends the session,
// and so does one that is still silent kInterruptGraceSeconds after the
// interrupt was raised.
//
// Every failed Status names the operation, the path and the server's
// message ("<what>: SFTP <op> <path>: <code> (<message>)"), or, once the
// session is unusable, what ssh said on stderr ("<what>: the ssh session is
// lost: <why>"); apply takes both for a failure of the medium. Not
// thread-safe: one caller at a time.

struct SftpAttrs {
  bool has_size = false;
  uint64_t size = 0;
  bool has_permissions = false;
  uint32_t permissions = 0;  // st_mode, file type bits included
  bool has_mtime = false;
  uint32_t mtime = 0;

  bool IsDirectory() const;
  bool IsRegular() const;
  bool IsSymlink() const;
};

struct SftpEntry {
  std::string name;
  SftpAttrs attrs;
};

// SSH_FX_* status codes the callers tell apart.
enum class SftpCode { kOk = 0, kEof = 1, kNoSuchFile = 2, kPermissionDenied = 3, kFailure = 4 };

class SftpClient;

// A file open for writing; bytes are sent as Write is called, several
// requests in flight. Finish waits for every acknowledgement, fsyncs the
// file on the server (fsync@openssh.com; without it Finish fails unless the
// client was told durability is not required) and closes it.
class SftpWriter : public ByteSink {
 public:
  ~SftpWriter() override;
  Status Write(const char* data, size_t size) override;
  Status Finish();
  uint64_t written() const { return offset_; }

 private:
  friend class SftpClient;
  SftpWriter(SftpClient* client, std::string path, std::string handle)
      : client_(client), path_(std::move(path)), handle_(std::move(handle)) {}
  Status Flush(bool all);
  Status SendChunk(const char* data, size_t size);

  SftpClient* client_;
  std::string path_;
  std::string handle_;
  std::string pending_;  // bytes not yet sent (less than one chunk)
  uint64_t offset_ = 0;  // bytes accepted by Write
  uint64_t sent_ = 0;    // bytes sent in WRITE requests
  std::vector<uint32_t> in_flight_;
  bool closed_ = false;
  Status failed_;
};

// A file open for reading, several READ requests in flight.
class SftpReader : public ByteSource {
 public:
  ~SftpReader() override;
  Status Read(char* buffer, size_t capacity, size_t* got) override;

 private:
  friend class SftpClient;
  SftpReader(SftpClient* client, std::string path, std::string handle, uint64_t offset)
      : client_(client), path_(std::move(path)), handle_(std::move(handle)), requested_(offset) {}
  Status Refill();

  SftpClient* client_;
  std::string path_;
  std::string handle_;
  uint64_t requested_ = 0;                                // offset of the next READ
  std::vector<std::pair<uint32_t, uint32_t>> in_flight_;  // id, length
  std::string buffer_;
  size_t buffer_pos_ = 0;
  bool eof_ = false;
  bool closed_ = false;
};

class SftpClient {
 public:
  // Starts `argv`, speaking SFTP on its stdin and stdout; `what` names the
  // remote in messages ("ssh destination offsite (backup@vault:22)"). Fails
  // when the child cannot start, the handshake does not complete within
  // the limits, or the server speaks a version below 3.
  static Status Connect(const Argv& argv, std::string what, const TransferLimits& limits,
                        std::unique_ptr<SftpClient>* out);
  ~SftpClient();

  bool HasExtension(const std::string& name) const { return extensions_.count(name) > 0; }
  // Whether the session was lost (every call now fails with why).
  bool broken() const { return !broken_.ok(); }
  // Tests only: a server without fsync@openssh.com is then accepted.
  void set_require_fsync(bool require) { require_fsync_ = require; }

  // lstat: *code kOk with *attrs, or kNoSuchFile (not an error).
  Status Lstat(const std::string& path, SftpAttrs* attrs, SftpCode* code);
  // The same following a symlink (stat).
  Status Stat(const std::string& path, SftpAttrs* attrs, SftpCode* code);
  // What symlink `path` says.
  Status Readlink(const std::string& path, std::string* target);
  // The entries of a directory but "." and "..", sorted by name.
  Status ListDirectory(const std::string& path, std::vector<SftpEntry>* out);
  // mkdir; an existing directory is fine (*created false), an existing
  // non-directory fails.
  Status Mkdir(const std::string& path, bool* created = nullptr);
  // remove / rmdir; a missing one is fine when `missing_ok`.
  Status Remove(const std::string& path, bool missing_ok);
  Status Rmdir(const std::string& path, bool missing_ok);
  // Version 3 rename: fails when `to` exists.
  Status RenameNoReplace(const std::string& from, const std::string& to);
  // posix-rename@openssh.com: replaces `to` atomically. Fails when the
  // server lacks the extension.
  Status RenameReplace(const std::string& from, const std::string& to);
  // Opens a directory as a file and fsyncs it, so that a rename in it is
  // durable. Servers that cannot (no fsync@openssh.com, or a directory that
  // cannot be opened as a file) fail.
  Status FsyncDirectory(const std::string& path);
  // Creates `path` (O_CREAT|O_EXCL when `exclusive`, else O_TRUNC).
  Status Create(const std::string& path, bool exclusive, std::unique_ptr<SftpWriter>* out);
  // Opens `path` for reading from byte `offset` on.
  Status Open(const std::string& path, std::unique_ptr<SftpReader>* out, uint64_t offset = 0);
  // A small file read whole; fails when it is larger than `limit`.
  Status ReadFile(const std::string& path, size_t limit, std::string* out);
  // A small file written whole: created exclusively, fsynced, closed.
  Status WriteNewFile(const std::string& path, const std::string& data);

  const std::string& what() const { return what_; }
  // Largest payload of one READ or WRITE.
  uint32_t chunk() const { return chunk_; }

 private:
  friend class SftpWriter;
  friend class SftpReader;
  SftpClient() = default;

  // One request: sends a packet of `type` whose payload after the id is
  // `body`; returns its id.
  Status Send(uint8_t type, const std::string& body, uint32_t* id);
  // Waits for the reply to `id` (replies to other ids are kept until asked
  // for). *type and *payload: the reply without its id.
  Status Receive(uint32_t id, uint8_t* type, std::string* payload);
  Status ReadPacket(std::string* packet);
  // Send, then Receive its reply.
  Status Request(uint8_t type, const std::string& body, uint8_t* reply, std::string* payload);
  // Send + Receive expecting STATUS: ok, or *code when it is one of
  // `tolerated`, else an error naming `op` and `path`.
  Status Call(uint8_t type, const std::string& body, const std::string& op, const std::string& path,
              SftpCode* code = nullptr);
  Status StatWith(uint8_t type, const char* op, const std::string& path, SftpAttrs* attrs,
                  SftpCode* code);
  Status RemoveName(uint8_t type, const char* op, const std::string& path, bool missing_ok);
  Status OpenHandle(const std::string& path, uint32_t flags, std::string* handle);
  Status CloseHandle(const std::string& handle, const std::string& path);
  Status Fsync(const std::string& handle, const std::string& path);
  Status StatusError(const std::string& op, const std::string& path, const std::string& payload,
                     SftpCode* code);
  // The session is unusable: every later call fails with this.
  Status Broken(const std::string& why);

  PipedChild child_;
  std::string what_;
  int timeout_ms_ = 0;
  const Interrupt* interrupt_ = nullptr;
  uint32_t next_id_ = 1;
  uint32_t chunk_ = 32768;
  bool require_fsync_ = true;
  std::map<std::string, std::string> extensions_;
  std::map<uint32_t, std::pair<uint8_t, std::string>> early_;  // replies not yet asked for
  std::string inbuf_;
  Status broken_;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_SFTP_CLIENT_H_
