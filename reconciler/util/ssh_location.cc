#include "reconciler/util/ssh_location.h"

#include <cctype>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

bool IsName(const std::string& s) {
  if (s.empty() || s[0] == '-' || s.size() > 255) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsV6(const std::string& s) {
  if (s.empty() || s.find(':') == std::string::npos) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  }
  return true;
}

Status CheckRemotePath(const std::string& path) {
  if (path.empty() || path[0] != '/') return Status::Error("the path must be absolute");
  std::string inner = StripTrailingSlashes(path);
  if (inner == "/") return Status::Error("the path must not be the root directory");
  for (char c : inner) {
    if (std::iscntrl(static_cast<unsigned char>(c))) {
      return Status::Error("the path must not hold control characters");
    }
  }
  bool ordinary = inner.find('\0') == std::string::npos;
  const std::string below_root = inner.substr(1);  // Split's views point into it
  for (std::string_view part : Split(below_root, '/')) {
    ordinary = ordinary && !part.empty() && part != "." && part != "..";
  }
  if (!ordinary) {
    return Status::Error("the path must be made of ordinary components (no \"\", \".\", \"..\")");
  }
  return Status::Ok();
}

Status CheckLocalFile(const char* what, const std::string& path) {
  if (path.empty()) return Status::Ok();
  if (path[0] != '/') return Status::Error(std::string(what) + " must be an absolute path");
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '%') {
      return Status::Error(std::string(what) +
                           " must not contain whitespace or \"%\" (ssh splits or expands them)");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string SshLocation::Url() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string url = "ssh://" + (user.empty() ? "" : user + "@") + h;
  if (port != 0) url += ":" + std::to_string(port);
  return url + StripTrailingSlashes(path);
}

Status ParseSshUrl(const std::string& url, SshLocation* out) {
  auto bad = [&](const std::string& why) {
    return Status::Error("invalid ssh URL " + Quoted(url) + ": " + why +
                         " (expected ssh://[user@]host[:port]/absolute/path)");
  };
  const std::string scheme = "ssh://";
  if (url.compare(0, scheme.size(), scheme) != 0) return bad("it does not start with ssh://");
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return bad("no path");
  std::string authority = rest.substr(0, slash);
  SshLocation loc;
  loc.path = rest.substr(slash);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    loc.user = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return bad("an unclosed [ in the host");
    loc.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return bad("text after ]");
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    loc.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
    if (colon != std::string::npos && port.empty()) return bad("an empty port");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::atoi(port.c_str()) == 0) {
      return bad("port " + Quoted(port) + " is not a number");
    }
    loc.port = std::atoi(port.c_str());
  }
  Status st = CheckSshLocation(loc);
  if (!st.ok()) return bad(st.message());
  *out = std::move(loc);
  return Status::Ok();
}

Status CheckSshLocation(const SshLocation& loc) {
  if (!IsName(loc.host) && !IsV6(loc.host)) {
    return Status::Error("host " + Quoted(loc.host) +
                         " must be a host name or address (letters, digits, \".-_\")");
  }
  if (!loc.user.empty() && !IsName(loc.user)) {
    return Status::Error("user " + Quoted(loc.user) +
                         " must be letters, digits and \".-_\", not starting with \"-\"");
  }
  if (loc.port < 0 || loc.port > 65535) {
    return Status::Error("port " + std::to_string(loc.port) + " is outside 1..65535");
  }
  Status st = CheckRemotePath(loc.path);
  if (!st.ok()) return Status::Error(st.message() + ": " + Quoted(loc.path));
  st = CheckLocalFile("identity", loc.identity);
  if (st.ok()) st = CheckLocalFile("known_hosts", loc.known_hosts);
  return st;
}

}  // namespace zrecon
