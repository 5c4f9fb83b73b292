// S3Client: Signature Version 4 against AWS's published examples, and (the
// "s3 store:" cases) the client against a real S3 implementation, which
// tests/integration/s3_destination_test.sh starts (tools/s3-local) and
// names in S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the
// unit run leaves those cases out (tests/CMakeLists.txt).

#include "reconciler/storage/s3_client.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "reconciler/storage/s3_destination.h"
#include "reconciler/util/sha256.h"
#include "tests/unit/stream_helpers.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

// docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const S3Credentials kExampleKeys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 ""};
const char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST_CASE("sigv4: AWS's GET object example") {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/test.txt";
  r.amz_date = "20130524T000000Z";
  r.payload_sha256 = kEmptySha;
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha},
               {"x-amz-date", "20130524T000000Z"}};
  CHECK(SigV4Authorization(r, kExampleKeys, "us-east-1") ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // Any change to what is signed changes the signature.
  r.headers["range"] = "bytes=0-10";
  CHECK(SigV4Authorization(r, kExampleKeys, "us-east-1").find("f0e8bdb8") == std::string::npos);
}

TEST_CASE("sigv4: URI encoding of keys and query values") {
  CHECK(UriEncode("a b/c~d_e-f.g", true) == "a%20b/c~d_e-f.g");
  CHECK(UriEncode("a b/c", false) == "a%20b%2Fc");
  CHECK(UriEncode("$(x);'\"\n", true) == "%24%28x%29%3B%27%22%0A");
  CHECK(UriEncode("\xc3\xa9", true) == "%C3%A9");
}

TEST_CASE("s3 credentials: from a file's profile or the environment, never shown") {
  testing::TempDir dir("zrecon-s3cred");
  std::ofstream(dir / "credentials") << "[default]\naws_access_key_id = AK1\n"
                                        "aws_secret_access_key = SECRET1\n\n[backup]\n"
                                        "aws_access_key_id=AK2\naws_secret_access_key=SECRET2\n";
  S3Location l;
  l.credentials_file = dir / "credentials";
  l.profile = "backup";
  S3Credentials c;
  REQUIRE(LoadS3Credentials(l, &c).ok());
  CHECK(c.access_key == "AK2");
  CHECK(c.secret_key == "SECRET2");
  l.profile = "absent";
  Status st = LoadS3Credentials(l, &c);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("SECRET") == std::string::npos);
  l.credentials_file.clear();
  ::unsetenv("AWS_ACCESS_KEY_ID");
  CHECK(LoadS3Credentials(l, &c).message().find("AWS_ACCESS_KEY_ID") != std::string::npos);
}

// How much a stream of parts sized by S3PartSize can hold in S3's 10,000.
uint64_t Capacity(uint64_t expected) {
  uint64_t total = 0;
  for (size_t i = 0; i < 10000; ++i) total += S3PartSize(expected, i);
  return total;
}

TEST_CASE("s3 part size: any stream fits in 10,000 parts, from the estimate when there is one") {
  constexpr uint64_t kMiB = 1 << 20, kGiB = kMiB << 10, kTiB = kGiB << 10;
  // No estimate (zfs-fuse has no send -nP): 8 MiB, doubling every 1000.
  CHECK(S3PartSize(0, 0) == 8 * kMiB);
  CHECK(S3PartSize(0, 999) == 8 * kMiB);
  CHECK(S3PartSize(0, 1000) == 16 * kMiB);
  CHECK(S3PartSize(0, 9999) == 4096 * kMiB);
  CHECK(Capacity(0) > 7 * kTiB + kTiB / 2);  // 8 TB
  // A small estimate changes nothing: parts are at least 8 MiB.
  CHECK(S3PartSize(72 * kMiB, 0) == 8 * kMiB);
  // A large one: the estimate fits in 8000 equal parts of whole MiB...
  for (uint64_t expected : {100 * kGiB, kTiB, 3 * kTiB + 12345, 20 * kTiB}) {
    CAPTURE(expected);
    uint64_t part = S3PartSize(expected, 0);
    CHECK(part % kMiB == 0);
    CHECK(part * 8000 >= expected);
    CHECK(part * 8000 < expected + 8000 * kMiB);
    CHECK(S3PartSize(expected, 7999) == part);
    // ... and a stream several times larger than estimated still fits:
    // 16 times, as far as S3's 5 GiB parts allow.
    CHECK(Capacity(expected) >= std::min(16 * expected, 6 * kTiB));
  }
  CHECK(Capacity(100 * kGiB) >= 1600 * kGiB);
  // Never above S3's 5 GiB a part.
  CHECK(S3PartSize(0, 9999) <= 5 * kGiB);
  CHECK(S3PartSize(40 * kTiB, 9999) == 5 * kGiB);
  CHECK(S3PartSize(40 * kTiB, 0) == 5 * kGiB);
}

