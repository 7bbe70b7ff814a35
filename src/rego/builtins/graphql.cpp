// graphql.* builtins (OPA topdown/graphql.go): parse_query, parse_schema, parse, parse_and_verify,
// is_valid, schema_is_valid.
//
// OPA turns gqlparser's Go structs into Rego values through their JSON form and then prunes every
// "Position" key, every null and every empty array/object. So a policy sees Go field names
// ("SelectionSet", "VariableDefinitions", "ExpectedTypeHasDefault"), scalar fields even when zero
// ("Name": "", "Used": false) and no empty lists. Fields that only gqlparser's validator fills in
// (Definition back-pointers, Directive.Location, VariableDefinition.Used) are reported unfilled,
// as OPA returns the parse tree, not the validated one.
//
// The builtins that take a query and a schema accept either text or an AST object as produced
// by parse_query / parse_schema (OPA decodes such objects back into gqlparser's structs).
#include <map>

#include "builtins/builtin.h"
#include "builtins/graphql_ast.h"

namespace cloister::rego::builtins {
namespace {

namespace gql = graphql;

// ---------------------------------------------------------------------------------------------
// AST -> Rego value

// The AST's object keys and the empty string, built once (immutable, shared refcounted values):
// encoding would otherwise allocate every key of every node again.
const Value& interned(std::string_view s) {
  static const std::map<std::string_view, Value, std::less<>> table = [] {
    std::map<std::string_view, Value, std::less<>> t;
    for (std::string_view k :
         {"", "Alias", "Arguments", "BuiltIn", "Children", "DefaultValue", "Definitions", "Description", "Directives",
          "Elem", "EnumValues", "ExpectedTypeHasDefault", "Extensions", "Fields", "Fragments", "Interfaces",
          "IsRepeatable", "Kind", "Location", "Locations", "Name", "NamedType", "NonNull", "Operation",
          "OperationTypes", "Operations", "Raw", "Schema", "SchemaExtension", "SelectionSet", "Type",
          "TypeCondition", "Types", "Used", "Value", "Variable", "VariableDefinition", "VariableDefinitions"})
      t.emplace(k, Value::string(std::string(k)));
    return t;
  }();
  return table.at(s);
}

class Obj {
 public:
  Obj& str(const char* k, const std::string& v) { return put(k, v.empty() ? interned("") : Value::string(v)); }
  Obj& boolean(const char* k, bool v) { return put(k, Value::boolean(v)); }
  Obj& put(const char* k, Value v) {
    entries_.emplace_back(interned(k), std::move(v));
    return *this;
  }
  // Empty lists are pruned (OPA's pruneIrrelevantGraphQLASTNodes).
  Obj& list(const char* k, std::vector<Value> items) {
    if (!items.empty()) put(k, Value::array(std::move(items)));
    return *this;
  }
  Value done() { return Value::object(std::move(entries_)); }

