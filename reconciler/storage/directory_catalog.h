#ifndef ZRECON_STORAGE_DIRECTORY_CATALOG_H_
#define ZRECON_STORAGE_DIRECTORY_CATALOG_H_

#include <string>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination_tree.h"
#include "reconciler/util/status.h"

namespace zrecon {

// Reads the catalog of a directory destination for one host (layout in
// catalog/catalog.h): <path>/<host>/images/*.json and
// <path>/<host>/*/manifest.json. Only manifests are read; stream files are
// neither opened nor hashed (that is `verify`).
//
// *out is replaced: name = destination_name, and
//  - unreachable (stat of `path` fails, or it is not a directory) is not an
//    error: reachable=false with unreachable_reason naming the path;
//  - reachable with no <host> directory yet: reachable=true, empty catalog;
//  - a zone directory without manifest.json is not yet committed by an
//    export and is skipped; so are non-directories in <host>, non-.json files
//    in images/, and every name starting with ".tmp" (an unfinished write).
//
// Anything else that is wrong IS an error, a Status naming the file: zrecon
// refuses to plan on a corrupt catalog. That is the first problem of
// ListHostLayout (a symlink anywhere below `path`, a <host> or images that is
// not a directory, a manifest that is not a regular file), a manifest that
// cannot be read or decoded, a zone manifest whose zone.uuid differs from its
// directory name or whose host differs from `host`, an image manifest not
// named <image.uuid>.json, and a `host` that is not a single path component.
// Directories are visited in name order, so results and the first error
// reported do not depend on readdir order. Portable POSIX only.
Status ReadDirectoryCatalog(const std::string& destination_name, const std::string& path,
                            const std::string& host, DestinationCatalog* out);

// The same for any destination type, from its tree: unreachable when
// tree.CheckRoot() says why.
Status ReadTreeCatalog(const std::string& destination_name, DestinationTree& tree,
                       const std::string& host, DestinationCatalog* out);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DIRECTORY_CATALOG_H_
