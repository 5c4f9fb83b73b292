// SftpClient against OpenSSH's own sftp-server, run locally on a pipe (the
// same program sshd runs for `ssh -s HOST sftp`), in a scratch directory.
// openssh-sftp-server is a test dependency (tools/install-deps.sh).

#include "reconciler/storage/sftp_client.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

const char* SftpServer() {
  for (const char* p : {"/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server",
                        "/usr/lib/ssh/sftp-server", "/usr/libexec/openssh/sftp-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<SftpClient> Connect(const testing::TempDir& dir) {
  std::unique_ptr<SftpClient> client;
  // -d: start in the scratch directory, so relative names land there.
  Status st = SftpClient::Connect({SftpServer(), "-e", "-d", dir.path()}, "sftp test",
                                  TransferLimits{10}, &client);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return client;
}

TEST_CASE("sftp client: files, directories and renames against OpenSSH's sftp-server") {
  REQUIRE_MESSAGE(SftpServer(), "openssh-sftp-server is not installed (tools/install-deps.sh)");
  testing::TempDir dir("zrecon-sftp");
  auto c = Connect(dir);
  CHECK(c->HasExtension("fsync@openssh.com"));
  CHECK(c->HasExtension("posix-rename@openssh.com"));

  // Names a shell would mangle travel as they are.
  const std::string hostile = "a b;$(touch pwned)'\"`x`\n*?";
  bool created = false;
  REQUIRE(c->Mkdir(dir / hostile, &created).ok());
  CHECK(created);
  REQUIRE(c->Mkdir(dir / hostile, &created).ok());
  CHECK_FALSE(created);
  struct stat info;
  CHECK(::stat((dir / hostile).c_str(), &info) == 0);
  CHECK(S_ISDIR(info.st_mode));
  CHECK(::access((dir / "pwned").c_str(), F_OK) != 0);

  std::string file = dir / hostile + "/stream -- $HOME";
  REQUIRE(c->WriteNewFile(file, "hello").ok());
  CHECK(Slurp(file) == "hello");
  // Exclusive create refuses an existing file and leaves it.
  Status again = c->WriteNewFile(file, "other");
  CHECK_FALSE(again.ok());
  CHECK(again.message().find("open") != std::string::npos);
  CHECK(Slurp(file) == "hello");

  SftpAttrs attrs;
  SftpCode code;
  REQUIRE(c->Lstat(file, &attrs, &code).ok());
  CHECK(code == SftpCode::kOk);
  CHECK(attrs.IsRegular());
  CHECK(attrs.size == 5);
  REQUIRE(c->Lstat(dir / "missing", &attrs, &code).ok());
  CHECK(code == SftpCode::kNoSuchFile);

  std::vector<SftpEntry> entries;
  REQUIRE(c->ListDirectory(dir / hostile, &entries).ok());
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].name == "stream -- $HOME");

  // Version 3 rename never replaces; posix-rename does.
  REQUIRE(c->WriteNewFile(dir / "new", "new").ok());
  Status refused = c->RenameNoReplace(dir / "new", file);
  CHECK_FALSE(refused.ok());
  CHECK(Slurp(file) == "hello");
  REQUIRE(c->RenameReplace(dir / "new", file).ok());
  CHECK(Slurp(file) == "new");
  CHECK(::access((dir / "new").c_str(), F_OK) != 0);
  REQUIRE(c->WriteNewFile(dir / "fresh", "x").ok());
  REQUIRE(c->RenameNoReplace(dir / "fresh", dir / "moved").ok());
  CHECK(Slurp(dir / "moved") == "x");
  CHECK(c->FsyncDirectory(dir / hostile).ok());

  std::string read;
  REQUIRE(c->ReadFile(file, 100, &read).ok());
  CHECK(read == "new");
  CHECK_FALSE(c->ReadFile(file, 2, &read).ok());

  REQUIRE(c->Remove(file, false).ok());
  CHECK(c->Remove(file, true).ok());
  Status missing = c->Remove(file, false);
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find("no such file") != std::string::npos);
  REQUIRE(c->Rmdir(dir / hostile, false).ok());
  CHECK(c->Rmdir(dir / hostile, true).ok());
  // The session is still good after refusals.
  REQUIRE(c->Lstat(dir.path(), &attrs, &code).ok());
  CHECK(attrs.IsDirectory());
}

