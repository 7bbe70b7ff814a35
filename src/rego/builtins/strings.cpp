// Strings (OPA topdown/strings.go): concat, split, replace, trim*, case, substring, indexof,
// format_int, strings.*. Semantics follow Go's strings package, which OPA calls directly: indices
// and lengths count runes, cutsets are sets of runes, an empty separator splits into runes.
#include <algorithm>
#include <clocale>
#include <cwctype>
#include <locale.h>

#include "builtins/builtin.h"
#include "builtins/family_util.h"
#include "builtins/text.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

using text::append_rune;
using text::decode_rune;

// Collects the strings of an array or set argument; OPA's element error otherwise.
BResult<std::vector<std::string_view>> string_elements(const BuiltinContext& ctx, std::span<const Value> a,
                                                       std::size_t i) {
  const auto* items = REGO_ARG(arg_array_or_set(ctx, a, i));
  std::vector<std::string_view> out;
  out.reserve(items->size());
  for (const auto& x : *items) {
    if (!x.is_string()) return tl::unexpected(element_error(ctx, i + 1, a[i], "string", x));
    out.push_back(x.as_string());
  }
  return out;
}

BuiltinResult concat(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& delim = *REGO_ARG(arg_string(ctx, a, 0));
  auto parts = REGO_ARG(string_elements(ctx, a, 1));
  std::string out;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (k) out += delim;
    out += parts[k];
  }
  return Value::string(std::move(out));
}

std::vector<Value> split_runes(std::string_view s) {
  std::vector<Value> out;
  for (std::size_t i = 0; i < s.size();) {
    auto d = decode_rune(s, i);
    out.push_back(Value::string(std::string(s.substr(i, d.width))));
    i += d.width;
  }
  return out;
}

BuiltinResult split(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& sep = *REGO_ARG(arg_string(ctx, a, 1));
  if (sep.empty()) return Value::array(split_runes(s));
  std::vector<Value> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string::npos) break;
    out.push_back(Value::string(s.substr(start, pos - start)));
    start = pos + sep.size();
  }
  out.push_back(Value::string(s.substr(start)));
  return Value::array(std::move(out));
}

// Go's strings.Replace with n < 0: an empty `old` matches before every rune and at the end.
std::string replace_all(std::string_view s, std::string_view old, std::string_view with) {
  std::string out;
  if (old.empty()) {
    for (std::size_t i = 0; i < s.size();) {
      out += with;
      auto w = decode_rune(s, i).width;
      out += s.substr(i, w);
      i += w;
    }
    out += with;
    return out;
  }
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(old, start);
    if (pos == std::string_view::npos) break;
    out += s.substr(start, pos - start);
    out += with;
    start = pos + old.size();
  }
  out += s.substr(start);
  return out;
}

BuiltinResult replace(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& old = *REGO_ARG(arg_string(ctx, a, 1));
  const std::string& with = *REGO_ARG(arg_string(ctx, a, 2));
  return Value::string(replace_all(s, old, with));
}

