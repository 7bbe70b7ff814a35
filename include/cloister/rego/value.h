// Rego values: the documents policies read (input, data) and the results they produce.
//
// A Value is immutable and cheap to copy: scalars (null, bool, int64, double) live inline and
// everything else (strings, big integers, arrays, objects, sets) is a shared node with an atomic
// reference count, so a compiled policy's constants can be read from several threads at once.
//
// Ordering and equality follow OPA's ast.Compare: null < boolean < number < string < array <
// object < set; numbers compare by value whatever their representation (1 == 1.0, and an
// integer beyond 64 bits compares exactly); arrays element-wise then by length; objects by their
// sorted (key, value) pairs then size; sets by their sorted elements then size.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cloister/common/result.h"

namespace cloister::rego {

// Order matters: it is OPA's type order for comparison. Undefined is not a Rego value; it marks
// "no value" (an unbound variable, an undefined builtin result) and sorts first.
enum class Kind : std::uint8_t { Undefined, Null, Bool, Number, String, Array, Object, Set };

std::string_view kind_name(Kind k);  // OPA's type names: "null", "boolean", "number", ...

namespace detail {
struct Node {
  mutable std::atomic<std::uint32_t> refs{1};
  virtual ~Node() = default;
  // Heap bytes the node holds (itself and its buffers), for per-evaluation memory limits.
  virtual std::size_t bytes() const noexcept = 0;
};
struct BigNode;
struct StringNode;
struct ArrayNode;
struct ObjectNode;
struct SetNode;
void node_destroy(const Node* n) noexcept;
}  // namespace detail

class Value;
namespace detail {
// Equality of n bytes, inline for the short keys and strings policies compare all the time: two
// overlapping word loads instead of a call into memcmp.
__attribute__((always_inline)) inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  auto load8 = [](const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto load4 = [](const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
  }
  if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
  // 1 to 3 bytes (keys like "f0", "OCI"): two overlapping 2-byte loads, or the one byte.
  auto load2 = [](const char* p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  };
  if (n >= 2) return load2(a) == load2(b) && load2(a + n - 2) == load2(b + n - 2);
  return n == 0 || a[0] == b[0];
}
// Defined here (not in value.cpp) so the accessors below inline: the evaluator reads strings and
// collections on every step, and an out-of-line call per read showed up in callgrind profiles.
extern const std::string kEmptyString;
extern const std::vector<Value> kEmptyVec;
extern const std::vector<std::pair<Value, Value>> kEmptyEntries;
}  // namespace detail

class Value {
 public:
  Value() noexcept : kind_(Kind::Undefined), num_(NumRep::Int), heap_(false), i_(0) {}
  Value(const Value& o) noexcept : kind_(o.kind_), num_(o.num_), heap_(o.heap_), i_(o.i_) { retain(); }
  Value(Value&& o) noexcept : kind_(o.kind_), num_(o.num_), heap_(o.heap_), i_(o.i_) {
    o.kind_ = Kind::Undefined;
    o.heap_ = false;
    o.i_ = 0;
  }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) {
      o.retain();
      release();
      kind_ = o.kind_;
      num_ = o.num_;
      heap_ = o.heap_;
      i_ = o.i_;
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      kind_ = o.kind_;
      num_ = o.num_;
      heap_ = o.heap_;
      i_ = o.i_;
      o.kind_ = Kind::Undefined;
      o.heap_ = false;
      o.i_ = 0;
    }
    return *this;
  }
  ~Value() { release(); }
  // Back to undefined (an unbound variable slot), dropping any node.
  void reset() noexcept {
    release();
    kind_ = Kind::Undefined;
    heap_ = false;
    i_ = 0;
  }

  // --- construction ---
  static Value undefined() { return Value(); }
  static Value null();
  static Value boolean(bool b);
  static Value integer(std::int64_t i);
  static Value floating(double d);  // non-finite values are not Rego numbers: callers check
  // Parses a JSON number literal exactly: integers of any size stay exact; others become double.
  static Result<Value> number_from_string(std::string_view text);
  // number_from_string for Rego and JSON number literals, which OPA keeps as their text
  // (json.Number): an integral literal beyond the double range (2e308) stays exact and prints as
  // written, where number_from_string fails as Go's ParseFloat does.
  static Result<Value> number_from_literal(std::string_view text);
  static Value string(std::string s);
  // The same string, sharing one process-wide node per distinct short text (object keys: JSON
  // parsing and the policy compiler intern them, so a key test can compare nodes before bytes).
  // Bounded: long texts, and any once the table is full, get a node of their own.
  static Value key_string(std::string_view s);
  // key_string's node for `s` (interning it), or nullptr when `s` is not interned: what
  // node_id() of an interned key equals.
  static const void* key_node(std::string_view s);
  static Value array(std::vector<Value> items);
  // Sorts and removes duplicates.
  static Value set(std::vector<Value> items);
  // Sorts by key. Later duplicates of a key are dropped (callers that care check first).
  static Value object(std::vector<std::pair<Value, Value>> entries);
  static Value empty_array();
  static Value empty_object();
  static Value empty_set();

  // --- inspection ---
  Kind kind() const noexcept { return kind_; }
  bool is_undefined() const noexcept { return kind_ == Kind::Undefined; }
  bool is_defined() const noexcept { return kind_ != Kind::Undefined; }
  bool is_null() const noexcept { return kind_ == Kind::Null; }
  bool is_bool() const noexcept { return kind_ == Kind::Bool; }
  bool is_number() const noexcept { return kind_ == Kind::Number; }
  bool is_string() const noexcept { return kind_ == Kind::String; }
  bool is_array() const noexcept { return kind_ == Kind::Array; }
  bool is_object() const noexcept { return kind_ == Kind::Object; }
  bool is_set() const noexcept { return kind_ == Kind::Set; }
  bool is_collection() const noexcept { return kind_ >= Kind::Array; }

  bool as_bool() const noexcept { return b_; }
  bool is_true() const noexcept { return kind_ == Kind::Bool && b_; }
  bool is_false() const noexcept { return kind_ == Kind::Bool && !b_; }

  // Numbers: exactly one representation is active.
  bool is_int() const noexcept { return kind_ == Kind::Number && num_ == NumRep::Int; }
  bool is_big() const noexcept { return kind_ == Kind::Number && num_ == NumRep::Big; }
  bool is_float() const noexcept { return kind_ == Kind::Number && num_ == NumRep::Float; }
  std::int64_t as_int() const noexcept { return i_; }
  double as_float() const noexcept { return d_; }
  // Integral value (int, big, or a float with no fractional part)?
  bool is_integral() const;
  // The number as int64 when it is integral and fits.
  bool to_int64(std::int64_t& out) const;
  double to_double() const;
  // Decimal digits of an integral number (any size); empty if not integral.
  std::string integer_string() const;

  inline const std::string& as_string() const;
  inline const std::vector<Value>& array_items() const;
  inline const std::vector<std::pair<Value, Value>>& object_entries() const;
  inline const std::vector<Value>& set_items() const;
  // Element count of a string (bytes), array, object or set.
  inline std::size_t size() const;

  // Object lookup; nullptr when absent (or not an object).
  const Value* get(const Value& key) const;
  const Value* get(std::string_view key) const;
  // The same, trying entry `hint` first and setting it to the key's index when found: callers
  // that look one key up in many objects of one shape (a policy's `m.destination` over a
  // request's mounts) keep the index and mostly skip the search.
  inline const Value* get(std::string_view key, std::uint32_t& hint) const;
  bool set_contains(const Value& v) const;

  // Identity of the shared node (for caches); 0 for inline scalars.
  const void* node_id() const noexcept { return is_heap() ? static_cast<const void*>(p_) : nullptr; }

  // Internal access for the number helpers.
  const detail::BigNode* big_node() const noexcept { return reinterpret_cast<const detail::BigNode*>(p_); }
  static Value from_big_node(detail::BigNode* n);  // takes ownership of one reference

 private:
  enum class NumRep : std::uint8_t { Int, Big, Float };
  const Value* get_searched(std::string_view key, std::uint32_t& hint) const;
  static constexpr std::size_t kNoKey = ~std::size_t{0};
  std::size_t find_key(std::string_view key) const;  // entry index of string key, or kNoKey
  // Strings, big integers and collections: a shared node (kept as a flag, tested on every copy).
  bool is_heap() const noexcept { return heap_; }
  void retain() const noexcept {
    // The null test never fires for heap kinds; it keeps GCC 12 from a false -Wstringop-overflow.
    if (is_heap() && p_) p_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (is_heap() && p_ && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) detail::node_destroy(p_);
  }
  static Value heap(Kind k, NumRep r, detail::Node* n) {
    Value v;
    v.kind_ = k;
    v.num_ = r;
    v.heap_ = true;
    v.p_ = n;
    return v;
  }

  Kind kind_;
  NumRep num_;
  bool heap_;
  union {
    bool b_;
    std::int64_t i_;
    double d_;
    detail::Node* p_;
  };
};

