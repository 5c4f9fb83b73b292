#ifndef ZRECON_UTIL_SSH_LOCATION_H_
#define ZRECON_UTIL_SSH_LOCATION_H_

#include <string>

#include "reconciler/util/status.h"

namespace zrecon {

// Where an ssh destination is: a directory `path` on `host`, reached as
// `user` with OpenSSH's ssh(1) and its SFTP subsystem. No secret is held
// here: the identity is a file ssh reads (or the agent, or ssh_config),
// host keys are checked against `known_hosts` (or ssh's own files).
struct SshLocation {
  std::string user;         // "" = ssh's default (ssh_config, the local user)
  std::string host;         // a name or an address; [v6] in URLs
  int port = 0;             // 0 = ssh's default
  std::string path;         // absolute, on the remote host
  std::string identity;     // local private key file, or "" (agent, ssh_config)
  std::string known_hosts;  // local known_hosts file, or "" (ssh's default)

  // "ssh://user@host:port/path" (user and port only when set).
  std::string Url() const;
};

// Parses "ssh://[user@]host[:port]/absolute/path" ("[v6addr]" for an IPv6
// host). Fails naming the URL and what is wrong: another scheme, an empty
// or odd host or user (only letters, digits, "._-" and, for hosts, ":" in
// brackets), a port outside 1..65535, a relative path or one with "." or
// ".." components.
Status ParseSshUrl(const std::string& url, SshLocation* out);

// Checks the fields of a location given one by one (a policy's), with the
// same rules; `identity` and `known_hosts` must be absolute local paths
// without whitespace or "%" (ssh would split or expand them).
Status CheckSshLocation(const SshLocation& location);

}  // namespace zrecon

#endif  // ZRECON_UTIL_SSH_LOCATION_H_
