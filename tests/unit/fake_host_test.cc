#include "tests/unit/fake_host.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "reconciler/util/files.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

using Kind = FakeHost::Kind;

const Argv kSend = {"zfs", "send", "-i", "zones/u@a", "zones/u@b"};
const Argv kReceive = {"zfs", "receive", "-u", "backup/u"};

TEST_CASE("fake_host: RunToSink feeds the answer's bytes into the sink, not into out") {
  FakeHost host;
  host.Answer(kSend, FakeHost::Streamed("stream-bytes"));
  StringSink sink;
  CommandResult r;
  REQUIRE(host.RunToSink(kSend, &sink, &r).ok());
  CHECK(sink.data() == "stream-bytes");
  CHECK(sink.writes() == 1);
  CHECK(r.out.empty());
  CHECK(r.exit_code == 0);
}

TEST_CASE("fake_host: RunToSink writes in chunks of the configured size") {
  FakeHost host;
  host.SetChunkSize(5);
  host.AnswerPrefix({"zfs", "send"}, FakeHost::Streamed("0123456789ab"));
  StringSink sink;
  CommandResult r;
  REQUIRE(host.RunToSink(kSend, &sink, &r).ok());
  CHECK(sink.data() == "0123456789ab");
  CHECK(sink.writes() == 3);
}

TEST_CASE("fake_host: a send that dies half way delivers some bytes, then its exit and stderr") {
  FakeHost host;
  host.SetChunkSize(4);
  host.Answer(kSend, FakeHost::Streamed("half-a-", 1, "cannot send: I/O error\n"));
  StringSink sink;
  CommandResult r;
  REQUIRE(host.RunToSink(kSend, &sink, &r).ok());
  CHECK(sink.data() == "half-a-");
  CHECK(r.exit_code == 1);
  CHECK(r.err == "cannot send: I/O error\n");
  CHECK(r.out.empty());
}

TEST_CASE("fake_host: a failing sink stops the stream like PosixHost does") {
  FakeHost host;
  host.SetChunkSize(4);
  host.Answer(kSend, FakeHost::Streamed("0123456789"));
  StringSink sink(6);
  CommandResult r;
  Status status = host.RunToSink(kSend, &sink, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "zfs send -i zones/u@a zones/u@b: disk full");
  CHECK(sink.data() == "0123");
  CHECK(sink.writes_after_failure() == 0);
  CHECK(r.exit_code == 128 + SIGTERM);
}

TEST_CASE("fake_host: RunFromSource reads the whole source and keeps the bytes per call") {
  FakeHost host;
  host.SetChunkSize(3);
  host.Answer(kReceive, FakeHost::Output("received 10B stream\n"));
  ChunkedSource first("0123456789");
  ChunkedSource second("abc");
  CommandResult r;
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  REQUIRE(host.RunFromSource(kReceive, &first, &r).ok());
  CHECK(r.out == "received 10B stream\n");
  CHECK(r.exit_code == 0);
  REQUIRE(host.RunFromSource({"zfs", "receive", "backup/v"}, &second, &r).ok());
  CHECK(first.offset() == 10);
  CHECK(first.reads() == 5);  // four of data, one at EOF
  CHECK(host.Received(1).empty());
  CHECK(host.Received(2) == "0123456789");
  CHECK(host.Received(3) == "abc");
  CHECK(host.Received(4).empty());
}

TEST_CASE("fake_host: a failing source stops the receive like PosixHost does") {
  FakeHost host;
  host.SetChunkSize(4);
  ChunkedSource source("0123456789", SIZE_MAX, 6);
  CommandResult r;
  Status status = host.RunFromSource(kReceive, &source, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "zfs receive -u backup/u: bad sector");
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(host.Received(1) == "0123");
}

TEST_CASE("fake_host: injected failures apply to streaming calls too") {
  FakeHost host;
  host.Answer(kSend, FakeHost::Streamed("whole stream"));
  host.FailCall(2, FakeHost::Streamed("who", 1, "cannot send: pool I/O suspended\n"));
  host.FailStart(3, "cannot run zfs: No such file or directory");
  host.FailCallIf([](const Argv& argv) { return argv.back() == "backup/bad"; },
                  FakeHost::Failure(1, "cannot receive: destination exists\n"));

  StringSink whole, partial, never;
  CommandResult r;
  REQUIRE(host.RunToSink(kSend, &whole, &r).ok());
  CHECK(whole.data() == "whole stream");
  REQUIRE(host.RunToSink(kSend, &partial, &r).ok());
  CHECK(partial.data() == "who");
  CHECK(r.exit_code == 1);
  CHECK(r.err == "cannot send: pool I/O suspended\n");

  Status not_started = host.RunToSink(kSend, &never, &r);
  REQUIRE_FALSE(not_started.ok());
  CHECK(not_started.message() == "cannot run zfs: No such file or directory");
  CHECK(never.writes() == 0);

  ChunkedSource source("abc");
  REQUIRE(host.RunFromSource({"zfs", "receive", "backup/bad"}, &source, &r).ok());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "cannot receive: destination exists\n");
  CHECK(host.Received(4) == "abc");
}

