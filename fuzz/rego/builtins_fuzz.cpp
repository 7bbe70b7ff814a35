// The builtins that parse attacker-influenced text (Go layouts, format strings, globs, CIDRs,
// YAML, JWTs, certificates, schemas, Rego modules, ...). Input: one selector byte, then NUL-separated string
// arguments. Every call must return a value or an error, never crash, hang or leak.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "builtins/builtin.h"
#include "cloister/rego/value.h"

namespace {

using cloister::rego::Value;
namespace b = cloister::rego::builtins;

struct Target {
  const char* name;
  // How the string arguments become the builtin's operands.
  enum Shape { Strings, JsonArgs, GlobNull, TimeFormat, CidrList } shape;
  int arity;
};

constexpr Target kTargets[] = {
    {"sprintf", Target::JsonArgs, 2},          {"time.parse_ns", Target::Strings, 2},
    {"time.parse_duration_ns", Target::Strings, 1}, {"glob.match", Target::GlobNull, 3},
    {"regex.globs_match", Target::Strings, 2}, {"units.parse", Target::Strings, 1},
    {"units.parse_bytes", Target::Strings, 1}, {"semver.compare", Target::Strings, 2},
    {"uuid.parse", Target::Strings, 1},        {"net.cidr_merge", Target::CidrList, 1},
    {"net.cidr_contains", Target::Strings, 2}, {"yaml.unmarshal", Target::Strings, 1},
    {"base64.decode", Target::Strings, 1},     {"base64url.decode", Target::Strings, 1},
    {"hex.decode", Target::Strings, 1},        {"urlquery.decode_object", Target::Strings, 1},
    {"json.match_schema", Target::JsonArgs, 2}, {"io.jwt.decode", Target::Strings, 1},
    {"crypto.x509.parse_certificates", Target::Strings, 1}, {"to_number", Target::Strings, 1},
    {"json.patch", Target::JsonArgs, 2},       {"regex.template_match", Target::Strings, 4},
    {"time.format", Target::TimeFormat, 1},    {"regex.replace", Target::Strings, 3},
    {"strings.replace_n", Target::JsonArgs, 2}, {"io.jwt.decode_verify", Target::JsonArgs, 2},
    {"crypto.x509.parse_certificate_request", Target::Strings, 1}, {"json.filter", Target::JsonArgs, 2},
    {"rego.parse_module", Target::Strings, 2},
};

Value json_or_string(const std::string& s) {
  auto v = cloister::rego::parse_json(s);
  return v ? *v : Value::string(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const Target& t = kTargets[data[0] % std::size(kTargets)];
  std::vector<std::string> parts(1);
  for (std::size_t i = 1; i < size; ++i) {
    if (data[i] == 0) {
      parts.emplace_back();
    } else {
      parts.back().push_back(static_cast<char>(data[i]));
    }
  }
  parts.resize(static_cast<std::size_t>(t.arity < 2 ? 2 : t.arity));
  std::vector<Value> args;
  switch (t.shape) {
    case Target::Strings:
      for (int i = 0; i < t.arity; ++i) args.push_back(Value::string(parts[static_cast<std::size_t>(i)]));
      break;
    case Target::JsonArgs:
      for (int i = 0; i < t.arity; ++i) args.push_back(json_or_string(parts[static_cast<std::size_t>(i)]));
      break;
    case Target::GlobNull:
      args = {Value::string(parts[0]), Value::null(), Value::string(parts[1])};
      break;
    case Target::TimeFormat:
      args = {Value::array({Value::integer(static_cast<std::int64_t>(std::hash<std::string>{}(parts[1]))),
                            Value::string("UTC"), Value::string(parts[0])})};
      break;
    case Target::CidrList:
      args = {Value::array({Value::string(parts[0]), Value::string(parts[1])})};
      break;
  }
  const b::BuiltinDef* def = b::Registry::standard().find(t.name);
  if (!def) __builtin_trap();  // the table names only registered builtins
  cloister::rego::builtins::RandomSource rng(1);
  b::RegexCache regex;
  std::map<std::string, Value> memo;
  b::BuiltinContext ctx;
  ctx.name = def->name;
  ctx.rng = &rng;
  ctx.regex = &regex;
  ctx.memo = &memo;
  ctx.now_ns = 1700000000000000000;
  auto r = def->fn(ctx, args);
  if (r && r->is_defined()) (void)cloister::rego::to_json(*r);
  return 0;
}
