// JSON Schema (OPA topdown/jsonschema.go on gojsonschema): json.verify_schema and
// json.match_schema. Covers the draft-04..07 validation keywords policies use (type, enum, const,
// properties, required, additionalProperties, patternProperties, items, min/max*, pattern,
// multipleOf, uniqueItems, allOf/anyOf/oneOf/not, local $ref) and reports errors with
// gojsonschema's type names and descriptions, which OPA passes through.
#include <re2/re2.h>

#include <cmath>
#include <optional>

#include "builtins/builtin.h"
#include "builtins/regex_pattern.h"
#include "builtins/text.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

constexpr std::string_view kTypes[] = {"array", "boolean", "integer", "number", "null", "object", "string"};

std::string invalid_type_message(const std::string& given) {
  return "has a primitive type that is NOT VALID -- given: /" + given +
         "/ Expected valid values are:[array boolean integer number null object string]";
}

// Schema well-formedness (what gojsonschema rejects when loading a schema).
std::optional<std::string> check_schema(const Value& s, int depth) {
  if (depth > 200) return "schema nesting too deep";
  if (s.is_bool()) return std::nullopt;
  if (!s.is_object()) return "schema must be an object or a boolean";
  if (const Value* t = s.get("type")) {
    std::vector<Value> names = t->is_array() ? t->array_items() : std::vector<Value>{*t};
    for (const auto& n : names) {
      if (!n.is_string()) return "type must be a string or an array of strings";
      bool ok = false;
      for (auto k : kTypes) ok = ok || n.as_string() == k;
      if (!ok) return invalid_type_message(n.as_string());
    }
  }
  for (const char* key : {"properties", "patternProperties", "definitions", "$defs"}) {
    if (const Value* m = s.get(key); m && m->is_object())
      for (const auto& [k, sub] : m->object_entries())
        if (auto e = check_schema(sub, depth + 1)) return e;
  }
  for (const char* key : {"additionalProperties", "items", "not", "additionalItems", "contains"}) {
    if (const Value* sub = s.get(key)) {
      if (sub->is_array()) {
        for (const auto& x : sub->array_items())
          if (auto e = check_schema(x, depth + 1)) return e;
      } else if (auto e = check_schema(*sub, depth + 1)) {
        return e;
      }
    }
  }
  for (const char* key : {"allOf", "anyOf", "oneOf"}) {
    if (const Value* arr = s.get(key)) {
      if (!arr->is_array()) return std::string(key) + " must be an array";
      for (const auto& x : arr->array_items())
        if (auto e = check_schema(x, depth + 1)) return e;
    }
  }
  return std::nullopt;
}

std::string json_type(const Value& v) {
  switch (v.kind()) {
    case Kind::Null: return "null";
    case Kind::Bool: return "boolean";
    case Kind::Number: return v.is_integral() ? "integer" : "number";
    case Kind::String: return "string";
    case Kind::Array:
    case Kind::Set: return "array";
    default: return "object";
  }
}

struct Failure {
  std::string type, field, desc;
};

class Validator {
 public:
  Validator(const Value& root, RegexCache* regex) : root_(root), regex_(regex) {}

  void validate(const Value& schema, const Value& v, const std::string& field, std::vector<Failure>& out, int depth = 0) {
    if (depth > 200) return;
    if (schema.is_bool()) {
      if (!schema.as_bool()) out.push_back({"false", field, "False always fails validation"});
      return;
    }
    if (!schema.is_object()) return;
    if (const Value* ref = schema.get("$ref"); ref && ref->is_string()) {
      if (const Value* target = resolve(ref->as_string())) validate(*target, v, field, out, depth + 1);
      return;  // draft-04..07: $ref replaces its siblings
    }
    check_type(schema, v, field, out);
    if (const Value* e = schema.get("enum"); e && e->is_array()) {
      bool found = false;
      for (const auto& x : e->array_items()) found = found || x == v;
      if (!found) {
        std::string allowed;
        for (const auto& x : e->array_items()) allowed += (allowed.empty() ? "" : ", ") + to_json(x);
        out.push_back({"enum", field, leaf(field) + " must be one of the following: " + allowed});
      }
    }
    if (const Value* c = schema.get("const"); c && *c != v)
      out.push_back({"const", field, leaf(field) + " does not match: " + to_json(*c)});
    if (v.is_number()) check_number(schema, v, field, out);
    if (v.is_string()) check_string(schema, v.as_string(), field, out);
    if (v.is_array() || v.is_set()) check_array(schema, v.is_array() ? v.array_items() : v.set_items(), field, out, depth);
    if (v.is_object()) check_object(schema, v, field, out, depth);
    combinators(schema, v, field, out, depth);
  }

