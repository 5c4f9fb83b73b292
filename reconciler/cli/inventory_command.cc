#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/inventory/parsers.h"
#include "reconciler/util/files.h"
#include "schema/schemas.h"

namespace zrecon {

int RunInventory(const InventoryFlags& flags) {
  PosixHost host(flags.host_flags.timeout_seconds);
  Inventory inventory;
  ZfsDialect dialect;
  Status s = ObserveLiveHost(host, flags.host_flags, &inventory, &dialect);
  if (!s.ok()) {
    std::cerr << "zrecon: " << s.message() << "\n";
    return kExitError;
  }
  if (!flags.save_dir.empty()) {
    s = MakeDirectories(flags.save_dir);
    if (s.ok()) s = WriteFileAtomically(flags.save_dir + "/zfs-list.txt", FormatZfsList(inventory));
    if (s.ok()) {
      s = WriteFileAtomically(flags.save_dir + "/vmadm-lookup.json", FormatVmadmLookup(inventory));
    }
    // A recording from before holds vmadm-list.txt, which would now
    // contradict the new file: it goes (the new file replaces it).
    if (s.ok() && ::unlink((flags.save_dir + "/vmadm-list.txt").c_str()) != 0 && errno != ENOENT) {
      s = Status::Error("cannot remove " + flags.save_dir +
                        "/vmadm-list.txt: " + std::strerror(errno));
    }
    if (!s.ok()) {
      std::cerr << "zrecon: " << s.message() << "\n";
      return kExitError;
    }
  }
  size_t filesystems = 0, volumes = 0;
  for (const Dataset& d : inventory.datasets) {
    (d.type == DatasetType::kVolume ? volumes : filesystems)++;
  }
  std::cout << "zfs dialect " << ZfsDialectName(dialect) << ": " << filesystems << " filesystems, "
            << volumes << " volumes, " << inventory.snapshot_count() << " snapshots, "
            << inventory.bookmarks.size() << " bookmarks; " << inventory.zones.size() << " zones\n";
  if (!flags.save_dir.empty()) {
    std::cout << "saved " << flags.save_dir << "/zfs-list.txt and " << flags.save_dir
              << "/vmadm-lookup.json (use with `zrecon plan --inventory " << flags.save_dir
              << "`)\n";
  }
  return kExitOk;
}

int RunSchema(const std::string& name) {
  for (const EmbeddedSchema& s : EmbeddedSchemas()) {
    if (s.name == name) {
      std::cout << s.text;
      return kExitOk;
    }
  }
  std::cerr << "zrecon: no schema named " << name << "\n";
  return kExitUsage;
}

}  // namespace zrecon
