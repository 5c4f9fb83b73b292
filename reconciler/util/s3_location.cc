#include "reconciler/util/s3_location.h"

#include <cctype>
#include <string_view>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

bool OrdinaryPath(const std::string& path) {
  if (path.empty()) return true;
  for (std::string_view part : Split(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (std::iscntrl(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

bool IsBucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(b.front())) ||
      !std::isalnum(static_cast<unsigned char>(b.back()))) {
    return false;
  }
  for (char c : b) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool IsEndpoint(const std::string& e) {
  std::string rest;
  if (e.rfind("https://", 0) == 0) {
    rest = e.substr(8);
  } else if (e.rfind("http://", 0) == 0) {
    rest = e.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest[0] == '-') return false;
  for (char c : rest) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string S3Location::Url() const {
  return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
}

Status ParseS3Url(const std::string& url, S3Location* out) {
  const std::string scheme = "s3://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    return Status::Error("invalid S3 URL " + Quoted(url) + " (expected s3://bucket[/prefix])");
  }
  std::string rest = url.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t slash = rest.find('/');
  S3Location loc = *out;
  loc.bucket = rest.substr(0, slash);
  loc.prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (!IsBucket(loc.bucket) || !OrdinaryPath(loc.prefix)) {
    return Status::Error("invalid S3 URL " + Quoted(url) +
                         ": expected s3://bucket[/prefix], a bucket of 3 to 63 lower-case "
                         "letters, digits, '.' and '-', a prefix of ordinary path components");
  }
  *out = std::move(loc);
  return Status::Ok();
}

Status CheckS3Location(const S3Location& l) {
  if (!IsEndpoint(l.endpoint)) {
    return Status::Error("endpoint " + Quoted(l.endpoint) +
                         " must be http:// or https:// and a host[:port], nothing after it");
  }
  if (!IsBucket(l.bucket)) {
    return Status::Error("bucket " + Quoted(l.bucket) +
                         " must be 3 to 63 lower-case letters, digits, '.' and '-'");
  }
  if (!OrdinaryPath(l.prefix)) {
    return Status::Error("prefix " + Quoted(l.prefix) +
                         " must be ordinary path components (no leading or trailing '/')");
  }
  if (l.region.empty()) return Status::Error("region must not be empty");
  for (char c : l.region) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      return Status::Error("region " + Quoted(l.region) + " must be letters, digits and '-'");
    }
  }
  for (const std::string* p : {&l.ca_bundle, &l.credentials_file}) {
    if (!p->empty() && (*p)[0] != '/') {
      return Status::Error(Quoted(*p) + " must be an absolute path");
    }
  }
  return Status::Ok();
}

}  // namespace zrecon
