#include "reconciler/apply/lock.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

using testing::TempDir;

constexpr EpochSeconds kStarted = 1795688400;  // 2026-11-26T10:20:00Z
constexpr const char* kStartedText = "2026-11-26T10:20:00Z";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void Put(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  REQUIRE(out.good());
}

// A pid that is not running: a child that has exited and been reaped.
pid_t DeadPid() {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return pid;
}

// Another process that takes the lock and holds it until Release() (or
// until it is killed). fcntl locks are per process, so a second holder must
// be a real process for the lock to refuse it.
class OtherHolder {
 public:
  OtherHolder(const std::string& path, const std::string& command) {
    int ready[2], stop[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(stop) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(stop[1]);  // or the child's own copy keeps it from seeing EOF
      RunChild(path, command, ready[1], stop[0]);
    }
    ::close(ready[1]);
    ::close(stop[0]);
    char answer = 0;
    REQUIRE(::read(ready[0], &answer, 1) == 1);
    ::close(ready[0]);
    locked_ = answer == 'y';
    stop_ = stop[1];
  }
  ~OtherHolder() {
    if (pid_ > 0) Kill();
  }

  bool locked() const { return locked_; }
  pid_t pid() const { return pid_; }

  // Lets the holder release the lock normally and exit.
  void Release() {
    ::close(stop_);
    Reap();
  }
  // Ends the holder without any chance to clean up.
  void Kill() {
    ::kill(pid_, SIGKILL);
    ::close(stop_);
    Reap();
  }

 private:
  [[noreturn]] static void RunChild(const std::string& path, const std::string& command, int ready,
                                    int stop) {
    std::unique_ptr<HostLock> lock;
    std::string note;
    char answer = HostLock::Acquire(path, command, kStarted, &lock, &note).ok() ? 'y' : 'n';
    if (::write(ready, &answer, 1) != 1) ::_exit(2);
    char c;
    while (::read(stop, &c, 1) > 0) {
    }
    lock.reset();
    ::_exit(0);
  }

  void Reap() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int stop_ = -1;
  bool locked_ = false;
};

TEST_CASE("lock: taken, recorded in the file, released, taken again") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  std::unique_ptr<HostLock> lock;
  std::string note = "stale";
  Status s = HostLock::Acquire(path, "zrecon apply -f /p.yaml", kStarted, &lock, &note);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(note.empty());
  REQUIRE(lock != nullptr);
  CHECK(lock->path() == path);
  CHECK(Slurp(path) == "pid " + std::to_string(::getpid()) + "\nstarted " + kStartedText +
                           "\ncommand zrecon apply -f /p.yaml\n");

  lock.reset();
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_size == 0);

  s = HostLock::Acquire(path, "zrecon restore", kStarted, &lock, &note);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(note.empty());
  LockOwner owner;
  REQUIRE(ParseLockOwner(Slurp(path), &owner));
  CHECK(owner.command == "zrecon restore");
}

TEST_CASE("lock: a second process is refused at once, with the holder named") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  OtherHolder other(path, "zrecon apply -f /opt/zrecon/policy.yaml");
  REQUIRE(other.locked());
  const std::string held = Slurp(path);

  std::unique_ptr<HostLock> lock;
  std::string note;
  Status s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  CHECK_FALSE(s.ok());
  CHECK(lock == nullptr);
  CHECK(s.message() == "another zrecon (pid " + std::to_string(other.pid()) +
                           ", `zrecon apply -f /opt/zrecon/policy.yaml`, started " + kStartedText +
                           ") holds " + path +
                           "; nothing was changed. Run again once it has finished.");
  CHECK(Slurp(path) == held);

  other.Release();
  s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(note.empty());
}

TEST_CASE("lock: a holder killed with SIGKILL leaves a lock that is taken over with a note") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  OtherHolder other(path, "zrecon apply -f p.yaml");
  REQUIRE(other.locked());
  const pid_t dead = other.pid();
  other.Kill();

  std::unique_ptr<HostLock> lock;
  std::string note;
  Status s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(note == "took over lock file " + path + " from zrecon (pid " + std::to_string(dead) +
                    ", `zrecon apply -f p.yaml`, started " + kStartedText +
                    "), which ended without releasing it (killed or crashed); its work may be "
                    "unfinished, and this run starts from the host's current state");
  LockOwner owner;
  REQUIRE(ParseLockOwner(Slurp(path), &owner));
  CHECK(owner.pid == ::getpid());
}

TEST_CASE("lock: a record naming a pid that does not exist is taken over with a note") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  const pid_t dead = DeadPid();
  Put(path, "pid " + std::to_string(dead) + "\nstarted 2026-11-25T03:00:00Z\ncommand zrecon\n");
  std::unique_ptr<HostLock> lock;
  std::string note;
  Status s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(note.find("from zrecon (pid " + std::to_string(dead) +
                  ", `zrecon`, started 2026-11-25T03:00:00Z), which ended without releasing") !=
        std::string::npos);
}

