#ifndef ZRECON_POLICY_NAMING_H_
#define ZRECON_POLICY_NAMING_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/util/time.h"

namespace re2 {
class RE2;
}

namespace zrecon {

// A snapshot naming template such as "zrecon-{class}-{time}". {class} is the
// snapshot class name, {time} the UTC time as %Y%m%dT%H%M%SZ. The template is
// compiled to an anchored RE2 that recognises exactly the names it produces
// for the known classes: a snapshot is managed by zrecon iff Parse accepts
// its name. Everything else (@final, @vmsnap-*, other tools') is foreign.
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
  std::string text_;
  std::string literal_prefix_;  // cheap pre-filter before the regex
  std::shared_ptr<const re2::RE2> re_;
  int class_group_ = 1;  // capture group numbers of {class} and {time}
  int time_group_ = 2;
};

}  // namespace zrecon

#endif  // ZRECON_POLICY_NAMING_H_
