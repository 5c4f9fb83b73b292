#ifndef ZRECON_CATALOG_IMGADM_RECORD_H_
#define ZRECON_CATALOG_IMGADM_RECORD_H_

#include <string>
#include <string_view>

#include "reconciler/util/status.h"

namespace zrecon {

// imgadm's record of an installed image: what `imgadm get -P <pool> <uuid>`
// prints and /var/imgadm/images/<pool>-<uuid>.json holds,
// {"manifest": {...}, "zpool": "<pool>", "source": "<url>"}
// (smartos-live src/img/lib/database.js loadImage/addImage). `vmadm create`
// accepts an image only when this record's manifest.type suits the brand
// (VM.js validateImage); an image dataset imgadm has no record of yields
// only {"manifest": {"uuid": ...}, "zpool": ...}, with no type.

// Checks that `text` is a record of `image_uuid`: a JSON object whose
// "manifest" is an object with that "uuid". *type = manifest.type, or ""
// when the manifest has none (imgadm does not know the image).
Status ParseImgadmRecord(std::string_view text, const std::string& image_uuid, std::string* type);

// The database file for the image installed on `pool`, from a record saved
// on another host or pool: the same record with "zpool" set to `pool`,
// written as imgadm's Database.addImage writes it
// (JSON.stringify(info, null, 2) + "\n"). Fails as ParseImgadmRecord, and
// when the record has no manifest type (vmadm create would still refuse).
Status MakeImgadmDatabaseRecord(std::string_view saved, const std::string& image_uuid,
                                const std::string& pool, std::string* out);

}  // namespace zrecon

#endif  // ZRECON_CATALOG_IMGADM_RECORD_H_
