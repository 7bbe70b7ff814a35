// Compiler: modules -> rule tree under `data`, name resolution (locals, rules, imports, builtins),
// safety analysis with OPA-style expression reordering, recursion detection.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "builtins/builtin.h"
#include "parser.h"
#include "metadata.h"
#include "policy.h"

namespace cloister::rego {

const char PathKey::kNoNode = 0;


std::string Policy::Impl::where(const Loc& l) const {
  std::string f = l.file < files.size() ? files[l.file] : std::string("query");
  return f + ":" + std::to_string(l.line);
}

Error Policy::Impl::to_error(const RegoFailure& f) const {
  std::string msg = (f.has_loc ? where(f.loc) + ": " : std::string()) + f.code + ": " + f.message;
  Errc ec = Errc::invalid_argument;
  if (f.code == "rego_parse_error"_lit) ec = Errc::parse;
  else if (f.code == "eval_limit_error"_lit) ec = Errc::limit_exceeded;
  else if (f.code.rfind("eval_", 0) == 0) ec = Errc::failed_precondition;
  return Error(ec, msg);
}

namespace {

[[noreturn]] void fail(std::string code, std::string msg, const Loc& loc) {
  throw RegoFailure{std::move(code), std::move(msg), loc, true};
}

bool is_root_name(std::string_view name) { return name == "input" || name == "data"; }

// The node of path[start, ...) below `n` (null when there is none).
DataNode* node_at(DataNode* n, const std::vector<Value>& path, std::size_t start) {
  for (std::size_t i = start; i < path.size(); ++i) {
    auto it = n->children.find(path[i]);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

// The builtins OPA deprecated before 1.0 (its "strict mode" list), which a Rego v1 module may not
// call; v0 modules still may.
bool is_deprecated_builtin(std::string_view name) {
  static constexpr std::string_view kDeprecated[] = {"any",       "all",        "re_match",    "net.cidr_overlap",
                                                     "set_diff",  "cast_array", "cast_set",    "cast_string",
                                                     "cast_boolean", "cast_null", "cast_object"};
  return std::find(std::begin(kDeprecated), std::end(kDeprecated), name) != std::end(kDeprecated);
}

TermP clone(NodeArena* a, const TermP& t);
std::shared_ptr<Body> clone_body(NodeArena* a, const std::shared_ptr<Body>& b) {
  if (!b) return nullptr;
  auto out = make_node<Body>(a, *b);
  for (auto& e : out->exprs) {
    if (e.term) e.term = clone(a, e.term);
    for (auto& v : e.vars) v = clone(a, v);
    if (e.key) e.key = clone(a, e.key);
    if (e.val) e.val = clone(a, e.val);
    if (e.coll) e.coll = clone(a, e.coll);
    e.body = clone_body(a, e.body);
    for (auto& w : e.withs) {
      w.target = clone(a, w.target);
      w.value = clone(a, w.value);
    }
  }
  return out;
}
TermP clone(NodeArena* a, const TermP& t) {
  if (!t) return nullptr;
  auto c = make_node<Term>(a, *t);
  for (auto& i : c->items) i = clone(a, i);
  c->head = clone(a, c->head);
  c->head2 = clone(a, c->head2);
  c->body = clone_body(a, c->body);
  return c;
}
std::shared_ptr<Rule> clone_rule(NodeArena* a, const Rule& r) {
  auto c = make_node<Rule>(a, r);
  c->ref = clone(a, r.ref);
  for (auto& x : c->args) x = clone(a, x);
  c->key = clone(a, r.key);
  c->value = clone(a, r.value);
  c->body = clone_body(a, r.body);
  c->elses.clear();
  for (const auto& e : r.elses) c->elses.push_back(clone_rule(a, *e));
  return c;
}

// ------------------------------------------------------------------ per-rule resolution

// Rules of one package by name, each with its name as a string value (made once, shared by every
// reference to the rule) and the rule tree node data.<package>.<name>.
// Hashed: every name that is not a local is looked up here (a tree costs ~8 string compares).
struct RuleName {
  Value name;
  // Set when the first rule of that name is placed: rules and calls then start from it rather than
  // walking the package's children (a Value compare per level of a ~300-entry map).
  DataNode* node = nullptr;
  std::size_t rules = 0;  // rules of that name: their node's list is sized once
};
// Keyed by the text of `name` itself.
using RuleNames = NameTable<RuleName>;

struct Scope {
  Scope* parent = nullptr;
  int id = 0;
  // Locals declared here, in declaration order. Scopes hold a handful of names: a scan is cheaper
  // than a hash table's allocations and hashing. The names are views of the declaring terms' names
  // (or of literals): the terms outlive the scopes, which last one rule's (query's) resolution.
  std::vector<std::pair<std::string_view, int>> names;
  int find(std::string_view name) const {
    for (const auto& [n, slot] : names)
      if (same_text(n, name)) return slot;
    return kNoSlot;
  }
  void set(std::string_view name, int slot) {
    for (auto& [n, sl] : names) {
      if (same_text(n, name)) {
        sl = slot;
        return;
      }
    }
    if (names.empty()) names.reserve(4);
    names.emplace_back(name, slot);
  }
};

bool compile_test(const Policy::Impl& policy, const Expr& e, TestExpr& x);

class Resolver {
 public:
  Resolver(Policy::Impl& p, NodeArena* arena, const Module* mod, const RuleNames* pkg_rules)
      : p_(p), arena_(arena), mod_(mod), pkg_rules_(pkg_rules) {
    scope_parent_.reserve(8);
    scope_parent_.push_back(-1);
    slots_.reserve(16);  // a rule's frame: one allocation instead of regrowing per local
  }

  int nslots() const { return static_cast<int>(slots_.size()); }

  int new_slot(Scope& s, std::string_view name, bool wild) {
    int slot = nslots();
    slots_.push_back(Slot{name, s.id, wild});
    if (!wild) s.set(name, slot);
    return slot;
  }
  // Registry::find, remembered by name for the module: calls repeat a few builtins (~550 calls on
  // the Kata policy), and the registry's lookup copies the name into a std::string first.
  const builtins::BuiltinDef* find_builtin(std::string_view name) {
    if (const auto* known = builtins_.find(name)) return *known;
    const builtins::BuiltinDef* b = builtins::Registry::standard().find(name);
    // Only hits are kept, keyed by the registry's own copy of the name (it lives for the process).
    if (b) *builtins_.try_emplace(b->name).first = b;
    return b;
  }

  // A rule's outermost scope and its bound-slot set: the resolver's own, reused by every rule of
  // the module, so their buffers are allocated once rather than per rule.
  Scope& rule_scope() {
    rule_scope_.names.clear();
    Scope fresh = child(nullptr);
    rule_scope_.parent = fresh.parent;
    rule_scope_.id = fresh.id;
    return rule_scope_;
  }
  std::vector<bool>& rule_safe() {
    rule_safe_.assign(static_cast<std::size_t>(nslots()), false);
    return rule_safe_;
  }

  Scope child(Scope* parent) {
    Scope s;
    s.parent = parent;
    s.id = static_cast<int>(scope_parent_.size());
    scope_parent_.push_back(parent ? parent->id : -1);
    return s;
  }
  static int lookup(const Scope* s, std::string_view name) {
    for (; s; s = s->parent) {
      if (int slot = s->find(name); slot != kNoSlot) return slot;
    }
    return kNoSlot;
  }

  // A name that is not a local: the roots, imports, rules of the package.
  // Whether `name` resolves outside the locals, without building the reference.
  bool is_global(std::string_view name) const {
    if (is_root_name(name)) return true;
    if (!mod_) return false;
    for (const auto& imp : mod_->imports) {
      if (imp.path[0] != "data"_lit && imp.path[0] != "input"_lit) continue;
      if ((imp.alias.empty() ? imp.path.back() : imp.alias) == name) return true;
    }
    return pkg_rules_ && pkg_rules_->find(name);
  }

  // The path under `data` that a global name stands for when global() would make a data
  // reference of it (an import of data.x..., a rule of the package), without building the terms.
  // `node`, when given, receives the node of `path` if it is known without a walk (else null).
  bool global_data_path(std::string_view name, std::vector<Value>& path, DataNode** node = nullptr) const {
    if (!mod_ || name == "input"_lit || name == "data"_lit) return false;
    for (const auto& imp : mod_->imports) {
      if (imp.path[0] != "data"_lit && imp.path[0] != "input"_lit) continue;
      if ((imp.alias.empty() ? imp.path.back() : imp.alias) != name) continue;
      if (imp.path.size() == 1 || imp.path[0] != "data"_lit) return false;
      path.insert(path.end(), imp.raw.begin() + 1, imp.raw.end());
      return true;
    }
    if (!pkg_rules_) return false;
    const RuleName* rule = pkg_rules_->find(name);
    if (!rule) return false;
    path.insert(path.end(), mod_->package.begin(), mod_->package.end());
    path.push_back(rule->name);
    if (node) *node = rule->node;
    return true;
  }

  TermP global(std::string_view name, const Loc& loc) {
    if (name == "input"_lit || name == "data"_lit) {
      auto t = make_node<Term>(arena_);
      t->kind = TermKind::Var;
      t->name.append(name);
      t->loc = loc;
      t->slot = name == "input"_lit ? kInputSlot : kDataSlot;
      return t;
    }
    if (mod_) {
      for (const auto& imp : mod_->imports) {
        if (imp.path[0] != "data"_lit && imp.path[0] != "input"_lit) continue;
        const std::string& alias = imp.alias.empty() ? imp.path.back() : imp.alias;
        if (alias != name) continue;
        if (imp.path.size() == 1) return global(imp.path[0], loc);
        auto r = make_node<Term>(arena_);
        r->kind = TermKind::Ref;
        r->loc = loc;
        r->items.push_back(global(imp.path[0], loc));
        for (std::size_t i = 1; i < imp.raw.size(); ++i) {
          auto s = make_node<Term>(arena_);
          s->kind = TermKind::Scalar;
          s->value = imp.raw[i];
          s->ground = true;
          s->loc = loc;
          r->items.push_back(s);
        }
        return r;
      }
      const RuleName* rule = pkg_rules_ ? pkg_rules_->find(name) : nullptr;
      if (rule) {
        auto r = make_node<Term>(arena_);
        r->items.reserve(mod_->package.size() + 2);
        r->kind = TermKind::Ref;
        r->loc = loc;
        r->items.push_back(global("data", loc));
        for (const auto& seg : mod_->package) {
          auto s = make_node<Term>(arena_);
          s->kind = TermKind::Scalar;
          s->value = seg;
          s->ground = true;
          r->items.push_back(s);
        }
        auto s = make_node<Term>(arena_);
        s->kind = TermKind::Scalar;
        s->value = rule->name;
        s->ground = true;
        r->items.push_back(s);
        return r;
      }
    }
    return nullptr;
  }

  // Phase A: declarations and implicit locals of one body level (nested bodies excluded).
  // Names a body declares explicitly (some, :=, some ... in): visible only after the declaration.
  static void pattern_names(const TermP& t, std::vector<std::string_view>& out) {
    if (!t) return;
    if (t->kind == TermKind::Var) {
      if (!t->wildcard) out.push_back(t->name);
    } else if (t->kind == TermKind::Array || t->kind == TermKind::Set) {
      for (const auto& i : t->items) pattern_names(i, out);
    } else if (t->kind == TermKind::Object) {
      for (std::size_t i = 1; i < t->items.size(); i += 2) pattern_names(t->items[i], out);
    }
  }

  // Phase A: implicit locals of one body level (nested bodies excluded).
  void declare_level(Body& b, Scope& s) {
    // The resolver's buffer: declare_level does not nest (implicit() stays on this level). A few
    // names a body: scanned, not a std::set of string copies.
    std::vector<std::string_view>& declared = declared_;
    declared.clear();
    for (auto& e : b.exprs) {
      if (e.kind == ExprKind::SomeDecl) {
        for (auto& v : e.vars) pattern_names(v, declared);
      } else if (e.kind == ExprKind::SomeIn) {
        pattern_names(e.key, declared);
        pattern_names(e.val, declared);
      } else if (e.kind == ExprKind::Term && is_assign(*e.term)) {
        pattern_names(e.term->items[0], declared);
      }
    }
    skip_ = declared.empty() ? nullptr : &declared;
    for (auto& e : b.exprs) {
      switch (e.kind) {
        case ExprKind::SomeDecl: break;
        case ExprKind::SomeIn: implicit(e.coll, s); break;
        case ExprKind::Every: implicit(e.coll, s); break;
        case ExprKind::Term:
          if (is_assign(*e.term)) {
            implicit(e.term->items[1], s);
            // object keys inside an := pattern are inputs
            if (e.term->items[0]->kind != TermKind::Var) implicit(e.term->items[0], s);
          } else {
            implicit(e.term, s);
          }
          break;
      }
      for (auto& w : e.withs) {
        if (!builtin_value(w, s)) implicit(w.value, s);
      }
    }
    skip_ = nullptr;
  }

  static bool is_assign(const Term& t) {
    return t.kind == TermKind::Call && t.name == "assign"_lit && t.items.size() == 2;
  }

  // OPA evaluates references with variables in call arguments before the call: f(xs[i]) becomes
  // $r = xs[i]; f($r), so the reference can bind i (also when i is compared by the call itself).
  static bool has_var_path(const Term& t) {
    for (std::size_t i = 1; i < t.items.size(); ++i)
      if (t.items[i]->kind != TermKind::Scalar) return true;
    return false;
  }
  void extract_refs(TermP& t, std::vector<Expr>& pre, const Loc& loc) {
    if (t->kind == TermKind::Call) {
      if (t->name == "print"_lit || t->name == "internal.template_string"_lit) return;
      for (auto& a : t->items) {
        if (a->kind == TermKind::Ref && has_var_path(*a) && t->name != "eq"_lit && t->name != "assign"_lit) {
          std::string name = "$r" + std::to_string(fresh_++);
          auto v1 = make_node<Term>(arena_);
          v1->kind = TermKind::Var;
          v1->name = name;
          v1->loc = a->loc;
          auto v2 = make_node<Term>(arena_, *v1);
          auto eq = make_node<Term>(arena_);
          eq->kind = TermKind::Call;
          eq->name = "eq";
          eq->loc = a->loc;
          eq->items = {v1, a};
          Expr e;
          e.kind = ExprKind::Term;
          e.loc = loc;
          e.term = eq;
          pre.push_back(std::move(e));
          a = v2;
        } else {
          extract_refs(a, pre, loc);
        }
      }
    } else if (t->kind == TermKind::Array || t->kind == TermKind::Set || t->kind == TermKind::Object) {
      for (auto& i : t->items) extract_refs(i, pre, loc);
    }
  }
  void extract_body_refs(Body& b) {
    // Most bodies have nothing to extract: rebuild the list only from the first expression that does.
    ExprList out(b.exprs.get_allocator());
    bool rebuilt = false;
    for (std::size_t i = 0; i < b.exprs.size(); ++i) {
      Expr& e = b.exprs[i];
      std::vector<Expr> pre;
      if (e.kind == ExprKind::Term && !e.negated && e.withs.empty()) extract_refs(e.term, pre, e.loc);
      if (!pre.empty() && !rebuilt) {
        rebuilt = true;
        out.reserve(b.exprs.size() + pre.size());
        for (std::size_t j = 0; j < i; ++j) out.push_back(std::move(b.exprs[j]));
      }
      if (!rebuilt) continue;
      for (auto& p : pre) out.push_back(std::move(p));
      out.push_back(std::move(e));
    }
    if (rebuilt) b.exprs = std::move(out);
  }

  // `with f as count`: a replacement naming a builtin rather than a value.
  const builtins::BuiltinDef* builtin_value(With& w, Scope& s) {
    const Term& t = *w.value;
    std::string name;
    if (t.kind == TermKind::Var) {
      name = t.name;
    } else if (t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var) {
      name = t.items[0]->name;
      for (std::size_t i = 1; i < t.items.size(); ++i) {
        if (t.items[i]->kind != TermKind::Scalar || !t.items[i]->value.is_string()) return nullptr;
        name += "." + t.items[i]->value.as_string();
      }
    } else {
      return nullptr;
    }
    std::string first = name.substr(0, name.find('.'));
    if (lookup(&s, first) != kNoSlot || is_global(first)) return nullptr;
    w.value_builtin = builtins::Registry::standard().find(name);
    if (w.value_builtin && w.value_builtin->unsupported) {
      // Replacing a builtin with an unsupported one would make the call silently undefined.
      fail("rego_type_error", "unsupported builtin " + name + ": " + w.value_builtin->unsupported, w.loc);
    }
    return w.value_builtin;
  }

  // `repeat_same`: a name repeated across function arguments (f(x, x), f(x, [x])) is one variable,
  // so the arguments must unify with each other, as in OPA.
  void declare_pattern(const TermP& t, Scope& s, bool repeat_same = false) {
    if (!t) return;
    if (t->kind == TermKind::Var) {
      if (repeat_same && !t->wildcard) {
        if (int slot = s.find(t->name); slot != kNoSlot) {
          t->slot = slot;
          return;
        }
      }
      t->slot = new_slot(s, t->name, t->wildcard);
      return;
    }
    if (t->kind == TermKind::Array || t->kind == TermKind::Object || t->kind == TermKind::Set) {
      for (std::size_t i = 0; i < t->items.size(); ++i) {
        if (t->kind == TermKind::Object && i % 2 == 0) implicit(t->items[i], s);
        else declare_pattern(t->items[i], s, repeat_same);
      }
      return;
    }
    implicit(t, s);
  }

  void implicit(const TermP& t, Scope& s) {
    if (!t) return;
    switch (t->kind) {
      case TermKind::Var:
        if (t->slot != kNoSlot) return;
        if (t->wildcard) {
          t->slot = new_slot(s, "_", true);
          return;
        }
        if (skip_ && std::any_of(skip_->begin(), skip_->end(), [&](std::string_view d) { return same_text(d, t->name); })) {
          return;
        }
        if (lookup(&s, t->name) != kNoSlot) return;
        if (is_global(t->name)) return;
        new_slot(s, t->name, false);
        return;
      case TermKind::Call:
        for (auto& i : t->items) implicit(i, s);
        return;
      case TermKind::Ref:
      case TermKind::Array:
      case TermKind::Set:
      case TermKind::Object:
        for (auto& i : t->items) implicit(i, s);
        return;
      default: return;  // scalars; comprehensions are their own scopes
    }
  }

  // How a name first occurred in the body being checked (check_declarations).
  enum class Occurrence : std::uint8_t { Referenced, Declared, Assigned, Arg };
  using Occurrences = std::vector<std::pair<std::string_view, Occurrence>>;

  // check_declarations' walk over one body: the occurrences so far, and how names are recorded.
  struct DeclCheck {
    const Resolver& res;
    const Scope& scope;
    Occurrences& occ;
    const Occurrence* find(std::string_view name) const {
      for (const auto& [n, o] : occ)
        if (same_text(n, name)) return &o;
      return nullptr;
    }
    void declare(const Term& v, Occurrence how) {
      if (v.wildcard) return;
      if (const Occurrence* o = find(v.name)) {
        switch (*o) {
          case Occurrence::Referenced: fail("rego_compile_error", "var " + v.name + " referenced above", v.loc);
          case Occurrence::Declared: fail("rego_compile_error", "var " + v.name + " declared above", v.loc);
          case Occurrence::Assigned: fail("rego_compile_error", "var " + v.name + " assigned above", v.loc);
          case Occurrence::Arg: fail("rego_compile_error", "arg " + v.name + " redeclared", v.loc);
        }
      }
      occ.emplace_back(v.name, how);
    }
    // Names used before any declaration here: not locals of an enclosing body, not globals.
    void refs(const Term& t) {
      switch (t.kind) {
        case TermKind::Var:
          if (!t.wildcard && !find(t.name) && res.lookup(&scope, t.name) == kNoSlot && !res.is_global(t.name))
            occ.emplace_back(t.name, Occurrence::Referenced);
          return;
        case TermKind::Scalar: case TermKind::ArrayCompr: case TermKind::SetCompr: case TermKind::ObjectCompr: return;
        default:
          for (const auto& i : t.items) refs(*i);
      }
    }
    void pattern(const Term& t, Occurrence how) {
      switch (t.kind) {
        case TermKind::Var: declare(t, how); return;
        case TermKind::Array: case TermKind::Set:
          for (const auto& i : t.items) pattern(*i, how);
          return;
        case TermKind::Object:
          for (std::size_t i = 0; i < t.items.size(); ++i) {
            if (i % 2 == 0) refs(*t.items[i]);
            else pattern(*t.items[i], how);
          }
          return;
        default: refs(t);
      }
    }
  };

  // OPA's order rules for `:=` and `some` (v1/ast/compile.go rewriteDeclaredVar), per body: a name
  // is declared (`some`, `some ... in`) or assigned (`:=`) once, not after the body referenced it,
  // and not when it is a function argument. `occ` holds the names the body starts with (arguments,
  // an `every`'s key and value). Comprehension and `every` bodies are checked on their own.
  void check_declarations(const Body& b, const Scope& s, Occurrences occ) {
    // A body that declares nothing has nothing to check (most bodies: a scan, not a walk).
    const bool declares = std::any_of(b.exprs.begin(), b.exprs.end(), [](const Expr& e) {
      return e.kind == ExprKind::SomeDecl || e.kind == ExprKind::SomeIn ||
             (e.kind == ExprKind::Term && is_assign(*e.term));
    });
    if (!declares) {
      head_rule_ = nullptr;
      return;
    }
    if (head_rule_)
      for (const auto& a : head_rule_->args) arg_names(*a, occ);
    DeclCheck c{*this, s, occ};
    for (const auto& e : b.exprs) {
      switch (e.kind) {
        case ExprKind::SomeDecl:
          for (const auto& v : e.vars) c.declare(*v, Occurrence::Declared);
          break;
        case ExprKind::SomeIn:
          c.refs(*e.coll);
          if (e.key) c.pattern(*e.key, Occurrence::Declared);
          c.pattern(*e.val, Occurrence::Declared);
          break;
        case ExprKind::Every: c.refs(*e.coll); break;  // its key and value belong to its body
        case ExprKind::Term:
          if (is_assign(*e.term) && e.term->items.size() == 2) {
            const Term& lhs = *e.term->items[0];
            if (e.negated) fail("rego_compile_error", "cannot assign vars inside negated expression", e.loc);
            if (lhs.kind != TermKind::Var && lhs.kind != TermKind::Array && lhs.kind != TermKind::Object)
              fail("rego_compile_error", "cannot assign to " + value_name(lhs), lhs.loc);
            c.refs(*e.term->items[1]);
            c.pattern(lhs, Occurrence::Assigned);
          } else {
            c.refs(*e.term);
          }
          break;
      }
      for (const auto& w : e.withs) c.refs(*w.value);
    }
    // A `some x` whose variable nothing else names is an error in OPA's rules (its
    // checkUnusedDeclaredVars; queries are not checked).
    for (const auto& e : b.exprs) {
      if (!mod_) break;
      if (e.kind != ExprKind::SomeDecl) continue;
      for (const auto& v : e.vars) {
        if (v->wildcard) continue;
        bool used = head_rule_ && head_mentions(*head_rule_, v->name);
        for (const auto& other : b.exprs)
          if (&other != &e && mentions(other, v->name)) used = true;
        if (!used) fail("rego_compile_error", "declared var " + v->name + " unused", e.loc);
      }
    }
    head_rule_ = nullptr;
  }

  static bool head_mentions(const Rule& r, std::string_view name) {
    for (const auto& t : r.suffix)
      if (mentions(*t, name)) return true;
    return (r.key && mentions(*r.key, name)) || (r.value && mentions(*r.value, name));
  }

  // Whether `name` occurs as a variable in `t` or `e` (nested bodies included).
  static bool mentions(const Term& t, std::string_view name) {
    if (t.kind == TermKind::Var) return same_text(t.name, name);
    for (const auto& i : t.items)
      if (mentions(*i, name)) return true;
    if (t.head && mentions(*t.head, name)) return true;
    if (t.head2 && mentions(*t.head2, name)) return true;
    if (t.body)
      for (const auto& e : t.body->exprs)
        if (mentions(e, name)) return true;
    return false;
  }
  static bool mentions(const Expr& e, std::string_view name) {
    for (const TermP* t : {&e.term, &e.key, &e.val, &e.coll})
      if (*t && mentions(**t, name)) return true;
    for (const auto& v : e.vars)
      if (mentions(*v, name)) return true;
    for (const auto& w : e.withs)
      if (mentions(*w.value, name)) return true;
    if (e.body)
      for (const auto& x : e.body->exprs)
        if (mentions(x, name)) return true;
    return false;
  }

  bool function_value_ok_ = false;  // resolving a `with` value that may name a function
  const Term* statement_ = nullptr;  // the call an expression consists of (check_void_call)
  std::string_view query_text_;      // a query's source, for error texts (modules: Policy::Impl::sources)

  void set_query_text(std::string_view text) { query_text_ = text; }

  // The rule whose body is checked next: its arguments start the body's occurrences, and names its
  // head (suffix, key, value) uses are used.
  const Rule* head_rule_ = nullptr;

  // Phase B: resolve every term of a body (recursing into nested bodies). `starts_with`: names the
  // body's scope already holds (see check_declarations).
  void resolve_body(Body& b, Scope& s, Occurrences starts_with = {}) {
    check_declarations(b, s, std::move(starts_with));
    b.scope = s.id;
    extract_body_refs(b);
    declare_level(b, s);
    for (auto& e : b.exprs) {
      switch (e.kind) {
        case ExprKind::SomeDecl:
          for (auto& v : e.vars) v->slot = new_slot(s, v->name, v->wildcard);
          break;
        case ExprKind::SomeIn:
          resolve(e.coll, s);
          declare_pattern(e.key, s);
          declare_pattern(e.val, s);
          if (e.key) resolve(e.key, s);
          resolve(e.val, s);
          break;
        case ExprKind::Every: {
          resolve(e.coll, s);
          auto inner = std::make_unique<Scope>(child(&s));
          // (The parser admits variables only as an `every`'s key and value.)
          if (e.key) e.key->slot = new_slot(*inner, e.key->name, e.key->wildcard);
          e.val->slot = new_slot(*inner, e.val->name, e.val->wildcard);
          Occurrences kv;
          if (e.key && !e.key->wildcard) kv.emplace_back(e.key->name, Occurrence::Declared);
          if (!e.val->wildcard) kv.emplace_back(e.val->name, Occurrence::Declared);
          resolve_body(*e.body, *inner, std::move(kv));
          scopes_.push_back(std::move(inner));
          break;
        }
        case ExprKind::Term:
          if (is_assign(*e.term)) {
            const Term& lhs = *e.term->items[0];
            if (mod_ && mod_->v1 && lhs.kind == TermKind::Var && is_root_name(lhs.name)) {
              fail("rego_compile_error", "variables must not shadow " + lhs.name + " (use a different variable name)", e.loc);
            }
            e.term->op = CallOp::Assign;
            resolve(e.term->items[1], s);
            declare_pattern(e.term->items[0], s);
            resolve(e.term->items[0], s);
            if (!shapes_unify(*e.term->items[0], *e.term->items[1])) fail("rego_type_error", "match error", e.term->loc);
            collect_vars(e.term);
          } else {
            statement_ = e.term.get();
            resolve(e.term, s);
          }
          break;
      }
      for (auto& w : e.withs) resolve_with(w, s);
    }
  }

  // A reference into a function (`f`, `some x in f`) instead of a call: functions are not
  // documents, so OPA's type checker refuses it (PR 8253's wording) rather than leave it undefined.
  void check_function_ref(const Term& ref) const {
    if (function_value_ok_) return;
    if (ref.kind != TermKind::Ref || ref.items.empty() || ref.items[0]->kind != TermKind::Var ||
        ref.items[0]->slot != kDataSlot)
      return;
    const DataNode* n = p_.root.get();
    for (std::size_t i = 1; i < ref.items.size() && ref.items[i]->kind == TermKind::Scalar; ++i) {
      auto it = n->children.find(ref.items[i]->value);
      if (it == n->children.end()) return;
      n = it->second.get();
      if (n->is_function)
        fail("rego_type_error", "function " + path_string(n->path) + " used as reference, not called", ref.loc);
    }
  }

  void resolve_with(With& w, Scope& s) {
    if (!builtin_value(w, s)) {
      // `with f as g`: a value that is a name or reference may name a function (the replacement).
      const bool names_one = w.value->kind == TermKind::Var || w.value->kind == TermKind::Ref;
      function_value_ok_ = names_one;
      resolve(w.value, s);
      function_value_ok_ = false;
    }
    // Target: input..., data..., or a function/builtin name.
    const TermP& t = w.target;
    std::vector<std::string> names;
    std::vector<Value> rest;
    if (t->kind == TermKind::Var) {
      names.push_back(t->name);
    } else if (t->kind == TermKind::Ref && t->items[0]->kind == TermKind::Var) {
      names.push_back(t->items[0]->name);
      for (std::size_t i = 1; i < t->items.size(); ++i) {
        if (t->items[i]->kind != TermKind::Scalar) fail("rego_compile_error", "with target must be a ground reference", w.loc);
        rest.push_back(t->items[i]->value);
      }
    } else {
      fail("rego_compile_error", "with keyword target must reference existing input, data, or a function", w.loc);
    }
    const std::string& root = names[0];
    if (root == "input"_lit) {
      w.is_input = true;
      w.path = rest;
      return;
    }
    std::string dotted = root;
    bool all_str = true;
    for (const auto& r : rest) {
      if (r.is_string()) dotted += "." + r.as_string();
      else all_str = false;
    }
    if (root == "data"_lit) {
      DataNode* n = find_node(rest);
      if (n && n->is_function) {
        w.func = n;
        return;
      }
      w.is_data = true;
      w.path = rest;
      return;
    }
    // Function or builtin mocks (possibly through an import or a package rule).
    if (auto g = global(root, w.loc)) {
      std::vector<Value> path;
      if (g->kind == TermKind::Ref && g->items[0]->slot == kDataSlot) {
        for (std::size_t i = 1; i < g->items.size(); ++i) path.push_back(g->items[i]->value);
        for (const auto& r : rest) path.push_back(r);
        DataNode* n = find_node(path);
        if (n && n->is_function) {
          w.func = n;
          return;
        }
        w.is_data = true;
        w.path = path;
        return;
      }
      if (g->kind == TermKind::Ref && g->items[0]->slot == kInputSlot) {
        w.is_input = true;
        for (std::size_t i = 1; i < g->items.size(); ++i) w.path.push_back(g->items[i]->value);
        for (const auto& r : rest) w.path.push_back(r);
        return;
      }
    }
    if (all_str) {
      if (const auto* b = builtins::Registry::standard().find(dotted)) {
        w.builtin = b;
        return;
      }
      if (dotted == "print"_lit || dotted == "walk"_lit) {
        fail("rego_compile_error", "with keyword cannot replace " + dotted, w.loc);
      }
    }
    fail("rego_compile_error", "with keyword target must reference existing input, data, or a function", w.loc);
  }

  // The node of `path`; with `from`, that of path[0, start) is `from`.
  DataNode* find_node(const std::vector<Value>& path, DataNode* from = nullptr, std::size_t start = 0) {
    return from ? node_at(from, path, start) : node_at(p_.root.get(), path, 0);
  }

  void resolve(TermP& t, Scope& s) {
    switch (t->kind) {
      case TermKind::Scalar: t->ground = true; return;
      case TermKind::Var: {
        if (t->slot != kNoSlot) return;
        int slot = lookup(&s, t->name);
        if (slot != kNoSlot) {
          t->slot = slot;
          t->vars = {slot};
          return;
        }
        if (auto g = global(t->name, t->loc)) {
          t = g;
          check_function_ref(*t);
          return;
        }
        // A name first seen where no new local may appear (rule heads, with values).
        t->slot = new_slot(s, t->name, false);
        t->vars = {t->slot};
        return;
      }
      case TermKind::Ref: {
        resolve(t->items[0], s);
        if (t->items[0]->kind == TermKind::Ref) {
          // Splice an import/rule expansion: alias.x -> data.pkg.alias.x
          auto head = t->items[0];
          TermList items(t->items.get_allocator());
          items.reserve(head->items.size() + t->items.size() - 1);
          items.insert(items.end(), head->items.begin(), head->items.end());
          items.insert(items.end(), t->items.begin() + 1, t->items.end());
          t->items = std::move(items);
        }
        for (std::size_t i = 1; i < t->items.size(); ++i) resolve(t->items[i], s);
        check_function_ref(*t);
        collect_vars(t);
        t->path = const_path(*t);
        return;
      }
      case TermKind::Array:
      case TermKind::Set:
      case TermKind::Object: {
        bool ground = true;
        for (auto& i : t->items) {
          resolve(i, s);
          ground = ground && i->ground;
        }
        if (ground) fold(t);
        collect_vars(t);
        return;
      }
      case TermKind::Call: resolve_call(t, s); return;
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr: {
        auto inner = std::make_unique<Scope>(child(&s));
        resolve_body(*t->body, *inner);
        resolve(t->head, *inner);
        if (t->head2) resolve(t->head2, *inner);
        t->body->scope = inner->id;
        scopes_.push_back(std::move(inner));
        return;
      }
    }
  }

  void fold(TermP& t) {
    Value v;
    if (t->kind == TermKind::Array) {
      std::vector<Value> items;
      for (auto& i : t->items) items.push_back(i->value);
      v = Value::array(std::move(items));
    } else if (t->kind == TermKind::Set) {
      std::vector<Value> items;
      for (auto& i : t->items) items.push_back(i->value);
      v = Value::set(std::move(items));
    } else {
      std::vector<std::pair<Value, Value>> entries;
      for (std::size_t i = 0; i + 1 < t->items.size(); i += 2) {
        // Duplicate keys in a literal: the last one wins only if equal; OPA rejects otherwise at
        // runtime. Keep the first occurrence reversed so the later wins.
        entries.emplace_back(t->items[i]->value, t->items[i + 1]->value);
      }
      std::reverse(entries.begin(), entries.end());
      v = Value::object(std::move(entries));
    }
    auto c = make_node<Term>(arena_);
    c->kind = TermKind::Scalar;
    c->loc = t->loc;
    c->value = std::move(v);
    c->ground = true;
    t = c;
  }

  // The decoded form of ref `t` when its head is a local or `input` and every key a constant
  // string (see ConstPath); nullptr otherwise.
  const ConstPath* const_path(const Term& t) {
    const Term& h = *t.items[0];
    if (h.kind != TermKind::Var || !(h.slot >= 0 || h.slot == kInputSlot) || t.items.size() < 2) return nullptr;
    for (std::size_t i = 1; i < t.items.size(); ++i) {
      const Term& k = *t.items[i];
      if (k.kind != TermKind::Scalar || !k.value.is_string()) return nullptr;
    }
    const std::size_t n = t.items.size() - 1;
    void* mem = arena_->allocate(sizeof(ConstPath) + n * sizeof(PathKey), alignof(PathKey));
    auto* cp = new (mem) ConstPath;
    cp->head = h.slot;
    cp->size = static_cast<std::uint32_t>(n);
    auto* keys = reinterpret_cast<PathKey*>(cp + 1);
    for (std::size_t i = 0; i < n; ++i) {
      PathKey* k = new (keys + i) PathKey;
      const Value& v = t.items[i + 1]->value;
      const std::string& text = v.as_string();
      k->size = static_cast<std::uint32_t>(text.size());
      if (k->size <= PathKey::kInline) std::memcpy(k->bytes, text.data(), text.size());
      else k->data = text.data();
      k->intern();
    }
    return cp;
  }

  void collect_vars(const TermP& t) {
    t->multi = t->kind == TermKind::Call && t->op == CallOp::Walk;
    for (const auto& i : t->items) t->multi = t->multi || i->multi;
    // From the children's own lists (each child is resolved, so its list is final; a declared
    // variable keeps only its slot), gathered in a reused buffer so the term's vector is allocated
    // once at its final size. Walking the whole subtree at every level was quadratic in depth.
    scratch_.clear();
    auto add = [&](const Term& x) {
      if (x.kind == TermKind::Var) {
        if (x.slot >= 0) scratch_.push_back(x.slot);
      } else {
        scratch_.insert(scratch_.end(), x.vars.begin(), x.vars.end());
      }
    };
    switch (t->kind) {
      case TermKind::Var: add(*t); break;
      case TermKind::Ref:
      case TermKind::Array:
      case TermKind::Set:
      case TermKind::Object:
      case TermKind::Call:
        for (const auto& i : t->items) add(*i);
        break;
      default: break;
    }
    // Sorted and deduplicated in place by insertion: the lists are a few slots, where this costs
    // less than std::sort and std::unique.
    int* a = scratch_.data();
    std::size_t out = 0;
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
      const int v = a[i];  // i >= out: not yet overwritten
      std::size_t j = out;
      while (j > 0 && a[j - 1] > v) --j;
      if (j > 0 && a[j - 1] == v) continue;
      for (std::size_t k = out; k > j; --k) a[k] = a[k - 1];
      a[j] = v;
      ++out;
    }
    t->vars.assign(a, a + out);
    t->pure = pure_term(*t);
  }

  // Term::pure from the children (leaves are not collected, so they are judged here).
  static bool pure_term(const Term& t) {
    auto child = [](const Term& x) {
      if (x.kind == TermKind::Scalar || x.folded) return true;
      if (x.kind == TermKind::Var) return x.slot >= 0;
      return x.pure;
    };
    switch (t.kind) {
      case TermKind::Call:
        if (t.func) return false;
        if (t.op == CallOp::Other) {
          if (!t.builtin || !t.builtin->deterministic) return false;
        } else if (t.op != CallOp::Equal && t.op != CallOp::NotEqual && t.op != CallOp::Member) {
          return false;
        }
        [[fallthrough]];
      case TermKind::Ref:
      case TermKind::Array:
      case TermKind::Set:
      case TermKind::Object:
        for (const auto& i : t.items)
          if (!child(*i)) return false;
        return true;
      default: return child(t);
    }
  }

  // print is OPA's one void builtin: an expression of its own (`print(x)`), never a value
  // (`y := print(x)`, `f(print(x))`): OPA's checkVoidCalls, rego_type_error "print(x) used as
  // value". The call is named as written in the source (OPA prints its rewritten form, which
  // differs only where an argument names a local: `__local0__` there).
  void check_void_call(const Term& t) const {
    if (&t == statement_) return;
    const Loc& l = t.loc;
    const std::string_view src = l.file < p_.sources.size() ? std::string_view(p_.sources[l.file]) : query_text_;
    fail("rego_type_error", call_text(src, l).value_or(t.name + "(...)") + " used as value", l);
  }

  // The text of the call that starts at `l` in `src` (through its closing parenthesis, strings
  // and nested brackets skipped), or nullopt when it cannot be found there.
  static std::optional<std::string> call_text(std::string_view src, const Loc& l) {
    std::size_t pos = 0;
    for (std::uint32_t line = 1; line < l.line; ++line) {
      pos = src.find('\n', pos);
      if (pos == std::string_view::npos) return std::nullopt;
      ++pos;
    }
    pos += l.col > 0 ? l.col - 1 : 0;
    int depth = 0;
    for (std::size_t i = pos; i < src.size() && i - pos < 4096; ++i) {
      const char c = src[i];
      if (c == '"' || c == '`') {
        for (++i; i < src.size() && src[i] != c; ++i)
          if (c == '"' && src[i] == '\\') ++i;
      } else if (c == '(' || c == '[' || c == '{') {
        ++depth;
      } else if (c == ')' || c == ']' || c == '}') {
        if (--depth < 0) return std::nullopt;
        if (depth == 0 && c == ')') return std::string(src.substr(pos, i + 1 - pos));
      }
    }
    return std::nullopt;
  }

  // The part of OPA's type checker that needs no inference (checkExprEq: "match error"): the
  // two sides of `=` or `:=` whose literal structure can never unify, such as `[x] = {"a": 1}`,
  // `[a, b] := [1, 2, 3]`, `{"a": v} = {"a": 1, "b": 2}` or `1 = "1"`. Variables, references
  // and calls are of unknown type here and unify with anything (OPA infers some of them; this
  // does not, so it reports a subset of OPA's match errors and nothing OPA accepts).
  enum class Shape : std::uint8_t { Unknown, Null, Boolean, Number, String, Array, Object, Set };
  static Shape shape_of(const Value& v) {
    return v.is_null()     ? Shape::Null
           : v.is_bool()   ? Shape::Boolean
           : v.is_number() ? Shape::Number
           : v.is_string() ? Shape::String
           : v.is_array()  ? Shape::Array
           : v.is_object() ? Shape::Object
           : v.is_set()    ? Shape::Set
                           : Shape::Unknown;
  }
  static Shape shape_of(const Term& t) {
    switch (t.kind) {
      case TermKind::Scalar: return shape_of(t.value);  // (ground literals are folded into values)
      case TermKind::Array:
      case TermKind::ArrayCompr: return Shape::Array;
      case TermKind::Object:
      case TermKind::ObjectCompr: return Shape::Object;
      case TermKind::Set:
      case TermKind::SetCompr: return Shape::Set;
      default: return Shape::Unknown;
    }
  }
  static bool shapes_unify(const Value& a, const Value& b) {
    if (shape_of(a) != shape_of(b)) return false;
    if (a.is_array()) {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!shapes_unify(a.array_items()[i], b.array_items()[i])) return false;
    } else if (a.is_object()) {
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.object_entries()) {
        const Value* w = b.get(k);
        if (!w || !shapes_unify(v, *w)) return false;
      }
    }
    return true;
  }
  // A literal `t` (not folded: it holds variables) against a value.
  static bool shapes_unify(const Term& t, const Value& v) {
    if (t.kind == TermKind::Scalar) return shapes_unify(t.value, v);
    const Shape st = shape_of(t);
    if (st == Shape::Unknown) return true;
    if (st != shape_of(v)) return false;
    if (t.kind == TermKind::Array) {
      if (t.items.size() != v.size()) return false;
      for (std::size_t i = 0; i < t.items.size(); ++i)
        if (!shapes_unify(*t.items[i], v.array_items()[i])) return false;
    } else if (t.kind == TermKind::Object && constant_keys(t)) {
      if (t.items.size() / 2 != v.size()) return false;
      for (std::size_t i = 0; i < t.items.size(); i += 2) {
        const Value* w = v.get(t.items[i]->value);
        if (!w || !shapes_unify(*t.items[i + 1], *w)) return false;
      }
    }
    return true;
  }
  // Only objects whose keys are all constants have a fixed set of keys.
  static bool constant_keys(const Term& o) {
    for (std::size_t i = 0; i < o.items.size(); i += 2)
      if (o.items[i]->kind != TermKind::Scalar) return false;
    return true;
  }
  static bool shapes_unify(const Term& a, const Term& b) {
    if (a.kind == TermKind::Scalar) return shapes_unify(b, a.value);
    if (b.kind == TermKind::Scalar) return shapes_unify(a, b.value);
    const Shape sa = shape_of(a), sb = shape_of(b);
    if (sa == Shape::Unknown || sb == Shape::Unknown) return true;
    if (sa != sb) return false;
    if (a.kind == TermKind::Array && b.kind == TermKind::Array) {
      if (a.items.size() != b.items.size()) return false;
      for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!shapes_unify(*a.items[i], *b.items[i])) return false;
    } else if (a.kind == TermKind::Object && b.kind == TermKind::Object && constant_keys(a) && constant_keys(b)) {
      if (a.items.size() != b.items.size()) return false;
      for (std::size_t i = 0; i < a.items.size(); i += 2) {
        const Term* match = nullptr;
        for (std::size_t j = 0; j < b.items.size() && !match; j += 2)
          if (b.items[j]->value == a.items[i]->value) match = b.items[j + 1].get();
        if (!match || !shapes_unify(*a.items[i + 1], *match)) return false;
      }
    }
    return true;
  }