 private:
  std::vector<std::pair<Value, Value>> entries_;
};

template <typename T, typename F>
std::vector<Value> map_values(const std::vector<T>& xs, F f) {
  std::vector<Value> out;
  out.reserve(xs.size());
  for (const auto& x : xs) out.push_back(f(x));
  return out;
}

std::vector<Value> strings(const std::vector<std::string>& xs) {
  return map_values(xs, [](const std::string& s) { return Value::string(s); });
}

Value to_value(const gql::Value& v) {
  Obj o;
  o.list("Children", map_values(v.children, [](const gql::ChildValue& c) {
    return Obj().str("Name", c.name).put("Value", to_value(c.value)).done();
  }));
  o.boolean("ExpectedTypeHasDefault", false);
  o.put("Kind", Value::integer(static_cast<int>(v.kind)));
  return o.str("Raw", v.raw).done();
}

Value to_value(const gql::Type& t) {
  Obj o;
  if (t.elem) o.put("Elem", to_value(*t.elem));
  return o.str("NamedType", t.named).boolean("NonNull", t.non_null).done();
}

std::vector<Value> to_values(const std::vector<gql::Argument>& args) {
  return map_values(args, [](const gql::Argument& a) {
    return Obj().str("Name", a.name).put("Value", to_value(a.value)).done();
  });
}

std::vector<Value> to_values(const std::vector<gql::Directive>& ds) {
  return map_values(ds, [](const gql::Directive& d) {
    return Obj().list("Arguments", to_values(d.arguments)).str("Location", "").str("Name", d.name).done();
  });
}

std::vector<Value> to_values(const std::vector<gql::Selection>& ss) {
  return map_values(ss, [](const gql::Selection& s) {
    Obj o;
    switch (s.kind) {
      case gql::Selection::Kind::Field:
        o.str("Alias", s.alias).list("Arguments", to_values(s.arguments));
        o.list("Directives", to_values(s.directives)).str("Name", s.name);
        o.list("SelectionSet", to_values(s.selections));
        break;
      case gql::Selection::Kind::FragmentSpread:
        o.list("Directives", to_values(s.directives)).str("Name", s.name);
        break;
      case gql::Selection::Kind::InlineFragment:
        o.list("Directives", to_values(s.directives)).list("SelectionSet", to_values(s.selections));
        o.str("TypeCondition", s.type_condition);
        break;
    }
    return o.done();
  });
}

std::vector<Value> to_values(const std::vector<gql::VariableDefinition>& vs) {
  return map_values(vs, [](const gql::VariableDefinition& v) {
    Obj o;
    if (v.default_value) o.put("DefaultValue", to_value(*v.default_value));
    o.list("Directives", to_values(v.directives)).put("Type", to_value(v.type));
    return o.boolean("Used", false).str("Variable", v.variable).done();
  });
}

Value to_value(const gql::QueryDocument& doc) {
  Obj o;
  o.list("Fragments", map_values(doc.fragments, [](const gql::Fragment& f) {
    return Obj()
        .list("Directives", to_values(f.directives))
        .str("Name", f.name)
        .list("SelectionSet", to_values(f.selections))
        .str("TypeCondition", f.type_condition)
        .list("VariableDefinition", to_values(f.variables))
        .done();
  }));
  o.list("Operations", map_values(doc.operations, [](const gql::Operation& op) {
    return Obj()
        .list("Directives", to_values(op.directives))
        .str("Name", op.name)
        .str("Operation", op.operation)
        .list("SelectionSet", to_values(op.selections))
        .list("VariableDefinitions", to_values(op.variables))
        .done();
  }));
  return o.done();
}

std::vector<Value> to_values(const std::vector<gql::FieldDefinition>& fs) {
  return map_values(fs, [](const gql::FieldDefinition& f) {
    Obj o;
    o.list("Arguments", to_values(f.arguments));
    if (f.default_value) o.put("DefaultValue", to_value(*f.default_value));
    o.str("Description", f.description).list("Directives", to_values(f.directives)).str("Name", f.name);
    return o.put("Type", to_value(f.type)).done();
  });
}

std::vector<Value> to_values(const std::vector<gql::Definition>& ds) {
  return map_values(ds, [](const gql::Definition& d) {
    Obj o;
    o.boolean("BuiltIn", d.builtin).str("Description", d.description).list("Directives", to_values(d.directives));
    o.list("EnumValues", map_values(d.enum_values, [](const gql::EnumValueDefinition& e) {
      return Obj().str("Description", e.description).list("Directives", to_values(e.directives)).str("Name", e.name).done();
    }));
    o.list("Fields", to_values(d.fields)).list("Interfaces", strings(d.interfaces)).str("Kind", d.kind);
    return o.str("Name", d.name).list("Types", strings(d.types)).done();
  });
}

std::vector<Value> to_values(const std::vector<gql::SchemaDefinition>& ss) {
  return map_values(ss, [](const gql::SchemaDefinition& s) {
    return Obj()
        .str("Description", s.description)
        .list("Directives", to_values(s.directives))
        .list("OperationTypes", map_values(s.operation_types, [](const gql::OperationTypeDefinition& t) {
          return Obj().str("Operation", t.operation).str("Type", t.type).done();
        }))
        .done();
  });
}

Value to_value(const gql::SchemaDocument& doc) {
  Obj o;
  o.list("Definitions", to_values(doc.definitions));
  o.list("Directives", map_values(doc.directives, [](const gql::DirectiveDefinition& d) {
    return Obj()
        .list("Arguments", to_values(d.arguments))
        .str("Description", d.description)
        .boolean("IsRepeatable", d.repeatable)
        .list("Locations", strings(d.locations))
        .str("Name", d.name)
        .done();
  }));
  o.list("Extensions", to_values(doc.extensions));
  o.list("Schema", to_values(doc.schema));
  o.list("SchemaExtension", to_values(doc.schema_extension));
  return o.done();
}

// ---------------------------------------------------------------------------------------------
// Rego value (an AST object) -> AST. Missing keys take Go's zero values, as with json.Unmarshal;
// a key of the wrong type is an error.

class Decoder {
 public:
  std::optional<std::string> error;

