#include "reconciler/storage/s3_client.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr size_t kMaxReply = 80u << 20;

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string Unquote(const std::string& s) {
  return s.size() >= 2 && s.front() == '"' && s.back() == '"' ? s.substr(1, s.size() - 2) : s;
}

std::string UriDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string AmzDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// --- XML ---------------------------------------------------------------------

struct XmlDoc {
  explicit XmlDoc(const std::string& text)
      : doc(xmlReadMemory(
            text.data(), static_cast<int>(text.size()), "reply.xml", nullptr,
            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) {}
  ~XmlDoc() {
    if (doc) xmlFreeDoc(doc);
  }
  xmlNode* root() const { return doc ? xmlDocGetRootElement(doc) : nullptr; }
  xmlDoc* doc;
};

bool Named(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

std::vector<xmlNode*> Children(xmlNode* parent, const char* name) {
  std::vector<xmlNode*> out;
  if (!parent) return out;
  for (xmlNode* n = parent->children; n; n = n->next) {
    if (Named(n, name)) out.push_back(n);
  }
  return out;
}

std::string Text(xmlNode* n) {
  if (!n) return "";
  xmlChar* c = xmlNodeGetContent(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  return s;
}

std::string ChildText(xmlNode* parent, const char* name) {
  std::vector<xmlNode*> c = Children(parent, name);
  return c.empty() ? "" : Text(c.front());
}

bool IsRetryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return true;
    default:
      return false;
  }
}

// CURLOPT_XFERINFOFUNCTION, called about once a second even when nothing
// moves: ends a request that moved no byte, either way, for the stall limit
// (curl's own low-speed limit averages over seconds, so a burst into the
// socket buffers hides a stall), and, once the interrupt is raised, one
// that is still running kInterruptGraceSeconds later.
struct TransferWatch {
  using Clock = std::chrono::steady_clock;
  const Interrupt* interrupt = nullptr;
  std::chrono::seconds stall{0};  // 0: no limit
  curl_off_t moved = -1;          // bytes both ways at the last change
  Clock::time_point since = Clock::now();
  Clock::time_point grace_end = Clock::time_point::max();
  bool interrupted = false;
  bool stalled = false;
};

int WatchTransfer(void* user, curl_off_t, curl_off_t down, curl_off_t, curl_off_t up) {
  auto* watch = static_cast<TransferWatch*>(user);
  auto now = TransferWatch::Clock::now();
  if (down + up != watch->moved) {
    watch->moved = down + up;
    watch->since = now;
  } else if (watch->stall.count() > 0 && now - watch->since >= watch->stall) {
    watch->stalled = true;
    return 1;
  }
  if (watch->interrupt == nullptr || !watch->interrupt->raised()) return 0;
  if (watch->grace_end == TransferWatch::Clock::time_point::max()) {
    watch->grace_end = now + std::chrono::seconds(kInterruptGraceSeconds);
  }
  watch->interrupted = now >= watch->grace_end;
  return watch->interrupted ? 1 : 0;
}

size_t CollectBody(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxReply) return 0;
  out->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    (*headers)[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  } else if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100 Continue)
  }
  return size * n;
}

}  // namespace

// --- credentials ---------------------------------------------------------------