  void resolve_call(TermP& t, Scope& s) {
    const std::string& name = t->name;
    if (name == "print"_lit) check_void_call(*t);
    t->op = name == "eq"_lit                           ? CallOp::Eq
            : name == "assign"_lit                     ? CallOp::Assign
            : name == "print"_lit                      ? CallOp::Print
            : name == "internal.template_string"_lit   ? CallOp::Template
            : name == "walk"_lit                       ? CallOp::Walk
                                                   : CallOp::Other;
    if (name == "eq"_lit || name == "assign"_lit) {
      // (Written as calls, `eq(x)` or `assign(a, b, c)` reach here with other argument counts;
      // everything downstream reads exactly two.)
      if (t->items.size() != 2) {
        fail("rego_type_error",
             name + ": arity mismatch\n\thave: " + std::to_string(t->items.size()) + " argument(s)\n\twant: 2",
             t->loc);
      }
      for (auto& i : t->items) resolve(i, s);
      if (!shapes_unify(*t->items[0], *t->items[1])) fail("rego_type_error", "match error", t->loc);
      collect_vars(t);
      return;
    }
    // User functions: data.x.f, pkg-local f, import alias a.f.
    const std::string_view dotted = name;
    const std::size_t dot = dotted.find('.');
    const std::string_view first = dotted.substr(0, dot);
    if (lookup(&s, first) != kNoSlot && t->head) {
      fail("rego_type_error", "undefined function " + name, t->loc);
    }
    std::vector<Value> path;
    DataNode* from = nullptr;  // the node of path[0, depth) when known
    bool user = first == "data"_lit || global_data_path(first, path, &from);
    const std::size_t depth = from ? path.size() : 0;
    if (user && dot != std::string_view::npos && t->head && t->head->kind == TermKind::Ref) {
      // The segments after the first, as written: a string key may hold a dot
      // (`fruit["color.name"](x)`), which the dotted name cannot tell from a separator.
      for (std::size_t i = 1; i < t->head->items.size(); ++i) path.push_back(t->head->items[i]->value);
    } else if (user && dot != std::string_view::npos) {
      // The segments after the first.
      for (std::size_t b = dot + 1;;) {
        std::size_t e = dotted.find('.', b);
        path.push_back(Value::string(std::string(dotted.substr(b, e == std::string_view::npos ? e : e - b))));
        if (e == std::string_view::npos) break;
        b = e + 1;
      }
    }
    std::size_t nargs = t->items.size();
    int arity = -2;
    if (user) {
      DataNode* n = find_node(path, from, depth);
      if (!n || !n->is_function) {
        if (!find_builtin(name)) {
          fail("rego_type_error", "undefined function " + path_string(path), t->loc);
        }
      } else {
        t->func = n;
        arity = n->arity;
      }
    }
    if (!t->func) {
      if (name == "print"_lit || name == "internal.template_string"_lit) {
        for (auto& i : t->items) resolve(i, s);
        collect_vars(t);
        return;
      }
      if (name == "walk"_lit) {
        arity = 1;
      } else {
        const auto* b = find_builtin(name);
        if (!b) fail("rego_type_error", "undefined function " + name, t->loc);
        if (mod_ && mod_->v1 && is_deprecated_builtin(name)) {
          fail("rego_type_error", "deprecated built-in function calls in expression: " + name, t->loc);
        }
        if (b->unsupported) fail("rego_type_error", "unsupported builtin " + name + ": " + b->unsupported, t->loc);
        t->builtin = b;
        arity = b->arity;
        if (name == "equal"_lit) t->op = CallOp::Equal;
        else if (name == "neq"_lit) t->op = CallOp::NotEqual;
        else if (name == "internal.member_2"_lit) t->op = CallOp::Member;
      }
    }
    if (arity >= 0 && static_cast<int>(nargs) == arity + 1 && t.get() == statement_) {
      // f(a, out): the last argument receives the result (OPA's output-argument form). Only as an
      // expression of its own: nested (`x := abs(-9, 10)`) OPA rewrites the call with one more
      // output argument and its type checker refuses it, as the arity check below does.
      auto out = t->items.back();
      t->items.pop_back();
      auto eq = make_node<Term>(arena_);
      eq->kind = TermKind::Call;
      eq->name = "eq";
      eq->loc = t->loc;
      auto callt = make_node<Term>(arena_, *t);
      eq->items = {out, callt};
      t = eq;
      resolve_call(t, s);
      return;
    }
    if (arity >= 0 && static_cast<int>(nargs) != arity) {
      fail("rego_type_error",
           name + ": arity mismatch\n\thave: " + std::to_string(nargs) + " argument(s)\n\twant: " + std::to_string(arity),
           t->loc);
    }
    for (auto& i : t->items) resolve(i, s);
    collect_vars(t);
  }

