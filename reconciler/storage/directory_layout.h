#ifndef ZRECON_STORAGE_DIRECTORY_LAYOUT_H_
#define ZRECON_STORAGE_DIRECTORY_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/util/fd.h"

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

// Lists <path>/<host> into *out (replaced): the host directory, each
// entry of it, images/ and its *.json entries, and each zone's
// manifest.json are inspected with lstat, and any symlink among them is a
// problem, as is a host directory or images/ that is not a directory, a
// manifest that is not a regular file, or a directory that cannot be
// listed. `host` must be a single path component.
void ListHostLayout(const std::string& path, const std::string& host, HostLayout* out);

// Opens `relative` (a path of ordinary components below `host_dir`, the
// directory <path>/<host>) for reading, one component at a time without
// following a symlink, and checks it is a regular file. Returns "" with
// *size set (and *out open, when `out` is not null; with a null `out` the
// file itself is only inspected, never opened), or what is wrong:
// "missing", "is a symlink to ...", "reached through <dir>, a symlink to
// ...", "<dir> is not a directory", "not a regular file", "cannot open: ...".
// `host_dir` itself is reached the same way from its parent, which is
// followed as given.
std::string OpenStoredFile(const std::string& host_dir, const std::string& relative, Fd* out,
                           uint64_t* size);

// Reads a whole stored file (a manifest, a config) the way OpenStoredFile
// opens it; "" or what is wrong.
std::string ReadStoredFile(const std::string& host_dir, const std::string& relative,
                           std::string* text);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DIRECTORY_LAYOUT_H_