Status LoadS3Credentials(const S3Location& location, S3Credentials* out) {
  S3Credentials c;
  if (!location.credentials_file.empty()) {
    std::ifstream in(location.credentials_file);
    if (!in) {
      return Status::Error("cannot read the credentials file " + location.credentials_file);
    }
    std::string line, section;
    while (std::getline(in, line)) {
      line = Trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[' && line.back() == ']') {
        section = Trim(line.substr(1, line.size() - 2));
        continue;
      }
      size_t eq = line.find('=');
      if (section != location.profile || eq == std::string::npos) continue;
      std::string name = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
      if (name == "aws_access_key_id") c.access_key = value;
      if (name == "aws_secret_access_key") c.secret_key = value;
      if (name == "aws_session_token") c.session_token = value;
    }
    if (c.access_key.empty() || c.secret_key.empty()) {
      return Status::Error("the credentials file " + location.credentials_file +
                           " has no aws_access_key_id and aws_secret_access_key in section [" +
                           location.profile + "]");
    }
  } else {
    const char* ak = std::getenv("AWS_ACCESS_KEY_ID");
    const char* sk = std::getenv("AWS_SECRET_ACCESS_KEY");
    const char* token = std::getenv("AWS_SESSION_TOKEN");
    if (!ak || !*ak || !sk || !*sk) {
      return Status::Error(
          "no S3 keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a "
          "credentials_file in the destination");
    }
    c.access_key = ak;
    c.secret_key = sk;
    if (token) c.session_token = token;
  }
  *out = std::move(c);
  return Status::Ok();
}

// --- SigV4 ---------------------------------------------------------------------

std::string UriEncode(const std::string& text, bool keep_slash) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

std::string SigV4Authorization(const SigV4Request& r, const S3Credentials& credentials,
                               const std::string& region, const std::string& service) {
  std::string query;
  for (const auto& [k, v] : r.query) {
    if (!query.empty()) query += "&";
    query += UriEncode(k, false) + "=" + UriEncode(v, false);
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : r.headers) {
    canonical_headers += k + ":" + Trim(v) + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }
  std::string canonical = r.method + "\n" + r.canonical_uri + "\n" + query + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + r.payload_sha256;
  std::string day = r.amz_date.substr(0, 8);
  std::string scope = day + "/" + region + "/" + service + "/aws4_request";
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + r.amz_date + "\n" + scope + "\n" + Sha256::Hex(canonical);
  std::string key = Hmac("AWS4" + credentials.secret_key, day);
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
         ", SignedHeaders=" + signed_headers + ", Signature=" + Hex(Hmac(key, to_sign));
}

// --- the client ------------------------------------------------------------------

struct S3Client::Reply {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string transport_error;  // curl's, when no HTTP reply came
  std::string interrupted;      // why the request was given up, when it was
};

Status S3Client::Create(const S3Location& location, const S3Credentials& credentials,
                        std::unique_ptr<S3Client>* out, const TransferLimits& limits) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Status st = CheckS3Location(location);
  if (!st.ok()) return st;
  std::unique_ptr<S3Client> c(new S3Client());
  c->location_ = location;
  c->limits_ = limits;
  c->credentials_ = credentials;
  size_t scheme_end = location.endpoint.find("://") + 3;
  std::string scheme = location.endpoint.substr(0, scheme_end);
  std::string host = location.endpoint.substr(scheme_end);
  c->host_ = location.path_style ? host : location.bucket + "." + host;
  c->base_ = scheme + c->host_;
  c->curl_ = curl_easy_init();
  if (!c->curl_) return Status::Error("cannot start libcurl");
  *out = std::move(c);
  return Status::Ok();
}

S3Client::~S3Client() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string S3Client::Shown(const std::string& key) const {
  return "s3://" + location_.bucket + (key.empty() ? "" : "/" + key);
}