  // ---------------------------------------------------------------- safety

  bool within(int scope, int ancestor) const {
    for (int s = scope; s >= 0; s = scope_parent_[static_cast<std::size_t>(s)]) {
      if (s == ancestor) return true;
    }
    return false;
  }

  // All local slots referenced in a term, including nested bodies.
  void all_slots(const Term& t, std::vector<int>& out) const {
    if (t.kind == TermKind::Var && t.slot >= 0) out.push_back(t.slot);
    for (const auto& i : t.items) all_slots(*i, out);
    if (t.head) all_slots(*t.head, out);
    if (t.head2) all_slots(*t.head2, out);
    if (t.body) all_slots_body(*t.body, out);
  }
  void all_slots_body(const Body& b, std::vector<int>& out) const {
    for (const auto& e : b.exprs) {
      if (e.term) all_slots(*e.term, out);
      for (const auto& v : e.vars) all_slots(*v, out);
      if (e.key) all_slots(*e.key, out);
      if (e.val) all_slots(*e.val, out);
      if (e.coll) all_slots(*e.coll, out);
      if (e.body) all_slots_body(*e.body, out);
      for (const auto& w : e.withs) all_slots(*w.value, out);
    }
  }
  // Slots a nested body uses from enclosing scopes.
  void free_slots(const Body& b, std::vector<int>& out) const {
    std::vector<int> all;
    all_slots_body(b, all);
    for (int s : all)
      if (!within(slots_[static_cast<std::size_t>(s)].scope, b.scope)) out.push_back(s);
  }
  // Slots a comprehension uses from enclosing scopes, in its head as in its body: `[t[i] | i :=
  // 1]` needs `t`, so it runs after what binds `t` (OPA's reorderBodyForClosures).
  void free_slots_compr(const Term& c, std::vector<int>& out) const {
    std::vector<int> all;
    all_slots_body(*c.body, all);
    if (c.head) all_slots(*c.head, all);
    if (c.head2) all_slots(*c.head2, all);
    for (int s : all)
      if (!within(slots_[static_cast<std::size_t>(s)].scope, c.body->scope)) out.push_back(s);
  }

  struct Io {
    std::vector<int> needs, binds, lhs_out, rhs_out;
    bool unify = false, composite_pair = false;
  };

