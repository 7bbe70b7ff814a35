// Top-down evaluation with unification and backtracking, in continuation-passing style like
// OPA's topdown: each step calls its continuation once per solution; a continuation returns true
// to stop the search (a negation or `every` found its answer). Bindings live in per-rule frames
// of slots assigned by the compiler and are undone when the continuation returns.
#include <algorithm>
#include <bit>
#include <chrono>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "builtins/builtin.h"
#include "policy.h"
#include "value_budget.h"

namespace cloister::rego {
namespace {

// A non-owning reference to a callable: continuations are passed down, never stored.
template <typename Sig>
class FnRef;
template <typename R, typename... A>
class FnRef<R(A...)> {
 public:
  template <typename F>
  FnRef(F&& f) noexcept  // NOLINT(google-explicit-constructor)
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        cb_([](void* o, A... a) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(a...); }) {}
  R operator()(A... a) const { return cb_(obj_, a...); }

 private:
  void* obj_;
  R (*cb_)(void*, A...);
};

using Cont = FnRef<bool()>;
using VCont = FnRef<bool(const Value&)>;

struct Mock {
  bool is_value = false;
  Value value;
  DataNode* func = nullptr;
  const builtins::BuiltinDef* builtin = nullptr;
};

struct CacheEntry {
  std::uint8_t state = 0;  // 0 unknown, 1 in progress, 2 done
  Value v;
};

// A function call's key: the function and its arguments, strings by their text, integers,
// booleans and null by value, collections by node (equal collections at other nodes miss: a
// miss only costs the call). The key holds the values, so a node cannot be reused meanwhile.
struct FnCallKey {
  static constexpr std::size_t kMaxArgs = 4;  // calls with more arguments are not kept
  const DataNode* fn = nullptr;
  std::uint32_t nargs = 0;
  Value args[kMaxArgs];
  // Whether the arguments can key a call (not floats or big integers, whose equality across
  // representations the hash would have to follow).
  static bool keyable(const Value& v) {
    return v.is_string() || v.is_int() || v.is_bool() || v.is_null() || v.is_collection();
  }
  bool operator==(const FnCallKey& o) const {
    if (fn != o.fn || nargs != o.nargs) return false;
    for (std::size_t i = 0; i < nargs; ++i) {
      const Value& a = args[i];
      const Value& b = o.args[i];
      if (a.kind() != b.kind()) return false;
      if (a.is_collection() ? a.node_id() != b.node_id() : a != b) return false;
    }
    return true;
  }
};
struct FnCallKeyHash {
  std::size_t operator()(const FnCallKey& k) const noexcept {
    std::size_t h = std::hash<const void*>{}(k.fn);
    for (std::size_t i = 0; i < k.nargs; ++i) {
      const Value& v = k.args[i];
      std::size_t x = v.is_string() ? NameTable<bool>::hash(v.as_string())
                      : v.is_int() ? std::hash<std::int64_t>{}(v.as_int())
                      : v.is_collection() ? std::hash<const void*>{}(v.node_id())
                      : static_cast<std::size_t>(v.kind()) * 0x9e3779b97f4a7c15ULL + (v.is_bool() && v.as_bool());
      h = (h ^ x) * 0x100000001b3ULL;
    }
    return h;
  }
};

// Everything `with` may replace, swapped in and out around the modified expression.
struct Overlay {
  Value input;
  Value base;
  // Nothing below replaces data, functions or builtins: compiled rules (Rule::tests) apply as they
  // are. (When only base data is replaced, those that read none of it still do: see `replaced`.)
  bool pristine = true;
  // The data_root_bit of every base-data root a `with` replaced under (`base` is the policy's data
  // elsewhere): compiled operands of other roots still read the policy's data, which is the same.
  std::uint64_t replaced = 0;
  std::unordered_map<const DataNode*, Value> node_over;
  std::unordered_map<const DataNode*, Mock> func_mocks;
  std::unordered_map<const builtins::BuiltinDef*, Mock> builtin_mocks;
  // Sets `pristine` from what the overlay replaces.
  void settle() { pristine = node_over.empty() && func_mocks.empty() && builtin_mocks.empty() && !replaced; }
  // Rule values by DataNode id. A map, not a vector sized to the policy: most decisions touch a
  // handful of rules, and constructing and destroying one entry per node of a large policy was
  // half the cost of a small decision.
  std::unordered_map<int, CacheEntry> cache;
  // Results of calls of functions that are not plain (values computed by their bodies, else
  // chains), by function and arguments (see FnCallKey): OPA's evalFunc caches every call in its
  // virtual cache the same way. Genpolicy's strip_cap_prefix runs on the same capability names
  // for every capability set.
  std::unordered_map<FnCallKey, Value, FnCallKeyHash> fn_cache;
};

Value upsert(const Value& obj, const std::vector<Value>& path, std::size_t i, const Value& v) {
  if (i == path.size()) return v;
  std::vector<std::pair<Value, Value>> entries;
  Value child;
  if (obj.is_object()) {
    entries = obj.object_entries();
    if (const Value* c = obj.get(path[i])) child = *c;
  }
  Value nv = upsert(child, path, i + 1, v);
  bool replaced = false;
  for (auto& [k, x] : entries) {
    if (k == path[i]) {
      x = nv;
      replaced = true;
    }
  }
  if (!replaced) entries.emplace_back(path[i], nv);
  return Value::object(std::move(entries));
}

// The value of a rule without one (`f(x) if ...`), at namespace scope: a function-local static
// would test its guard on every call of the hot paths below.
const Value kTrueValue = Value::boolean(true);

const Value* lookup(const Value& v, const Value& key) {
  switch (v.kind()) {
    case Kind::Array: {
      std::int64_t i;
      if (!key.is_number() || !key.to_int64(i) || i < 0 || static_cast<std::size_t>(i) >= v.array_items().size())
        return nullptr;
      return &v.array_items()[static_cast<std::size_t>(i)];
    }
    case Kind::Object: return key.is_string() ? v.get(std::string_view(key.as_string())) : v.get(key);
    case Kind::Set: {
      const auto& items = v.set_items();
      auto it = std::lower_bound(items.begin(), items.end(), key, ValueLess{});
      if (it != items.end() && *it == key) return &*it;
      return nullptr;
    }
    default: return nullptr;
  }
}

// Object `v`'s entry for `key`, trying the entry at `hint` first and keeping the index found
// there (Value::get with a hint; the hint is shared, so it is read and written once, relaxed).
inline const Value* get_hinted(const Value& v, std::string_view key, std::atomic<std::uint32_t>& hint) {
  std::uint32_t h = hint.load(std::memory_order_relaxed);
  const std::uint32_t was = h;
  const Value* r = v.get(key, h);
  if (h != was) hint.store(h, std::memory_order_relaxed);
  return r;
}

// Object `v`'s entry for string `key` (a value, e.g. a loop's key), trying the entries at `hint`
// and after it first: a loop over one object's keys that looks each up in another object of the
// same keys meets them in the same order. Keys with one node (interned) match without a byte read.
const Value* lookup_hinted(const Value& v, const Value& key, std::atomic<std::uint32_t>& hint) {
  const auto& e = v.object_entries();
  const std::string& text = key.as_string();
  const std::uint32_t h = hint.load(std::memory_order_relaxed);
  for (std::uint32_t i = h; i < e.size() && i <= h + 1; ++i) {
    const Value& k = e[i].first;
    if (k.node_id() == key.node_id() || (k.is_string() && same_text(k.as_string(), text))) {
      if (i != h) hint.store(i, std::memory_order_relaxed);
      return &e[i].second;
    }
  }
  // The search: no hint to try first (those entries were just tried); it sets `found` when found.
  std::uint32_t found = ~std::uint32_t{0};
  const Value* r = v.get(std::string_view(text), found);
  if (r) hint.store(found, std::memory_order_relaxed);
  return r;
}

// `key` is a decoded path key (see ConstPath): objects are searched from its hint. The hinted
// entry is tested here, inline; the search and anything but objects out of line.
__attribute__((noinline)) const Value* lookup_key_searched(const Value& v, const PathKey& key) {
  if (!v.is_object()) return v.is_set() ? lookup(v, Value::string(std::string(key.view()))) : nullptr;  // rare
  return get_hinted(v, key.view(), key.hint);
}
[[gnu::always_inline]] inline const Value* lookup_key(const Value& v, const PathKey& key) {
  if (v.is_object()) [[likely]] {
    const auto& e = v.object_entries();
    const std::uint32_t h = key.hint.load(std::memory_order_relaxed);
    if (h < e.size()) [[likely]] {
      const Value& k = e[h].first;
      if (k.node_id() == key.node) return &e[h].second;  // the interned key itself
      if (k.is_string()) {
        const std::string& s = k.as_string();
        if (s.size() == key.size && detail::same_bytes(s.data(), key.chars(), key.size)) return &e[h].second;
      }
    }
  }
  return lookup_key_searched(v, key);
}

// `key` is a constant path term: objects are searched from the index its last lookup found.
inline const Value* lookup_const(const Value& v, const Term& key) {
  if (v.is_object() && key.value.is_string()) return get_hinted(v, key.value.as_string(), key.hint.index);
  return lookup(v, key.value);
}

// Looks the keys of `cp` up from `cur` on; nullptr when one is missing.
[[gnu::always_inline]] inline const Value* follow_keys(const Value* cur, const ConstPath& cp) {
  const PathKey* k = cp.keys();
  for (const PathKey* end = k + cp.size; cur && k != end; ++k) cur = lookup_key(*cur, *k);
  return cur;
}

// The nodes of `v` and of the values inside it, object keys aside (see DataIndexes::nodes).
void collect_nodes(const Value& v, std::vector<const void*>& out) {
  if (const void* n = v.node_id()) out.push_back(n);
  switch (v.kind()) {
    case Kind::Array:
    case Kind::Set:
      for (const auto& x : v.is_array() ? v.array_items() : v.set_items()) collect_nodes(x, out);
      return;
    case Kind::Object:
      for (const auto& [k, x] : v.object_entries()) collect_nodes(x, out);
      return;
    default: return;
  }
}

// What a replacement of the data at `path` (`with data.<path>`, EvalOptions::data_overrides)
// replaces: the document of a package or rule node (`n`), base data outside the rule tree, or
// nothing, inside a rule's value.
enum class DataTarget { Node, Base, InsideRule };
DataTarget data_target(const Policy::Impl& p, const std::vector<Value>& path, const DataNode*& n) {
  n = p.root.get();
  for (const auto& seg : path) {
    auto it = n->children.find(seg);
    if (it == n->children.end()) return DataTarget::Base;
    n = it->second.get();
    if (n->has_rules() && &seg != &path.back()) return DataTarget::InsideRule;
  }
  return DataTarget::Node;
}

class Evaluator {
 public:
  // `override_paths`: EvalOptions::data_overrides' paths as keys, none inside a rule's value
  // (evaluate checks that first).
  Evaluator(const Policy::Impl& p, const EvalOptions& o, const std::vector<std::vector<Value>>& override_paths)
      : P(p), O(o), rng_(o.seed), regex_(&p.regexes) {
    ov_.input = o.input;
    ov_.base = p.data;
    for (std::size_t i = 0; i < override_paths.size(); ++i) replace_data(ov_, override_paths[i], o.data_overrides[i].second);
    ov_.settle();
    if (o.limits.timeout.count() > 0) {
      has_deadline_ = true;
      deadline_ = std::chrono::steady_clock::now() + o.limits.timeout;
      bctx_.deadline = deadline_;
    }
    next_check_ = next_check_after(0);
    bctx_.now_ns = o.now_ns ? *o.now_ns
                            : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    bctx_.rng = &rng_;
    bctx_.regex = &regex_;
    bctx_.strict = o.strict_builtin_errors;
    bctx_.memo = &memo_;
  }

  QueryResult run(const PreparedQuery::Impl& q) {
    char base;
    stack_base_ = &base;
    std::vector<Value> frame(static_cast<std::size_t>(q.nslots));
    frame_ = frame.data();
    QueryResult out;
    eval_body(*q.body, 0, [&] {
      ResultRow row;
      for (const auto& [name, slot] : q.outputs) {
        const Value& v = frame[static_cast<std::size_t>(slot)];
        if (v.is_defined()) row.bindings.emplace_back(name, v);
      }
      row.value = last_value_;
      out.rows.push_back(std::move(row));
      return false;
    });
    out.prints = std::move(prints_);
    return out;
  }

 private:
  [[noreturn]] void raise(std::string code, std::string msg, const Loc& loc) {
    throw RegoFailure{std::move(code), std::move(msg), loc, true};
  }

  // Once per expression: the common path is a counter and one compare, inlined; limits out of line.
  // `next_check_` is the next step at which a limit needs looking at: one past the step limit, or
  // the next clock reading when there is a deadline (every 1,024 steps).
  __attribute__((always_inline)) void tick(const Loc& loc) {
    check_stack(loc);
    if (++steps_ >= next_check_) [[unlikely]] check_limits(loc);
  }
  std::uint64_t next_check_after(std::uint64_t step) const {
    constexpr std::uint64_t kNever = ~std::uint64_t{0};
    std::uint64_t next = O.limits.max_steps && O.limits.max_steps < kNever ? O.limits.max_steps + 1 : kNever;
    if (has_deadline_) next = std::min(next, step + 1024);
    return next;
  }
  __attribute__((noinline)) void check_limits(const Loc& loc) {
    if (O.limits.max_steps && steps_ > O.limits.max_steps) raise("eval_limit_error", "evaluation step limit exceeded", loc);
    if (has_deadline_ && std::chrono::steady_clock::now() >= deadline_) raise("eval_limit_error", "evaluation timed out", loc);
    next_check_ = next_check_after(steps_);
  }

  struct DepthGuard {
    Evaluator& e;
    DepthGuard(Evaluator& ev, const Loc& loc) : e(ev) {
      if (++e.depth_ > e.O.limits.max_call_depth) e.raise("eval_limit_error", "call depth limit exceeded", loc);
    }
    ~DepthGuard() { --e.depth_; }
  };

  Value* frame() { return frame_; }

  // Rule frames are slices of a per-evaluation slot stack: a decision calls hundreds of
  // functions, and a fresh vector per call would dominate its allocations. The stack grows in
  // chunks that never move, so a frame stays put while deeper calls lease theirs. Slots are
  // unbound when leased and reset when the lease ends (frames are released in reverse order).
  struct FrameLease {
    Evaluator& e;
    Value* v;
    std::size_t n, chunk, top;  // size, and the stack position to restore
    FrameLease(Evaluator& ev, int slots)
        : e(ev), n(static_cast<std::size_t>(slots)), chunk(ev.chunk_), top(ev.top_) {
      if (e.top_ + n > e.cur_size_) e.next_chunk(n);
      v = e.cur_slots_ + e.top_;
      e.top_ += n;
    }
    ~FrameLease() {
      for (std::size_t i = 0; i < n; ++i) v[i].reset();
      if (chunk != e.chunk_) e.use_chunk(chunk);
      e.top_ = top;
    }
    FrameLease(const FrameLease&) = delete;
    FrameLease& operator=(const FrameLease&) = delete;
  };
  bool unbound_var(const Term& t) {
    return t.kind == TermKind::Var && t.slot >= 0 && frame()[static_cast<std::size_t>(t.slot)].is_undefined();
  }
  bool has_unbound(const Term& t) {
    for (int s : t.vars)
      if (frame()[static_cast<std::size_t>(s)].is_undefined()) return true;
    return false;
  }
  bool bind(int slot, const Value& v, Cont k) {
    Value* f = frame_;
    f[slot] = v;
    bool r = k();
    f[slot].reset();
    return r;
  }

  // ---------------------------------------------------------------- bodies and expressions

  // Expressions that bind nothing are tests: they run to their first solution and the body goes
  // on in a loop, so long bodies of checks do not nest one continuation per expression (deep CPS
  // stacks were the dominant cost on large policies).
  // An assignment of one value to a fresh local (`x := t`) binds it in place too, and the loop
  // goes on; the slot is unbound again when the loop returns, as `bind` would after its
  // continuation.
  bool eval_body(const Body& b, std::size_t i, Cont k) {
    BoundInPlace bound(frame_);
    for (; i < b.exprs.size(); ++i) {
      const Expr& e = b.exprs[i];
      if (e.kind == ExprKind::SomeIn && i + 1 < b.exprs.size()) {
        if (auto r = filtered_some_in(b, i, k)) return *r;
        if (auto r = joined_call_some_in(b, i, k)) return *r;
      }
      if (!e.single) {
        if (e.kind == ExprKind::Term && e.term->kind == TermKind::Call && e.term->op >= CallOp::Eq &&
            e.term->op <= CallOp::Assign) {
          Value tmp;
          int slot;
          const Value* v;
          if (single_assignment(e, tmp, slot, v)) {
            if (!v) return false;
            if (bound.add(slot, *v)) continue;
            return bind(slot, *v, [&] { return eval_body(b, i + 1, k); });
          }
        }
        return eval_expr(e, [&] { return eval_body(b, i + 1, k); });
      }
      if (e.test && ov_.builtin_mocks.empty()) {
        if (int r = run_test(*e.test, nullptr)) {
          if (r < 0) return false;
          continue;
        }
      }
      if (int r = quick_test(e)) {
        if (r < 0) return false;
        continue;
      }
      bool ok = false;
      eval_expr(e, [&] {
        ok = true;
        return true;
      });
      if (!ok) return false;
    }
    return k();
  }

