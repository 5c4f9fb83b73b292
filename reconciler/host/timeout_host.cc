#include "reconciler/host/timeout_host.h"

#include <string_view>

namespace zrecon {

namespace {

// -n in a cluster of short options ("-n", "-nP", "-nvP"); zrecon's argv
// builders never put a value starting with '-' after an option.
bool IsDryRunFlag(std::string_view arg) {
  return arg.size() > 1 && arg[0] == '-' && arg[1] != '-' && arg.find('n') != std::string::npos;
}

}  // namespace

bool IsStreamTransfer(const Argv& argv, const std::string& zfs) {
  if (argv.size() < 2 || argv[0] != zfs) return false;
  const std::string& sub = argv[1];
  if (sub != "send" && sub != "receive" && sub != "recv") return false;
  for (size_t i = 2; i < argv.size(); ++i) {
    if (IsDryRunFlag(argv[i])) return false;
  }
  return true;
}

Status TimeoutHost::Run(const Argv& argv, CommandResult* result) {
  return For(argv).Run(argv, result);
}

Status TimeoutHost::RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) {
  return For(argv).RunToSink(argv, sink, result);
}

Status TimeoutHost::RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) {
  return For(argv).RunFromSource(argv, source, result);
}

Status TimeoutHost::RunToFile(const Argv& argv, int fd, CommandResult* result) {
  return For(argv).RunToFile(argv, fd, result);
}

}  // namespace zrecon