  void collect(const Term& t, bool out_mode, std::vector<int>& needs, std::vector<int>& binds) const {
    switch (t.kind) {
      case TermKind::Scalar: return;
      case TermKind::Var:
        if (t.slot >= 0) (out_mode ? binds : needs).push_back(t.slot);
        return;
      case TermKind::Ref: {
        const Term& h = *t.items[0];
        if (h.kind == TermKind::Var) {
          if (h.slot >= 0) needs.push_back(h.slot);
        } else {
          collect(h, false, needs, binds);
        }
        for (std::size_t i = 1; i < t.items.size(); ++i) {
          const Term& e = *t.items[i];
          // Variables in a path position are bound by iterating the collection.
          collect(e, e.kind == TermKind::Var || e.kind == TermKind::Array || e.kind == TermKind::Object, needs,
                  binds);
        }
        return;
      }
      case TermKind::Array:
      case TermKind::Set:
        for (const auto& i : t.items) collect(*i, out_mode, needs, binds);
        return;
      case TermKind::Object:
        for (std::size_t i = 0; i < t.items.size(); ++i) collect(*t.items[i], i % 2 == 1 && out_mode, needs, binds);
        return;
      case TermKind::Call:
        if (t.name == "eq"_lit) {
          for (const auto& i : t.items) collect(*i, true, needs, binds);
          return;
        }
        for (const auto& i : t.items) collect(*i, false, needs, binds);
        return;
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr: free_slots_compr(t, needs); return;
    }
  }

  static bool is_pattern(const Term& t) {
    return t.kind == TermKind::Var || t.kind == TermKind::Array || t.kind == TermKind::Object;
  }

  // Fills `io`, which the caller has reset.
  void expr_io(const Expr& e, Io& io) const {
    switch (e.kind) {
      case ExprKind::SomeDecl: break;
      case ExprKind::SomeIn:
        if (e.key) collect(*e.key, true, io.needs, io.binds);
        collect(*e.val, true, io.needs, io.binds);
        collect(*e.coll, false, io.needs, io.binds);
        break;
      case ExprKind::Every: {
        collect(*e.coll, false, io.needs, io.binds);
        std::vector<int> fr;
        free_slots(*e.body, fr);
        for (int s : fr) {
          if (e.key && s == e.key->slot) continue;
          io.needs.push_back(s);
        }
        break;
      }
      case ExprKind::Term: {
        const Term& t = *e.term;
        if (t.kind == TermKind::Call && (t.name == "eq"_lit || t.name == "assign"_lit)) {
          const Term& a = *t.items[0];
          const Term& b = *t.items[1];
          if (t.name == "assign"_lit) {
            collect(a, true, io.needs, io.lhs_out);
            collect(b, false, io.needs, io.rhs_out);
            io.binds = io.lhs_out;
            io.binds.insert(io.binds.end(), io.rhs_out.begin(), io.rhs_out.end());
            io.rhs_out.clear();  // the right side of := never waits for the left
          } else {
            collect(a, is_pattern(a), io.needs, io.lhs_out);
            collect(b, is_pattern(b), io.needs, io.rhs_out);
            io.binds = io.lhs_out;
            io.binds.insert(io.binds.end(), io.rhs_out.begin(), io.rhs_out.end());
            io.unify = true;
            io.composite_pair = (a.kind == TermKind::Array && b.kind == TermKind::Array) ||
                                (a.kind == TermKind::Object && b.kind == TermKind::Object);
            // Iteration vars inside refs are bound by the ref itself, not by the other side.
            auto strip_refs = [&](const Term& side, std::vector<int>& outs) {
              if (side.kind == TermKind::Ref || side.kind == TermKind::Call) outs.clear();
            };
            strip_refs(a, io.lhs_out);
            strip_refs(b, io.rhs_out);
          }
        } else {
          collect(t, false, io.needs, io.binds);
        }
        break;
      }
    }
    for (const auto& w : e.withs) collect(*w.value, false, io.needs, io.binds);
    if (e.negated) {
      // Everything a negated expression mentions must be bound before it, except wildcards and
      // locals of its own nested scopes.
      for (int s : io.binds)
        if (!slots_[static_cast<std::size_t>(s)].wild) io.needs.push_back(s);
      io.binds.clear();
      io.lhs_out.clear();
      io.rhs_out.clear();
      io.unify = false;
    }
  }

  static bool subset(const std::vector<int>& xs, const std::vector<bool>& safe) {
    for (int x : xs)
      if (!safe[static_cast<std::size_t>(x)]) return false;
    return true;
  }

  bool ready(const Io& io, const std::vector<bool>& safe) const {
    if (!subset(io.needs, safe)) return false;
    if (io.unify && !io.composite_pair) {
      return subset(io.lhs_out, safe) || subset(io.rhs_out, safe);
    }
    return true;
  }

  // Reorders the body so each expression runs after the ones binding its inputs; `safe` holds the
  // slots bound on entry and, on return, those bound after the body.
  void schedule(Body& b, std::vector<bool>& safe) {
    safe.resize(static_cast<std::size_t>(nslots()), false);
    // Expressions stay where they are while the order is chosen; they are moved only if it differs
    // from the source order (rarely: most bodies are written in dependency order).
    ExprList& pending = b.exprs;
    // The per-expression buffers are the resolver's, reused by every body of every rule it
    // compiles (nested bodies are scheduled only after this body's order is fixed).
    std::vector<Io>& ios = io_pool_;
    if (ios.size() < pending.size()) ios.resize(pending.size());
    for (std::size_t i = 0; i < pending.size(); ++i) {
      Io& io = ios[i];
      io.needs.clear();
      io.binds.clear();
      io.lhs_out.clear();
      io.rhs_out.clear();
      io.unify = io.composite_pair = false;
      expr_io(pending[i], io);
    }
    std::vector<bool>& done = done_;
    done.assign(pending.size(), false);
    std::vector<std::size_t>& order = order_;
    order.clear();
    bool in_place = true;
    std::size_t remaining = pending.size();
    std::size_t first = 0;  // first pending expression: in-order bodies schedule in linear time
    while (remaining > 0) {
      bool progress = false;
      while (first < pending.size() && done[first]) ++first;
      for (std::size_t i = first; i < pending.size(); ++i) {
        if (done[i] || !ready(ios[i], safe)) continue;
        done[i] = true;
        --remaining;
        progress = true;
        for (int s : ios[i].binds) safe[static_cast<std::size_t>(s)] = true;
        pending[i].single = ios[i].binds.empty() && ios[i].lhs_out.empty() && ios[i].rhs_out.empty() &&
                            pending[i].kind != ExprKind::SomeIn;
        in_place = in_place && i == order.size();
        order.push_back(i);
        break;  // restart from the first pending expression to keep source order where possible
      }
      if (!progress) {
        for (std::size_t i = 0; i < pending.size(); ++i) {
          if (done[i]) continue;
          std::vector<int> all = ios[i].needs;
          all.insert(all.end(), ios[i].lhs_out.begin(), ios[i].lhs_out.end());
          for (int s : all) {
            if (!safe[static_cast<std::size_t>(s)]) {
              fail("rego_unsafe_var_error", "var " + std::string(slots_[static_cast<std::size_t>(s)].name) + " is unsafe",
                   pending[i].loc);
            }
          }
          fail("rego_unsafe_var_error", "expression is unsafe", pending[i].loc);
        }
      }
    }
    if (!in_place) {
      ExprList out(pending.get_allocator());
      out.reserve(pending.size());
      for (std::size_t i : order) out.push_back(std::move(pending[i]));
      b.exprs = std::move(out);
    }
    if (mod_)  // policy rules (not queries, whose nodes go away with them): see Expr::id
      for (auto& e : b.exprs) e.id = ++p_.expr_ids;
    if (p_.options.compile_tests) {
      for (auto& e : b.exprs) {
        TestExpr x;
        if (!compile_test(p_, e, x)) continue;
        auto* t = new (arena_->allocate(sizeof(TestExpr), alignof(TestExpr))) TestExpr(x);
        e.test = t;
        if (t->op != TestOp::Call) continue;  // (Computed tests are not made outside compiled rules)
        // A query is prepared against a compiled policy, whose blocks exist (and which it must
        // not change); a policy's own calls are linked once its functions are compiled.
        if (mod_) p_.call_tests.push_back(t);
        else t->cfunc = t->call->func->cfunc;
      }
    }
    // Nested bodies: their enclosing variables are bound by the time they run.
    for (auto& e : b.exprs) {
      if (e.term) schedule_nested(*e.term, safe);
      if (e.coll) schedule_nested(*e.coll, safe);
      if (e.kind == ExprKind::Every) {
        std::vector<bool> inner = safe;
        inner.resize(static_cast<std::size_t>(nslots()), false);
        if (e.key) inner[static_cast<std::size_t>(e.key->slot)] = true;
        mark_bound(*e.val, inner);
        schedule(*e.body, inner);
      }
      for (auto& w : e.withs) schedule_nested(*w.value, safe);
    }
  }

  void mark_bound(const Term& t, std::vector<bool>& safe) {
    scratch_.clear();
    all_slots(t, scratch_);
    for (int s : scratch_) safe[static_cast<std::size_t>(s)] = true;
  }

  // The variables of function argument `a` (check_declarations).
  static void arg_names(const Term& a, Occurrences& out) {
    if (a.kind == TermKind::Var) {
      if (!a.wildcard) out.emplace_back(a.name, Occurrence::Arg);
      return;
    }
    if (a.kind == TermKind::Array || a.kind == TermKind::Set || a.kind == TermKind::Object)
      for (const auto& i : a.items) arg_names(*i, out);
  }

  // Ready for the next rule of the same module: buffers keep their capacity.
  void start_rule() {
    function_value_ok_ = false;  // (an error inside a `with` value may have left it set)
    slots_.clear();
    scope_parent_.clear();
    scope_parent_.push_back(-1);
    scopes_.clear();
    fresh_ = 0;
  }

  void schedule_nested(Term& t, const std::vector<bool>& safe) {
    for (auto& i : t.items) schedule_nested(*i, safe);
    if (t.body) {
      std::vector<int> outer;
      free_slots_compr(t, outer);
      std::sort(outer.begin(), outer.end());
      outer.erase(std::unique(outer.begin(), outer.end()), outer.end());
      t.body->nouter = static_cast<std::uint8_t>(std::min<std::size_t>(outer.size(), Body::kMaxOuter + 1));
      std::copy_n(outer.begin(), std::min<std::size_t>(outer.size(), Body::kMaxOuter), t.body->outer);
      std::vector<bool> inner = safe;
      inner.resize(static_cast<std::size_t>(nslots()), false);
      schedule(*t.body, inner);
      if (t.head) {
        check_safe(*t.head, inner);
        schedule_nested(*t.head, inner);
      }
      if (t.head2) {
        check_safe(*t.head2, inner);
        schedule_nested(*t.head2, inner);
      }
    }
  }

  void check_safe(const Term& t, const std::vector<bool>& safe) const {
    std::vector<int> needs, binds;
    collect(t, false, needs, binds);  // path variables (p := xs[_]) are bound by evaluation
    for (int s : needs) {
      if (static_cast<std::size_t>(s) >= slots_.size()) fail("rego_compile_error", "invalid variable", t.loc);
      if (static_cast<std::size_t>(s) >= safe.size() || !safe[static_cast<std::size_t>(s)]) {
        fail("rego_unsafe_var_error", "var " + std::string(slots_[static_cast<std::size_t>(s)].name) + " is unsafe", t.loc);
      }
    }
  }

  std::vector<std::unique_ptr<Scope>> scopes_;
  Scope rule_scope_;
  std::vector<bool> rule_safe_;
  NameTable<const builtins::BuiltinDef*> builtins_;  // find_builtin

 private:
  const std::vector<std::string_view>* skip_ = nullptr;  // declare_level: names it declares
  std::vector<std::string_view> declared_;
  int fresh_ = 0;
  Policy::Impl& p_;
  NodeArena* arena_;
  const Module* mod_;
  const RuleNames* pkg_rules_;
  struct Slot {
    std::string_view name;  // as in Scope::names
    int scope;  // declaring scope id
    bool wild;  // `_`
  };
  std::vector<Slot> slots_;
  std::vector<int> scratch_;  // collect_vars, mark_bound
  std::vector<Io> io_pool_;   // schedule
  std::vector<bool> done_;
  std::vector<std::size_t> order_;
  std::vector<int> scope_parent_;
};

std::string package_key(const std::vector<Value>& pkg) { return to_json(Value::array(pkg)); }

// Head reference -> (name segments as values, non-ground suffix).
// `name` is the first head segment as a value (shared, from the package's RuleNames).
void split_head(Rule& r, const std::vector<Value>& package, const Value& name) {
  const TermP& ref = r.ref;
  r.path.clear();
  r.path.reserve(package.size() + (ref->kind == TermKind::Var ? 1 : ref->items.size()));
  r.path.insert(r.path.end(), package.begin(), package.end());
  r.suffix.clear();
  r.path.push_back(name);
  if (ref->kind == TermKind::Var) return;
  bool ground = true;
  for (std::size_t i = 1; i < ref->items.size(); ++i) {
    const TermP& t = ref->items[i];
    // The last element of a single-value ref head is a key of the object the rule builds, unless
    // every element is a plain string (p.q.r := 1 defines data.pkg.p.q.r).
    if (ground && t->kind == TermKind::Scalar && t->value.is_string()) {
      r.path.push_back(t->value);
    } else {
      ground = false;
      r.suffix.push_back(t);
    }
  }
}

// f($"{x}") := 1 if { x := ... }: an argument that is not a pattern (template, call, reference) is
// computed after the body and compared with the actual argument, as OPA rewrites it.
void hoist_function_args(NodeArena* arena, Rule& r) {
  for (std::size_t i = 0; i < r.args.size(); ++i) {
    TermP& a = r.args[i];
    if (a->kind != TermKind::Call && a->kind != TermKind::Ref && a->kind != TermKind::ArrayCompr &&
        a->kind != TermKind::SetCompr && a->kind != TermKind::ObjectCompr) {
      continue;
    }
    auto v = make_node<Term>(arena);
    v->kind = TermKind::Var;
    v->name = "$arg" + std::to_string(i);
    v->loc = a->loc;
    auto eq = make_node<Term>(arena);
    eq->kind = TermKind::Call;
    eq->name = "eq";
    eq->loc = a->loc;
    eq->items = {make_node<Term>(arena, *v), a};
    Expr e;
    e.kind = ExprKind::Term;
    e.loc = a->loc;
    e.term = eq;
    r.body->exprs.push_back(std::move(e));
    a = v;
  }
}

// `res` is the module's resolver, shared by its rules.
void compile_rule(Policy::Impl& p, Resolver& res, Rule& r) {
  if (r.kind == RuleKind::Function) hoist_function_args(&p.arena, r);
  res.start_rule();
  Scope& top = res.rule_scope();
  // Function arguments are patterns bound on entry.
  for (auto& a : r.args) {
    res.declare_pattern(a, top, true);
    res.resolve(a, top);
  }
  res.head_rule_ = &r;  // (its arguments and head, for the body's declaration check)
  res.resolve_body(*r.body, top);
  for (auto& s : r.suffix) res.resolve(s, top);
  if (r.key) res.resolve(r.key, top);
  if (r.value) res.resolve(r.value, top);
  std::vector<bool>& safe = res.rule_safe();
  for (auto& a : r.args) res.mark_bound(*a, safe);
  res.schedule(*r.body, safe);
  safe.resize(static_cast<std::size_t>(res.nslots()), false);
  for (auto& s : r.suffix) {
    res.check_safe(*s, safe);
    res.schedule_nested(*s, safe);
  }
  if (r.key) {
    res.check_safe(*r.key, safe);
    res.schedule_nested(*r.key, safe);
  }
  if (r.value) {
    res.check_safe(*r.value, safe);
    res.schedule_nested(*r.value, safe);
  }
  r.nslots = res.nslots();
}