  // A test expression (plain or negated term, no `with`, not `=`/`:=`) whose term yields at most
  // one value, decided without continuations: 1 holds, -1 fails, 0 not applicable.
  int quick_test(const Expr& e) {
    if (e.kind != ExprKind::Term || !e.withs.empty() || e.query_level) return 0;
    const Term& t = *e.term;
    if (t.kind == TermKind::Call && (t.op == CallOp::Eq || t.op == CallOp::Assign)) return 0;
    if (!single_valued(t)) return 0;
    tick(e.loc);
    if (t.op >= CallOp::Equal && t.kind == TermKind::Call && ov_.builtin_mocks.empty()) {
      // `a == b`, `a != b`, `a in b`: compared on borrowed operands, no boolean built.
      Value ta, tb;
      const Value* a = eval_one(*t.items[0], ta);
      const Value* b = a ? eval_one(*t.items[1], tb) : nullptr;
      bool holds = b && (compare_op(t.op, *a, *b) || e.capture);
      return holds != e.negated ? 1 : -1;
    }
    Value tmp;
    const Value* v = eval_one(t, tmp);
    bool holds = v && (!v->is_false() || e.capture);
    return holds != e.negated ? 1 : -1;
  }

  // `t` is `v.a.b` (constant path) on the local variable in `slot`.
  static bool is_field_of(const Term& t, int slot) {
    if (t.kind != TermKind::Ref || t.items.size() < 2) return false;
    if (t.items[0]->kind != TermKind::Var || t.items[0]->slot != slot) return false;
    for (std::size_t j = 1; j < t.items.size(); ++j)
      if (t.items[j]->kind != TermKind::Scalar) return false;
    return true;
  }
  // A constant, a bound local or the input, with a constant path: evaluating it cannot fail with
  // an error or call anything, so when it is evaluated does not matter.
  bool is_plain_operand(const Term& t) {
    const Term& h = t.kind == TermKind::Ref ? *t.items[0] : t;
    if (t.kind == TermKind::Ref) {
      for (std::size_t j = 1; j < t.items.size(); ++j)
        if (t.items[j]->kind != TermKind::Scalar) return false;
    }
    if (h.kind == TermKind::Scalar) return true;
    if (h.kind != TermKind::Var) return false;
    if (h.slot == kInputSlot) return true;
    return h.slot >= 0 && frame()[static_cast<std::size_t>(h.slot)].is_defined();
  }

  // `some v in xs` followed by a test on `v` (genpolicy's matching of request entries against
  // template lists). Same solutions in the same order as the plain loop; nullopt when neither
  // pattern applies.
  std::optional<bool> filtered_some_in(const Body& b, std::size_t i, Cont k) {
    const Expr& e = b.exprs[i];
    const Expr& f = b.exprs[i + 1];
    if (e.negated || !e.withs.empty() || e.query_level) return std::nullopt;
    if (f.kind != ExprKind::Term || !f.withs.empty() || f.query_level || !f.single) return std::nullopt;
    const Term& v = *e.val;
    if (!unbound_var(v) || (e.key && (!unbound_var(*e.key) || e.key->slot == v.slot))) return std::nullopt;
    if (!ov_.builtin_mocks.empty() || !single_valued(*e.coll)) return std::nullopt;
    // A run of tests `v.f == y` right after the loop (genpolicy compares several fields of each
    // template entry with the request's) is answered by one join on all of them.
    JoinTests tests;
    for (std::size_t j = i + 1; j < b.exprs.size() && tests.n < JoinTests::kMax; ++j) {
      const Expr& g = b.exprs[j];
      if (g.kind != ExprKind::Term || g.negated || !g.withs.empty() || g.query_level || !g.single) break;
      const Term& t = *g.term;
      if (t.kind != TermKind::Call || t.op != CallOp::Equal) break;
      int side = is_field_of(*t.items[0], v.slot) ? 0 : is_field_of(*t.items[1], v.slot) ? 1 : -1;
      if (side < 0 || !is_plain_operand(*t.items[static_cast<std::size_t>(1 - side)])) break;
      tests.path[tests.n] = t.items[static_cast<std::size_t>(side)].get();
      tests.other[tests.n] = t.items[static_cast<std::size_t>(1 - side)].get();
      ++tests.n;
    }
    if (tests.n) return equality_join(b, i, tests, k);
    if (e.key) return std::nullopt;  // (memo_filter binds the member alone)
    if (ov_.func_mocks.empty() && ov_.node_over.empty() && pure_test(f, v.slot)) return memo_filter(b, i, k);
    return std::nullopt;
  }

  // `some k, v in xs; f(..., v, ..., y, ...)` where every rule of f fails unless v and y agree on
  // a field (DataNode::join: Kata's allow_mount calls check_mount on each template mount, whose
  // every rule first compares the destinations): the members whose field differs from y's are
  // skipped without the call, which would have failed without an error. Same solutions in the same
  // order as the plain loop; nullopt when the pattern does not apply, or y lacks the field.
  std::optional<bool> joined_call_some_in(const Body& b, std::size_t i, Cont k) {
    const Expr& e = b.exprs[i];
    const Expr& f = b.exprs[i + 1];
    if (e.negated || !e.withs.empty() || e.query_level) return std::nullopt;
    if (f.kind != ExprKind::Term || f.negated || !f.withs.empty() || f.query_level) return std::nullopt;
    const Term& t = *f.term;
    if (t.kind != TermKind::Call || !t.func || !t.func->join) return std::nullopt;
    // (A mock of f, of `==`, or a `with` on f's package would change what its rules do.)
    if (!ov_.func_mocks.empty() || !ov_.builtin_mocks.empty() || !ov_.node_over.empty()) return std::nullopt;
    const DataNode::Join& join = *t.func->join;
    const Term& v = *e.val;
    if (!unbound_var(v) || std::max(join.a, join.b) >= t.items.size()) return std::nullopt;
    auto is_v = [&](std::size_t pos) { return t.items[pos]->kind == TermKind::Var && t.items[pos]->slot == v.slot; };
    std::size_t other;
    if (is_v(join.a)) other = join.b;
    else if (is_v(join.b)) other = join.a;
    else return std::nullopt;
    if (!is_plain_operand(*t.items[other]) || !single_valued(*e.coll)) return std::nullopt;
    Value ytmp;
    const Value* y = eval_one(*t.items[other], ytmp);  // (a plain operand: no step, no error)
    if (y) y = field_at(*y, join.path);
    if (!y) return std::nullopt;
    tick(e.loc);
    Value ctmp;
    const Value* c = eval_one(*e.coll, ctmp);
    if (!c) return false;
    return for_each_member(*c, [&](const Value& key, const Value& val) {
      const Value* x = field_at(val, join.path);
      if (!x || *x != *y) return false;
      auto inner = [&] { return unify_value(v, val, [&] { return eval_body(b, i + 1, k); }); };
      if (e.key) return unify_value(*e.key, key, inner);
      return inner();
    });
  }
  static const Value* field_at(const Value& v, const std::vector<Value>& path) {
    const Value* x = &v;
    for (std::size_t j = 0; x && j < path.size(); ++j) x = lookup(*x, path[j]);
    return x;
  }

  // Per-evaluation state for one (collection, test) pair of `filtered_some_in`, built on first use.
  // It holds the collection so the node cannot be freed and its address reused.
  struct Scan {
    Value coll;
    std::vector<const Value*> members;  // iteration order (memo_filter; made on first use)
    // Equality join: the tested string fields (a composite key) -> positions of the members having
    // them (DataIndexes::Join); shared when the collection is base data, else `own_join`.
    const DataIndexes::Join* join = nullptr;
    std::unique_ptr<DataIndexes::Join> own_join;
    // Pure test: 0 not yet evaluated, 1 holds, 2 fails, per position; once a loop has seen every
    // member, the positions that pass.
    std::vector<std::int8_t> verdict;
    bool verdict_done = false;
    std::vector<std::uint32_t> passing;
  };
  static constexpr std::size_t kScanMin = 16;  // smaller collections are cheaper to scan

  Scan* scan_state(const Value& c, const void* test) {
    // (A loop entered once per request entry asks for the same state each time: the last one is
    // kept aside. Its Scan pins the node, so the address still names that collection.)
    const void* node = c.node_id();
    if (node && node == last_scan_.node && test == last_scan_.test) return last_scan_.scan;
    if (!c.is_collection() || !node || c.size() < kScanMin) return nullptr;
    auto [it, fresh] = scans_.try_emplace({node, test});
    Scan& s = it->second;
    if (fresh) s.coll = c;
    last_scan_ = {node, test, &s};
    return &s;
  }
  static void collect_members(const Value& c, std::vector<const Value*>& out) {
    out.reserve(c.size());
    for_each_member(c, [&](const Value&, const Value& val) {
      out.push_back(&val);
      return false;
    });
  }