Status S3Client::Once(const std::string& method, const std::string& key,
                      const std::map<std::string, std::string>& query,
                      const std::map<std::string, std::string>& extra, const std::string* body,
                      Reply* reply) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  *reply = Reply();
  std::string path = location_.path_style ? "/" + location_.bucket : "";
  path += "/" + UriEncode(key, true);
  if (location_.path_style && key.empty()) path = "/" + location_.bucket;
  std::string query_string;
  for (const auto& [k, v] : query) {
    query_string +=
        (query_string.empty() ? "?" : "&") + UriEncode(k, false) + "=" + UriEncode(v, false);
  }
  SigV4Request sig;
  sig.method = method;
  sig.canonical_uri = path;
  sig.query = query;
  sig.amz_date = AmzDate();
  sig.payload_sha256 = Sha256::Hex(body ? *body : std::string());
  sig.headers = {
      {"host", host_}, {"x-amz-date", sig.amz_date}, {"x-amz-content-sha256", sig.payload_sha256}};
  if (!credentials_.session_token.empty()) {
    sig.headers["x-amz-security-token"] = credentials_.session_token;
  }
  for (const auto& [k, v] : extra) sig.headers[Lower(k)] = v;
  std::string authorization = SigV4Authorization(sig, credentials_, location_.region);

  struct curl_slist* list = nullptr;
  for (const auto& [k, v] : sig.headers) {
    if (k == "host") continue;  // curl sends it from the URL
    list = curl_slist_append(list, (k + ": " + v).c_str());
  }
  list = curl_slist_append(list, ("Authorization: " + authorization).c_str());
  list = curl_slist_append(list, "Expect:");
  list = curl_slist_append(list, "Content-Type:");
  std::string url = base_ + path + query_string;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  // A peer that vanished without a word (a cable, a crashed store) is
  // noticed by TCP even when no limit is set.
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 15L);
  TransferWatch watch;
  watch.interrupt = limits_.interrupt;
  watch.stall = std::chrono::seconds(limits_.stall_seconds > 0 ? limits_.stall_seconds : 0);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, WatchTransfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &watch);
  if (!location_.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, location_.ca_bundle.c_str());
  }
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply->body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply->headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    reply->transport_error = curl_easy_strerror(rc);
    if (watch.interrupted) {
      reply->interrupted = watch.interrupt->Describe() + ", and the store did not answer within " +
                           std::to_string(kInterruptGraceSeconds) + " s";
    } else if (watch.stalled) {
      reply->transport_error = "stalled: no data moved for " +
                               std::to_string(limits_.stall_seconds) + " s (--stall-timeout)";
      return Status::Error("retry");
    }
    return IsRetryable(rc) ? Status::Error("retry") : Status::Ok();
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
  bool slow_down = reply->body.find("<Code>SlowDown</Code>") != std::string::npos;
  if (reply->status == 500 || reply->status == 502 || reply->status == 503 ||
      reply->status == 504 || slow_down) {
    return Status::Error("retry");
  }
  return Status::Ok();
}

Status S3Client::Call(const std::string& op, const std::string& method, const std::string& key,
                      const std::map<std::string, std::string>& query,
                      const std::map<std::string, std::string>& headers, const std::string* body,
                      Reply* reply) {
  int delay = retry_delay_ms_;
  int attempt = 1;
  Status again;
  for (;; ++attempt) {
    again = Once(method, key, query, headers, body, reply);
    if (again.ok() || attempt >= tries_) break;
    // No retry once interrupted: the run is ending.
    if (!SleepUnlessInterrupted(limits_.interrupt, delay)) break;
    delay *= 2;
  }
  if (!reply->interrupted.empty()) {
    return Status::Error(op + " " + Shown(key) + ": " + reply->interrupted);
  }
  std::string tries = " (after " + std::to_string(attempt) + (attempt == 1 ? " try)" : " tries)");
  if (!reply->transport_error.empty()) {
    return Status::Error(op + " " + Shown(key) + ": " + location_.endpoint +
                         " is unreachable: " + reply->transport_error + tries);
  }
  if (!again.ok()) {
    // Still 5xx or SlowDown: a store that stays down is unreachable too
    // (apply ends the work on it).
    return Status::Error(op + " " + Shown(key) + ": " + location_.endpoint +
                         " is unreachable: " + Describe(*reply) + tries);
  }
  return Status::Ok();
}

Status S3Client::Failed(const std::string& op, const std::string& key, const Reply& reply) const {
  return Status::Error(op + " " + Shown(key) + ": " + Describe(reply));
}