// The node of path[0, end) (all of it by default), made if missing. `from` is the node of
// path[0, start) (a rule's package or package + name, found once).
DataNode* ensure_node(Policy::Impl& p, const std::vector<Value>& path, DataNode* from = nullptr,
                      std::size_t start = 0, std::size_t end = SIZE_MAX) {
  DataNode* n = from ? from : p.root.get();
  end = std::min(end, path.size());
  // Every rule calls this with its full path; the prefix is copied only when a node is created.
  for (std::size_t i = from ? start : 0; i < end; ++i) {
    auto& c = n->children[path[i]];
    if (!c) {
      c = std::make_unique<DataNode>();
      c->id = static_cast<int>(p.nodes.size());
      c->path.assign(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      p.nodes.push_back(c.get());
    }
    n = c.get();
  }
  return n;
}

// ------------------------------------------------------------------ recursion detection

// A rule's dependencies, gathered with repeats and then sorted once (a std::set cost one
// allocation per insert).
using Deps = std::vector<DataNode*>;

void deps_term(const Policy::Impl& p, const Term& t, Deps& out);
void deps_body(const Policy::Impl& p, const Body& b, Deps& out) {
  for (const auto& e : b.exprs) {
    if (e.term) deps_term(p, *e.term, out);
    if (e.key) deps_term(p, *e.key, out);
    if (e.val) deps_term(p, *e.val, out);
    if (e.coll) deps_term(p, *e.coll, out);
    if (e.body) deps_body(p, *e.body, out);
    for (const auto& w : e.withs) deps_term(p, *w.value, out);
  }
}
void all_rule_nodes(DataNode* n, Deps& out) {
  if (n->has_rules()) out.push_back(n);
  for (auto& [k, c] : n->children) all_rule_nodes(c.get(), out);
}

// The rule nodes a data reference may read: constant keys follow one child, a variable key any
// child, so data[x].allow.see depends on every package's allow.see but not on unrelated rules.
void deps_ref(DataNode* n, const Term& t, std::size_t i, Deps& out) {
  if (n->has_rules()) {
    out.push_back(n);
    return;
  }
  if (i == t.items.size()) {
    all_rule_nodes(n, out);
    return;
  }
  const Term& e = *t.items[i];
  if (e.kind == TermKind::Scalar) {
    auto it = n->children.find(e.value);
    if (it != n->children.end()) deps_ref(it->second.get(), t, i + 1, out);
    return;
  }
  for (auto& [k, c] : n->children) deps_ref(c.get(), t, i + 1, out);
}
void deps_term(const Policy::Impl& p, const Term& t, Deps& out) {
  if (t.kind == TermKind::Var && t.slot == kDataSlot) {  // `data` itself reads every rule
    all_rule_nodes(p.root.get(), out);
    return;
  }
  std::size_t first = 0;  // (a data reference's head is not `data` itself)
  if (t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var && t.items[0]->slot == kDataSlot) {
    deps_ref(p.root.get(), t, 1, out);
    first = 1;
  }
  if (t.kind == TermKind::Call && t.func) out.push_back(t.func);
  for (std::size_t i = first; i < t.items.size(); ++i) deps_term(p, *t.items[i], out);
  if (t.head) deps_term(p, *t.head, out);
  if (t.head2) deps_term(p, *t.head2, out);
  if (t.body) deps_body(p, *t.body, out);
}

void deps_rule(const Policy::Impl& p, const Rule& r, Deps& out) {
  deps_body(p, *r.body, out);
  if (r.key) deps_term(p, *r.key, out);
  if (r.value) deps_term(p, *r.value, out);
  for (const auto& s : r.suffix) deps_term(p, *s, out);
  for (const auto& e : r.elses) deps_rule(p, *e, out);
}

// The rules below `n` that a rule at `n` with a ground head conflicts with: the nearest nodes
// holding rules, in path order (OPA's flattenChildren keeps the shortest prefixes).
void rules_below(const DataNode& n, std::vector<std::string>& out) {
  for (const auto& [key, child] : n.children) {
    if (child->has_rules()) out.push_back(path_string(child->path));
    else rules_below(*child, out);
  }
}

// What rule placement has not refused of OPA's checkRuleConflicts (v1/ast/compile.go): a rule
// whose head is ground (complete, default, multi-value, function) has no rules below it, and one
// path does not mix single-value with multi-value rules, or complete rules with ones that build
// an object (`p[x] := v`). Such a policy is refused, where evaluating it would answer from one
// kind of rule and drop the other.
void check_rule_conflicts(const Policy::Impl& p) {
  for (const DataNode* n : p.nodes) {
    if (!n->has_rules()) continue;
    bool ground = n->default_rule != nullptr, single = ground, multi = false;
    int complete = ground ? 1 : 0, partial = 0;
    Loc first = n->default_rule ? n->default_rule->loc : n->rules[0]->loc;
    for (const auto& r : n->rules) {
      if (loc_before(r->loc, first)) first = r->loc;
      const bool is_multi = r->kind == RuleKind::MultiValue;
      ground = ground || r->suffix.empty();
      (is_multi ? multi : single) = true;
      if (!is_multi && r->suffix.empty()) ++complete;
      else ++partial;
    }
    if (ground) {
      std::vector<std::string> below;
      rules_below(*n, below);
      if (!below.empty()) {
        std::string list;
        for (const auto& b : below) list += (list.empty() ? "" : " ") + b;
        fail("rego_type_error", "rule " + path_string(n->path) + " conflicts with [" + list + "]", first);
      }
    }
    if ((single && multi) || (complete > 0 && partial > 0))
      fail("rego_type_error", "conflicting rules " + path_string(n->path) + " found", first);
  }
  // A package at a ground rule's path (one without rules, or the tree check above has answered):
  // OPA's module-tree check, in its words ("package a.b conflicts with rule defined at f:7").
  for (const auto& m : p.modules) {
    const DataNode* n = node_at(p.root.get(), m.package, 0);
    if (!n) continue;
    std::vector<const Rule*> here;
    if (n->default_rule) here.push_back(n->default_rule.get());
    for (const auto& r : n->rules) here.push_back(r.get());
    for (const Rule* r : here) {
      if (!r->suffix.empty()) continue;
      const Module& owner = p.modules[r->module];
      fail("rego_type_error",
           "package " + path_string(m.package).substr(5) + " conflicts with rule defined at " + p.files[r->loc.file] +
               ":" + std::to_string(r->loc.line),
           owner.package_loc);
    }
  }
}

// OPA refuses a rule where the base data already has a value (its CheckPathConflicts with the
// store's NonEmpty test, rego_compile_error "conflicting rule for data path a/b found"): data at
// the rule's path, or a non-object value at a shorter prefix of it (where the rule could not
// hang). An object prefix is fine: the rule extends it. A rule whose head goes on with a constant
// that is not a string (`p[1] := 2`) sits in OPA's rule tree under that key, which no JSON data
// path meets, so it is not checked.
void check_data_conflicts(const Policy::Impl& p) {
  std::vector<const Value*> at;  // the base data at each prefix of the path (nullptr: absent)
  // The node's first rule in module order (default rules included, as OPA's rule tree lists
  // them) that OPA files at this path; nullptr when none.
  auto first_rule_here = [](const DataNode& n) {
    const Rule* first = nullptr;
    auto consider = [&](const Rule& r) {
      if (!r.suffix.empty() && r.suffix[0]->kind == TermKind::Scalar) return;
      if (!first || loc_before(r.loc, first->loc)) first = &r;
    };
    for (const auto& r : n.rules) consider(*r);
    if (n.default_rule) consider(*n.default_rule);
    return first;
  };
  std::function<void(const DataNode&)> walk = [&](const DataNode& n) {
    for (const auto& [key, child] : n.children) {
      if (!key.is_string()) continue;
      const Value* parent = at.empty() ? &p.data : at.back();
      at.push_back(parent && parent->is_object() ? parent->get(key) : nullptr);
      if (const Rule* r = first_rule_here(*child)) {
        bool conflict = at.back() != nullptr;
        // The nearest prefix that exists decides: an object takes the rule, anything else not.
        for (std::size_t i = at.size() - 1; !conflict && i-- > 0;) {
          if (at[i]) {
            conflict = !at[i]->is_object();
            break;
          }
        }
        if (conflict) {
          std::string path;  // (every key on the way is a string: the walk skips the others)
          for (const auto& k : child->path) path += (path.empty() ? "" : "/") + k.as_string();
          fail("rego_compile_error", "conflicting rule for data path " + path + " found", r->loc);
        }
      }
      walk(*child);
      at.pop_back();
    }
  };
  walk(*p.root);
}

// OPA's erasePrintCalls (CompileOptions::print_statements off): every expression that is a print
// call goes, in rule bodies, comprehensions and `every` bodies alike; a body left empty becomes
// `true`. Prints used as values are not expressions and stay (check_void_call refuses them).
void erase_prints(Body& b, NodeArena* arena);
void erase_prints(Term& t, NodeArena* arena) {
  for (auto& i : t.items)
    if (i) erase_prints(*i, arena);
  if (t.head) erase_prints(*t.head, arena);
  if (t.head2) erase_prints(*t.head2, arena);
  if (t.body) erase_prints(*t.body, arena);
}
void erase_prints(Body& b, NodeArena* arena) {
  for (auto& e : b.exprs) {
    for (TermP* t : {&e.term, &e.coll, &e.key, &e.val})
      if (*t) erase_prints(**t, arena);
    for (auto& w : e.withs)
      if (w.value) erase_prints(*w.value, arena);
    if (e.body) erase_prints(*e.body, arena);
  }
  auto is_print = [](const Expr& e) {
    return e.kind == ExprKind::Term && e.term && e.term->kind == TermKind::Call && e.term->name == "print"_lit;
  };
  const std::size_t before = b.exprs.size();
  b.exprs.erase(std::remove_if(b.exprs.begin(), b.exprs.end(), is_print), b.exprs.end());
  if (b.exprs.empty() && before > 0) {
    Expr t;
    t.loc = b.loc;
    t.term = make_node<Term>(arena);
    t.term->kind = TermKind::Scalar;
    t.term->value = Value::boolean(true);
    t.term->loc = b.loc;
    b.exprs.push_back(std::move(t));
  }
}

void erase_prints(Rule& r, NodeArena* arena) {
  if (r.body) erase_prints(*r.body, arena);
  for (TermP* t : {&r.ref, &r.value, &r.key})
    if (*t) erase_prints(**t, arena);
  for (auto& a : r.args) erase_prints(*a, arena);
  for (auto& e : r.elses) erase_prints(*e, arena);
}

void check_recursion(const Policy::Impl& p) {
  std::unordered_map<DataNode*, Deps> graph;
  for (DataNode* n : p.nodes) {
    if (!n->has_rules()) continue;
    auto& d = graph[n];
    for (const auto& r : n->rules) deps_rule(p, *r, d);
    if (n->default_rule) deps_rule(p, *n->default_rule, d);
    // Sorted by address as the set was, so a cycle is reported along the same path.
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
  }
  std::vector<int> color(p.nodes.size(), 0);  // by DataNode::id
  std::vector<DataNode*> stack;
  std::function<void(DataNode*)> dfs = [&](DataNode* n) {
    color[static_cast<std::size_t>(n->id)] = 1;
    stack.push_back(n);
    for (DataNode* m : graph[n]) {
      if (color[static_cast<std::size_t>(m->id)] == 1) {
        std::string chain;
        auto it = std::find(stack.begin(), stack.end(), m);
        for (; it != stack.end(); ++it) chain += path_string((*it)->path) + " -> ";
        chain += path_string(m->path);
        fail("rego_recursion_error", "rule " + path_string(m->path) + " is recursive: " + chain, m->first_loc());
      }
      if (color[static_cast<std::size_t>(m->id)] == 0) dfs(m);
    }
    stack.pop_back();
    color[static_cast<std::size_t>(n->id)] = 2;
  };
  for (auto& [n, d] : graph)
    if (color[static_cast<std::size_t>(n->id)] == 0) dfs(n);
}

std::size_t used_operands(const TestExpr& x);

// Decodes test expressions into TestExpr (see ast.h). With `regs` (a compiled function rule),
// variables are registers: the parameters' slots first, then loop variables as loops are met;
// without (Expr::test), they are frame slots.
struct TestCompiler {
  const Policy::Impl& policy;
  std::vector<int>* regs = nullptr;
  NodeArena* arena = nullptr;
  bool calls = false;       // some test calls a user function
  std::uint64_t data_mask = 0;  // the data_root_bit of every base-data operand

  // An operand, when `t` is one: a constant, a register or local, the input, or a path into the
  // base data that no rule can define, with constant string keys after it.
  bool operand(const Term& t, Operand& out) {
    if (t.kind == TermKind::Scalar) {
      out.kind = Operand::Kind::Const;
      out.value = &t.value;
      return true;
    }
    if (t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var && t.items[0]->slot == kDataSlot) {
      if (t.folded) {
        // A constant rule's value: read as base data is (operand_other checks data_ok), so a
        // `with` replacing that rule or its package (node_over) turns the compiled path off.
        out.kind = Operand::Kind::Data;
        out.value = t.folded;
        out.arg = static_cast<std::uint8_t>(data_root_bit(policy.data, t.items[1]->value));
        data_mask |= std::uint64_t{1} << out.arg;
        return true;
      }
      return data_operand(t, out);
    }
    int head = kNoSlot;
    if (t.kind == TermKind::Var) {
      head = t.slot;
      out.path = nullptr;
    } else if (t.kind == TermKind::Ref && t.path) {
      head = t.path->head;
      out.path = t.path;
    } else {
      return computed(t, out);
    }
    if (head == kInputSlot) {
      out.kind = Operand::Kind::Input;
      return true;
    }
    if (head < 0) return false;
    if (!regs) {
      out.kind = Operand::Kind::Local;
      out.slot = head;
      return true;
    }
    for (std::size_t i = 0; i < regs->size(); ++i) {
      if ((*regs)[i] == head) {
        out.kind = Operand::Kind::Arg;
        out.arg = static_cast<std::uint8_t>(i);
        return true;
      }
    }
    return false;
  }

  // A computed operand (see ExprOperand), in compiled rules only: there every other operand is
  // bound, so computing one never has to be undone for the general path.
  bool computed(const Term& t, Operand& out) {
    if (!regs || ++exprs > kMaxExprs) return false;
    ExprOperand e;
    e.term = &t;
    if (t.kind == TermKind::Call) {
      const builtins::BuiltinDef* b = t.builtin;
      if (t.func || !b || !b->fn || !b->deterministic || t.op != CallOp::Other || t.multi ||
          t.items.size() > TestExpr::kMaxArgs || std::string_view(b->name).starts_with("rego.metadata.")) {
        return false;
      }
      e.kind = ExprOperand::Kind::Builtin;
      e.nargs = static_cast<std::uint8_t>(t.items.size());
      for (std::size_t i = 0; i < t.items.size(); ++i)
        if (!operand(*t.items[i], e.args[i])) return false;
    } else if (t.kind == TermKind::Ref && t.items.size() >= 2 && t.items[0]->kind == TermKind::Var &&
               t.items[0]->slot >= 0) {
      // `x.a.b[k]`: constant keys, then one operand key.
      for (std::size_t i = 1; i + 1 < t.items.size(); ++i)
        if (t.items[i]->kind != TermKind::Scalar || !t.items[i]->value.is_string()) return false;
      e.kind = ExprOperand::Kind::Index;
      e.nargs = 2;
      if (!prefix_operand(t, e.args[0]) || !operand(*t.items.back(), e.args[1])) return false;
      if (e.args[1].kind == Operand::Kind::Expr) return false;
    } else {
      return false;
    }
    out.kind = Operand::Kind::Expr;
    out.expr = new (arena->allocate(sizeof(ExprOperand), alignof(ExprOperand))) ExprOperand(e);
    return true;
  }
  static constexpr int kMaxExprs = 64;  // per compiled rule: bounds the nesting of calls
  int exprs = 0;

  // The reference `t` without its last key, as an operand: its head register, and a path of the
  // keys between (decoded here; the resolver decodes only whole references).
  bool prefix_operand(const Term& t, Operand& out) {
    if (!operand(*t.items[0], out) || out.kind != Operand::Kind::Arg) return false;
    const std::size_t n = t.items.size() - 2;
    if (n == 0) return true;
    void* mem = arena->allocate(sizeof(ConstPath) + n * sizeof(PathKey), alignof(PathKey));
    auto* cp = new (mem) ConstPath;
    cp->head = t.items[0]->slot;
    cp->size = static_cast<std::uint32_t>(n);
    auto* keys = reinterpret_cast<PathKey*>(cp + 1);
    for (std::size_t i = 0; i < n; ++i) {
      PathKey* k = new (keys + i) PathKey;
      const std::string& text = t.items[i + 1]->value.as_string();
      k->size = static_cast<std::uint32_t>(text.size());
      if (k->size <= PathKey::kInline) std::memcpy(k->bytes, text.data(), text.size());
      else k->data = text.data();
      k->intern();
    }
    out.path = cp;
    return true;
  }

  // `data.a.b` with constant keys that leaves the rule tree before any rule: a fixed value of the
  // policy's base data (or undefined), read as such while no `with` replaces data under its root.
  bool data_operand(const Term& t, Operand& out) {
    const DataNode* n = policy.root.get();
    const Value* base = &policy.data;
    for (std::size_t i = 1; i < t.items.size(); ++i) {
      const Term& k = *t.items[i];
      if (k.kind != TermKind::Scalar) return false;
      if (n) {
        auto it = n->children.find(k.value);
        n = it == n->children.end() ? nullptr : it->second.get();
        if (n && n->has_rules()) return false;
      }
      if (base) base = base->is_object() || base->is_array() || base->is_set() ? lookup_value(*base, k.value) : nullptr;
    }
    if (n) return false;  // a package or a prefix of rules: virtual documents merge in
    out.kind = Operand::Kind::Data;
    out.value = base;
    out.arg = static_cast<std::uint8_t>(data_root_bit(policy.data, t.items[1]->value));
    data_mask |= std::uint64_t{1} << out.arg;
    return true;
  }
  static const Value* lookup_value(const Value& v, const Value& key) {
    if (v.is_object()) return key.is_string() ? v.get(std::string_view(key.as_string())) : v.get(key);
    if (v.is_array()) {
      std::int64_t i;
      if (!key.is_number() || !key.to_int64(i) || i < 0 || static_cast<std::size_t>(i) >= v.array_items().size()) {
        return nullptr;
      }
      return &v.array_items()[static_cast<std::size_t>(i)];
    }
    const auto& items = v.set_items();
    auto it = std::lower_bound(items.begin(), items.end(), key, ValueLess{});
    return it != items.end() && *it == key ? &*it : nullptr;
  }

  // A single test expression; one with a computed operand becomes a Computed test.
  bool test(const Expr& e, TestExpr& x) {
    if (!plain_test(e, x)) return false;
    for (std::size_t i = 0; i < used_operands(x); ++i) {
      if (x.ops[i].kind == Operand::Kind::Expr) {
        x.inner = x.op;
        x.op = TestOp::Computed;
        break;
      }
    }
    return true;
  }
  bool plain_test(const Expr& e, TestExpr& x) {
    if (e.kind != ExprKind::Term || !e.withs.empty() || e.query_level || e.capture) return false;
    // In a compiled rule every variable of a test is a register, bound by then (operand() takes no
    // other), so `g(p.Args[i])` binds nothing there, though the resolver could not know `i` is bound.
    if (!e.single && !regs) return false;
    const Term& t = *e.term;
    x.negated = e.negated;
    x.loc = e.loc;
    if (t.kind == TermKind::Call && t.op >= CallOp::Equal && t.items.size() == 2) {
      x.op = TestOp::Compare;
      x.cmp = t.op;
      return operand(*t.items[0], x.ops[0]) && operand(*t.items[1], x.ops[1]);
    }
    // (rego.metadata.* calls become constants later, in place: resolve_metadata.)
    if (t.kind == TermKind::Call && t.op == CallOp::Other && t.builtin && !t.func &&
        t.items.size() <= TestExpr::kMaxArgs && !std::string_view(t.builtin->name).starts_with("rego.metadata.")) {
      x.op = TestOp::Builtin;
      return call_operands(t, x);
    }
    if (t.kind == TermKind::Call && t.func && t.items.size() <= TestExpr::kMaxArgs) {
      x.op = TestOp::Call;
      calls = true;
      return call_operands(t, x);
    }
    x.op = TestOp::Truthy;
    return operand(t, x.ops[0]);
  }
  bool call_operands(const Term& t, TestExpr& x) {
    x.call = &t;
    x.nargs = static_cast<std::uint8_t>(t.items.size());
    x.plain_args = true;
    for (std::size_t i = 0; i < t.items.size(); ++i) {
      if (!operand(*t.items[i], x.ops[i])) return false;
      x.plain_args = x.plain_args && x.ops[i].kind == Operand::Kind::Arg && !x.ops[i].path;
    }
    return true;
  }

  // `some v in coll` (Some; `first`: only as a rule's first expression, see TestOp) or
  // `every [k,] v in coll { ... }`: the loop variables get registers.
  bool loop(const Expr& e, TestExpr& x, const Expr* rest_begin, const Expr* rest_end) {
    if (!regs || e.negated || !e.withs.empty() || e.query_level) return false;
    if (!operand(*e.coll, x.ops[0]) || x.ops[0].kind == Operand::Kind::Expr) return false;
    auto reg = [&](const TermP& v, std::uint8_t& out) {
      if (!v) return true;
      if (v->kind != TermKind::Var || v->slot < 0 || regs->size() >= TestExpr::kMaxRegs) return false;
      if (std::find(regs->begin(), regs->end(), v->slot) != regs->end()) return false;  // already bound
      out = static_cast<std::uint8_t>(regs->size());
      regs->push_back(v->slot);
      return true;
    };
    if (!reg(e.key, x.key_reg) || !reg(e.val, x.val_reg)) return false;
    x.loc = e.loc;
    std::vector<TestExpr> body;
    if (e.kind == ExprKind::Every) {
      x.op = TestOp::Every;
      if (!list(e.body->exprs.data(), e.body->exprs.data() + e.body->exprs.size(), body)) return false;
    } else {
      x.op = TestOp::Some;
      // A call that the general evaluator joins on (DataNode::join) is left to it, so that both
      // count the same steps.
      if (rest_begin != rest_end && joins_on(*rest_begin, *e.val)) return false;
      if (!list(rest_begin, rest_end, body)) return false;
      if (x.key_reg == TestExpr::kNoReg) x.njoin = join_tests(body, x.val_reg);
      if (x.key_reg == TestExpr::kNoReg && !body.empty() && filter_test(*rest_begin, body[0], *e.val)) {
        x.memo_id = rest_begin->id;
      }
    }
    x.body = store(body);
    x.nbody = static_cast<std::uint32_t>(body.size());
    return true;
  }

  // Whether `f` calls a function with a join (DataNode::join) on the loop variable `v`.
  static bool joins_on(const Expr& f, const Term& v) {
    if (f.kind != ExprKind::Term || !f.term || f.term->kind != TermKind::Call || !f.term->func) return false;
    const Term& t = *f.term;
    const DataNode::Join* j = t.func->join.get();
    auto is_v = [&](std::size_t i) {
      return i < t.items.size() && t.items[i]->kind == TermKind::Var && t.items[i]->slot == v.slot;
    };
    return j && (is_v(j->a) || is_v(j->b));
  }

  // Whether `f`, the first expression after `some v in coll` (`t` its compiled form), is a test the
  // general evaluator memoises per member (Evaluator::filtered_some_in → memo_filter): a single
  // test reading nothing but `v` and constants, calling only deterministic builtins. An equality
  // is left out: the general evaluator may join on it instead (join_tests cannot always tell).
  static bool filter_test(const Expr& f, const TestExpr& t, const Term& v) {
    if (!f.id || f.kind != ExprKind::Term || !f.withs.empty() || f.query_level || !f.single) return false;
    if (t.op == TestOp::Compare || (t.op == TestOp::Computed && t.inner == TestOp::Compare)) return false;
    const Term& term = *f.term;
    return term.pure && (term.vars.empty() || (term.vars.size() == 1 && term.vars[0] == v.slot));
  }

  // `x := f(...)` / `x = f(...)` on a fresh variable, `f(...)` a pure call on at most two bound
  // registers (TestOp::MemoAssign), as the general evaluator's memo_assigned takes it.
  bool memo_assign(const Expr& e, TestExpr& x) {
    if (!regs || e.kind != ExprKind::Term || e.negated || !e.withs.empty() || e.query_level || e.capture) return false;
    const Term& t = *e.term;
    if (t.kind != TermKind::Call || (t.op != CallOp::Eq && t.op != CallOp::Assign) || t.items.size() != 2) return false;
    const Term& var = *t.items[0];
    const Term& rhs = *t.items[1];
    if (var.kind != TermKind::Var || var.slot < 0 || in_regs(var.slot)) return false;
    if (rhs.kind != TermKind::Call || rhs.op != CallOp::Other || !rhs.pure || rhs.func) return false;
    if (rhs.vars.empty() || rhs.vars.size() > 2 || regs->size() >= TestExpr::kMaxRegs) return false;
    for (std::size_t i = 0; i < rhs.vars.size(); ++i) {
      const int slot = rhs.vars[i];
      auto at = std::find(regs->begin(), regs->end(), slot);
      if (at == regs->end()) return false;  // (not bound by then: the resolver put it later)
      Operand& o = x.ops[i];
      o.kind = Operand::Kind::Arg;
      o.arg = static_cast<std::uint8_t>(at - regs->begin());
      o.slot = slot;
      o.path = nullptr;
    }
    x.op = TestOp::MemoAssign;
    x.loc = e.loc;
    x.call = &rhs;
    x.nargs = static_cast<std::uint8_t>(rhs.vars.size());
    x.memo_id = e.id;
    x.val_reg = static_cast<std::uint8_t>(regs->size());
    regs->push_back(var.slot);
    return true;
  }
  bool in_regs(int slot) const { return std::find(regs->begin(), regs->end(), slot) != regs->end(); }

  // `x := a` / `x = a` (either side) binding a fresh variable to a borrowed value (TestOp::Assign).
  bool assign(const Expr& e, TestExpr& x) {
    if (!regs || e.kind != ExprKind::Term || e.negated || !e.withs.empty() || e.query_level || e.capture) return false;
    const Term& t = *e.term;
    if (t.kind != TermKind::Call || (t.op != CallOp::Eq && t.op != CallOp::Assign) || t.items.size() != 2) return false;
    auto fresh = [&](const Term& v) {
      return v.kind == TermKind::Var && v.slot >= 0 && std::find(regs->begin(), regs->end(), v.slot) == regs->end();
    };
    const bool left = fresh(*t.items[0]);
    if (left == fresh(*t.items[1]) || (t.op == CallOp::Assign && !left)) return false;
    const Term& var = *t.items[left ? 0 : 1];
    if (!operand(*t.items[left ? 1 : 0], x.ops[0])) return false;
    if (x.ops[0].kind == Operand::Kind::Expr && x.ops[0].expr->kind != ExprOperand::Kind::Index) return false;
    if (regs->size() >= TestExpr::kMaxRegs) return false;
    x.op = TestOp::Assign;
    x.loc = e.loc;
    x.val_reg = static_cast<std::uint8_t>(regs->size());
    regs->push_back(var.slot);
    return true;
  }

  // The leading `v.path == y` tests of a `some v in xs` body that the general evaluator joins on
  // (Evaluator::filtered_some_in: up to four, `y` a constant, a bound variable or the input with
  // a constant path), or 0 when that count cannot be told from the compiled form: a computed
  // equality may be a field test with a non-string key, which the general evaluator joins too.
  static std::uint8_t join_tests(const std::vector<TestExpr>& body, std::uint8_t val) {
    constexpr std::size_t kMax = 4;  // Evaluator::JoinTests::kMax
    auto field = [&](const Operand& o) { return o.kind == Operand::Kind::Arg && o.arg == val && o.path; };
    auto plain = [&](const Operand& o) {
      return o.kind == Operand::Kind::Const || o.kind == Operand::Kind::Input ||
             (o.kind == Operand::Kind::Arg && o.arg != val);
    };
    std::size_t n = 0;
    for (; n < body.size() && n < kMax; ++n) {
      const TestExpr& t = body[n];
      if (t.op == TestOp::Computed && t.inner == TestOp::Compare && t.cmp == CallOp::Equal && !t.negated) return 0;
      if (t.op != TestOp::Compare || t.cmp != CallOp::Equal || t.negated) break;
      const int side = field(t.ops[0]) ? 0 : field(t.ops[1]) ? 1 : -1;
      if (side < 0 || !plain(t.ops[1 - side])) break;
    }
    return static_cast<std::uint8_t>(n);
  }

  // Tests, assignments and `every` loops, in order.
  bool list(const Expr* b, const Expr* end, std::vector<TestExpr>& out) {
    for (const Expr* e = b; e != end; ++e) {
      TestExpr x;
      if (e->kind == ExprKind::Every) {
        if (!loop(*e, x, nullptr, nullptr)) return false;
      } else if (!memo_assign(*e, x) && !assign(*e, x) && !test(*e, x)) {
        return false;
      }
      out.push_back(x);
    }
    return true;
  }

  const TestExpr* store(const std::vector<TestExpr>& tests) {
    auto* out = static_cast<TestExpr*>(
        arena->allocate(std::max<std::size_t>(tests.size(), 1) * sizeof(TestExpr), alignof(TestExpr)));
    std::uninitialized_copy(tests.begin(), tests.end(), out);
    return out;
  }
};

bool compile_test(const Policy::Impl& policy, const Expr& e, TestExpr& x) {
  TestCompiler c{policy};
  return c.test(e, x);
}

// The registers of function rule `r`'s parameters (their frame slots; kNoSlot for a constant),
// or false when a parameter is neither a variable nor a constant, or a variable repeats (`f(x, x)`).
bool param_regs(const Rule& r, std::vector<int>& regs) {
  if (r.args.size() > TestExpr::kMaxParams) return false;
  for (const auto& a : r.args) {
    if (a->kind == TermKind::Scalar) {
      regs.push_back(kNoSlot);
      continue;
    }
    if (a->kind != TermKind::Var || a->slot < 0) return false;
    if (std::find(regs.begin(), regs.end(), a->slot) != regs.end()) return false;
    regs.push_back(a->slot);
  }
  return true;
}

bool has_const_param(const Rule& r) {
  return std::any_of(r.args.begin(), r.args.end(), [](const TermP& a) { return a->kind == TermKind::Scalar; });
}

// Decodes the body of function rule `r` into Rule::tests when it is made of tests on operands,
// `every` loops of such tests, and at most one leading `some v in coll` (see TestExpr), and the
// parameters are distinct variables or constants; otherwise leaves the rule to the general
// evaluator.
void compile_tests(const Policy::Impl& policy, NodeArena& arena, Rule& r) {
  if (r.kind != RuleKind::Function || !r.body) return;
  std::vector<int> regs;
  if (!param_regs(r, regs)) return;
  TestCompiler c{policy, &regs, &arena};
  std::vector<TestExpr> tests;
  const Expr* b = r.body->exprs.data();
  const Expr* end = b + r.body->exprs.size();
  if (b != end && b->kind == ExprKind::SomeIn) {
    TestExpr x;
    if (!c.loop(*b, x, b + 1, end)) return;
    tests.push_back(x);
  } else if (!c.list(b, end, tests)) {
    return;
  }
  r.tests = c.store(tests);
  r.ntests = static_cast<std::uint32_t>(tests.size());
  r.calls = c.calls;
  r.data_mask = c.data_mask;
  r.compiled = true;
}

// DataNode::uncached, from the rules alone (the same with compiled tests or without, so both
// count the same steps).
bool cheap_function(const DataNode& n) {
  std::function<bool(const Term&)> term = [&](const Term& t) {
    if (t.kind == TermKind::ArrayCompr || t.kind == TermKind::SetCompr || t.kind == TermKind::ObjectCompr) return false;
    if (t.kind == TermKind::Call && (t.func || t.op == CallOp::Walk)) return false;
    return std::all_of(t.items.begin(), t.items.end(), [&](const TermP& i) { return term(*i); });
  };
  auto rule = [&](const Rule& r) {
    if (!r.body || !r.value || (r.value->kind != TermKind::Scalar && r.value->kind != TermKind::Var)) return false;
    return std::all_of(r.body->exprs.begin(), r.body->exprs.end(), [&](const Expr& e) {
      return e.kind == ExprKind::Term && e.withs.empty() && term(*e.term);
    });
  };
  if (!n.is_function || n.plain_function || n.rules.empty()) return false;
  for (const auto& r : n.rules) {
    if (!rule(*r)) return false;
    for (const auto& e : r->elses)
      if (!rule(*e)) return false;
  }
  return true;
}

// Decodes the body of rule `r` of a function whose value its body computes (not a plain function)
// into Rule::tests, when the body is made of tests, assignments and `every` loops (no `some`: one
// solution at most) and the value is a constant or a variable those bind (Rule::value_reg), for
// the rule and each of its `else` rules alike; otherwise leaves the chain to the general
// evaluator. Genpolicy's `strip_cap_prefix(s) := result if { startswith(s, "CAP_"); result :=
// substring(...) } else := result if { result := s }` and its small helpers are of this kind.
void compile_value_chain(const Policy::Impl& policy, NodeArena& arena, Rule& r) {
  auto one = [&](Rule& x) {
    if (x.kind != RuleKind::Function || !x.body || !x.value) return false;
    std::vector<int> regs;
    if (!param_regs(x, regs)) return false;
    TestCompiler c{policy, &regs, &arena};
    std::vector<TestExpr> tests;
    const Expr* b = x.body->exprs.data();
    if (!c.list(b, b + x.body->exprs.size(), tests)) return false;
    std::uint8_t value_reg = TestExpr::kNoReg;
    if (x.value->kind == TermKind::Var) {
      auto at = std::find(regs.begin(), regs.end(), x.value->slot);
      if (x.value->slot < 0 || at == regs.end()) return false;
      value_reg = static_cast<std::uint8_t>(at - regs.begin());
    } else if (x.value->kind != TermKind::Scalar) {
      return false;
    }
    x.tests = c.store(tests);
    x.ntests = static_cast<std::uint32_t>(tests.size());
    x.calls = c.calls;
    x.data_mask = c.data_mask;
    x.value_reg = value_reg;
    return true;
  };
  if (!one(r)) return;
  for (auto& e : r.elses)
    if (!one(*e)) return;
  // (The chain's calls and data, or-ed into the first rule's: a call checks them once.)
  for (auto& e : r.elses) {
    r.calls = r.calls || e->calls;
    r.data_mask |= e->data_mask;
  }
  r.compiled = true;
  for (auto& e : r.elses) e->compiled = true;
}

// Decodes the leading tests of function rule `r`'s body that read only its parameters, data and
// input (Rule::guards), when the body as a whole did not compile: a call that fails one of them
// then needs no frame (see Evaluator::run_guards). Most rules of a function with several bodies
// fail on their first test (`i.type_ == "sysfs"`), and binding a frame cost more than that test.
void compile_guards(const Policy::Impl& policy, NodeArena& arena, Rule& r) {
  if (r.kind != RuleKind::Function || !r.body || r.compiled) return;
  std::vector<int> regs;
  if (!param_regs(r, regs)) return;
  TestCompiler c{policy, &regs, &arena};
  std::vector<TestExpr> tests;
  for (const Expr& e : r.body->exprs) {
    TestExpr x;
    if (!c.test(e, x)) break;  // (test() binds nothing: registers stay the parameters)
    tests.push_back(x);
  }
  if (tests.empty()) return;
  r.guards = c.store(tests);
  r.nguards = static_cast<std::uint32_t>(tests.size());
  r.guard_calls = c.calls;
  r.guard_data_mask = c.data_mask;
}

// The parameter of `r` that `t` reads with constant string keys (`p.a.b`, or `p` itself, whose keys
// are then empty), or -1.
int param_path(const Rule& r, const Term& t, std::vector<Value>& keys) {
  const Term* head = &t;
  keys.clear();
  if (t.kind == TermKind::Ref) {
    if (t.folded) return -1;
    head = t.items[0].get();
    for (std::size_t j = 1; j < t.items.size(); ++j) {
      if (t.items[j]->kind != TermKind::Scalar || !t.items[j]->value.is_string()) return -1;
      keys.push_back(t.items[j]->value);
    }
  }
  if (head->kind != TermKind::Var || head->slot < 0) return -1;
  for (std::size_t i = 0; i < r.args.size(); ++i)
    if (r.args[i]->kind == TermKind::Var && r.args[i]->slot == head->slot) return static_cast<int>(i);
  return -1;
}

// DataNode::join for function `n`, or nullptr. Each rule (no `else`, parameters distinct variables
// or constants) must begin with comparisons `x == y` of parameters' constant paths and constants,
// which can neither fail with an error nor do anything else, among them one that implies the
// agreement: `pa.path == pb.path`, or `pa == pb` (agreeing on every path). A default value other
// than false would make a failed call a holding test, so it rules the join out.
std::unique_ptr<DataNode::Join> implied_join(const DataNode& n) {
  if (!n.is_function || n.rules.empty() || n.arity < 2) return nullptr;
  if (n.default_rule && !(n.default_rule->value && n.default_rule->value->kind == TermKind::Scalar &&
                          n.default_rule->value->value.is_false())) {
    return nullptr;
  }
  // (Most functions fail this at once: a rule that does not start with `==` rules the join out.)
  for (const auto& rp : n.rules) {
    const Rule& r = *rp;
    if (!r.elses.empty() || !r.body || r.body->exprs.empty()) return nullptr;
    const Expr& e = r.body->exprs[0];
    if (e.kind != ExprKind::Term || e.negated || e.term->kind != TermKind::Call || e.term->op != CallOp::Equal)
      return nullptr;
  }
  struct Implied {
    int a, b;
    std::vector<Value> path;  // empty: the whole arguments are equal
  };
  std::unique_ptr<DataNode::Join> join;
  std::vector<std::vector<Implied>> per_rule;
  for (const auto& rp : n.rules) {
    const Rule& r = *rp;
    std::vector<int> regs;
    if (!param_regs(r, regs)) return nullptr;
    std::vector<Implied> implied;
    std::vector<Value> ka, kb;
    for (const Expr& e : r.body->exprs) {
      if (e.kind != ExprKind::Term || e.negated || !e.withs.empty() || e.query_level) break;
      const Term& t = *e.term;
      if (t.kind != TermKind::Call || t.op != CallOp::Equal || t.items.size() != 2) break;
      const int a = param_path(r, *t.items[0], ka);
      const int b = param_path(r, *t.items[1], kb);
      const auto constant = [](const Term& x) { return x.kind == TermKind::Scalar; };
      if ((a < 0 && !constant(*t.items[0])) || (b < 0 && !constant(*t.items[1]))) break;
      if (a >= 0 && b >= 0 && a != b && ka == kb) implied.push_back(a < b ? Implied{a, b, ka} : Implied{b, a, ka});
    }
    per_rule.push_back(std::move(implied));
  }
  // A path agreement that every rule implies (a whole-argument equality implies every path).
  for (const auto& rule : per_rule) {
    for (const Implied& cand : rule) {
      if (cand.path.empty()) continue;
      const bool all = std::all_of(per_rule.begin(), per_rule.end(), [&](const std::vector<Implied>& other) {
        return std::any_of(other.begin(), other.end(), [&](const Implied& x) {
          return x.a == cand.a && x.b == cand.b && (x.path.empty() || x.path == cand.path);
        });
      });
      if (!all) continue;
      join = std::make_unique<DataNode::Join>();
      join->a = static_cast<std::uint8_t>(cand.a);
      join->b = static_cast<std::uint8_t>(cand.b);
      join->path = cand.path;
      return join;
    }
  }
  return nullptr;
}

// ------------------------------------------------------------------ call blocks (CompiledFunc)

// The operands of `x` that the evaluator reads.
std::size_t used_operands(const TestExpr& x) {
  switch (x.op == TestOp::Computed ? x.inner : x.op) {
    case TestOp::Truthy:
    case TestOp::Some:
    case TestOp::Every:
    case TestOp::Assign: return 1;
    case TestOp::Compare: return 2;
    case TestOp::Builtin:
    case TestOp::Call:
    case TestOp::MemoAssign: return x.nargs;
    case TestOp::Computed: break;
  }
  return 0;
}
bool has_path(const Operand& o) {
  return (o.kind == Operand::Kind::Arg || o.kind == Operand::Kind::Local || o.kind == Operand::Kind::Input) && o.path;
}
bool is_call(const TestExpr& x) { return x.op == TestOp::Call || (x.op == TestOp::Computed && x.inner == TestOp::Call); }
constexpr std::size_t round8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

std::size_t path_bytes(const ConstPath& cp) {
  std::size_t b = sizeof(ConstPath) + cp.size * sizeof(PathKey);
  for (std::uint32_t i = 0; i < cp.size; ++i)
    if (cp.keys()[i].size > PathKey::kInline) b += round8(cp.keys()[i].size);
  return b;
}
std::size_t tests_bytes(const TestExpr* t, std::size_t n) {
  std::size_t b = n * sizeof(TestExpr);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < used_operands(t[i]); ++j)
      if (has_path(t[i].ops[j])) b += path_bytes(*t[i].ops[j].path);
    if (t[i].op == TestOp::Some || t[i].op == TestOp::Every) b += tests_bytes(t[i].body, t[i].nbody);
  }
  return b;
}