// --- against a real store --------------------------------------------------------

std::unique_ptr<S3Client> StoreClient(const std::string& bucket) {
  const char* endpoint = std::getenv("S3_ENDPOINT");
  REQUIRE_MESSAGE(endpoint, "S3_ENDPOINT is not set: run tests/integration/s3_destination_test.sh");
  S3Location l;
  l.endpoint = endpoint;
  l.bucket = bucket;
  l.path_style = true;
  S3Credentials c;
  REQUIRE(LoadS3Credentials(l, &c).ok());
  std::unique_ptr<S3Client> client;
  REQUIRE(S3Client::Create(l, c, &client).ok());
  client->set_retry_delay_ms(10);
  return client;
}

TEST_CASE("s3 store: objects put, read in ranges, listed, conditionally replaced, deleted") {
  auto s3 =
      StoreClient(std::getenv("S3_TEST_BUCKET") ? std::getenv("S3_TEST_BUCKET") : "zrecon-test");
  REQUIRE(s3->CheckBucket() == "");
  const std::string key = "unit/a b;$(x)'\"/object.json";
  bool refused = false;
  std::string etag;
  s3->Delete(key);
  REQUIRE(s3->Put(key, "hello world", {true, "", {{"sha256", "x"}}}, &refused, &etag).ok());
  CHECK_FALSE(refused);
  // Create-only: a second create is refused and changes nothing.
  REQUIRE(s3->Put(key, "other", {true, "", {}}, &refused, nullptr).ok());
  CHECK(refused);
  std::string back;
  REQUIRE(s3->GetSmall(key, 100, &back).ok());
  CHECK(back == "hello world");
  REQUIRE(s3->GetRange(key, 6, 100, &back).ok());
  CHECK(back == "world");
  bool exists = false;
  uint64_t size = 0;
  std::string head_etag;
  std::map<std::string, std::string> meta;
  REQUIRE(s3->Head(key, &exists, &size, &head_etag, &meta).ok());
  CHECK(exists);
  CHECK(size == 11);
  CHECK(head_etag == etag);
  CHECK(meta["sha256"] == "x");
  std::vector<S3Object> objects;
  REQUIRE(s3->List("unit/a b;", &objects).ok());
  REQUIRE(objects.size() == 1);
  CHECK(objects[0].key == key);
  std::vector<std::string> dirs;
  REQUIRE(s3->ListLevel("unit/", &dirs, &objects).ok());
  CHECK(dirs == std::vector<std::string>{"a b;$(x)'\"/"});
  REQUIRE(s3->Delete(key).ok());
  REQUIRE(s3->Head(key, &exists, &size, &head_etag).ok());
  CHECK_FALSE(exists);
}

TEST_CASE("s3 store: a multipart upload completes whole, or is aborted and gone") {
  auto s3 =
      StoreClient(std::getenv("S3_TEST_BUCKET") ? std::getenv("S3_TEST_BUCKET") : "zrecon-test");
  const std::string key = "unit/multi.zfs";
  std::string part1 = testing::RandomBytes(5 << 20, 1), part2 = testing::RandomBytes(1000, 2);
  std::string id;
  REQUIRE(s3->CreateMultipart(key, {}, &id).ok());
  std::string e1, e2;
  REQUIRE(s3->UploadPart(key, id, 1, part1, &e1).ok());
  REQUIRE(s3->UploadPart(key, id, 2, part2, &e2).ok());
  std::vector<S3Upload> uploads;
  REQUIRE(s3->ListMultipart("unit/", &uploads).ok());
  CHECK(uploads.size() >= 1);
  REQUIRE(s3->CompleteMultipart(key, id, {e1, e2}).ok());
  bool supported = false;
  REQUIRE(s3->PutTags(key, {{"sha256", "abc123"}}, &supported).ok());
  CHECK(supported);
  std::map<std::string, std::string> tags;
  REQUIRE(s3->GetTags(key, &tags).ok());
  CHECK(tags["sha256"] == "abc123");
  std::string back;
  REQUIRE(s3->GetRange(key, (5 << 20) - 10, 20, &back).ok());
  CHECK(back == part1.substr(part1.size() - 10) + part2.substr(0, 10));

  std::string abandoned;
  REQUIRE(s3->CreateMultipart("unit/abandoned.zfs", {}, &abandoned).ok());
  REQUIRE(s3->UploadPart("unit/abandoned.zfs", abandoned, 1, part2, &e1).ok());
  REQUIRE(s3->AbortMultipart("unit/abandoned.zfs", abandoned).ok());
  REQUIRE(s3->ListMultipart("unit/", &uploads).ok());
  for (const S3Upload& u : uploads) CHECK(u.upload_id != abandoned);
  bool exists = true;
  uint64_t size;
  std::string etag;
  REQUIRE(s3->Head("unit/abandoned.zfs", &exists, &size, &etag).ok());
  CHECK_FALSE(exists);
  REQUIRE(s3->Delete(key).ok());
}

