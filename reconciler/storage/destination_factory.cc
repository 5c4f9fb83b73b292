#include "reconciler/storage/destination_factory.h"

#include <utility>

#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/directory_destination.h"
#include "reconciler/storage/ssh_destination.h"
#include "reconciler/storage/ssh_tree.h"

namespace zrecon {

std::unique_ptr<DestinationTree> OpenDestinationTree(const DestinationAddress& address) {
  if (address.type == "ssh") return SshDestinationTree(address.ssh);
  return LocalDestinationTree(address.path);
}

Status ReadDestinationCatalog(const std::string& name, const DestinationAddress& address,
                              const std::string& host, DestinationCatalog* out) {
  return ReadTreeCatalog(name, *OpenDestinationTree(address), host, out);
}

std::unique_ptr<Destination> NewDestination(const std::string& name,
                                            const DestinationAddress& address,
                                            const std::string& host, DestinationCatalog catalog) {
  if (address.type == "ssh") {
    return std::make_unique<SshDestination>(name, address.ssh, host, std::move(catalog));
  }
  return std::make_unique<DirectoryDestination>(name, address.path, host, std::move(catalog));
}

Status AddressFromArgument(const std::string& from, DestinationAddress* out) {
  DestinationAddress a;
  if (from.rfind("ssh://", 0) == 0) {
    a.type = "ssh";
    Status st = ParseSshUrl(from, &a.ssh);
    if (!st.ok()) return st;
    a.path = a.ssh.path;
  } else if (from.find("://") != std::string::npos) {
    return Status::Error("--from " + from +
                         ": unknown scheme (a path, or ssh://[user@]host[:port]/path)");
  } else {
    a.path = from;
  }
  *out = std::move(a);
  return Status::Ok();
}

Status FindHostsOf(const DestinationAddress& address, const std::string& label,
                   std::vector<HostDirectory>* out) {
  if (address.type == "directory") return FindHosts(address.path, out);
  return FindTreeHosts(OpenDestinationTree(address), label, out);
}

}  // namespace zrecon
