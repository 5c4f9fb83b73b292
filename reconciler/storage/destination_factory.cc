#include "reconciler/storage/destination_factory.h"

#include <cstdlib>
#include <utility>

#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/directory_destination.h"
#include "reconciler/storage/s3_destination.h"
#include "reconciler/storage/ssh_destination.h"
#include "reconciler/storage/ssh_tree.h"

namespace zrecon {

std::unique_ptr<DestinationTree> OpenDestinationTree(const DestinationAddress& address) {
  if (address.type == "ssh") return SshDestinationTree(address.ssh, address.limits);
  if (address.type == "s3") return S3DestinationTree(address.s3, address.limits);
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
    return std::make_unique<SshDestination>(name, address.ssh, host, std::move(catalog),
                                            address.limits);
  }
  if (address.type == "s3") {
    return std::make_unique<S3Destination>(name, address.s3, host, std::move(catalog),
                                           address.limits);
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
  } else if (from.rfind("s3://", 0) == 0) {
    a.type = "s3";
    const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
    if (endpoint == nullptr || *endpoint == '\0') {
      return Status::Error("--from " + from +
                           ": set AWS_ENDPOINT_URL to the store's endpoint, or use "
                           "--destination NAME of the policy");
    }
    a.s3.endpoint = endpoint;
    a.s3.path_style = true;
    for (const char* region : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
      const char* value = std::getenv(region);
      if (value != nullptr && *value != '\0') {
        a.s3.region = value;
        break;
      }
    }
    Status st = ParseS3Url(from, &a.s3);
    if (st.ok()) st = CheckS3Location(a.s3);
    if (!st.ok()) return st;
  } else if (from.find("://") != std::string::npos) {
    return Status::Error(
        "--from " + from +
        ": unknown scheme (a path, ssh://[user@]host[:port]/path or s3://bucket/prefix)");
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
