// rego.parse_module(filename, text): the module's syntax tree in OPA's JSON form. OPA
// (v1/topdown/parse.go) parses with ast.ParseModule (Rego v1), encodes the *ast.Module with Go's
// encoding/json and reads that JSON back as the result; a parse error is the builtin's error.
//
// This engine's parser builds the compiler's AST, which differs from OPA's in a few places; the
// converter below rebuilds what OPA's parser would have made (field names and shapes from OPA's
// v1/ast/policy.go, term.go, location.go MarshalJSON methods, head shapes from v1/ast/parser.go
// and parser_ext.go):
//   - rule heads: "name", "key", "value", "ref", "args", "assign" as OPA's parseRules /
//     ParseRuleFromExpr set them (a rule without a body is read by OPA as an expression first);
//     generated bodies are [true];
//   - wildcards `_` are vars "$0", "$1", ... in parse order over the whole module; an `else`
//     gets fresh ones for its wildcard arguments (OPA's parser copies the head);
//   - a bare `input` or `data` is a one-element ref; `some x in xs` is a some-declaration of
//     internal.member_2(x, xs) (member_3 with a key);
//   - sets are sorted and deduplicated and objects sorted by key as OPA orders AST terms;
//   - `-x` is a parse error (OPA reads a minus sign only as part of a number literal, as the
//     parser does for `- 1`; it reads `-x` as 0 - x), except inside template strings, where the
//     parser's locations do not lead back to the source: there it stays the call;
//   - comments come from a separate list the parser fills (ParseOptions::comments).
// Locations are not part of OPA's default JSON, except the comments'.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "builtins/builtin.h"
#include "builtins/codec.h"
#include "builtins/text.h"
#include "number.h"
#include "parser.h"

namespace cloister::rego::builtins {
namespace {

// A source problem OPA's scanner or parser rejects where this engine's parser does not: the
// message of the parse error (location, code, what).
struct Rejected {
  std::string message;
};

using Fields = std::vector<std::pair<Value, Value>>;

Value str(std::string_view s) { return Value::string(std::string(s)); }

void put(Fields& f, std::string_view key, Value v) { f.emplace_back(str(key), std::move(v)); }

// OPA's Term JSON: {"type": ..., "value": ...} (v1/ast/term.go, Term.MarshalJSON).
Value typed(std::string_view type, Value value) {
  Fields f;
  put(f, "type", str(type));
  put(f, "value", std::move(value));
  return Value::object(std::move(f));
}

Value true_term() { return typed("boolean", Value::boolean(true)); }

// The order of term types in OPA's ast.Compare (v1/ast/compare.go, valueSortOrder).
int type_rank(std::string_view type) {
  static constexpr std::pair<std::string_view, int> kOrder[] = {
      {"null", 0},  {"boolean", 1}, {"number", 2}, {"string", 3}, {"templatestring", 4},
      {"var", 5},   {"ref", 6},     {"array", 7},  {"object", 8}, {"set", 9},
      {"arraycomprehension", 10},   {"objectcomprehension", 11},  {"setcomprehension", 12},
      {"call", 13}};
  for (const auto& [name, rank] : kOrder)
    if (name == type) return rank;
  return 100;
}

// OPA's ast.Compare on two terms in JSON form: by type, then by value (element-wise for refs,
// arrays and calls; by sorted pairs for objects; by sorted elements for sets). Comprehensions and
// template strings are ordered by their JSON value: consistent, but not OPA's order for them.
int compare_terms(const Value& a, const Value& b) {
  const int ra = type_rank(a.get("type")->as_string());
  const int rb = type_rank(b.get("type")->as_string());
  if (ra != rb) return ra < rb ? -1 : 1;
  const Value& va = *a.get("value");
  const Value& vb = *b.get("value");
  auto sequences = [](const std::vector<Value>& x, const std::vector<Value>& y, auto&& element) {
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (int c = element(x[i], y[i])) return c;
    return x.size() == y.size() ? 0 : x.size() < y.size() ? -1 : 1;
  };
  switch (ra) {
    case 6:   // ref
    case 7:   // array
    case 9:   // set (elements already sorted)
    case 13:  // call
      return sequences(va.array_items(), vb.array_items(), compare_terms);
    case 8:  // object: [key, value] pairs sorted by key
      return sequences(va.array_items(), vb.array_items(), [](const Value& p, const Value& q) {
        if (int c = compare_terms(p.array_items()[0], q.array_items()[0])) return c;
        return compare_terms(p.array_items()[1], q.array_items()[1]);
      });
    default: return compare(va, vb);
  }
}

// Sorted, without duplicates: the first of equal terms stays (OPA's set insert).
Value set_of(std::vector<Value> items) {
  std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) { return compare_terms(a, b) < 0; });
  std::vector<Value> out;
  for (auto& v : items)
    if (out.empty() || compare_terms(out.back(), v) != 0) out.push_back(std::move(v));
  return Value::array(std::move(out));
}

