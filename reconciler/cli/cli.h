#ifndef ZRECON_CLI_CLI_H_
#define ZRECON_CLI_CLI_H_

namespace zrecon {

// Exit codes of the zrecon binary, the only place they are defined.
enum ExitCode {
  kExitOk = 0,       // success; plan --detailed-exitcode: no changes
  kExitError = 1,    // failure, invalid policy, refused plan
  kExitChanges = 2,  // plan --detailed-exitcode: there are changes
  kExitUsage = 64,   // bad command line (EX_USAGE)
};

// Parses argv and runs one subcommand. Never throws.
int RunCli(int argc, char** argv);

}  // namespace zrecon

#endif  // ZRECON_CLI_CLI_H_
