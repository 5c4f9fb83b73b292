#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
  // PosixHost::RunFromSource requires it: a child that stops reading its
  // stdin must surface as EPIPE, not kill the test binary.
  std::signal(SIGPIPE, SIG_IGN);
  doctest::Context context(argc, argv);
  return context.run();
}
