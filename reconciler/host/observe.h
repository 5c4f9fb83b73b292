#ifndef ZRECON_HOST_OBSERVE_H_
#define ZRECON_HOST_OBSERVE_H_

#include <string>

#include "reconciler/host/host.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/util/status.h"

namespace zrecon {

enum class DialectChoice { kAuto, kIllumos, kLegacy };

struct ObserveOptions {
  std::string zfs = "zfs";
  std::string vmadm = "vmadm";
  DialectChoice dialect = DialectChoice::kAuto;
};

// Reads the live inventory through `host`, zfs first, then vmadm:
//   illumos: exactly one `zfs list` (IllumosZfsListArgv);
//   legacy:  exactly one `zfs get` (LegacyZfsGetArgv);
//   auto:    illumos, falling back to legacy only when zfs rejects `-p` as a
//            usage error (exit 2, stderr mentions the invalid option 'p');
// then one `vmadm lookup -j` (VmadmLookupArgv). A command that cannot start fails
// with the host's Status; one that exits non-zero or times out fails with
// DescribeFailure (command, exit code, first stderr line); a parse error is
// prefixed with the command. On success *inventory is replaced by the
// indexed result and *dialect_used (may be null) names the dialect read; on
// failure neither is touched.
Status Observe(Host& host, const ObserveOptions& options, Inventory* inventory,
               ZfsDialect* dialect_used);

}  // namespace zrecon

#endif  // ZRECON_HOST_OBSERVE_H_
