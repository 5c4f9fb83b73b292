#ifndef ZRECON_STORAGE_VERIFY_H_
#define ZRECON_STORAGE_VERIFY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination_tree.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/status.h"

namespace zrecon {

// Verification of a directory destination from its files alone (layout in
// catalog/catalog.h): no policy, no host, read-only. Every file is read in
// full and hashed, so this is as slow as reading the medium.
//
// Symlinks are followed only when they resolve inside the destination (the
// parent of the host directory), the rule ReadDirectoryCatalog applies: a
// file that lives elsewhere is not on the medium and is reported.

// One host's directory in a destination: <path>/<host>, the arguments of
// ReadDirectoryCatalog(name, path, host, ...).
struct HostDirectory {
  std::string path;  // the destination
  std::string host;  // a single path component
  std::string dir;   // path + "/" + host (a URL for a remote destination)
  // How the destination is read; shared by the hosts of one destination.
  std::shared_ptr<DestinationTree> tree;
};

// The host directories `dir` holds. `dir` is either a destination (each
// subdirectory is a host directory) or one host directory itself, which is
// recognised by an `images` entry or a subdirectory holding manifest.json.
// Subdirectories named ".*" (.Trash-1000, .Spotlight-V100) or "lost+found"
// are not hosts. Sorted by host. Fails, naming `dir`, when it is missing,
// not a directory, unreadable, or holds no host directory (an unmounted
// mount point must not pass as an empty, healthy destination).
Status FindHosts(const std::string& dir, std::vector<HostDirectory>* out);

// The host directories of a destination read through `tree` (a remote
// one): each subdirectory of its root that could be a host. `label` names
// the destination in messages. Fails when the root cannot be read or holds
// no host directory.
Status FindTreeHosts(std::shared_ptr<DestinationTree> tree, const std::string& label,
                     std::vector<HostDirectory>* out);

// Checks each of `files` (relative to `host_dir`) against its record: a
// regular file inside the destination, of the recorded size, whose SHA-256
// matches. Appends one "<file>: <what is wrong>" line per bad file to
// *problems, e.g. "<file>: sha256 mismatch: recorded 5f.., file has 9a..".
// A file listed twice is read once. Fails only when `host_dir` itself
// cannot be resolved or is not a directory, or when `interrupt` (optional)
// is raised, which stops the reading within a block; a file's read error is
// a problem. With `read_contents` false nothing is read: each file is only
// checked to be there, regular, inside the destination and of its size.
Status VerifyStoredFiles(const HostDirectory& where, const std::vector<StoredFile>& files,
                         std::vector<std::string>* problems, const Interrupt* interrupt = nullptr,
                         bool read_contents = true);

// What is wrong with one file; `file` is relative to the host directory.
struct VerifyProblem {
  std::string file;
  std::string what;
};

struct ChainReport {
  std::string id;
  std::string dataset;
  // What the base is an incremental from: "" for a full stream, else the
  // origin snapshot and, when that is an image's, the image.
  std::string origin;
  std::string image_uuid;
  size_t links = 0;
  uint64_t bytes = 0;  // recorded sizes of the link streams
  ChainLink first;     // copies of the first and the last link
  ChainLink tip;
  // Leading links that can be received: the base is restorable (a full
  // stream, or its image is present and matches) and each stream verifies.
  // Equal to `links` for a chain without problems.
  size_t restorable_links = 0;
  std::string restorable_tip;  // snapshot of the last of them, "" if none
  bool ok = false;             // restorable in full and every link's config verifies
};

struct ZoneReport {
  std::string uuid;  // the zone directory's name
  std::string alias;
  std::string manifest;  // "<uuid>/manifest.json"
  bool manifest_ok = false;
  size_t configs = 0;
  std::vector<ChainReport> chains;
  std::vector<VerifyProblem> problems;  // in the order found

  bool ok() const { return problems.empty(); }
};

struct ImageReport {
  std::string uuid;      // from the manifest's name
  std::string manifest;  // "images/<uuid>.json"
  bool manifest_ok = false;
  ImageManifest image;  // valid when manifest_ok
  std::vector<VerifyProblem> problems;

  bool ok() const { return problems.empty(); }
};

struct HostReport {
  HostDirectory where;
  std::vector<ImageReport> images;  // by uuid
  std::vector<ZoneReport> zones;    // by uuid
  // Files (and symlinks, fifos...) below the host directory that no
  // manifest names, relative to it, sorted. Files of a zone or image whose
  // manifest cannot be read are not listed (the manifest is the problem).
  std::vector<std::string> unknown_files;
  // ".tmp*" files: an export in progress or interrupted. The next apply
  // removes them; they are reported but are not a problem.
  std::vector<std::string> leftover_files;
  // Regular files a zone manifest lists in loose_files: an export or chain
  // removal in progress or interrupted. The next apply removes them; they
  // are reported but are not a problem (a listed name that is not a
  // regular file is one: apply refuses to remove it).
  std::vector<std::string> loose_files;
  std::vector<VerifyProblem> problems;  // unreadable directories

  bool ok() const;
};

struct VerifyReport {
  std::vector<HostReport> hosts;
  uint64_t files_read = 0;  // distinct files hashed in full
  uint64_t bytes_read = 0;

  bool ok() const;
};

struct VerifyOptions {
  std::string host;                // only this host directory ("" = all)
  std::vector<std::string> zones;  // only these zones, by uuid or alias ("" = all)
};

// Verifies `dir` (see FindHosts) and fills *out (replaced):
//  - every zone and image manifest parses and decodes, and lies where its
//    uuid and host say it should;
//  - every file a manifest names verifies (VerifyStoredFiles);
//  - every chain is restorable from its base to its tip: a full stream, or
//    an incremental from an image whose manifest is in images/ with the
//    chain's origin_guid and whose stream verifies;
//  - every link's config is a config record of its manifest;
//  - no file below a host directory is unknown to its manifests (a file
//    a zone manifest lists in loose_files is known, as loose).
// Findings go into the report. With `options.zones`, only the hosts holding
// a selected zone are reported, with the selected zones, the images their
// chains need, and unknown files of their directories only.
// Fails (bad input, nothing verified) when `dir` has no host directory,
// `options.host` is not one of them, or an entry of `options.zones`
// matches no zone directory name or alias.
Status VerifyDestination(const std::string& dir, const VerifyOptions& options, VerifyReport* out);
// The same for the hosts FindTreeHosts found; `label` names the destination.
Status VerifyHosts(std::vector<HostDirectory> found, const std::string& label,
                   const VerifyOptions& options, VerifyReport* out);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_VERIFY_H_
