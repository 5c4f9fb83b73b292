// Inputs found by the fuzzers (fuzz/, tools/fuzz.sh), reduced to the bytes
// that matter. Each case asserts the behaviour the contract promises. A
// case that reproduces an open bug is marked doctest::should_fail until the
// fix lands.

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/policy/policy_loader.h"

namespace zrecon {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// True when LoadPolicy refuses `yaml` with an error on line 1 that is not
// the loader's last-resort "cannot read the policy" (which is also what an
// allocation failure would give).
bool RefusedOnLineOne(const std::string& yaml) {
  Policy policy;
  Diagnostics diags;
  if (LoadPolicy("policy.yaml", yaml, &policy, &diags)) return false;
  for (const Diagnostic& d : diags.items()) {
    if (d.severity == Severity::kError && d.loc.line == 1 &&
        d.message.rfind("cannot read the policy", 0) != 0) {
      return true;
    }
  }
  return false;
}

// Runs RefusedOnLineOne in a child process, so that a hang that allocates
// without bound ends after `seconds` (SIGALRM) and within an address-space
// limit instead of taking the test binary and the machine with it. ASan
// reserves terabytes of shadow memory, so under ASan only the alarm holds.
std::string LoadInChild(const std::string& yaml, unsigned seconds) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!kAddressSanitizer) {
      struct rlimit limit = {1u << 30, 1u << 30};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    ::alarm(seconds);
    ::_exit(RefusedOnLineOne(yaml) ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    return "no answer within " + std::to_string(seconds) + "s";
  }
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return WEXITSTATUS(status) == 0 ? "refused on line 1" : "not refused on line 1";
}

// Found by policy_fuzzer: yaml-cpp 0.7's LoadAll never returns on a stream
// holding a stray ',' where a document starts; it appends null documents
// until memory runs out (jbeder/yaml-cpp#1040, fixed upstream by #1319,
// after 0.7). `zrecon validate` on such a file hung and ate the host's
// memory; policy_loader.cc now finds the stalled document first.
TEST_CASE("fuzz_regressions: a policy that is a stray ',' is refused, not a hang") {
  CHECK(LoadInChild(",", 3) == "refused on line 1");
  CHECK(LoadInChild(",x", 3) == "refused on line 1");
  CHECK(LoadInChild("]", 3) == "refused on line 1");
}

TEST_CASE("fuzz_regressions: a stray ',' after a valid document is refused where it stands") {
  Policy policy;
  Diagnostics diags;
  CHECK_FALSE(LoadPolicy("policy.yaml", "version: 1\n---\n,\n", &policy, &diags));
  REQUIRE(diags.items().size() >= 1);
  CHECK(diags.items()[0].loc.line == 3);
  CHECK(diags.items()[0].loc.column == 1);
  CHECK(diags.items()[0].message.find("YAML syntax error") == 0);
  diags = Diagnostics();
  CHECK_FALSE(LoadPolicy("policy.yaml", "# comment\n,", &policy, &diags));
  REQUIRE(diags.items().size() >= 1);
  CHECK(diags.items()[0].loc.line == 2);
}

// Found by manifest_fuzzer: nlohmann reports a number too large for a
// double as out_of_range (406), not parse_error, so Parse in
// catalog_json.cc lets it through to Decode's catch, which says "internal
// error decoding manifest" instead of naming the bad JSON. Fixed.
TEST_CASE("fuzz_regressions: a manifest number beyond double is bad JSON, not an internal error") {
  const std::string text = "{\"format_version\": 1e400}";
  ZoneManifest zone;
  Status status = DecodeZoneManifest(text, &zone);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind("internal error", 0) != 0);
  CHECK(status.message().find("1e400") != std::string::npos);
  ImageManifest image;
  status = DecodeImageManifest(text, &image);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().rfind("internal error", 0) != 0);
}

}  // namespace
}  // namespace zrecon
