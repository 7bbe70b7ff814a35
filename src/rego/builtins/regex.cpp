// Regular expressions (OPA topdown/regex.go, regex_template.go) on RE2, whose syntax is Go's
// regexp syntax. Iteration over successive matches reproduces Go's rules exactly: an empty match
// right after the previous match is skipped (FindAll), replacement text is not inserted for such a
// match (ReplaceAll), and Split's edge cases follow regexp.Split.
#include <re2/re2.h>

#include "builtins/builtin.h"
#include "builtins/family_util.h"
#include "builtins/regex_pattern.h"
#include "builtins/text.h"

namespace cloister::rego::builtins {

bool fully_anchored(std::string_view p) {
  const std::size_t n = p.size();
  if (n < 2 || p[0] != '^' || p[n - 1] != '$') return false;
  if (std::string_view("*+?{").find(p[1]) != std::string_view::npos) return false;  // `^*`: optional
  int depth = 0;
  for (std::size_t i = 1; i + 1 < n; ++i) {  // everything between the two anchors
    switch (p[i]) {
      case '\\':
        // `\$` at the end is a literal dollar; \Q...\E quotes `|` and `$`.
        if (i + 2 == n || p[i + 1] == 'Q') return false;
        ++i;
        break;
      case '[': {
        std::size_t j = i + 1;
        if (j < n && p[j] == '^') ++j;
        if (j < n && p[j] == ']') ++j;  // a leading `]` is a member
        for (; j < n && p[j] != ']'; ++j) {
          if (p[j] == '\\') ++j;
          else if (p[j] == '[') return false;  // [:alpha:] classes: not worth reading
        }
        if (j + 1 >= n) return false;  // unclosed
        i = j;
        break;
      }
      case '(':
        if (i + 1 < n && p[i + 1] == '?' && !(i + 2 < n && p[i + 2] == ':')) return false;
        ++depth;
        break;
      case ')':
        if (--depth < 0) return false;
        break;
      case '|':
        if (depth == 0) return false;
        break;
      default: break;
    }
  }
  return depth == 0;
}

Regex::Regex(const std::string& pattern, const re2::RE2::Options& options) : re2::RE2(pattern, options) {
  // RE2's range holds for strings the pattern matches whole (an unanchored "abc" gets [abc, abc]),
  // so it can refuse a subject only when every match is the whole subject. 64 bytes of bound are
  // enough to tell genpolicy's patterns apart by their literal prefixes.
  if (ok() && fully_anchored(pattern)) ranged_ = PossibleMatchRange(&min_, &max_, 64);
}

namespace {

BResult<const Regex*> compile(BuiltinContext& ctx, const std::string& pattern) {
  std::string err;
  const Regex* re = ctx.regex ? ctx.regex->get(pattern, &err) : nullptr;
  if (!ctx.regex) return tl::unexpected(builtin_error(ctx, "no regex cache in evaluation context"));
  if (!re) return tl::unexpected(builtin_error(ctx, "error parsing regexp: " + err + ": `" + pattern + "`"));
  return re;
}

// The same for the pattern operand itself (a string value): repeats of one value skip hashing.
BResult<const Regex*> compile(BuiltinContext& ctx, const Value& pattern) {
  std::string err;
  const Regex* re = ctx.regex ? ctx.regex->get(pattern, &err) : nullptr;
  if (!ctx.regex) return tl::unexpected(builtin_error(ctx, "no regex cache in evaluation context"));
  if (!re) return tl::unexpected(builtin_error(ctx, "error parsing regexp: " + err + ": `" + pattern.as_string() + "`"));
  return re;
}

using Groups = std::vector<re2::StringPiece>;

// One search from `pos` with the whole string as context (so ^ and \b see what precedes pos).
bool search(const re2::RE2& re, std::string_view s, std::size_t pos, Groups& g) {
  return re.Match(re2::StringPiece(s.data(), s.size()), pos, s.size(), re2::RE2::UNANCHORED, g.data(),
                  static_cast<int>(g.size()));
}

std::size_t offset(std::string_view s, const re2::StringPiece& p) { return static_cast<std::size_t>(p.data() - s.data()); }

// Go's regexp.allMatches: calls `deliver` for up to n matches (n < 0: all).
template <typename F>
void all_matches(const re2::RE2& re, std::string_view s, std::int64_t n, std::size_t ngroups, F deliver) {
  Groups g(ngroups);
  std::int64_t found = 0;
  std::size_t pos = 0;
  std::int64_t prev_end = -1;
  while ((n < 0 || found < n) && pos <= s.size()) {
    if (!search(re, s, pos, g)) break;
    std::size_t start = offset(s, g[0]);
    std::size_t end = start + g[0].size();
    bool accept = true;
    if (end == pos) {
      if (static_cast<std::int64_t>(start) == prev_end) accept = false;
      pos += pos < s.size() ? text::decode_rune(s, pos).width : 1;
    } else {
      pos = end;
    }
    prev_end = static_cast<std::int64_t>(end);
    if (accept) {
      deliver(g);
      ++found;
    }
  }
}

BuiltinResult is_valid(BuiltinContext& ctx, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::boolean(false);
  std::string err;
  return Value::boolean(ctx.regex && ctx.regex->get(a[0].as_string(), &err) != nullptr);
}

// RE2::PartialMatch without submatches, minus its argument plumbing.
bool partial_match(const Regex& re, const std::string& value) {
  return re.may_match(value) && re.Match(value, 0, value.size(), re2::RE2::UNANCHORED, nullptr, 0);
}

BuiltinResult match(BuiltinContext& ctx, std::span<const Value> a) {
  if (!a[0].is_string()) return tl::unexpected(type_error(ctx, 1, "string", a[0]));
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 1));
  const Regex* re = REGO_ARG(compile(ctx, a[0]));
  return Value::boolean(partial_match(*re, value));
}

