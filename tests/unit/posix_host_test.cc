#include "reconciler/host/posix_host.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/host/host.h"
#include "reconciler/util/files.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/spawn.h"
#include "tests/unit/fake_host.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

// Test scripts go through /bin/sh; zrecon itself never does.
Argv Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

CommandResult MustRun(PosixHost& host, const Argv& argv) {
  CommandResult result;
  Status status = host.Run(argv, &result);
  REQUIRE_MESSAGE(status.ok(), status.message());
  return result;
}

struct TimedResult {
  CommandResult result;
  double seconds;
};

TimedResult MustRunTimed(PosixHost& host, const Argv& argv) {
  auto start = std::chrono::steady_clock::now();
  CommandResult result = MustRun(host, argv);
  return {result, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Bytes that differ from their neighbours, so that a dropped, repeated or
// reordered chunk shows.
std::string Pattern(size_t size) {
  std::string data(size, '\0');
  uint32_t x = 2463534242u;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return data;
}

std::string ZerosDigest(size_t size) {
  Sha256 sha;
  std::string block(1 << 20, '\0');
  for (size_t done = 0; done < size; done += block.size()) {
    sha.Update(block.data(), std::min(block.size(), size - done));
  }
  return sha.HexDigest();
}

TEST_CASE("spawn: a piped child (ssh) leads its own process group; a command does not") {
  PipedChild child;
  REQUIRE(child.Start({"/bin/cat"}).ok());
  // The terminal's Ctrl-C goes to zrecon's group only: ssh stays up for
  // the cleanup, and zrecon ends it.
  CHECK(::getpgid(child.pid()) == child.pid());
  CHECK(::getpgid(child.pid()) != ::getpgrp());
  CHECK(child.Stop() == "");

  pid_t pid = -1;
  Fd null_in;
  REQUIRE(OpenDevNull(&null_in).ok());
  REQUIRE(
      SpawnChild({"/bin/sleep", "5"}, {null_in.get(), null_in.get(), null_in.get()}, &pid).ok());
  CHECK(::getpgid(pid) == ::getpgrp());
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

TEST_CASE("posix_host: stdout, stderr and exit code are captured separately") {
  PosixHost host;
  CommandResult r = MustRun(host, Sh("echo to-out; echo to-err >&2; echo more-out; exit 3"));
  CHECK(r.out == "to-out\nmore-out\n");
  CHECK(r.err == "to-err\n");
  CHECK(r.exit_code == 3);
  CHECK_FALSE(r.timed_out);

  CommandResult ok = MustRun(host, {"true"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.empty());
  CHECK(ok.err.empty());
}

TEST_CASE("posix_host: a result is reset before each run") {
  PosixHost host;
  CommandResult r;
  r.out = "stale";
  r.err = "stale";
  r.timed_out = true;
  REQUIRE(host.Run({"true"}, &r).ok());
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("posix_host: argv reaches the program literally, without a shell") {
  PosixHost host;
  CommandResult echo = MustRun(host, {"/bin/echo", "a;b $(x)"});
  CHECK(echo.out == "a;b $(x)\n");

  // printf prints each argument on its own line, so word boundaries show.
  CommandResult r = MustRun(host, {"printf", "%s\\n", "two  spaces", "it's \"quoted\"", "`id`", "*",
                                   "$HOME", "a|b>c", ""});
  CHECK(r.out == "two  spaces\nit's \"quoted\"\n`id`\n*\n$HOME\na|b>c\n\n");
  CHECK(r.exit_code == 0);
}

TEST_CASE("posix_host: stdin is /dev/null") {
  PosixHost host(30);
  CommandResult r = MustRun(host, {"cat"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("posix_host: large output on both pipes does not deadlock") {
  // stderr is filled first: a reader that drained stdout before stderr would
  // block forever once the stderr pipe buffer (64 KiB) is full. The timeout
  // turns such a deadlock into a failure instead of a hung test.
  PosixHost host(120);
  CommandResult r = MustRun(host, Sh("head -c 3000000 /dev/zero | tr '\\0' e >&2;"
                                     "head -c 9000000 /dev/zero | tr '\\0' o;"
                                     "head -c 1000000 /dev/zero | tr '\\0' E >&2"));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  REQUIRE(r.out.size() == 9000000);
  CHECK(r.out.find_first_not_of('o') == std::string::npos);
  REQUIRE(r.err.size() == 4000000);
  CHECK(r.err.find_first_not_of('e') == 3000000);
  CHECK(r.err.find_first_not_of('E', 3000000) == std::string::npos);
}

TEST_CASE("posix_host: death by signal is 128 + the signal number") {
  PosixHost host;
  CHECK(MustRun(host, Sh("kill -9 $$")).exit_code == 128 + 9);
  CHECK(MustRun(host, Sh("kill -15 $$")).exit_code == 128 + 15);
}

TEST_CASE("posix_host: a program that cannot be started is a failed Status") {
  PosixHost host;
  CommandResult r;
  Status on_path = host.Run({"zrecon-no-such-program", "list"}, &r);
  REQUIRE_FALSE(on_path.ok());
  CHECK(on_path.message() == "cannot run zrecon-no-such-program: No such file or directory");

  Status with_slash = host.Run({"/nonexistent/zfs", "list"}, &r);
  REQUIRE_FALSE(with_slash.ok());
  CHECK(with_slash.message() == "cannot run /nonexistent/zfs: No such file or directory");

  Status not_executable = host.Run({"/dev/null"}, &r);
  REQUIRE_FALSE(not_executable.ok());
  CHECK(not_executable.message() == "cannot run /dev/null: Permission denied");
}

TEST_CASE("posix_host: argvs that cannot be exec'd are refused") {
  PosixHost host;
  CommandResult r;
  Status empty = host.Run({}, &r);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.message() == "cannot run an empty command");

  Status nul = host.Run({"/bin/echo", std::string("a\0b", 3)}, &r);
  REQUIRE_FALSE(nul.ok());
  CHECK(nul.message() == "cannot run /bin/echo: argument 1 contains a NUL byte: a\\x00b");
}

TEST_CASE("posix_host: a timeout terminates the command and keeps its output") {
  PosixHost host(1);
  auto [r, elapsed] = MustRunTimed(host, Sh("echo started; exec sleep 30"));
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + 15);
  CHECK(r.out == "started\n");
  CHECK(elapsed >= 0.9);
  CHECK(elapsed < 3.0);
}

TEST_CASE("posix_host: a command that ignores SIGTERM gets SIGKILL after the grace period") {
  PosixHost host(1);
  auto [r, elapsed] = MustRunTimed(host, Sh("trap '' TERM; exec sleep 30"));
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + 9);
  CHECK(elapsed >= 2.9);
  CHECK(elapsed < 5.0);
}

TEST_CASE("posix_host: a grandchild holding the pipes cannot hang a timed run") {
  // The shell exits at once, but the background sleep inherited stdout and
  // stderr, so EOF would only come when it exits.
  PosixHost host(1);
  auto [r, elapsed] = MustRunTimed(host, Sh("sleep 8 & echo parent; exit 4"));
  CHECK(r.timed_out);
  CHECK(r.exit_code == 4);
  CHECK(r.out == "parent\n");
  CHECK(elapsed < 7.0);
}

TEST_CASE("posix_host: without a timeout a slow command runs to completion") {
  PosixHost host(0);
  CommandResult r = MustRun(host, Sh("sleep 1; echo done"));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "done\n");
}

TEST_CASE("posix_host: RunToSink delivers 64 MiB byte-exact and leaves out empty") {
  constexpr size_t kSize = 64 << 20;
  PosixHost host(120);
  StringSink sink;
  CommandResult r;
  r.out = "stale";
  Status status = host.RunToSink(Sh("head -c 67108864 /dev/zero"), &sink, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out.empty());
  CHECK(sink.data().size() == kSize);
  CHECK(Sha256::Hex(sink.data()) == ZerosDigest(kSize));
}

TEST_CASE("posix_host: RunToSink keeps the order of the bytes") {
  PosixHost host(120);
  StringSink sink;
  CommandResult r;
  REQUIRE(
      host.RunToSink(Sh("awk 'BEGIN { for (i = 1; i <= 1500000; i++) print i }'"), &sink, &r).ok());
  CHECK(r.exit_code == 0);
  std::string expected;
  for (int i = 1; i <= 1500000; ++i) expected += std::to_string(i) + "\n";
  CHECK(sink.data().size() == expected.size());
  CHECK(sink.data() == expected);
}

TEST_CASE("posix_host: RunToSink captures stderr and the exit code of a failing child") {
  PosixHost host;
  StringSink sink;
  CommandResult r;
  Status status = host.RunToSink(
      Sh("printf half-a-stream; echo 'cannot send: I/O error' >&2; exit 5"), &sink, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(r.exit_code == 5);
  CHECK(r.err == "cannot send: I/O error\n");
  CHECK(r.out.empty());
  CHECK(sink.data() == "half-a-stream");
}

TEST_CASE("posix_host: RunToSink reads stderr while stdout streams") {
  // As in the Run test: stderr fills first, and the timeout turns a deadlock
  // into a failure.
  PosixHost host(120);
  StringSink sink;
  CommandResult r;
  Status status = host.RunToSink(Sh("head -c 3000000 /dev/zero | tr '\\0' e >&2;"
                                    "head -c 9000000 /dev/zero;"
                                    "head -c 1000000 /dev/zero | tr '\\0' E >&2"),
                                 &sink, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(sink.data().size() == 9000000);
  REQUIRE(r.err.size() == 4000000);
  CHECK(r.err.find_first_not_of('e') == 3000000);
  CHECK(r.err.find_first_not_of('E', 3000000) == std::string::npos);
}

TEST_CASE("posix_host: a failing sink stops an endless child promptly and returns its Status") {
  PosixHost host(0);  // no timeout: stopping must not depend on one
  StringSink sink(3 << 20);
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  Status status = host.RunToSink({"cat", "/dev/zero"}, &sink, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cat /dev/zero: disk full");
  CHECK(SecondsSince(start) < 1.5);
  CHECK(sink.data().size() <= (3u << 20));
  CHECK(sink.writes_after_failure() == 0);
  // SIGTERM, or SIGPIPE when cat writes into the closed pipe first.
  CHECK((r.exit_code == 128 + SIGTERM || r.exit_code == 128 + SIGPIPE));
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("posix_host: after a sink failure a child that ignores SIGTERM gets SIGKILL") {
  // head dies of SIGPIPE once the stream is cut; the shell then ignores
  // SIGTERM and keeps stderr open, so only SIGKILL ends the run.
  PosixHost host(0);
  StringSink sink(1 << 20);
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  Status status = host.RunToSink(
      Sh("trap '' TERM; head -c 8000000 /dev/zero; echo after >&2; exec sleep 30"), &sink, &r);
  double elapsed = SecondsSince(start);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(": disk full") != std::string::npos);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(r.err == "after\n");
  CHECK(elapsed >= 1.9);
  CHECK(elapsed < 4.0);
}

TEST_CASE("posix_host: RunToSink of a program that cannot be started never touches the sink") {
  PosixHost host;
  StringSink sink;
  CommandResult r;
  Status status = host.RunToSink({"zrecon-no-such-program"}, &sink, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cannot run zrecon-no-such-program: No such file or directory");
  CHECK(sink.writes() == 0);
}

TEST_CASE("posix_host: RunFromSource delivers every byte, in order, while reading stdout") {
  // cat echoes its input: if stdout were not drained while stdin is fed,
  // both pipes would fill and neither side could move.
  const std::string data = Pattern(20000000);
  PosixHost host(120);
  ChunkedSource source(data);
  CommandResult r;
  Status status = host.RunFromSource({"cat"}, &source, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out.size() == data.size());
  CHECK(r.out == data);
  CHECK(source.offset() == data.size());
}

TEST_CASE("posix_host: RunFromSource copes with short reads and an empty source") {
  PosixHost host(60);
  ChunkedSource odd(Pattern(1000003), 4099);
  CommandResult r;
  REQUIRE(host.RunFromSource(Sh("wc -c | tr -d ' '"), &odd, &r).ok());
  CHECK(r.out == "1000003\n");
  CHECK(odd.reads() > 200);

  ChunkedSource empty("");
  REQUIRE(host.RunFromSource(Sh("wc -c | tr -d ' '"), &empty, &r).ok());
  CHECK(r.out == "0\n");
  CHECK(r.exit_code == 0);
}

TEST_CASE("posix_host: RunFromSource of a program that cannot be started reads nothing") {
  PosixHost host;
  ChunkedSource source("abc");
  CommandResult r;
  Status status = host.RunFromSource({"/nonexistent/zfs", "receive", "zones/u"}, &source, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cannot run /nonexistent/zfs: No such file or directory");
  CHECK(source.reads() == 0);
}

TEST_CASE("posix_host: a child that exits early stops the feeding and reports its own error") {
  PosixHost host(60);
  ChunkedSource source(std::string(50000000, 'x'));
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  Status status =
      host.RunFromSource(Sh("head -c 10 >/dev/null; echo bad >&2; exit 3"), &source, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(SecondsSince(start) < 10.0);
  CHECK(r.exit_code == 3);
  CHECK(r.err == "bad\n");
  CHECK_FALSE(r.timed_out);
  CHECK(source.offset() < 50000000);
}

TEST_CASE("posix_host: a child that stops reading but exits 0 fails the run") {
  PosixHost host(60);
  ChunkedSource source(std::string(50000000, 'x'));
  CommandResult r;
  Status status = host.RunFromSource(Sh("head -c 10 >/dev/null"), &source, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind("/bin/sh -c 'head -c 10 >/dev/null' exited 0 but stopped reading "
                               "its input after ",
                               0) == 0);
  CHECK(r.exit_code == 0);
}

TEST_CASE("posix_host: a failing source terminates the child instead of ending its input") {
  // Were stdin closed, cat would see a clean EOF and exit 0.
  PosixHost host(0);
  ChunkedSource source(Pattern(8 << 20), SIZE_MAX, 3 << 20);
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  Status status = host.RunFromSource({"cat"}, &source, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cat: bad sector");
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.out.size() <= (3u << 20));
  CHECK(SecondsSince(start) < 1.5);
}

TEST_CASE("posix_host: after a source failure a child that ignores SIGTERM gets SIGKILL") {
  // The source fails only once the child has read more than a pipe holds,
  // so the shell has run its trap before SIGTERM comes.
  PosixHost host(0);
  ChunkedSource source(Pattern(8 << 20), SIZE_MAX, 3 << 20);
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  Status status = host.RunFromSource(Sh("trap '' TERM; exec cat >/dev/null"), &source, &r);
  double elapsed = SecondsSince(start);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(": bad sector") != std::string::npos);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(r.err.empty());
  CHECK(elapsed >= 1.9);
  CHECK(elapsed < 4.0);
}

TEST_CASE("posix_host: the timeout applies to streaming runs") {
  PosixHost host(1);
  StringSink sink;
  CommandResult r;
  Status to_sink = host.RunToSink(Sh("printf started; exec sleep 30"), &sink, &r);
  REQUIRE_MESSAGE(to_sink.ok(), to_sink.message());
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(sink.data().size() == 7);

  ChunkedSource source(std::string(1000, 'x'));
  Status from_source = host.RunFromSource(Sh("exec sleep 30"), &source, &r);
  REQUIRE_MESSAGE(from_source.ok(), from_source.message());
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + SIGTERM);
}

TEST_CASE("posix_host: a timed run does not hang on a child that closed its pipes") {
  // Nothing is left to poll, yet the watchdog must still send its signals.
  PosixHost host(1);
  auto [r, elapsed] = MustRunTimed(host, Sh("exec >&- 2>&-; exec sleep 30"));
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(elapsed < 3.0);
}

// A file in `dir` opened with `flags` (O_CREAT: mode 0644), closed when the
// test ends.
class OpenFile {
 public:
  OpenFile(const testing::TempDir& dir, const std::string& name, int flags)
      : path_(dir / name), fd_(::open(path_.c_str(), flags | O_CLOEXEC, 0644)) {
    REQUIRE_MESSAGE(fd_ >= 0, path_ << ": " << std::strerror(errno));
  }
  ~OpenFile() { ::close(fd_); }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  int fd() const { return fd_; }
  std::string Contents() const {
    std::string text;
    Status st = ReadFile(path_, &text);
    REQUIRE_MESSAGE(st.ok(), st.message());
    return text;
  }

 private:
  std::string path_;
  int fd_;
};

TEST_CASE("posix_host: RunToFile writes stdout into the descriptor at its offset, keeps it open") {
  testing::TempDir dir("zrecon-host");
  OpenFile file(dir, "out", O_WRONLY | O_CREAT | O_EXCL);
  REQUIRE(::write(file.fd(), "head\n", 5) == 5);
  PosixHost host;
  CommandResult r;
  Status status = host.RunToFile(
      Sh("awk 'BEGIN { for (i = 1; i <= 300000; i++) print i }'; echo note >&2"), file.fd(), &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  std::string expected = "head\n";
  for (int i = 1; i <= 300000; ++i) expected += std::to_string(i) + "\n";
  CHECK(file.Contents() == expected);
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err == "note\n");
  // The child wrote through the caller's open file, whose descriptor is
  // still open with its own flags.
  CHECK(::lseek(file.fd(), 0, SEEK_CUR) == static_cast<off_t>(expected.size()));
  CHECK((::fcntl(file.fd(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("posix_host: RunToFile reports a failing child's exit code and stderr") {
  testing::TempDir dir("zrecon-host");
  OpenFile file(dir, "out", O_WRONLY | O_CREAT | O_EXCL);
  PosixHost host;
  CommandResult r;
  Status status = host.RunToFile(Sh("printf partial; echo 'cannot send: I/O error' >&2; exit 3"),
                                 file.fd(), &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cannot send: I/O error\n");
  CHECK(file.Contents() == "partial");
}

TEST_CASE("posix_host: RunToFile refuses a descriptor it cannot write and runs nothing") {
  testing::TempDir dir("zrecon-host");
  REQUIRE(WriteFileAtomically(dir / "in", "unchanged").ok());
  OpenFile read_only(dir, "in", O_RDONLY);
  PosixHost host;
  CommandResult r;
  const Argv touch = {"touch", dir / "ran"};
  Status status = host.RunToFile(touch, read_only.fd(), &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cannot run touch: descriptor " + std::to_string(read_only.fd()) +
                                " is not open for writing");
  status = host.RunToFile(touch, -1, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cannot run touch: descriptor -1 is not open");
  CHECK(::access((dir / "ran").c_str(), F_OK) != 0);
  CHECK(read_only.Contents() == "unchanged");

  OpenFile file(dir, "out", O_WRONLY | O_CREAT | O_EXCL);
  status = host.RunToFile({"zrecon-no-such-program"}, file.fd(), &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find("cannot run zrecon-no-such-program") == 0);
  CHECK(file.Contents().empty());
}

TEST_CASE("posix_host: the timeout applies to RunToFile") {
  testing::TempDir dir("zrecon-host");
  OpenFile file(dir, "out", O_WRONLY | O_CREAT | O_EXCL);
  PosixHost host(1);
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  Status status = host.RunToFile(Sh("printf started; exec sleep 30"), file.fd(), &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(SecondsSince(start) < 3.0);
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(file.Contents() == "started");
}

TEST_CASE("posix_host: DescribeFailure names the command, exit code and first stderr line") {
  CommandResult r;
  r.exit_code = 1;
  r.err = "\n  cannot open 'tank/x': dataset does not exist  \nusage:\n\tlist ...\n";
  CHECK(DescribeFailure({"zfs", "list", "tank/x"}, r) ==
        "zfs list tank/x exited 1: cannot open 'tank/x': dataset does not exist");

  r.err = "";
  CHECK(DescribeFailure({"vmadm", "get", "my vm"}, r) ==
        "vmadm get 'my vm' exited 1 with no error output");

  r.exit_code = 143;
  r.timed_out = true;
  r.err = "bad\x01value\n";
  CHECK(DescribeFailure({"zfs", "send", "a@b"}, r) ==
        "zfs send a@b timed out (exit 143): bad\\x01value");
}

TEST_CASE("posix_host: DescribeFailure shortens very long commands") {
  Argv argv = {"zfs", "destroy", "tank/ds@" + std::string(5000, 'a')};
  CommandResult r;
  r.exit_code = 1;
  r.err = "could not find any snapshots to destroy; check snapshot names.\n";
  std::string text = DescribeFailure(argv, r);
  CHECK(text.rfind("zfs destroy tank/ds@aaa", 0) == 0);
  CHECK(text.find(" ... exited 1: could not find any snapshots") != std::string::npos);
  CHECK(text.size() < 600);
}

// Raises `interrupt` with `signal_number` once `marker` exists: the test's
// child creates it once it runs, so the interrupt comes mid-command.
class RaiseWhenRunning {
 public:
  RaiseWhenRunning(Interrupt* interrupt, std::string marker, int signal_number)
      : thread_([=] {
          for (int i = 0; i < 3000 && ::access(marker.c_str(), F_OK) != 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          interrupt->Raise(signal_number);
        }) {}
  ~RaiseWhenRunning() { thread_.join(); }
  RaiseWhenRunning(const RaiseWhenRunning&) = delete;
  RaiseWhenRunning& operator=(const RaiseWhenRunning&) = delete;

 private:
  std::thread thread_;
};

TEST_CASE("interrupt: the first signal is kept and the pipe becomes readable") {
  Interrupt interrupt;
  CHECK_FALSE(interrupt.raised());
  CHECK(interrupt.Describe().empty());
  REQUIRE(interrupt.fd() >= 0);
  CHECK((::fcntl(interrupt.fd(), F_GETFD) & FD_CLOEXEC) != 0);
  pollfd p{interrupt.fd(), POLLIN, 0};
  CHECK(::poll(&p, 1, 0) == 0);
  interrupt.Raise(SIGTERM);
  interrupt.Raise(SIGINT);
  CHECK(interrupt.raised());
  CHECK(interrupt.signal_number() == SIGTERM);
  CHECK(interrupt.Describe() == "interrupted by SIGTERM");
  CHECK(::poll(&p, 1, 0) == 1);
  Interrupt other;
  other.Raise(SIGHUP);
  CHECK(other.Describe() == "interrupted by SIGHUP");
}

TEST_CASE("posix_host: an interrupt stops the running command and says so") {
  testing::TempDir dir("zrecon-host");
  const std::string marker = dir / "running";
  Interrupt interrupt;
  PosixHost host(0, &interrupt);
  CommandResult r;
  Status status;
  {
    RaiseWhenRunning raise(&interrupt, marker, SIGINT);
    status = host.Run(Sh("echo started; : > " + marker + "; exec sleep 30"), &r);
  }
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() ==
        "/bin/sh -c 'echo started; : > " + marker + "; exec sleep 30': interrupted by SIGINT");
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.out == "started\n");
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("posix_host: an interrupt stops a RunToFile child and a RunFromSource child") {
  testing::TempDir dir("zrecon-host");
  OpenFile file(dir, "out", O_WRONLY | O_CREAT | O_EXCL);
  Interrupt interrupt;
  PosixHost host(0, &interrupt);
  CommandResult r;
  Status status;
  {
    const std::string marker = dir / "writing";
    RaiseWhenRunning raise(&interrupt, marker, SIGTERM);
    status = host.RunToFile(Sh("printf partial; : > " + marker + "; exec sleep 30"), file.fd(), &r);
  }
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(": interrupted by SIGTERM") != std::string::npos);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(file.Contents() == "partial");

  // A child that never reads its endless input: only the interrupt ends it.
  struct Endless : ByteSource {
    Status Read(char* buffer, size_t capacity, size_t* got) override {
      std::memset(buffer, 'x', capacity);
      *got = capacity;
      return Status::Ok();
    }
  } source;
  Interrupt second;
  PosixHost feeding(0, &second);
  {
    const std::string marker = dir / "reading";
    RaiseWhenRunning raise(&second, marker, SIGINT);
    status = feeding.RunFromSource(Sh(": > " + marker + "; exec sleep 30"), &source, &r);
  }
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(": interrupted by SIGINT") != std::string::npos);
  CHECK(r.exit_code == 128 + SIGTERM);
}

TEST_CASE("posix_host: a command started after the interrupt runs to its end") {
  // The cleanup of an interrupted restore must still run.
  Interrupt interrupt;
  interrupt.Raise(SIGINT);
  PosixHost host(0, &interrupt);
  CommandResult r = MustRun(host, Sh("sleep 0.2; echo cleaned"));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "cleaned\n");
}

TEST_CASE("posix_host: a stream that moves nothing for the stall limit is stopped") {
  testing::TempDir dir("zrecon-host");
  PosixHost host(0, nullptr, 1);
  CommandResult r;
  // Into a sink.
  StringSink sink;
  Status status = host.RunToSink(Sh("printf start; exec sleep 30"), &sink, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() ==
        "/bin/sh -c 'printf start; exec sleep 30': stalled: no data moved "
        "for 1 second (--stall-timeout)");
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(sink.data() == "start");
  // Into a file (the direct export path: the file's size is the progress).
  OpenFile file(dir, "out", O_WRONLY | O_CREAT | O_EXCL);
  status = host.RunToFile(Sh("printf start; exec sleep 30"), file.fd(), &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(": stalled: no data moved for 1 second") != std::string::npos);
  CHECK(file.Contents() == "start");
  // From a source into a child that stopped reading.
  struct Endless : ByteSource {
    Status Read(char* buffer, size_t capacity, size_t* got) override {
      std::memset(buffer, 'x', capacity);
      *got = capacity;
      return Status::Ok();
    }
  } source;
  status = host.RunFromSource(Sh("head -c 1000 >/dev/null; exec sleep 30"), &source, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(": stalled: no data moved for 1 second") != std::string::npos);
  CHECK(r.exit_code == 128 + SIGTERM);
}

TEST_CASE("posix_host: the stall limit counts from the last byte, and only for streams") {
  PosixHost host(0, nullptr, 1);
  CommandResult r;
  // 2.4 s in all, never 1 s without a byte.
  StringSink sink;
  Status status =
      host.RunToSink(Sh("for i in 1 2 3 4 5 6 7 8; do printf x; sleep 0.3; done"), &sink, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(r.exit_code == 0);
  CHECK(sink.data() == "xxxxxxxx");
  // Once the whole input is fed, the child may take its time to finish (a
  // receive committing what it got).
  ChunkedSource input("all of it");
  status = host.RunFromSource(Sh("cat >/dev/null; sleep 1.5"), &input, &r);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(r.exit_code == 0);
  // Captured output is not a stream: --timeout is its limit.
  r = MustRun(host, Sh("sleep 1.5; echo done"));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "done\n");
}

}  // namespace
}  // namespace zrecon
