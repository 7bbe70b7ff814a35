// Encodings (OPA topdown/encoding.go): base64, base64url, hex, json.*, yaml.*, urlquery.*.
// Decoders reproduce Go's error texts ("illegal base64 data at input byte 4", "encoding/hex:
// invalid byte: U+0067 'g'") because policies and the conformance suite see them.
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <map>

#include "builtins/builtin.h"
#include "builtins/family_util.h"
#include "builtins/codec.h"
#include "builtins/text.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

BuiltinResult base64_encode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  return Value::string(b64_encode(s, kStdAlphabet, true));
}

BuiltinResult base64_decode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::string out;
  std::size_t bad = 0;
  if (!b64_decode(s, kStdAlphabet, out, bad))
    return tl::unexpected(builtin_error(ctx, "illegal base64 data at input byte " + std::to_string(bad)));
  return Value::string(std::move(out));
}

BuiltinResult base64_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::boolean(false);
  std::string out;
  std::size_t bad = 0;
  return Value::boolean(b64_decode(a[0].as_string(), kStdAlphabet, out, bad));
}

template <bool Pad>
BuiltinResult base64url_encode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  return Value::string(b64_encode(s, kUrlAlphabet, Pad));
}

BuiltinResult base64url_decode(BuiltinContext& ctx, std::span<const Value> a) {
  std::string s = *REGO_ARG(arg_string(ctx, a, 0));
  // Unpadded input is accepted (RFC 7515 Appendix C), as OPA does.
  if (s.empty() || s.back() != '=') {
    switch (s.size() % 4) {
      case 0: break;
      case 2: s += "=="; break;
      case 3: s += "="; break;
      default: return tl::unexpected(builtin_error(ctx, "illegal base64url string: " + s));
    }
  }
  std::string out;
  std::size_t bad = 0;
  if (!b64_decode(s, kUrlAlphabet, out, bad))
    return tl::unexpected(builtin_error(ctx, "illegal base64 data at input byte " + std::to_string(bad)));
  return Value::string(std::move(out));
}

BuiltinResult hex_encode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return Value::string(std::move(out));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's InvalidByteError text: %#U of the byte.
std::string invalid_hex_byte(char c) {
  char buf[32];
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F)
    std::snprintf(buf, sizeof buf, "U+%04X '%c'", u, u);
  else
    std::snprintf(buf, sizeof buf, "U+%04X", u);
  return std::string("encoding/hex: invalid byte: ") + buf;
}

BuiltinResult hex_decode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::string out;
  std::size_t j = 1;
  for (; j < s.size(); j += 2) {
    int hi = hex_value(s[j - 1]), lo = hex_value(s[j]);
    if (hi < 0) return tl::unexpected(builtin_error(ctx, invalid_hex_byte(s[j - 1])));
    if (lo < 0) return tl::unexpected(builtin_error(ctx, invalid_hex_byte(s[j])));
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  if (s.size() % 2 == 1) {
    if (hex_value(s[j - 1]) < 0) return tl::unexpected(builtin_error(ctx, invalid_hex_byte(s[j - 1])));
    return tl::unexpected(builtin_error(ctx, "encoding/hex: odd length hex string"));
  }
  return Value::string(std::move(out));
}

// ---- JSON ----

BuiltinResult json_marshal(BuiltinContext&, std::span<const Value> a) { return Value::string(to_json(a[0])); }

BuiltinResult json_marshal_with_options(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& opts = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Object));
  std::string prefix, indent = "\t";
  bool have_layout = false;
  int pretty = -1;  // unset
  for (const auto& [k, v] : opts.object_entries()) {
    std::string key = k.is_string() ? k.as_string() : to_json(k);
    if (key == "prefix" || key == "indent") {
      if (!v.is_string())
        return tl::unexpected(operand_error(ctx, 2, key + " option must be a string but got " + std::string(kind_name(v.kind()))));
      (key == "prefix" ? prefix : indent) = v.as_string();
      have_layout = true;
    } else if (key == "pretty") {
      if (!v.is_bool())
        return tl::unexpected(operand_error(ctx, 2, "pretty option must be a boolean but got " + std::string(kind_name(v.kind()))));
      pretty = v.as_bool() ? 1 : 0;
    } else {
      return tl::unexpected(type_error_msg(ctx, "operand 2 object contained unknown key " + to_json(k)));
    }
  }
  bool indent_output = pretty == 1 || (pretty == -1 && have_layout);
  if (!indent_output) return Value::string(to_json(a[0]));
  // Go's json.MarshalIndent, plus OPA's prefix before the first line as well.
  return Value::string(prefix + to_json_pretty(a[0], prefix, indent));
}

BuiltinResult json_unmarshal(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  auto v = parse_json(s);
  if (!v) return tl::unexpected(builtin_error(ctx, v.error().message()));
  return *v;
}

BuiltinResult json_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::boolean(false);
  return Value::boolean(parse_json(a[0].as_string()).has_value());
}

// ---- YAML (OPA: sigs.k8s.io/yaml, i.e. YAML 1.1 scalar resolution then JSON values) ----