std::string S3Client::Describe(const Reply& reply) {
  XmlDoc doc(reply.body);
  std::string code = ChildText(doc.root(), "Code");
  std::string message = ChildText(doc.root(), "Message");
  if (code.empty() && reply.status == 404) code = "NotFound";
  if (code.empty() && reply.status == 403) code = "Forbidden";
  std::string text =
      "HTTP " + std::to_string(reply.status) + (code.empty() ? "" : " " + Printable(code));
  if (!message.empty()) text += " (" + Printable(message) + ")";
  return text;
}

std::string S3Client::CheckBucket() {
  Reply reply;
  Status st = Call("HEAD bucket", "HEAD", "", {}, {}, nullptr, &reply);
  if (!st.ok()) return st.message();
  if (reply.status == 200) return "";
  if (reply.status == 404) return Shown("") + ": the bucket does not exist";
  if (reply.status == 403) {
    return Shown("") + ": access denied (HTTP 403): wrong keys, or no permission on the bucket";
  }
  return Failed("HEAD bucket", "", reply).message();
}

Status S3Client::Head(const std::string& key, bool* exists, uint64_t* size, std::string* etag,
                      std::map<std::string, std::string>* metadata) {
  Reply reply;
  Status st = Call("HEAD", "HEAD", key, {}, {}, nullptr, &reply);
  if (!st.ok()) return st;
  *exists = reply.status == 200;
  if (reply.status == 404) return Status::Ok();
  if (reply.status != 200) return Failed("HEAD", key, reply);
  if (size) *size = std::strtoull(reply.headers["content-length"].c_str(), nullptr, 10);
  if (etag) *etag = Unquote(reply.headers["etag"]);
  if (metadata) {
    metadata->clear();
    for (const auto& [k, v] : reply.headers) {
      if (k.rfind("x-amz-meta-", 0) == 0) (*metadata)[k.substr(11)] = v;
    }
  }
  return Status::Ok();
}

Status S3Client::GetRange(const std::string& key, uint64_t from, uint64_t length,
                          std::string* out) {
  Reply reply;
  std::map<std::string, std::string> headers = {
      {"range", "bytes=" + std::to_string(from) + "-" + std::to_string(from + length - 1)}};
  Status st = Call("GET", "GET", key, {}, headers, nullptr, &reply);
  if (!st.ok()) return st;
  if (reply.status == 416) {  // from at or past the end
    out->clear();
    return Status::Ok();
  }
  if (reply.status != 206 && reply.status != 200) return Failed("GET", key, reply);
  *out = std::move(reply.body);
  if (reply.status == 200 && from > 0) out->erase(0, std::min<size_t>(from, out->size()));
  if (out->size() > length) out->resize(length);
  return Status::Ok();
}

Status S3Client::GetSmall(const std::string& key, size_t limit, std::string* out) {
  Reply reply;
  Status st = Call("GET", "GET", key, {}, {}, nullptr, &reply);
  if (!st.ok()) return st;
  if (reply.status != 200) return Failed("GET", key, reply);
  if (reply.body.size() > limit) {
    return Status::Error("GET " + Shown(key) + ": larger than " + std::to_string(limit) + " bytes");
  }
  *out = std::move(reply.body);
  return Status::Ok();
}

Status S3Client::Put(const std::string& key, const std::string& data, const PutOptions& options,
                     bool* precondition_failed, std::string* etag) {
  std::map<std::string, std::string> headers;
  if (options.if_none_match) headers["if-none-match"] = "*";
  if (!options.if_match.empty()) headers["if-match"] = options.if_match;
  for (const auto& [k, v] : options.metadata) headers["x-amz-meta-" + Lower(k)] = v;
  Reply reply;
  Status st = Call("PUT", "PUT", key, {}, headers, &data, &reply);
  if (!st.ok()) return st;
  *precondition_failed = reply.status == 412;
  if (reply.status == 412) return Status::Ok();
  if (reply.status != 200) return Failed("PUT", key, reply);
  if (etag) *etag = Unquote(reply.headers["etag"]);
  return Status::Ok();
}

