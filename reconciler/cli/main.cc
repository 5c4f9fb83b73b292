#include <csignal>

#include "reconciler/cli/cli.h"

int main(int argc, char** argv) {
  // A child that exits early (zfs receive refusing a stream) must surface as
  // its exit status, not kill zrecon with SIGPIPE while it feeds the pipe.
  std::signal(SIGPIPE, SIG_IGN);
  return zrecon::RunCli(argc, argv);
}
