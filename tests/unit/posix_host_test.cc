#include "reconciler/host/posix_host.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "reconciler/host/host.h"

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
  CHECK(text.size() < 300);
}

}  // namespace
}  // namespace zrecon