 private:
  static std::string leaf(const std::string& field) { return field; }
  static std::string child(const std::string& field, const std::string& key) {
    return field == "(root)" ? key : field + "." + key;
  }

  const Value* resolve(const std::string& ref) {
    if (ref.empty() || ref[0] != '#') return nullptr;  // remote references are not fetched
    const Value* cur = &root_;
    std::string_view p = std::string_view(ref).substr(1);
    while (!p.empty()) {
      if (p[0] != '/') return nullptr;
      p.remove_prefix(1);
      auto slash = p.find('/');
      std::string seg(p.substr(0, slash));
      p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
      cur = cur->get(seg);
      if (!cur) return nullptr;
    }
    return cur;
  }

  void check_type(const Value& schema, const Value& v, const std::string& field, std::vector<Failure>& out) {
    const Value* t = schema.get("type");
    if (!t) return;
    std::vector<Value> names = t->is_array() ? t->array_items() : std::vector<Value>{*t};
    std::string given = json_type(v);
    std::string expected;
    for (const auto& n : names) {
      if (!n.is_string()) continue;
      const std::string& want = n.as_string();
      if (want == given || (want == "number" && given == "integer")) return;
      expected += (expected.empty() ? "" : ",") + want;
    }
    out.push_back({"invalid_type", field, "Invalid type. Expected: " + expected + ", given: " + given});
  }

  static std::string num(const Value& v) { return format_number(v); }

  void check_number(const Value& s, const Value& v, const std::string& field, std::vector<Failure>& out) {
    auto cmp = [&](const char* key, auto bad, const char* type, const char* text) {
      const Value* b = s.get(key);
      if (b && b->is_number() && bad(num_compare(v, *b))) out.push_back({type, field, text + num(*b)});
    };
    // Draft-04 boolean exclusivity modifies minimum/maximum; later drafts use numbers.
    bool excl_min = s.get("exclusiveMinimum") && s.get("exclusiveMinimum")->is_true();
    bool excl_max = s.get("exclusiveMaximum") && s.get("exclusiveMaximum")->is_true();
    if (excl_min) {
      cmp("minimum", [](int c) { return c <= 0; }, "number_gt", "Must be greater than ");
    } else {
      cmp("minimum", [](int c) { return c < 0; }, "number_gte", "Must be greater than or equal to ");
    }
    if (excl_max) {
      cmp("maximum", [](int c) { return c >= 0; }, "number_lt", "Must be less than ");
    } else {
      cmp("maximum", [](int c) { return c > 0; }, "number_lte", "Must be less than or equal to ");
    }
    cmp("exclusiveMinimum", [](int c) { return c <= 0; }, "number_gt", "Must be greater than ");
    cmp("exclusiveMaximum", [](int c) { return c >= 0; }, "number_lt", "Must be less than ");
    if (const Value* m = s.get("multipleOf"); m && m->is_number() && m->to_double() > 0) {
      bool ok;
      if (v.is_integral() && m->is_integral()) {
        ok = to_mpz(v) % to_mpz(*m) == 0;
      } else {
        double q = v.to_double() / m->to_double();
        ok = std::fabs(q - std::round(q)) < 1e-9;
      }
      if (!ok) out.push_back({"multiple_of", field, "Must be a multiple of " + num(*m)});
    }
  }