namespace detail {
struct StringNode : Node {
  std::string s;
  explicit StringNode(std::string v) : s(std::move(v)) {}
  std::size_t bytes() const noexcept override { return sizeof *this + s.capacity(); }
};
struct ArrayNode : Node {
  std::vector<Value> items;
  explicit ArrayNode(std::vector<Value> v) : items(std::move(v)) {}
  std::size_t bytes() const noexcept override { return sizeof *this + items.capacity() * sizeof(Value); }
};
struct ObjectNode : Node {
  std::vector<std::pair<Value, Value>> entries;
  explicit ObjectNode(std::vector<std::pair<Value, Value>> v) : entries(std::move(v)) {}
  std::size_t bytes() const noexcept override {
    return sizeof *this + entries.capacity() * sizeof(std::pair<Value, Value>);
  }
};
struct SetNode : Node {
  std::vector<Value> items;
  explicit SetNode(std::vector<Value> v) : items(std::move(v)) {}
  std::size_t bytes() const noexcept override { return sizeof *this + items.capacity() * sizeof(Value); }
};
}  // namespace detail

// (Inline: loops make an index key per array member, and builtins a boolean per test.)
inline Value Value::null() {
  Value v;
  v.kind_ = Kind::Null;
  return v;
}
inline Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.i_ = 0;
  v.b_ = b;
  return v;
}
inline Value Value::integer(std::int64_t i) {
  Value v;
  v.kind_ = Kind::Number;
  v.num_ = NumRep::Int;
  v.i_ = i;
  return v;
}