// match as a test (BuiltinDef::test): two strings and a pattern that compiles; else `match`
// reports the type or pattern error.
bool match_test(BuiltinContext& ctx, const Value* const* a, bool& holds) {
  if (!a[0]->is_string() || !a[1]->is_string() || !ctx.regex) return false;
  const Regex* re = ctx.regex->get(*a[0]);
  if (!re) return false;
  holds = partial_match(*re, a[1]->as_string());
  return true;
}

BuiltinResult find_n(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& pattern = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 1));
  std::int64_t n = REGO_ARG(arg_int(ctx, a, 2));
  const re2::RE2* re = REGO_ARG(compile(ctx, pattern));
  std::vector<Value> out;
  all_matches(*re, value, n, 1, [&](const Groups& g) { out.push_back(Value::string(std::string(g[0]))); });
  return Value::array(std::move(out));
}

BuiltinResult find_all_submatch(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& pattern = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 1));
  std::int64_t n = REGO_ARG(arg_int(ctx, a, 2));
  const re2::RE2* re = REGO_ARG(compile(ctx, pattern));
  std::vector<Value> out;
  all_matches(*re, value, n, static_cast<std::size_t>(re->NumberOfCapturingGroups()) + 1, [&](const Groups& g) {
    std::vector<Value> row;
    row.reserve(g.size());
    // An unmatched group is "" in Go's FindAllStringSubmatch.
    for (const auto& p : g) row.push_back(Value::string(p.data() ? std::string(p) : std::string()));
    out.push_back(Value::array(std::move(row)));
  });
  return Value::array(std::move(out));
}

BuiltinResult split(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& pattern = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 1));
  const re2::RE2* re = REGO_ARG(compile(ctx, pattern));
  std::vector<Value> out;
  if (!pattern.empty() && s.empty()) {
    out.push_back(Value::string(""));
    return Value::array(std::move(out));
  }
  std::size_t beg = 0, end = 0;
  all_matches(*re, s, -1, 1, [&](const Groups& g) {
    std::size_t ms = offset(s, g[0]);
    end = ms;
    if (ms + g[0].size() != 0) out.push_back(Value::string(s.substr(beg, end - beg)));
    beg = ms + g[0].size();
  });
  if (end != s.size()) out.push_back(Value::string(s.substr(beg)));
  return Value::array(std::move(out));
}