TEST_CASE("sftp client: a pipelined stream of many chunks arrives whole, and reads back") {
  REQUIRE_MESSAGE(SftpServer(), "openssh-sftp-server is not installed (tools/install-deps.sh)");
  testing::TempDir dir("zrecon-sftp");
  auto c = Connect(dir);
  std::mt19937 rng(7);
  std::string data(5 * 1024 * 1024 + 12345, '\0');
  for (char& ch : data) ch = static_cast<char>(rng());
  std::unique_ptr<SftpWriter> w;
  REQUIRE(c->Create(dir / "big", true, &w).ok());
  // Odd write sizes, across chunk boundaries.
  size_t pos = 0, step = 1;
  while (pos < data.size()) {
    size_t n = std::min(step, data.size() - pos);
    REQUIRE(w->Write(data.data() + pos, n).ok());
    pos += n;
    step = step * 3 % 200003 + 1;
  }
  REQUIRE(w->Finish().ok());
  CHECK(w->written() == data.size());
  CHECK(Slurp(dir / "big") == data);

  std::unique_ptr<SftpReader> r;
  REQUIRE(c->Open(dir / "big", &r).ok());
  std::string back;
  char buffer[7000];
  size_t got = 0;
  do {
    REQUIRE(r->Read(buffer, sizeof buffer, &got).ok());
    back.append(buffer, got);
  } while (got > 0);
  CHECK(back.size() == data.size());
  CHECK(back == data);
}

TEST_CASE("sftp client: a server that is gone fails every call, quoting what it said") {
  std::unique_ptr<SftpClient> c;
  Status st = SftpClient::Connect({"/bin/sh", "-c",
                                   "echo 'ssh: connect to host vault port 22: "
                                   "Connection refused' >&2; exit 255"},
                                  "ssh destination offsite", TransferLimits{10}, &c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("ssh destination offsite") == 0);
  CHECK(st.message().find("exited with status 255") != std::string::npos);
  CHECK(st.message().find("Connection refused") != std::string::npos);

  Status missing =
      SftpClient::Connect({"/nonexistent/ssh"}, "ssh destination x", TransferLimits{10}, &c);
  CHECK_FALSE(missing.ok());

  // A server that says nothing is given up on after the timeout.
  Status silent =
      SftpClient::Connect({"/bin/sh", "-c", "exec sleep 30"}, "quiet", TransferLimits{1}, &c);
  CHECK_FALSE(silent.ok());
  CHECK(silent.message().find("no answer from the server in 1 s (--stall-timeout)") !=
        std::string::npos);

  // Without a limit, an interrupt still ends the wait, after a grace period
  // in which a server that answers would have been heard.
  Interrupt interrupt;
  interrupt.Raise(SIGINT);
  auto start = std::chrono::steady_clock::now();
  Status stopped = SftpClient::Connect({"/bin/sh", "-c", "exec sleep 30"}, "quiet",
                                       TransferLimits{0, &interrupt}, &c);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK_FALSE(stopped.ok());
  CHECK(stopped.message().find("interrupted by SIGINT, and the server did not answer within 5 s") !=
        std::string::npos);
  CHECK(waited < 20);
}

TEST_CASE("sftp client: an interrupt leaves a server that answers time to finish") {
  REQUIRE_MESSAGE(SftpServer(), "openssh-sftp-server is not installed (tools/install-deps.sh)");
  testing::TempDir dir("zrecon-sftp");
  Interrupt interrupt;
  std::unique_ptr<SftpClient> client;
  Status st = SftpClient::Connect({SftpServer(), "-e", "-d", dir.path()}, "sftp test",
                                  TransferLimits{10, &interrupt}, &client);
  REQUIRE_MESSAGE(st.ok(), st.message());
  interrupt.Raise(SIGTERM);
  // The cleanup of a stopped upload: still served.
  CHECK(client->WriteNewFile(dir.path() + "/after", "x").ok());
  CHECK(client->Remove(dir.path() + "/after", false).ok());
  CHECK_FALSE(client->broken());
}

}  // namespace
}  // namespace zrecon