  std::string str(const Value& o, const char* k) {
    const Value* v = o.get(k);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) {
      fail(std::string(k) + " must be a string");
      return {};
    }
    return v->as_string();
  }
  bool boolean(const Value& o, const char* k) {
    const Value* v = o.get(k);
    if (!v || v->is_null()) return false;
    if (!v->is_bool()) fail(std::string(k) + " must be a boolean");
    return v->is_true();
  }
  // Elements of an array-valued key (absent/null: none).
  std::vector<Value> items(const Value& o, const char* k) {
    const Value* v = o.get(k);
    if (!v || v->is_null()) return {};
    if (!v->is_array()) {
      fail(std::string(k) + " must be an array");
      return {};
    }
    std::vector<Value> out;
    for (const auto& x : v->array_items()) {
      if (!x.is_object() && !x.is_string()) {
        fail(std::string(k) + " elements must be objects or strings");
        return {};
      }
      out.push_back(x);
    }
    return out;
  }
  std::vector<std::string> strings(const Value& o, const char* k) {
    std::vector<std::string> out;
    for (const auto& x : items(o, k)) {
      if (!x.is_string()) {
        fail(std::string(k) + " elements must be strings");
        return {};
      }
      out.push_back(x.as_string());
    }
    return out;
  }
  const Value* object(const Value& o, const char* k) {
    const Value* v = o.get(k);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_object()) {
      fail(std::string(k) + " must be an object");
      return nullptr;
    }
    return v;
  }
  template <typename T, typename F>
  std::vector<T> list(const Value& o, const char* k, F f) {
    std::vector<T> out;
    for (const auto& x : items(o, k)) {
      if (!x.is_object()) {
        fail(std::string(k) + " elements must be objects");
        break;
      }
      out.push_back(f(x));
      if (error) break;
    }
    return out;
  }

  gql::Value value(const Value& o) {
    gql::Value v;
    Depth d(*this);
    if (error) return v;
    const Value* k = o.get("Kind");
    if (k && !k->is_null()) {
      std::int64_t n = k->is_int() ? k->as_int() : -1;
      if (n < 0 || n > 9) {
        fail("Kind must be a value kind number 0..9");
        return v;
      }
      v.kind = static_cast<gql::ValueKind>(n);
    } else {
      v.kind = gql::ValueKind::Variable;  // Go zero value
    }
    v.raw = str(o, "Raw");
    v.children = list<gql::ChildValue>(o, "Children", [&](const Value& c) {
      gql::ChildValue cv;
      cv.name = str(c, "Name");
      if (const Value* x = object(c, "Value")) cv.value = value(*x);
      return cv;
    });
    return v;
  }

  gql::Type type(const Value& o) {
    gql::Type t;
    Depth d(*this);
    if (error) return t;
    t.named = str(o, "NamedType");
    t.non_null = boolean(o, "NonNull");
    if (const Value* e = object(o, "Elem")) t.elem = std::make_shared<gql::Type>(type(*e));
    return t;
  }

  std::vector<gql::Argument> arguments(const Value& o) {
    return list<gql::Argument>(o, "Arguments", [&](const Value& a) {
      gql::Argument arg;
      arg.name = str(a, "Name");
      if (const Value* x = object(a, "Value")) arg.value = value(*x);
      return arg;
    });
  }

  std::vector<gql::Directive> directives(const Value& o) {
    return list<gql::Directive>(o, "Directives", [&](const Value& d) {
      gql::Directive dir;
      dir.name = str(d, "Name");
      dir.arguments = arguments(d);
      return dir;
    });
  }

  // gqlparser tells selections apart by their keys: inline fragments carry TypeCondition, fields
  // carry Alias, anything else is a fragment spread.
  std::vector<gql::Selection> selections(const Value& o) {
    Depth d(*this);
    if (error) return {};
    return list<gql::Selection>(o, "SelectionSet", [&](const Value& s) {
      gql::Selection sel;
      if (s.get("TypeCondition")) {
        sel.kind = gql::Selection::Kind::InlineFragment;
        sel.type_condition = str(s, "TypeCondition");
      } else if (s.get("Alias")) {
        sel.kind = gql::Selection::Kind::Field;
        sel.alias = str(s, "Alias");
        sel.arguments = arguments(s);
      } else {
        sel.kind = gql::Selection::Kind::FragmentSpread;
      }
      sel.name = str(s, "Name");
      if (sel.kind == gql::Selection::Kind::Field && sel.alias.empty()) sel.alias = sel.name;
      sel.directives = directives(s);
      sel.selections = selections(s);
      return sel;
    });
  }

  std::vector<gql::VariableDefinition> variables(const Value& o, const char* key) {
    return list<gql::VariableDefinition>(o, key, [&](const Value& v) {
      gql::VariableDefinition vd;
      vd.variable = str(v, "Variable");
      if (const Value* t = object(v, "Type")) vd.type = type(*t);
      if (const Value* dv = object(v, "DefaultValue")) vd.default_value = value(*dv);
      vd.directives = directives(v);
      return vd;
    });
  }

