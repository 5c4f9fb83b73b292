// Manifests on an export destination (catalog reader): zone and image
// manifests are fed the same bytes. A manifest that decodes must encode to
// canonical JSON that decodes to the same manifest, and every file it names
// must stay inside the host directory.

#include <string>

#include "fuzz/fuzz_check.h"
#include "reconciler/catalog/catalog_json.h"

namespace zrecon {
namespace {

// catalog_json.cc turns an nlohmann exception it did not expect into this
// error rather than throwing: for the fuzzer it is a bug like a crash.
void CheckRefusal(const Status& status) {
  FUZZ_CHECK(status.message().rfind("internal error", 0) != 0, status.message());
}

void CheckSafe(const std::string& file) {
  FUZZ_CHECK(IsSafeRelativePath(file), "accepted an unsafe path: " + file);
}

void CheckZoneFiles(const ZoneManifest& m) {
  for (const ConfigRecord& c : m.configs) CheckSafe(c.stored.file);
  for (const Chain& chain : m.chains) {
    for (const ChainLink& link : chain.links) {
      CheckSafe(link.stream.file);
      if (!link.config.empty()) CheckSafe(link.config);
    }
  }
  for (const std::string& file : m.loose_files) {
    CheckSafe(file);
    FUZZ_CHECK(file.rfind(m.uuid + "/", 0) == 0,
               "a loose file outside the zone's directory: " + file);
  }
}

template <typename Manifest>
void CheckRoundTrip(const Manifest& decoded, std::string (*encode)(const Manifest&),
                    Status (*decode)(std::string_view, Manifest*)) {
  const std::string json = encode(decoded);
  Manifest again;
  Status status = decode(json, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\nencoded:\n" + json);
  FUZZ_CHECK(encode(again) == json, "decoding the encoding changes it:\n" + json);
}

}  // namespace
}  // namespace zrecon

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  std::string_view text = fuzz::AsText(data, size);

  ZoneManifest zone;
  Status status = DecodeZoneManifest(text, &zone);
  if (status.ok()) {
    CheckZoneFiles(zone);
    CheckRoundTrip(zone, &EncodeZoneManifest, &DecodeZoneManifest);
  } else {
    CheckRefusal(status);
  }

  ImageManifest image;
  status = DecodeImageManifest(text, &image);
  if (status.ok()) {
    CheckSafe(image.stream.file);
    CheckRoundTrip(image, &EncodeImageManifest, &DecodeImageManifest);
  } else {
    CheckRefusal(status);
  }
  return 0;
}
