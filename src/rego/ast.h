// The Rego abstract syntax tree, shared by the parser, compiler and evaluator. Internal.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arena.h"
#include "cloister/rego/value.h"

namespace cloister::rego {

namespace builtins {
struct BuiltinDef;
}

struct Loc {
  std::uint32_t file = 0;  // index into the compiler's file-name table
  std::uint32_t line = 0;
  std::uint32_t col = 0;
};
// Source order (file index, then line, then column): which of two rules comes first.
inline bool loc_before(const Loc& a, const Loc& b) {
  if (a.file != b.file) return a.file < b.file;
  return a.line != b.line ? a.line < b.line : a.col < b.col;
}

struct Body;
struct Term;
using TermP = std::shared_ptr<Term>;
using TermList = std::vector<TermP, NodeAllocator<TermP>>;
struct DataNode;

enum class TermKind : std::uint8_t {
  Scalar,      // value: a constant (also ground composites folded by the compiler)
  Var,         // name; slot once resolved (kInputSlot / kDataSlot for the roots)
  Ref,         // items[0] head (Var, composite or Call), items[1..] path terms
  Array,       // items
  Set,         // items
  Object,      // items: key0, value0, key1, value1, ...
  Call,        // name (dotted operator), items = args
  ArrayCompr,  // head, body
  SetCompr,    // head, body
  ObjectCompr  // head (key), head2 (value), body
};

// Calls the evaluator handles itself, classified once by the compiler (no name compares at runtime).
// Equal, NotEqual and Member are the builtins `==`, `!=` and `in`, compared in place by the
// evaluator (no argument copies) unless a `with` mocks them.
enum class CallOp : std::uint8_t { Other, Eq, Assign, Print, Template, Walk, Equal, NotEqual, Member };

// Name tests against literals (`name == "eq"_lit`): the resolver and the lexer make ~30,000 of
// them on the Kata policy. std::operator== on string_view stayed an out-of-line call there; this
// one inlines to a length test and a memcmp of constant size, which the compiler expands.
struct NameLit {
  const char* text;
  std::size_t size;
};
consteval NameLit operator""_lit(const char* text, std::size_t size) { return {text, size}; }
[[gnu::always_inline]] inline bool operator==(std::string_view name, NameLit lit) {
  return name.size() == lit.size && std::memcmp(name.data(), lit.text, lit.size) == 0;
}

// Equal texts, without the call std::operator== on string_views stayed here (the byte test is the
// one Value's string equality uses).
[[gnu::always_inline]] inline bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && detail::same_bytes(a.data(), b.data(), a.size());
}

