#ifndef ZRECON_CATALOG_CATALOG_EDITS_H_
#define ZRECON_CATALOG_CATALOG_EDITS_H_

#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The edits a destination makes to its catalog, as pure functions (no I/O):
// every destination type, and the RecordingDestination of a dry run, share
// them, so all refuse exactly the same things. Each takes the catalog as it
// is and returns the manifest to write; the caller persists it.

// True when a manifest of `catalog` names `file`: an image stream, a config
// record, or a link's stream or config.
bool CatalogRecordsFile(const DestinationCatalog& catalog, const std::string& file);

// The checks of Destination::Create that need no filesystem.
Status CheckNewFile(const DestinationCatalog& catalog, const std::string& file,
                    const std::string& compression);

// *out = the image manifest RecordImage would write. Links and images with
// guid 0 (never a ZFS guid: a field left unset) are refused, although the
// manifest format accepts "0".
Status ImageToRecord(const DestinationCatalog& catalog, const ImageManifest& image,
                     ImageManifest* out);
// *out = the image manifest RecordImageRecord would write.
Status ImageWithRecord(const DestinationCatalog& catalog, const std::string& image_uuid,
                       const StoredFile& record, const std::string& imgadm_type,
                       ImageManifest* out);

// *out = the zone manifest after adding a config record or a link, which
// also takes the recorded file off loose_files. A zone absent from `catalog`
// starts from `zone`'s identity with host `host`.
Status ZoneWithConfig(const DestinationCatalog& catalog, const std::string& host,
                      const ZoneManifest& zone, const ConfigRecord& config, ZoneManifest* out);
Status ZoneWithLink(const DestinationCatalog& catalog, const std::string& host,
                    const ZoneManifest& zone, const Chain& chain, const ChainLink& link,
                    ZoneManifest* out);

// *out = the zone manifest with `file` added to loose_files (see
// Destination::JournalFile), starting as ZoneWithLink does. *changed is
// false (and *out left alone) when the file is listed already.
Status ZoneWithLooseFile(const DestinationCatalog& catalog, const std::string& host,
                         const ZoneManifest& zone, const std::string& file, ZoneManifest* out,
                         bool* changed);

// A file a destination may remove for zone `zone_uuid`: a safe relative
// path inside the zone's directory, not its manifest.
Status CheckRemovableFile(const std::string& zone_uuid, const std::string& file);

// The checks of Destination::RemoveLooseFiles that need no filesystem:
// the zone has a manifest and every one of `files` is in its loose_files.
Status CheckLooseFiles(const DestinationCatalog& catalog, const std::string& zone_uuid,
                       const std::vector<std::string>& files);

// *out = the manifest of zone `zone_uuid` with `files` taken off its
// loose_files. *changed is false (and *out left alone) when none is listed,
// or the zone has no manifest.
Status ZoneWithoutLooseFiles(const DestinationCatalog& catalog, const std::string& zone_uuid,
                             const std::vector<std::string>& files, ZoneManifest* out,
                             bool* changed);

// Checks the `files` of RemoveChain (safe, inside the zone's directory, no
// remaining link's stream) and sets *out to the manifest without the chain,
// without config records among `files`, and with `files` in loose_files.
// *changed is false (and *out left alone) when the manifest has neither the
// chain nor such config records, or the zone has no manifest at all.
Status ZoneWithoutChain(const DestinationCatalog& catalog, const std::string& zone_uuid,
                        const std::string& chain_id, const std::vector<std::string>& files,
                        ZoneManifest* out, bool* changed);

}  // namespace zrecon

#endif  // ZRECON_CATALOG_CATALOG_EDITS_H_
