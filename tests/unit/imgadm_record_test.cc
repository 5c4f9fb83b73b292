#include "reconciler/catalog/imgadm_record.h"

#include <doctest/doctest.h>

#include <string>

namespace zrecon {

namespace {

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";

// `imgadm get -P zones <uuid>` of an installed image: JSON.stringify(info,
// null, 2) of the database record (database.js loadImage).
const std::string kRecord =
    "{\n  \"manifest\": {\n    \"v\": 2,\n    \"uuid\": \"" + kImage +
    "\",\n    \"name\": \"base-64-lts\",\n    \"version\": \"16.4.1\",\n"
    "    \"type\": \"zone-dataset\",\n    \"os\": \"smartos\"\n  },\n"
    "  \"zpool\": \"zones\",\n  \"source\": \"https://images.smartos.org\"\n}\n";

}  // namespace

TEST_CASE("imgadm_record: a record names its image and type") {
  std::string type;
  REQUIRE(ParseImgadmRecord(kRecord, kImage, &type).ok());
  CHECK(type == "zone-dataset");
  // What imgadm prints for an image dataset it has no record of.
  REQUIRE(ParseImgadmRecord("{\"manifest\": {\"uuid\": \"" + kImage + "\"}, \"zpool\": \"zones\"}",
                            kImage, &type)
              .ok());
  CHECK(type.empty());
}

TEST_CASE("imgadm_record: what is not a record of the image is refused, saying why") {
  std::string type;
  Status s = ParseImgadmRecord("not json", kImage, &type);
  CHECK(s.message().find("not valid JSON") != std::string::npos);
  s = ParseImgadmRecord("[]", kImage, &type);
  CHECK(s.message().find("not a JSON object") != std::string::npos);
  s = ParseImgadmRecord("{\"zpool\": \"zones\"}", kImage, &type);
  CHECK(s.message().find("no \"manifest\" object") != std::string::npos);
  s = ParseImgadmRecord("{\"manifest\": {\"uuid\": \"other\"}}", kImage, &type);
  CHECK(s.message() == "imgadm's record is not of image " + kImage + " (manifest.uuid \"other\")");
}

TEST_CASE("imgadm_record: the database record moves to the target pool, in imgadm's format") {
  std::string out;
  REQUIRE(MakeImgadmDatabaseRecord(kRecord, kImage, "zones", &out).ok());
  CHECK(out == kRecord);  // byte for byte what imgadm itself writes
  REQUIRE(MakeImgadmDatabaseRecord(kRecord, kImage, "tank", &out).ok());
  CHECK(out.find("\"zpool\": \"tank\"") != std::string::npos);
  CHECK(out.find("\"source\": \"https://images.smartos.org\"") != std::string::npos);
  Status s = MakeImgadmDatabaseRecord(
      "{\"manifest\": {\"uuid\": \"" + kImage + "\"}, \"zpool\": \"zones\"}", kImage, "zones",
      &out);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("has no manifest type") != std::string::npos);
}

}  // namespace zrecon