Status S3Client::Delete(const std::string& key) {
  Reply reply;
  Status st = Call("DELETE", "DELETE", key, {}, {}, nullptr, &reply);
  if (!st.ok()) return st;
  if (reply.status != 204 && reply.status != 200 && reply.status != 404) {
    return Failed("DELETE", key, reply);
  }
  return Status::Ok();
}

Status S3Client::List(const std::string& prefix, std::vector<S3Object>* out) {
  std::vector<std::string> none;
  return ListPages(prefix, false, &none, out);
}

Status S3Client::ListLevel(const std::string& prefix, std::vector<std::string>* dirs,
                           std::vector<S3Object>* objects) {
  return ListPages(prefix, true, dirs, objects);
}

// ListObjectsV2, every page; with `delimited`, the names one level down go
// to *dirs (without the prefix).
Status S3Client::ListPages(const std::string& prefix, bool delimited,
                           std::vector<std::string>* dirs, std::vector<S3Object>* objects) {
  dirs->clear();
  objects->clear();
  std::string token;
  do {
    std::map<std::string, std::string> query = {
        {"list-type", "2"}, {"prefix", prefix}, {"encoding-type", "url"}};
    if (delimited) query["delimiter"] = "/";
    if (!token.empty()) query["continuation-token"] = token;
    Reply reply;
    Status st = Call("LIST", "GET", "", query, {}, nullptr, &reply);
    if (!st.ok()) return st;
    if (reply.status != 200) return Failed("LIST", prefix, reply);
    XmlDoc doc(reply.body);
    if (!doc.root()) return Status::Error("LIST " + Shown(prefix) + ": the reply is not XML");
    for (xmlNode* c : Children(doc.root(), "CommonPrefixes")) {
      std::string p = UriDecode(ChildText(c, "Prefix"));
      if (p.size() > prefix.size()) dirs->push_back(p.substr(prefix.size()));
    }
    for (xmlNode* c : Children(doc.root(), "Contents")) {
      S3Object o;
      o.key = UriDecode(ChildText(c, "Key"));
      o.size = std::strtoull(ChildText(c, "Size").c_str(), nullptr, 10);
      o.etag = Unquote(ChildText(c, "ETag"));
      objects->push_back(std::move(o));
    }
    token = ChildText(doc.root(), "IsTruncated") == "true"
                ? ChildText(doc.root(), "NextContinuationToken")
                : "";
  } while (!token.empty());
  return Status::Ok();
}

Status S3Client::CreateMultipart(const std::string& key,
                                 const std::map<std::string, std::string>& metadata,
                                 std::string* upload_id) {
  std::map<std::string, std::string> headers;
  for (const auto& [k, v] : metadata) headers["x-amz-meta-" + Lower(k)] = v;
  Reply reply;
  std::string empty;
  Status st =
      Call("CreateMultipartUpload", "POST", key, {{"uploads", ""}}, headers, &empty, &reply);
  if (!st.ok()) return st;
  if (reply.status != 200) return Failed("CreateMultipartUpload", key, reply);
  XmlDoc doc(reply.body);
  *upload_id = ChildText(doc.root(), "UploadId");
  if (upload_id->empty()) {
    return Status::Error("CreateMultipartUpload " + Shown(key) + ": no UploadId in the reply");
  }
  return Status::Ok();
}

Status S3Client::UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                            const std::string& data, std::string* etag) {
  Reply reply;
  Status st = Call("UploadPart", "PUT", key,
                   {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}}, {},
                   &data, &reply);
  if (!st.ok()) return st;
  if (reply.status != 200) return Failed("UploadPart " + std::to_string(part_number), key, reply);
  *etag = reply.headers["etag"];
  if (etag->empty()) {
    return Status::Error("UploadPart " + Shown(key) + ": no ETag in the reply");
  }
  return Status::Ok();
}