TEST_CASE("lock: garbage in a free lock file is reported and replaced") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  Put(path, "\x01\x02 not a record\n" + std::string(300, 'x'));
  std::unique_ptr<HostLock> lock;
  std::string note;
  Status s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(note == "lock file " + path + " held \"\\x01\\x02 not a record\\n" +
                    std::string(120 - 16, 'x') +
                    " ...\", which is not a lock record, and no process held the lock; it was "
                    "taken and overwritten");
  LockOwner owner;
  REQUIRE(ParseLockOwner(Slurp(path), &owner));
  CHECK(owner.pid == ::getpid());
}

TEST_CASE("lock: a held lock whose file is garbage is refused, naming the kernel's holder") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  OtherHolder other(path, "zrecon apply");
  REQUIRE(other.locked());
  Put(path, "garbage");  // another descriptor: the holder's lock stays
  std::unique_ptr<HostLock> lock;
  std::string note;
  Status s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  CHECK_FALSE(s.ok());
  CHECK(s.message() == "another process (pid " + std::to_string(other.pid()) +
                           "), whose lock file reads \"garbage\", holds " + path +
                           "; nothing was changed. Run again once it has finished.");

  Put(path, "");
  s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  CHECK(s.message().find("another process (pid " + std::to_string(other.pid()) +
                         "), which has not written its details yet, holds ") == 0);
}

TEST_CASE("lock: a record naming another pid than the kernel's holder is not trusted") {
  TempDir dir;
  const std::string path = dir / "zrecon.lock";
  OtherHolder other(path, "zrecon apply");
  REQUIRE(other.locked());
  Put(path, "pid " + std::to_string(DeadPid()) + "\ncommand zrecon old\n");
  std::unique_ptr<HostLock> lock;
  std::string note;
  Status s = HostLock::Acquire(path, "zrecon apply", kStarted, &lock, &note);
  CHECK(s.message().find("another process (pid " + std::to_string(other.pid()) + "), whose") == 0);
}

TEST_CASE("lock: a path that cannot be a lock file fails clearly, naming it") {
  TempDir dir;
  std::unique_ptr<HostLock> lock;
  std::string note;

  const std::string missing = dir / "no/such/dir/zrecon.lock";
  Status s = HostLock::Acquire(missing, "zrecon apply", kStarted, &lock, &note);
  CHECK(s.message() == "cannot open lock file " + missing + ": No such file or directory");

  const std::string directory = dir / "a-directory";
  REQUIRE(::mkdir(directory.c_str(), 0755) == 0);
  s = HostLock::Acquire(directory, "zrecon apply", kStarted, &lock, &note);
  CHECK(s.message() == "cannot open lock file " + directory + ": Is a directory");

  const std::string fifo = dir / "a-fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  s = HostLock::Acquire(fifo, "zrecon apply", kStarted, &lock, &note);
  CHECK(s.message() == "lock file " + fifo + " is not a regular file");

  const std::string link = dir / "a-link";
  REQUIRE(::symlink((dir / "target").c_str(), link.c_str()) == 0);
  s = HostLock::Acquire(link, "zrecon apply", kStarted, &lock, &note);
  CHECK(s.message() == "lock file " + link + " is a symbolic link; refusing to follow it");
  CHECK(::access((dir / "target").c_str(), F_OK) != 0);
  CHECK(lock == nullptr);
}

TEST_CASE("lock: a process takes one lock at most") {
  TempDir dir;
  std::unique_ptr<HostLock> first, second;
  std::string note;
  REQUIRE(HostLock::Acquire(dir / "a.lock", "zrecon apply", kStarted, &first, &note).ok());
  Status s = HostLock::Acquire(dir / "b.lock", "zrecon apply", kStarted, &second, &note);
  CHECK(s.message() == "cannot lock " + dir / "b.lock" +
                           ": this process already holds a zrecon lock (one per process)");
  first.reset();
  CHECK(HostLock::Acquire(dir / "b.lock", "zrecon apply", kStarted, &second, &note).ok());
}

TEST_CASE("lock: records are one line per key; commands are kept on one line") {
  LockOwner owner;
  owner.pid = 42;
  owner.started = kStartedText;
  owner.command = "zrecon apply -f 'two\nlines.yaml'";
  const std::string text = FormatLockOwner(owner);
  CHECK(text == std::string("pid 42\nstarted ") + kStartedText +
                    "\ncommand zrecon apply -f 'two\\nlines.yaml'\n");
  LockOwner parsed;
  REQUIRE(ParseLockOwner(text, &parsed));
  CHECK(parsed.pid == 42);
  CHECK(parsed.started == kStartedText);
  CHECK(parsed.command == "zrecon apply -f 'two\\nlines.yaml'");
  CHECK(parsed.Describe() ==
        std::string("pid 42, `zrecon apply -f 'two\\nlines.yaml'`, started ") + kStartedText);

  CHECK(ParseLockOwner("pid 7\n", &parsed));
  CHECK(parsed.Describe() == "pid 7");
  CHECK_FALSE(ParseLockOwner("", &parsed));
  CHECK_FALSE(ParseLockOwner("pid 0\n", &parsed));
  CHECK_FALSE(ParseLockOwner("pid -3\n", &parsed));
  CHECK_FALSE(ParseLockOwner("pid 12abc\n", &parsed));
  CHECK_FALSE(ParseLockOwner("started 2026-11-26T10:20:00Z\ncommand zrecon\n", &parsed));
}

}  // namespace
}  // namespace zrecon
