#include "reconciler/util/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <thread>
#include <vector>

#include "reconciler/util/strings.h"

extern char** environ;

namespace zrecon {

namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// posix_spawn attribute and file-action objects, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    actions_ok_ = posix_spawn_file_actions_init(&actions_) == 0;
    attr_ok_ = posix_spawnattr_init(&attr_) == 0;
  }
  ~SpawnSetup() {
    if (actions_ok_) posix_spawn_file_actions_destroy(&actions_);
    if (attr_ok_) posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Returns 0 or an errno value.
  int Configure(const ChildStdio& stdio, bool own_group) {
    if (!actions_ok_ || !attr_ok_) return ENOMEM;
    const int targets[] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
    const int sources[] = {stdio.in, stdio.out, stdio.err};
    for (int i = 0; i < 3; ++i) {
      if (int rc = posix_spawn_file_actions_adddup2(&actions_, sources[i], targets[i])) return rc;
    }
    std::vector<int> originals(std::begin(sources), std::end(sources));
    std::sort(originals.begin(), originals.end());
    originals.erase(std::unique(originals.begin(), originals.end()), originals.end());
    for (int fd : originals) {
      if (int rc = posix_spawn_file_actions_addclose(&actions_, fd)) return rc;
    }
    // An ignored SIGPIPE (as a CLI writing to pipes may set) would be
    // inherited across exec, and `zfs send` into a closed pipe would then
    // spin on EPIPE instead of dying. Blocked signals are inherited too.
    sigset_t none, pipe_only;
    sigemptyset(&none);
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    if (int rc = posix_spawnattr_setsigmask(&attr_, &none)) return rc;
    if (int rc = posix_spawnattr_setsigdefault(&attr_, &pipe_only)) return rc;
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_group) {
      if (int rc = posix_spawnattr_setpgroup(&attr_, 0)) return rc;
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    return posix_spawnattr_setflags(&attr_, flags);
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
  bool actions_ok_ = false;
  bool attr_ok_ = false;
};

}  // namespace

// Moves *fd above the standard descriptors and marks it close-on-exec. When
// zrecon itself runs with stdin/stdout/stderr closed, pipe() and open() hand
// out 0..2; a dup2 onto the same number would then be a no-op that leaves
// FD_CLOEXEC set (older glibc), and the child would lose that stream. The
// flag is set with fcntl rather than pipe2/O_CLOEXEC-only calls that older
// illumos lacks.
Status PrepareParentFd(Fd* fd) {
  if (fd->get() <= STDERR_FILENO) {
    int moved = ::fcntl(fd->get(), F_DUPFD, STDERR_FILENO + 1);
    if (moved < 0) return Status::Error("cannot duplicate a descriptor: " + ErrnoText(errno));
    fd->Reset(moved);
  }
  int flags = ::fcntl(fd->get(), F_GETFD);
  if (flags < 0 || ::fcntl(fd->get(), F_SETFD, flags | FD_CLOEXEC) < 0) {
    return Status::Error("cannot set close-on-exec: " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status MakePipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (::pipe(fds) < 0) return Status::Error("cannot create a pipe: " + ErrnoText(errno));
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  Status status = PrepareParentFd(read_end);
  return status.ok() ? PrepareParentFd(write_end) : status;
}

Status OpenDevNull(Fd* fd) {
  int raw;
  do {
    raw = ::open("/dev/null", O_RDONLY);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return Status::Error("cannot open /dev/null: " + ErrnoText(errno));
  fd->Reset(raw);
  return PrepareParentFd(fd);
}

Status SpawnChild(const Argv& argv, const ChildStdio& stdio, pid_t* pid, bool own_group) {
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  SpawnSetup setup;
  int rc = setup.Configure(stdio, own_group);
  if (rc == 0) {
    rc = posix_spawnp(pid, c_argv[0], setup.actions(), setup.attr(), c_argv.data(), environ);
  }
  if (rc != 0) return Status::Error("cannot run " + Printable(argv[0]) + ": " + ErrnoText(rc));
  return Status::Ok();
}

Status CheckArgv(const Argv& argv) {
  if (argv.empty() || argv[0].empty()) return Status::Error("cannot run an empty command");
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].find('\0') != std::string::npos) {
      return Status::Error("cannot run " + Printable(argv[0]) + ": argument " + std::to_string(i) +
                           " contains a NUL byte: " + Printable(argv[i]));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// PipedChild

PipedChild::~PipedChild() { Stop(); }

Status PipedChild::Start(const Argv& argv) {
  Status st = CheckArgv(argv);
  Fd child_in, child_out, err;
  if (st.ok()) st = MakePipe(&child_in, &to_child_);
  if (st.ok()) st = MakePipe(&from_child_, &child_out);
  if (st.ok()) {
    const char* tmp = ::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/zrecon-stderr.XXXXXX";
    int fd = ::mkstemp(templ.data());
    if (fd < 0) {
      st = SystemError("cannot create a temporary file", templ, errno);
    } else {
      ::unlink(templ.c_str());
      err.Reset(fd);
      st = PrepareParentFd(&err);
    }
  }
  if (st.ok()) st = SpawnChild(argv, {child_in.get(), child_out.get(), err.get()}, &pid_, true);
  if (!st.ok()) {
    pid_ = -1;
    to_child_.Reset();
    from_child_.Reset();
    return st;
  }
  stderr_file_ = std::move(err);
  return Status::Ok();
}

std::string PipedChild::Stop(bool now) {
  to_child_.Reset();
  from_child_.Reset();
  if (pid_ <= 0) return "";
  int wait_status = 0;
  pid_t got = 0;
  // A child that does not end when its stdin closes gets SIGTERM after 5 s,
  // SIGKILL after 2 more.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(now ? 0 : 5);
  int stage = 0;
  while (true) {
    got = ::waitpid(pid_, &wait_status, WNOHANG);
    if (got == pid_ || (got < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline && stage < 2) {
      ::kill(pid_, stage == 0 ? SIGTERM : SIGKILL);
      ++stage;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (got < 0) return "cannot wait for it: " + ErrnoText(errno);
  if (WIFEXITED(wait_status)) {
    int code = WEXITSTATUS(wait_status);
    return code == 0 ? "" : "exited with status " + std::to_string(code);
  }
  if (WIFSIGNALED(wait_status)) return "killed by signal " + std::to_string(WTERMSIG(wait_status));
  return "ended with wait status " + std::to_string(wait_status);
}

std::string PipedChild::Stderr() const {
  if (!stderr_file_.valid()) return "";
  struct stat info;
  if (::fstat(stderr_file_.get(), &info) != 0) return "";
  off_t size = info.st_size;
  off_t from = size > 4096 ? size - 4096 : 0;
  std::string text(static_cast<size_t>(size - from), '\0');
  ssize_t got = ::pread(stderr_file_.get(), text.data(), text.size(), from);
  text.resize(got > 0 ? static_cast<size_t>(got) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return Printable(text);
}

}  // namespace zrecon