Status S3Client::CompleteMultipart(const std::string& key, const std::string& upload_id,
                                   const std::vector<std::string>& etags) {
  std::ostringstream body;
  body << "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    std::string quoted = etags[i].front() == '"' ? etags[i] : "\"" + etags[i] + "\"";
    body << "<Part><PartNumber>" << i + 1 << "</PartNumber><ETag>" << quoted << "</ETag></Part>";
  }
  body << "</CompleteMultipartUpload>";
  std::string text = body.str();
  Reply reply;
  Status st =
      Call("CompleteMultipartUpload", "POST", key, {{"uploadId", upload_id}}, {}, &text, &reply);
  if (!st.ok()) return st;
  // A 200 may still carry an <Error> (the store failed while answering).
  XmlDoc doc(reply.body);
  if (reply.status != 200 || (doc.root() && Named(doc.root(), "Error"))) {
    return Failed("CompleteMultipartUpload", key, reply);
  }
  return Status::Ok();
}

Status S3Client::AbortMultipart(const std::string& key, const std::string& upload_id) {
  Reply reply;
  Status st =
      Call("AbortMultipartUpload", "DELETE", key, {{"uploadId", upload_id}}, {}, nullptr, &reply);
  if (!st.ok()) return st;
  if (reply.status != 204 && reply.status != 200 && reply.status != 404) {
    return Failed("AbortMultipartUpload", key, reply);
  }
  return Status::Ok();
}

Status S3Client::PutTags(const std::string& key, const std::map<std::string, std::string>& tags,
                         bool* supported) {
  std::ostringstream body;
  body << "<Tagging><TagSet>";
  for (const auto& [k, v] : tags)
    body << "<Tag><Key>" << k << "</Key><Value>" << v << "</Value></Tag>";
  body << "</TagSet></Tagging>";
  std::string text = body.str();
  Reply reply;
  Status st = Call("PutObjectTagging", "PUT", key, {{"tagging", ""}}, {}, &text, &reply);
  if (!st.ok()) return st;
  *supported = reply.status != 501;
  if (reply.status == 501 || reply.status == 200 || reply.status == 204) return Status::Ok();
  return Failed("PutObjectTagging", key, reply);
}

Status S3Client::GetTags(const std::string& key, std::map<std::string, std::string>* tags) {
  tags->clear();
  Reply reply;
  Status st = Call("GetObjectTagging", "GET", key, {{"tagging", ""}}, {}, nullptr, &reply);
  if (!st.ok()) return st;
  if (reply.status != 200) return Failed("GetObjectTagging", key, reply);
  XmlDoc doc(reply.body);
  for (xmlNode* set : Children(doc.root(), "TagSet")) {
    for (xmlNode* tag : Children(set, "Tag"))
      (*tags)[ChildText(tag, "Key")] = ChildText(tag, "Value");
  }
  return Status::Ok();
}

Status S3Client::ListMultipart(const std::string& prefix, std::vector<S3Upload>* out) {
  out->clear();
  std::string key_marker, id_marker;
  for (;;) {
    std::map<std::string, std::string> query = {{"uploads", ""}, {"prefix", prefix}};
    if (!key_marker.empty()) query["key-marker"] = key_marker;
    if (!id_marker.empty()) query["upload-id-marker"] = id_marker;
    Reply reply;
    Status st = Call("ListMultipartUploads", "GET", "", query, {}, nullptr, &reply);
    if (!st.ok()) return st;
    if (reply.status != 200) return Failed("ListMultipartUploads", prefix, reply);
    XmlDoc doc(reply.body);
    for (xmlNode* u : Children(doc.root(), "Upload")) {
      out->push_back(S3Upload{ChildText(u, "Key"), ChildText(u, "UploadId")});
    }
    if (ChildText(doc.root(), "IsTruncated") != "true") break;
    key_marker = ChildText(doc.root(), "NextKeyMarker");
    id_marker = ChildText(doc.root(), "NextUploadIdMarker");
    if (key_marker.empty() && id_marker.empty()) break;
  }
  return Status::Ok();
}

}  // namespace zrecon