// Go's Regexp.expand for ReplaceAllString: $name / ${name}, $$ for a dollar; an unknown or
// malformed reference expands to nothing.
void expand(std::string& out, std::string_view tmpl, const re2::RE2& re, std::string_view s, const Groups& g) {
  auto is_name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '$') {
      out.push_back(tmpl[i++]);
      continue;
    }
    ++i;
    if (i < tmpl.size() && tmpl[i] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    std::string_view name;
    std::size_t after = i;
    if (i < tmpl.size() && tmpl[i] == '{') {
      std::size_t j = i + 1;
      while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
      if (j < tmpl.size() && tmpl[j] == '}' && j > i + 1) {
        name = tmpl.substr(i + 1, j - i - 1);
        after = j + 1;
      }
    } else {
      std::size_t j = i;
      while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
      if (j > i) {
        name = tmpl.substr(i, j - i);
        after = j;
      }
    }
    if (name.empty()) {
      out.push_back('$');  // malformed: Go copies the '$' literally
      continue;
    }
    i = after;
    int idx = -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      if (name.size() < 9) idx = std::stoi(std::string(name));
    } else {
      const auto& names = re.NamedCapturingGroups();
      auto it = names.find(std::string(name));
      if (it != names.end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<std::size_t>(idx) < g.size() && g[static_cast<std::size_t>(idx)].data())
      out.append(s.substr(offset(s, g[static_cast<std::size_t>(idx)]), g[static_cast<std::size_t>(idx)].size()));
  }
}

BuiltinResult replace(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& pattern = *REGO_ARG(arg_string(ctx, a, 1));
  const std::string& repl = *REGO_ARG(arg_string(ctx, a, 2));
  const re2::RE2* re = REGO_ARG(compile(ctx, pattern));
  Groups g(static_cast<std::size_t>(re->NumberOfCapturingGroups()) + 1);
  std::string out;
  std::size_t last_end = 0, pos = 0;
  while (pos <= s.size()) {
    if (!search(*re, s, pos, g)) break;
    std::size_t ms = offset(s, g[0]);
    std::size_t me = ms + g[0].size();
    out.append(s, last_end, ms - last_end);
    if (me > last_end || ms == 0) expand(out, repl, *re, s, g);
    last_end = me;
    std::size_t width = pos < s.size() ? text::decode_rune(s, pos).width : 0;
    if (pos + width > me) {
      pos += width;
    } else if (pos + 1 > me) {
      ++pos;
    } else {
      pos = me;
    }
  }
  out.append(s, last_end, std::string::npos);
  return Value::string(std::move(out));
}

// regexp.QuoteMeta: escapes exactly Go's special characters.
std::string go_quote_meta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

BuiltinResult template_match(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& tpl = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 1));
  const std::string& ds = *REGO_ARG(arg_string(ctx, a, 2));
  const std::string& de = *REGO_ARG(arg_string(ctx, a, 3));
  if (ds.empty() || de.empty()) return tl::unexpected(builtin_error(ctx, "delimiters must not be empty"));
  // First-level delimiter pairs; unbalanced ones are an error (regex_template.go).
  std::vector<std::size_t> idxs;
  int level = 0;
  std::size_t idx = 0;
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] == ds[0]) {
      if (++level == 1) idx = i;
    } else if (tpl[i] == de[0]) {
      if (--level == 0) {
        idxs.push_back(idx);
        idxs.push_back(i + 1);
      } else if (level < 0) {
        break;
      }
    }
  }
  if (level != 0) return tl::unexpected(builtin_error(ctx, "unbalanced braces in \"" + tpl + "\""));
  std::string pattern = "^";
  std::size_t end = 0;
  for (std::size_t i = 0; i < idxs.size(); i += 2) {
    pattern += go_quote_meta(std::string_view(tpl).substr(end, idxs[i] - end));
    end = idxs[i + 1];
    std::string part = tpl.substr(idxs[i] + 1, end - 1 - (idxs[i] + 1));
    REGO_ARG(compile(ctx, "^" + part + "$"));
    pattern += "(" + part + ")";
  }
  pattern += go_quote_meta(std::string_view(tpl).substr(end));
  pattern += "$";
  const re2::RE2* re = REGO_ARG(compile(ctx, pattern));
  return Value::boolean(re2::RE2::PartialMatch(value, *re));
}

}  // namespace

void register_regex(Registry& r) {
  r.add({"regex.is_valid", 1, is_valid});
  r.add({"regex.match", 2, match, true, nullptr, match_test});
  r.add({"re_match", 2, match});
  r.add({"regex.find_n", 3, find_n});
  r.add({"regex.find_all_string_submatch_n", 3, find_all_submatch});
  r.add({"regex.split", 2, split});
  r.add({"regex.replace", 3, replace});
  r.add({"regex.template_match", 4, template_match});
}

}  // namespace cloister::rego::builtins