  gql::QueryDocument query(const Value& o) {
    gql::QueryDocument doc;
    doc.operations = list<gql::Operation>(o, "Operations", [&](const Value& x) {
      gql::Operation op;
      op.operation = str(x, "Operation");
      op.name = str(x, "Name");
      op.variables = variables(x, "VariableDefinitions");
      op.directives = directives(x);
      op.selections = selections(x);
      return op;
    });
    doc.fragments = list<gql::Fragment>(o, "Fragments", [&](const Value& x) {
      gql::Fragment f;
      f.name = str(x, "Name");
      f.variables = variables(x, "VariableDefinition");
      f.type_condition = str(x, "TypeCondition");
      f.directives = directives(x);
      f.selections = selections(x);
      return f;
    });
    return doc;
  }

  std::vector<gql::FieldDefinition> fields(const Value& o, const char* key) {
    Depth d(*this);
    if (error) return {};
    return list<gql::FieldDefinition>(o, key, [&](const Value& x) {
      gql::FieldDefinition f;
      f.description = str(x, "Description");
      f.name = str(x, "Name");
      f.arguments = fields(x, "Arguments");
      if (const Value* dv = object(x, "DefaultValue")) f.default_value = value(*dv);
      if (const Value* t = object(x, "Type")) f.type = type(*t);
      f.directives = directives(x);
      return f;
    });
  }

  std::vector<gql::Definition> definitions(const Value& o, const char* key) {
    return list<gql::Definition>(o, key, [&](const Value& x) {
      gql::Definition d;
      d.kind = str(x, "Kind");
      d.description = str(x, "Description");
      d.name = str(x, "Name");
      d.directives = directives(x);
      d.interfaces = strings(x, "Interfaces");
      d.fields = fields(x, "Fields");
      d.types = strings(x, "Types");
      d.enum_values = list<gql::EnumValueDefinition>(x, "EnumValues", [&](const Value& e) {
        gql::EnumValueDefinition ev;
        ev.description = str(e, "Description");
        ev.name = str(e, "Name");
        ev.directives = directives(e);
        return ev;
      });
      d.builtin = boolean(x, "BuiltIn");
      return d;
    });
  }

  std::vector<gql::SchemaDefinition> schema_defs(const Value& o, const char* key) {
    return list<gql::SchemaDefinition>(o, key, [&](const Value& x) {
      gql::SchemaDefinition s;
      s.description = str(x, "Description");
      s.directives = directives(x);
      s.operation_types = list<gql::OperationTypeDefinition>(x, "OperationTypes", [&](const Value& t) {
        return gql::OperationTypeDefinition{str(t, "Operation"), str(t, "Type"), {}};
      });
      return s;
    });
  }

  gql::SchemaDocument schema(const Value& o) {
    gql::SchemaDocument doc;
    doc.schema = schema_defs(o, "Schema");
    doc.schema_extension = schema_defs(o, "SchemaExtension");
    doc.directives = list<gql::DirectiveDefinition>(o, "Directives", [&](const Value& x) {
      gql::DirectiveDefinition d;
      d.description = str(x, "Description");
      d.name = str(x, "Name");
      d.arguments = fields(x, "Arguments");
      d.locations = strings(x, "Locations");
      d.repeatable = boolean(x, "IsRepeatable");
      return d;
    });
    doc.definitions = definitions(o, "Definitions");
    doc.extensions = definitions(o, "Extensions");
    return doc;
  }

