// Schema loading and query validation for the graphql.* builtins.
//
// load_schema follows gqlparser's LoadSchema: the user's SDL is merged with gqlparser's prelude
// (built-in scalars, @include/@skip/@deprecated/@specifiedBy, the introspection types), type
// extensions are applied (an extension of an undefined type creates it, as gqlparser allows for
// federation-style schemas) and every definition is checked (GraphQL spec section 3 "Type
// Validation" rules). validate_query applies the executable-document rules of spec section 5
// that gqlparser's validator runs; messages use gqlparser's texts.
#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>

#include "builtins/graphql_ast.h"

namespace cloister::rego::builtins::graphql {

const Definition* Schema::type(std::string_view name) const {
  auto it = types.find(name);
  return it == types.end() ? nullptr : &it->second;
}

namespace {

// gqlparser's prelude (validator/prelude.graphql), written from the spec: built-in scalars
// (spec 3.5), directives (3.13) and the introspection schema (4.5).
constexpr std::string_view kPrelude = R"(
scalar Int
scalar Float
scalar String
scalar Boolean
scalar ID
directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @deprecated(reason: String = "No longer supported") on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE
directive @specifiedBy(url: String!) on SCALAR
type __Schema {
  description: String
  types: [__Type!]!
  queryType: __Type!
  mutationType: __Type
  subscriptionType: __Type
  directives: [__Directive!]!
}
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields: [__InputValue!]
  ofType: __Type
  specifiedByURL: String
}
type __Field {
  name: String!
  description: String
  args: [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}
type __InputValue {
  name: String!
  description: String
  type: __Type!
  defaultValue: String
}
type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
type __Directive {
  name: String!
  description: String
  locations: [__DirectiveLocation!]!
  args: [__InputValue!]!
  isRepeatable: Boolean!
}
enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION }
)";

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

const std::string& base_name(const Type& t) { return t.elem ? base_name(*t.elem) : t.named; }

bool is_input_kind(const std::string& k) { return k == "SCALAR" || k == "ENUM" || k == "INPUT_OBJECT"; }
bool is_output_kind(const std::string& k) { return k != "INPUT_OBJECT"; }
bool is_composite(const std::string& k) { return k == "OBJECT" || k == "INTERFACE" || k == "UNION"; }
bool is_leaf(const std::string& k) { return k == "SCALAR" || k == "ENUM"; }

const FieldDefinition* find_field(const std::vector<FieldDefinition>& fs, std::string_view name) {
  for (const auto& f : fs)
    if (f.name == name) return &f;
  return nullptr;
}

// Directive placement, shared by schema and query checks.
std::optional<Error> check_directives(const Schema& s, const std::vector<Directive>& ds, std::string_view location) {
  std::set<std::string> seen;
  for (const auto& d : ds) {
    auto it = s.directives.find(d.name);
    if (it == s.directives.end()) return Error{"Undefined directive " + d.name + ".", d.pos};
    bool ok = false;
    for (const auto& l : it->second.locations) ok = ok || l == location;
    if (!ok) return Error{"Directive " + d.name + " is not applicable on " + std::string(location) + ".", d.pos};
    if (!it->second.repeatable && !seen.insert(d.name).second)
      return Error{"Directive " + d.name + " is not repeatable but is used multiple times.", d.pos};
  }
  return std::nullopt;
}

class SchemaLoader {
 public:
  GResult<Schema> load(const SchemaDocument& user) {
    static const SchemaDocument prelude = [] {
      auto doc = parse_schema(kPrelude);
      SchemaDocument d = doc ? std::move(*doc) : SchemaDocument{};
      for (auto& def : d.definitions) def.builtin = true;
      return d;
    }();
    const SchemaDocument* docs[] = {&prelude, &user};

    std::vector<const SchemaDefinition*> schema_defs;
    for (const auto* doc : docs) {
      for (const auto& sd : doc->schema) schema_defs.push_back(&sd);
      for (const auto& def : doc->definitions) {
        if (s_.types.count(def.name)) return fail("Cannot redeclare type " + def.name + ".", def.pos);
        s_.types.emplace(def.name, def);
        order_.push_back(def.name);
      }
      for (const auto& dd : doc->directives) {
        if (s_.directives.count(dd.name)) return fail("Cannot redeclare directive " + dd.name + ".", dd.pos);
        s_.directives.emplace(dd.name, dd);
      }
    }
    if (schema_defs.size() > 1)
      return fail("Cannot have multiple schema entry points, consider schema extensions instead.", schema_defs[1]->pos);

    for (const auto* doc : docs) {
      for (const auto& ext : doc->extensions) {
        auto it = s_.types.find(ext.name);
        if (it == s_.types.end()) {
          Definition created;
          created.kind = ext.kind;
          created.name = ext.name;
          created.pos = ext.pos;
          it = s_.types.emplace(ext.name, std::move(created)).first;
          order_.push_back(ext.name);
        }
        Definition& def = it->second;
        extended_.insert(ext.name);
        if (def.kind != ext.kind)
          return fail("Cannot extend type " + ext.name + " because the base type is a " + def.kind + ", not " +
                          ext.kind + ".",
                      ext.pos);
        def.directives.insert(def.directives.end(), ext.directives.begin(), ext.directives.end());
        def.interfaces.insert(def.interfaces.end(), ext.interfaces.begin(), ext.interfaces.end());
        def.fields.insert(def.fields.end(), ext.fields.begin(), ext.fields.end());
        def.types.insert(def.types.end(), ext.types.begin(), ext.types.end());
        def.enum_values.insert(def.enum_values.end(), ext.enum_values.begin(), ext.enum_values.end());
      }
    }

    // The prelude is trusted: only what the user's document defines or extends is checked.
    for (const auto& name : order_)
      if (const Definition& def = s_.types.at(name); !def.builtin || extended_.count(name))
        if (auto e = check_definition(def)) return tl::unexpected(*e);
    for (const auto& dd : user.directives) {
      const std::string& name = dd.name;
      for (const auto& a : dd.arguments)
        if (auto e = check_input_value(a, "ARGUMENT_DEFINITION", "@" + name)) return tl::unexpected(*e);
    }

    if (!schema_defs.empty()) {
      if (auto e = check_directives(s_, schema_defs[0]->directives, "SCHEMA")) return tl::unexpected(*e);
      if (auto e = apply_roots(schema_defs[0]->operation_types)) return tl::unexpected(*e);
    } else {
      // Without a schema definition the roots are the types with the conventional names.
      if (s_.type("Query")) s_.query = "Query";
      if (s_.type("Mutation")) s_.mutation = "Mutation";
      if (s_.type("Subscription")) s_.subscription = "Subscription";
    }
    for (const auto* doc : docs) {
      for (const auto& ext : doc->schema_extension) {
        if (auto e = check_directives(s_, ext.directives, "SCHEMA")) return tl::unexpected(*e);
        if (auto e = apply_roots(ext.operation_types)) return tl::unexpected(*e);
      }
    }
    return std::move(s_);
  }