// strings.replace_n uses Go's strings.NewReplacer: at each position the first pattern (in key
// order) that matches wins, and replaced text is never rescanned.
BuiltinResult replace_n(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  std::vector<std::pair<std::string_view, std::string_view>> pats;
  for (const auto& [k, v] : a[0].object_entries()) {
    if (!k.is_string()) return tl::unexpected(type_error_msg(ctx, "operand 1 non-string key found in pattern object"));
    if (!v.is_string())
      return tl::unexpected(type_error_msg(ctx, "operand 1 non-string value found in pattern object"));
    pats.emplace_back(k.as_string(), v.as_string());
  }
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 1));
  std::string out;
  std::size_t i = 0;
  while (i <= s.size()) {
    bool matched = false;
    for (const auto& [old, with] : pats) {
      if (old.empty()) continue;
      if (s.compare(i, old.size(), old) == 0) {
        out += with;
        i += old.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (i == s.size()) break;
    out.push_back(s[i]);
    ++i;
  }
  return Value::string(std::move(out));
}

template <int Which>  // 0 startswith, 1 endswith, 2 contains
bool has_affix(std::string_view s, std::string_view t) {
  return Which == 0 ? s.starts_with(t) : Which == 1 ? s.ends_with(t) : s.find(t) != std::string_view::npos;
}

template <int Which>
BuiltinResult affix(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& t = *REGO_ARG(arg_string(ctx, a, 1));
  return Value::boolean(has_affix<Which>(s, t));
}

template <int Which>  // affix as a test (BuiltinDef::test): strings only, the rest to affix
bool affix_test(BuiltinContext&, const Value* const* a, bool& holds) {
  if (!a[0]->is_string() || !a[1]->is_string()) return false;
  holds = has_affix<Which>(a[0]->as_string(), a[1]->as_string());
  return true;
}

// strings.any_prefix_match / any_suffix_match: each operand is a string or a collection of them.
BResult<std::vector<std::string_view>> string_or_strings(const BuiltinContext& ctx, std::span<const Value> a,
                                                         std::size_t i) {
  if (a[i].is_string()) return std::vector<std::string_view>{a[i].as_string()};
  if (!a[i].is_array() && !a[i].is_set())
    return tl::unexpected(type_error(ctx, i + 1, "one of {string, set, array}", a[i]));
  return string_elements(ctx, a, i);
}

template <bool Prefix>
BuiltinResult any_match(BuiltinContext& ctx, std::span<const Value> a) {
  auto strs = REGO_ARG(string_or_strings(ctx, a, 0));
  auto fixes = REGO_ARG(string_or_strings(ctx, a, 1));
  for (auto s : strs)
    for (auto f : fixes)
      if (Prefix ? s.starts_with(f) : s.ends_with(f)) return Value::boolean(true);
  return Value::boolean(false);
}

bool in_cutset(char32_t r, const std::vector<char32_t>& cut) {
  return std::find(cut.begin(), cut.end(), r) != cut.end();
}

// Byte offset after the leading runes of s that satisfy `pred`.
template <typename Pred>
std::size_t left_edge(std::string_view s, Pred pred) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto d = decode_rune(s, i);
    if (!pred(d.rune)) break;
    i += d.width;
  }
  return i;
}

// Byte offset where the trailing runes of s that satisfy `pred` begin.
template <typename Pred>
std::size_t right_edge(std::string_view s, Pred pred) {
  // Decode forwards and remember where the final run of matching runes started.
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto d = decode_rune(s, i);
    i += d.width;
    if (!pred(d.rune)) end = i;
  }
  return end;
}

template <bool Left, bool Right>
BuiltinResult trim_cutset(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& cutset = *REGO_ARG(arg_string(ctx, a, 1));
  auto cut = text::runes(cutset);
  auto pred = [&](char32_t r) { return in_cutset(r, cut); };
  std::string_view sv(s);
  if (Left) sv.remove_prefix(left_edge(sv, pred));
  if (Right) sv = sv.substr(0, right_edge(sv, pred));
  return Value::string(std::string(sv));
}

template <bool Prefix>
BuiltinResult trim_affix(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& t = *REGO_ARG(arg_string(ctx, a, 1));
  std::string_view sv(s);
  if (Prefix && sv.starts_with(t)) sv.remove_prefix(t.size());
  if (!Prefix && sv.ends_with(t)) sv.remove_suffix(t.size());
  return Value::string(std::string(sv));
}

// Go's unicode.IsSpace.
bool is_go_space(char32_t r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default: return r >= 0x2000 && r <= 0x200A;
  }
}

BuiltinResult trim_space(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::string_view sv(s);
  sv.remove_prefix(left_edge(sv, is_go_space));
  sv = sv.substr(0, right_edge(sv, is_go_space));
  return Value::string(std::string(sv));
}

// Unicode simple case mapping through glibc's C.UTF-8 tables; the locale object is created
// once and only read afterwards (no global locale is switched).
locale_t utf8_locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

template <bool Upper>
BuiltinResult change_case(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  locale_t loc = utf8_locale();
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto d = decode_rune(s, i);
    char32_t r = d.rune;
    if (r < 0x80) {
      if (Upper && r >= 'a' && r <= 'z') r -= 32;
      if (!Upper && r >= 'A' && r <= 'Z') r += 32;
      out.push_back(static_cast<char>(r));
    } else if (d.width == 1) {
      append_rune(out, text::kReplacement);  // Go's strings.Map writes U+FFFD for an invalid byte
    } else {
      if (loc) r = static_cast<char32_t>(Upper ? towupper_l(static_cast<wint_t>(r), loc)
                                                : towlower_l(static_cast<wint_t>(r), loc));
      append_rune(out, r);
    }
    i += d.width;
  }
  return Value::string(std::move(out));
}