  void check_string(const Value& s, const std::string& str, const std::string& field, std::vector<Failure>& out) {
    auto len = static_cast<std::int64_t>(text::rune_count(str));
    std::int64_t lim;
    if (const Value* m = s.get("minLength"); m && m->to_int64(lim) && len < lim)
      out.push_back({"string_gte", field, "String length must be greater than or equal to " + std::to_string(lim)});
    if (const Value* m = s.get("maxLength"); m && m->to_int64(lim) && len > lim)
      out.push_back({"string_lte", field, "String length must be less than or equal to " + std::to_string(lim)});
    if (const Value* p = s.get("pattern"); p && p->is_string() && regex_) {
      const re2::RE2* re = regex_->get(p->as_string());
      if (re && !re2::RE2::PartialMatch(str, *re))
        out.push_back({"pattern", field, "Does not match pattern '" + p->as_string() + "'"});
    }
  }

  void check_array(const Value& s, const std::vector<Value>& items, const std::string& field, std::vector<Failure>& out,
                   int depth) {
    std::int64_t lim;
    auto n = static_cast<std::int64_t>(items.size());
    if (const Value* m = s.get("minItems"); m && m->to_int64(lim) && n < lim)
      out.push_back({"array_min_items", field, "Array must have at least " + std::to_string(lim) + " items"});
    if (const Value* m = s.get("maxItems"); m && m->to_int64(lim) && n > lim)
      out.push_back({"array_max_items", field, "Array must have at most " + std::to_string(lim) + " items"});
    if (const Value* u = s.get("uniqueItems"); u && u->is_true()) {
      for (std::size_t i = 0; i < items.size(); ++i)
        for (std::size_t j = i + 1; j < items.size(); ++j)
          if (items[i] == items[j]) {
            out.push_back({"unique", field,
                           "array items[" + std::to_string(i) + "," + std::to_string(j) + "] must be unique"});
            i = j = items.size();
          }
    }
    if (const Value* it = s.get("items")) {
      if (it->is_array()) {
        const auto& tuple = it->array_items();
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i < tuple.size()) {
            validate(tuple[i], items[i], child(field, std::to_string(i)), out, depth + 1);
          } else if (const Value* extra = s.get("additionalItems")) {
            validate(*extra, items[i], child(field, std::to_string(i)), out, depth + 1);
          }
        }
      } else {
        for (std::size_t i = 0; i < items.size(); ++i)
          validate(*it, items[i], child(field, std::to_string(i)), out, depth + 1);
      }
    }
  }

  void check_object(const Value& s, const Value& v, const std::string& field, std::vector<Failure>& out, int depth) {
    std::int64_t lim;
    auto n = static_cast<std::int64_t>(v.object_entries().size());
    if (const Value* m = s.get("minProperties"); m && m->to_int64(lim) && n < lim)
      out.push_back({"array_min_properties", field, "Must have at least " + std::to_string(lim) + " properties"});
    if (const Value* m = s.get("maxProperties"); m && m->to_int64(lim) && n > lim)
      out.push_back({"array_max_properties", field, "Must have at most " + std::to_string(lim) + " properties"});
    if (const Value* req = s.get("required"); req && req->is_array())
      for (const auto& r : req->array_items())
        if (r.is_string() && !v.get(r.as_string()))
          out.push_back({"required", field, r.as_string() + " is required"});
    const Value* props = s.get("properties");
    const Value* pattern_props = s.get("patternProperties");
    const Value* additional = s.get("additionalProperties");
    for (const auto& [k, x] : v.object_entries()) {
      std::string key = k.is_string() ? k.as_string() : to_json(k);
      bool matched = false;
      if (props && props->is_object()) {
        if (const Value* sub = props->get(key)) {
          validate(*sub, x, child(field, key), out, depth + 1);
          matched = true;
        }
      }
      if (pattern_props && pattern_props->is_object() && regex_) {
        for (const auto& [pat, sub] : pattern_props->object_entries()) {
          const re2::RE2* re = pat.is_string() ? regex_->get(pat.as_string()) : nullptr;
          if (re && re2::RE2::PartialMatch(key, *re)) {
            validate(sub, x, child(field, key), out, depth + 1);
            matched = true;
          }
        }
      }
      if (!matched && additional) {
        if (additional->is_false()) {
          out.push_back({"additional_property_not_allowed", field, "Additional property " + key + " is not allowed"});
        } else {
          validate(*additional, x, child(field, key), out, depth + 1);
        }
      }
    }
  }

  void combinators(const Value& s, const Value& v, const std::string& field, std::vector<Failure>& out, int depth) {
    auto passes = [&](const Value& sub) {
      std::vector<Failure> tmp;
      validate(sub, v, field, tmp, depth + 1);
      return tmp.empty();
    };
    if (const Value* all = s.get("allOf"); all && all->is_array()) {
      bool ok = true;
      for (const auto& sub : all->array_items()) ok = passes(sub) && ok;
      if (!ok) {
        for (const auto& sub : all->array_items()) validate(sub, v, field, out, depth + 1);
        out.push_back({"number_all_of", field, "Must validate all the schemas (allOf)"});
      }
    }
    if (const Value* any = s.get("anyOf"); any && any->is_array()) {
      bool ok = false;
      for (const auto& sub : any->array_items()) ok = ok || passes(sub);
      if (!ok) out.push_back({"number_any_of", field, "Must validate at least one schema (anyOf)"});
    }
    if (const Value* one = s.get("oneOf"); one && one->is_array()) {
      int n = 0;
      for (const auto& sub : one->array_items()) n += passes(sub) ? 1 : 0;
      if (n != 1) out.push_back({"number_one_of", field, "Must validate one and only one schema (oneOf)"});
    }
    if (const Value* nt = s.get("not"); nt && passes(*nt))
      out.push_back({"number_not", field, "Must not validate the schema (not)"});
  }

  const Value& root_;
  RegexCache* regex_;
};