 private:
  tl::unexpected<Error> fail(std::string msg, Pos p) { return tl::unexpected(Error{std::move(msg), p}); }

  std::optional<Error> apply_roots(const std::vector<OperationTypeDefinition>& ops) {
    for (const auto& op : ops) {
      const Definition* t = s_.type(op.type);
      if (!t) return Error{"Schema root " + op.operation + " refers to a type " + op.type + " that does not exist.", op.pos};
      if (t->kind != "OBJECT") return Error{op.operation + " root type must be an OBJECT, found " + t->kind + ".", op.pos};
      (op.operation == "query" ? s_.query : op.operation == "mutation" ? s_.mutation : s_.subscription) = op.type;
    }
    return std::nullopt;
  }

  std::optional<Error> check_name(const std::string& name, Pos pos, bool builtin) {
    // Spec 3.1.x: names starting with "__" are reserved for the introspection system.
    if (!builtin && name.rfind("__", 0) == 0)
      return Error{"Name \"" + name + "\" must not begin with \"__\", which is reserved by GraphQL introspection.", pos};
    return std::nullopt;
  }

  std::optional<Error> check_type_ref(const Type& t, Pos pos) {
    if (!s_.type(base_name(t))) return Error{"Undefined type " + base_name(t) + ".", pos};
    return std::nullopt;
  }

  std::optional<Error> check_input_value(const FieldDefinition& a, std::string_view location, const std::string& owner) {
    if (auto e = check_type_ref(a.type, a.pos)) return e;
    const Definition* t = s_.type(base_name(a.type));
    if (!is_input_kind(t->kind))
      return Error{owner + " " + a.name + ": argument must be one of SCALAR, ENUM, INPUT_OBJECT.", a.pos};
    return check_directives(s_, a.directives, location);
  }

  std::optional<Error> check_definition(const Definition& def) {
    if (auto e = check_name(def.name, def.pos, def.builtin)) return e;
    if (auto e = check_directives(s_, def.directives, def.kind)) return e;
    const std::string subject = def.kind + " " + def.name;
    if (def.kind == "OBJECT" || def.kind == "INTERFACE") {
      if (def.fields.empty()) return Error{subject + ": must define one or more fields.", def.pos};
      std::set<std::string> names;
      for (const auto& f : def.fields) {
        if (!names.insert(f.name).second) return Error{"Field " + def.name + "." + f.name + " can only be defined once.", f.pos};
        if (auto e = check_name(f.name, f.pos, def.builtin)) return e;
        if (auto e = check_type_ref(f.type, f.pos)) return e;
        if (!is_output_kind(s_.type(base_name(f.type))->kind))
          return Error{subject + ": field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.", f.pos};
        std::set<std::string> arg_names;
        for (const auto& a : f.arguments) {
          if (!arg_names.insert(a.name).second)
            return Error{"Argument " + def.name + "." + f.name + "(" + a.name + ":) can only be defined once.", a.pos};
          if (auto e = check_input_value(a, "ARGUMENT_DEFINITION", def.name + "." + f.name)) return e;
        }
        if (auto e = check_directives(s_, f.directives, "FIELD_DEFINITION")) return e;
      }
      return check_implements(def);
    }
    if (def.kind == "UNION") {
      if (def.types.empty()) return Error{subject + ": must define one or more unique member types.", def.pos};
      for (const auto& m : def.types) {
        const Definition* t = s_.type(m);
        if (!t) return Error{"Undefined type " + quoted(m) + ".", def.pos};
        if (t->kind != "OBJECT")
          return Error{subject + ": UNION can only include OBJECT types, it cannot include " + quoted(m) + ".", def.pos};
      }
      return std::nullopt;
    }
    if (def.kind == "ENUM") {
      if (def.enum_values.empty()) return Error{subject + ": must define one or more unique enum values.", def.pos};
      std::set<std::string> names;
      for (const auto& v : def.enum_values) {
        if (!names.insert(v.name).second) return Error{subject + ": enum value " + v.name + " can only be defined once.", v.pos};
        if (auto e = check_directives(s_, v.directives, "ENUM_VALUE")) return e;
      }
      return std::nullopt;
    }
    if (def.kind == "INPUT_OBJECT") {
      if (def.fields.empty()) return Error{subject + ": must define one or more input fields.", def.pos};
      std::set<std::string> names;
      for (const auto& f : def.fields) {
        if (!names.insert(f.name).second) return Error{"Field " + def.name + "." + f.name + " can only be defined once.", f.pos};
        if (auto e = check_type_ref(f.type, f.pos)) return e;
        if (!is_input_kind(s_.type(base_name(f.type))->kind))
          return Error{subject + ": field must be one of SCALAR, ENUM, INPUT_OBJECT.", f.pos};
        if (auto e = check_directives(s_, f.directives, "INPUT_FIELD_DEFINITION")) return e;
      }
      return std::nullopt;
    }
    if (def.kind == "SCALAR") return std::nullopt;
    return Error{"unknown type kind " + quoted(def.kind) + " for " + def.name + ".", def.pos};
  }

