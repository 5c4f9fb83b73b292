#include "reconciler/cli/cli.h"

int main(int argc, char** argv) { return zrecon::RunCli(argc, argv); }