// Fills one block measured by the functions above, front to back.
class BlockWriter {
 public:
  BlockWriter(std::byte* p, std::size_t n) : p_(p), end_(p + n) {}
  void* take(std::size_t bytes) {
    bytes = round8(bytes);
    if (static_cast<std::size_t>(end_ - p_) < bytes) throw std::logic_error("call block overflow");
    void* r = p_;
    p_ += bytes;
    return r;
  }
  bool full() const { return p_ == end_; }

  const ConstPath* path(const ConstPath& src) {
    auto* cp = new (take(sizeof(ConstPath) + src.size * sizeof(PathKey))) ConstPath{src.head, src.size};
    auto* keys = reinterpret_cast<PathKey*>(cp + 1);
    for (std::uint32_t i = 0; i < src.size; ++i) {
      const PathKey& k = src.keys()[i];
      auto* out = new (&keys[i]) PathKey;
      out->size = k.size;
      out->node = k.node;
      out->hint.store(k.hint.load(std::memory_order_relaxed), std::memory_order_relaxed);
      if (k.size <= PathKey::kInline) {
        std::memcpy(out->bytes, k.bytes, PathKey::kInline);
      } else {
        auto* bytes = static_cast<char*>(take(k.size));
        std::memcpy(bytes, k.data, k.size);
        out->data = bytes;
      }
    }
    return cp;
  }