  // Spec 3.6.3 / 3.7.1 "IsValidImplementation".
  std::optional<Error> check_implements(const Definition& def) {
    for (const auto& name : def.interfaces) {
      const Definition* iface = s_.type(name);
      if (!iface) return Error{"Undefined type " + quoted(name) + ".", def.pos};
      if (iface->kind != "INTERFACE") return Error{def.kind + " " + def.name + " implements non-interface type " + quoted(name) + ".", def.pos};
      if (iface->name == def.name) return Error{def.kind + " " + def.name + " cannot implement itself.", def.pos};
      for (const auto& transitive : iface->interfaces) {
        bool has = false;
        for (const auto& n : def.interfaces) has = has || n == transitive;
        if (!has)
          return Error{def.kind + " " + def.name + " must implement " + transitive + " because it is implemented by " + name + ".", def.pos};
      }
      for (const auto& f : iface->fields) {
        const FieldDefinition* own = find_field(def.fields, f.name);
        if (!own) return Error{"For " + def.name + " to implement " + name + " it must have a field called " + f.name + ".", def.pos};
        if (!is_subtype(own->type, f.type))
          return Error{"For " + def.name + " to implement " + name + " the field " + f.name + " must have type " + f.type.str() + ".", own->pos};
        for (const auto& a : f.arguments) {
          const FieldDefinition* oa = find_field(own->arguments, a.name);
          if (!oa || oa->type.str() != a.type.str())
            return Error{"For " + def.name + " to implement " + name + " the field " + f.name + " must have the same arguments but it is missing " + a.name + ".", own->pos};
        }
      }
    }
    return std::nullopt;
  }

  // Output-type covariance (spec 3.6.3 IsValidImplementationFieldType).
  bool is_subtype(const Type& sub, const Type& super) const {
    if (super.non_null && !sub.non_null) return false;
    if (super.elem || sub.elem) {
      if (!super.elem || !sub.elem) return false;
      return is_subtype(*sub.elem, *super.elem);
    }
    if (sub.named == super.named) return true;
    const Definition* st = s_.type(sub.named);
    const Definition* pt = s_.type(super.named);
    if (!st || !pt) return false;
    if (pt->kind == "UNION") {
      for (const auto& m : pt->types)
        if (m == sub.named) return true;
      return false;
    }
    if (pt->kind == "INTERFACE") {
      for (const auto& i : st->interfaces)
        if (i == super.named) return true;
    }
    return false;
  }

  Schema s_;
  std::vector<std::string> order_;
  std::set<std::string> extended_;
};

// ---------------------------------------------------------------------------------------------

std::string value_text(const Value& v) {
  switch (v.kind) {
    case ValueKind::Variable: return "$" + v.raw;
    case ValueKind::String:
    case ValueKind::Block: return quoted(v.raw);
    case ValueKind::List: {
      std::string s = "[";
      for (std::size_t i = 0; i < v.children.size(); ++i) s += (i ? "," : "") + value_text(v.children[i].value);
      return s + "]";
    }
    case ValueKind::Object: {
      std::string s = "{";
      for (std::size_t i = 0; i < v.children.size(); ++i)
        s += (i ? "," : "") + v.children[i].name + ":" + value_text(v.children[i].value);
      return s + "}";
    }
    default: return v.raw;
  }
}

struct VarUsage {
  std::string name;
  Type location;              // the type expected where the variable is used
  bool location_has_default;  // the argument/field there has a default
  Pos pos;
};

// Meta-fields (spec 4.4), which the schema does not list: __typename anywhere, __schema and
// __type on the query root.
FieldDefinition meta_field(std::string name, std::string type, bool non_null) {
  FieldDefinition f;
  f.name = std::move(name);
  f.type.named = std::move(type);
  f.type.non_null = non_null;
  return f;
}
const FieldDefinition& schema_field() {
  static const FieldDefinition d = meta_field("__schema", "__Schema", true);
  return d;
}
const FieldDefinition& type_field() {
  static const FieldDefinition d = [] {
    FieldDefinition f = meta_field("__type", "__Type", false);
    f.arguments.push_back(meta_field("name", "String", true));
    return f;
  }();
  return d;
}

class QueryValidator {
 public:
  QueryValidator(const Schema& s, const QueryDocument& d) : s_(s), doc_(d) {}

  std::optional<Error> run() {
    for (const auto& f : doc_.fragments) fragments_.emplace(f.name, &f);
    check_operation_names();
    for (const auto& op : doc_.operations) operation(op);
    for (const auto& f : doc_.fragments) fragment(f);
    check_fragments();
    for (const auto& op : doc_.operations) variables_of(op);
    if (errors_.empty()) return std::nullopt;
    return errors_.front();
  }

 private:
  void error(std::string msg, Pos p) { errors_.push_back(Error{std::move(msg), p}); }

  void check_operation_names() {
    std::set<std::string> names;
    for (const auto& op : doc_.operations) {
      if (op.name.empty() && doc_.operations.size() > 1)
        error("This anonymous operation must be the only defined operation.", op.pos);
      if (!op.name.empty() && !names.insert(op.name).second)
        error("There can be only one operation named " + quoted(op.name) + ".", op.pos);
    }
  }

  void operation(const Operation& op) {
    const std::string& root = op.operation == "query" ? s_.query : op.operation == "mutation" ? s_.mutation : s_.subscription;
    const Definition* root_def = root.empty() ? nullptr : s_.type(root);
    if (!root_def) error("Schema does not support operation type " + quoted(op.operation), op.pos);
    std::string location = op.operation == "query" ? "QUERY" : op.operation == "mutation" ? "MUTATION" : "SUBSCRIPTION";
    directives(op.directives, location);
    variable_definitions(op.variables);
    if (op.operation == "subscription" && root_def) {
      std::set<std::string> visited;
      if (count_top_fields(op.selections, visited) > 1)
        error(op.name.empty() ? "Anonymous Subscription must select only one top level field."
                              : "Subscription " + quoted(op.name) + " must select only one top level field.",
              op.pos);
    }
    Scope scope{&usages_[&op], &spreads_[&op], {}};
    selection_set(root_def, op.selections, scope, root_def);
  }