BuiltinResult substring(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::int64_t start = REGO_ARG(arg_int(ctx, a, 1));
  std::int64_t length = REGO_ARG(arg_int(ctx, a, 2));
  if (start < 0) return tl::unexpected(builtin_error(ctx, "negative offset"));
  // Walk runes to byte offsets; ASCII-only strings take the same path cheaply.
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < s.size() && n < start) {
    i += decode_rune(s, i).width;
    ++n;
  }
  if (n < start || i >= s.size()) return Value::string("");
  if (length < 0) return Value::string(s.substr(i));
  std::size_t j = i;
  std::int64_t m = 0;
  while (j < s.size() && m < length) {
    j += decode_rune(s, j).width;
    ++m;
  }
  return Value::string(s.substr(i, j - i));
}

BuiltinResult indexof(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& t = *REGO_ARG(arg_string(ctx, a, 1));
  if (t.empty()) return tl::unexpected(builtin_error(ctx, "empty search character"));  // OPA builtinIndexOf
  auto pos = s.find(t);
  if (pos == std::string::npos) return Value::integer(-1);
  return Value::integer(static_cast<std::int64_t>(text::rune_count(std::string_view(s).substr(0, pos))));
}

BuiltinResult indexof_n(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& t = *REGO_ARG(arg_string(ctx, a, 1));
  std::vector<Value> out;
  if (t.empty()) return tl::unexpected(builtin_error(ctx, "empty search character"));  // OPA builtinIndexOfN
  std::size_t runes_before = 0, scanned = 0;
  for (std::size_t pos = s.find(t); pos != std::string::npos; pos = s.find(t, pos + 1)) {
    runes_before += text::rune_count(std::string_view(s).substr(scanned, pos - scanned));
    scanned = pos;
    out.push_back(Value::integer(static_cast<std::int64_t>(runes_before)));
  }
  return Value::array(std::move(out));
}

BuiltinResult count_substr(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& t = *REGO_ARG(arg_string(ctx, a, 1));
  if (t.empty()) return Value::integer(static_cast<std::int64_t>(text::rune_count(s) + 1));
  std::int64_t n = 0;
  for (std::size_t pos = s.find(t); pos != std::string::npos; pos = s.find(t, pos + t.size())) ++n;
  return Value::integer(n);
}

BuiltinResult reverse(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  auto rs = text::runes(s);
  std::string out;
  out.reserve(s.size());
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) append_rune(out, *it);
  return Value::string(std::move(out));
}

BuiltinResult format_int(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& num = *REGO_ARG(arg_number(ctx, a, 0));
  const Value& base_v = *REGO_ARG(arg_number(ctx, a, 1));
  std::int64_t base = 0;
  if (!base_v.to_int64(base) || (base != 2 && base != 8 && base != 10 && base != 16))
    return tl::unexpected(operand_error(ctx, 2, "one of {2, 8, 10, 16}"));
  // OPA truncates toward zero (big.Float.Int).
  mpz_class z;
  if (num.is_integral()) {
    z = to_mpz(num);
  } else {
    z = mpz_class(std::trunc(num.to_double()));
  }
  return Value::string(z.get_str(static_cast<int>(base)));
}

}  // namespace

void register_strings(Registry& r) {
  r.add({"concat", 2, concat});
  r.add({"split", 2, split});
  r.add({"replace", 3, replace});
  r.add({"strings.replace_n", 2, replace_n});
  r.add({"startswith", 2, affix<0>, true, nullptr, affix_test<0>});
  r.add({"endswith", 2, affix<1>, true, nullptr, affix_test<1>});
  r.add({"contains", 2, affix<2>, true, nullptr, affix_test<2>});
  r.add({"strings.any_prefix_match", 2, any_match<true>});
  r.add({"strings.any_suffix_match", 2, any_match<false>});
  r.add({"trim", 2, trim_cutset<true, true>});
  r.add({"trim_left", 2, trim_cutset<true, false>});
  r.add({"trim_right", 2, trim_cutset<false, true>});
  r.add({"trim_prefix", 2, trim_affix<true>});
  r.add({"trim_suffix", 2, trim_affix<false>});
  r.add({"trim_space", 1, trim_space});
  r.add({"lower", 1, change_case<false>});
  r.add({"upper", 1, change_case<true>});
  r.add({"substring", 3, substring});
  r.add({"indexof", 2, indexof});
  r.add({"indexof_n", 2, indexof_n});
  r.add({"strings.count", 2, count_substr});
  r.add({"strings.reverse", 1, reverse});
  r.add({"format_int", 2, format_int});
}

}  // namespace cloister::rego::builtins
