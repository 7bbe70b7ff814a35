// Globs (OPA topdown/glob.go on gobwas/glob; regex.globs_match on yashtewari/glob-intersection).
//
// glob.match compiles the glob into an anchored RE2 pattern: `*` is any run of non-delimiter
// characters, `**` any run at all, `?` one non-delimiter character, `[...]`/`[!...]` classes,
// `{a,b}` alternatives, `\` escapes. Delimiters default to "." for an empty array; null means none.
//
// regex.globs_match decides whether two simplified regexes (`.`, `[...]`, `*`, `+`, `\`) can
// match a common string, by searching the product of their token automata.
#include <re2/re2.h>

#include <deque>

#include "builtins/builtin.h"
#include "builtins/regex_pattern.h"
#include "builtins/family_util.h"
#include "builtins/text.h"

namespace cloister::rego::builtins {
namespace {

void append_quoted_rune(std::string& out, char32_t r) {
  std::string s;
  text::append_rune(s, r);
  out += re2::RE2::QuoteMeta(s);
}

std::string delimiter_class(const std::vector<char32_t>& delims, bool negate) {
  std::string out = negate ? "[^" : "[";
  for (char32_t d : delims) {
    std::string s;
    text::append_rune(s, d);
    if (d == ']' || d == '\\' || d == '^' || d == '-' || d == '[') out.push_back('\\');
    out += s;
  }
  out += "]";
  return out;
}

// Translates a gobwas glob into RE2 syntax; false on a malformed glob.
bool glob_to_regex(std::string_view g, const std::vector<char32_t>& delims, std::string& out, std::string& err) {
  auto runes = text::runes(g);
  const std::string any_but_delims = delims.empty() ? "(?s:.)" : delimiter_class(delims, true);
  int brace_depth = 0;
  out = "(?s)^";
  for (std::size_t i = 0; i < runes.size(); ++i) {
    char32_t r = runes[i];
    switch (r) {
      case '\\':
        if (i + 1 >= runes.size()) {
          err = "unexpected end of input after escape";
          return false;
        }
        append_quoted_rune(out, runes[++i]);
        break;
      case '*':
        if (i + 1 < runes.size() && runes[i + 1] == '*') {
          out += ".*";
          ++i;
        } else {
          out += any_but_delims + "*";
        }
        break;
      case '?': out += any_but_delims; break;
      case '[': {
        std::size_t j = i + 1;
        bool neg = j < runes.size() && runes[j] == '!';
        if (neg) ++j;
        std::string cls = neg ? "[^" : "[";
        bool closed = false;
        for (; j < runes.size(); ++j) {
          if (runes[j] == ']') {
            closed = true;
            break;
          }
          if (runes[j] == '-') {
            cls += "-";
            continue;
          }
          char32_t c = runes[j];
          if (c == '\\' && j + 1 < runes.size()) c = runes[++j];
          std::string s;
          text::append_rune(s, c);
          if (c == ']' || c == '\\' || c == '^' || c == '[' || c == '-') cls.push_back('\\');
          cls += s;
        }
        if (!closed) {
          err = "unexpected end of input in character class";
          return false;
        }
        out += cls + "]";
        i = j;
        break;
      }
      case '{':
        ++brace_depth;
        out += "(?:";
        break;
      case '}':
        if (brace_depth == 0) {
          err = "unexpected '}'";
          return false;
        }
        --brace_depth;
        out += ")";
        break;
      case ',':
        if (brace_depth > 0) {
          out += "|";
        } else {
          out += ",";
        }
        break;
      default: append_quoted_rune(out, r);
    }
  }
  if (brace_depth != 0) {
    err = "unexpected end of input in alternatives";
    return false;
  }
  out += "$";
  return true;
}

BuiltinResult glob_match(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& pattern = *REGO_ARG(arg_string(ctx, a, 0));
  std::vector<char32_t> delims;
  if (a[1].is_null()) {
    // null: no delimiters, `*` crosses everything.
  } else if (a[1].is_array()) {
    for (const auto& d : a[1].array_items()) {
      if (!d.is_string()) return tl::unexpected(element_error(ctx, 2, a[1], "string", d));
      for (char32_t r : text::runes(d.as_string())) delims.push_back(r);
    }
    if (a[1].array_items().empty()) delims.push_back('.');
  } else {
    return tl::unexpected(type_error(ctx, 2, "one of {array, null}", a[1]));
  }
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 2));
  std::string re_text, err;
  if (!glob_to_regex(pattern, delims, re_text, err)) return tl::unexpected(builtin_error(ctx, err));
  std::string cerr;
  const re2::RE2* re = ctx.regex ? ctx.regex->get(re_text, &cerr) : nullptr;
  if (!re) return tl::unexpected(builtin_error(ctx, "invalid glob: " + pattern));
  return Value::boolean(re2::RE2::FullMatch(value, *re));
}

