#include "reconciler/host/timeout_host.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/host/posix_host.h"
#include "tests/unit/fake_host.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

TEST_CASE("timeout_host: only zfs send and receive of data are stream transfers") {
  CHECK(IsStreamTransfer({"zfs", "send", "zones/a@s1"}, "zfs"));
  CHECK(IsStreamTransfer({"zfs", "send", "-i", "zones/a@s1", "zones/a@s2"}, "zfs"));
  CHECK(IsStreamTransfer({"zfs", "send", "-I", "zones/img@final", "zones/a@s2"}, "zfs"));
  CHECK(IsStreamTransfer({"zfs", "receive", "-F", "zones/a-partial"}, "zfs"));
  CHECK(IsStreamTransfer({"zfs", "recv", "zones/a"}, "zfs"));
  CHECK(IsStreamTransfer({"/usr/sbin/zfs", "send", "zones/a@s1"}, "/usr/sbin/zfs"));

  // Size estimates and receive dry runs only read metadata.
  CHECK_FALSE(IsStreamTransfer({"zfs", "send", "-nP", "zones/a@s1"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"zfs", "send", "-nP", "-i", "zones/a@s1", "zones/a@s2"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"zfs", "send", "-v", "-n", "zones/a@s1"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"zfs", "receive", "-n", "zones/a"}, "zfs"));

  CHECK_FALSE(IsStreamTransfer({"zfs", "snapshot", "zones/a@s1"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"zfs", "list", "-t", "all"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"zfs", "destroy", "zones/a@send"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"vmadm", "get", "a1a1a1a1"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({"vmadm", "send", "a1a1a1a1"}, "zfs"));
  // Another binary is another tool, whatever its subcommand.
  CHECK_FALSE(IsStreamTransfer({"zfs", "send", "zones/a@s1"}, "/opt/bin/zfs"));
  CHECK_FALSE(IsStreamTransfer({"zfs"}, "zfs"));
  CHECK_FALSE(IsStreamTransfer({}, "zfs"));
}

TEST_CASE("timeout_host: each call goes to the host its argv calls for, whatever the method") {
  auto bounded_owned = std::make_unique<FakeHost>();
  auto transfers_owned = std::make_unique<FakeHost>();
  FakeHost& bounded = *bounded_owned;
  FakeHost& transfers = *transfers_owned;
  bounded.SetDefault(FakeHost::Output("bounded"));
  transfers.SetDefault(FakeHost::Output("transfer"));
  TimeoutHost host(std::move(bounded_owned), std::move(transfers_owned), "zfs");

  CommandResult r;
  REQUIRE(host.Run({"zfs", "snapshot", "zones/a@s1"}, &r).ok());
  CHECK(r.out == "bounded");
  REQUIRE(host.Run({"zfs", "send", "-nP", "zones/a@s1"}, &r).ok());
  CHECK(r.out == "bounded");
  StringSink config;
  REQUIRE(host.RunToSink({"vmadm", "get", "a1"}, &config, &r).ok());
  CHECK(config.data() == "bounded");
  StringSink stream;
  REQUIRE(host.RunToSink({"zfs", "send", "zones/a@s1"}, &stream, &r).ok());
  CHECK(stream.data() == "transfer");
  ChunkedSource payload("{}");
  REQUIRE(host.RunFromSource({"vmadm", "create"}, &payload, &r).ok());
  ChunkedSource file("stream bytes");
  REQUIRE(host.RunFromSource({"zfs", "receive", "zones/a-partial"}, &file, &r).ok());
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  REQUIRE(null_fd >= 0);
  REQUIRE(host.RunToFile({"zfs", "send", "zones/a@s2"}, null_fd, &r).ok());
  CHECK(r.exit_code == 0);
  REQUIRE(host.RunToFile({"vmadm", "get", "a1"}, null_fd, &r).ok());
  CHECK(r.exit_code == 0);
  ::close(null_fd);

  CHECK(bounded.CommandLines() ==
        std::vector<std::string>{"zfs snapshot zones/a@s1", "zfs send -nP zones/a@s1",
                                 "vmadm get a1", "vmadm create", "vmadm get a1"});
  CHECK(bounded.kinds() == std::vector<FakeHost::Kind>{
                               FakeHost::Kind::kRun, FakeHost::Kind::kRun, FakeHost::Kind::kToSink,
                               FakeHost::Kind::kFromSource, FakeHost::Kind::kToFile});
  CHECK(transfers.CommandLines() == std::vector<std::string>{"zfs send zones/a@s1",
                                                             "zfs receive zones/a-partial",
                                                             "zfs send zones/a@s2"});
  CHECK(transfers.kinds() == std::vector<FakeHost::Kind>{FakeHost::Kind::kToSink,
                                                         FakeHost::Kind::kFromSource,
                                                         FakeHost::Kind::kToFile});
  CHECK(transfers.Received(2) == "stream bytes");
}

TEST_CASE("timeout_host: with posix hosts, a slow command times out and a slow transfer does not") {
  testing::TempDir dir;
  // A stand-in for zfs that takes 3 seconds over any subcommand.
  const std::string zfs = dir / "zfs";
  {
    std::ofstream script(zfs);
    script << "#!/bin/sh\nexec sleep 3\n";
  }
  REQUIRE(::chmod(zfs.c_str(), 0755) == 0);
  TimeoutHost host(std::make_unique<PosixHost>(1), std::make_unique<PosixHost>(0), zfs);

  auto start = std::chrono::steady_clock::now();
  CommandResult r;
  REQUIRE(host.Run({zfs, "snapshot", "zones/a@s1"}, &r).ok());
  CHECK(r.timed_out);
  CHECK(DescribeFailure({"zfs", "snapshot", "zones/a@s1"}, r)
            .find("zfs snapshot zones/a@s1 timed out") == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2900));

  StringSink sink;
  REQUIRE(host.RunToSink({zfs, "send", "zones/a@s1"}, &sink, &r).ok());
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
}

}  // namespace
}  // namespace zrecon