  // `some v in xs; v.f == y; v.g == z ...` with `y`, `z` constants, bound locals or input paths:
  // the members whose fields equal them come from a hash index on those fields (built once per
  // collection and test run, so each request mount is matched against the template's mounts in
  // O(1), not by a scan). Small collections and non-string fields are scanned instead, each member
  // tested on the first field before `v` is bound.
  struct JoinTests {
    static constexpr std::size_t kMax = 4;
    std::size_t n = 0;
    const Term* path[kMax] = {};
    const Term* other[kMax] = {};
  };
  static const Value* field_of(const Value& member, const Term& path) {
    const Value* x = &member;
    for (std::size_t j = 1; x && j < path.items.size(); ++j) x = lookup_const(*x, *path.items[j]);
    return x;
  }
  // Appends one field to a composite join key; length-prefixed so no two tuples share a key.
  static void append_key(std::string& key, std::string_view s) {
    auto n = static_cast<std::uint32_t>(s.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
    key.append(s);
  }

  // The join index of `s` on the fields `tests` read.
  const DataIndexes::Join& join_index(Scan& s, const JoinTests& tests) {
    return join_index(s, tests.n, [&](std::size_t t, std::string& out) {
      for (std::size_t j = 1; j < tests.path[t]->items.size(); ++j) {
        out += to_json(tests.path[t]->items[j]->value);
        out += '\x1f';
      }
    }, [&](const Value& member, std::size_t t) { return field_of(member, *tests.path[t]); });
  }
  // The same for `n` fields whose keys `keys(t, out)` appends to the index's name (each as JSON,
  // then \x1f) and whose values `field(member, t)` reads: shared with every evaluation when the
  // collection is base data.
  template <typename Keys, typename Field>
  const DataIndexes::Join& join_index(Scan& s, std::size_t n, Keys&& keys, Field&& field) {
    if (s.join) return *s.join;
    const void* node = s.coll.node_id();
    if (in_base_data(node)) {
      // Shared across evaluations, so keyed by the tested paths' text rather than by this query's
      // terms (a prepared query's nodes can be freed and their addresses reused).
      std::string fields;
      for (std::size_t t = 0; t < n; ++t) {
        keys(t, fields);
        fields += '\x1e';
      }
      std::lock_guard<std::mutex> lock(P.indexes.mu);
      auto& slot = P.indexes.joins[{node, std::move(fields)}];
      if (!slot) {
        auto j = std::make_unique<DataIndexes::Join>();
        build_join(s.coll, n, field, *j);
        slot = std::move(j);
      }
      s.join = slot.get();
    } else {
      s.own_join = std::make_unique<DataIndexes::Join>();
      build_join(s.coll, n, field, *s.own_join);
      s.join = s.own_join.get();
    }
    return *s.join;
  }

  template <typename Field>
  static void build_join(const Value& c, std::size_t n, Field&& field, DataIndexes::Join& out) {
    collect_members(c, out.members);
    std::string key;
    for (std::uint32_t pos = 0; pos < out.members.size() && out.joinable; ++pos) {
      key.clear();
      bool all = true;
      for (std::size_t t = 0; t < n; ++t) {
        const Value* x = field(*out.members[pos], t);
        if (!x) {
          all = false;  // fails that test: never a solution
          break;
        }
        if (!x->is_string()) {
          out.joinable = false;
          out.by_field = {};
          out.key_text.clear();
          break;
        }
        append_key(key, x->as_string());
      }
      if (!all || !out.joinable) continue;
      auto [positions, fresh] = out.by_field.try_emplace(key);
      if (fresh) out.by_field.rekey(key, out.key_text.emplace_back(key));
      positions->push_back(pos);
    }
  }

  bool equality_join(const Body& b, std::size_t i, const JoinTests& tests, Cont k) {
    const Expr& e = b.exprs[i];
    const Expr& f = b.exprs[i + 1];
    const int slot = e.val->slot;
    tick(e.loc);
    Value ctmp;
    const Value* c = eval_one(*e.coll, ctmp);
    if (!c) return false;
    // The member (and its key, `some k, v in xs`) bound, the rest of the body after the tests.
    auto visit = [&](const Value& key, const Value& val, std::size_t after) {
      if (!e.key) return bind(slot, val, [&] { return eval_body(b, i + 1 + after, k); });
      return bind(e.key->slot, key, [&] { return bind(slot, val, [&] { return eval_body(b, i + 1 + after, k); }); });
    };
    // (The index holds members without their keys: an array's are their positions.)
    Scan* s = !e.key || c->is_array() ? scan_state(*c, &f) : nullptr;
    if (s) {
      const DataIndexes::Join& join = join_index(*s, tests);
      if (join.joinable) {
        for (std::size_t t = 0; t < tests.n; ++t) tick(b.exprs[i + 1 + t].loc);
        if (join.by_field.size() == 0) return false;
        join_key_.clear();
        for (std::size_t t = 0; t < tests.n; ++t) {
          Value otmp;
          const Value* y = eval_one(*tests.other[t], otmp);
          if (!y || !y->is_string()) return false;  // only strings equal strings
          append_key(join_key_, y->as_string());
        }
        const std::vector<std::uint32_t>* hit = join.by_field.find(join_key_);
        if (!hit) return false;
        for (std::uint32_t pos : *hit) {
          if (visit(Value::integer(pos), *join.members[pos], tests.n)) return true;
        }
        return false;
      }
    }
    const Term& path = *tests.path[0];
    Value otmp;
    const Value* y = nullptr;
    bool y_done = false;
    return for_each_member(*c, [&](const Value& key, const Value& val) {
      tick(f.loc);
      const Value* x = field_of(val, path);
      if (!x) return false;
      if (!y_done) {
        y = eval_one(*tests.other[0], otmp);
        y_done = true;
      }
      if (!y || *x != *y) return false;
      return visit(key, val, 1);
    });
  }

  // `some v in xs; <test>` where the test reads nothing but `v` and constants and calls only
  // deterministic builtins (`contains(pe, "$(")` over a template's env list): its verdict for a
  // member cannot change within the evaluation, so it is remembered per member and the loop,
  // entered once per request entry, evaluates each member's test once. Verdicts are recorded only
  // when the test completes, so an error is raised exactly where the plain loop would raise it.
  // The verdict of memo_filter's test `f` on the member bound now: 1 holds, 2 fails.
  std::int8_t filter_verdict(const Expr& f) {
    Value tmp;
    const Value* r = eval_one(*f.term, tmp);
    bool holds = r && (!r->is_false() || f.capture);
    return holds != f.negated ? 1 : 2;
  }

  bool memo_filter(const Body& b, std::size_t i, Cont k) {
    const Expr& e = b.exprs[i];
    const Expr& f = b.exprs[i + 1];
    const std::size_t slot = static_cast<std::size_t>(e.val->slot);
    tick(e.loc);
    Value ctmp;
    const Value* c = eval_one(*e.coll, ctmp);
    if (!c) return false;
    DataIndexes::Verdicts* base = f.id && c->is_collection() ? base_verdicts(*c, f.id) : nullptr;
    if (base) {
      // Base data: verdicts shared with every evaluation (DataIndexes::Verdicts). Members whose
      // verdict is known to fail are skipped without a step, as in the loop below once done.
      DataIndexes::Verdicts& shared = *base;
      if (const std::vector<std::uint32_t>* passing = shared.passing.load(std::memory_order_acquire)) {
        for (std::uint32_t pos : *passing) {
          tick(f.loc);
          if (bind(e.val->slot, member_at(*c, pos), [&] { return eval_body(b, i + 2, k); })) return true;
        }
        return false;
      }
      std::atomic<std::int8_t>* verdicts = shared.v.get();
      std::size_t pos = 0;
      const bool stopped = for_each_member(*c, [&](const Value&, const Value& val) {
        std::atomic<std::int8_t>& slot_verdict = verdicts[pos++];
        std::int8_t verdict = slot_verdict.load(std::memory_order_relaxed);
        if (verdict == 2) return false;
        tick(f.loc);
        frame()[slot] = val;
        if (verdict == 0) {
          verdict = filter_verdict(f);
          slot_verdict.store(verdict, std::memory_order_relaxed);
        }
        bool done = verdict == 1 && eval_body(b, i + 2, k);
        frame()[slot].reset();
        return done;
      });
      if (!stopped) publish_passing(shared, c->size());  // every verdict is known now
      return stopped;
    }
    Scan* s = scan_state(*c, &f);
    if (s && s->members.empty()) collect_members(s->coll, s->members);
    if (s && s->verdict_done) {
      // Every verdict is known: visit the members that pass.
      for (std::uint32_t pos : s->passing) {
        tick(f.loc);
        if (bind(e.val->slot, *s->members[pos], [&] { return eval_body(b, i + 2, k); })) return true;
      }
      return false;
    }
    if (s && s->verdict.empty()) s->verdict.assign(s->members.size(), 0);
    std::size_t pos = 0;
    bool stopped = for_each_member(*c, [&](const Value&, const Value& val) {
      tick(f.loc);
      std::int8_t verdict = s ? s->verdict[pos] : 0;
      frame()[slot] = val;
      if (verdict == 0) {
        verdict = filter_verdict(f);
        if (s) s->verdict[pos] = verdict;
      }
      ++pos;
      bool done = verdict == 1 && eval_body(b, i + 2, k);
      frame()[slot].reset();
      return done;
    });
    if (s && !stopped) {
      for (std::uint32_t p = 0; p < s->verdict.size(); ++p)
        if (s->verdict[p] == 1) s->passing.push_back(p);
      s->verdict_done = true;
    }
    return stopped;
  }

  // `x := f(...)` where the call reads nothing but one or two bound locals (and constants) and
  // calls only deterministic builtins: genpolicy builds a regular expression from a template entry
  // (`concat("", ["^", replace(pe, ...), "$"])`) once per request entry, so the same few patterns
  // are rebuilt hundreds of times per decision. The value is remembered per call site and per
  // identity of the locals' values (shared nodes, pinned by the memo), so a repeat is one hash
  // lookup. Undefined results are remembered too; errors are not. When the locals are base data
  // (a policy expression on template entries), the value is the same in every evaluation in the
  // same strict mode, and is remembered for all of them (DataIndexes::Assigned).
  struct AssignMemo {
    Value a, b, result;
  };
  struct AssignKey {
    const Term* t;
    const void* a;
    const void* b;
    bool operator==(const AssignKey&) const = default;
  };
  struct AssignKeyHash {
    std::size_t operator()(const AssignKey& k) const noexcept {
      auto h = [](const void* p) { return std::hash<const void*>{}(p); };
      return h(k.t) ^ (h(k.a) * 0x9e3779b97f4a7c15ULL) ^ (h(k.b) * 0xc2b2ae3d27d4eb4fULL);
    }
  };

  // Slots eval_body bound in place, unbound when it returns (more fall back to `bind`).
  struct BoundInPlace {
    Value* frame;
    std::uint32_t n = 0;
    int slots[6];
    explicit BoundInPlace(Value* f) : frame(f) {}
    bool add(int slot, const Value& v) {
      if (n == std::size(slots)) return false;
      frame[slot] = v;
      slots[n++] = slot;
      return true;
    }
    ~BoundInPlace() {
      for (std::uint32_t j = 0; j < n; ++j) frame[slots[j]].reset();
    }
    BoundInPlace(const BoundInPlace&) = delete;
    BoundInPlace& operator=(const BoundInPlace&) = delete;
  };

  // `x := t`, `x = t` or `t = x` with x an unbound local and t single-valued (what unify would do
  // by evaluating t and binding x): after the expression's step, x's `slot` and its value `v`
  // (nullptr: t is undefined, the expression fails); false when the expression is not of that
  // form. A pure call `t` reading one or two bound locals comes from the assignment memos.
  bool single_assignment(const Expr& e, Value& tmp, int& slot, const Value*& v) {
    if (e.negated || e.query_level || !e.withs.empty()) return false;
    const Term* var = e.term->items[0].get();
    const Term* rhs = e.term->items[1].get();
    if (!unbound_var(*var)) {
      if (e.term->op != CallOp::Eq || !unbound_var(*rhs)) return false;
      std::swap(var, rhs);
    }
    if (!single_valued(*rhs)) return false;
    slot = var->slot;
    tick(e.loc);
    if (const Value* m = memo_assigned(e, *var, *rhs)) {
      v = m->is_undefined() ? nullptr : m;
      return true;
    }
    v = eval_one(*rhs, tmp);
    return true;
  }

  // `x := f(...)` where the call reads nothing but one or two bound locals (see AssignMemo): its
  // value (undefined when f is) from the memos, or nullptr when they do not apply.
  const Value* memo_assigned(const Expr& e, const Term& lhs, const Term& rhs) {
    if (rhs.kind != TermKind::Call || rhs.op != CallOp::Other || lhs.wildcard) return nullptr;
    // (Pure terms may read constant rules (Term::folded), which a `with` on a rule or package
    // replaces: then nothing is memoised.)
    if (!rhs.pure || rhs.vars.empty() || rhs.vars.size() > 2 || !ov_.builtin_mocks.empty() || !ov_.node_over.empty())
      return nullptr;
    const Value& va = frame()[static_cast<std::size_t>(rhs.vars[0])];
    const Value& vb = rhs.vars.size() > 1 ? frame()[static_cast<std::size_t>(rhs.vars[1])] : va;
    if (!va.node_id() || !vb.node_id()) return nullptr;  // unbound, or an inline scalar
    auto compute = [&] {
      Value tmp;
      const Value* r = eval_one(rhs, tmp);
      return r ? *r : Value();
    };
    return &memo_value(e.id, rhs, va, vb, compute);
  }

  // The value of pure call `rhs` of expression `id` (0: a query's) on locals `va`, `vb` (both
  // nodes), from the policy's table or else this evaluation's memo; `compute` makes it on a miss.
  template <typename Compute>
  const Value& memo_value(std::uint32_t id, const Term& rhs, const Value& va, const Value& vb, Compute& compute) {
    if (const Value* r = id ? shared_assignment(id, va, vb, compute) : nullptr) return *r;
    return local_assignment(rhs, va, vb, compute);
  }

  // The value of pure call `rhs` on locals `va`, `vb` from this evaluation's memo (computed on
  // first use; the map's elements stay put while later ones are added).
  template <typename Compute>
  const Value& local_assignment(const Term& rhs, const Value& va, const Value& vb, Compute& compute) {
    AssignKey key{&rhs, va.node_id(), vb.node_id()};
    auto it = assign_memo_.find(key);
    if (it == assign_memo_.end()) it = assign_memo_.emplace(key, AssignMemo{va, vb, compute()}).first;
    return it->second.result;
  }

  // The value of a pure call of policy expression `id` on locals `va`, `vb` from the policy's
  // table: found there, or computed and published when both are base data; else nullptr (not base
  // data, or no room). (A found entry pins the nodes it was made for, so nodes at the same
  // addresses are those base-data values.)
  template <typename Compute>
  const Value* shared_assignment(std::uint32_t id, const Value& va, const Value& vb, Compute& compute) {
    using Assigned = DataIndexes::Assigned;
    const bool strict = O.strict_builtin_errors;
    const std::size_t h = (std::hash<const void*>{}(va.node_id()) * 0x9e3779b97f4a7c15ULL) ^
                          (std::hash<const void*>{}(vb.node_id()) * 0xc2b2ae3d27d4eb4fULL) ^ (id * 2u + strict);
    auto same = [&](const Assigned& a) {
      return a.expr == id && a.strict == strict && a.a.node_id() == va.node_id() && a.b.node_id() == vb.node_id();
    };
    if (const Assigned* x = P.indexes.assigned.find(h, same)) return &x->result;
    // (Undefined stands for no local: a comprehension of constants, see memo_compr.)
    auto base = [&](const Value& v) { return v.is_undefined() || policy_node(v.node_id()); };
    if (!base(va) || !base(vb)) return nullptr;
    const Assigned* x = P.indexes.assigned.find_or_add(
        h, same,
        [&] {
          // (An error publishes nothing.)
          return std::make_unique<Assigned>(Assigned{id, strict, va, vb, compute()});
        });
    if (!x) return nullptr;
    if (const void* node = x->result.node_id()) {
      // (A full probe run leaves it out: assignments on it are then not shared, only slower.)
      P.indexes.derived.find_or_add(node_hash(node), [&](const DataIndexes::Derived& d) { return d.node == node; },
                                    [&] { return std::make_unique<DataIndexes::Derived>(DataIndexes::Derived{node}); });
    }
    return &x->result;
  }
  static std::size_t node_hash(const void* node) {
    return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(node) >> 4) * 0x9e3779b97f4a7c15ULL >> 20;
  }
  // Whether `node` is part of the base data or a shared assignment's value (DataIndexes::derived):
  // a value that lives, unchanged, as long as the policy.
  bool policy_node(const void* node) const {
    if (!node) return false;
    if (P.indexes.derived.find(node_hash(node), [&](const DataIndexes::Derived& d) { return d.node == node; }))
      return true;
    return in_base_data(node);
  }

  // Whether test `f` depends on nothing but the local in `slot` (see memo_filter).
  static bool pure_test(const Expr& f, int slot) {
    const Term& t = *f.term;
    return t.pure && (t.vars.empty() || (t.vars.size() == 1 && t.vars[0] == slot));
  }

  bool eval_expr(const Expr& e, Cont k) {
    tick(e.loc);
    if (!e.withs.empty()) return eval_with(e, k);
    return eval_negatable(e, k);
  }

  bool eval_negatable(const Expr& e, Cont k) {
    if (e.negated) {
      bool found = false;
      eval_plain(e, [&] {
        found = true;
        return true;
      });
      if (found) return false;
      if (e.query_level) last_value_ = Value::boolean(true);
      return k();
    }
    return eval_plain(e, k);
  }

  bool eval_plain(const Expr& e, Cont k) {
    switch (e.kind) {
      case ExprKind::SomeDecl: return k();
      case ExprKind::SomeIn: return each_of(*e.coll, [&](const Value& c) { return iterate_in(e, c, k); });
      case ExprKind::Every: return each_of(*e.coll, [&](const Value& c) { return eval_every(e, c, k); });
      case ExprKind::Term: {
        const Term& t = *e.term;
        if (t.kind == TermKind::Call && (t.op == CallOp::Eq || t.op == CallOp::Assign)) {
          if (!e.query_level) return unify(*t.items[0], *t.items[1], k);
          return unify(*t.items[0], *t.items[1], [&] {
            last_value_ = Value::boolean(true);
            return k();
          });
        }
        if (single_valued(t)) {
          Value tmp;
          const Value* v = eval_one(t, tmp);
          if (!v || (v->is_false() && !e.capture)) return false;
          if (e.query_level) last_value_ = *v;
          return k();
        }
        return eval_term(t, [&](const Value& v) {
          if (v.is_false() && !e.capture) return false;
          if (e.query_level) last_value_ = v;  // only a query reports expression values
          return k();
        });
      }
    }
    return false;
  }

  template <typename F>
  static bool for_each_member(const Value& c, F&& f) {
    switch (c.kind()) {
      case Kind::Array: {
        const auto& items = c.array_items();
        for (std::size_t i = 0; i < items.size(); ++i)
          if (f(Value::integer(static_cast<std::int64_t>(i)), items[i])) return true;
        return false;
      }
      case Kind::Object:
        for (const auto& [key, val] : c.object_entries())
          if (f(key, val)) return true;
        return false;
      case Kind::Set:
        for (const auto& x : c.set_items())
          if (f(x, x)) return true;
        return false;
      default: return false;
    }
  }

  bool iterate_in(const Expr& e, const Value& c, Cont k) {
    return for_each_member(c, [&](const Value& key, const Value& val) {
      auto inner = [&] { return unify_value(*e.val, val, k); };
      if (e.key) return unify_value(*e.key, key, inner);
      return inner();
    });
  }

  // `x in c` (OPA's internal.member_2): by value among array elements, set members, object values.
  // Arrays of strings scanned by `in` many times in one evaluation (genpolicy's env lists) get a
  // hash index of their strings on first use: shared with later evaluations when the array is
  // part of the base data (DataIndexes), else kept for this evaluation with the array pinned so
  // its node cannot be freed and its address reused.
  static constexpr std::size_t kIndexMin = DataIndexes::kMinMembers;
  struct LocalStrings {
    Value array;
    DataIndexes::Strings index;
  };

  static void build_strings(const Value& c, DataIndexes::Strings& ix) {
    ix.members.reserve(c.array_items().size());
    for (const auto& e : c.array_items()) {
      if (!e.is_string()) {
        ix.all_strings = false;
        ix.members = {};
        return;
      }
      ix.members.try_emplace(e.as_string());
    }
  }

  // The shared verdicts of test `id` on the members of collection `c` in this mode, or nullptr when
  // `c` is not base data. (Found collections are remembered per evaluation, so a loop entered
  // once per request entry asks in_base_data once; only base data is remembered, since other
  // nodes may be freed and their addresses reused.)
  DataIndexes::Verdicts* base_verdicts(const Value& c, std::uint32_t id) {
    if (auto it = verdicts_.find({c.node_id(), id}); it != verdicts_.end()) return it->second;
    if (!in_base_data(c.node_id())) return nullptr;
    DataIndexes::Verdicts* v;
    {
      std::lock_guard<std::mutex> lock(P.indexes.mu);
      auto& slot = P.indexes.verdicts[{c.node_id(), id, O.strict_builtin_errors}];
      if (!slot) slot = std::make_unique<DataIndexes::Verdicts>(c.size());
      v = slot.get();
    }
    verdicts_.emplace(std::pair{c.node_id(), id}, v);
    return v;
  }
  // Publishes the positions that pass, once no verdict of `n` is unknown (another evaluation may
  // have published them first: the same list).
  static void publish_passing(DataIndexes::Verdicts& shared, std::size_t n) {
    auto list = std::make_unique<std::vector<std::uint32_t>>();
    for (std::uint32_t pos = 0; pos < n; ++pos) {
      const std::int8_t verdict = shared.v[pos].load(std::memory_order_relaxed);
      if (verdict == 0) return;  // (an error left it unknown)
      if (verdict == 1) list->push_back(pos);
    }
    const std::vector<std::uint32_t>* none = nullptr;
    if (shared.passing.compare_exchange_strong(none, list.get(), std::memory_order_acq_rel)) list.release();
  }
  // The member at position `pos` in for_each_member's order.
  static const Value& member_at(const Value& c, std::size_t pos) {
    switch (c.kind()) {
      case Kind::Array: return c.array_items()[pos];
      case Kind::Object: return c.object_entries()[pos].second;
      default: return c.set_items()[pos];
    }
  }

  // Whether `node` holds one of the base data's values.
  bool in_base_data(const void* node) const {
    std::call_once(P.indexes.nodes_once, [this] {
      collect_nodes(P.data, P.indexes.nodes);
      for (const Value& v : P.constant_values) collect_nodes(v, P.indexes.nodes);
      std::sort(P.indexes.nodes.begin(), P.indexes.nodes.end(), std::less<const void*>{});
    });
    return std::binary_search(P.indexes.nodes.begin(), P.indexes.nodes.end(), node, std::less<const void*>{});
  }

  const DataIndexes::Strings& string_index(const Value& c) {
    auto [it, fresh] = string_index_.try_emplace(c.node_id(), nullptr);
    if (fresh) {
      if (in_base_data(c.node_id())) {
        std::lock_guard<std::mutex> lock(P.indexes.mu);
        auto& slot = P.indexes.strings[c.node_id()];
        if (!slot) {
          auto ix = std::make_unique<DataIndexes::Strings>();
          build_strings(c, *ix);
          slot = std::move(ix);
        }
        it->second = slot.get();
      } else {
        auto& local = local_strings_.emplace_back(std::make_unique<LocalStrings>());
        local->array = c;
        build_strings(c, local->index);
        it->second = &local->index;
      }
    }
    return *it->second;
  }

  bool compare_op(CallOp op, const Value& a, const Value& b) {
    return op == CallOp::Equal ? a == b : op == CallOp::NotEqual ? a != b : member(a, b);
  }