inline const std::string& Value::as_string() const {
  return kind_ == Kind::String ? static_cast<const detail::StringNode*>(p_)->s : detail::kEmptyString;
}
inline const std::vector<Value>& Value::array_items() const {
  return kind_ == Kind::Array ? static_cast<const detail::ArrayNode*>(p_)->items : detail::kEmptyVec;
}
inline const std::vector<std::pair<Value, Value>>& Value::object_entries() const {
  return kind_ == Kind::Object ? static_cast<const detail::ObjectNode*>(p_)->entries : detail::kEmptyEntries;
}
inline const std::vector<Value>& Value::set_items() const {
  return kind_ == Kind::Set ? static_cast<const detail::SetNode*>(p_)->items : detail::kEmptyVec;
}

inline std::size_t Value::size() const {
  switch (kind_) {
    case Kind::String: return as_string().size();
    case Kind::Array: return array_items().size();
    case Kind::Object: return object_entries().size();
    case Kind::Set: return set_items().size();
    default: return 0;
  }
}

inline const Value* Value::get(std::string_view key, std::uint32_t& hint) const {
  if (kind_ != Kind::Object) return nullptr;
  const auto& e = object_entries();
  if (hint < e.size()) {
    const Value& k = e[hint].first;
    if (k.kind_ == Kind::String) {
      const std::string& s = k.as_string();
      if (s.size() == key.size() && detail::same_bytes(s.data(), key.data(), key.size())) return &e[hint].second;
    }
  }
  return get_searched(key, hint);
}
// Total order (OPA's ast.Compare): negative, zero or positive.
int compare(const Value& a, const Value& b);
// compare(a, b) == 0, decided without ordering: sizes and shared nodes settle most cases before
// any element is read (policies test equality far more often than they sort).
bool equal_slow(const Value& a, const Value& b);
inline bool equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
  if (a.kind() == Kind::String) {
    const std::string& x = a.as_string();
    const std::string& y = b.as_string();
    if (x.size() != y.size()) return false;
    if (&x == &y || x.empty()) return true;
    // Policy strings of one length tend to share a prefix (VAR_12=..., /mnt/data3) and differ at
    // the end: testing the last byte first skips most memcmp calls.
    return x.back() == y.back() && detail::same_bytes(x.data(), y.data(), x.size());
  }
  return equal_slow(a, b);
}
inline bool operator==(const Value& a, const Value& b) { return equal(a, b); }
inline bool operator!=(const Value& a, const Value& b) { return !equal(a, b); }
inline bool operator<(const Value& a, const Value& b) { return compare(a, b) < 0; }
inline bool operator>(const Value& a, const Value& b) { return compare(a, b) > 0; }


struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return compare(a, b) < 0; }
};

std::size_t hash_value(const Value& v);

// --- JSON ---
struct JsonLimits {
  std::size_t max_depth = 1000;
};
// Strict JSON (RFC 8259); numbers kept exact as described above. Errors name the byte offset.
Result<Value> parse_json(std::string_view text, JsonLimits limits = {});
// Compact JSON as OPA prints it: sets become sorted arrays; non-string object keys become their
// JSON text (as OPA does when serialising); numbers as described in format_number.
std::string to_json(const Value& v);
void append_json(std::string& out, const Value& v);
// Indented JSON as Go's json.MarshalIndent lays it out: every line after the first starts with
// `prefix`, then one `indent` per nesting level. The defaults are for human-facing output.
std::string to_json_pretty(const Value& v, std::string_view prefix = "", std::string_view indent = "  ");
// Rego text of a value (used by print and sprintf's %v): sets as {a, b}, the empty set as set().
std::string to_rego_string(const Value& v);
// Number text: integers as digits; other numbers in the shortest form that round-trips.
std::string format_number(const Value& v);
// JSON-escapes `s` with surrounding quotes.
void append_json_string(std::string& out, std::string_view s);

// For diagnostics (gtest, logs): the value as JSON.
inline std::ostream& operator<<(std::ostream& os, const Value& v) { return os << to_json(v); }

}  // namespace cloister::rego