TEST_CASE("s3 store: a wrong key and a missing bucket are named, no secret shown") {
  auto missing = StoreClient("zrecon-no-such-bucket");
  CHECK(missing->CheckBucket().find("the bucket does not exist") != std::string::npos);
  const char* endpoint = std::getenv("S3_ENDPOINT");
  REQUIRE(endpoint);
  S3Location l;
  l.endpoint = endpoint;
  l.bucket = "zrecon-test";
  l.path_style = true;
  std::unique_ptr<S3Client> wrong;
  REQUIRE(S3Client::Create(l, S3Credentials{"NOSUCHKEY", "not-the-secret-1234", ""}, &wrong).ok());
  std::string why = wrong->CheckBucket();
  CHECK(why.find("403") != std::string::npos);
  CHECK(why.find("not-the-secret-1234") == std::string::npos);
  bool refused;
  Status st = wrong->Put("unit/x", "x", {}, &refused, nullptr);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("not-the-secret-1234") == std::string::npos);
}

TEST_CASE("s3 store: If-Match replaces only the version it names") {
  auto s3 =
      StoreClient(std::getenv("S3_TEST_BUCKET") ? std::getenv("S3_TEST_BUCKET") : "zrecon-test");
  const std::string key = "unit/if-match/manifest.json";
  s3->Delete(key);
  bool refused = false;
  std::string v1, v2, ignored;
  REQUIRE(s3->Put(key, "one", {true, "", {}}, &refused, &v1).ok());
  REQUIRE_FALSE(refused);
  // The ETag as S3 specifies it (quoted); a store that compares with the
  // unquoted form (Ceph RGW 16) refuses that, and takes the bare one: how
  // S3Destination finds out.
  REQUIRE(s3->Put(key, "two", {false, "\"" + v1 + "\"", {}}, &refused, &v2).ok());
  bool unquoted = refused;
  if (unquoted) REQUIRE(s3->Put(key, "two", {false, v1, {}}, &refused, &v2).ok());
  CHECK_FALSE(refused);
  std::string form = unquoted ? "unquoted" : "quoted";
  MESSAGE("this store matches If-Match against the " << form << " ETag");
  // A writer that still holds the first version is refused, either way.
  for (const std::string& stale : {"\"" + v1 + "\"", v1}) {
    REQUIRE(s3->Put(key, "three", {false, stale, {}}, &refused, &ignored).ok());
    CHECK(refused);
  }
  std::string back;
  REQUIRE(s3->GetSmall(key, 100, &back).ok());
  CHECK(back == "two");
  s3->Delete(key);
}