  // Tests first (read in order), then their paths, then loop bodies. Records the call tests.
  const TestExpr* tests(const TestExpr* src, std::size_t n, std::vector<TestExpr*>& calls) {
    auto* out = static_cast<TestExpr*>(take(n * sizeof(TestExpr)));
    for (std::size_t i = 0; i < n; ++i) new (&out[i]) TestExpr(src[i]);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < used_operands(out[i]); ++j)
        if (has_path(out[i].ops[j])) out[i].ops[j].path = path(*src[i].ops[j].path);
      if (is_call(out[i])) calls.push_back(&out[i]);
    }
    for (std::size_t i = 0; i < n; ++i)
      if (out[i].op == TestOp::Some || out[i].op == TestOp::Every) out[i].body = tests(src[i].body, src[i].nbody, calls);
    return out;
  }

 private:
  std::byte* p_;
  std::byte* end_;
};

const CompiledFunc* build_call_block(NodeArena& arena, const DataNode& n, std::vector<TestExpr*>& calls) {
  std::size_t bytes = sizeof(CompiledFunc) + n.rules.size() * sizeof(CompiledRule);
  // (A general rule's place holds its guards, which the block runs before the general evaluator.)
  auto tests = [](const Rule& r) { return r.compiled ? std::pair(r.tests, r.ntests) : std::pair(r.guards, r.nguards); };
  for (const auto& r : n.rules) bytes += tests_bytes(tests(*r).first, tests(*r).second);
  BlockWriter w(static_cast<std::byte*>(arena.allocate(bytes, alignof(CompiledFunc))), bytes);
  auto* f = new (w.take(sizeof(CompiledFunc))) CompiledFunc;
  f->nrules = static_cast<std::uint32_t>(n.rules.size());
  f->early_exit = n.early_exit;
  f->plain = n.early_exit && !n.rules.empty() &&
             std::none_of(n.rules.begin(), n.rules.end(), [](const auto& r) { return r->const_params; });
  f->default_rule = n.default_rule.get();
  f->data_mask = n.compiled_data_mask;
  auto* rules = static_cast<CompiledRule*>(w.take(n.rules.size() * sizeof(CompiledRule)));
  for (std::size_t i = 0; i < n.rules.size(); ++i) {
    const Rule& r = *n.rules[i];
    auto* cr = new (&rules[i]) CompiledRule;
    cr->value = r.value ? &r.value->value : nullptr;
    cr->rule = &r;
    cr->ntests = tests(r).second;
    cr->const_params = r.const_params;
    cr->general = !r.compiled;
  }
  for (std::size_t i = 0; i < n.rules.size(); ++i) {
    const auto [t, nt] = tests(*n.rules[i]);
    rules[i].tests = w.tests(t, nt, calls);
  }
  if (!w.full()) throw std::logic_error("call block size mismatch");
  return f;
}

// Points every compiled call test in `t` (and its loop bodies) at its callee's block.
void link_calls(const TestExpr* t, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto& x = const_cast<TestExpr&>(t[i]);
    if (is_call(x)) x.cfunc = x.call->func->cfunc;
    else if (x.op == TestOp::Some || x.op == TestOp::Every) link_calls(x.body, x.nbody);
  }
}

// Builds the call blocks of the policy's all-compiled functions, then links the calls to them.
void build_call_blocks(Policy::Impl& p) {
  std::vector<TestExpr*> calls = std::move(p.call_tests);
  p.call_tests = {};
  for (DataNode* n : p.nodes) {
    // (A function with a rule the general evaluator must run still gets a block: the call then
    // skips plain_function_result's per-rule dispatch, and its compiled rules run from the block.)
    const bool some_compiled =
        std::any_of(n->rules.begin(), n->rules.end(), [](const auto& r) { return r->compiled || r->nguards; });
    if (n->plain_function && some_compiled && !n->indexed) n->cfunc = build_call_block(p.arena, *n, calls);
  }
  for (DataNode* n : p.nodes)
    for (const auto& r : n->rules) {
      if (r->compiled) link_calls(r->tests, r->ntests);
      link_calls(r->guards, r->nguards);
      for (const auto& e : r->elses) {
        if (e->compiled) link_calls(e->tests, e->ntests);
        link_calls(e->guards, e->nguards);
      }
    }
  for (TestExpr* x : calls) x->cfunc = x->call->func->cfunc;
}

}  // namespace

// ------------------------------------------------------------------ Policy