BuiltinResult quote_meta(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::string out;
  for (char c : s) {
    if (std::string_view("*,?\\[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return Value::string(std::move(out));
}

// ---- regex.globs_match ----

struct CharSet {
  bool negated = false;  // true: every rune except `ranges`
  std::vector<std::pair<char32_t, char32_t>> ranges;
};

struct Token {
  CharSet set;
  bool star = false;  // zero or more (a `+` becomes one token plus a starred copy)
};

bool covered(char32_t c, const CharSet& s) {
  for (auto [lo, hi] : s.ranges)
    if (c >= lo && c <= hi) return true;
  return false;
}

// Whether some rune lies in both sets.
bool intersects(const CharSet& a, const CharSet& b) {
  if (a.negated && b.negated) return true;  // two co-finite sets of runes always meet
  if (a.negated || b.negated) {
    const CharSet& pos = a.negated ? b : a;
    const CharSet& neg = a.negated ? a : b;
    for (auto [lo, hi] : pos.ranges) {
      // Candidates: the range start and the rune after each excluded range inside it.
      if (!covered(lo, neg)) return true;
      for (auto [nlo, nhi] : neg.ranges)
        if (nhi >= lo && nhi < hi && !covered(nhi + 1, neg)) return true;
    }
    return false;
  }
  for (auto [alo, ahi] : a.ranges)
    for (auto [blo, bhi] : b.ranges)
      if (alo <= bhi && blo <= ahi) return true;
  return false;
}

bool parse_glob_regex(const std::string& in, std::vector<Token>& out, std::string& err) {
  auto runes = text::runes(in);
  auto fail = [&](std::size_t pos, const std::string& msg) {
    err = "input:" + in + ", pos:" + std::to_string(pos + 1) + ", " + msg + ": the input provided is invalid";
    return false;
  };
  for (std::size_t i = 0; i < runes.size(); ++i) {
    char32_t r = runes[i];
    if (r == '*' || r == '+') {
      if (out.empty() || out.back().star) return fail(i, "modifier with no preceding element");
      if (r == '*') {
        out.back().star = true;
      } else {
        Token t = out.back();
        t.star = true;
        out.push_back(t);
      }
      continue;
    }
    Token t;
    if (r == ']') return fail(i, "set-close ']' with no preceding '['");
    if (r == '.') {
      t.set.negated = true;
    } else if (r == '\\') {
      if (i + 1 >= runes.size()) return fail(i, "escape at end of input");
      char32_t c = runes[++i];
      t.set.ranges.emplace_back(c, c);
    } else if (r == '[') {
      std::size_t j = i + 1;
      if (j < runes.size() && runes[j] == '^') {
        t.set.negated = true;
        ++j;
      }
      bool closed = false;
      for (; j < runes.size(); ++j) {
        char32_t c = runes[j];
        if (c == ']') {
          closed = true;
          break;
        }
        if (c == '[') return fail(j, "set-open '[' inside a set");
        if (c == '\\' && j + 1 < runes.size()) c = runes[++j];
        char32_t hi = c;
        if (j + 2 < runes.size() && runes[j + 1] == '-' && runes[j + 2] != ']') {
          hi = runes[j + 2];
          j += 2;
          if (hi < c) return fail(j, "range with end before start");
        }
        t.set.ranges.emplace_back(c, hi);
      }
      if (!closed) return fail(runes.size() - 1, "set-open '[' with no closing ']'");
      i = j;
    } else {
      t.set.ranges.emplace_back(r, r);
    }
    out.push_back(std::move(t));
  }
  return true;
}

bool globs_intersect(const std::vector<Token>& a, const std::vector<Token>& b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<char> seen((n + 1) * (m + 1), 0);
  std::deque<std::pair<std::size_t, std::size_t>> queue;
  auto push = [&](std::size_t i, std::size_t j) {
    char& s = seen[i * (m + 1) + j];
    if (!s) {
      s = 1;
      queue.emplace_back(i, j);
    }
  };
  push(0, 0);
  while (!queue.empty()) {
    auto [i, j] = queue.front();
    queue.pop_front();
    if (i == n && j == m) return true;
    if (i < n && a[i].star) push(i + 1, j);
    if (j < m && b[j].star) push(i, j + 1);
    if (i < n && j < m && intersects(a[i].set, b[j].set)) push(a[i].star ? i : i + 1, b[j].star ? j : j + 1);
  }
  return false;
}

BuiltinResult globs_match(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& g1 = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& g2 = *REGO_ARG(arg_string(ctx, a, 1));
  std::vector<Token> t1, t2;
  std::string err;
  if (!parse_glob_regex(g1, t1, err) || !parse_glob_regex(g2, t2, err))
    return tl::unexpected(builtin_error(ctx, err));
  return Value::boolean(globs_intersect(t1, t2));
}

}  // namespace

void register_glob(Registry& r) {
  r.add({"glob.match", 3, glob_match});
  r.add({"glob.quote_meta", 1, quote_meta});
  r.add({"regex.globs_match", 2, globs_match});
}

}  // namespace cloister::rego::builtins
