#include "reconciler/storage/directory_destination.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/atomic_file.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr char kTempPrefix[] = ".tmp";
constexpr char kImagesDir[] = "images";
constexpr char kZoneManifest[] = "manifest.json";
constexpr mode_t kDirectoryMode = 0755;
constexpr mode_t kFileMode = 0644;
// Large enough that syscalls and thread hand-offs cost nothing measurable,
// small enough that two per open stream do not matter.
constexpr size_t kBlockSize = 4 << 20;
constexpr int kZstdLevel = 3;
constexpr unsigned kMaxZstdWorkers = 4;
// The layout is at most four levels deep; deeper trees are not zrecon's.
constexpr int kMaxCleanDepth = 16;

Status SystemError(const std::string& what, const std::string& path, int err) {
  return Status::Error(what + " " + path + ": " + std::strerror(err));
}


bool IsSingleComponent(const std::string& name) {
  return IsSafeRelativePath(name) && name.find('/') == std::string::npos;
}

// "a/b/c.zfs" -> "a/b"; "c.zfs" -> "".
std::string DirPart(const std::string& file) {
  size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? "" : file.substr(0, slash);
}

std::string BasePart(const std::string& file) {
  size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

std::string JoinPath(const std::string& dir, const std::string& relative) {
  return relative.empty() ? dir : dir + "/" + relative;
}

// Owns a descriptor. close() is not retried on EINTR: POSIX leaves the
// descriptor state unspecified then, and illumos and Linux free it.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now and returns 0 or the errno: NFS and some FUSE filesystems
  // report delayed write errors (ENOSPC, EDQUOT) only at close.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

int OpenAt(int dir, const std::string& name, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::openat(dir, name.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int Fsync(int fd) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

// Returns 0 or the errno of the failed write.
int WriteFully(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // write(2) of a non-zero size returning 0 is no progress; never spin.
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

// Why opening directory `name` in `dir` failed. O_NOFOLLOW reports a
// symlink as ELOOP on Linux and illumos but EMLINK on FreeBSD, and
// O_DIRECTORY may win with ENOTDIR; lstat says what is really there.
Status DirectoryOpenError(int dir, const std::string& name, const std::string& path, int err) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return Status::Error("refusing to follow symlink " + path +
                           ": destinations are written without following symlinks");
    }
    if (!S_ISDIR(st.st_mode)) return Status::Error(path + " exists and is not a directory");
  }
  return SystemError("cannot open directory", path, err);
}

// Opens directory `name` in `dir` (`path` names it in messages) without
// following a symlink, creating it first when `create`. When it is absent
// and not `create`, returns OK with *out invalid.
Status OpenSubdirectory(int dir, const std::string& name, const std::string& path, bool create,
                        Fd* out) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
  int fd = OpenAt(dir, name, flags);
  if (fd < 0 && errno == ENOENT) {
    if (!create) {
      *out = Fd();
      return Status::Ok();
    }
    // EEXIST: someone created it since; the open below decides what it is.
    if (::mkdirat(dir, name.c_str(), kDirectoryMode) != 0 && errno != EEXIST) {
      return SystemError("cannot create directory", path, errno);
    }
    fd = OpenAt(dir, name, flags);
  }
  if (fd < 0) return DirectoryOpenError(dir, name, path, errno);
  *out = Fd(fd);
  return Status::Ok();
}

// Walks `relative` (components already checked by IsSafeRelativePath, or
// empty for `root` itself) down from `root`. *out is invalid when a
// component is absent and not `create`.
Status OpenBelow(Fd root, const std::string& root_path, const std::string& relative, bool create,
                 Fd* out) {
  Fd current = std::move(root);
  std::string path = root_path;
  for (std::string_view part :
       relative.empty() ? std::vector<std::string_view>() : Split(relative, '/')) {
    std::string name(part);
    path += "/" + name;
    Fd next;
    Status st = OpenSubdirectory(current.get(), name, path, create, &next);
    if (!st.ok() || !next.valid()) {
      *out = Fd();
      return st;
    }
    current = std::move(next);
  }
  *out = std::move(current);
  return Status::Ok();
}

// Removes ".tmp*" non-directories in `dir` and, recursively, in its real
// subdirectories (symlinks are neither followed nor removed unless .tmp*).
Status RemoveTempFiles(int dir, const std::string& path, int depth) {
  std::vector<std::string> names;
  Status st = ListDirectoryAt(dir, path, &names);
  for (size_t i = 0; i < names.size() && st.ok(); ++i) {
    const std::string& name = names[i];
    std::string child = path + "/" + name;
    struct stat info;
    if (::fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) st = SystemError("cannot stat", child, errno);
    } else if (S_ISDIR(info.st_mode)) {
      if (depth >= kMaxCleanDepth) continue;
      Fd sub;
      st = OpenSubdirectory(dir, name, child, false, &sub);
      if (st.ok() && sub.valid()) st = RemoveTempFiles(sub.get(), child, depth + 1);
    } else if (StartsWith(name, kTempPrefix)) {
      if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
        st = SystemError("cannot remove leftover temporary file", child, errno);
      }
    }
  }
  return st;
}