// A schema or document operand: a value, or JSON text.
BResult<Value> json_operand(const BuiltinContext& ctx, const Value& v, const char* what) {
  if (!v.is_string()) return v;
  auto parsed = parse_json(v.as_string());
  if (!parsed) return tl::unexpected(builtin_error(ctx, std::string(what) + " is not valid JSON: " + parsed.error().message()));
  return *parsed;
}

BuiltinResult verify_schema(BuiltinContext& ctx, std::span<const Value> a) {
  if (!a[0].is_string() && !a[0].is_object() && !a[0].is_bool())
    return tl::unexpected(type_error(ctx, 1, "one of {string, object, boolean}", a[0]));
  Value schema = a[0];
  if (a[0].is_string()) {
    auto parsed = parse_json(a[0].as_string());
    if (!parsed) return Value::array({Value::boolean(false), Value::string("jsonschema: " + parsed.error().message())});
    schema = *parsed;
  }
  if (auto err = check_schema(schema, 0)) return Value::array({Value::boolean(false), Value::string("jsonschema: " + *err)});
  return Value::array({Value::boolean(true), Value::null()});
}

BuiltinResult match_schema(BuiltinContext& ctx, std::span<const Value> a) {
  Value doc = REGO_ARG(json_operand(ctx, a[0], "document"));
  if (!a[1].is_string() && !a[1].is_object() && !a[1].is_bool())
    return tl::unexpected(type_error(ctx, 2, "one of {string, object, boolean}", a[1]));
  Value schema = REGO_ARG(json_operand(ctx, a[1], "schema"));
  if (auto err = check_schema(schema, 0)) return tl::unexpected(builtin_error(ctx, *err));
  Validator validator(schema, ctx.regex);
  std::vector<Failure> failures;
  validator.validate(schema, doc, "(root)", failures);
  std::vector<Value> errs;
  for (const auto& f : failures)
    errs.push_back(Value::object({{Value::string("error"), Value::string(f.field + ": " + f.desc)},
                                  {Value::string("type"), Value::string(f.type)},
                                  {Value::string("field"), Value::string(f.field)},
                                  {Value::string("desc"), Value::string(f.desc)}}));
  return Value::array({Value::boolean(errs.empty()), Value::array(std::move(errs))});
}

}  // namespace

void register_jsonschema(Registry& r) {
  r.add({"json.verify_schema", 1, verify_schema});
  r.add({"json.match_schema", 2, match_schema});
}

}  // namespace cloister::rego::builtins