 private:
  struct Depth {
    Decoder& d;
    explicit Depth(Decoder& dec) : d(dec) {
      if (++d.depth_ > gql::kMaxDepth) d.fail("AST nesting exceeds " + std::to_string(gql::kMaxDepth) + " levels");
    }
    ~Depth() { --d.depth_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
  };
  void fail(std::string msg) {
    if (!error) error = std::move(msg);
  }
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// builtins

std::string located(const gql::Error& e, std::string_view what) {
  return e.message + " in " + std::string(what) + " at location " + std::to_string(e.pos.line) + ":" +
         std::to_string(e.pos.column);
}

BResult<gql::QueryDocument> query_arg(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i,
                                      std::string* failure) {
  const Value& v = args[i];
  if (v.is_string()) {
    auto doc = gql::parse_query(v.as_string());
    if (!doc) *failure = located(doc.error(), "GraphQL string");
    return doc ? std::move(*doc) : gql::QueryDocument{};
  }
  if (v.is_object()) {
    Decoder d;
    auto doc = d.query(v);
    if (d.error) *failure = "invalid GraphQL query AST: " + *d.error;
    return doc;
  }
  return tl::unexpected(type_error(ctx, i + 1, "one of {object, string}", v));
}

BResult<gql::SchemaDocument> schema_arg(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i,
                                        std::string* failure) {
  const Value& v = args[i];
  if (v.is_string()) {
    auto doc = gql::parse_schema(v.as_string());
    if (!doc) *failure = located(doc.error(), "GraphQL schema string");
    return doc ? std::move(*doc) : gql::SchemaDocument{};
  }
  if (v.is_object()) {
    Decoder d;
    auto doc = d.schema(v);
    if (d.error) *failure = "invalid GraphQL schema AST: " + *d.error;
    return doc;
  }
  return tl::unexpected(type_error(ctx, i + 1, "one of {object, string}", v));
}

struct Checked {
  gql::QueryDocument query;
  gql::SchemaDocument schema;
  std::string failure;  // empty: parsed, loaded and valid
};

// Parse the query, load the schema, validate: the steps of OPA's parse / parse_and_verify /
// is_valid, stopping at the first failure.
BResult<Checked> check(const BuiltinContext& ctx, std::span<const Value> args) {
  Checked c;
  c.query = REGO_ARG(query_arg(ctx, args, 0, &c.failure));
  if (!c.failure.empty()) return c;
  c.schema = REGO_ARG(schema_arg(ctx, args, 1, &c.failure));
  if (!c.failure.empty()) return c;
  auto schema = gql::load_schema(c.schema);
  if (!schema) {
    c.failure = located(schema.error(), "GraphQL schema string");
    return c;
  }
  if (auto e = gql::validate_query(*schema, c.query)) {
    // OPA trims the full stop gqlparser ends its validation messages with.
    if (!e->message.empty() && e->message.back() == '.') e->message.pop_back();
    c.failure = located(*e, "GraphQL string");
  }
  return c;
}

BuiltinResult parse_query(BuiltinContext& ctx, std::span<const Value> args) {
  const std::string& src = *REGO_ARG(arg_string(ctx, args, 0));
  auto doc = gql::parse_query(src);
  if (!doc) return tl::unexpected(builtin_error(ctx, located(doc.error(), "GraphQL string")));
  return to_value(*doc);
}

BuiltinResult parse_schema(BuiltinContext& ctx, std::span<const Value> args) {
  const std::string& src = *REGO_ARG(arg_string(ctx, args, 0));
  auto doc = gql::parse_schema(src);
  if (!doc) return tl::unexpected(builtin_error(ctx, located(doc.error(), "GraphQL string")));
  return to_value(*doc);
}

BuiltinResult parse(BuiltinContext& ctx, std::span<const Value> args) {
  Checked c = REGO_ARG(check(ctx, args));
  if (!c.failure.empty()) return tl::unexpected(builtin_error(ctx, c.failure));
  return Value::array({to_value(c.query), to_value(c.schema)});
}

BuiltinResult parse_and_verify(BuiltinContext& ctx, std::span<const Value> args) {
  Checked c = REGO_ARG(check(ctx, args));
  if (!c.failure.empty()) return Value::array({Value::boolean(false), Value::empty_object(), Value::empty_object()});
  return Value::array({Value::boolean(true), to_value(c.query), to_value(c.schema)});
}

BuiltinResult is_valid(BuiltinContext& ctx, std::span<const Value> args) {
  auto c = check(ctx, args);
  return Value::boolean(c && c->failure.empty());
}

BuiltinResult schema_is_valid(BuiltinContext&, std::span<const Value> args) {
  const Value& v = args[0];
  gql::SchemaDocument doc;
  if (v.is_string()) {
    auto parsed = gql::parse_schema(v.as_string());
    if (!parsed) return Value::boolean(false);
    doc = std::move(*parsed);
  } else if (v.is_object()) {
    Decoder d;
    doc = d.schema(v);
    if (d.error) return Value::boolean(false);
  } else {
    return Value::boolean(false);
  }
  return Value::boolean(gql::load_schema(doc).has_value());
}

}  // namespace

void register_graphql(Registry& r) {
  r.add({"graphql.parse_query", 1, parse_query});
  r.add({"graphql.parse_schema", 1, parse_schema});
  r.add({"graphql.parse", 2, parse});
  r.add({"graphql.parse_and_verify", 2, parse_and_verify});
  r.add({"graphql.is_valid", 2, is_valid});
  r.add({"graphql.schema_is_valid", 1, schema_is_valid});
}

}  // namespace cloister::rego::builtins