bool is_yaml_null(const std::string& s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

int yaml_bool(const std::string& s) {
  static const char* truthy[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* falsy[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : truthy)
    if (s == t) return 1;
  for (const char* f : falsy)
    if (s == f) return 0;
  return -1;
}

// A plain scalar as a YAML 1.1 int or float; undefined when it is not one.
Value yaml_number(const std::string& s) {
  if (s.empty()) return Value();
  std::string t;
  for (char c : s)
    if (c != '_') t.push_back(c);
  std::size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  bool neg = t[0] == '-';
  if (t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
    mpz_class z;
    if (z.set_str(t.substr(i + 2), 16) != 0) return Value();
    return from_mpz(neg ? mpz_class(-z) : z);
  }
  if (t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'o' || t[i + 1] == 'O')) {
    mpz_class z;
    if (z.set_str(t.substr(i + 2), 8) != 0) return Value();
    return from_mpz(neg ? mpz_class(-z) : z);
  }
  bool digits_only = i < t.size();
  for (std::size_t k = i; k < t.size(); ++k) digits_only = digits_only && std::isdigit(static_cast<unsigned char>(t[k]));
  if (digits_only) {
    auto v = Value::number_from_string(t[0] == '+' ? t.substr(1) : t);
    return v ? *v : Value();
  }
  // Floats: [-+]?(digits)?.digits([eE][-+]?digits)? or digits with exponent.
  std::size_t k = i, nd = 0;
  while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k, ++nd;
  if (k < t.size() && t[k] == '.') {
    ++k;
    while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k, ++nd;
  }
  if (nd == 0) return Value();
  if (k < t.size() && (t[k] == 'e' || t[k] == 'E')) {
    ++k;
    if (k < t.size() && (t[k] == '+' || t[k] == '-')) ++k;
    std::size_t ne = 0;
    while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k, ++ne;
    if (ne == 0) return Value();
  }
  if (k != t.size()) return Value();
  std::string text = t[0] == '+' ? t.substr(1) : t;
  if (text.back() == '.') text.pop_back();
  if (!text.empty() && text[text[0] == '-' ? 1 : 0] == '.') text.insert(text[0] == '-' ? 1 : 0, "0");
  auto v = Value::number_from_string(text);
  return v ? *v : Value();
}

Value yaml_scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  // Quoted scalars carry tag "!"; plain ones "?" and are resolved by content.
  if (n.Tag() == "!") return Value::string(s);
  if (is_yaml_null(s)) return Value::null();
  int b = yaml_bool(s);
  if (b >= 0) return Value::boolean(b == 1);
  Value num = yaml_number(s);
  if (num.is_defined()) return num;
  return Value::string(s);
}

Result<Value> from_yaml(const YAML::Node& n, int depth) {
  if (depth > 1000) return make_error(Errc::parse, "yaml: nesting too deep");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return Value::null();
    case YAML::NodeType::Scalar: return yaml_scalar(n);
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& x : n) items.push_back(CLOISTER_TRY(from_yaml(x, depth + 1)));
      return Value::array(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<Value, Value>> es;
      for (const auto& kv : n) {
        Value k = CLOISTER_TRY(from_yaml(kv.first, depth + 1));
        // JSON objects have string keys: sigs.k8s.io/yaml turns other scalar keys into their text.
        Value key = k.is_string() ? k : Value::string(kv.first.IsScalar() ? kv.first.Scalar() : to_json(k));
        es.emplace_back(std::move(key), CLOISTER_TRY(from_yaml(kv.second, depth + 1)));
      }
      return Value::object(std::move(es));
    }
  }
  return Value::null();
}

Result<Value> parse_yaml(const std::string& s) {
  try {
    YAML::Node n = YAML::Load(s);
    return from_yaml(n, 0);
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg;
    if (msg.find("end of sequence flow not found") != std::string::npos) msg = "did not find expected ',' or ']'";
    if (msg.find("end of map flow not found") != std::string::npos) msg = "did not find expected ',' or '}'";
    return make_error(Errc::parse, "yaml: line " + std::to_string(e.mark.line + 1) + ": " + msg);
  }
}

BuiltinResult yaml_unmarshal(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  auto v = parse_yaml(s);
  if (!v) return tl::unexpected(builtin_error(ctx, v.error().message()));
  return *v;
}

BuiltinResult yaml_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::boolean(false);
  return Value::boolean(parse_yaml(a[0].as_string()).has_value());
}