// [[key, value], ...] sorted by key; of equal keys the first key stays with the last value (OPA's
// object insert replaces the value).
Value object_of(std::vector<std::pair<Value, Value>> pairs) {
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return compare_terms(a.first, b.first) < 0; });
  std::vector<Value> out;
  for (std::size_t i = 0; i < pairs.size();) {
    std::size_t j = i + 1;
    while (j < pairs.size() && compare_terms(pairs[i].first, pairs[j].first) == 0) ++j;
    out.push_back(Value::array({pairs[i].first, pairs[j - 1].second}));
    i = j;
  }
  return Value::array(std::move(out));
}

// A constant in OPA's term form (the parser makes scalars; composite constants are handled too).
Value constant(const Value& v) {
  switch (v.kind()) {
    case Kind::Bool: return typed("boolean", v);
    case Kind::Number: return typed("number", v);
    case Kind::String: return typed("string", v);
    case Kind::Array: {
      std::vector<Value> items;
      for (const auto& x : v.array_items()) items.push_back(constant(x));
      return typed("array", Value::array(std::move(items)));
    }
    case Kind::Set: {
      std::vector<Value> items;
      for (const auto& x : v.set_items()) items.push_back(constant(x));
      return typed("set", set_of(std::move(items)));
    }
    case Kind::Object: {
      std::vector<std::pair<Value, Value>> pairs;
      for (const auto& [k, x] : v.object_entries()) pairs.emplace_back(constant(k), constant(x));
      return typed("object", object_of(std::move(pairs)));
    }
    default: return typed("null", Value::empty_object());  // ast.Null encodes as {}
  }
}

bool is_wildcard(const Term& t) { return t.kind == TermKind::Var && (t.wildcard || t.name == "_"); }

// `input` or `data` alone: OPA's parser makes it a reference (parseTermFinish).
bool is_root_var(const Term& t) {
  return t.kind == TermKind::Var && !is_wildcard(t) && (t.name == "input" || t.name == "data");
}

bool body_ground(const Body& b);

// OPA's Term.IsGround: no variables (a reference's head aside).
bool ground(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar: return true;
    case TermKind::Var: return is_root_var(t);
    case TermKind::Ref:
      for (std::size_t i = 1; i < t.items.size(); ++i)
        if (!ground(*t.items[i])) return false;
      return true;
    case TermKind::Array:
    case TermKind::Set:
    case TermKind::Object:
    case TermKind::Call:
      for (const auto& i : t.items)
        if (!ground(*i)) return false;
      return true;
    case TermKind::ArrayCompr:
    case TermKind::SetCompr: return ground(*t.head) && body_ground(*t.body);
    case TermKind::ObjectCompr: return ground(*t.head) && ground(*t.head2) && body_ground(*t.body);
  }
  return false;
}

// OPA's Expr.IsGround: a call's operands, a term itself; declarations and `every` count as ground.
bool body_ground(const Body& b) {
  for (const auto& e : b.exprs)
    if (e.kind == ExprKind::Term && !ground(*e.term)) return false;
  return true;
}

