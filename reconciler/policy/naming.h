#ifndef ZRECON_POLICY_NAMING_H_
#define ZRECON_POLICY_NAMING_H_

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/util/time.h"

namespace zrecon {

// A snapshot naming template such as "zrecon-{class}-{time}". {class} is the
// snapshot class name, {time} the UTC time as %Y%m%dT%H%M%SZ. Parse accepts
// exactly the names the template produces for the known classes: a snapshot
// is managed by zrecon iff Parse accepts its name. Everything else (@final,
// @vmsnap-*, other tools') is foreign.
class NamingTemplate {
 public:
  NamingTemplate();
  ~NamingTemplate();
  NamingTemplate(const NamingTemplate&);
  NamingTemplate& operator=(const NamingTemplate&);

  // Fails (with a reason) unless the template has exactly one {class} and one
  // {time}, no other braces, and only characters valid in ZFS snapshot names
  // ([A-Za-z0-9_.:-]).
  static bool Compile(std::string_view tmpl, const std::vector<std::string>& class_names,
                      NamingTemplate* out, std::string* why);

  const std::string& text() const { return text_; }
  std::string Format(std::string_view snapshot_class, EpochSeconds t) const;
  // The short snapshot name (after '@'). On a match fills class (a view
  // into short_name) and time.
  bool Parse(std::string_view short_name, std::string_view* snapshot_class, EpochSeconds* t) const;

 private:
  // The template is literal text around its two fields:
  //   before_ {first field} between_ {second field} after_
  // Parse runs once per snapshot on hosts with millions of them, so it
  // matches by hand instead of with a regex (an RE2 match was 18% of
  // planning a 1,000,000-snapshot host): the time is 16 characters, so the
  // literals fix where the class is, and the class must be one of classes_.
  std::string text_;
  std::string before_;
  std::string between_;
  std::string after_;
  bool time_first_ = false;
  std::vector<std::string> classes_;
};

}  // namespace zrecon

#endif  // ZRECON_POLICY_NAMING_H_