// Opens <path>/<host>/<relative> (see OpenBelow). <path> is followed as
// given: it is the operator's mount point, perhaps through a symlink.
Status OpenHostSubdirectory(const std::string& name, const std::string& path,
                            const std::string& host, const std::string& relative, bool create,
                            Fd* out) {
  if (!IsSingleComponent(host)) {
    return Status::Error("invalid host directory name " + Quoted(host));
  }
  Fd top(OpenAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY));
  if (!top.valid()) {
    return SystemError("destination " + name + " is unreachable: cannot open", path, errno);
  }
  std::string host_path = path + "/" + host;
  Fd host_dir;
  Status st = OpenSubdirectory(top.get(), host, host_path, create, &host_dir);
  if (!st.ok() || !host_dir.valid()) {
    *out = Fd();
    return st;
  }
  return OpenBelow(std::move(host_dir), host_path, relative, create, out);
}

bool LinkUnsupported(int err) {
  return err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EXDEV || err == ENOSYS ||
         err == EMLINK;
}

// Hashes and writes the bytes of one stream file in blocks. The write(2) of
// a full block runs on another thread while this one hashes it and fills
// the next: SHA-256 (~1.2 GB/s with SHA-NI) and the kernel copy each run
// near the 1 GB/s the export path must sustain, so only overlapping them
// reaches it.
class BlockWriter {
 public:
  BlockWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    blocks_[0].reset(new char[kBlockSize]);
    blocks_[1].reset(new char[kBlockSize]);
  }
  ~BlockWriter() { Wait(); }
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // The free part of the current block; never empty between calls.
  char* space() { return blocks_[current_].get() + used_; }
  size_t space_size() const { return kBlockSize - used_; }

  // `n` bytes were put at space(); hands the block over once full.
  Status Fill(size_t n) {
    used_ += n;
    return used_ == kBlockSize ? Submit() : Status::Ok();
  }

  Status Append(const char* data, size_t size) {
    while (size > 0) {
      size_t n = std::min(size, space_size());
      std::memcpy(space(), data, n);
      data += n;
      size -= n;
      Status st = Fill(n);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

  // Writes what is buffered and waits until every write returned.
  Status Flush() {
    Status st = Submit();
    if (!st.ok()) return st;
    int err = Wait();
    return err == 0 ? Status::Ok() : SystemError("cannot write", path_, err);
  }

  // Waits for the write in flight; returns 0 or its errno.
  int Wait() { return inflight_.valid() ? inflight_.get() : 0; }

  uint64_t size() const { return size_; }
  std::string HexDigest() { return sha_.HexDigest(); }

 private:
  Status Submit() {
    if (used_ == 0) return Status::Ok();
    if (int err = Wait()) return SystemError("cannot write", path_, err);
    const char* block = blocks_[current_].get();
    inflight_ = StartWrite(block, used_);
    // Both threads only read the block while the write is in flight.
    sha_.Update(block, used_);
    size_ += used_;
    current_ ^= 1;
    used_ = 0;
    return Status::Ok();
  }

  std::future<int> StartWrite(const char* block, size_t n) {
    int fd = fd_;
    try {
      return std::async(std::launch::async, [fd, block, n] { return WriteFully(fd, block, n); });
    } catch (const std::system_error&) {
      // No thread to be had (resource limits): write on this one.
      std::promise<int> done;
      done.set_value(WriteFully(fd, block, n));
      return done.get_future();
    }
  }

  int fd_;
  std::string path_;
  std::unique_ptr<char[]> blocks_[2];
  int current_ = 0;
  size_t used_ = 0;
  std::future<int> inflight_;
  Sha256 sha_;
  uint64_t size_ = 0;
};

// Hashes a file that another process is writing, following it as it
// grows: pread from where it left off and, at the end of what is there so
// far, a short pause unless the writer is known to be done. The reads hit
// the pages the writer just put in the page cache, one copy per byte, where
// a pipe costs three (into the pipe, out of it, into the file); and on
// zfs-fuse the daemon writes several times faster into a file than into a
// pipe.
class FileFollower {
 public:
  FileFollower(Fd in, std::string path, std::function<void(uint64_t)> progress)
      : in_(std::move(in)), path_(std::move(path)), progress_(std::move(progress)) {}
  ~FileFollower() { Stop(); }
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  // Starts the hashing thread; false when none can be had.
  bool Start() {
    try {
      buffer_.reset(new char[kBlockSize]);
      thread_ = std::thread([this] { Follow(); });
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  // The writer is done: hashes what remains up to the end of the file and
  // joins the thread.
  Status Finish() {
    Signal(&writer_done_);
    Join();
    return read_error_ == 0 ? Status::Ok() : SystemError("cannot read back", path_, read_error_);
  }

  // Abandons the file: stops hashing as soon as possible.
  void Stop() {
    Signal(&stop_);
    Join();
  }

  uint64_t hashed() const { return hashed_.load(std::memory_order_acquire); }
  // Once Finish returned OK.
  std::string HexDigest() { return sha_.HexDigest(); }

 private:
  // Long enough not to spin, short against the ~4 ms a 4 MiB block takes
  // to write at 1 GB/s.
  static constexpr std::chrono::milliseconds kPause{2};
  static constexpr uint64_t kWritebackBatch = 8 << 20;

  void Signal(bool* flag) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      *flag = true;
    }
    wake_.notify_one();
  }

  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // A progress reporter that throws must not end the process (this thread
  // has no caller to catch it) nor the export: progress is only for show.
  void Report(uint64_t bytes) {
    try {
      progress_(bytes);
    } catch (...) {
      progress_ = nullptr;
    }
  }

  // Linux: pushes what was hashed towards the disk now, so that the fsync
  // of Commit only waits for the tail instead of the whole stream. Only a
  // hint (errors surface at that fsync); elsewhere the fsync does it all.
  void StartWriteback(uint64_t offset) {
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    if (offset - written_back_ < kWritebackBatch) return;
    (void)::sync_file_range(in_.get(), static_cast<off_t>(written_back_),
                            static_cast<off_t>(offset - written_back_), SYNC_FILE_RANGE_WRITE);
    written_back_ = offset;
#else
    (void)offset;
#endif
  }

  void Follow() {
    uint64_t offset = 0;
    for (;;) {
      bool done;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        // Read before the pread: EOF seen after the writer finished is the
        // end of the file; EOF seen before may only be the writer's pace.
        done = writer_done_;
      }
      ssize_t n = ::pread(in_.get(), buffer_.get(), kBlockSize, static_cast<off_t>(offset));
      if (n > 0) {
        sha_.Update(buffer_.get(), static_cast<size_t>(n));
        offset += static_cast<uint64_t>(n);
        hashed_.store(offset, std::memory_order_release);
        StartWriteback(offset);
        if (progress_) Report(offset);
      } else if (n < 0 && errno != EINTR) {
        read_error_ = errno;
        return;
      } else if (n == 0) {
        if (done) return;
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait_for(lock, kPause, [this] { return stop_ || writer_done_; });
      }
    }
  }

  Fd in_;
  std::string path_;
  std::function<void(uint64_t)> progress_;
  std::unique_ptr<char[]> buffer_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool writer_done_ = false;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  std::atomic<uint64_t> hashed_{0};
  uint64_t written_back_ = 0;  // the thread's own
  // Written by the thread, read after it was joined.
  int read_error_ = 0;
  Sha256 sha_;
};

