#include "reconciler/storage/local_stream_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/zstd_encoder.h"
#include "reconciler/util/files.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/sha256.h"

namespace zrecon {

namespace {

constexpr mode_t kFileMode = 0644;
// Large enough that syscalls and thread hand-offs cost nothing measurable,
// small enough that two per open stream do not matter.
constexpr size_t kBlockSize = 4 << 20;

bool LinkUnsupported(int err) {
  return err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EXDEV || err == ENOSYS ||
         err == EMLINK;
}

// Hashes and writes the bytes of one stream file in blocks. The write(2) of
// a full block runs on another thread while this one hashes it and fills
// the next: SHA-256 (~1.2 GB/s with SHA-NI) and the kernel copy each run
// near the 1 GB/s the export path must sustain, so only overlapping them
// reaches it.
class BlockWriter : public EncoderOutput {
 public:
  BlockWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    blocks_[0].reset(new char[kBlockSize]);
    blocks_[1].reset(new char[kBlockSize]);
  }
  ~BlockWriter() { Wait(); }
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // The free part of the current block; never empty between calls.
  char* space() override { return blocks_[current_].get() + used_; }
  size_t space_size() const override { return kBlockSize - used_; }

  // `n` bytes were put at space(); hands the block over once full.
  Status Fill(size_t n) override {
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

// A stream file being written under a temporary name in its final
// directory. The first error removes the temporary file and sticks.
class DirectoryStreamFile : public StreamFile {
 public:
  DirectoryStreamFile(std::function<bool()> recorded, std::string file, std::string path,
                      std::string dir_path, Fd dir, std::string temp, Fd out,
                      std::unique_ptr<ZstdEncoder> cctx, std::string compression)
      : recorded_(std::move(recorded)),
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
    Status st = cctx_ ? cctx_->Encode(data, size, false, &writer_) : writer_.Append(data, size);
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
  Status FinishWrites() {
    Status st = cctx_ ? cctx_->Encode(nullptr, 0, true, &writer_) : Status::Ok();
    return st.ok() ? writer_.Flush() : st;
  }

  // The size check catches a direct-mode writer that was still writing (or
  // truncated the file) after its bytes were hashed: the hash would not be
  // the file's.
  Status SyncAndClose(uint64_t size) {
    if (int err = FsyncFd(out_.get())) return SystemError("cannot fsync", path_, err);
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
    const std::string base = BaseName(file_);
    if (::linkat(dir_.get(), temp_.c_str(), dir_.get(), base.c_str(), 0) == 0) {
      // A temp name that survives this is removed by the next Prepare.
      ::unlinkat(dir_.get(), temp_.c_str(), 0);
      temp_removed_ = true;
      return Status::Ok();
    }
    int err = errno;
    if (err != EEXIST && !LinkUnsupported(err)) return SystemError("cannot link", path_, err);
    if (recorded_()) {
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

  std::function<bool()> recorded_;
  std::string file_;
  std::string path_;
  std::string dir_path_;
  Fd dir_;
  std::string temp_;
  Fd out_;
  std::unique_ptr<ZstdEncoder> cctx_;
  std::string compression_;
  BlockWriter writer_;
  std::unique_ptr<FileFollower> direct_;  // set once in direct mode
  uint64_t bytes_in_ = 0;
  bool committed_ = false;
  bool temp_removed_ = false;
  Status error_;
};

}  // namespace

Status CreateLocalStreamFile(LocalStreamTarget target, std::unique_ptr<StreamFile>* out) {
  const std::string path = JoinPath(target.dir_path, BaseName(target.file));
  std::unique_ptr<ZstdEncoder> cctx;
  if (target.compression == "zstd") {
    Status st = ZstdEncoder::Create(path, &cctx);
    if (!st.ok()) return st;
  }
  std::string temp = std::string(kTempPrefix) + "." + BaseName(target.file) + "." +
                     std::to_string(::getpid()) + "." + std::to_string(target.serial);
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
  Fd fd(OpenAt(target.dir.get(), temp, flags, kFileMode));
  if (!fd.valid() && errno == EEXIST) {
    // A leftover of a crashed run that had the same pid; O_EXCL after the
    // unlink never writes through a symlink planted under that name.
    ::unlinkat(target.dir.get(), temp.c_str(), 0);
    fd = Fd(OpenAt(target.dir.get(), temp, flags, kFileMode));
  }
  if (!fd.valid()) return SystemError("cannot create a temporary file for", path, errno);
  *out = std::make_unique<DirectoryStreamFile>(std::move(target.recorded), target.file, path,
                                               target.dir_path, std::move(target.dir), temp,
                                               std::move(fd), std::move(cctx), target.compression);
  return Status::Ok();
}

}  // namespace zrecon
