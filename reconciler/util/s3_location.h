#ifndef ZRECON_UTIL_S3_LOCATION_H_
#define ZRECON_UTIL_S3_LOCATION_H_

#include <string>

#include "reconciler/util/status.h"

namespace zrecon {

// Where an S3 destination is: objects under `prefix` in `bucket` of the
// store at `endpoint`. No secret is held here: the keys come from the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
// or from `credentials_file` (the AWS INI format, section `profile`).
struct S3Location {
  std::string endpoint;  // "https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:7480"
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;       // "" or "a/b": ordinary components, no slashes at the ends
  bool path_style = false;  // endpoint/bucket/key rather than bucket.endpoint/key
  std::string ca_bundle;    // a PEM file of CA certificates; "" = libcurl's default
  std::string credentials_file;
  std::string profile = "default";

  // "s3://bucket/prefix".
  std::string Url() const;
};

// Parses "s3://bucket[/prefix]" into bucket and prefix (the rest of *out is
// kept). Fails naming the URL.
Status ParseS3Url(const std::string& url, S3Location* out);

// The rules every S3 location meets: a bucket name as S3 allows (3 to 63
// lower-case letters, digits, '.', '-'), an endpoint "http://" or
// "https://" host[:port] with no path, a region of letters, digits and
// '-', a prefix of ordinary components, absolute local paths for the CA
// bundle and the credentials file.
Status CheckS3Location(const S3Location& location);

}  // namespace zrecon

#endif  // ZRECON_UTIL_S3_LOCATION_H_