  bool member(const Value& x, const Value& c) {
    switch (c.kind()) {
      case Kind::Set: return c.set_contains(x);
      case Kind::Array:
        if (c.array_items().size() >= kIndexMin) {
          const DataIndexes::Strings& ix = string_index(c);
          // Only strings equal strings: a non-string needle cannot match an all-string array.
          if (ix.all_strings) {
            return x.is_string() && ix.members.find(x.as_string()) != nullptr;
          }
        }
        if (x.is_string()) {
          // Strings equal only strings of the same bytes: tested here, without a call per element
          // (genpolicy's `c in p_caps` over lists too short for the index).
          const std::string& xs = x.as_string();
          for (const auto& e : c.array_items()) {
            if (!e.is_string()) continue;
            const std::string& es = e.as_string();
            if (es.size() == xs.size() && detail::same_bytes(es.data(), xs.data(), xs.size())) return true;
          }
          return false;
        }
        for (const auto& e : c.array_items())
          if (e == x) return true;
        return false;
      case Kind::Object:
        for (const auto& [k, v] : c.object_entries())
          if (v == x) return true;
        return false;
      default: return false;
    }
  }

  bool eval_every(const Expr& e, const Value& c, Cont k) {
    if (!c.is_collection()) return false;  // OPA: every over a non-collection is undefined
    bool all = true;
    for_each_member(c, [&](const Value& key, const Value& val) {
      bool ok = false;
      auto body = [&] {
        return eval_body(*e.body, 0, [&] {
          ok = true;
          return true;
        });
      };
      auto inner = [&] { return unify_value(*e.val, val, body); };
      if (e.key) unify_value(*e.key, key, inner);
      else inner();
      if (!ok) all = false;
      return !ok;
    });
    if (!all) return false;
    if (e.query_level) last_value_ = Value::boolean(true);
    return k();
  }

  bool eval_with(const Expr& e, Cont k) {
    // Values are evaluated in the unmodified context.
    std::vector<std::pair<const With*, Mock>> mods;
    for (const auto& w : e.withs) {
      Mock m;
      const Term& vt = *w.value;
      if (vt.kind == TermKind::Ref && vt.items[0]->slot == kDataSlot) {
        // A function reference replaces a function; anything else is a value.
        const DataNode* n = P.root.get();
        for (std::size_t i = 1; n && i < vt.items.size(); ++i) {
          if (vt.items[i]->kind != TermKind::Scalar) {
            n = nullptr;
            break;
          }
          auto it = n->children.find(vt.items[i]->value);
          n = it == n->children.end() ? nullptr : it->second.get();
        }
        if (n && n->is_function) m.func = const_cast<DataNode*>(n);
      }
      if (!m.func && !w.value_builtin) {
        bool got = false;
        eval_term(vt, [&](const Value& v) {
          m.value = v;
          got = true;
          return true;
        });
        if (!got) return false;  // undefined with-value: the expression is undefined
        m.is_value = true;
      }
      if (w.value_builtin) m.builtin = w.value_builtin;
      mods.emplace_back(&w, std::move(m));
    }
    Overlay inner;
    inner.input = ov_.input;
    inner.base = ov_.base;
    inner.node_over = ov_.node_over;
    inner.func_mocks = ov_.func_mocks;
    inner.builtin_mocks = ov_.builtin_mocks;
    inner.replaced = ov_.replaced;
    for (auto& [w, m] : mods) {
      if (w->is_input) {
        inner.input = upsert(inner.input, w->path, 0, m.value);
      } else if (w->is_data) {
        // (Replacing part of a rule's value, data.p.x where p is a rule, is not supported: it is
        // ignored, as the rule's own value still applies.)
        replace_data(inner, w->path, m.value);
      } else if (w->func) {
        inner.func_mocks[w->func] = m;
      } else if (w->builtin) {
        inner.builtin_mocks[w->builtin] = m;
      }
    }
    inner.settle();
    std::swap(ov_, inner);
    bool r;
    try {
      r = eval_negatable(e, [&] {
        std::swap(ov_, inner);
        bool rr;
        try {
          rr = k();
        } catch (...) {
          std::swap(ov_, inner);
          throw;
        }
        std::swap(ov_, inner);
        return rr;
      });
    } catch (...) {
      std::swap(ov_, inner);
      throw;
    }
    std::swap(ov_, inner);
    return r;
  }

  // ---------------------------------------------------------------- terms

  // Runs on every expression and call: the frame address is read inline, only the error is out of line.
  void check_stack(const Loc& loc) {
    const char* here = static_cast<const char*>(__builtin_frame_address(0));
    auto used = static_cast<std::size_t>(stack_base_ > here ? stack_base_ - here : here - stack_base_);
    if (used > O.limits.max_stack_bytes) [[unlikely]] stack_exceeded(loc);
  }
  [[noreturn]] __attribute__((noinline, cold)) void stack_exceeded(const Loc& loc) {
    raise("eval_limit_error", "evaluation nesting too deep (stack limit)", loc);
  }

  // A term with no unbound variables and no relation call yields at most one value.
  bool single_valued(const Term& t) { return !t.multi && !has_unbound(t); }

  // Calls `f` with each value of `t`: directly when there is at most one.
  template <typename F>
  bool each_of(const Term& t, F&& f) {
    if (!single_valued(t)) return eval_term(t, f);
    Value tmp;
    const Value* v = eval_one(t, tmp);
    return v && f(*v);
  }

  // Evaluates a single-valued term directly (no continuation per step): the common case of
  // arguments, comparisons and assignments. Returns nullptr when undefined; the result points into
  // the frame, the input, the policy's constants or `tmp`, and stays valid until the caller binds
  // or evaluates something else.
  const Value* eval_one(const Term& t, Value& tmp) {
    // Constants and local variables (most operands) are answered here; the rest out of line.
    if (t.kind == TermKind::Scalar) return &t.value;
    if (t.kind == TermKind::Var && t.slot >= 0) {
      const Value& v = frame()[static_cast<std::size_t>(t.slot)];
      return v.is_undefined() ? nullptr : &v;
    }
    if (t.kind == TermKind::Ref) {  // `x.a.b` on a local or the input: the next most common operand
      if (const ConstPath* cp = t.path) {
        const Value* cur = cp->head >= 0 ? &frame()[static_cast<std::size_t>(cp->head)] : &ov_.input;
        return cur->is_undefined() ? nullptr : follow_keys(cur, *cp);
      }
      const Term& h = *t.items[0];
      if (h.kind == TermKind::Var && h.slot >= 0) {
        const Value& v = frame()[static_cast<std::size_t>(h.slot)];
        return v.is_undefined() ? nullptr : follow_path(&v, t, 1, tmp);
      }
    }
    return eval_one_slow(t, tmp);
  }

  __attribute__((noinline)) const Value* eval_one_slow(const Term& t, Value& tmp) {
    switch (t.kind) {
      case TermKind::Scalar: return &t.value;
      case TermKind::Var:
        if (t.slot >= 0) {
          const Value& v = frame()[static_cast<std::size_t>(t.slot)];
          return v.is_undefined() ? nullptr : &v;
        }
        if (t.slot == kInputSlot) return ov_.input.is_undefined() ? nullptr : &ov_.input;
        break;
      case TermKind::Ref: {
        const Term& h = *t.items[0];
        if (h.kind == TermKind::Var && h.slot == kDataSlot) {
          const Value* r = nullptr;
          if (t.folded && ov_.node_over.empty()) return t.folded;
          if (ov_.node_over.empty() && data_direct(t, tmp, r)) return r;
          break;  // rules and base data in general: walk_data
        }
        // (A local head was answered by eval_one, the only caller.)
        const Value* cur = eval_one(h, tmp);
        if (cur && cur->is_undefined()) return nullptr;
        return follow_path(cur, t, 1, tmp);
      }
      case TermKind::Call:
        if (t.op == CallOp::Print || t.op == CallOp::Template || t.op == CallOp::Walk) break;
        return call_term_one(t, tmp);
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr:
        tmp = memo_compr(t);
        return &tmp;
      default: break;
    }
    bool got = false;
    eval_term(t, [&](const Value& v) {
      tmp = v;
      got = true;
      return true;
    });
    return got ? &tmp : nullptr;
  }

  // A single-valued call (eval_one_slow): its own function, so the argument buffer's set-up and
  // the saved registers of this path do not weigh on every reference lookup.
  __attribute__((noinline)) const Value* call_term_one(const Term& t, Value& tmp) {
    check_stack(t.loc);
    if (t.op >= CallOp::Equal && ov_.builtin_mocks.empty()) {
      Value ta, tb;
      const Value* a = eval_one(*t.items[0], ta);
      if (!a) return nullptr;
      const Value* b = eval_one(*t.items[1], tb);
      if (!b) return nullptr;
      bool r = compare_op(t.op, *a, *b);
      tmp = Value::boolean(r);
      return &tmp;
    }
    std::size_t n = t.items.size();
    if (t.func && t.func->plain_function && n <= 4 && ov_.func_mocks.empty()) {
      // A plain user function: arguments are borrowed where they are (frame slots, constants,
      // the input), not copied into an argument array.
      Value held[4];
      const Value* args[4];
      for (std::size_t i = 0; i < n; ++i) {
        args[i] = eval_one(*t.items[i], held[i]);
        if (!args[i]) return nullptr;
      }
      tmp = plain_function_result(t.func, std::span<const Value* const>(args, n));
      return tmp.is_defined() ? &tmp : nullptr;
    }
    Value small[4];
    std::vector<Value> big;
    std::span<Value> args(small, n <= 4 ? n : 0);
    if (n > 4) {
      big.resize(n);
      args = std::span<Value>(big);
    }
    for (std::size_t i = 0; i < n; ++i) {
      Value atmp;
      const Value* a = eval_one(*t.items[i], atmp);
      if (!a) return nullptr;
      args[i] = a == &atmp ? std::move(atmp) : *a;
    }
    return call_one(t, args, tmp) ? &tmp : nullptr;
  }

  // `data.a.b...` with constant keys (policy data read in every request, a rule's value), read
  // without continuations: walks the rule tree and the base documents together until a rule is
  // met, evaluates it (cached per evaluation) and looks the rest of the path up in its value.
  // False when the general walk is needed: a variable key inside the rule tree, or a package
  // whose rules and data must be merged into one object. Callers check there are no `with`
  // overrides of rules.
  bool data_direct(const Term& t, Value& tmp, const Value*& out) {
    const DataNode* n = P.root.get();
    const Value* base = ov_.base.is_object() ? &ov_.base : nullptr;
    std::size_t i = 1;
    for (; i < t.items.size() && n && !n->has_rules(); ++i) {
      const Term& e = *t.items[i];
      if (e.kind != TermKind::Scalar) return false;
      auto it = n->children.find(e.value);
      n = it == n->children.end() ? nullptr : it->second.get();
      base = base && base->is_object() ? lookup_const(*base, e) : nullptr;
      if (!n && !base) {
        out = nullptr;
        return true;
      }
    }
    const Value* cur = base;
    if (n) {
      if (!n->has_rules()) return false;  // a package as a whole
      if (n->is_function) {
        out = nullptr;
        return true;
      }
      // A base document at a rule's path shadows the rule, as in walk_data.
      if (!base || base->is_undefined()) {
        tmp = rule_value(n, t.loc);
        if (tmp.is_undefined()) {
          out = nullptr;
          return true;
        }
        cur = &tmp;
      }
    }
    out = follow_path(cur, t, i, tmp);
    return true;
  }

  // Looks up the path items of ref `t` from index `i` on, starting at `cur` (which may be `tmp`);
  // keys are single-valued. The result points into `cur` or is moved into `tmp`.
  const Value* follow_path(const Value* cur, const Term& t, std::size_t i, Value& tmp) {
    bool owned = cur == &tmp;
    const TermP* it = t.items.data() + i;
    const TermP* end = t.items.data() + t.items.size();
    for (; cur && it != end; ++it) {
      const Term& e = **it;
      if (e.kind == TermKind::Scalar) {
        cur = lookup_const(*cur, e);
      } else {
        Value ktmp;
        const Value* key = eval_one(e, ktmp);
        cur = key ? lookup(*cur, *key) : nullptr;
      }
    }
    if (cur && owned && cur != &tmp) {
      Value r = *cur;  // `cur` lives inside `tmp`: copy out before overwriting it
      tmp = std::move(r);
      cur = &tmp;
    }
    return cur;
  }

  bool eval_term(const Term& t, VCont k) {
    switch (t.kind) {
      case TermKind::Scalar: return k(t.value);
      case TermKind::Var:
        if (t.slot >= 0) {
          const Value& v = frame()[static_cast<std::size_t>(t.slot)];
          if (v.is_undefined()) return false;
          return k(v);
        }
        if (t.slot == kInputSlot) {
          if (ov_.input.is_undefined()) return false;
          return k(ov_.input);
        }
        if (t.slot == kDataSlot) {
          Value d = materialize(P.root.get(), &ov_.base);
          return k(d);
        }
        return false;
      case TermKind::Ref: return eval_ref(t, k);
      case TermKind::Array:
      case TermKind::Set:
      case TermKind::Object: {
        std::vector<Value> buf(t.items.size());
        return eval_items(t, buf, 0, k);
      }
      case TermKind::Call: return eval_call(t, k);
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr: {
        Value v = memo_compr(t);
        return k(v);
      }
    }
    return false;
  }

  bool eval_items(const Term& t, std::vector<Value>& buf, std::size_t i, VCont k) {
    if (i == t.items.size()) {
      Value v;
      if (t.kind == TermKind::Array) {
        v = Value::array(buf);
      } else if (t.kind == TermKind::Set) {
        v = Value::set(buf);
      } else {
        std::vector<std::pair<Value, Value>> entries;
        for (std::size_t j = 0; j + 1 < buf.size(); j += 2) {
          for (const auto& [ek, ev] : entries) {
            if (ek == buf[j] && ev != buf[j + 1]) raise("eval_conflict_error", "object keys must be unique", t.loc);
          }
          entries.emplace_back(buf[j], buf[j + 1]);
        }
        v = Value::object(std::move(entries));
      }
      return k(v);
    }
    return eval_term(*t.items[i], [&](const Value& v) {
      buf[i] = v;
      return eval_items(t, buf, i + 1, k);
    });
  }

  // A comprehension whose value depends on nothing but a few enclosing locals (Body::memo_id;
  // Kata's match_caps builds `{strip_cap_prefix(c) | c := caps[_]}` on the same capability lists
  // several times per request, and on the policy's default list once per list): remembered for all
  // evaluations when those locals are base data (or there are none), else for this one by their
  // values (equal values are interchangeable: 1 and 1.0, 6 / 2 and 3 print alike). Only while no
  // `with` replaces a rule, a function or a builtin (one that replaces base data changes nothing
  // such a comprehension reads); errors are not remembered, and a remembered value counts no steps.
  Value memo_compr(const Term& t) {
    const Body& b = *t.body;
    if (!b.memo_id || !ov_.node_over.empty() || !ov_.func_mocks.empty() || !ov_.builtin_mocks.empty())
      return eval_compr(t);
    const Value* vars[Body::kMaxOuter];
    for (std::size_t i = 0; i < b.nouter; ++i) {
      vars[i] = &frame()[static_cast<std::size_t>(b.outer[i])];
      if (vars[i]->is_undefined()) return eval_compr(t);  // (not expected: the compiler orders them first)
    }
    auto compute = [&] { return eval_compr(t); };
    auto base = [&](std::size_t i) { return policy_node(vars[i]->node_id()); };
    if (b.nouter == 0 || (b.nouter == 1 && base(0)) || (b.nouter == 2 && base(0) && base(1))) {
      static const Value kNone;
      const Value& va = b.nouter > 0 ? *vars[0] : kNone;
      const Value& vb = b.nouter > 1 ? *vars[1] : va;
      if (const Value* r = shared_assignment(b.memo_id, va, vb, compute)) return *r;
    }
    std::size_t h = std::hash<const void*>{}(&t);
    for (std::size_t i = 0; i < b.nouter; ++i) h = (h ^ hash_value(*vars[i])) * 0x100000001b3ULL;
    auto [lo, hi] = compr_memo_.equal_range(h);
    for (auto it = lo; it != hi; ++it) {
      const ComprMemo& m = it->second;
      bool same = m.term == &t;
      for (std::size_t i = 0; same && i < b.nouter; ++i) same = m.vars[i] == *vars[i];
      if (same) return m.result;
    }
    ComprMemo m{&t, {}, compute()};
    for (std::size_t i = 0; i < b.nouter; ++i) m.vars[i] = *vars[i];
    return compr_memo_.emplace(h, std::move(m))->second.result;
  }
  struct ComprMemo {
    const Term* term;
    Value vars[Body::kMaxOuter];
    Value result;
  };
  Value eval_compr(const Term& t) {
    if (t.kind == TermKind::ObjectCompr) {
      std::map<Value, Value, ValueLess> out;
      eval_body(*t.body, 0, [&] {
        eval_term(*t.head, [&](const Value& key) {
          return eval_term(*t.head2, [&](const Value& val) {
            auto [it, inserted] = out.emplace(key, val);
            if (!inserted && it->second != val) raise("eval_conflict_error", "object keys must be unique", t.loc);
            return false;
          });
        });
        return false;
      });
      std::vector<std::pair<Value, Value>> entries(out.begin(), out.end());
      return Value::object(std::move(entries));
    }
    std::vector<Value> out;
    eval_body(*t.body, 0, [&] {
      eval_term(*t.head, [&](const Value& v) {
        out.push_back(v);
        if (out.size() > O.limits.max_collection) raise("eval_limit_error", "collection size limit exceeded", t.loc);
        return false;
      });
      return false;
    });
    return t.kind == TermKind::ArrayCompr ? Value::array(std::move(out)) : Value::set(std::move(out));
  }