  int count_top_fields(const std::vector<Selection>& ss, std::set<std::string>& visited) {
    int n = 0;
    for (const auto& s : ss) {
      if (s.kind == Selection::Kind::Field) {
        ++n;
      } else if (s.kind == Selection::Kind::InlineFragment) {
        n += count_top_fields(s.selections, visited);
      } else if (auto it = fragments_.find(s.name); it != fragments_.end() && visited.insert(s.name).second) {
        n += count_top_fields(it->second->selections, visited);
      }
    }
    return n;
  }

  void variable_definitions(const std::vector<VariableDefinition>& vars) {
    std::set<std::string> names;
    for (const auto& v : vars) {
      if (!names.insert(v.variable).second) error("There can be only one variable named " + quoted("$" + v.variable) + ".", v.pos);
      const Definition* t = s_.type(base_name(v.type));
      if (!t) {
        error("Unknown type " + quoted(base_name(v.type)) + ".", v.type.pos);
      } else if (!is_input_kind(t->kind)) {
        error("Variable " + quoted("$" + v.variable) + " cannot be non-input type " + quoted(v.type.str()) + ".", v.type.pos);
      } else if (v.default_value) {
        value(*v.default_value, v.type, nullptr);
      }
      directives(v.directives, "VARIABLE_DEFINITION");
    }
  }

  void fragment(const Fragment& f) {
    const Definition* t = s_.type(f.type_condition);
    if (!t) {
      error("Unknown type " + quoted(f.type_condition) + ".", f.pos);
    } else if (!is_composite(t->kind)) {
      error("Fragment " + quoted(f.name) + " cannot condition on non composite type " + quoted(f.type_condition) + ".", f.pos);
      t = nullptr;
    }
    directives(f.directives, "FRAGMENT_DEFINITION");
    variable_definitions(f.variables);
    Scope scope{&fragment_usages_[f.name], &fragment_spreads_[f.name], {}};
    for (const auto& v : f.variables) scope.local.insert(v.variable);
    selection_set(t, f.selections, scope, nullptr);
  }

  struct Scope {
    std::vector<VarUsage>* usages;
    std::vector<std::string>* spreads;
    std::set<std::string> local;  // fragment-defined variables: not the operation's business
  };

  // ---- Spec 5.3.2 "Field Selection Merging", as gqlparser's OverlappingFieldsCanBeMerged rule
  // finds conflicts (validator/rules/overlapping_fields_can_be_merged.go): fields of one response
  // name are compared "within" a selection set, then "between" it and each fragment it spreads and
  // between those fragments; two compared fields must be the same field with the same arguments
  // (unless their parents are distinct object types), return types of the same shape, and their
  // sub-selections are compared the same way. The order of comparisons is gqlparser's, so the first
  // conflict reported (OPA reports only the first error) is the same one.

  struct MergeField {
    const Selection* sel;
    const Definition* parent;    // the type the field is selected on (nullptr: unknown)
    const FieldDefinition* def;  // nullptr: no such field (another rule reports it)
  };
  // A selection set's fields by response name (in first-seen order, inline fragments flattened)
  // and the fragment spreads it holds, not followed.
  struct FieldsAndSpreads {
    std::vector<std::pair<std::string, std::vector<MergeField>>> by_name;
    std::unordered_map<std::string_view, std::size_t> index;  // response name -> by_name position
    std::vector<const Selection*> spreads;
    const std::vector<MergeField>* get(const std::string& name) const {
      auto it = index.find(name);
      return it == index.end() ? nullptr : &by_name[it->second].second;
    }
    bool same_fields(const FieldsAndSpreads& o) const {
      if (by_name.size() != o.by_name.size()) return false;
      for (std::size_t i = 0; i < by_name.size(); ++i) {
        if (by_name[i].first != o.by_name[i].first || by_name[i].second.size() != o.by_name[i].second.size()) return false;
        for (std::size_t j = 0; j < by_name[i].second.size(); ++j)
          if (by_name[i].second[j].sel != o.by_name[i].second[j].sel) return false;
      }
      return true;
    }
  };
  struct Conflict {
    std::string response;
    std::string reason;          // empty when `subs` says why
    std::vector<Conflict> subs;  // conflicting sub-fields
    Pos pos;
    void write(std::string& out) const {
      if (subs.empty()) {
        out += reason;
        return;
      }
      for (std::size_t i = 0; i < subs.size(); ++i) {
        if (i) out += " and ";
        out += "subfields " + quoted(subs[i].response) + " conflict because ";
        subs[i].write(out);
      }
    }
  };

  // The definition of field `name` on `parent`, as gqlparser's walker annotates a field (its
  // __typename is a nullable String; __schema and __type live on the query root).
  const FieldDefinition* merge_field_def(const Definition* parent, const std::string& name) const {
    if (name == "__typename") {
      static const FieldDefinition typename_def = meta_field("__typename", "String", false);
      return &typename_def;
    }
    if (!parent) return nullptr;
    if ((name == "__schema" || name == "__type") && !s_.query.empty() && parent == s_.type(s_.query))
      return name == "__schema" ? &schema_field() : &type_field();
    return find_field(parent->fields, name);
  }

  // (Each selection walked counts against the comparison budget too: a hostile query may make
  // the same large selection sets be collected again for every pair of fields holding them.)
  FieldsAndSpreads fields_and_spreads(const Definition* parent, const std::vector<Selection>& ss, int depth = 0) {
    FieldsAndSpreads out;
    std::function<void(const Definition*, const std::vector<Selection>&, int)> walk =
        [&](const Definition* p, const std::vector<Selection>& sels, int d) {
          if (d > kMaxDepth) return;  // (the parser bounds nesting; this keeps the walk bounded alone)
          for (const auto& s : sels) {
            if (merge_budget_ == 0) return;
            --merge_budget_;
            if (s.kind == Selection::Kind::Field) {
              MergeField f{&s, p, merge_field_def(p, s.name)};
              auto [it, fresh] = out.index.try_emplace(s.alias, out.by_name.size());
              if (fresh) out.by_name.push_back({s.alias, {f}});
              else out.by_name[it->second].second.push_back(f);
            } else if (s.kind == Selection::Kind::InlineFragment) {
              walk(s.type_condition.empty() ? p : s_.type(s.type_condition), s.selections, d + 1);
            } else {
              out.spreads.push_back(&s);
            }
          }
        };
    walk(parent, ss, depth);
    return out;
  }

