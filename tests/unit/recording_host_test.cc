#include "reconciler/host/recording_host.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "tests/unit/fake_host.h"

namespace zrecon {
namespace {

using Kind = RecordingHost::Call::Kind;

TEST_CASE("recording_host: records every call in order and answers exit 0") {
  RecordingHost host;
  StringSink sink;
  ChunkedSource source("stream bytes");
  CommandResult r;
  r.exit_code = 7;
  r.out = "stale";
  r.err = "stale";
  r.timed_out = true;

  REQUIRE(host.Run({"zfs", "snapshot", "zones/u@a"}, &r).ok());
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK_FALSE(r.timed_out);
  r.err = "stale";
  REQUIRE(host.RunToSink({"zfs", "send", "zones/u@a"}, &sink, &r).ok());
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  REQUIRE(host.RunFromSource({"zfs", "receive", "zones/v"}, &source, &r).ok());
  CHECK(r.exit_code == 0);
  REQUIRE(host.Run({"zfs", "destroy", "zones/u@a"}, &r).ok());
  r.err = "stale";
  REQUIRE(host.RunToFile({"zfs", "send", "zones/u@b"}, 1, &r).ok());
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  const auto& calls = host.calls();
  REQUIRE(calls.size() == 5);
  CHECK(calls[0].argv == Argv{"zfs", "snapshot", "zones/u@a"});
  CHECK(calls[0].kind == Kind::kRun);
  CHECK(calls[1].argv == Argv{"zfs", "send", "zones/u@a"});
  CHECK(calls[1].kind == Kind::kToSink);
  CHECK(calls[2].argv == Argv{"zfs", "receive", "zones/v"});
  CHECK(calls[2].kind == Kind::kFromSource);
  CHECK(calls[3].argv == Argv{"zfs", "destroy", "zones/u@a"});
  CHECK(calls[3].kind == Kind::kRun);
  CHECK(calls[4].argv == Argv{"zfs", "send", "zones/u@b"});
  CHECK(calls[4].kind == Kind::kToFile);
}

TEST_CASE("recording_host: streams nothing") {
  RecordingHost host;
  StringSink sink;
  ChunkedSource source("stream bytes");
  CommandResult r;
  REQUIRE(host.RunToSink({"zfs", "send", "zones/u@a"}, &sink, &r).ok());
  REQUIRE(host.RunFromSource({"zfs", "receive", "zones/v"}, &source, &r).ok());
  CHECK(sink.writes() == 0);
  CHECK(source.reads() == 0);
  CHECK(r.out.empty());

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(host.RunToFile({"zfs", "send", "zones/u@a"}, fds[1], &r).ok());
  ::close(fds[1]);
  char byte;
  CHECK(::read(fds[0], &byte, 1) == 0);
  ::close(fds[0]);
}

}  // namespace
}  // namespace zrecon