// The parser's AST of one module -> OPA's JSON form (see the file comment).
class OpaAst {
 public:
  // `text` is what was parsed; `bom`: a byte-order mark preceded it (OPA counts it as a column).
  OpaAst(std::string_view file, std::string_view text, bool bom) : file_(file), text_(text), bom_(bom) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') starts_.push_back(i + 1);
  }

  Value module(const Module& m, std::vector<std::string_view> comments) {
    Fields f;
    std::vector<Value> path{typed("var", str("data"))};
    for (const auto& p : m.package) path.push_back(typed("string", p));
    Fields pkg;
    put(pkg, "path", Value::array(std::move(path)));
    put(f, "package", Value::object(std::move(pkg)));
    // (Module fields "imports", "rules" and "comments" are omitempty; "annotations" is only
    // filled when annotations are processed, which ast.ParseModule does not do.)
    if (!m.imports.empty()) {
      std::vector<Value> imports;
      for (const auto& imp : m.imports) imports.push_back(import(imp));
      put(f, "imports", Value::array(std::move(imports)));
    }
    if (!m.rules.empty()) {
      std::vector<Value> rules;
      for (const auto& r : m.rules) rules.push_back(rule(*r));
      put(f, "rules", Value::array(std::move(rules)));
    }
    if (Value c = comment_list(std::move(comments)); c.size()) put(f, "comments", std::move(c));
    return Value::object(std::move(f));
  }

  // "<file>:<line>:<col>: rego_parse_error: <what>", the parser's form, at a byte offset of the text.
  std::string parse_error(std::size_t offset, std::string_view what) const {
    auto [row, col] = position(offset);
    return std::string(file_) + ":" + std::to_string(row) + ":" + std::to_string(col) + ": rego_parse_error: " +
           std::string(what);
  }

 private:
  // ---------------------------------------------------------------- positions
  // Row and column (in runes, as OPA's scanner counts) of a byte offset.
  std::pair<std::size_t, std::size_t> position(std::size_t offset) const {
    const auto row =
        static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin());
    const std::size_t start = starts_[row - 1];
    std::size_t col = text::rune_count(text_.substr(start, offset - start)) + 1;
    if (row == 1 && bom_) ++col;
    return {row, col};
  }

  // The byte offset of a parser location (line, byte column), or npos.
  std::size_t offset(const Loc& l) const {
    if (l.line == 0 || l.line > starts_.size() || l.col == 0) return std::string_view::npos;
    const std::size_t off = starts_[l.line - 1] + l.col - 1;
    return off < text_.size() ? off : std::string_view::npos;
  }
  // The source byte at a parser location ('\0' when unknown).
  char char_at(const Loc& l, std::size_t ahead = 0) const {
    const std::size_t off = offset(l);
    return off != std::string_view::npos && off + ahead < text_.size() ? text_[off + ahead] : '\0';
  }

  // ---------------------------------------------------------------- comments
  // OPA's Comment has no JSON tags: {"Text": base64 of the bytes after '#' (null when none),
  // "Location": {"file", "row", "col"}} (v1/ast/policy.go, location.go). A '\r' before the line
  // end is not part of the text (the scanner trims it).
  Value comment_list(std::vector<std::string_view> comments) {
    std::sort(comments.begin(), comments.end(), [](auto a, auto b) { return a.data() < b.data(); });
    comments.erase(std::unique(comments.begin(), comments.end(), [](auto a, auto b) { return a.data() == b.data(); }),
                   comments.end());
    std::vector<Value> out;
    for (std::string_view c : comments) {
      std::string_view body = c.substr(1);
      if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
      auto [row, col] = position(static_cast<std::size_t>(c.data() - text_.data()));
      Fields loc;
      put(loc, "file", str(file_));
      put(loc, "row", Value::integer(static_cast<std::int64_t>(row)));
      put(loc, "col", Value::integer(static_cast<std::int64_t>(col)));
      Fields f;
      put(f, "Text", body.empty() ? Value::null() : str(b64_encode(body, kStdAlphabet, true)));
      put(f, "Location", Value::object(std::move(loc)));
      out.push_back(Value::object(std::move(f)));
    }
    return Value::array(std::move(out));
  }

  // ---------------------------------------------------------------- terms
  // A wildcard's name: one number per `_` (the same node keeps its number).
  std::string wildcard_name(const Term* t) {
    auto [it, fresh] = wildcards_.try_emplace(t, next_wildcard_);
    if (fresh) ++next_wildcard_;
    return "$" + std::to_string(it->second);
  }
  std::string fresh_wildcard() { return "$" + std::to_string(next_wildcard_++); }

  std::string var_name(const Term& t) { return is_wildcard(t) ? wildcard_name(&t) : t.name; }
  Value var(const Term& t) { return typed("var", str(var_name(t))); }

  Value term(const Term& t) {
    switch (t.kind) {
      case TermKind::Scalar: return constant(t.value);
      case TermKind::Var: return is_root_var(t) ? typed("ref", Value::array({var(t)})) : var(t);
      case TermKind::Ref: return typed("ref", ref_items(t));
      case TermKind::Array: return typed("array", terms(t.items));
      case TermKind::Set: return typed("set", set_of(terms(t.items).array_items()));
      case TermKind::Object: {
        std::vector<std::pair<Value, Value>> pairs;
        for (std::size_t i = 0; i + 1 < t.items.size(); i += 2) {
          Value k = term(*t.items[i]);
          pairs.emplace_back(std::move(k), term(*t.items[i + 1]));
        }
        return typed("object", object_of(std::move(pairs)));
      }
      case TermKind::Call: return call(t);
      case TermKind::ArrayCompr:
      case TermKind::SetCompr: {
        Fields f;
        put(f, "term", term(*t.head));
        put(f, "body", body(*t.body));
        return typed(t.kind == TermKind::ArrayCompr ? "arraycomprehension" : "setcomprehension",
                     Value::object(std::move(f)));
      }
      case TermKind::ObjectCompr: {
        Fields f;
        put(f, "key", term(*t.head));
        put(f, "value", term(*t.head2));
        put(f, "body", body(*t.body));
        return typed("objectcomprehension", Value::object(std::move(f)));
      }
    }
    return typed("null", Value::empty_object());
  }

  Value terms(const TermList& items) {
    std::vector<Value> out;
    for (const auto& i : items) out.push_back(term(*i));
    return Value::array(std::move(out));
  }

  // A reference's terms; its head stays a var (no `input` -> ref there).
  Value ref_items(const Term& t) {
    std::vector<Value> out;
    for (std::size_t i = 0; i < t.items.size(); ++i) {
      const Term& x = *t.items[i];
      out.push_back(i == 0 && x.kind == TermKind::Var ? var(x) : term(x));
    }
    return Value::array(std::move(out));
  }

  // The operator of a call as OPA writes it: the reference as parsed (`f`, `a.b.f`), or the
  // builtin's name split at dots (`plus`, `internal.member_2`; ast.Builtin.Ref).
  Value operator_ref(const Term& call) {
    if (!call.head) return name_ref(call.name);
    const Term& head = *call.head;
    return typed("ref", head.kind == TermKind::Ref ? ref_items(head) : Value::array({var(head)}));
  }
  static Value name_ref(std::string_view name) {
    std::vector<Value> out;
    for (std::size_t start = 0;;) {
      const std::size_t dot = name.find('.', start);
      std::string_view part = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      out.push_back(typed(out.empty() ? "var" : "string", str(part)));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return typed("ref", Value::array(std::move(out)));
  }

  // [operator, operands...]: a call term's value, and a call expression's "terms".
  Value call_items(const Term& t) {
    std::vector<Value> out{operator_ref(t)};
    for (const auto& i : t.items) out.push_back(term(*i));
    return Value::array(std::move(out));
  }

  bool is_template(const Term& t) const { return t.kind == TermKind::Call && t.name == "internal.template_string"; }

  // The parser reads a minus sign before a term other than a number literal (`-x`, `-(1)`) as
  // 0 - term, its zero located at the sign. (`0 - x` locates the zero at the `0`.)
  bool unary_minus(const Term& t) const {
    if (t.kind != TermKind::Call || t.name != "minus" || t.head || t.items.size() != 2) return false;
    const Term& zero = *t.items[0];
    return zero.kind == TermKind::Scalar && zero.value.is_int() && zero.value.as_int() == 0 &&
           zero.loc.line == t.loc.line && zero.loc.col == t.loc.col && char_at(t.loc) == '-';
  }

  Value call(const Term& t) {
    if (is_template(t)) return template_string(t);
    if (unary_minus(t)) {
      // OPA's parseNumber: a minus sign, then (after whitespace and comments) a number literal;
      // anything else is "expected number".
      std::size_t next = offset(t.loc) + 1;
      while (next < text_.size()) {
        const char c = text_[next];
        if (c == '#') {
          next = std::min(text_.find('\n', next), text_.size());
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          ++next;
        } else {
          break;
        }
      }
      // (A number literal there never reaches this: the parser folds `- 1` into -1.)
      const char c = next < text_.size() ? text_[next] : '\0';
      throw Rejected{parse_error(next, "unexpected " + token_name(c) + " token: expected number")};
    }
    return typed("call", call_items(t));
  }

  // OPA's token names (v1/ast/internal/tokens) for what can follow a minus sign in a term.
  static std::string token_name(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return "identifier";
    if (c == '"' || c == '`') return "string";
    if (c == '-') return "minus";
    if (c == '$') return "template-string-part";
    if (c == '\0') return "eof";
    return std::string(1, c);
  }

  // OPA's TemplateString: {"parts": [...] (null when there are none), "multi_line": raw (`)}.
  // A part is a term for literal text and constant scalar expressions, else the expression.
  Value template_string(const Term& t) {
    const bool raw = char_at(t.loc) == '$' && char_at(t.loc, 1) == '`';
    std::vector<Value> parts;
    for (const auto& p : t.items) {
      if (p->kind == TermKind::Scalar || unary_minus(*p)) {
        parts.push_back(term(*p));
        continue;
      }
      // `{x with input as y}`: the parser wraps it as [$t | $t = x with ...].
      const bool wrapped = p->kind == TermKind::ArrayCompr && p->name == "$template";
      const Expr* e = wrapped ? &p->body->exprs[0] : nullptr;
      Fields f;
      put(f, "index", Value::integer(0));
      put(f, "terms", expr_terms(wrapped ? *e->term->items[1] : *p));
      if (wrapped) put(f, "with", withs(*e));
      parts.push_back(Value::object(std::move(f)));
    }
    Fields f;
    put(f, "parts", parts.empty() ? Value::null() : Value::array(std::move(parts)));
    put(f, "multi_line", Value::boolean(raw));
    return typed("templatestring", Value::object(std::move(f)));
  }

  // ---------------------------------------------------------------- expressions
  // An expression's "terms": a call expression is its [operator, operands...], anything else the term.
  Value expr_terms(const Term& t) {
    if (t.kind == TermKind::Call && !is_template(t) && !unary_minus(t)) return call_items(t);
    return term(t);
  }

  Value withs(const Expr& e) {
    std::vector<Value> out;
    for (const auto& w : e.withs) {
      Fields f;
      put(f, "target", term(*w.target));
      put(f, "value", term(*w.value));
      out.push_back(Value::object(std::move(f)));
    }
    return Value::array(std::move(out));
  }

  // OPA's SomeDecl JSON: {"symbols": [...]}.
  static Value some_decl(std::vector<Value> symbols) {
    Fields s;
    put(s, "symbols", Value::array(std::move(symbols)));
    return Value::object(std::move(s));
  }

  // OPA's Expr JSON: "index", "terms", and "negated" / "with" when set (v1/ast/policy.go).
  Value expr(const Expr& e, std::size_t index) {
    Fields f;
    put(f, "index", Value::integer(static_cast<std::int64_t>(index)));
    switch (e.kind) {
      case ExprKind::Term: put(f, "terms", expr_terms(*e.term)); break;
      case ExprKind::SomeDecl: {
        std::vector<Value> symbols;
        for (const auto& v : e.vars) symbols.push_back(var(*v));
        put(f, "terms", some_decl(std::move(symbols)));
        break;
      }
      case ExprKind::SomeIn: {
        // `some k, v in xs` is SomeDecl{internal.member_3(k, v, xs)} (OPA's parseSome).
        std::vector<Value> call{name_ref(e.key ? "internal.member_3" : "internal.member_2")};
        if (e.key) call.push_back(term(*e.key));
        call.push_back(term(*e.val));
        call.push_back(term(*e.coll));
        put(f, "terms", some_decl({typed("call", Value::array(std::move(call)))}));
        break;
      }
      case ExprKind::Every: {
        Fields s;
        put(s, "key", e.key ? term(*e.key) : Value::null());
        put(s, "value", term(*e.val));
        put(s, "domain", term(*e.coll));
        put(s, "body", body(*e.body));
        put(f, "terms", Value::object(std::move(s)));
        break;
      }
    }
    if (e.negated) put(f, "negated", Value::boolean(true));
    if (!e.withs.empty()) put(f, "with", withs(e));
    return Value::object(std::move(f));
  }

  Value body(const Body& b) {
    std::vector<Value> out;
    for (std::size_t i = 0; i < b.exprs.size(); ++i) out.push_back(expr(b.exprs[i], i));
    return Value::array(std::move(out));
  }

  // The body OPA generates for rules written without one: `true`.
  static Value true_body() {
    Fields f;
    put(f, "index", Value::integer(0));
    put(f, "terms", true_term());
    return Value::array({Value::object(std::move(f))});
  }

  // ---------------------------------------------------------------- module level
  Value import(const Import& imp) {
    std::vector<Value> path;
    for (std::size_t i = 0; i < imp.raw.size(); ++i) path.push_back(typed(i == 0 ? "var" : "string", imp.raw[i]));
    Fields f;
    put(f, "path", typed("ref", Value::array(std::move(path))));
    if (!imp.alias.empty()) put(f, "alias", str(imp.alias));
    return Value::object(std::move(f));
  }

  // OPA's Rule JSON: {"head", "body", "default" (when true), "else" (nested chain)}, and the Head:
  // {"ref", "name", "key", "value", "args", "assign"}, omitted when empty.
  Value rule(const Rule& r) {
    // The head's reference; its head var is the rule's name.
    std::vector<const Term*> ref;
    if (r.ref->kind == TermKind::Var) {
      ref.push_back(r.ref.get());
    } else {
      for (const auto& i : r.ref->items) ref.push_back(i.get());
    }
    const std::string rule_name = var_name(*ref[0]);
    std::vector<Value> ref_json{typed("var", str(rule_name))};
    for (std::size_t i = 1; i < ref.size(); ++i) ref_json.push_back(term(*ref[i]));
    std::vector<Value> args;
    for (const auto& a : r.args) args.push_back(term(*a));

    // Which of name and key OPA sets (v1/ast/parser.go parseRules/parseHead; parser_ext.go
    // ParseRuleFromExpr for rules written without a body, which it reads as an expression).
    const std::size_t n = ref.size();
    const bool has_args = !r.args.empty();
    const bool has_body = r.body && !r.body->exprs.empty();
    bool name = n == 1;
    bool key_is_ref_tail = false;
    if (!r.is_default && r.kind != RuleKind::MultiValue && n == 2) {
      if (has_body) {
        // `p[x] if`, `p.q := v if`: a non-constant last term is also the key; the name is set
        // when a value was given (or generated for a function).
        const Term& last = *ref[1];
        key_is_ref_tail = (!ground(last) || last.kind == TermKind::Ref || is_root_var(last)) && !has_args;
        name = r.value || has_args;
      } else if (r.value && !has_args) {
        // `p.q = v`: ParsePartialObjectDocRuleFromEqExpr.
        name = true;
        key_is_ref_tail = true;
      }
    }

    Fields head;
    put(head, "ref", Value::array(ref_json));
    if (name) put(head, "name", str(rule_name));
    if (has_args) put(head, "args", Value::array(args));
    if (r.kind == RuleKind::MultiValue) {
      put(head, "key", term(*r.key));
    } else {
      if (key_is_ref_tail) put(head, "key", ref_json[1]);
      put(head, "value", r.value ? term(*r.value) : true_term());
    }
    if (r.assign) put(head, "assign", Value::boolean(true));

    Fields f;
    put(f, "head", Value::object(head));
    put(f, "body", has_body && !r.is_default ? body(*r.body) : true_body());
    if (r.is_default) put(f, "default", Value::boolean(true));

    // The else chain: each a copy of this head (wildcard arguments renamed) with its own value.
    std::vector<Fields> elses;
    for (const auto& e : r.elses) {
      std::vector<Value> else_args;
      for (std::size_t i = 0; i < r.args.size(); ++i) {
        else_args.push_back(is_wildcard(*r.args[i]) ? typed("var", str(fresh_wildcard())) : args[i]);
      }
      Fields eh = head;
      std::erase_if(eh, [](const auto& kv) {
        const std::string& k = kv.first.as_string();
        return k == "args" || k == "value" || k == "assign";
      });
      if (has_args) put(eh, "args", Value::array(std::move(else_args)));
      put(eh, "value", e->value ? term(*e->value) : true_term());
      // `else = v` / `else := v` say which; a bare `else` keeps the head's.
      if (e->value ? e->assign : r.assign) put(eh, "assign", Value::boolean(true));
      Fields ef;
      put(ef, "head", Value::object(std::move(eh)));
      put(ef, "body", e->body && !e->body->exprs.empty() ? body(*e->body) : true_body());
      elses.push_back(std::move(ef));
    }
    for (std::size_t i = elses.size(); i-- > 0;) {
      if (i + 1 < elses.size()) put(elses[i], "else", Value::object(std::move(elses[i + 1])));
    }
    if (!elses.empty()) put(f, "else", Value::object(std::move(elses[0])));
    return Value::object(std::move(f));
  }

  std::string_view file_;
  std::string_view text_;
  bool bom_;
  std::vector<std::size_t> starts_;  // byte offset of each line
  std::unordered_map<const Term*, int> wildcards_;
  int next_wildcard_ = 0;
};