// Whether two descriptors are the same file: the reader of a direct-mode
// file is opened by name, which must still be the file being written.
bool SameFile(int a, int b) {
  struct stat sa, sb;
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

struct ZstdContextFree {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};
using ZstdContext = std::unique_ptr<ZSTD_CCtx, ZstdContextFree>;

// Worker threads compress while the caller's thread feeds input and hashes
// output; a library built without threads reports an upper bound of 0.
unsigned ZstdWorkers() {
  unsigned cores = std::thread::hardware_concurrency();
  ZSTD_bounds bounds = ZSTD_cParam_getBounds(ZSTD_c_nbWorkers);
  if (cores < 2 || ZSTD_isError(bounds.error) || bounds.upperBound <= 0) return 0;
  return std::min({cores - 1, kMaxZstdWorkers, static_cast<unsigned>(bounds.upperBound)});
}

Status NewZstdContext(const std::string& path, ZstdContext* out) {
  ZstdContext cctx(ZSTD_createCCtx());
  if (!cctx) return Status::Error("cannot compress " + path + ": cannot allocate a zstd context");
  size_t rc = ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kZstdLevel);
  // The frame checksum lets `zstd -t` check a copy without the manifest.
  if (!ZSTD_isError(rc)) rc = ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(rc)) {
    return Status::Error("cannot compress " + path + ": " + ZSTD_getErrorName(rc));
  }
  if (unsigned workers = ZstdWorkers()) {
    // On failure the context stays single-threaded, which is correct too.
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers, static_cast<int>(workers));
  }
  *out = std::move(cctx);
  return Status::Ok();
}

// A stream file being written under a temporary name in its final
// directory. The first error removes the temporary file and sticks.
class DirectoryStreamFile : public StreamFile {
 public:
  DirectoryStreamFile(const DestinationCatalog* catalog, std::string file, std::string path,
                      std::string dir_path, Fd dir, std::string temp, Fd out, ZstdContext cctx,
                      std::string compression)
      : catalog_(catalog),
        file_(std::move(file)),
        path_(std::move(path)),
        dir_path_(std::move(dir_path)),
        dir_(std::move(dir)),
        temp_(std::move(temp)),
        out_(std::move(out)),
        cctx_(std::move(cctx)),
        compression_(std::move(compression)),
        writer_(out_.get(), path_) {}

  ~DirectoryStreamFile() override {
    if (!committed_) Discard();
  }

