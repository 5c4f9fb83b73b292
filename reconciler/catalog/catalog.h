#ifndef ZRECON_CATALOG_CATALOG_H_
#define ZRECON_CATALOG_CATALOG_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace zrecon {

// What an export destination holds, as recorded in its manifests
// (schema/manifest.schema.json). A directory destination looks like:
//
//   <path>/<host>/images/<image_uuid>.json       image manifest
//   <path>/<host>/images/<image_uuid>.zfs        zfs send <pool>/<image>@final
//   <path>/<host>/images/<image_uuid>.imgadm     imgadm get -P <pool> <image>
//   <path>/<host>/<zone_uuid>/manifest.json      zone manifest
//   <path>/<host>/<zone_uuid>/config/<time>.json vmadm get output
//   <path>/<host>/<zone_uuid>/<dskey>/<chain start time>/<seq>-<snapshot>.zfs
//
// Every `file` below is relative to <path>/<host>, never absolute, never
// containing "..": readers reject anything else.

constexpr int kManifestFormatVersion = 1;

// The names of the layout, for every reader and writer of it.
inline constexpr char kImagesDir[] = "images";
inline constexpr char kZoneManifestName[] = "manifest.json";
inline constexpr char kJsonSuffix[] = ".json";
// Names starting with it are unfinished writes: readers skip them and the
// next export removes them.
inline constexpr char kTempPrefix[] = ".tmp";

// A file written by an export, with what is needed to check it.
struct StoredFile {
  std::string file;
  uint64_t size = 0;                 // bytes on the destination
  std::string sha256;                // of the bytes on the destination, lowercase hex
  std::string compression = "none";  // "none" | "zstd"
  // Streams: bytes of the zfs stream before compression (what a receive
  // takes), recorded for zstd files; 0 when unknown (exports made before
  // it was recorded). For "none" the stream is the file: use size.
  uint64_t stream_size = 0;

  // The stream's bytes when known (size for uncompressed files), else 0.
  uint64_t StreamBytes() const { return compression == "none" ? size : stream_size; }
};

// One stream of a chain. The first link of a chain is either a full stream
// (from empty) or, for a clone, an incremental from its origin snapshot.
struct ChainLink {
  std::string snapshot;  // short name, after '@'
  uint64_t guid = 0;
  uint64_t createtxg = 0;
  int64_t creation = 0;
  // Empty for a full stream. Otherwise the full name of the `zfs send -i`
  // source: the previous link's snapshot, or the origin for a chain base.
  std::string from;
  uint64_t from_guid = 0;
  StoredFile stream;
  std::string config;   // the config file saved by the same export run
  std::string written;  // RFC3339 UTC time of the export
};

struct Chain {
  std::string id;       // "<dskey>/<start time>", unique within the zone
  std::string dataset;  // full dataset name on the host that exported it
  std::string origin;   // clone origin at chain start ("" if none)
  uint64_t origin_guid = 0;
  std::string image_uuid;  // image whose stream the base needs ("" if none)
  std::vector<ChainLink> links;

  const ChainLink* tip() const { return links.empty() ? nullptr : &links.back(); }
};

struct ConfigRecord {
  StoredFile stored;
  std::string written;  // RFC3339
};

struct ZoneManifest {
  int format_version = kManifestFormatVersion;
  std::string host;
  std::string uuid;
  std::string alias;
  std::string brand;
  std::string image_uuid;
  std::vector<ConfigRecord> configs;
  std::vector<Chain> chains;  // in creation order, per dataset oldest first
  // The journal of files that may exist in the zone's directory without
  // being recorded: a stream or config about to be committed, or the files
  // of a chain being removed. Never a config record's file or a link's
  // stream; each lies below "<uuid>/" and is not the manifest. The next
  // plan deletes those that exist and empties it (a remove_loose action,
  // Destination::RemoveLooseFiles).
  std::set<std::string> loose_files;
};

struct ImageManifest {
  int format_version = kManifestFormatVersion;
  std::string uuid;
  std::string snapshot;  // full name, e.g. zones/<uuid>@final
  uint64_t guid = 0;
  uint64_t createtxg = 0;
  StoredFile stream;
  std::string written;
  // imgadm's record of the image on the exporting host (`imgadm get -P`):
  // what a restore registers so that vmadm create accepts the image.
  // Empty `file` for exports made before zrecon saved it.
  StoredFile imgadm_record;
  std::string imgadm_type;  // its manifest.type ("" when imgadm had none)
};

// The catalog of one destination for one host, as read before planning.
struct DestinationCatalog {
  std::string name;  // destination name from the policy
  bool reachable = false;
  std::string unreachable_reason;               // e.g. "/mnt/usb/zrecon does not exist"
  std::map<std::string, ZoneManifest> zones;    // by zone uuid
  std::map<std::string, ImageManifest> images;  // by image uuid
};

// Catalogs of all destinations of a policy, by destination name.
using Catalogs = std::map<std::string, DestinationCatalog>;

}  // namespace zrecon

#endif  // ZRECON_CATALOG_CATALOG_H_
