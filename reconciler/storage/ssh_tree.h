#ifndef ZRECON_STORAGE_SSH_TREE_H_
#define ZRECON_STORAGE_SSH_TREE_H_

#include <memory>
#include <string>

#include "reconciler/storage/destination_tree.h"
#include "reconciler/storage/sftp_client.h"
#include "reconciler/util/command.h"
#include "reconciler/util/ssh_location.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The command that opens an SFTP session to `location`: ssh in batch mode
// (never a password prompt), keep-alives so a dead link is noticed, the
// subsystem "sftp". `ssh_program` is ssh(1) unless $ZRECON_SSH names
// another (tests), never a shell.
Argv SshSftpArgv(const SshLocation& location);

// ssh's ConnectTimeout. How long a request may then go unanswered is the
// limits' stall_seconds.
constexpr int kSshConnectTimeoutSeconds = 120;

// Opens an SFTP session to `location` (SftpClient::Connect).
Status ConnectSftp(const SshLocation& location, const TransferLimits& limits,
                   std::unique_ptr<SftpClient>* out);

// The tree of an ssh destination, read over SFTP: its root is
// location.path (followed if it is a symlink, like a mount point), below
// it nothing is. Connects on first use; a connection that fails makes
// CheckRoot say why (the destination is unreachable) and every other call
// fail with that.
std::unique_ptr<DestinationTree> SshDestinationTree(const SshLocation& location,
                                                    const TransferLimits& limits = {});

}  // namespace zrecon

#endif  // ZRECON_STORAGE_SSH_TREE_H_
