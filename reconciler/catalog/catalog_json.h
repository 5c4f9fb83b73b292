#ifndef ZRECON_CATALOG_CATALOG_JSON_H_
#define ZRECON_CATALOG_CATALOG_JSON_H_

#include <string>
#include <string_view>

#include "reconciler/catalog/catalog.h"
#include "reconciler/util/status.h"

namespace zrecon {

// JSON encoding of manifests (schema/manifest.schema.json). Encoding is
// canonical (sorted keys, 2-space indent, trailing newline), so equal
// manifests give equal bytes. Decoding validates every field: types, guid
// strings, sha256 shape, relative file paths without "..", loose_files
// below the zone's directory and neither duplicated nor recorded elsewhere
// in the manifest, and reports the JSON path of the first bad value
// ("chains[2].links[0].stream.file: ..."). An empty loose_files is not
// written, and a manifest without the key decodes to an empty one.
// Decoding never throws.
std::string EncodeZoneManifest(const ZoneManifest& m);
Status DecodeZoneManifest(std::string_view json, ZoneManifest* out);
std::string EncodeImageManifest(const ImageManifest& m);
Status DecodeImageManifest(std::string_view json, ImageManifest* out);

// True for a relative path made of ordinary components: not empty, not
// absolute, no "." or ".." component, no empty component, no NUL or
// control characters.
bool IsSafeRelativePath(std::string_view path);

}  // namespace zrecon

#endif  // ZRECON_CATALOG_CATALOG_JSON_H_
