#ifndef ZRECON_STORAGE_DIRECTORY_LAYOUT_H_
#define ZRECON_STORAGE_DIRECTORY_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/storage/destination_tree.h"

namespace zrecon {

// How a directory destination is read: the one walker of the layout in
// catalog/catalog.h, shared by plan and restore (ReadDirectoryCatalog,
// strict: the first problem is an error) and by verify (lenient: every
// problem is reported and the rest is still checked).
//
// The rule: below the destination path nothing is reached through a
// symlink, neither the host directory, nor a directory in it, nor a
// manifest or a stored file, wherever the symlink points. The writer
// (DirectoryDestination) never follows one, so a reader that did would
// accept what apply then refuses, and could pull manifests, and later
// deletions, from elsewhere. The destination path itself may be a symlink:
// it is the operator's mount point, perhaps an alias.

// What is wrong with an entry; `file` is relative to the host directory
// ("" for the host directory itself), `what` says what is wrong, e.g.
// "is a symlink to /elsewhere/x: zrecon follows no symlink inside a
// destination".
struct LayoutProblem {
  std::string file;
  std::string what;
};

// The manifests of one host directory, <path>/<host>.
struct HostLayout {
  bool present = false;  // the host directory exists (and is a directory)
  // "<uuid>.json" names in images/ (not yet checked against their
  // content), sorted.
  std::vector<std::string> image_manifests;
  // Names of the zone directories: real directories holding a
  // manifest.json, sorted. A directory without one is not committed yet.
  std::vector<std::string> zones;
  // In name order. Skipped, and no problem: names starting with ".tmp"
  // (unfinished writes), non-directories in <host> other than symlinks,
  // and names in images/ not ending in ".json".
  std::vector<LayoutProblem> problems;
};

// Lists host directory `host` of `tree` into *out (replaced): the host
// directory, each entry of it, images/ and its *.json entries, and each
// zone's manifest.json are inspected with lstat, and any symlink among them
// is a problem, as is a host directory or images/ that is not a directory,
// a manifest that is not a regular file, or a directory that cannot be
// listed. `host` must be a single path component. Problems' files are
// relative to the host directory.
void ListHostLayout(DestinationTree& tree, const std::string& host, HostLayout* out);
// The same for the directory destination at `path`.
void ListHostLayout(const std::string& path, const std::string& host, HostLayout* out);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DIRECTORY_LAYOUT_H_