TEST_CASE("fake_host: a receive that cannot start reads nothing") {
  FakeHost host;
  host.FailStart(1, "cannot run zfs: Permission denied");
  ChunkedSource source("abc");
  CommandResult r;
  r.out = "stale";
  Status status = host.RunFromSource(kReceive, &source, &r);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cannot run zfs: Permission denied");
  CHECK(source.reads() == 0);
  CHECK(r.out.empty());
  CHECK(host.Received(1).empty());
}

// A new file in a fresh directory, open for writing.
struct TempFile {
  testing::TempDir dir{"zrecon-fake-host"};
  std::string path = dir / "out";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  TempFile() { REQUIRE(fd >= 0); }
  ~TempFile() { ::close(fd); }
  std::string Contents() const {
    std::string text;
    REQUIRE(ReadFile(path, &text).ok());
    return text;
  }
};

TEST_CASE("fake_host: RunToFile writes the answer's bytes into the descriptor, then answers") {
  FakeHost host;
  host.SetChunkSize(4);
  host.Answer(kSend, FakeHost::Streamed("half-a-stream", 1, "cannot send: I/O error\n"));
  TempFile file;
  CommandResult r;
  REQUIRE(host.RunToFile(kSend, file.fd, &r).ok());
  CHECK(file.Contents() == "half-a-stream");
  CHECK(r.out.empty());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "cannot send: I/O error\n");
  CHECK(host.kinds() == std::vector<Kind>{Kind::kToFile});
}

TEST_CASE("fake_host: RunToFile into a descriptor it cannot write fails like such a child") {
  FakeHost host;
  host.Answer(kSend, FakeHost::Streamed("stream"));
  CommandResult r;
  REQUIRE(host.RunToFile(kSend, -1, &r).ok());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "write error on descriptor -1: Bad file descriptor\n");
  // Nothing to write: nothing can fail.
  host.Answer(kSend, FakeHost::Streamed(""));
  REQUIRE(host.RunToFile(kSend, -1, &r).ok());
  CHECK(r.exit_code == 0);
}

TEST_CASE("fake_host: injected failures apply to RunToFile") {
  FakeHost host;
  host.Answer(kSend, FakeHost::Streamed("whole stream"));
  host.FailCall(1, FakeHost::Streamed("who", 1, "cannot send: pool I/O suspended\n"));
  host.FailStart(2, "cannot run zfs: No such file or directory");
  TempFile file;
  CommandResult r;
  REQUIRE(host.RunToFile(kSend, file.fd, &r).ok());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "cannot send: pool I/O suspended\n");
  Status not_started = host.RunToFile(kSend, file.fd, &r);
  REQUIRE_FALSE(not_started.ok());
  CHECK(not_started.message() == "cannot run zfs: No such file or directory");
  CHECK(file.Contents() == "who");
  REQUIRE(host.RunToFile(kSend, file.fd, &r).ok());
  CHECK(r.exit_code == 0);
  CHECK(file.Contents() == "whowhole stream");
}

TEST_CASE("fake_host: calls and kinds record every kind of call in order") {
  FakeHost host;
  host.Queue(FakeHost::Output("tank\n"));
  host.Queue(FakeHost::Streamed("bytes"));
  StringSink sink;
  ChunkedSource source("bytes");
  CommandResult r;
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  CHECK(r.out == "tank\n");
  REQUIRE(host.RunToSink(kSend, &sink, &r).ok());
  CHECK(sink.data() == "bytes");
  REQUIRE(host.RunFromSource(kReceive, &source, &r).ok());
  CHECK(host.queued() == 0);
  CHECK(host.CommandLines() == std::vector<std::string>{"zfs list",
                                                        "zfs send -i zones/u@a zones/u@b",
                                                        "zfs receive -u backup/u"});
  CHECK(host.kinds() == std::vector<Kind>{Kind::kRun, Kind::kToSink, Kind::kFromSource});
}

}  // namespace
}  // namespace zrecon