  // ---------------------------------------------------------------- references

  bool eval_ref(const Term& t, VCont k) {
    const Term& h = *t.items[0];
    if (h.kind == TermKind::Var) {
      if (h.slot >= 0) {
        const Value& v = frame()[static_cast<std::size_t>(h.slot)];
        if (v.is_undefined()) return false;
        return walk_value(v, t, 1, k);
      }
      if (h.slot == kInputSlot) {
        if (ov_.input.is_undefined()) return false;
        Value in = ov_.input;
        return walk_value(in, t, 1, k);
      }
      if (h.slot == kDataSlot) {
        if (t.folded && ov_.node_over.empty()) return k(*t.folded);
        Value base = ov_.base;
        return walk_data(P.root.get(), &base, t, 1, k);
      }
      return false;
    }
    return eval_term(h, [&](const Value& v) { return walk_value(v, t, 1, k); });
  }

  bool walk_value(const Value& v, const Term& t, std::size_t i, VCont k) {
    if (i == t.items.size()) return k(v);
    const Term& e = *t.items[i];
    if (e.kind == TermKind::Scalar) {
      const Value* child = lookup_const(v, e);
      if (!child) return false;
      return walk_value(*child, t, i + 1, k);
    }
    if (unbound_var(e)) {
      return for_each_member(v, [&](const Value& key, const Value& val) {
        return bind(e.slot, key, [&] { return walk_value(val, t, i + 1, k); });
      });
    }
    if (has_unbound(e)) {
      return for_each_member(v, [&](const Value& key, const Value& val) {
        return unify_value(e, key, [&] { return walk_value(val, t, i + 1, k); });
      });
    }
    if (!e.multi) {
      Value tmp;
      const Value* key = eval_one(e, tmp);
      const Value* child = key ? lookup(v, *key) : nullptr;
      return child && walk_value(*child, t, i + 1, k);
    }
    return eval_term(e, [&](const Value& key) {
      const Value* child = lookup(v, key);
      if (!child) return false;
      return walk_value(*child, t, i + 1, k);
    });
  }

  bool walk_data(const DataNode* n, const Value* base, const Term& t, std::size_t i, VCont k) {
    if (n && !ov_.node_over.empty()) {
      auto it = ov_.node_over.find(n);
      if (it != ov_.node_over.end()) {
        Value v = it->second;
        return walk_value(v, t, i, k);
      }
    }
    if (!n) {
      if (!base || base->is_undefined()) return false;
      return walk_value(*base, t, i, k);
    }
    if (n->has_rules()) {
      if (n->is_function) return false;
      // A base document at a rule's path shadows the rule, as in OPA's evaluation.
      if (base && base->is_defined()) return walk_value(*base, t, i, k);
      Value v = rule_value(n, t.loc);
      if (v.is_undefined()) return false;
      return walk_value(v, t, i, k);
    }
    if (i == t.items.size()) {
      Value m = materialize(n, base);
      return k(m);
    }
    const Term& e = *t.items[i];
    auto step = [&](const Value& key) {
      auto it = n->children.find(key);
      const DataNode* child = it == n->children.end() ? nullptr : it->second.get();
      const Value* cb = (base && base->is_object()) ? base->get(key) : nullptr;
      if (!child && !cb) return false;
      return walk_data(child, cb, t, i + 1, k);
    };
    if (unbound_var(e)) {
      std::vector<Value> keys;
      for (const auto& [key, c] : n->children) keys.push_back(key);
      if (base && base->is_object()) {
        for (const auto& [key, val] : base->object_entries())
          if (!n->children.count(key)) keys.push_back(key);
      }
      for (const auto& key : keys) {
        if (bind(e.slot, key, [&] { return step(key); })) return true;
      }
      return false;
    }
    return eval_term(e, [&](const Value& key) { return step(key); });
  }

  Value materialize(const DataNode* n, const Value* base) {
    if (!ov_.node_over.empty()) {
      auto it = ov_.node_over.find(n);
      if (it != ov_.node_over.end()) return it->second;
    }
    if (n->has_rules()) {
      if (base && base->is_defined() && !n->is_function) return *base;
      return n->is_function ? Value() : rule_value(n, Loc{});
    }
    std::vector<std::pair<Value, Value>> entries;
    for (const auto& [key, c] : n->children) {
      const Value* cb = (base && base->is_object()) ? base->get(key) : nullptr;
      Value v = materialize(c.get(), cb);
      if (v.is_defined()) entries.emplace_back(key, std::move(v));
    }
    if (base && base->is_object()) {
      for (const auto& [key, val] : base->object_entries())
        if (!n->children.count(key)) entries.emplace_back(key, val);
    } else if (base && base->is_defined() && entries.empty()) {
      return *base;
    }
    return Value::object(std::move(entries));
  }

  // ---------------------------------------------------------------- rules

  Value rule_value(const DataNode* n, const Loc& loc) {
    CacheEntry* ce = &ov_.cache[n->id];
    if (ce->state == 2) return ce->v;
    if (ce->state == 1) [[unlikely]] {
      // The compiler rejects every cycle it can see; this one went through a reference it could
      // not follow. Named at the rule when the caller has no location (a walk of `data`).
      const Loc& at = loc.line || !n->has_rules() ? loc : n->first_loc();
      raise("rego_recursion_error", "rule " + path_string(n->path) + " is recursive", at);
    }
    ce->state = 1;
    Value v;
    try {
      v = compute_rule(n);
    } catch (...) {
      ov_.cache[n->id].state = 0;
      throw;
    }
    ce = &ov_.cache[n->id];  // `with` may have swapped the overlay meanwhile
    ce->state = 2;
    ce->v = v;
    return v;
  }

  struct BNode {
    std::map<Value, BNode, ValueLess> kids;
    Value leaf;
    bool is_set = false;
    std::vector<Value> set;
    Value to_value() const {
      if (leaf.is_defined()) return leaf;
      if (is_set) return Value::set(set);
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& [k, c] : kids) entries.emplace_back(k, c.to_value());
      return Value::object(std::move(entries));
    }
  };

  // Runs the rule (then its else chain while nothing matched) and calls `out` with the frame of
  // the matching body still bound.
  void run_rule(const Rule& r, Cont out) {
    run_rule_tracking(r, [&](const Rule&) { return out(); });
  }

  Value value_of(const Term* t) {
    if (!t) return Value::boolean(true);
    Value v;
    eval_term(*t, [&](const Value& x) {
      v = x;
      return true;
    });
    return v;
  }

  // A deeper rule's document joins the object built from ref-head rules: it may fill in keys of
  // that object's structure and add to a set leaf, but never reach inside another rule's value
  // (OPA reports that as a conflict).
  void merge_into(BNode& b, const Value& v, const Loc& loc) {
    if (b.leaf.is_undefined() && !b.is_set && b.kids.empty()) {
      b.leaf = v;
      return;
    }
    if (b.leaf.is_defined()) {
      if (b.leaf != v) raise("eval_conflict_error", "object keys must be unique", loc);
      return;
    }
    if (b.is_set && v.is_set()) {
      b.set.insert(b.set.end(), v.set_items().begin(), v.set_items().end());
      return;
    }
    if (!b.is_set && v.is_object()) {
      for (const auto& [k, x] : v.object_entries()) merge_into(b.kids[k], x, loc);
      return;
    }
    raise("eval_conflict_error", "object keys must be unique", loc);
  }

  bool each_value(const Term* t, VCont k) {
    if (!t) return k(Value::boolean(true));
    return eval_term(*t, k);
  }

  bool eval_keys(const Rule& r, std::size_t i, std::vector<Value>& keys, Cont k) {
    if (i == r.suffix.size()) return k();
    return eval_term(*r.suffix[i], [&](const Value& v) {
      keys[i] = v;
      return eval_keys(r, i + 1, keys, k);
    });
  }

  Value compute_rule(const DataNode* n) {
    bool multi = false, object = false;
    for (const auto& r : n->rules) {
      if (!r->suffix.empty()) object = true;
      else if (r->kind == RuleKind::MultiValue) multi = true;
    }
    if (object) {
      BNode root;
      for (const auto& r : n->rules) {
        run_rule_tracking(*r, [&](const Rule& which) {
          std::vector<Value> keys(r->suffix.size());
          return eval_keys(*r, 0, keys, [&] {
            BNode* cur = &root;
            for (std::size_t i = 0; i < keys.size(); ++i) {
              if (cur->leaf.is_defined()) raise("eval_conflict_error", "object keys must be unique", r->loc);
              cur = &cur->kids[keys[i]];
            }
            if (r->kind == RuleKind::MultiValue) {
              return each_value(which.key ? which.key.get() : r->key.get(), [&](const Value& el) {
                cur->is_set = true;
                cur->set.push_back(el);
                return false;
              });
            }
            return each_value(which.value.get(), [&](const Value& v) {
              if (!cur->kids.empty() || cur->is_set) raise("eval_conflict_error", "object keys must be unique", r->loc);
              if (cur->leaf.is_defined() && cur->leaf != v) {
                raise("eval_conflict_error", "object keys must be unique", r->loc);
              }
              cur->leaf = v;
              return false;
            });
          });
        });
      }
      // Rules at deeper ground paths (p.q.r := 1 next to p.q[x] := 2) add to the same object.
      for (const auto& [key, child] : n->children) {
        Value cv = materialize(child.get(), nullptr);
        if (cv.is_undefined()) continue;
        merge_into(root.kids[key], cv, n->rules[0]->loc);
      }
      if (root.kids.empty() && n->default_rule) return value_of_default(*n->default_rule);
      return root.to_value();
    }
    if (multi) {
      std::vector<Value> items;
      for (const auto& r : n->rules) {
        run_rule(*r, [&] {
          return each_value(r->key.get(), [&](const Value& el) {
            items.push_back(el);
            return false;
          });
        });
      }
      return Value::set(std::move(items));
    }
    Value result;
    for (const auto& r : n->rules) {
      run_rule_tracking(*r, [&](const Rule& which) {
        return each_value(which.value.get(), [&](const Value& v) {
          if (result.is_defined() && result != v) {
            raise("eval_conflict_error", "complete rules must not produce multiple outputs", r->loc);
          }
          result = v;
          return n->early_exit;
        });
      });
      if (n->early_exit && result.is_defined()) break;
    }
    if (result.is_undefined() && n->default_rule) return value_of_default(*n->default_rule);
    return result;
  }

  Value value_of_default(const Rule& d) {
    FrameLease fr_lease(*this, d.nslots);
    Value* fr = fr_lease.v;
    Value* saved = frame_;
    frame_ = fr;
    Value v = value_of(d.value.get());
    frame_ = saved;
    return v;
  }

  // Whether rule `x`'s value is defined in the current frame, once its body holds. Asked only in
  // else chains, where a body with an undefined value has not matched.
  bool value_defined(const Rule& x) {
    if (!x.value || !may_be_undefined(*x.value)) return true;
    bool defined = false;
    each_value(x.value.get(), [&](const Value&) { return defined = true; });
    return defined;
  }

  // Whether a head value can be undefined once its body holds: it reads a reference or calls
  // something (variables are bound by then; comprehensions always have a value).
  static bool may_be_undefined(const Term& t) {
    switch (t.kind) {
      case TermKind::Ref:
      case TermKind::Call: return true;
      case TermKind::Array:
      case TermKind::Object:
      case TermKind::Set:
        for (const auto& i : t.items)
          if (i && may_be_undefined(*i)) return true;
        return false;
      default: return false;
    }
  }

  // Like run_rule, but tells the callback which rule of the else chain matched.
  void run_rule_tracking(const Rule& r, FnRef<bool(const Rule&)> out) {
    DepthGuard g(*this, r.loc);
    FrameLease fr_lease(*this, r.nslots);
    Value* fr = fr_lease.v;
    Value* saved = frame_;
    frame_ = fr;
    bool any = false;
    // With an else chain, a body whose value is undefined (`x := data.y if { true } else := 2`)
    // has not matched: OPA moves references in head values into the body, so the value's
    // definedness is part of the body and the else applies.
    try {
      eval_body(*r.body, 0, [&] {
        if (!r.elses.empty() && !value_defined(r)) return false;
        any = true;
        return out(r);
      });
      for (std::size_t i = 0; !any && i < r.elses.size(); ++i) {
        const Rule& e = *r.elses[i];
        FrameLease efr_lease(*this, e.nslots);
        Value* efr = efr_lease.v;
        frame_ = efr;
        eval_body(*e.body, 0, [&] {
          if (!value_defined(e)) return false;
          any = true;
          return out(e);
        });
        frame_ = fr;
      }
    } catch (...) {
      frame_ = saved;
      throw;
    }
    frame_ = saved;
  }

  // ---------------------------------------------------------------- calls

  bool eval_call(const Term& t, VCont k) {
    check_stack(t.loc);  // nested operator calls recurse natively
    if (t.op == CallOp::Print) return eval_print(t, k);
    if (t.op == CallOp::Template) return eval_template(t, k);
    if (t.op != CallOp::Walk && single_valued(t)) {
      Value tmp;
      const Value* v = eval_one(t, tmp);
      return v && k(*v);
    }
    std::size_t n = t.items.size();
    if (n <= 4) {
      Value buf[4];
      return eval_args(t, std::span<Value>(buf, n), 0, k);
    }
    std::vector<Value> args(n);
    return eval_args(t, std::span<Value>(args), 0, k);
  }

  bool eval_args(const Term& t, std::span<Value> args, std::size_t i, VCont k) {
    if (i == t.items.size()) return dispatch(t, args, k);
    return eval_term(*t.items[i], [&](const Value& v) {
      args[i] = v;
      return eval_args(t, args, i + 1, k);
    });
  }

  // Template strings: each part's first value; strings verbatim, other values as Rego text.
  bool eval_template(const Term& t, VCont k) {
    std::string out;
    for (const auto& part : t.items) {
      Value v;
      if (part->kind == TermKind::ArrayCompr && part->name == "$template") {
        eval_body(*part->body, 0, [&] {
          return eval_term(*part->head, [&](const Value& x) {
            v = x;
            return true;
          });
        });
      } else {
        eval_term(*part, [&](const Value& x) {
          v = x;
          return true;
        });
      }
      if (v.is_undefined()) out += "<undefined>";
      else if (v.is_string()) out += v.as_string();
      else out += to_rego_string(v);
    }
    return k(Value::string(std::move(out)));
  }

  bool eval_print(const Term& t, VCont k) {
    std::string line;
    for (std::size_t i = 0; i < t.items.size(); ++i) {
      if (i) line.push_back(' ');
      Value v;
      try {
        eval_term(*t.items[i], [&](const Value& x) {
          v = x;
          return true;
        });
      } catch (const RegoFailure&) {
        v = Value();
      }
      if (v.is_undefined()) line += "<undefined>";
      else if (v.is_string()) line += v.as_string();
      else line += to_rego_string(v);
    }
    prints_.push_back(std::move(line));
    return k(Value::boolean(true));
  }

  bool walk_all(const Value& v, std::vector<Value>& path, VCont k) {
    if (k(Value::array({Value::array(path), v}))) return true;
    return for_each_member(v, [&](const Value& key, const Value& val) {
      path.push_back(key);
      bool r = walk_all(val, path, k);
      path.pop_back();
      return r;
    });
  }

  bool apply_mock(const Mock& m, const Term& t, std::span<const Value> args, Value& out) {
    if (m.is_value) {
      out = m.value;
      return true;
    }
    // A replacement runs with the original functions: it may call what it replaces, and mocks
    // do not chain (OPA semantics).
    // (Calls made without the mocks have a function cache of their own, so their results do
    // not answer calls made with them.)
    auto fm = std::move(ov_.func_mocks);
    auto bm = std::move(ov_.builtin_mocks);
    auto fc = std::move(ov_.fn_cache);
    ov_.func_mocks.clear();
    ov_.builtin_mocks.clear();
    ov_.fn_cache.clear();
    Value r;
    try {
      if (m.func) {
        r = function_result(m.func, args);
      } else {
        call_builtin(m.builtin, t, args, r);
      }
    } catch (...) {
      ov_.func_mocks = std::move(fm);
      ov_.builtin_mocks = std::move(bm);
      ov_.fn_cache = std::move(fc);
      throw;
    }
    ov_.func_mocks = std::move(fm);
    ov_.builtin_mocks = std::move(bm);
    ov_.fn_cache = std::move(fc);
    if (r.is_undefined()) return false;
    out = std::move(r);
    return true;
  }