void emit_yaml(YAML::Emitter& e, const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::Null: e << YAML::Null; return;
    case Kind::Bool: e << v.as_bool(); return;
    case Kind::Number: e << format_number(v); return;
    case Kind::String: {
      const std::string& s = v.as_string();
      // Strings a YAML reader would resolve to another type are quoted.
      bool ambiguous = is_yaml_null(s) || yaml_bool(s) >= 0 || yaml_number(s).is_defined();
      if (ambiguous) e << YAML::DoubleQuoted;
      e << s;
      return;
    }
    case Kind::Array:
    case Kind::Set: {
      e << YAML::BeginSeq;
      for (const auto& x : v.is_array() ? v.array_items() : v.set_items()) emit_yaml(e, x);
      e << YAML::EndSeq;
      return;
    }
    case Kind::Object: {
      e << YAML::BeginMap;
      for (const auto& [k, x] : v.object_entries()) {
        e << YAML::Key;
        if (k.is_string()) {
          emit_yaml(e, k);
        } else {
          e << to_json(k);
        }
        e << YAML::Value;
        emit_yaml(e, x);
      }
      e << YAML::EndMap;
      return;
    }
  }
}

BuiltinResult yaml_marshal(BuiltinContext& ctx, std::span<const Value> a) {
  YAML::Emitter e;
  emit_yaml(e, a[0]);
  if (!e.good()) return tl::unexpected(builtin_error(ctx, e.GetLastError()));
  std::string out = e.c_str();
  out.push_back('\n');
  return Value::string(std::move(out));
}

// ---- urlquery (Go net/url QueryEscape / QueryUnescape / Values) ----

std::string query_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool query_unescape(std::string_view s, std::string& out, std::string& err) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
        err = "invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"";
        return false;
      }
      out.push_back(static_cast<char>((hex_value(s[i + 1]) << 4) | hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return true;
}

BuiltinResult urlquery_encode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  return Value::string(query_escape(s));
}

BuiltinResult urlquery_decode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::string out, err;
  if (!query_unescape(s, out, err)) return tl::unexpected(builtin_error(ctx, err));
  return Value::string(std::move(out));
}

BuiltinResult urlquery_encode_object(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& obj = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  std::string out;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!out.empty()) out.push_back('&');
    out += query_escape(k);
    out.push_back('=');
    out += query_escape(v);
  };
  for (const auto& [k, v] : obj.object_entries()) {
    if (!k.is_string()) return tl::unexpected(operand_error(ctx, 1, "object with string keys"));
    if (v.is_string()) {
      add(k.as_string(), v.as_string());
    } else if (v.is_array() || v.is_set()) {
      for (const auto& x : v.is_array() ? v.array_items() : v.set_items()) {
        if (!x.is_string()) return tl::unexpected(operand_error(ctx, 1, "object of strings, arrays of strings or sets of strings"));
        add(k.as_string(), x.as_string());
      }
    } else {
      return tl::unexpected(operand_error(ctx, 1, "object of strings, arrays of strings or sets of strings"));
    }
  }
  return Value::string(std::move(out));
}

BuiltinResult urlquery_decode_object(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  std::map<std::string, std::vector<Value>> vals;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    auto amp = s.find('&', start);
    std::string_view part = std::string_view(s).substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    start = amp == std::string::npos ? s.size() + 1 : amp + 1;
    if (part.empty()) continue;
    if (part.find(';') != std::string_view::npos)
      return tl::unexpected(builtin_error(ctx, "invalid semicolon separator in query"));
    auto eq = part.find('=');
    std::string key, value, err;
    if (!query_unescape(part.substr(0, eq), key, err)) return tl::unexpected(builtin_error(ctx, err));
    if (eq != std::string_view::npos && !query_unescape(part.substr(eq + 1), value, err))
      return tl::unexpected(builtin_error(ctx, err));
    vals[key].push_back(Value::string(std::move(value)));
  }
  std::vector<std::pair<Value, Value>> es;
  for (auto& [k, v] : vals) es.emplace_back(Value::string(k), Value::array(std::move(v)));
  return Value::object(std::move(es));
}

}  // namespace

Result<Value> yaml_to_value(const std::string& text) { return parse_yaml(text); }

void register_encoding(Registry& r) {
  r.add({"base64.encode", 1, base64_encode});
  r.add({"base64.decode", 1, base64_decode});
  r.add({"base64.is_valid", 1, base64_is_valid});
  r.add({"base64url.encode", 1, base64url_encode<true>});
  r.add({"base64url.encode_no_pad", 1, base64url_encode<false>});
  r.add({"base64url.decode", 1, base64url_decode});
  r.add({"hex.encode", 1, hex_encode});
  r.add({"hex.decode", 1, hex_decode});
  r.add({"json.marshal", 1, json_marshal});
  r.add({"json.marshal_with_options", 2, json_marshal_with_options});
  r.add({"json.unmarshal", 1, json_unmarshal});
  r.add({"json.is_valid", 1, json_is_valid});
  r.add({"yaml.marshal", 1, yaml_marshal});
  r.add({"yaml.unmarshal", 1, yaml_unmarshal});
  r.add({"yaml.is_valid", 1, yaml_is_valid});
  r.add({"urlquery.encode", 1, urlquery_encode});
  r.add({"urlquery.decode", 1, urlquery_decode});
  r.add({"urlquery.encode_object", 1, urlquery_encode_object});
  r.add({"urlquery.decode_object", 1, urlquery_decode_object});
}

}  // namespace cloister::rego::builtins
