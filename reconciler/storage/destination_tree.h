#ifndef ZRECON_STORAGE_DESTINATION_TREE_H_
#define ZRECON_STORAGE_DESTINATION_TREE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/util/command.h"
#include "reconciler/util/status.h"

namespace zrecon {

// What the readers of a destination (the catalog reader of plan and
// restore, verify, restore's streams) see of it, whatever its type: a tree
// of names below the destination's root, read with lstat semantics. Paths
// are relative to the root ("" is the root itself, "<host>/images/x.json"
// a file) and made of ordinary components.
//
// One rule for every type (directory_layout.h): below the root nothing is
// reached through a symlink. Open walks each component without following
// one; Inspect and List never follow one either.

enum class EntryKind { kMissing, kDirectory, kRegular, kSymlink, kOther, kError };

class DestinationTree {
 public:
  virtual ~DestinationTree() = default;

  // `relative` as a path or URL for messages: "/mnt/usb/host/x.zfs",
  // "ssh://backup@vault:22/srv/zrecon/host/x.zfs".
  virtual std::string PathOf(const std::string& relative) const = 0;

  // "" when the root is there and is a directory, else why not ("/mnt/usb
  // does not exist", "ssh://...: Connection refused"): the destination is
  // unreachable, which plans work around, not a corrupt catalog.
  virtual std::string CheckRoot() = 0;

  // lstat of `relative`; *what says why for kError, *size is set for
  // kRegular (when size is not null).
  virtual EntryKind Inspect(const std::string& relative, std::string* what,
                            uint64_t* size = nullptr) = 0;

  // The names in directory `relative` (any order; no "." or "..").
  virtual Status List(const std::string& relative, std::vector<std::string>* names) = 0;

  // Where symlink `relative` points, for messages ("?" when unknown).
  virtual std::string LinkTarget(const std::string& relative) = 0;

  // Opens regular file `relative` for reading, one component at a time
  // without following a symlink. Returns "" with *size set (and *out open,
  // when `out` is not null; with a null `out` the file is only inspected),
  // or what is wrong: "missing", "is a symlink to ...", "reached through
  // <dir>, a symlink to ...", "<dir> is not a directory", "not a regular
  // file", "cannot open: ...". <dir> is shown relative to the first
  // component (the host directory), which is called "the host directory".
  virtual std::string Open(const std::string& relative, std::unique_ptr<ByteSource>* out,
                           uint64_t* size) = 0;

  // Reads a whole file the way Open opens it; "" or what is wrong.
  std::string ReadFile(const std::string& relative, std::string* text);
};

// The tree of a directory destination at `path` (a mount point; it may
// itself be a symlink, followed as given).
std::unique_ptr<DestinationTree> LocalDestinationTree(const std::string& path);

// "<what is wrong> with symlink <relative>" as every reader words it.
std::string SymlinkProblem(DestinationTree& tree, const std::string& relative);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DESTINATION_TREE_H_
