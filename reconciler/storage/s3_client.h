#ifndef ZRECON_STORAGE_S3_CLIENT_H_
#define ZRECON_STORAGE_S3_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/util/command.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/s3_location.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A client of the S3 API for an S3-compatible object store: libcurl for
// HTTP(S), OpenSSL for AWS Signature Version 4, libxml2 for the XML
// replies. Only what zrecon needs: objects put whole (conditionally) or in
// parts, read in ranges, listed, deleted, and the multipart uploads left
// behind listed and aborted.
//
// Secrets: the keys never appear in a message, and requests are signed
// with the payload's SHA-256 (the store checks the body it got).
// Transient failures (no connection, a timeout, HTTP 500, 502, 503, 504 or
// a "SlowDown") are retried with exponential backoff (0.5 s doubling, up to
// 5 tries); what stays down fails the call, saying "<endpoint> is
// unreachable: ..." (which apply takes for a failure of the medium). A
// request that moves no byte for the limits' stall_seconds counts as a
// timeout; an interrupt ends the retries and, after a grace period, the
// request. Every failed Status names the operation, the object
// (s3://bucket/key) and the store's error code and message, never a key.

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // "" unless temporary credentials
};

// The keys for `location`: from its credentials_file (AWS INI format,
// section [profile]: aws_access_key_id, aws_secret_access_key, optional
// aws_session_token) when set, else from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Fails saying which is
// missing, never printing a value.
Status LoadS3Credentials(const S3Location& location, S3Credentials* out);

// Signature Version 4, pure: the Authorization header of a request.
// `canonical_uri` is the URI-encoded path ("/bucket/key" or "/key");
// `query` the decoded parameters; `headers` lower-case names (host,
// x-amz-date and x-amz-content-sha256 among them) with trimmed values.
struct SigV4Request {
  std::string method;
  std::string canonical_uri;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;
  std::string payload_sha256;  // hex
  std::string amz_date;        // "20130524T000000Z"
};
std::string SigV4Authorization(const SigV4Request& request, const S3Credentials& credentials,
                               const std::string& region, const std::string& service = "s3");

// Percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~
// (and '/' when `keep_slash`) as %XX, upper-case hex.
std::string UriEncode(const std::string& text, bool keep_slash);

struct S3Object {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes
};

struct S3Upload {
  std::string key;
  std::string upload_id;
};

class S3Client {
 public:
  static Status Create(const S3Location& location, const S3Credentials& credentials,
                       std::unique_ptr<S3Client>* out, const TransferLimits& limits = {});
  ~S3Client();

  const S3Location& location() const { return location_; }
  // "s3://bucket/key" for messages.
  std::string Shown(const std::string& key) const;

  // Whether the bucket can be reached with these keys (HEAD bucket): ""
  // or why not ("the bucket does not exist", the store's refusal, the
  // network error).
  std::string CheckBucket();

  // HEAD: *exists false (and OK) for a missing object.
  Status Head(const std::string& key, bool* exists, uint64_t* size, std::string* etag,
              std::map<std::string, std::string>* metadata = nullptr);

  // GET of bytes [from, from + length) into *out (fewer at the end).
  Status GetRange(const std::string& key, uint64_t from, uint64_t length, std::string* out);
  // GET of a whole small object; fails when it is larger than `limit`.
  Status GetSmall(const std::string& key, size_t limit, std::string* out);

  // PUT of a whole object. `if_none_match` sends "If-None-Match: *" (create
  // only); a non-empty `if_match` sends "If-Match: <etag>" (replace only
  // that version). A refused condition returns OK with *precondition_failed
  // set, changing nothing. x-amz-meta-<name> for each of `metadata`.
  struct PutOptions {
    bool if_none_match = false;
    std::string if_match;
    std::map<std::string, std::string> metadata;
  };
  Status Put(const std::string& key, const std::string& data, const PutOptions& options,
             bool* precondition_failed, std::string* etag);

  Status Delete(const std::string& key);

  // Every object whose key starts with `prefix` (all pages).
  Status List(const std::string& prefix, std::vector<S3Object>* out);
  // The names directly below `prefix` (ending in '/'): "sub/" entries of a
  // delimited listing, without the prefix. Plus the objects at that level.
  Status ListLevel(const std::string& prefix, std::vector<std::string>* dirs,
                   std::vector<S3Object>* objects);

  Status CreateMultipart(const std::string& key, const std::map<std::string, std::string>& metadata,
                         std::string* upload_id);
  Status UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                    const std::string& data, std::string* etag);
  // `etags` in part order, from 1.
  Status CompleteMultipart(const std::string& key, const std::string& upload_id,
                           const std::vector<std::string>& etags);
  Status AbortMultipart(const std::string& key, const std::string& upload_id);
  // Object tags (PutObjectTagging / GetObjectTagging): how an object put
  // in parts carries its SHA-256, which is known only at its end. A store
  // without tagging (HTTP 501) leaves *supported false and OK.
  Status PutTags(const std::string& key, const std::map<std::string, std::string>& tags,
                 bool* supported);
  Status GetTags(const std::string& key, std::map<std::string, std::string>* tags);
  Status ListMultipart(const std::string& prefix, std::vector<S3Upload>* out);

  // Tests: no backoff sleeps.
  void set_retry_delay_ms(int ms) { retry_delay_ms_ = ms; }
  // How many tries a request gets (5 unless set; at least 1).
  void set_tries(int tries) { tries_ = tries < 1 ? 1 : tries; }
  int tries() const { return tries_; }

 private:
  struct Reply;
  S3Client() = default;
  // One signed request with retries. `body` may be null (empty).
  Status Call(const std::string& op, const std::string& method, const std::string& key,
              const std::map<std::string, std::string>& query,
              const std::map<std::string, std::string>& headers, const std::string* body,
              Reply* reply);
  Status Once(const std::string& method, const std::string& key,
              const std::map<std::string, std::string>& query,
              const std::map<std::string, std::string>& headers, const std::string* body,
              Reply* reply);
  Status Failed(const std::string& op, const std::string& key, const Reply& reply) const;
  // "HTTP 503 SlowDown (Please reduce your request rate.)"
  static std::string Describe(const Reply& reply);
  Status ListPages(const std::string& prefix, bool delimited, std::vector<std::string>* dirs,
                   std::vector<S3Object>* objects);

  S3Location location_;
  TransferLimits limits_;
  S3Credentials credentials_;
  std::string host_;      // the Host header
  std::string base_;      // scheme://host[:port]
  void* curl_ = nullptr;  // CURL*, reused (keep-alive)
  int retry_delay_ms_ = 500;
  int tries_ = 5;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_S3_CLIENT_H_
