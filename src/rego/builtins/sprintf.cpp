// sprintf with Go's fmt semantics (OPA topdown/strings.go builtinSprintf hands its operands to
// fmt.Sprintf). OPA converts each operand before formatting: a number fitting int64 becomes a Go
// int, a larger integer a *big.Int, any other number a float64, a string stays a string, and every
// other value becomes its Rego text (a string). The Go verbs, flags, width/precision and the
// "%!verb(type=value)" / "%!d(MISSING)" / "%!(EXTRA ...)" diagnostics are reproduced for those
// four operand types.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <variant>

#include <gmpxx.h>

#include "builtins/builtin.h"
#include "builtins/text.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

using Arg = std::variant<std::int64_t, mpz_class, double, std::string>;

Arg convert(const Value& v) {
  if (v.is_number()) {
    std::int64_t i;
    if (v.is_int()) return v.as_int();
    if (v.is_big()) {
      // A literal beyond the double range (2e308): OPA's big.Int and float64 conversions both
      // fail on its text, which it then formats as a string.
      if (!v.big_node()->text.empty()) return v.big_node()->text;
      return to_mpz(v);
    }
    if (v.to_int64(i) && v.is_float() && std::fabs(v.as_float()) < 9.2e18) {
      // A float-typed integral value is printed by OPA from its text ("3" for 3.0), so Int() succeeds.
      return i;
    }
    return v.to_double();
  }
  if (v.is_string()) return v.as_string();
  return to_rego_string(v);
}

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1;
  int prec = -1;
};

void pad(std::string& out, std::string_view body, const Spec& sp, bool numeric_zero_ok = true) {
  int n = static_cast<int>(text::rune_count(body));
  if (sp.width <= n) {
    out += body;
    return;
  }
  std::size_t fill = static_cast<std::size_t>(sp.width - n);
  if (sp.minus) {
    out += body;
    out.append(fill, ' ');
  } else if (sp.zero && numeric_zero_ok) {
    // Zero padding goes after the sign.
    std::size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    out += body.substr(0, sign);
    out.append(fill, '0');
    out += body.substr(sign);
  } else {
    out.append(fill, ' ');
    out += body;
  }
}

// Shortest round-trip digits and decimal exponent of |d| (d finite, non-zero).
void shortest_digits(double d, std::string& digits, int& exp10) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  (void)ec;
  std::string s(buf, p);
  auto e = s.find('e');
  digits.clear();
  for (std::size_t k = 0; k < e; ++k)
    if (s[k] != '.') digits.push_back(s[k]);
  exp10 = std::stoi(s.substr(e + 1));
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
}

// Go's %e/%g exponent: sign and at least two digits.
std::string go_exp(int e, char letter) {
  std::string out(1, letter);
  out.push_back(e < 0 ? '-' : '+');
  std::string ds = std::to_string(e < 0 ? -e : e);
  if (ds.size() < 2) ds.insert(0, "0");
  return out + ds;
}

// strconv.FormatFloat(d, 'g', -1, 64), which %v and %g use: the shortest digits, in exponent form
// when the exponent is < -4 or >= 6 (strconv ftoa.go: "use precision 6 for this decision").
std::string format_g_shortest(double d, char letter) {
  constexpr int eprec = 6;
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  std::string digits;
  int exp10 = 0;
  shortest_digits(d, digits, exp10);
  std::string out = std::signbit(d) ? "-" : "";
  if (exp10 < -4 || exp10 >= eprec) {
    out += digits[0];
    if (digits.size() > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    return out + go_exp(exp10, letter);
  }
  if (exp10 < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp10 - 1), '0');
    out += digits;
  } else if (static_cast<int>(digits.size()) <= exp10 + 1) {
    out += digits;
    out.append(static_cast<std::size_t>(exp10 + 1) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<std::size_t>(exp10 + 1));
    out.push_back('.');
    out += digits.substr(static_cast<std::size_t>(exp10 + 1));
  }
  return out;
}

std::string with_sign(std::string body, bool negative, const Spec& sp) {
  if (negative) return "-" + body;
  if (sp.plus) return "+" + body;
  if (sp.space) return " " + body;
  return body;
}