  Status Write(const char* data, size_t size) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Error("cannot write " + path_ + ": already committed");
    if (direct_) return Status::Error("cannot write " + path_ + ": it is written directly");
    bytes_in_ += size;
    Status st = cctx_ ? Compress(data, size, ZSTD_e_continue) : writer_.Append(data, size);
    return st.ok() ? st : Fail(st);
  }

  // The file must be uncompressed and untouched; the hashing reads it back
  // through a descriptor of its own. Any failure here leaves the file as it
  // was, for Write.
  int BeginDirect(std::function<void(uint64_t)> progress) override {
    if (!error_.ok() || committed_ || direct_ || cctx_ || bytes_in_ > 0) return -1;
    Fd in(OpenAt(dir_.get(), temp_, O_RDONLY | O_NOFOLLOW));
    if (!in.valid() || !SameFile(in.get(), out_.get())) return -1;
    auto follower = std::make_unique<FileFollower>(std::move(in), path_, std::move(progress));
    if (!follower->Start()) return -1;
    direct_ = std::move(follower);
    return out_.get();
  }

  Status Commit(StoredFile* stored) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Error("cannot commit " + path_ + ": already committed");
    Status st = direct_ ? direct_->Finish() : FinishWrites();
    const uint64_t size = direct_ ? direct_->hashed() : writer_.size();
    if (st.ok()) st = SyncAndClose(size);
    if (st.ok()) st = Publish();
    if (!st.ok()) return Fail(st);
    committed_ = true;
    stored->file = file_;
    stored->size = size;
    stored->sha256 = direct_ ? direct_->HexDigest() : writer_.HexDigest();
    stored->compression = compression_;
    stored->stream_size = bytes_in();
    return FsyncDirectory(dir_path_).Prefixed(path_ + " was committed but may not be durable");
  }

  uint64_t bytes_in() const override { return direct_ ? direct_->hashed() : bytes_in_; }

 private:
  Status Compress(const char* data, size_t size, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data, size, 0};
    for (;;) {
      ZSTD_outBuffer out{writer_.space(), writer_.space_size(), 0};
      size_t left = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
      if (ZSTD_isError(left)) {
        return Status::Error("cannot compress " + path_ + ": " + ZSTD_getErrorName(left));
      }
      Status st = writer_.Fill(out.pos);
      if (!st.ok()) return st;
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return Status::Ok();
    }
  }

  Status FinishWrites() {
    Status st = cctx_ ? Compress(nullptr, 0, ZSTD_e_end) : Status::Ok();
    return st.ok() ? writer_.Flush() : st;
  }

  // The size check catches a direct-mode writer that was still writing (or
  // truncated the file) after its bytes were hashed: the hash would not be
  // the file's.
  Status SyncAndClose(uint64_t size) {
    if (int err = Fsync(out_.get())) return SystemError("cannot fsync", path_, err);
    struct stat info;
    if (::fstat(out_.get(), &info) != 0) return SystemError("cannot stat", path_, errno);
    if (static_cast<uint64_t>(info.st_size) != size) {
      return Status::Error("cannot commit " + path_ + ": it holds " + std::to_string(info.st_size) +
                           " bytes but " + std::to_string(size) + " were written and hashed");
    }
    if (int err = out_.Close()) return SystemError("cannot close", path_, err);
    return Status::Ok();
  }

  // link(2) never replaces the target, so a recorded file cannot be lost
  // even to a catalog that is out of date. The target exists only as
  // garbage of a crash between a commit and its Record* call, and some
  // filesystems (FAT, several FUSE ones) have no hard links: both fall back
  // to rename(2) once the catalog confirms the name is not recorded.
  Status Publish() {
    const std::string base = BasePart(file_);
    if (::linkat(dir_.get(), temp_.c_str(), dir_.get(), base.c_str(), 0) == 0) {
      // A temp name that survives this is removed by the next Prepare.
      ::unlinkat(dir_.get(), temp_.c_str(), 0);
      temp_removed_ = true;
      return Status::Ok();
    }
    int err = errno;
    if (err != EEXIST && !LinkUnsupported(err)) return SystemError("cannot link", path_, err);
    if (CatalogRecordsFile(*catalog_, file_)) {
      return Status::Error("refusing to replace " + path_ + ": the catalog records it");
    }
    if (::renameat(dir_.get(), temp_.c_str(), dir_.get(), base.c_str()) != 0) {
      return SystemError("cannot rename a temporary file to", path_, errno);
    }
    temp_removed_ = true;
    return Status::Ok();
  }

  Status Fail(const Status& st) {
    if (error_.ok()) error_ = st;
    Discard();
    return error_;
  }

  // The write in flight, and the hashing of a direct-mode file, must stop
  // before the descriptor is closed.
  void Discard() {
    writer_.Wait();
    if (direct_) direct_->Stop();
    if (out_.valid()) out_.Close();
    if (!temp_removed_) ::unlinkat(dir_.get(), temp_.c_str(), 0);
    temp_removed_ = true;
  }

  const DestinationCatalog* catalog_;
  std::string file_;
  std::string path_;
  std::string dir_path_;
  Fd dir_;
  std::string temp_;
  Fd out_;
  ZstdContext cctx_;
  std::string compression_;
  BlockWriter writer_;
  std::unique_ptr<FileFollower> direct_;  // set once in direct mode
  uint64_t bytes_in_ = 0;
  bool committed_ = false;
  bool temp_removed_ = false;
  Status error_;
};