// What OPA's scanner rejects anywhere in the source, comments and strings included, which this
// engine's lexer lets through: NUL bytes, invalid UTF-8, a byte-order mark after the start.
std::optional<std::pair<std::size_t, const char*>> illegal_character(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '\0') return std::pair{i, "illegal null character"};
    const auto d = text::decode_rune(s, i);
    if (d.rune == text::kReplacement && d.width == 1) return std::pair{i, "illegal utf-8 character"};
    if (d.rune == 0xFEFF) return std::pair{i, "illegal byte-order mark"};
    i += d.width;
  }
  return std::nullopt;
}

// Only whitespace and comments: OPA's "empty module".
bool no_statements(std::string_view s) {
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    std::string_view line = s.substr(pos, nl - pos);
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') return false;
    pos = nl + 1;
  }
  return true;
}

BuiltinResult parse_module_builtin(BuiltinContext& ctx, std::span<const Value> args) {
  // OPA reports both operands as "operand 1" (topdown/parse.go passes position 1 for each).
  if (!args[0].is_string()) return tl::unexpected(type_error(ctx, 1, "string", args[0]));
  if (!args[1].is_string()) return tl::unexpected(type_error(ctx, 1, "string", args[1]));
  const std::string& file = args[0].as_string();
  std::string_view source = args[1].as_string();
  // ast.Errors print a single error as "1 error occurred: <error>".
  auto failed = [&](std::string_view error) {
    return tl::unexpected(builtin_error(ctx, "1 error occurred: " + std::string(error)));
  };

  // A leading byte-order mark is skipped (OPA's scanner), and counts as a column of line 1.
  const bool bom = source.starts_with("\xEF\xBB\xBF");
  if (bom) source.remove_prefix(3);
  OpaAst ast(file, source, bom);
  if (auto bad = illegal_character(source)) return failed(ast.parse_error(bad->first, bad->second));

  std::vector<std::string_view> comments;
  ParseOptions opts;  // Rego v1, the parser's default nesting limits
  opts.comments = &comments;
  auto parsed = parse_module(file, 0, source, opts);
  if (!parsed) {
    // OPA's error for it has no position: "<file>:0" (row 0), or "0:0" without a file name.
    if (no_statements(source)) {
      return failed((file.empty() ? std::string("0:0") : file + ":0") + ": rego_parse_error: empty module");
    }
    return failed(parsed.error().message());
  }
  try {
    return ast.module(*parsed, std::move(comments));
  } catch (const Rejected& r) {
    return failed(r.message);
  }
}

}  // namespace

void register_regoparse(Registry& r) {
  // Deterministic (the evaluator may share results for equal operands); an error is never folded
  // into the policy: the compiler folds only literals, so a parse error stays an evaluation error.
  r.add({"rego.parse_module", 2, parse_module_builtin});
}

}  // namespace cloister::rego::builtins