Policy::Policy(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Policy::~Policy() = default;

namespace {

// OPA's text for an import (`import data.a["b-c"] as x`), as its messages quote it.
std::string import_text(const Import& imp) {
  std::string out = "import " + imp.path[0];
  for (std::size_t i = 1; i < imp.raw.size(); ++i) append_ref_key(out, imp.raw[i]);
  if (!imp.alias.empty()) out += " as " + imp.alias;
  return out;
}

// The module checks Rego v1 adds (OPA ast/rego_v1.go checkRegoV1Module, run by its parser): no
// import shadows another, and no rule or function argument is named `input` or `data` (assigned
// variables: Resolver::resolve_body; deprecated builtins: Resolver::resolve_call).
void check_v1_module(const Module& m) {
  std::map<std::string_view, const Import*> names;
  for (const auto& imp : m.imports) {
    const std::string& name = imp.alias.empty() ? imp.path.back() : imp.alias;
    auto [it, fresh] = names.try_emplace(name, &imp);
    if (!fresh) fail("rego_compile_error", "import must not shadow " + import_text(*it->second), imp.loc);
  }
  for (const auto& r : m.rules) {
    const std::string& name = rule_name(*r);
    if (is_root_name(name)) fail("rego_compile_error", "rules must not shadow " + name + " (use a different rule name)", r->loc);
    for (const auto& a : r->args) {
      if (a->kind == TermKind::Var && is_root_name(a->name))
        fail("rego_compile_error", "args must not shadow " + a->name + " (use a different variable name)", a->loc);
    }
  }
}

}  // namespace

namespace {

// How many errors a failed compile reports at most: OPA's default (its compiler's max errors).
constexpr std::size_t kMaxErrors = 10;

// Several errors as one: their messages a line each, the first one's kind (so error_code finds
// the first one's code).
tl::unexpected<Error> joined_error(const std::vector<Error>& errors) {
  if (errors.size() == 1) return forward_error(errors[0]);
  std::string all;
  for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e.message();
  return make_error(errors[0].code(), std::move(all));
}

}  // namespace

namespace {

// Constant rules: genpolicy appends its data to the rules as one (`policy_data := {...}`), not as
// base data, and its rules read it on every request (`policy_data.common.ipv4_a`,
// `policy_data.request_defaults.CreateContainerRequest.allow_env_regex`). Each such reference
// walked the rule tree and the evaluation's rule cache; and since a rule's value was not base
// data, nothing computed from it (the patterns built with `replace`, the filter verdicts, the
// string indexes) was shared across evaluations. A reference with constant keys into a constant
// rule's value is resolved at compile time (Term::folded); evaluation uses it while no `with`
// replaces a rule or package, and those values count as base data for the shared indexes.

// The value of rule node `n` when it is one unconditional constant: a single complete rule
// without body, else, default or rules below it, whose value is ground.
const Value* constant_rule_value(const DataNode& n) {
  if (n.rules.size() != 1 || n.default_rule || !n.children.empty() || n.is_function) return nullptr;
  const Rule& r = *n.rules[0];
  if (r.kind != RuleKind::Complete || !r.suffix.empty() || !r.elses.empty() || !r.value ||
      r.value->kind != TermKind::Scalar || (r.body && !r.body->exprs.empty()))
    return nullptr;
  return &r.value->value;
}

// `key` of value `v` as a reference step reads it (object key, array index, set member).
const Value* ref_step(const Value& v, const Value& key) {
  return v.is_object() || v.is_array() || v.is_set() ? TestCompiler::lookup_value(v, key) : nullptr;
}

// The constant that reference `t` (data.<constant keys>) names inside a constant rule's value, or
// nullptr (a package, other rules, a variable key, or a path the value does not have); with `end`,
// the constant that its first `end` items name.
const Value* folded_value(const Policy::Impl& p, const Term& t, std::size_t end = SIZE_MAX) {
  const DataNode* n = p.root.get();
  const Value* base = &p.data;  // base data at the same path (merged with rules when conflicts are allowed)
  end = std::min(end, t.items.size());
  for (std::size_t i = 1; i < end; ++i) {
    if (t.items[i]->kind != TermKind::Scalar) return nullptr;
    auto it = n->children.find(t.items[i]->value);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
    base = base ? ref_step(*base, t.items[i]->value) : nullptr;
    if (const Value* v = constant_rule_value(*n)) {
      if (base) return nullptr;  // base data there too (CompileOptions::check_data_conflicts off)
      for (std::size_t j = i + 1; v && j < end; ++j)
        v = t.items[j]->kind == TermKind::Scalar ? ref_step(*v, t.items[j]->value) : nullptr;
      return v;
    }
    if (n->has_rules()) return nullptr;
  }
  return nullptr;
}

void fold_body(const Policy::Impl& p, Body& b);

// Folds the references under `t`; whether any was, so the terms above recompute Term::pure.
bool fold_term(const Policy::Impl& p, Term& t) {
  bool any = false;
  if (t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var && t.items[0]->slot == kDataSlot) {
    t.folded = folded_value(p, t);
    any = t.folded != nullptr;
  }
  for (auto& i : t.items) any = fold_term(p, *i) || any;
  if (t.head) fold_term(p, *t.head);
  if (t.head2) fold_term(p, *t.head2);
  if (t.body) fold_body(p, *t.body);
  if (any && t.kind != TermKind::Scalar && t.kind != TermKind::Var) t.pure = Resolver::pure_term(t);
  return any;
}

void fold_body(const Policy::Impl& p, Body& b) {
  for (auto& e : b.exprs) {
    if (e.term) fold_term(p, *e.term);
    if (e.key) fold_term(p, *e.key);
    if (e.val) fold_term(p, *e.val);
    if (e.coll) fold_term(p, *e.coll);
    if (e.body) fold_body(p, *e.body);
    for (auto& w : e.withs) fold_term(p, *w.value);
  }
}

void fold_rule(const Policy::Impl& p, Rule& r) {
  if (r.body) fold_body(p, *r.body);
  if (r.value) fold_term(p, *r.value);
  if (r.key) fold_term(p, *r.key);
  for (auto& s : r.suffix) fold_term(p, *s);
  for (auto& e : r.elses) fold_rule(p, *e);
}

// Whether values depend on nothing but local variables: constants, locals, constant rules'
// values (Term::folded), deterministic builtins other than print, comprehensions of such terms and
// calls of pure functions (functions whose rules are all made of such terms). Unlike Term::pure,
// which must be cheap to keep per term, this looks into comprehensions and called functions.
class PurityCheck {
 public:
  explicit PurityCheck(const Policy::Impl& p) : p_(p) {}

  bool term(const Term& t) {
    switch (t.kind) {
      case TermKind::Scalar: return true;
      case TermKind::Var: return t.slot >= 0;  // (not input, not data as a whole)
      case TermKind::Ref:
        if (t.folded) return true;
        if (t.items[0]->kind == TermKind::Var && t.items[0]->slot == kDataSlot) {
          // `data.policy_data.caps[_]`: the constant keys lead into a constant rule's value.
          std::size_t keys = 1;
          while (keys < t.items.size() && t.items[keys]->kind == TermKind::Scalar) ++keys;
          if (!folded_value(p_, t, keys)) return false;
          return std::all_of(t.items.begin() + static_cast<std::ptrdiff_t>(keys), t.items.end(),
                             [&](const TermP& i) { return term(*i); });
        }
        return all(t.items);
      case TermKind::Array:
      case TermKind::Set:
      case TermKind::Object: return all(t.items);
      case TermKind::Call:
        if (t.op == CallOp::Print) return false;
        if (t.func) return function(*t.func) && all(t.items);
        if (t.op == CallOp::Other &&
            (!t.builtin || !t.builtin->deterministic || std::string_view(t.builtin->name).starts_with("rego.metadata.")))
          return false;
        return all(t.items);
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr:
        return body(*t.body) && term(*t.head) && (!t.head2 || term(*t.head2));
    }
    return false;
  }

  bool body(const Body& b) {
    for (const Expr& e : b.exprs) {
      if (!e.withs.empty()) return false;
      if (e.term && !term(*e.term)) return false;
      if (e.key && !term(*e.key)) return false;
      if (e.val && !term(*e.val)) return false;
      if (e.coll && !term(*e.coll)) return false;
      if (e.body && !body(*e.body)) return false;
    }
    return true;
  }

  bool function(const DataNode& n) {
    auto [it, fresh] = state_.try_emplace(&n, kVisiting);
    if (!fresh) return it->second == kPure;  // (a cycle is refused by the compiler: kVisiting is moot)
    bool pure = true;
    auto rule = [&](const Rule& r) {
      pure = pure && all(r.args) && (!r.body || body(*r.body)) && (!r.value || term(*r.value));
    };
    for (const auto& r : n.rules) {
      rule(*r);
      for (const auto& e : r->elses) rule(*e);
    }
    if (n.default_rule) rule(*n.default_rule);
    state_[&n] = pure ? kPure : kImpure;
    return pure;
  }

 private:
  template <typename List>
  bool all(const List& items) {
    return std::all_of(items.begin(), items.end(), [&](const TermP& i) { return term(*i); });
  }
  enum State { kVisiting, kPure, kImpure };
  const Policy::Impl& p_;
  std::unordered_map<const DataNode*, State> state_;
};

// Gives every comprehension in the policy's rules whose value depends on at most Body::kMaxOuter
// enclosing locals and nothing else a Body::memo_id.
class ComprehensionMarker {
 public:
  explicit ComprehensionMarker(Policy::Impl& p) : p_(p), purity_(p) {}
  void rule(Rule& r) {
    for (auto& a : r.args) term(*a);
    if (r.body) body(*r.body);
    if (r.value) term(*r.value);
    if (r.key) term(*r.key);
    for (auto& s : r.suffix) term(*s);
    for (auto& e : r.elses) rule(*e);
  }

 private:
  void term(Term& t) {
    for (auto& i : t.items) term(*i);
    if (t.head) term(*t.head);
    if (t.head2) term(*t.head2);
    if (!t.body) return;
    body(*t.body);
    if (t.body->nouter <= Body::kMaxOuter && purity_.term(t)) t.body->memo_id = ++p_.expr_ids;
  }
  void body(Body& b) {
    for (auto& e : b.exprs) {
      if (e.term) term(*e.term);
      if (e.key) term(*e.key);
      if (e.val) term(*e.val);
      if (e.coll) term(*e.coll);
      if (e.body) body(*e.body);
      for (auto& w : e.withs) term(*w.value);
    }
  }
  Policy::Impl& p_;
  PurityCheck purity_;
};

void fold_constant_refs(Policy::Impl& p) {
  if (!p.options.fold_constant_rules) return;
  for (const DataNode* n : p.nodes)
    if (const Value* v = constant_rule_value(*n)) p.constant_values.push_back(*v);
  if (p.constant_values.empty()) return;
  for (auto& m : p.modules)
    for (auto& r : m.rules) fold_rule(p, *r);
}

}  // namespace

Result<std::shared_ptr<const Policy>> Policy::compile(const std::vector<ModuleSource>& modules, const Value& data,
                                                      const CompileOptions& options) {
  auto p = std::make_shared<Impl>();
  p->options = options;
  p->data = data.is_undefined() ? Value::empty_object() : data;
  if (!p->data.is_object()) return make_error(Errc::invalid_argument, "rego: base data must be a JSON object");
  p->root = std::make_unique<DataNode>();
  p->nodes.push_back(p->root.get());
  ParseOptions po;
  po.v0 = options.v0;
  po.max_depth = options.max_depth;
  po.arena = &p->arena;
  std::vector<Error> parse_errors;
  for (const auto& m : modules) {
    auto idx = static_cast<std::uint32_t>(p->files.size());
    p->files.push_back(m.name);
    p->sources.push_back(m.text);
    auto parsed = parse_module(m.name, idx, m.text, po);
    if (!parsed) {
      // Every module is parsed on its own, so each one's first error is reported (as OPA reports
      // the parse errors of all files), up to OPA's default of 10.
      if (parse_errors.size() < kMaxErrors) parse_errors.push_back(parsed.error());
      continue;
    }
    p->modules.push_back(std::move(*parsed));
  }
  if (!parse_errors.empty()) return joined_error(parse_errors);
  if (!options.print_statements)
    for (auto& m : p->modules)
      for (auto& r : m.rules) erase_prints(*r, &p->arena);
  try {
    for (const auto& m : p->modules)
      if (m.v1) check_v1_module(m);
    // Rule names per package, and the rule tree.
    std::map<std::string, RuleNames> pkg_rules;
    for (auto& m : p->modules) {
      auto& names = pkg_rules[package_key(m.package)];
      for (auto& r : m.rules) {
        const std::string& name = rule_name(*r);
        auto [rn, fresh] = names.try_emplace(name);
        if (fresh) {
          rn->name = Value::string(name);
          names.rekey(name, rn->name.as_string());  // the rule's term may go (clone_rule); the value stays
        }
        ++rn->rules;
      }
    }
    for (std::uint32_t mi = 0; mi < p->modules.size(); ++mi) {
      auto& m = p->modules[mi];
      // An empty package is still a defined (empty) document.
      DataNode* pkg_node = ensure_node(*p, m.package);
      RuleNames& names = pkg_rules[package_key(m.package)];
      for (auto& r : m.rules) {
        // Head terms shared with a sibling would be resolved twice with different slots.
        if (r->shares_head) r = clone_rule(&p->arena, *r);
        for (auto& e : r->elses) e = clone_rule(&p->arena, *e);
        r->module = mi;
        RuleName& rn = *names.find(rule_name(*r));
        split_head(*r, m.package, rn.name);
        const std::size_t below = m.package.size() + 1;  // r->path[0, below) is package + name
        if (!rn.node) {
          rn.node = ensure_node(*p, r->path, pkg_node, m.package.size(), below);
          rn.node->rules.reserve(rn.rules);
        }
        DataNode* n = ensure_node(*p, r->path, rn.node, below);
        if (r->kind == RuleKind::Function) {
          if (!n->rules.empty() && !n->is_function) fail("rego_type_error", "conflicting rules " + path_string(r->path) + " found", r->loc);
          int arity = static_cast<int>(r->args.size());
          if (n->is_function && n->arity != arity) {
            fail("rego_type_error", "conflicting rules " + path_string(r->path) + " found", r->loc);
          }
          n->is_function = true;
          n->arity = arity;
        } else if (n->is_function) {
          fail("rego_type_error", "conflicting rules " + path_string(r->path) + " found", r->loc);
        }
        if (r->is_default) {
          if (n->default_rule) fail("rego_type_error", "multiple default rules " + path_string(r->path) + " found", r->loc);
          n->default_rule = r;
        } else {
          n->rules.push_back(r);
        }
        for (auto& e : r->elses) {
          e->module = mi;
          e->path = r->path;
        }
      }
    }
    check_rule_conflicts(*p);
    if (options.check_data_conflicts) check_data_conflicts(*p);
    // Rules compile one by one, and each one's first error is kept (up to OPA's 10), as OPA's
    // stages report every rule's errors; nothing after this stage runs once one has failed.
    std::vector<Error> rule_errors;
    for (auto& m : p->modules) {
      const auto& names = pkg_rules[package_key(m.package)];
      Resolver res(*p, &p->arena, &m, &names);
      for (auto& r : m.rules) {
        if (rule_errors.size() == kMaxErrors) break;
        try {
          compile_rule(*p, res, *r);
          if (!r->elses.empty() && !r->suffix.empty()) {
            fail("rego_type_error", "else keyword cannot be used on rules with variables in head", r->loc);
          }
          for (auto& e : r->elses) compile_rule(*p, res, *e);
        } catch (const RegoFailure& f) {
          rule_errors.push_back(p->to_error(f));
        }
      }
    }
    if (!rule_errors.empty()) return joined_error(rule_errors);
    check_recursion(*p);
    resolve_metadata(*p);
    fold_constant_refs(*p);
    for (DataNode* n : p->nodes) n->join = implied_join(*n);  // (before compile_tests reads them)
    if (p->options.memo_comprehensions) {
      ComprehensionMarker marker(*p);
      for (auto& m : p->modules)
        for (auto& r : m.rules) marker.rule(*r);
    }
    for (DataNode* n : p->nodes) {
      if (n->rules.empty()) continue;
      bool same = true;
      Value constant;
      auto consider = [&](const Rule& r) {
        if (r.kind == RuleKind::MultiValue || !r.suffix.empty()) {
          same = false;
          return;
        }
        Value v = !r.value ? Value::boolean(true)
                           : (r.value->kind == TermKind::Scalar ? r.value->value : Value());
        if (v.is_undefined() || (constant.is_defined() && constant != v)) same = false;
        constant = v;
      };
      for (const auto& r : n->rules) {
        consider(*r);
        for (const auto& e : r->elses) consider(*e);
      }
      n->early_exit = same;
      if (n->is_function) {
        bool plain = true;
        for (const auto& r : n->rules) {
          if (!r->elses.empty() || (r->value && r->value->kind != TermKind::Scalar)) plain = false;
          for (const auto& a : r->args)
            if (!(a->kind == TermKind::Scalar || (a->kind == TermKind::Var && a->slot >= 0))) plain = false;
        }
        n->plain_function = plain;
        // (Read by compiled rules, guards and value chains, and by call blocks for general rules.)
        for (auto& r : n->rules) {
          r->const_params = has_const_param(*r);
          for (auto& e : r->elses) e->const_params = has_const_param(*e);
        }
        if (plain && p->options.compile_tests) {
          for (auto& r : n->rules) {
            compile_tests(*p, p->arena, *r);
            n->compiled_calls = n->compiled_calls || r->calls;
            n->compiled_data_mask |= r->data_mask;
          }
        }
        n->uncached = cheap_function(*n);
        if (!plain && p->options.compile_tests)
          for (auto& r : n->rules) compile_value_chain(*p, p->arena, *r);
        if (p->options.compile_tests) {
          for (auto& r : n->rules) {
            compile_guards(*p, p->arena, *r);
            for (auto& e : r->elses) compile_guards(*p, p->arena, *e);
            // (A call block runs the guards as it runs compiled tests: under the same conditions.)
            n->compiled_calls = n->compiled_calls || r->guard_calls;
            n->compiled_data_mask |= r->guard_data_mask;
          }
        }
      }

      if (n->is_function && n->arity > 0 && n->rules.size() > 4) {
        std::size_t constants = 0;
        for (std::size_t i = 0; i < n->rules.size(); ++i) {
          const Rule& r = *n->rules[i];
          bool constant = r.args[0]->kind == TermKind::Scalar;
          for (const auto& e : r.elses) constant = constant && e->args[0]->kind == TermKind::Scalar && e->args[0]->value == r.args[0]->value;
          if (constant) {
            n->by_first[r.args[0]->value].push_back(i);
            ++constants;
          } else {
            n->any_first.push_back(i);
          }
        }
        n->indexed = constants * 2 >= n->rules.size();
      }
    }
    build_call_blocks(*p);
  } catch (const RegoFailure& f) {
    return forward_error(p->to_error(f));
  }
  return std::make_shared<const Policy>(std::move(p));
}

Result<PreparedQuery> Policy::prepare(std::string_view query) const { return compile_query(impl_, query); }

Result<QueryResult> Policy::eval(std::string_view query, const EvalOptions& options) const {
  auto q = prepare(query);
  if (!q) return forward_error(q.error());
  return q->eval(options);
}

Result<QueryResult> PreparedQuery::eval(const EvalOptions& options) const { return evaluate(*impl_, options); }

Result<PreparedQuery> compile_query(const std::shared_ptr<const Policy::Impl>& policy, std::string_view text) {
  ParseOptions po;
  po.v0 = false;
  po.max_depth = policy->options.max_depth;
  auto impl = std::make_shared<PreparedQuery::Impl>();
  po.arena = &impl->arena;
  auto body = parse_query("query", static_cast<std::uint32_t>(policy->files.size()), text, po);
  if (!body) return forward_error(body.error());
  impl->policy = policy;
  impl->body = *body;
  if (!policy->options.print_statements) erase_prints(*impl->body, &impl->arena);
  try {
    // Queries resolve names against no package: bare names are variables.
    Resolver res(const_cast<Policy::Impl&>(*policy), &impl->arena, nullptr, nullptr);
    res.set_query_text(text);
    Scope top = res.child(nullptr);
    res.resolve_body(*impl->body, top);
    if (!policy->constant_values.empty()) fold_body(*policy, *impl->body);
    // As OPA's query compiler does (x = term), a query expression that is a plain term yields its
    // value even when that value is false.
    for (auto& e : impl->body->exprs) {
      e.query_level = true;
      if (e.kind == ExprKind::Term && !e.negated && e.term->kind != TermKind::Call) e.capture = true;
    }
    std::vector<bool> safe(static_cast<std::size_t>(res.nslots()), false);
    res.schedule(*impl->body, safe);
    impl->nslots = res.nslots();
    std::vector<std::pair<int, std::string>> outs;
    for (const auto& [name, slot] : top.names) {
      if (name.empty() || name[0] == '_' || name[0] == '$') continue;
      outs.emplace_back(slot, name);
    }
    std::sort(outs.begin(), outs.end());
    for (auto& [slot, name] : outs) impl->outputs.emplace_back(name, slot);
  } catch (const RegoFailure& f) {
    return forward_error(policy->to_error(f));
  }
  return PreparedQuery(std::move(impl));
}

namespace {
Result<Value> term_value(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar: return t.value;
    case TermKind::Array:
    case TermKind::Set: {
      std::vector<Value> items;
      for (const auto& i : t.items) items.push_back(CLOISTER_TRY(term_value(*i)));
      return t.kind == TermKind::Array ? Value::array(std::move(items)) : Value::set(std::move(items));
    }
    case TermKind::Object: {
      std::vector<std::pair<Value, Value>> entries;
      for (std::size_t i = 0; i + 1 < t.items.size(); i += 2) {
        entries.emplace_back(CLOISTER_TRY(term_value(*t.items[i])), CLOISTER_TRY(term_value(*t.items[i + 1])));
      }
      return Value::object(std::move(entries));
    }
    default: return make_error(Errc::parse, "rego_parse_error: term is not a ground value");
  }
}
}  // namespace

Result<Value> parse_value_term(std::string_view text) {
  auto t = parse_term(text, ParseOptions{});
  if (!t) return forward_error(t.error());
  return term_value(**t);
}

std::string_view error_code(const Error& error) {
  static const char* codes[] = {"rego_parse_error",      "rego_compile_error", "rego_unsafe_var_error",
                                "rego_recursion_error",  "rego_type_error",    "eval_conflict_error",
                                "eval_type_error",       "eval_builtin_error", "eval_limit_error"};
  // The message's own code comes first ("<file>:<line>: <code>: <text>"); a builtin's error can
  // quote another after it (rego.parse_module quotes the module's rego_parse_error).
  std::string_view code;
  std::size_t at = std::string::npos;
  for (const char* c : codes) {
    if (const std::size_t p = error.message().find(c); p < at) {
      at = p;
      code = c;
    }
  }
  return code;
}

}  // namespace cloister::rego