// ---------------------------------------------------------------------------
// Catalog edits

bool StoredIs(const StoredFile& stored, const std::string& file) { return stored.file == file; }

bool ZoneRecordsFile(const ZoneManifest& zone, const std::string& file) {
  for (const ConfigRecord& config : zone.configs) {
    if (StoredIs(config.stored, file)) return true;
  }
  for (const Chain& chain : zone.chains) {
    for (const ChainLink& link : chain.links) {
      if (StoredIs(link.stream, file) || link.config == file) return true;
    }
  }
  return false;
}

Status RefuseRecorded(const DestinationCatalog& catalog, const std::string& file) {
  if (!CatalogRecordsFile(catalog, file)) return Status::Ok();
  return Status::Error(Quoted(file) + " is already recorded in the catalog of destination " +
                       catalog.name);
}

// The decoded form of what would be written: what the reader will see.
Status ValidatedZone(const ZoneManifest& zone, ZoneManifest* out) {
  ZoneManifest decoded;
  Status st = DecodeZoneManifest(EncodeZoneManifest(zone), &decoded);
  if (!st.ok()) {
    return st.Prefixed("refusing to write the manifest of zone " + Quoted(zone.uuid) +
                       ": it would not decode");
  }
  *out = std::move(decoded);
  return Status::Ok();
}

ZoneManifest StartZone(const DestinationCatalog& catalog, const std::string& host,
                       const ZoneManifest& zone) {
  auto it = catalog.zones.find(zone.uuid);
  if (it != catalog.zones.end()) return it->second;
  ZoneManifest m;
  m.host = host;
  m.uuid = zone.uuid;
  m.alias = zone.alias;
  m.brand = zone.brand;
  m.image_uuid = zone.image_uuid;
  return m;
}

Chain* FindChain(ZoneManifest* zone, const std::string& id) {
  for (Chain& chain : zone->chains) {
    if (chain.id == id) return &chain;
  }
  return nullptr;
}

// The files a zone manifest may list, and a chain removal delete.
bool InZoneDirectory(const std::string& zone_uuid, const std::string& file) {
  return IsSafeRelativePath(file) && StartsWith(file, zone_uuid + "/") &&
         file != zone_uuid + "/" + kZoneManifest;
}

Status CheckRemovable(const std::string& zone_uuid, const std::string& file) {
  if (InZoneDirectory(zone_uuid, file)) return Status::Ok();
  return Status::Error("refusing to remove " + Quoted(file) + ": not a stream or config of zone " +
                       Quoted(zone_uuid));
}

}  // namespace

bool CatalogRecordsFile(const DestinationCatalog& catalog, const std::string& file) {
  for (const auto& [uuid, image] : catalog.images) {
    if (StoredIs(image.stream, file) || StoredIs(image.imgadm_record, file)) return true;
  }
  for (const auto& [uuid, zone] : catalog.zones) {
    if (ZoneRecordsFile(zone, file)) return true;
  }
  return false;
}

Status CheckNewFile(const DestinationCatalog& catalog, const std::string& file,
                    const std::string& compression) {
  if (!IsSafeRelativePath(file)) {
    return Status::Error("refusing to write " + Quoted(file) +
                         ": not a relative path of ordinary components");
  }
  for (std::string_view part : Split(file, '/')) {
    // Prepare deletes such names and the catalog reader skips them.
    if (StartsWith(part, kTempPrefix)) {
      return Status::Error("refusing to write " + Quoted(file) + ": a name starting with \"" +
                           kTempPrefix + "\" is reserved for temporary files");
    }
  }
  if (compression != "none" && compression != "zstd") {
    return Status::Error("cannot write " + Quoted(file) + ": unknown compression " +
                         Quoted(compression) + " (expected \"none\" or \"zstd\")");
  }
  return RefuseRecorded(catalog, file);
}

Status ImageToRecord(const DestinationCatalog& catalog, const ImageManifest& image,
                     ImageManifest* out) {
  if (catalog.images.count(image.uuid) != 0) {
    return Status::Error("image " + Quoted(image.uuid) +
                         " is already recorded in the catalog of destination " + catalog.name);
  }
  Status st = RefuseRecorded(catalog, image.stream.file);
  if (st.ok() && image.guid == 0) st = Status::Error("its guid is 0");
  ImageManifest decoded;
  if (st.ok()) st = DecodeImageManifest(EncodeImageManifest(image), &decoded);
  if (!st.ok()) {
    return st.Prefixed("refusing to record image " + Quoted(image.uuid));
  }
  *out = std::move(decoded);
  return Status::Ok();
}