  bool dispatch(const Term& t, std::span<const Value> args, VCont k) {
    if (!t.func && t.op == CallOp::Walk) {
      std::vector<Value> path;
      return walk_all(args[0], path, k);
    }
    Value r;
    if (!call_one(t, args, r)) return false;
    return k(r);
  }

  // A function or builtin call (not walk): its one value in `out`, or false when undefined.
  bool call_one(const Term& t, std::span<const Value> args, Value& out) {
    if (t.func) {
      if (!ov_.func_mocks.empty()) {
        auto it = ov_.func_mocks.find(t.func);
        if (it != ov_.func_mocks.end()) return apply_mock(it->second, t, args, out);
      }
      out = function_result(t.func, args);
      return out.is_defined();
    }
    if (!ov_.builtin_mocks.empty()) {
      auto it = ov_.builtin_mocks.find(t.builtin);
      if (it != ov_.builtin_mocks.end()) return apply_mock(it->second, t, args, out);
    }
    return call_builtin(t.builtin, t, args, out);
  }

  bool call_builtin(const builtins::BuiltinDef* b, const Term& t, std::span<const Value> args, Value& out) {
    if (!b || !b->fn) return false;
    if (b->arity >= 0 && static_cast<std::size_t>(b->arity) != args.size()) {
      raise("eval_type_error", std::string(b->name) + ": arity mismatch", t.loc);
    }
    bctx_.name = b->name;
    auto r = b->fn(bctx_, args);
    // A non-deterministic builtin may have waited (test.sleep): the deadline is checked now, not
    // up to 1,024 steps later.
    if (!b->deterministic && has_deadline_) check_limits(t.loc);
    if (!r) {
      if (O.strict_builtin_errors) raise(r.error().code, r.error().message, t.loc);
      return false;  // non-strict: a failing builtin makes the expression undefined, as in OPA
    }
    if (r->is_undefined()) return false;
    out = std::move(*r);
    return true;
  }

  // The rules of function `n` that can match `args`, in source order (first-argument index).
  // `first` is the first argument (nullptr for none).
  template <typename F>
  void for_candidate_rules(const DataNode* n, const Value* first, F&& f) {
    if (!n->indexed || !first) {
      for (const auto& r : n->rules)
        if (f(r)) return;
      return;
    }
    static const std::vector<std::size_t> kNone;
    auto it = n->by_first.find(*first);
    const auto& hits = it == n->by_first.end() ? kNone : it->second;
    std::size_t a = 0, b = 0;
    while (a < hits.size() || b < n->any_first.size()) {
      std::size_t idx;
      if (b >= n->any_first.size() || (a < hits.size() && hits[a] < n->any_first[b])) idx = hits[a++];
      else idx = n->any_first[b++];
      if (f(n->rules[idx])) return;
    }
  }

  // Makes `f` the current frame for a scope.
  struct FrameSwap {
    Evaluator& e;
    Value* saved;
    FrameSwap(Evaluator& ev, Value* f) : e(ev), saved(ev.frame_) { ev.frame_ = f; }
    ~FrameSwap() { e.frame_ = saved; }
    FrameSwap(const FrameSwap&) = delete;
    FrameSwap& operator=(const FrameSwap&) = delete;
  };

  // Plain functions (DataNode::plain_function, classified by the compiler): a body then needs
  // only its first solution, so each candidate rule binds its arguments into a fresh frame and
  // runs its body in a loop, without the continuation chain of the general path.
  // The arguments are borrowed: they stay put in the caller for the whole call.
  Value plain_function_result(const DataNode* n, std::span<const Value* const> args) {
    if (n->cfunc && ov_.builtin_mocks.empty() && (!n->compiled_calls || ov_.func_mocks.empty()) &&
        data_ok(n->compiled_data_mask)) {
      if (const Value* v = compiled_function_result(*n->cfunc, args)) return *v;
      return n->default_rule ? value_of_default(*n->default_rule) : Value();
    }
    Value result;
    for_candidate_rules(n, args.empty() ? nullptr : args[0], [&](const std::shared_ptr<Rule>& rp) {
      const Rule& r = *rp;
      const bool compiled = r.compiled && ov_.builtin_mocks.empty() && (!r.calls || ov_.func_mocks.empty()) &&
                            data_ok(r.data_mask);
      if (compiled) {
        const Value* regs[TestExpr::kMaxRegs];
        copy_regs(args, regs);
        LazyDepth depth(*this);
        if (!run_compiled_rule(r, r.tests, r.ntests, r.const_params, r.loc, args, regs, depth)) return false;
      } else if (!run_plain_rule(r, args)) {
        return false;
      }
      const Value& v = r.value ? r.value->value : kTrueValue;
      if (result.is_undefined()) {
        result = v;
      } else if (result != v) {
        raise("eval_conflict_error", "functions must not produce multiple outputs for same inputs", r.loc);
      }
      return n->early_exit;
    });
    if (result.is_undefined() && n->default_rule) result = value_of_default(*n->default_rule);
    return result;
  }

  // plain_function_result for a function whose rules are all compiled, in one loop over its call
  // block (DataNode::cfunc): the same rules in the same order, with the same results, steps, depth
  // and errors. (A loop of its own, not the lambda above with the checks hoisted: folding the two
  // cost 3–6 % per decision.) The value is a rule's constant (or nullptr: undefined); the default
  // rule is the caller's.
  const Value* compiled_function_result(const CompiledFunc& f, std::span<const Value* const> args) {
    const Value* regs[TestExpr::kMaxRegs];
    copy_regs(args, regs);  // loops bind the registers after the arguments
    return run_block(f, regs, args.size());
  }

  // The rules of a call block on `regs`, whose first `nargs` hold the arguments (rules bind the
  // registers after those, never the arguments themselves).
  [[gnu::always_inline]] const Value* run_block(const CompiledFunc& f, const Value** regs, std::size_t nargs) {
    const std::span<const Value* const> args(regs, nargs);
    if (f.plain) [[likely]]
      return run_plain_block(f, regs, args);
    const Value* result = nullptr;
    // Every rule runs one call level down. The level is entered once, where the general path's
    // first rule would enter it (the first whose constant parameters match), and left once.
    LazyDepth depth(*this);
    const CompiledRule* r = f.rules();
    for (const CompiledRule* end = r + f.nrules; r != end; ++r) {
      // (The rule's location is only read for an error: its cache line is not touched otherwise.)
      if (r->general) [[unlikely]] {
        if (!run_general_rule(*r->rule, args, depth, kRunGuards)) continue;
      } else if (!run_compiled_rule(*r->rule, r->tests, r->ntests, r->const_params, r->rule->loc, args, regs, depth)) {
        continue;
      }
      const Value& v = r->value ? *r->value : kTrueValue;
      if (!result) {
        result = &v;
      } else if (*result != v) {
        raise("eval_conflict_error", "functions must not produce multiple outputs for same inputs", r->rule->loc);
      }
      if (f.early_exit) break;
    }
    return result;
  }

  // run_block for a CompiledFunc::plain block: the first rule enters the call level (nothing can
  // stop it before), and the first rule that holds gives the value (all give the same one).
  [[gnu::always_inline]] const Value* run_plain_block(const CompiledFunc& f, const Value** regs,
                                                      std::span<const Value* const> args) {
    const CompiledRule* r = f.rules();
    const CompiledRule* const end = r + f.nrules;
    if (++depth_ > O.limits.max_call_depth) [[unlikely]] {
      --depth_;
      raise("eval_limit_error", "call depth limit exceeded", r->rule->loc);
    }
    struct Leave {
      std::size_t& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    for (; r != end; ++r) {
      int got = run_body(r->tests, r->ntests, regs);  // (a general rule's guards: 1 when it has none)
      if (r->general) [[unlikely]] {
        if (got < 0) continue;
        // (0: a guard could not be told here; the general evaluator runs the whole body.)
        got = run_plain_rule_outside(*r->rule, args, got > 0 ? r->ntests : 0) ? 1 : -1;
      } else if (got == 0) [[unlikely]] {
        got = run_plain_rule_outside(*r->rule, args, 0) ? 1 : -1;
      }
      if (got > 0) return r->value ? r->value : &kTrueValue;
    }
    return nullptr;
  }
  // run_plain_rule from inside a call level it enters itself (see run_compiled_rule).
  __attribute__((noinline)) bool run_plain_rule_outside(const Rule& r, std::span<const Value* const> args,
                                                        std::size_t start) {
    --depth_;
    struct Reenter {
      std::size_t& depth;
      ~Reenter() { ++depth; }
    } reenter{depth_};
    return run_plain_rule(r, args, start);
  }

  // (Unrolled: a loop or std::copy becomes a memmove call, which costs more than the two or three
  // pointers it copies. Compiled rules have at most kMaxParams parameters.)
  static void copy_regs(std::span<const Value* const> args, const Value** regs) {
    static_assert(TestExpr::kMaxParams == 8);
    switch (args.size()) {
      case 8: regs[7] = args[7]; [[fallthrough]];
      case 7: regs[6] = args[6]; [[fallthrough]];
      case 6: regs[5] = args[5]; [[fallthrough]];
      case 5: regs[4] = args[4]; [[fallthrough]];
      case 4: regs[3] = args[3]; [[fallthrough]];
      case 3: regs[2] = args[2]; [[fallthrough]];
      case 2: regs[1] = args[1]; [[fallthrough]];
      case 1: regs[0] = args[0]; [[fallthrough]];
      default: break;
    }
  }

  // A call level entered on first use (see run_block).
  struct LazyDepth {
    Evaluator& e;
    bool in = false;
    explicit LazyDepth(Evaluator& ev) : e(ev) {}
    void enter(const Loc& loc) {
      if (in) return;
      if (++e.depth_ > e.O.limits.max_call_depth) e.raise("eval_limit_error", "call depth limit exceeded", loc);
      in = true;
    }
    ~LazyDepth() {
      if (in) --e.depth_;
    }
    LazyDepth(const LazyDepth&) = delete;
    LazyDepth& operator=(const LazyDepth&) = delete;
  };

  // Whether one compiled rule of a plain function (Rule::tests) succeeds on the borrowed
  // arguments, held in `regs` (loops bind the registers after them), one call level down. A
  // leading `some` over a large collection hands the rule to the general evaluator.
  // (`r` is read only for constant parameters and the fall-back: a call block holds the rest.)
  bool run_compiled_rule(const Rule& r, const TestExpr* tests, std::uint32_t ntests, bool const_params, const Loc& loc,
                         std::span<const Value* const> args, const Value** regs, LazyDepth& depth) {
    if (const_params) {
      for (std::size_t i = 0; i < args.size(); ++i) {
        const Term& p = *r.args[i];
        if (p.kind == TermKind::Scalar && p.value != *args[i]) return false;
      }
    }
    depth.enter(loc);
    const int got = run_tests(tests, tests + ntests, regs);
    if (got != 0) return got > 0;
    return run_general_rule(r, args, depth, 0);
  }

  // A rule the general evaluator runs from a call block (CompiledRule::general, or a compiled rule
  // falling back): it enters the call level itself, so a level entered for this or an earlier rule
  // is left first (a later compiled rule enters it again).
  __attribute__((noinline)) bool run_general_rule(const Rule& r, std::span<const Value* const> args, LazyDepth& depth,
                                                  std::size_t start) {
    if (depth.in) {
      --depth_;
      depth.in = false;
    }
    return run_plain_rule(r, args, start);
  }

  // run_plain_rule's `start` when the rule is to run its guards (Rule::guards) itself.
  static constexpr std::size_t kRunGuards = ~std::size_t{0};

  // One rule of a plain function, in general: binds the arguments into a fresh frame and runs
  // the body to its first solution, from expression `start` (the ones before it, guards, hold),
  // or with kRunGuards from the guards on.
  bool run_plain_rule(const Rule& r, std::span<const Value* const> args, std::size_t start = kRunGuards) {
    DepthGuard g(*this, r.loc);
    if (start == kRunGuards) {
      start = 0;
      if (r.nguards) {
        const int got = run_guards(r, args.data());
        if (got < 0) return false;
        if (got > 0) start = r.nguards;
      }
    }
    FrameLease fr(*this, r.nslots);
    FrameSwap swap(*this, fr.v);
    Value* f = fr.v;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const Term& p = *r.args[i];
      if (p.kind == TermKind::Scalar) {
        if (p.value != *args[i]) return false;
        continue;
      }
      Value& cur = f[static_cast<std::size_t>(p.slot)];
      if (cur.is_undefined()) cur = *args[i];
      else if (cur != *args[i]) return false;  // f(x, x): the arguments must agree
    }
    return eval_body(*r.body, start, [] { return true; });
  }

  // The guards of rule `r` (Rule::guards) on its borrowed arguments, before the rule binds a frame,
  // with the steps, results and errors the general evaluator has for the same expressions: -1 the
  // rule fails (a constant parameter or a guard does not match), 1 all hold (the body goes on after
  // them), 0 they did not run (a mock or a `with` on data they read: the body runs whole).
  int run_guards(const Rule& r, const Value* const* args) {
    if (!ov_.builtin_mocks.empty() || (r.guard_calls && !ov_.func_mocks.empty()) || !data_ok(r.guard_data_mask))
      return 0;
    const std::span<const Value* const> params(args, r.args.size());
    if (r.const_params) {
      for (std::size_t i = 0; i < params.size(); ++i) {
        const Term& p = *r.args[i];
        if (p.kind == TermKind::Scalar && p.value != *params[i]) return -1;
      }
    }
    const Value* regs[TestExpr::kMaxRegs];
    copy_regs(params, regs);
    return run_tests(r.guards, r.guards + r.nguards, regs);
  }

  // The value of a compiled test operand (see Operand), or nullptr when undefined. A local that
  // is not bound sets `unbound`: the expression is then not a plain test, and goes the general way.
  // Registers with a path and constants (nearly all operands of compiled rules) are answered
  // inline; the other kinds out of line.
  [[gnu::always_inline]] const Value* operand(const Operand& o, const Value* const* args, bool& unbound) {
    const Value* cur;
    if (o.kind == Operand::Kind::Arg) [[likely]] {
      cur = args[o.arg];
    } else if (o.kind == Operand::Kind::Local) {
      cur = &frame_[o.slot];
      if (cur->is_undefined()) [[unlikely]] {
        unbound = true;
        return nullptr;
      }
    } else if (o.kind == Operand::Kind::Const) {
      return o.value;
    } else {
      return operand_other(o, unbound);
    }
    return o.path ? follow_keys(cur, *o.path) : cur;
  }

  __attribute__((noinline)) const Value* operand_other(const Operand& o, bool& unbound) {
    const Value* cur;
    switch (o.kind) {
      case Operand::Kind::Data:
        if (!data_ok(std::uint64_t{1} << o.arg)) {
          unbound = true;  // `with` replaced data: the general path reads the replacement
          return nullptr;
        }
        return o.value;
      case Operand::Kind::Input:
        cur = &ov_.input;
        if (cur->is_undefined()) return nullptr;
        break;
      default: return nullptr;  // Arg, Local, Const: answered by operand
    }
    return o.path ? follow_keys(cur, *o.path) : cur;
  }

  // One compiled test on `args` (Rule::tests) or the frame (Expr::test), with the evaluator's
  // steps, results and errors for the same expression: 1 holds, -1 fails, 0 an operand's local is
  // unbound (nothing was counted or called; the caller takes the general path).
  [[gnu::always_inline]] int run_test(const TestExpr& x, const Value* const* args) {
    bool unbound = false;
    bool holds;
    if (x.op == TestOp::Compare) {
      const Value* a = operand(x.ops[0], args, unbound);
      const Value* b = operand(x.ops[1], args, unbound);
      if (unbound) return 0;
      count_step(x.loc);
      holds = a && b && compare_op(x.cmp, *a, *b);
    } else if (x.op == TestOp::Truthy) {
      const Value* v = operand(x.ops[0], args, unbound);
      if (unbound) return 0;
      count_step(x.loc);
      holds = v && !v->is_false();
    } else if (x.op == TestOp::Call && x.cfunc && (ov_.pristine || block_ok(*x.cfunc))) {
      return run_block_call(x, args);
    } else {
      return run_call_test(x, args);
    }
    return holds != x.negated ? 1 : -1;
  }