// A hash table from names to V, for the parser's interned strings and the compiler's rule names
// (~7,000 lookups for the Kata policy). std::unordered_map spent ~150 instructions a lookup there
// (a general-purpose string hash, a bucket division, a node per entry); this one hashes 8 bytes
// at a time and probes a flat power-of-two array. Keys are views: what they point to must outlive
// the table (or be re-pointed with set_key to storage that does).
template <typename V>
class NameTable {
 public:
  // The entry of `key`, made (value-initialised) if missing; `fresh` says whether it was. The
  // pointer is valid until the next try_emplace.
  std::pair<V*, bool> try_emplace(std::string_view key) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    const std::uint64_t h = hash(key);
    Slot& sl = slots_[probe(key, h)];
    if (sl.used) return {&sl.value, false};
    sl.used = true;
    sl.hash = h;
    sl.key = key;
    ++size_;
    return {&sl.value, true};
  }
  const V* find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const Slot& sl = slots_[probe(key, hash(key))];
    return sl.used ? &sl.value : nullptr;
  }
  V* find(std::string_view key) { return const_cast<V*>(std::as_const(*this).find(key)); }
  // Points the key of an entry at equal text elsewhere, which outlives the table.
  void rekey(std::string_view key, std::string_view equal_text) {
    if (slots_.empty()) return;
    Slot& sl = slots_[probe(key, hash(key))];
    if (sl.used) sl.key = equal_text;
  }
  std::size_t size() const noexcept { return size_; }
  // Room for `n` entries without growing.
  void reserve(std::size_t n) {
    std::size_t want = 64;
    while (want < 2 * (n + 1)) want *= 2;
    if (want > slots_.size()) {
      std::vector<Slot> old = std::move(slots_);
      slots_.clear();
      slots_.resize(want);
      for (Slot& o : old)
        if (o.used) place(std::move(o));
    }
  }

  static std::uint64_t hash(std::string_view s) noexcept {
    constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
    std::uint64_t h = s.size() * kMul;
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * kMul;
      h ^= h >> 29;
    }
    // The last 1-7 bytes as one word: a load ending at the text's end (the bytes before them are
    // shifted out) when the text has 8 or more, else byte by byte.
    std::uint64_t w = 0;
    if (n && s.size() >= 8) {
      std::memcpy(&w, p + n - 8, 8);
      w >>= 8 * (8 - n);
    } else {
      for (std::size_t i = 0; i < n; ++i) w |= std::uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    h = (h ^ w) * kMul;
    return h ^ (h >> 32);
  }

 private:
  struct Slot {
    std::string_view key;
    std::uint64_t hash = 0;
    bool used = false;
    V value{};
  };
  // The slot holding `key`, or the empty one where it would go (the table is never full).
  std::size_t probe(std::string_view key, std::uint64_t h) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i].used && !(slots_[i].hash == h && same_text(slots_[i].key, key))) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.clear();
    slots_.resize(old.empty() ? 64 : 2 * old.size());
    for (Slot& o : old)
      if (o.used) place(std::move(o));
  }
  void place(Slot&& o) {
    std::size_t i = o.hash & (slots_.size() - 1);
    while (slots_[i].used) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = std::move(o);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// Term::vars: the local slots a term mentions. Nearly every term has a few (the Kata policy has
// ~5,000 lists, most of one or two slots): they are stored inline, without the heap allocation a
// std::vector makes for each; longer lists go to the heap. Read like a vector of int.
class SlotList {
 public:
  static constexpr std::uint32_t kInline = 6;

  SlotList() = default;
  SlotList(std::initializer_list<int> xs) { assign(xs.begin(), xs.end()); }
  SlotList(const SlotList& o) { assign(o.begin(), o.end()); }
  SlotList(SlotList&& o) noexcept { take(o); }
  SlotList& operator=(const SlotList& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  SlotList& operator=(SlotList&& o) noexcept {
    if (this != &o) {
      delete[] heap_;
      heap_ = nullptr;
      take(o);
    }
    return *this;
  }
  SlotList& operator=(std::initializer_list<int> xs) {
    assign(xs.begin(), xs.end());
    return *this;
  }
  ~SlotList() { delete[] heap_; }

  // [first, last) must not point into this list.
  template <typename It>
  void assign(It first, It last) {
    auto n = static_cast<std::uint32_t>(std::distance(first, last));
    if (!heap_ && n <= kInline) {
      std::copy(first, last, inline_);
    } else {
      if (n > cap_) {
        int* h = new int[n];
        delete[] heap_;
        heap_ = h;
        cap_ = n;
      }
      std::copy(first, last, heap_);
    }
    size_ = n;
  }
  void clear() noexcept { size_ = 0; }

  const int* begin() const noexcept { return data(); }
  const int* end() const noexcept { return data() + size_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  int operator[](std::size_t i) const noexcept { return data()[i]; }

 private:
  int* data() noexcept { return heap_ ? heap_ : inline_; }
  const int* data() const noexcept { return heap_ ? heap_ : inline_; }
  // Leaves `o` empty; this list's heap block, if any, is already released.
  void take(SlotList& o) noexcept {
    size_ = o.size_;
    if (o.heap_) {
      heap_ = o.heap_;
      cap_ = o.cap_;
      o.heap_ = nullptr;
      o.cap_ = kInline;
    } else {
      cap_ = kInline;
      std::copy(o.inline_, o.inline_ + o.size_, inline_);
    }
    o.size_ = 0;
  }

  int inline_[kInline] = {};
  std::uint32_t size_ = 0;
  std::uint32_t cap_ = kInline;
  int* heap_ = nullptr;
};

inline constexpr int kNoSlot = -1;
inline constexpr int kInputSlot = -2;
inline constexpr int kDataSlot = -3;

// One constant string key of a ConstPath. (Copying short keys inline was tried: no fewer
// instructions per decision, and 16 more bytes per key made the compile write 10 % more memory.)
struct PathKey {
  std::uint32_t size = 0;
  // Where this key was last found in an object (see Value::get with a hint). Shared by concurrent
  // evaluations: a stale or racing value costs only that search.
  mutable std::atomic<std::uint32_t> hint{0};
  // The key's bytes: inline up to 8 (nearly every key of a policy: "Extra", "OCI", "f0"), which
  // keeps a path to one small block of memory; longer keys point at the key term's string.
  static constexpr std::uint32_t kInline = 8;
  union {
    const char* data = nullptr;
    char bytes[kInline];
  };
  const char* chars() const noexcept { return size <= kInline ? bytes : data; }
  std::string_view view() const noexcept { return {chars(), size}; }
  // The key's interned node (Value::key_string): an object key with this node is this key, without
  // reading its bytes. Keys too long to intern hold a sentinel that no node has.
  const void* node = &kNoNode;
  static const char kNoNode;
  void intern() {
    if (const void* n = Value::key_node(view())) node = n;
  }
};
static_assert(sizeof(PathKey) == 24);

// A reference `x.a.b` on a local or `input.a.b` whose path keys are all constant strings (most
// operands of a Kata policy), decoded once by the compiler: evaluating it walks one contiguous
// array instead of a Term, its Value and the value's string node per step. Lives in the policy
// arena, keys right after the header.
struct ConstPath {
  int head = kNoSlot;  // local slot, or kInputSlot
  std::uint32_t size = 0;
  const PathKey* keys() const noexcept { return reinterpret_cast<const PathKey*>(this + 1); }
};

struct Term {
  // Fields read on every evaluation step come first (kind to items in the first 64 bytes, vars
  // right after): a decision walks thousands of terms spread over the policy's AST, and the
  // evaluator's data-cache misses were as costly as its instructions. Keep it that way when adding
  // fields; cold ones (source position, names, parser-only links) go last.
  TermKind kind = TermKind::Scalar;
  CallOp op = CallOp::Other;
  // Contains a relation call (walk) outside comprehensions: may yield several values even with
  // every variable bound. Terms without it and without unbound variables yield at most one value
  // and are evaluated directly, without continuations.
  bool multi = false;
  // Its value depends on nothing but the locals in `vars`: only constants, locals, references
  // into them and calls of deterministic builtins (no input, data, user functions or
  // comprehensions). The evaluator memoises such terms within one evaluation. References into a
  // constant rule (`folded`) count as constants here, so the memos are not used while a `with`
  // replaces a rule or package.
  bool pure = false;
  bool ground = false;    // no local vars, refs or calls: value is final
  bool wildcard = false;  // `_`
  int slot = kNoSlot;
  // Where this constant key was last found in an object (see Value::get with a hint). Objects of
  // one shape keep a key at one index, so most lookups skip the search. Shared by concurrent
  // evaluations: a stale or racing value costs only that search.
  struct KeyHint {
    mutable std::atomic<std::uint32_t> index{0};
    KeyHint() = default;
    KeyHint(const KeyHint&) noexcept {}
    KeyHint& operator=(const KeyHint&) noexcept { return *this; }
  } hint;
  const ConstPath* path = nullptr;  // Ref: the decoded form, when it has one (see ConstPath)
  // Ref `data.a.b.c` with constant keys into the value of a constant rule (`policy_data := {...}`,
  // as genpolicy appends its data to the rules): that value, fixed at compile time. Used while
  // no `with` replaces a rule or package (Overlay::node_over); see fold_constant_refs.
  const Value* folded = nullptr;
  Value value;
  TermList items;
  SlotList vars;                                  // local slots occurring in this term (for unify)
  DataNode* func = nullptr;                       // Call to a user function (data path)
  const builtins::BuiltinDef* builtin = nullptr;  // Call to a builtin
  Loc loc;
  std::uint32_t depth = 0;  // operator nesting built by the parser (bounded, see ParseOptions)
  std::string name;
  TermP head, head2;
  std::shared_ptr<Body> body;

  void use_arena(NodeArena* a) { items = TermList(NodeAllocator<TermP>(a)); }  // see make_node
};

struct With {
  TermP target;  // Ref (input..., data...) or Var/Ref naming a function
  TermP value;
  Loc loc;
  // Resolved: path under the root, and which root.
  bool is_input = false;
  bool is_data = false;
  std::vector<Value> path;
  DataNode* func = nullptr;                       // mocking a user function
  const builtins::BuiltinDef* builtin = nullptr;  // mocking a builtin
  const builtins::BuiltinDef* value_builtin = nullptr;  // the replacement is a builtin
};

// Compiled tests. A function rule whose body is only tests on its arguments (genpolicy's
// `check(p, i) if p.Extra.f == i.Extra.f`, `allow_env(p_env, e) if e in p_env`) is decoded by the
// compiler into a flat list, run on the caller's argument values: no frame, no argument copies,
// no Term walk per step. Other bodies get the same form per test expression (Expr::test), run on
// the frame. Anything else keeps the general evaluator.

// A test operand: a constant, an argument of the function (Rule::tests), a local variable
// (Expr::test) or the input, with an optional constant-string path after it.
struct ExprOperand;

// Which part of the base data a compiled operand reads, as one bit of 64: the position of the
// path's first key among the base document's top-level keys (62 for the 63rd on), 63 for a key
// the document does not have. A `with` that replaces data under a root clears the compiled path
// only for operands of that root's bit (Rule::data_mask), so `with data.pstate as s` leaves the
// rules that read data.policy_data compiled.
inline unsigned data_root_bit(const Value& data, const Value& key) {
  if (!data.is_object()) return 63;
  const auto& e = data.object_entries();
  auto it = std::lower_bound(e.begin(), e.end(), key, [](const auto& entry, const Value& k) { return compare(entry.first, k) < 0; });
  if (it == e.end() || !(it->first == key)) return 63;
  return static_cast<unsigned>(std::min<std::ptrdiff_t>(it - e.begin(), 62));
}

struct Operand {
  // Arg: a register of a compiled rule (its parameters, then loop variables). Data: a path into
  // the policy's base data that no rule defines, resolved by the compiler (`value`, nullptr when
  // undefined; `arg`: its root key's data_root_bit), valid while no `with` replaces data there.
  // Expr (compiled rules only): a value computed from other operands (ExprOperand).
  enum class Kind : std::uint8_t { Const, Arg, Local, Input, Data, Expr };
  Kind kind = Kind::Const;
  std::uint8_t arg = 0;  // Arg: register
  int slot = kNoSlot;    // Local: frame slot
  union {
    const Value* value = nullptr;  // Const, Data
    const ConstPath* path;         // Arg, Local, Input: the keys after the head (nullptr: none)
    const ExprOperand* expr;       // Expr
  };
};

// A computed operand of a compiled rule: a deterministic builtin call on operands
// (`count(p.Args)`, `object.get(p, name, [])`), or a lookup with a register key (`p.Args[i]`,
// `p_oci.Annotations[k]`). Evaluated as the general evaluator does: arguments left to right, the
// first undefined one makes it undefined, builtin errors as in strict or non-strict mode.
struct ExprOperand {
  enum class Kind : std::uint8_t { Builtin, Index };
  Kind kind = Kind::Builtin;
  std::uint8_t nargs = 0;
  const Term* term = nullptr;  // the call (builtin, location) or the reference
  Operand args[3];             // Builtin: the arguments; Index: the collection, then the key
  // Index into an object: where the last key was found (see Value::get with a hint). In
  // `every k, v in a { b[k] ... }` both objects are in key order, so the next key is mostly at
  // the next entry.
  Term::KeyHint hint;
};

enum class TestOp : std::uint8_t {
  Truthy,   // `a` (defined and not false), or `not a`
  Compare,  // `a == b`, `a != b`, `a in b` (cmp says which)
  Builtin,  // a builtin call on operands, e.g. `startswith(a, b)`
  Call,     // a user function call on operands, e.g. `allow_env(p.Env, e)`
  // A Truthy, Compare, Builtin or Call test (`inner`) with a computed operand (Operand::Kind::Expr):
  // its step is counted before the operands are computed, since computing one may raise an error.
  Computed,
  // Compiled rules only, from here on (run_tests tests `op >= Some` once for all of them).
  // Loops. Some: `some v in coll` as the rule's first expression, `body` the rest of the rule, run
  // per member until one passes; over kScanMin members or more it answers its leading join tests
  // from the join index (njoin), or else runs the general evaluator instead (its filter memos).
  // Every: `every k, v in coll { body }`.
  Some,
  Every,
  // `x := a` or `x = a` on a fresh variable: register val_reg is bound to ops[0], a borrowed value
  // (an operand, or a lookup with a register key; never a builtin's result, which needs an owner).
  Assign,
  // `x := f(...)` or `x = f(...)` on a fresh variable, `f(...)` a pure call (`call`: deterministic
  // builtins on constants and the `nargs` registers in ops, each Arg operand carrying its frame
  // slot too): the value comes from the evaluator's assignment memos (Evaluator::memo_assigned),
  // which own it, keyed by the expression (memo_id) and the registers' values; a miss computes it
  // from the term in a frame made of those registers.
  MemoAssign,
};

struct CompiledFunc;
struct Rule;

struct TestExpr {
  static constexpr std::size_t kMaxArgs = 3;
  // Registers of a compiled rule: its parameters (at most kMaxParams), then what its loops and
  // assignments bind. (Genpolicy's allow_var has five parameters and a chain of four `replace`
  // assignments in a loop: ten.)
  static constexpr std::size_t kMaxParams = 8;
  static constexpr std::size_t kMaxRegs = 16;
  static constexpr std::uint8_t kNoReg = 0xff;
  TestOp op = TestOp::Truthy;
  TestOp inner = TestOp::Truthy;  // Computed: the test
  CallOp cmp = CallOp::Other;  // Compare: Equal, NotEqual or Member
  bool negated = false;
  std::uint8_t nargs = 0;      // Builtin, Call
  // Some without a key: how many leading body tests are `v.path == y` joins, as the general
  // evaluator finds them (it answers `some` over kScanMin members or more with a join index on
  // those fields, and so does run_some then); 0 hands such collections to the general evaluator.
  std::uint8_t njoin = 0;
  bool plain_args = false;     // Call: every operand is a register without a path (a call block's
                               // registers are then the caller's, copied as they are)
  Loc loc;                     // the expression's (steps are counted there, as in the evaluator)
  // MemoAssign: the expression's Expr::id (0: not shared between evaluations). Some: the Expr::id
  // of the first body expression when it is a pure test of the member only (as the general
  // evaluator's memo_filter takes it), whose verdicts over base data are shared (0: none).
  std::uint32_t memo_id = 0;
  const Term* call = nullptr;  // Builtin, Call: the call term (its builtin or function, location)
  Operand ops[kMaxArgs];       // Truthy, Assign: ops[0]; Compare: ops[0], ops[1]; calls: nargs; loops: coll
  std::uint8_t key_reg = kNoReg, val_reg = kNoReg;  // loops: the registers bound per member
  std::uint32_t nbody = 0;
  union {
    const TestExpr* body = nullptr;  // loops
    const CompiledFunc* cfunc;       // Call: the callee's call block, when it has one
  };
};

// The rules of a plain function that is not indexed (DataNode::cfunc), laid out for a call: one
// arena block holds this header, the rules, then each compiled rule's tests with their paths (and
// key bytes) and loop bodies, in order; a rule that did not compile is marked `general` and run
// by the general evaluator from the block, in its place, after its guards. A call reads that block front to back, where
// the same tests spread over Rule, TestExpr and ConstPath allocations missed the data cache on
// nearly every step (about 20 misses per call of a three-rule function).
struct CompiledRule {
  const TestExpr* tests = nullptr;
  const Value* value = nullptr;  // the rule's constant value; nullptr: `true`
  const Rule* rule = nullptr;    // read only for constant parameters, errors and the general fall-back
  std::uint32_t ntests = 0;      // (a general rule: its guards, Rule::guards)
  bool const_params = false;
  bool general = false;  // not compiled (Rule::compiled false): the general evaluator runs it
};
static_assert(sizeof(CompiledRule) == 32);
static_assert(std::size(ExprOperand{}.args) == TestExpr::kMaxArgs);
struct CompiledFunc {
  std::uint32_t nrules = 0;
  bool early_exit = false;
  bool plain = false;  // early_exit, no rule has constant parameters, at least one rule (run_block)
  const Rule* default_rule = nullptr;
  std::uint64_t data_mask = 0;  // its compiled rules' Rule::data_mask, or-ed
  const CompiledRule* rules() const noexcept { return reinterpret_cast<const CompiledRule*>(this + 1); }
};
static_assert(sizeof(CompiledFunc) % alignof(CompiledRule) == 0);

enum class ExprKind : std::uint8_t { Term, SomeDecl, SomeIn, Every };

struct Expr {
  ExprKind kind = ExprKind::Term;
  Loc loc;
  bool negated = false;
  bool capture = false;       // query-level term: a false value is a result, not a failure
  bool query_level = false;   // top-level query expression: its value is reported
  bool single = false;        // binds nothing: evaluated as a test, without nesting the rest
  const TestExpr* test = nullptr;  // single: the decoded form, when it has one (see TestExpr)
  std::uint32_t id = 0;            // policy expressions: unique in the policy (1, 2, ...); queries: 0
  TermP term;                 // Term: the expression (Call for operators, eq, assign)
  std::vector<With> withs;    // (read with `term` on every step: same cache line)
  std::vector<TermP> vars;    // SomeDecl
  TermP key, val, coll;       // SomeIn / Every (key optional)
  std::shared_ptr<Body> body; // Every
};

using ExprList = std::vector<Expr, NodeAllocator<Expr>>;

struct Body {
  ExprList exprs;
  Loc loc;
  int scope = 0;  // compiler scope id
  // Comprehension bodies: the enclosing scopes' slots the comprehension reads (nouter >
  // kMaxOuter: more than that), and, when its value depends on nothing else, a policy-wide id
  // (shared with Expr::id) under which the evaluator remembers it (0: not; see memo_compr).
  static constexpr std::uint8_t kMaxOuter = 3;
  std::uint8_t nouter = 0;
  int outer[kMaxOuter] = {};
  std::uint32_t memo_id = 0;

  void use_arena(NodeArena* a) { exprs = ExprList(NodeAllocator<Expr>(a)); }  // see make_node
};

enum class RuleKind : std::uint8_t { Complete, MultiValue, Function };

struct Rule {
  // What a call or rule evaluation reads first, in one cache line (see Term).
  int nslots = 0;  // frame size (resolved by the compiler)
  RuleKind kind = RuleKind::Complete;
  bool is_default = false;
  bool assign = false;         // := (vs =)
  bool shares_head = false;    // parser copied head terms from a sibling (v0 multi-body, else)
  bool compiled = false;       // functions: the body is `tests` (see TestExpr)
  // Compiled rules of functions whose body computes the value (compile_value_chain): the register
  // holding it, or kNoReg for the constant `value`. (A chain's first rule holds the calls and
  // data_mask of its `else` rules too.)
  std::uint8_t value_reg = TestExpr::kNoReg;
  bool calls = false;          // compiled: some test calls a user function
  bool const_params = false;   // compiled: some parameter is a constant, compared with its argument
  std::uint32_t ntests = 0;
  const TestExpr* tests = nullptr;
  std::uint64_t data_mask = 0;  // compiled: the data_root_bit of every base-data operand it reads
  // Not compiled: the leading tests of the body that read only the parameters (registers), data
  // and input, which a call runs before it binds a frame; the body then goes on after them.
  const TestExpr* guards = nullptr;
  std::uint32_t nguards = 0;
  bool guard_calls = false;          // some guard calls a user function
  std::uint64_t guard_data_mask = 0;  // as data_mask, for the guards
  TermList args;               // functions
  std::shared_ptr<Body> body;  // may be empty (constant rule)
  TermP value;                 // value (null when implicit `true`)
  std::vector<std::shared_ptr<Rule>> elses;
  Loc loc;
  TermP ref;                   // head reference as written: Ref or Var
  TermP key;                   // MultiValue: the element (contains x / v0 p[x])
  // Resolved by the compiler:
  std::vector<Value> path;          // full data path of the ground prefix
  std::vector<TermP> suffix;        // non-ground head ref terms after the prefix
  std::uint32_t module = 0;

  void use_arena(NodeArena* a) { args = TermList(NodeAllocator<TermP>(a)); }  // see make_node
};

struct Import {
  Loc loc;
  std::vector<std::string> path;  // e.g. {"data","x","y"} or {"future","keywords","in"}
  std::vector<Value> raw;         // path as values (for data refs with non-ident parts)
  std::string alias;
};

// The name a rule defines: its head's first term (`p` of `p.q[x]`).
inline const std::string& rule_name(const Rule& r) {
  return r.ref->kind == TermKind::Var ? r.ref->name : r.ref->items[0]->name;
}

// Appends one key of a reference as OPA prints a Ref: `.name` for an identifier-like string,
// `["b-c"]` or `[1]` (JSON) for any other constant.
inline void append_ref_key(std::string& out, const Value& key) {
  if (key.is_string()) {
    const std::string& s = key.as_string();
    const bool ident = !s.empty() && !(s[0] >= '0' && s[0] <= '9') && std::all_of(s.begin(), s.end(), [](char c) {
      return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
    if (ident) {
      out += '.';
      out += s;
      return;
    }
  }
  out += '[';
  out += to_json(key);
  out += ']';
}

// OPA's ValueName for a term, as its messages name them ("ref", "number", "arraycomprehension").
inline std::string value_name(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar:
      return t.value.is_null() ? "null" : t.value.is_bool() ? "boolean" : t.value.is_number() ? "number" : "string";
    case TermKind::Var: return "var";
    case TermKind::Ref: return "ref";
    case TermKind::Array: return "array";
    case TermKind::Set: return "set";
    case TermKind::Object: return "object";
    case TermKind::Call: return "call";
    case TermKind::ArrayCompr: return "arraycomprehension";
    case TermKind::SetCompr: return "setcomprehension";
    case TermKind::ObjectCompr: return "objectcomprehension";
  }
  return "term";
}

struct Module {
  std::string file;
  std::vector<Value> package;  // path under data
  Loc package_loc;             // the `package` keyword
  std::vector<Import> imports;
  std::vector<std::shared_ptr<Rule>> rules;
  bool v1 = true;
};

}  // namespace cloister::rego