Status ImageWithRecord(const DestinationCatalog& catalog, const std::string& image_uuid,
                       const StoredFile& record, const std::string& imgadm_type,
                       ImageManifest* out) {
  auto it = catalog.images.find(image_uuid);
  Status st;
  if (it == catalog.images.end()) {
    st = Status::Error("the image is not recorded in the catalog of destination " + catalog.name);
  } else if (!it->second.imgadm_record.file.empty()) {
    st = Status::Error("it already has one");
  }
  if (st.ok()) st = RefuseRecorded(catalog, record.file);
  ImageManifest decoded;
  if (st.ok()) {
    ImageManifest m = it->second;
    m.imgadm_record = record;
    m.imgadm_type = imgadm_type;
    st = DecodeImageManifest(EncodeImageManifest(m), &decoded);
  }
  if (!st.ok()) {
    return st.Prefixed("refusing to record imgadm's record of image " + Quoted(image_uuid));
  }
  *out = std::move(decoded);
  return Status::Ok();
}

Status ZoneWithConfig(const DestinationCatalog& catalog, const std::string& host,
                      const ZoneManifest& zone, const ConfigRecord& config, ZoneManifest* out) {
  Status st = RefuseRecorded(catalog, config.stored.file);
  if (!st.ok()) return st;
  ZoneManifest m = StartZone(catalog, host, zone);
  m.configs.push_back(config);
  m.loose_files.erase(config.stored.file);
  return ValidatedZone(m, out);
}

Status ZoneWithLink(const DestinationCatalog& catalog, const std::string& host,
                    const ZoneManifest& zone, const Chain& chain, const ChainLink& link,
                    ZoneManifest* out) {
  // ZFS never hands out guid 0; here it would be a field left unset, which
  // the manifest format cannot tell from a real guid (its schema allows "0").
  if (link.guid == 0) {
    return Status::Error("refusing to record snapshot " + Quoted(link.snapshot) + " of chain " +
                         Quoted(chain.id) + ": its guid is 0");
  }
  Status st = RefuseRecorded(catalog, link.stream.file);
  if (!st.ok()) return st;
  ZoneManifest m = StartZone(catalog, host, zone);
  Chain* target = FindChain(&m, chain.id);
  if (target == nullptr) {
    m.chains.push_back(chain);
    target = &m.chains.back();
    target->links.clear();
  }
  target->links.push_back(link);
  m.loose_files.erase(link.stream.file);
  return ValidatedZone(m, out);
}

Status ZoneWithLooseFile(const DestinationCatalog& catalog, const std::string& host,
                         const ZoneManifest& zone, const std::string& file, ZoneManifest* out,
                         bool* changed) {
  *changed = false;
  if (!IsSingleComponent(zone.uuid) || !InZoneDirectory(zone.uuid, file)) {
    return Status::Error("refusing to journal " + Quoted(file) +
                         ": not a file in the directory of zone " + Quoted(zone.uuid));
  }
  Status st = RefuseRecorded(catalog, file);
  if (!st.ok()) return st;
  ZoneManifest m = StartZone(catalog, host, zone);
  if (!m.loose_files.insert(file).second) return Status::Ok();
  st = ValidatedZone(m, out);
  *changed = st.ok();
  return st;
}

Status CheckLooseFiles(const DestinationCatalog& catalog, const std::string& zone_uuid,
                       const std::vector<std::string>& files) {
  auto it = catalog.zones.find(zone_uuid);
  for (const std::string& file : files) {
    if (it == catalog.zones.end() || !it->second.loose_files.count(file)) {
      return Status::Error("refusing to remove " + Quoted(file) + ": the manifest of zone " +
                           Quoted(zone_uuid) + " does not list it as loose");
    }
  }
  return Status::Ok();
}

Status ZoneWithoutLooseFiles(const DestinationCatalog& catalog, const std::string& zone_uuid,
                             const std::vector<std::string>& files, ZoneManifest* out,
                             bool* changed) {
  *changed = false;
  auto it = catalog.zones.find(zone_uuid);
  if (it == catalog.zones.end()) return Status::Ok();
  ZoneManifest m = it->second;
  bool erased = false;
  for (const std::string& file : files) erased = m.loose_files.erase(file) > 0 || erased;
  if (!erased) return Status::Ok();
  Status st = ValidatedZone(m, out);
  *changed = st.ok();
  return st;
}

Status ZoneWithoutChain(const DestinationCatalog& catalog, const std::string& zone_uuid,
                        const std::string& chain_id, const std::vector<std::string>& files,
                        ZoneManifest* out, bool* changed) {
  *changed = false;
  if (!IsSingleComponent(zone_uuid)) {
    return Status::Error("refusing to remove chains of zone " + Quoted(zone_uuid) +
                         ": not a zone directory name");
  }
  for (const std::string& file : files) {
    Status st = CheckRemovable(zone_uuid, file);
    if (!st.ok()) return st;
  }
  auto it = catalog.zones.find(zone_uuid);
  if (it == catalog.zones.end()) return Status::Ok();
  ZoneManifest m = it->second;
  std::set<std::string> doomed(files.begin(), files.end());
  auto chain_end = std::remove_if(m.chains.begin(), m.chains.end(),
                                  [&](const Chain& c) { return c.id == chain_id; });
  auto config_end = std::remove_if(m.configs.begin(), m.configs.end(), [&](const ConfigRecord& c) {
    return doomed.count(c.stored.file) != 0;
  });
  *changed = chain_end != m.chains.end() || config_end != m.configs.end();
  m.chains.erase(chain_end, m.chains.end());
  m.configs.erase(config_end, m.configs.end());
  for (const Chain& chain : m.chains) {
    for (const ChainLink& link : chain.links) {
      if (doomed.count(link.stream.file) == 0) continue;
      *changed = false;
      return Status::Error("refusing to remove " + Quoted(link.stream.file) +
                           ": it is the stream of snapshot " + Quoted(link.snapshot) +
                           " in chain " + Quoted(chain.id) + ", which remains");
    }
  }
  if (!*changed) return Status::Ok();
  m.loose_files.insert(files.begin(), files.end());
  Status st = ValidatedZone(m, out);
  if (!st.ok()) *changed = false;
  return st;
}