// S3DestinationTree reads an object in ranges fetched ahead by a thread:
// every size around the range (8 MiB) comes back whole and in order, and
// a reader that stops early is fine.
TEST_CASE("s3 store: the tree reads objects back whole, whatever their size") {
  const char* endpoint = std::getenv("S3_ENDPOINT");
  REQUIRE_MESSAGE(endpoint, "S3_ENDPOINT is not set: run tests/integration/s3_destination_test.sh");
  S3Location l;
  l.endpoint = endpoint;
  l.bucket = std::getenv("S3_TEST_BUCKET") ? std::getenv("S3_TEST_BUCKET") : "zrecon-test";
  l.prefix = "unit/tree";
  l.path_style = true;
  auto s3 = StoreClient(l.bucket);
  constexpr size_t kRange = 8u << 20;
  std::map<std::string, std::string> objects;
  for (size_t size : {size_t{0}, size_t{1}, kRange - 1, kRange, kRange + 1, 3 * kRange + 12345}) {
    std::string name = "h/" + std::to_string(size) + ".zfs";
    objects[name] = testing::RandomBytes(size, size % 1000);
    bool refused = false;
    s3->Delete(l.prefix + "/" + name);
    REQUIRE(s3->Put(l.prefix + "/" + name, objects[name], {}, &refused, nullptr).ok());
  }
  std::unique_ptr<DestinationTree> tree = S3DestinationTree(l);
  for (const auto& [name, data] : objects) {
    CAPTURE(name);
    std::unique_ptr<ByteSource> in;
    uint64_t size = 0;
    REQUIRE(tree->Open(name, &in, &size) == "");
    CHECK(size == data.size());
    std::string back;
    char buffer[100000];
    for (size_t got = 1; got > 0;) {
      REQUIRE(in->Read(buffer, sizeof buffer, &got).ok());
      back.append(buffer, got);
    }
    CHECK(back.size() == data.size());
    CHECK(back == data);
  }
  // Stopped after a few bytes: the source goes away with its fetches.
  std::unique_ptr<ByteSource> in;
  uint64_t size = 0;
  REQUIRE(tree->Open("h/" + std::to_string(3 * kRange + 12345) + ".zfs", &in, &size) == "");
  char few[10];
  size_t got = 0;
  REQUIRE(in->Read(few, sizeof few, &got).ok());
  CHECK(got == 10);
  in.reset();
  for (const auto& [name, data] : objects) s3->Delete(l.prefix + "/" + name);
}

// Two hosts pointed at one host prefix by mistake: the second writer's
// manifest write fails, naming the likely cause, and nothing of the first
// is lost; the first goes on.
TEST_CASE("s3 store: a second writer on one host prefix is refused, nothing lost") {
  const char* endpoint = std::getenv("S3_ENDPOINT");
  REQUIRE_MESSAGE(endpoint, "S3_ENDPOINT is not set: run tests/integration/s3_destination_test.sh");
  S3Location l;
  l.endpoint = endpoint;
  l.bucket = std::getenv("S3_TEST_BUCKET") ? std::getenv("S3_TEST_BUCKET") : "zrecon-test";
  l.prefix = "unit/two-writers";
  l.path_style = true;
  auto clean = StoreClient(l.bucket);
  std::vector<S3Object> old;
  REQUIRE(clean->List(l.prefix + "/", &old).ok());
  for (const S3Object& o : old) REQUIRE(clean->Delete(o.key).ok());

  ZoneManifest zone;
  zone.host = "demo01";
  zone.uuid = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
  zone.alias = "web01";
  zone.brand = "joyent";
  const std::string a_file = zone.uuid + "/config/a.json";
  const std::string b_file = zone.uuid + "/config/b.json";
  S3Destination first("cloud", l, "demo01", DestinationCatalog{});
  S3Destination second("cloud", l, "demo01", DestinationCatalog{});
  REQUIRE(first.Prepare().ok());
  REQUIRE(second.Prepare().ok());
  REQUIRE(first.JournalFile(zone, a_file).ok());
  Status st = second.JournalFile(zone, b_file);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("was changed by someone else since this run read it") !=
        std::string::npos);
  CHECK(st.message().find("nothing was overwritten") != std::string::npos);
  std::string text;
  REQUIRE(
      clean->GetSmall(l.prefix + "/demo01/" + zone.uuid + "/manifest.json", 1 << 20, &text).ok());
  CHECK(text.find(a_file) != std::string::npos);
  CHECK(text.find(b_file) == std::string::npos);
  // The first writer's view is still the store's: it goes on.
  StoredFile config = testing::WriteStream(&first, a_file, "{}\n");
  CHECK(first.RecordConfig(zone, ConfigRecord{config, "2026-12-07T02:00:00Z"}).ok());
  REQUIRE(
      clean->GetSmall(l.prefix + "/demo01/" + zone.uuid + "/manifest.json", 1 << 20, &text).ok());
  CHECK(text.find("2026-12-07T02:00:00Z") != std::string::npos);
  // ... and the second, refused again, still changes nothing.
  CHECK_FALSE(second.JournalFile(zone, b_file).ok());
}

TEST_CASE("s3 client: an endpoint that does not answer is retried, then unreachable") {
  S3Location l;
  l.endpoint = "http://127.0.0.1:1";
  l.bucket = "zrecon-test";
  l.path_style = true;
  std::unique_ptr<S3Client> down;
  REQUIRE(S3Client::Create(l, S3Credentials{"AK", "SK", ""}, &down).ok());
  down->set_retry_delay_ms(1);
  std::string why = down->CheckBucket();
  CHECK(why.find("is unreachable") != std::string::npos);
  CHECK(why.find("after 5 tries") != std::string::npos);
}

}  // namespace
}  // namespace zrecon