  // run_test for builtin calls, computed tests and calls of functions without a call block (those
  // with one go to run_block_call), out of line: their argument arrays and calls would make every
  // test pay for a larger frame.
  __attribute__((noinline)) int run_call_test(const TestExpr& x, const Value* const* args) {
    if (x.op == TestOp::Computed) return run_computed_test(x, args);
    if (x.op != TestOp::Builtin && x.op != TestOp::Call) return 0;  // loops: run_tests
    bool unbound = false;
    const Value* in[TestExpr::kMaxArgs] = {};
    const bool defined = call_operands(x, args, in, unbound);
    if (unbound || (x.op == TestOp::Call && !ov_.func_mocks.empty())) return 0;
    count_step(x.loc);
    const bool holds = defined && (x.op == TestOp::Builtin ? builtin_test(x, in) : call_test(x, in));
    return holds != x.negated ? 1 : -1;
  }

  // A call test of a function with a call block (TestExpr::cfunc), as run_call_test and call_test
  // run it, in one frame: the operands go straight into the callee's registers.
  __attribute__((noinline)) int run_block_call(const TestExpr& x, const Value* const* args) {
    const Value* regs[TestExpr::kMaxRegs];
    bool unbound = false;
    bool defined = true;
    if (x.plain_args) {  // (bound registers: defined, never unbound)
      for (std::size_t i = 0; i < x.nargs; ++i) regs[i] = args[x.ops[i].arg];
    } else {
      defined = call_operands(x, args, regs, unbound);
      if (unbound) return 0;
    }
    count_step(x.loc);
    bool holds = false;
    if (defined) {
      // The native stack is checked every eighth call level: a compiled level's frames are a
      // few hundred bytes (a rule nests at most kMaxRegs loops), so at most a few tens of KB
      // go unchecked, where every call paid for the check before.
      if ((depth_ & 7) == 0) check_stack(x.call->loc);
      holds = block_holds(*x.cfunc, regs, x.nargs);
    }
    return holds != x.negated ? 1 : -1;
  }

  // The operands of call test `x` into `out`; whether all are defined (an unbound local sets
  // `unbound`, see operand).
  [[gnu::always_inline]] bool call_operands(const TestExpr& x, const Value* const* args, const Value** out,
                                            bool& unbound) {
    bool defined = true;
    for (std::size_t i = 0; i < x.nargs; ++i) {
      out[i] = operand(x.ops[i], args, unbound);
      defined = defined && out[i];
    }
    return defined;
  }

  // Whether a call of block `f` on `regs` (the first `nargs` the arguments) is true: a rule's
  // value, else the default rule's, else undefined (not true).
  [[gnu::always_inline]] bool block_holds(const CompiledFunc& f, const Value** regs, std::size_t nargs) {
    if (const Value* v = run_block(f, regs, nargs)) return !v->is_false();
    return f.default_rule && !value_of_default(*f.default_rule).is_false();
  }

  // A test with computed operands (TestOp::Computed), as the general evaluator runs it: the step,
  // then the operands left to right until one is undefined, then the test. (Compiled rules only:
  // every operand is bound there.)
  int run_computed_test(const TestExpr& x, const Value* const* args) {
    if (x.inner == TestOp::Call && !ov_.func_mocks.empty()) return 0;
    check_stack(x.loc);
    count_step(x.loc);
    Value tmp[TestExpr::kMaxArgs];
    const Value* in[TestExpr::kMaxArgs] = {};
    const std::size_t n = x.inner == TestOp::Truthy ? 1 : x.inner == TestOp::Compare ? 2 : x.nargs;
    bool defined = true;
    for (std::size_t i = 0; i < n && defined; ++i) {
      in[i] = computed_operand(x.ops[i], args, tmp[i]);
      defined = in[i] != nullptr;
    }
    bool holds = false;
    if (defined) {
      switch (x.inner) {
        case TestOp::Truthy: holds = !in[0]->is_false(); break;
        case TestOp::Compare: holds = compare_op(x.cmp, *in[0], *in[1]); break;
        case TestOp::Builtin: holds = builtin_test(x, in); break;
        case TestOp::Call: holds = call_test(x, in); break;
        default: return 0;
      }
    }
    return holds != x.negated ? 1 : -1;
  }

  // An operand of a compiled rule, computed ones included (`tmp` holds a computed value).
  const Value* computed_operand(const Operand& o, const Value* const* args, Value& tmp) {
    if (o.kind != Operand::Kind::Expr) {
      bool unbound = false;
      const Value* v = operand(o, args, unbound);
      return unbound ? nullptr : v;
    }
    const ExprOperand& e = *o.expr;
    if (e.kind == ExprOperand::Kind::Index) {
      bool unbound = false;
      const Value* c = operand(e.args[0], args, unbound);
      const Value* k = c ? operand(e.args[1], args, unbound) : nullptr;
      if (!k || unbound) return nullptr;
      return c->is_object() && k->is_string() ? lookup_hinted(*c, *k, e.hint.index) : lookup(*c, *k);
    }
    Value held[TestExpr::kMaxArgs];
    Value in[TestExpr::kMaxArgs];
    for (std::size_t i = 0; i < e.nargs; ++i) {
      const Value* a = computed_operand(e.args[i], args, held[i]);
      if (!a) return nullptr;
      in[i] = a == &held[i] ? std::move(held[i]) : *a;
    }
    check_stack(e.term->loc);
    return call_builtin(e.term->builtin, *e.term, std::span<const Value>(in, e.nargs), tmp) ? &tmp : nullptr;
  }

  // A step of a compiled test. The evaluator's tick also checks the native stack; compiled tests
  // run inside a frame that already did, and what nests checks it (builtin_test, call_test).
  __attribute__((always_inline)) void count_step(const Loc& loc) {
    if (++steps_ >= next_check_) [[unlikely]] check_limits(loc);
  }

  // run_tests for a rule or loop body, where a body of one plain test (`not i.Extra.f1`,
  // `o in p_opts`) runs here, without a run_tests frame.
  [[gnu::always_inline]] int run_body(const TestExpr* x, std::uint32_t n, const Value** regs) {
    if (n == 1 && (x->op == TestOp::Truthy || x->op == TestOp::Compare)) return run_test(*x, regs);
    return run_tests(x, x + n, regs);
  }

  // The body of a compiled rule (Rule::tests) on registers holding the caller's arguments (loops
  // bind theirs as they go): 1 every test holds, -1 one fails, 0 (only from a leading Some) the
  // general evaluator should run the rule instead; nothing was counted or called then.
  int run_tests(const TestExpr* x, const TestExpr* end, const Value** regs) {
    for (; x != end; ++x) {
      // (A 0 below is not expected — compiled rules run only while nothing can make an operand
      // "unbound" or a call mocked — but if it came, the general evaluator answers, not a guess.)
      int r;
      if (x->op >= TestOp::Some) [[unlikely]] {
        if (x->op == TestOp::Some) return run_some(*x, regs);
        r = x->op == TestOp::Every ? run_every(*x, regs)
            : x->op == TestOp::Assign ? run_assign(*x, regs)
                                      : run_memo_assign(*x, regs);
      } else {
        r = run_test(*x, regs);
      }
      if (r <= 0) return r;
    }
    return 1;
  }

  // Registers of a loop's key and value for one member.
  static void bind_regs(const TestExpr& x, const Value** regs, const Value& key, const Value& val) {
    if (x.key_reg != TestExpr::kNoReg) regs[x.key_reg] = &key;
    if (x.val_reg != TestExpr::kNoReg) regs[x.val_reg] = &val;
  }

  // `x := a` on a fresh variable (TestOp::Assign): one step, as the general evaluator counts it.
  int run_assign(const TestExpr& x, const Value** regs) {
    check_stack(x.loc);
    count_step(x.loc);
    Value unused;  // (assigned operands are borrowed, never computed into it: see TestOp::Assign)
    const Value* v = computed_operand(x.ops[0], regs, unused);
    if (!v) return -1;
    regs[x.val_reg] = v;
    return 1;
  }

  // `x := f(...)` with a pure call (TestOp::MemoAssign): one step, as the general evaluator's
  // single_assignment counts it, and the value from the same memos.
  int run_memo_assign(const TestExpr& x, const Value** regs) {
    check_stack(x.loc);
    count_step(x.loc);
    const Value& va = *regs[x.ops[0].arg];
    const Value& vb = x.nargs > 1 ? *regs[x.ops[1].arg] : va;
    auto compute = [&] {
      // The call reads its variables from a frame: one made of the registers, for this call only.
      int n = 0;
      for (std::size_t i = 0; i < x.nargs; ++i) n = std::max(n, x.ops[i].slot + 1);
      FrameLease fr(*this, n);
      FrameSwap swap(*this, fr.v);
      for (std::size_t i = 0; i < x.nargs; ++i) fr.v[static_cast<std::size_t>(x.ops[i].slot)] = *regs[x.ops[i].arg];
      Value tmp;
      const Value* r = eval_one(*x.call, tmp);
      return r ? *r : Value();
    };
    const Value* r;
    if (va.node_id() && vb.node_id()) {
      r = &memo_value(x.memo_id, *x.call, va, vb, compute);
    } else {
      // An inline scalar has no node to key the memos by (the general evaluator then computes the
      // value in place); its value keys this evaluation's memo of such calls instead.
      ScalarAssignKey key{x.call, va, vb};
      auto it = scalar_assign_memo_.find(key);
      if (it == scalar_assign_memo_.end()) it = scalar_assign_memo_.emplace(std::move(key), compute()).first;
      r = &it->second;
    }
    if (r->is_undefined()) return -1;
    regs[x.val_reg] = r;
    return 1;
  }

  int run_some(const TestExpr& x, const Value** regs) {
    bool unbound = false;
    const Value* c = operand(x.ops[0], regs, unbound);
    if (unbound) return 0;
    if (x.memo_id && c && c->is_collection() && c->node_id()) {
      if (const int r = run_some_filtered(x, *c, regs); r != kNotFiltered) return r;
    }
    if (c && c->is_collection() && c->size() >= kScanMin) {
      if (x.njoin && c->node_id()) return run_some_join(x, *c, regs);
      return 0;  // the general evaluator's filter memos
    }
    count_step(x.loc);
    if (!c) return -1;
    int r = -1;
    for_each_member(*c, [&](const Value& key, const Value& val) {
      bind_regs(x, regs, key, val);
      const int m = run_tests(x.body, x.body + x.nbody, regs);
      if (m >= 0) r = m;
      return m >= 0;  // a member passed (1), or the general evaluator must answer (0)
    });
    return r;
  }

  // run_some whose body starts with a pure filter (TestExpr::memo_id): over base data the
  // general evaluator shares each member's verdict with every evaluation (memo_filter), and once
  // all are known, visits only the members that pass, with its steps; until then it answers (0).
  // kNotFiltered: not base data, or a `with` mocks a function (the general evaluator then loops
  // over every member, as run_some's plain loop does).
  static constexpr int kNotFiltered = 2;
  __attribute__((noinline)) int run_some_filtered(const TestExpr& x, const Value& c, const Value** regs) {
    const DataIndexes::Verdicts* shared = ov_.func_mocks.empty() ? base_verdicts(c, x.memo_id) : nullptr;
    if (!shared) return kNotFiltered;
    const std::vector<std::uint32_t>* passing = shared->passing.load(std::memory_order_acquire);
    if (!passing) return 0;
    count_step(x.loc);
    const TestExpr* end = x.body + x.nbody;
    for (std::uint32_t pos : *passing) {
      count_step(x.body[0].loc);
      regs[x.val_reg] = &member_at(c, pos);
      const int m = run_tests(x.body + 1, end, regs);
      if (m >= 0) return m;
    }
    return -1;
  }

  // run_some over a large collection whose body starts with join tests (TestExpr::njoin), with
  // the steps and solutions of Evaluator::equality_join: the members whose tested fields equal
  // the other sides come from the (shared) join index, then the rest of the body runs on each.
  int run_some_join(const TestExpr& x, const Value& c, const Value** regs) {
    count_step(x.loc);
    const TestExpr* body = x.body;
    const TestExpr* end = x.body + x.nbody;
    const std::size_t n = x.njoin;
    auto field_side = [&](const TestExpr& t) {
      return t.ops[0].kind == Operand::Kind::Arg && t.ops[0].arg == x.val_reg && t.ops[0].path ? 0 : 1;
    };
    Scan* s = scan_state(c, &x);
    const DataIndexes::Join& join = join_index(*s, n, [&](std::size_t t, std::string& out) {
      // (The same text as the general evaluator's to_json of the key terms: one index per fields.)
      const ConstPath& cp = *body[t].ops[field_side(body[t])].path;
      for (std::uint32_t j = 0; j < cp.size; ++j) {
        append_json_string(out, cp.keys()[j].view());
        out += '\x1f';
      }
    }, [&](const Value& member, std::size_t t) {
      return follow_keys(&member, *body[t].ops[field_side(body[t])].path);
    });
    bool unbound = false;
    auto other = [&](const TestExpr& t) { return operand(t.ops[1 - field_side(t)], regs, unbound); };
    if (join.joinable) {
      for (std::size_t t = 0; t < n; ++t) count_step(body[t].loc);
      if (join.by_field.size() == 0) return -1;
      join_key_.clear();
      for (std::size_t t = 0; t < n; ++t) {
        const Value* y = other(body[t]);
        if (!y || !y->is_string()) return -1;  // only strings equal strings
        append_key(join_key_, y->as_string());
      }
      const std::vector<std::uint32_t>* hit = join.by_field.find(join_key_);
      if (!hit) return -1;
      for (std::uint32_t pos : *hit) {
        regs[x.val_reg] = join.members[pos];
        const int m = run_tests(body + n, end, regs);
        if (m >= 0) return m;
      }
      return -1;
    }
    // Not joinable (a tested field is not a string somewhere): a scan on the first test.
    const TestExpr& f = body[0];
    const ConstPath& path = *f.ops[field_side(f)].path;
    const Value* y = nullptr;
    bool y_done = false;
    int r = -1;
    for_each_member(c, [&](const Value&, const Value& val) {
      count_step(f.loc);
      const Value* v = follow_keys(&val, path);
      if (!v) return false;
      if (!y_done) {
        y = other(f);
        y_done = true;
      }
      if (!y || *v != *y) return false;
      regs[x.val_reg] = &val;
      const int m = run_tests(body + 1, end, regs);
      if (m >= 0) r = m;
      return m >= 0;
    });
    return r;
  }

  int run_every(const TestExpr& x, const Value** regs) {
    bool unbound = false;
    const Value* c = operand(x.ops[0], regs, unbound);
    if (unbound) return 0;
    count_step(x.loc);
    if (!c || !c->is_collection()) return -1;  // OPA: every over a non-collection is undefined
    int r = 1;
    for_each_member(*c, [&](const Value& key, const Value& val) {
      bind_regs(x, regs, key, val);
      r = run_tests(x.body, x.body + x.nbody, regs);
      return r <= 0;  // a member failed (-1), or the general evaluator must answer (0)
    });
    return r;
  }

  // Replaces the data at `path` in overlay `o` as `with data.<path> as v` does: a package or rule
  // node's document wholesale (node_over), else the base data there (and its root's bit in
  // `replaced`). A path inside a rule's value changes nothing (see data_target).
  void replace_data(Overlay& o, const std::vector<Value>& path, const Value& v) const {
    const DataNode* n = nullptr;
    switch (data_target(P, path, n)) {
      case DataTarget::Node: o.node_over[n] = v; break;
      case DataTarget::Base:
        o.base = upsert(o.base, path, 0, v);
        // (The path is not empty: `data` itself is the root node.)
        o.replaced |= std::uint64_t{1} << data_root_bit(P.data, path[0]);
        break;
      case DataTarget::InsideRule: break;
    }
  }

  // Whether compiled operands of base-data roots `mask` read what this evaluation sees: no `with`
  // replaced a data node (any path may lie under one) or base data under one of those roots.
  bool data_ok(std::uint64_t mask) const { return !mask || (ov_.node_over.empty() && !(ov_.replaced & mask)); }
  // Whether call block `f` runs as compiled although a `with` is in force: it replaced base data
  // only, under roots that none of f's compiled rules read. (Out of line: the hot test is pristine.)
  __attribute__((noinline)) bool block_ok(const CompiledFunc& f) const {
    return ov_.node_over.empty() && ov_.func_mocks.empty() && ov_.builtin_mocks.empty() && !(ov_.replaced & f.data_mask);
  }

  // A user function call as a test (no `with` replaces functions): as call_term_one.
  bool call_test(const TestExpr& x, const Value* const* args) {
    check_stack(x.call->loc);
    if (x.cfunc && (ov_.pristine || block_ok(*x.cfunc))) {
      const Value* regs[TestExpr::kMaxRegs];
      copy_regs(std::span<const Value* const>(args, x.nargs), regs);  // loops bind the registers after them
      return block_holds(*x.cfunc, regs, x.nargs);
    }
    const DataNode* f = x.call->func;
    Value r;
    if (f->plain_function) {
      r = plain_function_result(f, std::span<const Value* const>(args, x.nargs));
    } else {
      Value in[TestExpr::kMaxArgs];
      for (std::size_t i = 0; i < x.nargs; ++i) in[i] = *args[i];
      r = function_result(f, std::span<const Value>(in, x.nargs));
    }
    return r.is_defined() && !r.is_false();
  }