// ---------------------------------------------------------------------------
// DirectoryDestination

DirectoryDestination::DirectoryDestination(std::string name, std::string path, std::string host,
                                           DestinationCatalog catalog)
    : name_(std::move(name)),
      path_(std::move(path)),
      host_(std::move(host)),
      catalog_(std::move(catalog)) {
  catalog_.name = name_;
}

std::string DirectoryDestination::HostDir() const { return path_ + "/" + host_; }

Status DirectoryDestination::Prepare() {
  Fd host_dir;
  Status st = OpenHostSubdirectory(name_, path_, host_, "", true, &host_dir);
  if (st.ok()) st = RemoveTempFiles(host_dir.get(), HostDir(), 0);
  return st;
}

// Every file is gone before the list is updated: a crash in between leaves
// names of missing files, which the next plan lists and this skips.
Status DirectoryDestination::RemoveLooseFiles(const std::string& zone_uuid,
                                              const std::vector<std::string>& files) {
  Status st = CheckLooseFiles(catalog_, zone_uuid, files);
  for (auto it = files.begin(); it != files.end() && st.ok(); ++it) {
    st = CheckRemovable(zone_uuid, *it);
    if (st.ok()) st = RemoveFile(*it, zone_uuid, true);
  }
  if (st.ok()) st = ForgetLooseFiles(zone_uuid, files);
  return st.Prefixed("cannot remove the loose files of zone " + Quoted(zone_uuid));
}

Status DirectoryDestination::ForgetLooseFiles(const std::string& zone_uuid,
                                              const std::vector<std::string>& files) {
  ZoneManifest m;
  bool changed = false;
  Status st = ZoneWithoutLooseFiles(catalog_, zone_uuid, files, &m, &changed);
  return st.ok() && changed ? WriteZoneManifest(m) : st;
}

Status DirectoryDestination::Create(const std::string& file, const std::string& compression,
                                    std::unique_ptr<StreamFile>* out) {
  Status st = CheckNewFile(catalog_, file, compression);
  if (!st.ok()) return st;
  std::string path = JoinPath(HostDir(), file);
  ZstdContext cctx;
  if (compression == "zstd") st = NewZstdContext(path, &cctx);
  Fd dir;
  if (st.ok()) st = OpenHostSubdirectory(name_, path_, host_, DirPart(file), true, &dir);
  if (!st.ok()) return st;
  std::string temp = std::string(kTempPrefix) + "." + BasePart(file) + "." +
                     std::to_string(::getpid()) + "." + std::to_string(next_temp_++);
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
  int fd = OpenAt(dir.get(), temp, flags, kFileMode);
  if (fd < 0 && errno == EEXIST) {
    // A leftover of a crashed run that had the same pid; O_EXCL after the
    // unlink never writes through a symlink planted under that name.
    ::unlinkat(dir.get(), temp.c_str(), 0);
    fd = OpenAt(dir.get(), temp, flags, kFileMode);
  }
  if (fd < 0) return SystemError("cannot create a temporary file for", path, errno);
  std::string dir_path = JoinPath(HostDir(), DirPart(file));
  *out = std::make_unique<DirectoryStreamFile>(&catalog_, file, path, dir_path, std::move(dir),
                                               temp, Fd(fd), std::move(cctx), compression);
  return Status::Ok();
}

