// A compiled pattern of the regex cache: RE2, plus the range of whole strings it can match, which
// lets a match test refuse most non-matching subjects without running RE2 (genpolicy tries each
// request entry against a list of `^...$` patterns that mostly differ in their literal prefixes).
#pragma once

#include <string>
#include <string_view>

#include <re2/re2.h>

namespace cloister::rego::builtins {

class Regex : public re2::RE2 {
 public:
  Regex(const std::string& pattern, const re2::RE2::Options& options);

  // Whether `s` may contain a match: false only when every match would span all of `s` and `s`
  // lies outside the range of strings the pattern matches whole (bytes compared unsigned, as RE2
  // orders its range).
  bool may_match(std::string_view s) const noexcept { return !ranged_ || (s >= min_ && s <= max_); }

 private:
  std::string min_, max_;
  bool ranged_ = false;
};

// Whether every match of `pattern` (Go syntax) spans the whole subject: it starts with `^` and
// ends with an unescaped top-level `$`, with no top-level alternation and no flag group (`(?m)`
// would let them match at line breaks). Conservative: patterns it cannot read say false.
bool fully_anchored(std::string_view pattern);

}  // namespace cloister::rego::builtins