bool format_float(std::string& out, double d, char verb, const Spec& sp) {
  if (std::isinf(d) || std::isnan(d)) {
    pad(out, std::isnan(d) ? "NaN" : (d < 0 ? "-Inf" : "+Inf"), sp, false);
    return true;
  }
  std::string body;
  bool neg = std::signbit(d);
  double ad = std::fabs(d);
  switch (verb) {
    case 'v':
    case 'g':
    case 'G': {
      char letter = verb == 'G' ? 'E' : 'e';
      if (sp.prec < 0) {
        body = format_g_shortest(ad, letter);
      } else {
        char fmt[16];
        std::snprintf(fmt, sizeof fmt, "%%.%d%c", sp.prec == 0 ? 1 : sp.prec, verb == 'G' ? 'G' : 'g');
        char buf[512];
        std::snprintf(buf, sizeof buf, fmt, ad);
        body = buf;
      }
      break;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F': {
      char fmt[16];
      std::snprintf(fmt, sizeof fmt, "%%.%d%c", sp.prec < 0 ? 6 : sp.prec, verb == 'F' ? 'f' : verb);
      std::vector<char> buf(512 + (ad > 1e300 ? 400 : 0) + static_cast<std::size_t>(sp.prec < 0 ? 0 : sp.prec));
      std::snprintf(buf.data(), buf.size(), fmt, ad);
      body = buf.data();
      break;
    }
    default: return false;
  }
  pad(out, with_sign(body, neg, sp), sp);
  return true;
}

bool format_integer(std::string& out, const mpz_class& z, char verb, const Spec& sp) {
  int base = 10;
  std::string prefix;
  switch (verb) {
    case 'v':
    case 'd': break;
    case 'b': base = 2; if (sp.sharp) prefix = "0b"; break;
    case 'o': base = 8; if (sp.sharp) prefix = "0"; break;
    case 'O': base = 8; prefix = "0o"; break;
    case 'x': base = 16; if (sp.sharp) prefix = "0x"; break;
    case 'X': base = -16; if (sp.sharp) prefix = "0X"; break;
    case 'c':
    case 'q':
    case 'U': {
      if (!z.fits_slong_p()) return false;
      long r = z.get_si();
      char32_t cp = (r < 0 || r > 0x10FFFF) ? text::kReplacement : static_cast<char32_t>(r);
      std::string body;
      if (verb == 'c') {
        text::append_rune(body, cp);
      } else if (verb == 'q') {
        std::string s;
        text::append_rune(s, cp);
        body = "'" + (cp == '\'' ? std::string("\\'") : text::go_quote(s).substr(1, text::go_quote(s).size() - 2)) + "'";
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "U+%04lX", r);
        body = buf;
      }
      pad(out, body, sp, false);
      return true;
    }
    default: return false;
  }
  mpz_class a = abs(z);
  std::string digits = a.get_str(base);
  if (sp.prec >= 0) {
    if (sp.prec == 0 && a == 0) digits.clear();
    if (static_cast<int>(digits.size()) < sp.prec) digits.insert(0, static_cast<std::size_t>(sp.prec) - digits.size(), '0');
  }
  std::string body = with_sign(prefix + digits, z < 0, sp);
  // Go ignores the 0 flag when a precision is given.
  Spec s2 = sp;
  if (sp.prec >= 0) s2.zero = false;
  if (s2.zero && !s2.minus && s2.width > static_cast<int>(body.size()) && !prefix.empty()) {
    std::size_t sign = (z < 0 || sp.plus || sp.space) ? 1 : 0;
    std::string padded = body.substr(0, sign) + prefix;
    padded.append(static_cast<std::size_t>(s2.width) - body.size(), '0');
    padded += digits;
    out += padded;
    return true;
  }
  pad(out, body, s2);
  return true;
}

bool format_string(std::string& out, const std::string& s, char verb, const Spec& sp) {
  switch (verb) {
    case 'v':
    case 's': {
      if (sp.prec >= 0) {
        std::size_t i = 0;
        for (int n = 0; n < sp.prec && i < s.size(); ++n) i += text::decode_rune(s, i).width;
        pad(out, std::string_view(s).substr(0, i), sp);
      } else {
        pad(out, s, sp);
      }
      return true;
    }
    case 'q': pad(out, text::go_quote(s), sp); return true;
    case 'x':
    case 'X': {
      const char* hex = verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
      std::string body;
      std::size_t n = s.size();
      if (sp.prec >= 0 && static_cast<std::size_t>(sp.prec) < n) n = static_cast<std::size_t>(sp.prec);
      for (std::size_t k = 0; k < n; ++k) {
        if (k && sp.space) body.push_back(' ');
        if (sp.sharp && (k == 0 || sp.space)) body += verb == 'x' ? "0x" : "0X";
        body.push_back(hex[static_cast<unsigned char>(s[k]) >> 4]);
        body.push_back(hex[static_cast<unsigned char>(s[k]) & 15]);
      }
      pad(out, body, sp);
      return true;
    }
    default: return false;
  }
}