  const Fragment* fragment_named(const std::string& name) const {
    auto it = fragments_.find(name);
    return it == fragments_.end() ? nullptr : it->second;
  }
  FieldsAndSpreads fragment_fields(const Fragment& f) {
    return fields_and_spreads(s_.type(f.type_condition), f.selections);
  }

  static bool same_arguments(const std::vector<Argument>& a, const std::vector<Argument>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& x : a) {
      // gqlparser compares a value's kind and raw text: lists and objects have none, so any two
      // of a kind are alike there.
      bool matched = std::any_of(b.begin(), b.end(), [&](const Argument& y) {
        return x.name == y.name && x.value.kind == y.value.kind && x.value.raw == y.value.raw;
      });
      if (!matched) return false;
    }
    return true;
  }

  bool types_conflict(const Type& a, const Type& b) const {
    if (a.elem || b.elem) return !(a.elem && b.elem) || types_conflict(*a.elem, *b.elem);
    if (a.non_null != b.non_null) return true;
    const Definition* ta = s_.type(a.named);
    const Definition* tb = s_.type(b.named);
    if (ta && tb && is_leaf(ta->kind) && is_leaf(tb->kind)) return ta->name != tb->name;
    return false;
  }

  std::optional<Conflict> find_conflict(bool parents_exclusive, const MergeField& a, const MergeField& b, int depth) {
    if (!a.def || !a.parent || !b.def || !b.parent || depth > kMaxDepth) return std::nullopt;
    if (merge_budget_ == 0) return std::nullopt;  // check_merging reports the exhausted budget
    --merge_budget_;
    const bool exclusive = parents_exclusive || (a.parent->name != b.parent->name && a.parent->kind == "OBJECT" &&
                                                 b.parent->kind == "OBJECT");
    const std::string& response = a.sel->alias;
    if (!exclusive) {
      if (a.sel->name != b.sel->name)
        return Conflict{response, a.sel->name + " and " + b.sel->name + " are different fields", {}, b.sel->pos};
      if (!same_arguments(a.sel->arguments, b.sel->arguments))
        return Conflict{response, "they have differing arguments", {}, b.sel->pos};
    }
    if (types_conflict(a.def->type, b.def->type))
      return Conflict{response, "they return conflicting types " + a.def->type.str() + " and " + b.def->type.str(), {},
                      b.sel->pos};
    std::vector<Conflict> subs = conflicts_between_sub_selections(
        exclusive, s_.type(base_name(a.def->type)), a.sel->selections, s_.type(base_name(b.def->type)), b.sel->selections,
        depth + 1);
    if (subs.empty()) return std::nullopt;
    return Conflict{response, "", std::move(subs), b.sel->pos};
  }

  // (Only check_merging compares within a set: it wants the first conflict only.)
  void first_conflict_within(std::vector<Conflict>& out, const FieldsAndSpreads& fs) {
    for (const auto& [name, fields] : fs.by_name)
      for (std::size_t i = 0; i < fields.size(); ++i)
        for (std::size_t j = i + 1; j < fields.size(); ++j)
          if (auto c = find_conflict(false, fields[i], fields[j], 0)) {
            out.push_back(std::move(*c));
            return;
          }
  }

  void conflicts_between(std::vector<Conflict>& out, bool exclusive, const FieldsAndSpreads& a, const FieldsAndSpreads& b,
                         int depth) {
    for (const auto& [name, fields_a] : a.by_name) {
      const std::vector<MergeField>* fields_b = b.get(name);
      if (!fields_b) continue;
      for (const auto& fa : fields_a)
        for (const auto& fb : *fields_b)
          if (auto c = find_conflict(exclusive, fa, fb, depth)) out.push_back(std::move(*c));
    }
  }

  void conflicts_with_fragment(std::vector<Conflict>& out, bool exclusive, const FieldsAndSpreads& fs,
                               const std::string& fragment, int depth) {
    if (!compared_fragments_.insert(fragment).second) return;
    const Fragment* f = fragment_named(fragment);
    if (!f || depth > kMaxDepth) return;
    FieldsAndSpreads other = fragment_fields(*f);
    if (fs.same_fields(other)) return;  // a fragment's fields are never compared with themselves
    conflicts_between(out, exclusive, fs, other, depth);
    for (const Selection* spread : other.spreads)
      if (spread->name != fragment) conflicts_with_fragment(out, exclusive, fs, spread->name, depth + 1);
  }

  void conflicts_between_fragments(std::vector<Conflict>& out, bool exclusive, const std::string& a, const std::string& b,
                                   int depth) {
    if (a == b || depth > kMaxDepth) return;
    // A pair compared without exclusivity needs no comparison with it; one compared with it
    // still does without (gqlparser's pairSet).
    auto key = std::minmax(a, b);
    auto it = compared_pairs_.find({key.first, key.second});
    if (it != compared_pairs_.end() && (exclusive || !it->second)) return;
    compared_pairs_[{key.first, key.second}] = exclusive;
    const Fragment* fa = fragment_named(a);
    const Fragment* fb = fragment_named(b);
    if (!fa || !fb) return;
    FieldsAndSpreads sa = fragment_fields(*fa);
    FieldsAndSpreads sb = fragment_fields(*fb);
    conflicts_between(out, exclusive, sa, sb, depth);
    for (const Selection* spread : sb.spreads) conflicts_between_fragments(out, exclusive, a, spread->name, depth + 1);
    for (const Selection* spread : sa.spreads) conflicts_between_fragments(out, exclusive, spread->name, b, depth + 1);
  }

  std::vector<Conflict> conflicts_between_sub_selections(bool exclusive, const Definition* pa, const std::vector<Selection>& a,
                                                         const Definition* pb, const std::vector<Selection>& b, int depth) {
    std::vector<Conflict> out;
    FieldsAndSpreads sa = fields_and_spreads(pa, a);
    FieldsAndSpreads sb = fields_and_spreads(pb, b);
    conflicts_between(out, exclusive, sa, sb, depth);
    for (const Selection* spread : sb.spreads) {
      compared_fragments_.clear();
      conflicts_with_fragment(out, exclusive, sa, spread->name, depth);
    }
    for (const Selection* spread : sa.spreads) {
      compared_fragments_.clear();
      conflicts_with_fragment(out, exclusive, sb, spread->name, depth);
    }
    for (const Selection* x : sa.spreads)
      for (const Selection* y : sb.spreads) conflicts_between_fragments(out, exclusive, x->name, y->name, depth);
    return out;
  }

  // Only the first error of a document is reported (as OPA does), so the comparisons stop at the
  // first conflict, and are not made at all once another rule has failed. They are quadratic in
  // the fields of one response name (as in gqlparser), so a hostile query could ask for billions:
  // a budget of steps (field pairs compared, selections collected) bounds them, and a query that
  // exhausts it is refused as too large to validate.
  void check_merging(const Definition* parent, const std::vector<Selection>& ss) {
    if (!errors_.empty()) return;
    FieldsAndSpreads fs = fields_and_spreads(parent, ss);
    std::vector<Conflict> found;
    first_conflict_within(found, fs);
    compared_fragments_.clear();
    for (std::size_t i = 0; i < fs.spreads.size() && found.empty(); ++i) {
      conflicts_with_fragment(found, false, fs, fs.spreads[i]->name, 0);
      for (std::size_t j = i + 1; j < fs.spreads.size() && found.empty(); ++j)
        conflicts_between_fragments(found, false, fs.spreads[i]->name, fs.spreads[j]->name, 0);
    }
    if (!found.empty()) {
      std::string why;
      found.front().write(why);
      error("Fields " + quoted(found.front().response) + " conflict because " + why +
                ". Use different aliases on the fields to fetch both if this was intentional.",
            found.front().pos);
    } else if (merge_budget_ == 0) {
      error("Query is too large to validate: field merging needs more than " + std::to_string(kMaxMergeComparisons) +
                " steps.",
            ss.front().pos);
    }
  }

  void selection_set(const Definition* parent, const std::vector<Selection>& ss, Scope& scope, const Definition* query_root) {
    if (!ss.empty()) check_merging(parent, ss);
    for (const auto& s : ss) {
      switch (s.kind) {
        case Selection::Kind::Field: field(parent, s, scope, query_root); break;
        case Selection::Kind::FragmentSpread: {
          scope.spreads->push_back(s.name);
          directives(s.directives, "FRAGMENT_SPREAD", &scope);
          auto it = fragments_.find(s.name);
          if (it == fragments_.end()) {
            error("Unknown fragment " + quoted(s.name) + ".", s.pos);
            break;
          }
          const Definition* ft = s_.type(it->second->type_condition);
          if (parent && ft && is_composite(ft->kind) && !overlap(parent, ft))
            error("Fragment " + quoted(s.name) + " cannot be spread here as objects of type " + quoted(parent->name) +
                      " can never be of type " + quoted(ft->name) + ".",
                  s.pos);
          break;
        }
        case Selection::Kind::InlineFragment: {
          const Definition* t = parent;
          if (!s.type_condition.empty()) {
            t = s_.type(s.type_condition);
            if (!t) {
              error("Unknown type " + quoted(s.type_condition) + ".", s.pos);
            } else if (!is_composite(t->kind)) {
              error("Fragment cannot condition on non composite type " + quoted(s.type_condition) + ".", s.pos);
              t = nullptr;
            } else if (parent && !overlap(parent, t)) {
              error("Fragment cannot be spread here as objects of type " + quoted(parent->name) +
                        " can never be of type " + quoted(t->name) + ".",
                    s.pos);
            }
          }
          directives(s.directives, "INLINE_FRAGMENT", &scope);
          selection_set(t, s.selections, scope, nullptr);
          break;
        }
      }
    }
  }

  // The object types a composite type can be at run time.
  std::set<std::string> possible(const Definition* t) const {
    std::set<std::string> out;
    if (t->kind == "OBJECT") {
      out.insert(t->name);
    } else if (t->kind == "UNION") {
      out.insert(t->types.begin(), t->types.end());
    } else if (t->kind == "INTERFACE") {
      for (const auto& [name, def] : s_.types)
        for (const auto& i : def.interfaces)
          if (i == t->name && def.kind == "OBJECT") out.insert(name);
    }
    return out;
  }
  bool overlap(const Definition* a, const Definition* b) const {
    if (!is_composite(a->kind) || !is_composite(b->kind)) return true;
    auto pa = possible(a);
    for (const auto& n : possible(b))
      if (pa.count(n)) return true;
    return false;
  }

  void field(const Definition* parent, const Selection& f, Scope& scope, const Definition* query_root) {
    const FieldDefinition* def = nullptr;
    static const FieldDefinition typename_field = meta_field("__typename", "String", true);
    if (f.name == "__typename") {
      def = &typename_field;
    } else if (query_root && parent == query_root && f.name == "__schema") {
      def = &schema_field();
    } else if (query_root && parent == query_root && f.name == "__type") {
      def = &type_field();
    } else if (parent) {
      def = find_field(parent->fields, f.name);
      if (!def || parent->kind == "UNION") {
        error("Cannot query field " + quoted(f.name) + " on type " + quoted(parent->name) + ".", f.pos);
        def = nullptr;
      }
    }
    arguments(f.arguments, def ? &def->arguments : nullptr, def ? "field " + quoted((parent ? parent->name : "") + "." + f.name) : "", scope);
    if (def) {
      for (const auto& a : def->arguments) {
        if (a.type.non_null && !a.default_value && !has_argument(f.arguments, a.name))
          error("Field " + quoted(f.name) + " argument " + quoted(a.name) + " of type " + quoted(a.type.str()) +
                    " is required, but it was not provided.",
                f.pos);
      }
    }
    directives(f.directives, "FIELD", &scope);
    const Definition* t = def ? s_.type(base_name(def->type)) : nullptr;
    if (t && is_leaf(t->kind) && !f.selections.empty()) {
      error("Field " + quoted(f.name) + " must not have a selection since type " + quoted(def->type.str()) +
                " has no subfields.",
            f.pos);
    } else if (t && !is_leaf(t->kind) && f.selections.empty()) {
      error("Field " + quoted(f.name) + " of type " + quoted(def->type.str()) +
                " must have a selection of subfields. Did you mean \"" + f.name + " { ... }\"?",
            f.pos);
    }
    selection_set(t, f.selections, scope, nullptr);
  }

  static bool has_argument(const std::vector<Argument>& args, const std::string& name) {
    for (const auto& a : args)
      if (a.name == name && a.value.kind != ValueKind::Null) return true;
    return false;
  }

  void arguments(const std::vector<Argument>& args, const std::vector<FieldDefinition>* defs, const std::string& owner, Scope& scope) {
    std::set<std::string> names;
    for (const auto& a : args) {
      if (!names.insert(a.name).second) error("There can be only one argument named " + quoted(a.name) + ".", a.pos);
      const FieldDefinition* d = defs ? find_field(*defs, a.name) : nullptr;
      if (defs && !d) error("Unknown argument " + quoted(a.name) + " on " + owner + ".", a.pos);
      if (d) {
        value(a.value, d->type, &scope, d->default_value.has_value());
      } else {
        collect_variables(a.value, scope);
      }
    }
  }

  void directives(const std::vector<Directive>& ds, const std::string& location, Scope* scope = nullptr) {
    std::set<std::string> seen;
    for (const auto& d : ds) {
      auto it = s_.directives.find(d.name);
      if (it == s_.directives.end()) {
        error("Unknown directive " + quoted("@" + d.name) + ".", d.pos);
        if (scope)
          for (const auto& a : d.arguments) collect_variables(a.value, *scope);
        continue;
      }
      const DirectiveDefinition& dd = it->second;
      bool ok = false;
      for (const auto& l : dd.locations) ok = ok || l == location;
      if (!ok) error("Directive " + quoted("@" + d.name) + " may not be used on " + location + ".", d.pos);
      if (!dd.repeatable && !seen.insert(d.name).second)
        error("The directive " + quoted("@" + d.name) + " can only be used once at this location.", d.pos);
      Scope none{&discard_usages_, &discard_spreads_, {}};
      arguments(d.arguments, &dd.arguments, "directive " + quoted("@" + d.name), scope ? *scope : none);
      for (const auto& a : dd.arguments)
        if (a.type.non_null && !a.default_value && !has_argument(d.arguments, a.name))
          error("Directive " + quoted("@" + d.name) + " argument " + quoted(a.name) + " of type " + quoted(a.type.str()) +
                    " is required, but it was not provided.",
                d.pos);
    }
  }

  void collect_variables(const Value& v, Scope& scope) {
    if (v.kind == ValueKind::Variable) {
      if (!scope.local.count(v.raw)) scope.usages->push_back(VarUsage{v.raw, Type{}, false, v.pos});
      return;
    }
    for (const auto& c : v.children) collect_variables(c.value, scope);
  }

  // Spec 5.6.1 "Values of Correct Type" against `type`; variables are recorded for 5.8.
  // scope == nullptr: a constant (default value) position.
  void value(const Value& v, const Type& type, Scope* scope, bool has_default = false) {
    if (v.kind == ValueKind::Variable) {
      if (scope && !scope->local.count(v.raw)) scope->usages->push_back(VarUsage{v.raw, type, has_default, v.pos});
      return;
    }
    auto mismatch = [&] { error("Expected value of type " + quoted(type.str()) + ", found " + value_text(v) + ".", v.pos); };
    if (v.kind == ValueKind::Null) {
      if (type.non_null) mismatch();
      return;
    }
    if (type.elem) {
      if (v.kind == ValueKind::List) {
        for (const auto& c : v.children) value(c.value, *type.elem, scope);
      } else {
        value(v, *type.elem, scope);
      }
      return;
    }
    const Definition* t = s_.type(type.named);
    if (!t) return;
    if (v.kind == ValueKind::List) return mismatch();
    if (t->kind == "SCALAR") {
      bool ok = true;
      if (t->name == "Int") ok = v.kind == ValueKind::Int;
      if (t->name == "Float") ok = v.kind == ValueKind::Int || v.kind == ValueKind::Float;
      if (t->name == "String") ok = v.kind == ValueKind::String || v.kind == ValueKind::Block;
      if (t->name == "Boolean") ok = v.kind == ValueKind::Boolean;
      if (t->name == "ID") ok = v.kind == ValueKind::Int || v.kind == ValueKind::String || v.kind == ValueKind::Block;
      if (!ok) mismatch();
      if (scope && v.kind == ValueKind::Object)
        for (const auto& c : v.children) collect_variables(c.value, *scope);
      return;
    }
    if (t->kind == "ENUM") {
      if (v.kind != ValueKind::Enum) return mismatch();
      for (const auto& e : t->enum_values)
        if (e.name == v.raw) return;
      error("Value " + quoted(v.raw) + " does not exist in " + quoted(t->name) + " enum.", v.pos);
      return;
    }
    if (t->kind == "INPUT_OBJECT") {
      if (v.kind != ValueKind::Object) return mismatch();
      std::set<std::string> names;
      for (const auto& c : v.children) {
        if (!names.insert(c.name).second) error("There can be only one input field named " + quoted(c.name) + ".", c.pos);
        const FieldDefinition* fd = find_field(t->fields, c.name);
        if (!fd) {
          error("Field " + quoted(c.name) + " is not defined by type " + quoted(t->name) + ".", c.pos);
          continue;
        }
        value(c.value, fd->type, scope, fd->default_value.has_value());
      }
      for (const auto& fd : t->fields) {
        if (!fd.type.non_null || fd.default_value) continue;
        bool given = false;
        for (const auto& c : v.children) given = given || (c.name == fd.name && c.value.kind != ValueKind::Null);
        if (!given)
          error("Field " + quoted(t->name + "." + fd.name) + " of required type " + quoted(fd.type.str()) + " was not provided.", v.pos);
      }
    }
  }

  void check_fragments() {
    std::set<std::string> names;
    for (const auto& f : doc_.fragments)
      if (!names.insert(f.name).second) error("There can be only one fragment named " + quoted(f.name) + ".", f.pos);
    // Spec 5.5.1.4: every fragment must be reachable from an operation.
    std::set<std::string> used;
    std::function<void(const std::string&)> reach = [&](const std::string& n) {
      if (!used.insert(n).second) return;
      for (const auto& s : fragment_spreads_[n]) reach(s);
    };
    for (const auto& op : doc_.operations)
      for (const auto& s : spreads_[&op]) reach(s);
    for (const auto& f : doc_.fragments)
      if (!used.count(f.name)) error("Fragment " + quoted(f.name) + " is never used.", f.pos);
    // Spec 5.5.2.2: no cycles (iterative colouring: the spread graph comes from untrusted input).
    std::map<std::string, int> colour;  // 0 new, 1 on stack, 2 done
    for (const auto& f : doc_.fragments) {
      if (colour[f.name]) continue;
      std::vector<std::pair<std::string, std::size_t>> stack{{f.name, 0}};
      colour[f.name] = 1;
      while (!stack.empty()) {
        auto& [name, idx] = stack.back();
        const auto& next = fragment_spreads_[name];
        if (idx >= next.size()) {
          colour[name] = 2;
          stack.pop_back();
          continue;
        }
        const std::string target = next[idx++];
        if (!fragments_.count(target)) continue;
        if (colour[target] == 1) {
          error("Cannot spread fragment " + quoted(target) + " within itself.", fragments_.at(target)->pos);
          continue;
        }
        if (colour[target] == 0) {
          colour[target] = 1;
          stack.emplace_back(target, 0);
        }
      }
    }
  }

  // Spec 5.8.3 (all used variables defined), 5.8.4 (all defined variables used) and 5.8.5
  // (variable usages allowed), following fragment spreads transitively.
  void variables_of(const Operation& op) {
    std::vector<const VarUsage*> all;
    for (const auto& u : usages_[&op]) all.push_back(&u);
    std::set<std::string> seen;
    std::vector<std::string> work = spreads_[&op];
    while (!work.empty()) {
      std::string n = work.back();
      work.pop_back();
      if (!seen.insert(n).second) continue;
      for (const auto& u : fragment_usages_[n]) all.push_back(&u);
      for (const auto& s : fragment_spreads_[n]) work.push_back(s);
    }
    std::set<std::string> used;
    for (const auto* u : all) {
      used.insert(u->name);
      const VariableDefinition* vd = nullptr;
      for (const auto& v : op.variables)
        if (v.variable == u->name) vd = &v;
      if (!vd) {
        error(op.name.empty() ? "Variable " + quoted("$" + u->name) + " is not defined."
                              : "Variable " + quoted("$" + u->name) + " is not defined by operation " + quoted(op.name) + ".",
              u->pos);
        continue;
      }
      if (u->location.named.empty() && !u->location.elem) continue;  // position without a known type
      bool var_default = vd->default_value && vd->default_value->kind != ValueKind::Null;
      Type var_type = vd->type;
      if (u->location.non_null && !var_type.non_null) {
        if (!var_default && !u->location_has_default) {
          allowed_error(*u, *vd);
          continue;
        }
        var_type.non_null = true;
      }
      if (!allowed(var_type, u->location)) allowed_error(*u, *vd);
    }
    for (const auto& v : op.variables)
      if (!used.count(v.variable))
        error(op.name.empty() ? "Variable " + quoted("$" + v.variable) + " is never used."
                              : "Variable " + quoted("$" + v.variable) + " is never used in operation " + quoted(op.name) + ".",
              v.pos);
  }
  void allowed_error(const VarUsage& u, const VariableDefinition& vd) {
    error("Variable " + quoted("$" + u.name) + " of type " + quoted(vd.type.str()) + " used in position expecting type " +
              quoted(u.location.str()) + ".",
          u.pos);
  }
  static bool allowed(const Type& var, const Type& loc) {
    if (loc.non_null && !var.non_null) return false;
    if (loc.elem || var.elem) {
      if (!loc.elem || !var.elem) return false;
      return allowed(*var.elem, *loc.elem);
    }
    return var.named == loc.named;
  }

  const Schema& s_;
  const QueryDocument& doc_;
  std::map<std::string, const Fragment*> fragments_;
  std::map<const Operation*, std::vector<VarUsage>> usages_;
  std::map<const Operation*, std::vector<std::string>> spreads_;
  std::map<std::string, std::vector<VarUsage>> fragment_usages_;
  std::map<std::string, std::vector<std::string>> fragment_spreads_;
  std::vector<VarUsage> discard_usages_;
  std::vector<std::string> discard_spreads_;
  std::vector<Error> errors_;
  // Field merging (check_merging): fragments compared with the current set of fields, and pairs
  // of fragments compared in this document (with whether the comparison assumed exclusive parents).
  std::set<std::string> compared_fragments_;
  static constexpr std::size_t kMaxMergeComparisons = 1'000'000;
  std::size_t merge_budget_ = kMaxMergeComparisons;
  std::map<std::pair<std::string, std::string>, bool> compared_pairs_;
};

}  // namespace

GResult<Schema> load_schema(const SchemaDocument& user) { return SchemaLoader().load(user); }

std::optional<Error> validate_query(const Schema& schema, const QueryDocument& doc) {
  return QueryValidator(schema, doc).run();
}

}  // namespace cloister::rego::builtins::graphql