Status DirectoryDestination::CheckCommitted(const StoredFile& stored) const {
  std::string path = JoinPath(HostDir(), stored.file);
  Fd dir;
  Status st = IsSafeRelativePath(stored.file)
                  ? OpenHostSubdirectory(name_, path_, host_, DirPart(stored.file), false, &dir)
                  : Status::Error("refusing to record " + Quoted(stored.file) +
                                  ": not a relative path of ordinary components");
  if (!st.ok()) return st;
  struct stat info;
  if (!dir.valid() ||
      ::fstatat(dir.get(), BasePart(stored.file).c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    int err = dir.valid() ? errno : ENOENT;
    return SystemError("refusing to record a file that was not committed:", path, err);
  }
  if (!S_ISREG(info.st_mode)) {
    return Status::Error("refusing to record " + path + ": not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) != stored.size) {
    return Status::Error("refusing to record " + path + ": it holds " +
                         std::to_string(info.st_size) + " bytes but the record says " +
                         std::to_string(stored.size));
  }
  return Status::Ok();
}

Status DirectoryDestination::WriteZoneManifest(const ZoneManifest& manifest) {
  Fd dir;
  Status st = OpenHostSubdirectory(name_, path_, host_, manifest.uuid, true, &dir);
  if (st.ok()) {
    std::string file = HostDir() + "/" + manifest.uuid + "/" + kZoneManifest;
    st = WriteFileAtomically(file, EncodeZoneManifest(manifest));
  }
  if (st.ok()) catalog_.zones[manifest.uuid] = manifest;
  return st;
}

Status DirectoryDestination::JournalFile(const ZoneManifest& zone, const std::string& file) {
  ZoneManifest m;
  bool changed = false;
  Status st = ZoneWithLooseFile(catalog_, host_, zone, file, &m, &changed);
  return st.ok() && changed ? WriteZoneManifest(m) : st;
}

Status DirectoryDestination::RecordImage(const ImageManifest& image) {
  ImageManifest m;
  Status st = ImageToRecord(catalog_, image, &m);
  if (st.ok()) st = CheckCommitted(m.stream);
  Fd dir;
  if (st.ok()) st = OpenHostSubdirectory(name_, path_, host_, kImagesDir, true, &dir);
  if (st.ok()) {
    std::string file = HostDir() + "/" + kImagesDir + "/" + m.uuid + ".json";
    st = WriteFileAtomically(file, EncodeImageManifest(m));
  }
  if (st.ok()) catalog_.images[m.uuid] = m;
  return st;
}

Status DirectoryDestination::RecordImageRecord(const std::string& image_uuid,
                                               const StoredFile& record,
                                               const std::string& imgadm_type) {
  ImageManifest m;
  Status st = ImageWithRecord(catalog_, image_uuid, record, imgadm_type, &m);
  if (st.ok() && record.size == 0) {
    st = Status::Error("refusing to record imgadm's record of image " + Quoted(image_uuid) + ": " +
                       record.file + " is empty");
  }
  if (st.ok()) st = CheckCommitted(m.imgadm_record);
  Fd dir;
  if (st.ok()) st = OpenHostSubdirectory(name_, path_, host_, kImagesDir, true, &dir);
  if (st.ok()) {
    std::string file = HostDir() + "/" + kImagesDir + "/" + m.uuid + ".json";
    st = WriteFileAtomically(file, EncodeImageManifest(m));
  }
  if (st.ok()) catalog_.images[m.uuid] = m;
  return st;
}

Status DirectoryDestination::RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) {
  ZoneManifest m;
  Status st = ZoneWithConfig(catalog_, host_, zone, config, &m);
  if (st.ok()) st = CheckCommitted(config.stored);
  return st.ok() ? WriteZoneManifest(m) : st;
}

Status DirectoryDestination::RecordLink(const ZoneManifest& zone, const Chain& chain,
                                        const ChainLink& link) {
  ZoneManifest m;
  Status st = ZoneWithLink(catalog_, host_, zone, chain, link, &m);
  if (st.ok()) st = CheckCommitted(link.stream);
  return st.ok() ? WriteZoneManifest(m) : st;
}

// A loose file (`regular_only`) is a name a manifest journaled, not one it
// records: whatever else now has that name was not written by zrecon.
Status DirectoryDestination::RemoveFile(const std::string& file, const std::string& zone_uuid,
                                        bool regular_only) const {
  Fd dir;
  Status st = OpenHostSubdirectory(name_, path_, host_, DirPart(file), false, &dir);
  if (!st.ok() || !dir.valid()) return st;
  const std::string path = JoinPath(HostDir(), file);
  const std::string base = BasePart(file);
  struct stat info;
  if (regular_only && ::fstatat(dir.get(), base.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : SystemError("cannot stat", path, errno);
  }
  if (regular_only && !S_ISREG(info.st_mode)) {
    return Status::Error("refusing to remove " + path + ": not a regular file");
  }
  if (::unlinkat(dir.get(), base.c_str(), 0) != 0 && errno != ENOENT) {
    return SystemError("cannot remove", path, errno);
  }
  // Directories the removal emptied, deepest first, up to but not
  // including the zone directory; the first non-empty one ends it.
  for (std::string sub = DirPart(file); sub != zone_uuid && !sub.empty(); sub = DirPart(sub)) {
    Fd parent;
    st = OpenHostSubdirectory(name_, path_, host_, DirPart(sub), false, &parent);
    if (!st.ok() || !parent.valid()) return st;
    if (::unlinkat(parent.get(), BasePart(sub).c_str(), AT_REMOVEDIR) != 0) break;
  }
  return Status::Ok();
}

Status DirectoryDestination::RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                                         const std::vector<std::string>& files) {
  ZoneManifest m;
  bool changed = false;
  Status st = ZoneWithoutChain(catalog_, zone_uuid, chain_id, files, &m, &changed);
  // The manifest first: a crash in between leaves journaled files, never a
  // manifest naming missing ones.
  if (st.ok() && changed) st = WriteZoneManifest(m);
  for (size_t i = 0; i < files.size() && st.ok(); ++i) {
    st = RemoveFile(files[i], zone_uuid, false);
  }
  return st.ok() ? ForgetLooseFiles(zone_uuid, files) : st;
}

}  // namespace zrecon