std::string go_type(const Arg& a) {
  switch (a.index()) {
    case 0: return "int";
    case 1: return "*big.Int";
    case 2: return "float64";
    default: return "string";
  }
}

std::string plain(const Arg& a) {
  std::string out;
  Spec none;
  if (const auto* i = std::get_if<std::int64_t>(&a)) return std::to_string(*i);
  if (const auto* z = std::get_if<mpz_class>(&a)) return z->get_str();
  if (const auto* d = std::get_if<double>(&a)) {
    format_float(out, *d, 'g', none);
    return out;
  }
  return std::get<std::string>(a);
}

void format_arg(std::string& out, const Arg& a, char verb, const Spec& sp) {
  bool ok = false;
  if (verb == 'T') {
    pad(out, go_type(a), sp, false);
    return;
  }
  if (const auto* i = std::get_if<std::int64_t>(&a)) {
    ok = format_integer(out, mpz_class(static_cast<long>(*i)), verb, sp);
  } else if (const auto* z = std::get_if<mpz_class>(&a)) {
    // *big.Int implements fmt.Formatter, which also accepts %s.
    ok = format_integer(out, *z, verb == 's' ? 'd' : verb, sp);
  } else if (const auto* d = std::get_if<double>(&a)) {
    ok = format_float(out, *d, verb, sp);
  } else {
    ok = format_string(out, std::get<std::string>(a), verb, sp);
  }
  if (!ok) {
    out += "%!";
    text::append_rune(out, static_cast<unsigned char>(verb));
    out += "(" + go_type(a) + "=" + plain(a) + ")";
  }
}

BuiltinResult sprintf(BuiltinContext& ctx, std::span<const Value> args) {
  const std::string& format = *REGO_ARG(arg_string(ctx, args, 0));
  const Value& arr = *REGO_ARG(arg_kind(ctx, args, 1, Kind::Array));
  std::vector<Arg> vals;
  vals.reserve(arr.array_items().size());
  for (const auto& v : arr.array_items()) vals.push_back(convert(v));

  std::string out;
  std::size_t argi = 0;
  const std::size_t n = format.size();
  for (std::size_t i = 0; i < n;) {
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    Spec sp;
    for (; i < n; ++i) {
      char f = format[i];
      if (f == '-') sp.minus = true, sp.zero = false;
      else if (f == '+') sp.plus = true;
      else if (f == '#') sp.sharp = true;
      else if (f == ' ') sp.space = true;
      else if (f == '0') sp.zero = !sp.minus;
      else break;
    }
    auto read_num = [&](int& dst) {
      if (i < n && format[i] == '*') {
        ++i;
        if (argi < vals.size() && std::holds_alternative<std::int64_t>(vals[argi])) {
          dst = static_cast<int>(std::get<std::int64_t>(vals[argi]));
          ++argi;
          if (dst < 0) {
            sp.minus = true;
            dst = -dst;
          }
        } else {
          out += "%!(BADWIDTH)";
          if (argi < vals.size()) ++argi;
        }
        return;
      }
      int v = 0;
      bool any = false;
      while (i < n && format[i] >= '0' && format[i] <= '9') {
        v = v * 10 + (format[i] - '0');
        if (v > 1000000) v = 1000000;
        ++i;
        any = true;
      }
      if (any) dst = v;
    };
    read_num(sp.width);
    if (i < n && format[i] == '.') {
      ++i;
      sp.prec = 0;
      read_num(sp.prec);
    }
    if (i >= n) {
      out += "%!(NOVERB)";
      break;
    }
    auto d = text::decode_rune(format, i);
    i += d.width;
    if (d.rune == '%') {
      out.push_back('%');
      continue;
    }
    char verb = d.rune < 0x80 ? static_cast<char>(d.rune) : '?';
    if (argi >= vals.size()) {
      out += "%!";
      out.append(format, i - d.width, d.width);
      out += "(MISSING)";
      continue;
    }
    format_arg(out, vals[argi++], verb, sp);
  }
  if (argi < vals.size()) {
    out += "%!(EXTRA ";
    for (std::size_t k = argi; k < vals.size(); ++k) {
      if (k > argi) out += ", ";
      out += go_type(vals[k]) + "=" + plain(vals[k]);
    }
    out += ")";
  }
  return Value::string(std::move(out));
}

}  // namespace

void register_sprintf(Registry& r) { r.add({"sprintf", 2, sprintf}); }

}  // namespace cloister::rego::builtins
