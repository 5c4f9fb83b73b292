#ifndef ZRECON_STORAGE_DESTINATION_FACTORY_H_
#define ZRECON_STORAGE_DESTINATION_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination.h"
#include "reconciler/storage/destination_tree.h"
#include "reconciler/storage/verify.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/s3_location.h"
#include "reconciler/util/ssh_location.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A destination as a policy or a plan names it: its type and where it is.
struct DestinationAddress {
  std::string type = "directory";  // "directory" | "ssh" | "s3"
  std::string path;                // the directory (on the remote host for ssh)
  SshLocation ssh;                 // type ssh
  S3Location s3;                   // type s3
  // How long its requests may stall, what interrupts them (ssh, s3).
  TransferLimits limits;
};

// How the destination is read (catalog, verify, restore).
std::unique_ptr<DestinationTree> OpenDestinationTree(const DestinationAddress& address);

// Reads the catalog of host directory `host` (ReadTreeCatalog).
Status ReadDestinationCatalog(const std::string& name, const DestinationAddress& address,
                              const std::string& host, DestinationCatalog* out);

// The writer apply uses, starting from `catalog` (what the plan was made
// from); not yet prepared.
std::unique_ptr<Destination> NewDestination(const std::string& name,
                                            const DestinationAddress& address,
                                            const std::string& host, DestinationCatalog catalog);

// What `--from` names: "ssh://[user@]host[:port]/path" (ParseSshUrl),
// "s3://bucket[/prefix]" (the store at $AWS_ENDPOINT_URL, region
// $AWS_REGION or $AWS_DEFAULT_REGION, path-style addressing), else a
// directory destination's path (or one host directory in it).
Status AddressFromArgument(const std::string& from, DestinationAddress* out);

// The host directories of the destination at `address` (FindHosts for a
// directory, which may also be given as one host's directory; FindTreeHosts
// otherwise); `label` names it in messages.
Status FindHostsOf(const DestinationAddress& address, const std::string& label,
                   std::vector<HostDirectory>* out);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DESTINATION_FACTORY_H_