  __attribute__((noinline)) bool builtin_test(const TestExpr& x, const Value* const* args) {
    check_stack(x.call->loc);
    const builtins::BuiltinDef* b = x.call->builtin;
    bool holds;
    if (b && b->test && b->arity == x.nargs && b->test(bctx_, args, holds)) return holds;
    Value in[TestExpr::kMaxArgs];
    for (std::size_t i = 0; i < x.nargs; ++i) in[i] = *args[i];
    Value out;
    return call_builtin(x.call->builtin, *x.call, std::span<const Value>(in, x.nargs), out) && !out.is_false();
  }

  Value function_result(const DataNode* n, std::span<const Value> args) {
    if (n->plain_function) {
      std::vector<const Value*> ptrs(args.size());
      for (std::size_t i = 0; i < args.size(); ++i) ptrs[i] = &args[i];
      return plain_function_result(n, ptrs);
    }
    // The cache entry, made before the call and filled after it (references to a node-based
    // map's values survive the insertions of nested calls); one left undefined counts as absent.
    Value* cached = nullptr;
    if (!n->uncached && args.size() <= FnCallKey::kMaxArgs && std::all_of(args.begin(), args.end(), FnCallKey::keyable)) {
      FnCallKey key;
      key.fn = n;
      key.nargs = static_cast<std::uint32_t>(args.size());
      std::copy(args.begin(), args.end(), key.args);
      if (ov_.fn_cache.empty()) ov_.fn_cache.reserve(64);  // (growing rehashes every few calls)
      auto [it, fresh] = ov_.fn_cache.try_emplace(std::move(key));
      if (!fresh && it->second.is_defined()) return it->second;
      cached = &it->second;
    }
    Value result;
    for_candidate_rules(n, args.empty() ? nullptr : &args[0], [&](const std::shared_ptr<Rule>& r) {
      const Value* v;
      if (r->compiled && ov_.builtin_mocks.empty() && (!r->calls || ov_.func_mocks.empty()) && data_ok(r->data_mask) &&
          run_value_chain(*r, args, v)) {
        if (v) {
          if (result.is_defined() && result != *v) {
            raise("eval_conflict_error", "functions must not produce multiple outputs for same inputs", r->loc);
          }
          result = *v;
        }
        return n->early_exit && result.is_defined();
      }
      run_function(*r, args, [&](const Rule& which) {
        return each_value(which.value.get(), [&](const Value& v) {
          if (result.is_defined() && result != v) {
            raise("eval_conflict_error", "functions must not produce multiple outputs for same inputs", r->loc);
          }
          result = v;
          return n->early_exit;
        });
      });
      return n->early_exit && result.is_defined();
    });
    if (result.is_undefined() && n->default_rule) result = value_of_default(*n->default_rule);
    // (Undefined results are not kept, as in OPA; an error leaves the entry undefined.)
    if (cached) *cached = result;
    return result;
  }

  // A compiled rule of a value function and its `else` rules (compile_value_chain) on borrowed
  // arguments, with run_function's call level, steps and errors: `out` is the value of the first
  // that holds (a constant, or what its value register holds: an argument, a part of one, or a
  // memo's value, all of which outlive the call), or nullptr. False when a test cannot be told
  // compiled (not expected): the general evaluator then runs the chain, as a compiled rule's
  // fall-back does.
  bool run_value_chain(const Rule& r, std::span<const Value> args, const Value*& out) {
    DepthGuard g(*this, r.loc);
    const Value* regs[TestExpr::kMaxRegs];
    for (std::size_t i = 0; i < args.size(); ++i) regs[i] = &args[i];
    out = nullptr;
    for (std::size_t i = 0; i <= r.elses.size(); ++i) {
      const Rule& x = i == 0 ? r : *r.elses[i - 1];
      bool params = true;
      for (std::size_t a = 0; x.const_params && params && a < args.size(); ++a)
        params = x.args[a]->kind != TermKind::Scalar || x.args[a]->value == args[a];
      const int got = params ? run_tests(x.tests, x.tests + x.ntests, regs) : -1;
      if (got == 0) [[unlikely]]
        return false;
      if (got > 0) {
        out = x.value_reg == TestExpr::kNoReg ? &x.value->value : regs[x.value_reg];
        return true;
      }
    }
    return true;
  }

  bool unify_args(const Rule& r, std::span<const Value> args, std::size_t i, Cont k) {
    // Plain variables and constants (nearly every function head) bind in a loop; the frame is
    // fresh and dropped after the attempt, so nothing needs undoing. Patterns take the general path.
    for (; i < args.size(); ++i) {
      const Term& p = *r.args[i];
      if (p.kind == TermKind::Var && p.slot >= 0) {
        Value& cur = frame()[static_cast<std::size_t>(p.slot)];
        if (cur.is_undefined()) cur = args[i];
        else if (cur != args[i]) return false;
      } else if (p.kind == TermKind::Scalar) {
        if (p.value != args[i]) return false;
      } else {
        break;
      }
    }
    if (i == args.size()) return k();
    return unify_value(*r.args[i], args[i], [&] { return unify_args(r, args, i + 1, k); });
  }

  void run_function(const Rule& r, std::span<const Value> args, FnRef<bool(const Rule&)> out) {
    DepthGuard g(*this, r.loc);
    Value* saved = frame_;
    bool any = false;
    try {
      auto attempt = [&](const Rule& which) {
        std::size_t start = 0;
        if (which.nguards) {
          const Value* ptrs[TestExpr::kMaxParams];  // (guarded rules have at most kMaxParams parameters)
          for (std::size_t i = 0; i < args.size(); ++i) ptrs[i] = &args[i];
          const int got = run_guards(which, ptrs);
          if (got < 0) return;
          if (got > 0) start = which.nguards;
        }
        FrameLease fr_lease(*this, which.nslots);
        Value* fr = fr_lease.v;
        frame_ = fr;
        unify_args(which, args, 0, [&] {
          return eval_body(*which.body, start, [&] {
            if (!r.elses.empty() && !value_defined(which)) return false;  // (see run_rule_tracking)
            any = true;
            return out(which);
          });
        });
        frame_ = saved;
      };
      attempt(r);
      for (std::size_t i = 0; !any && i < r.elses.size(); ++i) attempt(*r.elses[i]);
    } catch (...) {
      frame_ = saved;
      throw;
    }
    frame_ = saved;
  }

  // ---------------------------------------------------------------- unification

  static bool is_pattern(const Term& t) {
    return t.kind == TermKind::Var || t.kind == TermKind::Array || t.kind == TermKind::Object;
  }

  bool unify(const Term& a, const Term& b, Cont k) {
    bool au = unbound_var(a), bu = unbound_var(b);
    if (au && bu) return false;
    if (au || bu) {
      const Term& var = au ? a : b;
      return each_of(au ? b : a, [&](const Value& v) { return bind(var.slot, v, k); });
    }
    bool ap = has_unbound(a), bp = has_unbound(b);
    if (ap && bp) {
      if (a.kind == TermKind::Array && b.kind == TermKind::Array) {
        if (a.items.size() != b.items.size()) return false;
        return unify_pairs(a, b, 0, k);
      }
      if (!is_pattern(a)) return eval_term(a, [&](const Value& v) { return unify_value(b, v, k); });
      if (!is_pattern(b)) return eval_term(b, [&](const Value& v) { return unify_value(a, v, k); });
      if (a.kind == TermKind::Object && b.kind == TermKind::Object) return unify_objects(a, b, k);
      return false;
    }
    if (ap || bp) {
      const Term& pat = ap ? a : b;
      return each_of(ap ? b : a, [&](const Value& v) { return unify_value(pat, v, k); });
    }
    if (!a.multi && !b.multi) {
      Value ta, tb;
      const Value* va = eval_one(a, ta);
      if (!va) return false;
      const Value* vb = eval_one(b, tb);
      return vb && *va == *vb && k();
    }
    return eval_term(a, [&](const Value& va) {
      return eval_term(b, [&](const Value& vb) { return va == vb && k(); });
    });
  }

  bool unify_pairs(const Term& a, const Term& b, std::size_t i, Cont k) {
    if (i == a.items.size()) return k();
    return unify(*a.items[i], *b.items[i], [&] { return unify_pairs(a, b, i + 1, k); });
  }

  bool unify_objects(const Term& a, const Term& b, Cont k) {
    if (a.items.size() != b.items.size()) return false;
    // Keys are ground: pair each key of `a` with the equal key of `b`.
    std::vector<std::pair<const Term*, const Term*>> pairs;
    for (std::size_t i = 0; i < a.items.size(); i += 2) {
      Value ka = value_of(a.items[i].get());
      const Term* match = nullptr;
      for (std::size_t j = 0; j < b.items.size(); j += 2) {
        if (value_of(b.items[j].get()) == ka) match = b.items[j + 1].get();
      }
      if (!match) return false;
      pairs.emplace_back(a.items[i + 1].get(), match);
    }
    return unify_pair_list(pairs, 0, k);
  }

  bool unify_pair_list(const std::vector<std::pair<const Term*, const Term*>>& ps, std::size_t i, Cont k) {
    if (i == ps.size()) return k();
    return unify(*ps[i].first, *ps[i].second, [&] { return unify_pair_list(ps, i + 1, k); });
  }

  bool unify_value(const Term& t, const Value& v, Cont k) {
    switch (t.kind) {
      case TermKind::Var:
        if (t.slot >= 0) {
          const Value& cur = frame()[static_cast<std::size_t>(t.slot)];
          if (cur.is_undefined()) return bind(t.slot, v, k);
          return cur == v && k();
        }
        break;
      case TermKind::Scalar: return t.value == v && k();
      case TermKind::Array:
        if (!v.is_array() || v.array_items().size() != t.items.size()) return false;
        return unify_items(t, v, 0, k);
      case TermKind::Object:
        if (!v.is_object() || v.object_entries().size() * 2 != t.items.size()) return false;
        return unify_object_value(t, v, 0, k);
      default: break;
    }
    return eval_term(t, [&](const Value& tv) { return tv == v && k(); });
  }

  bool unify_items(const Term& t, const Value& v, std::size_t i, Cont k) {
    if (i == t.items.size()) return k();
    return unify_value(*t.items[i], v.array_items()[i], [&] { return unify_items(t, v, i + 1, k); });
  }

  bool unify_object_value(const Term& t, const Value& v, std::size_t i, Cont k) {
    if (i >= t.items.size()) return k();
    return eval_term(*t.items[i], [&](const Value& key) {
      const Value* x = v.get(key);
      if (!x) return false;
      return unify_value(*t.items[i + 1], *x, [&] { return unify_object_value(t, v, i + 2, k); });
    });
  }

  const Policy::Impl& P;
  const EvalOptions& O;
  Overlay ov_;
  Value* frame_ = nullptr;
  // The slot stack (FrameLease): chunk 0 lives in the evaluator (small decisions allocate
  // nothing), later ones on the heap, each twice the size of the one before (deep recursion makes
  // few chunks).
  static constexpr std::size_t kInlineSlots = 32;
  struct SlotChunk {
    std::unique_ptr<Value[]> slots;
    std::size_t size;
  };
  Value inline_slots_[kInlineSlots];
  std::vector<SlotChunk> chunks_;  // chunks 1, 2, ...
  std::size_t chunk_ = 0, top_ = 0;  // the current chunk and its first free slot
  Value* cur_slots_ = inline_slots_;
  std::size_t cur_size_ = kInlineSlots;
  void use_chunk(std::size_t c) {
    chunk_ = c;
    cur_slots_ = c == 0 ? inline_slots_ : chunks_[c - 1].slots.get();
    cur_size_ = c == 0 ? kInlineSlots : chunks_[c - 1].size;
  }
  void next_chunk(std::size_t n) {
    std::size_t next = chunk_ + 1;
    while (next <= chunks_.size() && chunks_[next - 1].size < n) ++next;
    if (next > chunks_.size()) {
      std::size_t size = std::max(2 * (chunks_.empty() ? kInlineSlots : chunks_.back().size), n);
      chunks_.push_back({std::make_unique<Value[]>(size), size});
    }
    use_chunk(next);
    top_ = 0;
  }
  std::uint64_t steps_ = 0;
  std::uint64_t next_check_ = 0;  // see tick
  const char* stack_base_ = nullptr;
  bool has_deadline_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::size_t depth_ = 0;
  builtins::RandomSource rng_;
  builtins::RegexCache regex_;
  std::map<std::string, Value> memo_;
  std::unordered_map<const void*, const DataIndexes::Strings*> string_index_;
  struct VerdictKeyHash {
    std::size_t operator()(const std::pair<const void*, std::uint32_t>& k) const noexcept {
      return std::hash<const void*>{}(k.first) ^ (std::size_t{k.second} * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::unordered_map<std::pair<const void*, std::uint32_t>, DataIndexes::Verdicts*, VerdictKeyHash> verdicts_;
  std::vector<std::unique_ptr<LocalStrings>> local_strings_;
  struct ScanKeyHash {
    std::size_t operator()(const std::pair<const void*, const void*>& p) const noexcept {
      return std::hash<const void*>{}(p.first) * 31 + std::hash<const void*>{}(p.second);
    }
  };
  // By collection and the test (an Expr, or a compiled Some's TestExpr).
  std::unordered_map<std::pair<const void*, const void*>, Scan, ScanKeyHash> scans_;
  struct {
    const void* node = nullptr;
    const void* test = nullptr;
    Scan* scan = nullptr;
  } last_scan_;  // scan_state's last answer
  std::string join_key_;
  std::unordered_map<AssignKey, AssignMemo, AssignKeyHash> assign_memo_;
  std::unordered_multimap<std::size_t, ComprMemo> compr_memo_;  // see memo_compr
  // Compiled pure assignments on an inline scalar (run_memo_assign): the call and its operands
  // (the second repeats the first for a one-variable call) -> the value. Operands with a node are
  // keyed by it (as in the other memos; the key pins it), inline ones by their representation:
  // 1 and 1.0 are equal values, but a call on one is not known to equal the call on the other.
  struct ScalarAssignKey {
    const Term* t;
    Value a, b;
    static auto rep(const Value& v) {
      std::uint64_t bits = 0;
      if (const void* n = v.node_id()) bits = reinterpret_cast<std::uintptr_t>(n);
      else if (v.is_bool()) bits = v.as_bool();
      else if (v.is_int()) bits = static_cast<std::uint64_t>(v.as_int());
      else if (v.is_float()) bits = std::bit_cast<std::uint64_t>(v.as_float());
      return std::tuple(static_cast<int>(v.kind()), v.is_float(), v.node_id() != nullptr, bits);
    }
    bool operator<(const ScalarAssignKey& o) const {
      return std::tuple(reinterpret_cast<std::uintptr_t>(t), rep(a), rep(b)) <
             std::tuple(reinterpret_cast<std::uintptr_t>(o.t), rep(o.a), rep(o.b));
    }
  };
  std::map<ScalarAssignKey, Value> scalar_assign_memo_;
  builtins::BuiltinContext bctx_;
  std::vector<std::string> prints_;
  Value last_value_;
};

}  // namespace

Result<QueryResult> evaluate(const PreparedQuery::Impl& query, const EvalOptions& options) {
  std::vector<std::vector<Value>> override_paths;
  override_paths.reserve(options.data_overrides.size());
  for (const auto& [path, value] : options.data_overrides) {
    std::vector<Value>& keys = override_paths.emplace_back();
    keys.reserve(path.size());
    for (const auto& k : path) keys.push_back(Value::string(k));
    const DataNode* n = nullptr;
    if (data_target(*query.policy, keys, n) == DataTarget::InsideRule) {
      std::string where = "data";
      for (const auto& k : keys) append_ref_key(where, k);
      return make_error(Errc::invalid_argument,
                        "data override " + where + ": the path lies inside a rule's value, which only the rule defines");
    }
  }
  detail::ValueBudget budget(options.limits.max_memory_bytes);
  try {
    Evaluator ev(*query.policy, options, override_paths);
    return ev.run(query);
  } catch (const RegoFailure& f) {
    return forward_error(query.policy->to_error(f));
  } catch (const detail::ValueBudgetExceeded&) {
    return make_error(Errc::limit_exceeded, "eval_limit_error: memory limit exceeded (values built by the evaluation exceed " +
                                                std::to_string(options.limits.max_memory_bytes) + " bytes)");
  } catch (const std::bad_alloc&) {
    return make_error(Errc::limit_exceeded, "eval_limit_error: out of memory during evaluation");
  }
}

}  // namespace cloister::rego
