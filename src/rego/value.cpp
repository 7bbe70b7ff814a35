#include "cloister/rego/value.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "builtins/text.h"
#include "number.h"
#include "publish_table.h"
#include "value_budget.h"

namespace cloister::rego {

namespace detail {
namespace {
thread_local ValueBudget* tl_budget = nullptr;
}  // namespace

ValueBudget::ValueBudget(std::size_t limit) noexcept {
  if (limit == 0) return;
  installed_ = true;
  limit_ = static_cast<std::int64_t>(limit);
  prev_ = tl_budget;
  tl_budget = this;
}
ValueBudget::~ValueBudget() {
  if (installed_) tl_budget = prev_;
}
void ValueBudget::charge(std::size_t bytes) {
  ValueBudget* b = tl_budget;
  if (!b) return;
  b->live_ += static_cast<std::int64_t>(bytes);
  if (b->live_ > b->peak_) b->peak_ = b->live_;
  if (b->live_ > b->limit_) throw ValueBudgetExceeded();
}
void ValueBudget::credit(std::size_t bytes) noexcept {
  if (ValueBudget* b = tl_budget) b->live_ -= static_cast<std::int64_t>(bytes);
}

void node_destroy(const Node* n) noexcept {
  if (tl_budget) ValueBudget::credit(n->bytes());
  delete n;
}
const std::string kEmptyString;
const std::vector<Value> kEmptyVec;
const std::vector<std::pair<Value, Value>> kEmptyEntries;
}  // namespace detail

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::Undefined: return "undefined";
    case Kind::Null: return "null";
    case Kind::Bool: return "boolean";
    case Kind::Number: return "number";
    case Kind::String: return "string";
    case Kind::Array: return "array";
    case Kind::Object: return "object";
    case Kind::Set: return "set";
  }
  return "unknown";
}

Value Value::floating(double d) {
  // Integral doubles in int64 range become ints so equal numbers share one representation
  // (hashing, printing "3" for 1.5*2 as OPA does).
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15) {
    return integer(static_cast<std::int64_t>(d));
  }
  Value v;
  v.kind_ = Kind::Number;
  v.num_ = NumRep::Float;
  v.d_ = d;
  return v;
}
// Every node is created here; `v` owns it before the charge, so a charge over the limit frees it.
static Value charged(Value v, const detail::Node* n) {
  detail::ValueBudget::charge(n->bytes());
  return v;
}

Value Value::from_big_node(detail::BigNode* n) { return charged(heap(Kind::Number, NumRep::Big, n), n); }

Result<Value> Value::number_from_string(std::string_view text) {
  if (text.empty()) return make_error(Errc::parse, "empty number");
  bool integral = text.find_first_of(".eE") == std::string_view::npos;
  if (integral) {
    std::int64_t i = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && ptr == text.data() + text.size()) return integer(i);
    mpz_class z;
    std::string s(text);
    if (!s.empty() && s[0] == '+') s.erase(0, 1);
    if (z.set_str(s, 10) != 0) return make_error(Errc::parse, "invalid number '" + std::string(text) + "'");
    return from_mpz(z);
  }
  // Exponent forms that are integral (1e3) stay exact when small enough.
  std::string s(text);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return make_error(Errc::parse, "invalid number '" + s + "'");
  if (!std::isfinite(d)) return make_error(Errc::parse, "number out of range '" + s + "'");
  return floating(d);
}

Result<Value> Value::number_from_literal(std::string_view text) {
  auto v = number_from_string(text);
  if (v || text.find_first_of("eE") == std::string_view::npos) return v;
  // Beyond the double range: exact when integral, mantissa digits times a power of ten.
  const bool neg = text[0] == '-';
  const std::size_t e = text.find_first_of("eE");
  if (e + 1 >= text.size()) return v;
  const std::string_view mantissa = text.substr(neg ? 1 : 0, e - (neg ? 1 : 0));
  const std::size_t dot = std::min(mantissa.find('.'), mantissa.size());
  std::string digits(mantissa.substr(0, dot));
  if (dot < mantissa.size()) digits.append(mantissa.substr(dot + 1));
  long shift = -static_cast<long>(mantissa.size() - std::min(dot + 1, mantissa.size()));  // fraction digits
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return v;
  long exp = 0;
  auto [ptr, ec] = std::from_chars(text.data() + e + 1 + (text[e + 1] == '+'), text.data() + text.size(), exp);
  // (A cap on the digits: 10^10000 is 4 KB of mpz; OPA's own range for such literals is unbounded.)
  constexpr long kMaxDigits = 10000;
  if (ec != std::errc() || ptr != text.data() + text.size() || exp > kMaxDigits)
    return make_error(Errc::parse, "number out of range '" + std::string(text) + "'");
  shift += exp;
  while (shift < 0 && digits.size() > 1 && digits.back() == '0') digits.pop_back(), ++shift;
  if (shift < 0 || static_cast<long>(digits.size()) + shift > kMaxDigits)
    return make_error(Errc::parse, "number out of range '" + std::string(text) + "'");
  mpz_class z(digits, 10);
  mpz_class scale;
  mpz_ui_pow_ui(scale.get_mpz_t(), 10, static_cast<unsigned long>(shift));
  z *= scale;
  if (neg) z = -z;
  return from_big_node(new detail::BigNode(std::move(z), std::string(text)));
}

Value Value::string(std::string s) {
  auto* n = new detail::StringNode(std::move(s));
  return charged(heap(Kind::String, NumRep::Int, n), n);
}

namespace {
// The interned key nodes: open addressing over a fixed table, lock-free (a slot goes from empty to
// a node once, by compare-and-swap, and never changes again). The table keeps one reference to
// each node, so interned nodes live as long as the process and a node's address names its text.
// Size and probe length bound the memory (at most kSlots nodes of at most kMaxKey bytes) and the
// work per key; texts that do not fit get ordinary nodes, which only compare slower.
class KeyTable {
 public:
  static constexpr std::size_t kMaxKey = 32;

  detail::StringNode* find_or_add(std::string_view s) {
    if (s.size() > kMaxKey) return nullptr;
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return table_.find_or_add(
        h, [&](const detail::StringNode& n) { return n.s == s; },
        // (Not charged to an evaluation's budget: it outlives evaluations.)
        [&] { return std::make_unique<detail::StringNode>(std::string(s)); });
  }

 private:
  detail::PublishTable<detail::StringNode> table_{std::size_t{1} << 15, 8};
};
KeyTable& key_table() {
  static KeyTable* t = new KeyTable;  // never destroyed: interned nodes outlive static destructors
  return *t;
}
}  // namespace

const void* Value::key_node(std::string_view s) { return key_table().find_or_add(s); }

Value Value::key_string(std::string_view s) {
  detail::StringNode* n = key_table().find_or_add(s);
  if (!n) return string(std::string(s));
  n->refs.fetch_add(1, std::memory_order_relaxed);
  return heap(Kind::String, NumRep::Int, n);
}
Value Value::array(std::vector<Value> items) {
  auto* n = new detail::ArrayNode(std::move(items));
  return charged(heap(Kind::Array, NumRep::Int, n), n);
}
Value Value::set(std::vector<Value> items) {
  std::sort(items.begin(), items.end(), ValueLess{});
  items.erase(std::unique(items.begin(), items.end(), [](const Value& a, const Value& b) { return a == b; }),
              items.end());
  auto* n = new detail::SetNode(std::move(items));
  return charged(heap(Kind::Set, NumRep::Int, n), n);
}
Value Value::object(std::vector<std::pair<Value, Value>> entries) {
  auto less = [](const auto& a, const auto& b) { return compare(a.first, b.first) < 0; };
  // Entries already in order without duplicates (the JSON parser's, and most builders') are
  // taken as they are: std::stable_sort would allocate a buffer even then.
  bool ordered = true;
  for (std::size_t i = 1; ordered && i < entries.size(); ++i) ordered = less(entries[i - 1], entries[i]);
  if (!ordered) {
    std::stable_sort(entries.begin(), entries.end(), less);
    entries.erase(std::unique(entries.begin(), entries.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  entries.end());
  }
  auto* n = new detail::ObjectNode(std::move(entries));
  return charged(heap(Kind::Object, NumRep::Int, n), n);
}
Value Value::empty_array() { return array({}); }
Value Value::empty_object() { return object({}); }
Value Value::empty_set() { return set({}); }

const Value* Value::get(const Value& key) const {
  if (kind_ != Kind::Object) return nullptr;
  const auto& e = object_entries();
  auto it = std::lower_bound(e.begin(), e.end(), key,
                             [](const auto& entry, const Value& k) { return compare(entry.first, k) < 0; });
  if (it != e.end() && it->first == key) return &it->second;
  return nullptr;
}

const Value* Value::get(std::string_view key) const {
  std::size_t i = find_key(key);
  return i == kNoKey ? nullptr : &object_entries()[i].second;
}

const Value* Value::get_searched(std::string_view key, std::uint32_t& hint) const {
  std::size_t i = find_key(key);
  if (i == kNoKey) return nullptr;
  hint = static_cast<std::uint32_t>(i);
  return &object_entries()[i].second;
}

std::size_t Value::find_key(std::string_view key) const {
  if (kind_ != Kind::Object) return kNoKey;
  const auto& e = object_entries();
  // Small objects (most OCI and policy records): a length test and the last and first bytes
  // reject nearly every entry without a byte comparison (keys like f0..f11 differ at the end),
  // which beats the ordered search's string comparisons.
  if (e.size() <= 16) {
    const std::size_t n = key.size();
    if (n == 0) {
      for (std::size_t i = 0; i < e.size(); ++i)
        if (e[i].first.is_string() && e[i].first.as_string().empty()) return i;
      return kNoKey;
    }
    const char first = key[0], last = key[n - 1];
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (!e[i].first.is_string()) continue;
      const std::string& s = e[i].first.as_string();
      if (s.size() == n && s[n - 1] == last && s[0] == first && detail::same_bytes(s.data(), key.data(), n)) return i;
    }
    return kNoKey;
  }
  // String keys sort after null/bool/number keys and before composite keys.
  auto it = std::lower_bound(e.begin(), e.end(), key, [](const auto& entry, std::string_view k) {
    if (entry.first.kind() != Kind::String) return entry.first.kind() < Kind::String;
    return std::string_view(entry.first.as_string()) < k;
  });
  if (it != e.end() && it->first.is_string() && it->first.as_string() == key) return static_cast<std::size_t>(it - e.begin());
  return kNoKey;
}

bool Value::set_contains(const Value& v) const {
  if (kind_ != Kind::Set) return false;
  return std::binary_search(set_items().begin(), set_items().end(), v, ValueLess{});
}

bool Value::is_integral() const {
  if (kind_ != Kind::Number) return false;
  if (num_ == NumRep::Float) return std::isfinite(d_) && d_ == std::trunc(d_);
  return true;
}
bool Value::to_int64(std::int64_t& out) const {
  if (kind_ != Kind::Number) return false;
  switch (num_) {
    case NumRep::Int: out = i_; return true;
    case NumRep::Big: {
      const mpz_class& z = big_node()->z;
      if (!z.fits_slong_p()) return false;
      out = z.get_si();
      return true;
    }
    case NumRep::Float:
      if (!is_integral() || std::fabs(d_) > 9.2e18) return false;
      out = static_cast<std::int64_t>(d_);
      return true;
  }
  return false;
}
double Value::to_double() const {
  if (kind_ != Kind::Number) return 0;
  switch (num_) {
    case NumRep::Int: return static_cast<double>(i_);
    case NumRep::Big: return big_node()->z.get_d();
    case NumRep::Float: return d_;
  }
  return 0;
}
std::string Value::integer_string() const {
  if (!is_integral()) return {};
  if (num_ == NumRep::Int) return std::to_string(i_);
  return to_mpz(*this).get_str();
}

// ---------------------------------------------------------------- numbers

mpz_class to_mpz(const Value& v) {
  if (v.is_int()) {
    mpz_class z;
    // mpz from int64 portably (long is 64-bit on our targets).
    z = static_cast<long>(v.as_int());
    return z;
  }
  if (v.is_big()) return v.big_node()->z;
  return mpz_class(v.to_double());
}

Value from_mpz(const mpz_class& z) {
  if (z.fits_slong_p()) return Value::integer(z.get_si());
  return Value::from_big_node(new detail::BigNode(z));
}

namespace {
// The double nearest to a / b (a, b > 0), ties to even, as IEEE division rounds: mpq_get_d
// truncates, which made 21 / 5 print as 4.199999999999999. Infinity past the double range.
double nearest_double(const mpz_class& a, const mpz_class& b) {
  constexpr long kMant = 53, kMinExp = -1074;  // binary64: 53-bit significand, least subnormal 2^-1074
  // q = a / b lies in [2^(d-1), 2^(d+1)) with d = bits(a) - bits(b); choose the scale 2^e that
  // leaves a quotient of kMant or kMant + 1 bits (fewer for subnormals).
  const long d = static_cast<long>(mpz_sizeinbase(a.get_mpz_t(), 2)) - static_cast<long>(mpz_sizeinbase(b.get_mpz_t(), 2));
  long e = std::max(d - kMant, kMinExp);
  mpz_class num = a, den = b;
  if (e < 0) num <<= static_cast<mp_bitcnt_t>(-e);
  else den <<= static_cast<mp_bitcnt_t>(e);
  mpz_class n, r;
  mpz_tdiv_qr(n.get_mpz_t(), r.get_mpz_t(), num.get_mpz_t(), den.get_mpz_t());
  if (mpz_sizeinbase(n.get_mpz_t(), 2) > static_cast<std::size_t>(kMant)) {
    // One bit too many: halve, keeping the dropped bit in the remainder (r' = r + (n & 1) * den).
    if (mpz_odd_p(n.get_mpz_t())) r += den;
    n >>= 1;
    den <<= 1;
    ++e;
  }
  const int c = cmp(mpz_class(r * 2), den);
  if (c > 0 || (c == 0 && mpz_odd_p(n.get_mpz_t()))) ++n;  // (n may reach 2^53: still exact in a double)
  return std::ldexp(n.get_d(), static_cast<int>(std::clamp<long>(e, INT_MIN, INT_MAX)));
}
}  // namespace

Value from_rational(const mpq_class& q) {
  if (q.get_den() == 1) return from_mpz(q.get_num());
  const double m = nearest_double(abs(q.get_num()), q.get_den());
  if (std::isfinite(m)) return Value::floating(q < 0 ? -m : m);
  return from_mpz(mpz_class(q));  // (mpz_class of a rational truncates toward zero)
}

namespace {
bool both_int(const Value& a, const Value& b) { return a.is_int() && b.is_int(); }
bool both_exact(const Value& a, const Value& b) { return !a.is_float() && !b.is_float(); }

mpq_class to_mpq(const Value& v) { return v.is_float() ? mpq_class(v.as_float()) : mpq_class(to_mpz(v)); }

// The double result `d` of a mixed or float operation, unless it overflowed: Rego numbers have no
// infinity (OPA computes with big.Float), and an integer operand beyond the double range reads as
// one through to_double. Such results are computed again exactly (`exact`) and made a number by
// from_rational. (A Float value is always finite: comparisons convert it to a rational.)
template <typename Exact>
Value float_result(double d, Exact exact) {
  if (std::isfinite(d)) [[likely]]
    return Value::floating(d);
  return from_rational(exact());
}
}  // namespace

Value num_add(const Value& a, const Value& b) {
  if (both_int(a, b)) {
    std::int64_t r;
    if (!__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Value::integer(r);
  }
  if (both_exact(a, b)) return from_mpz(to_mpz(a) + to_mpz(b));
  return float_result(a.to_double() + b.to_double(), [&] { return mpq_class(to_mpq(a) + to_mpq(b)); });
}
Value num_sub(const Value& a, const Value& b) {
  if (both_int(a, b)) {
    std::int64_t r;
    if (!__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return Value::integer(r);
  }
  if (both_exact(a, b)) return from_mpz(to_mpz(a) - to_mpz(b));
  return float_result(a.to_double() - b.to_double(), [&] { return mpq_class(to_mpq(a) - to_mpq(b)); });
}
Value num_mul(const Value& a, const Value& b) {
  if (both_int(a, b)) {
    std::int64_t r;
    if (!__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return Value::integer(r);
  }
  if (both_exact(a, b)) return from_mpz(to_mpz(a) * to_mpz(b));
  return float_result(a.to_double() * b.to_double(), [&] { return mpq_class(to_mpq(a) * to_mpq(b)); });
}
Value num_div(const Value& a, const Value& b) {
  if (num_compare(b, Value::integer(0)) == 0) return Value::undefined();
  if (both_exact(a, b)) {
    mpz_class za = to_mpz(a), zb = to_mpz(b);
    if (zb == 0) return Value::undefined();
    if (mpz_divisible_p(za.get_mpz_t(), zb.get_mpz_t())) return from_mpz(za / zb);
    mpq_class q(za, zb);
    q.canonicalize();
    return from_rational(q);
  }
  // (b is not zero: tested above, exactly.)
  return float_result(a.to_double() / b.to_double(), [&] { return mpq_class(to_mpq(a) / to_mpq(b)); });
}
Value num_rem(const Value& a, const Value& b) {
  if (both_int(a, b) && b.as_int() != 0 && !(a.as_int() == INT64_MIN && b.as_int() == -1)) {
    return Value::integer(a.as_int() % b.as_int());
  }
  mpz_class za = to_mpz(a), zb = to_mpz(b);
  if (zb == 0) return Value::undefined();
  mpz_class r;
  mpz_tdiv_r(r.get_mpz_t(), za.get_mpz_t(), zb.get_mpz_t());
  return from_mpz(r);
}
Value num_neg(const Value& a) { return num_sub(Value::integer(0), a); }
Value num_abs(const Value& a) { return num_compare(a, Value::integer(0)) < 0 ? num_neg(a) : a; }

int num_compare(const Value& a, const Value& b) {
  if (both_int(a, b)) return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  if (both_exact(a, b)) {
    int c = cmp(to_mpz(a), to_mpz(b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_float() && b.is_float()) {
    return a.as_float() < b.as_float() ? -1 : (a.as_float() > b.as_float() ? 1 : 0);
  }
  // Mixed exact/float: compare exactly through rationals so huge integers are not rounded. (A
  // Float is finite — see float_result — and GMP aborts on a rational from an infinity, so one that
  // is not would be compared as a double rather than take the process down.)
  if ((a.is_float() && !std::isfinite(a.as_float())) || (b.is_float() && !std::isfinite(b.as_float()))) [[unlikely]] {
    const double x = a.to_double(), y = b.to_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  int c = cmp(to_mpq(a), to_mpq(b));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// ---------------------------------------------------------------- ordering

namespace {
int cmp3(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }
}  // namespace

int compare(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return a.kind() < b.kind() ? -1 : 1;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::Null: return 0;
    case Kind::Bool: return a.as_bool() == b.as_bool() ? 0 : (a.as_bool() ? 1 : -1);
    case Kind::Number: return num_compare(a, b);
    case Kind::String:
      if (a.node_id() == b.node_id()) return 0;
      return cmp3(a.as_string().compare(b.as_string()));
    case Kind::Array: {
      if (a.node_id() == b.node_id()) return 0;
      const auto& x = a.array_items();
      const auto& y = b.array_items();
      std::size_t n = std::min(x.size(), y.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (int c = compare(x[i], y[i])) return c;
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    case Kind::Object: {
      if (a.node_id() == b.node_id()) return 0;
      const auto& x = a.object_entries();
      const auto& y = b.object_entries();
      std::size_t n = std::min(x.size(), y.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (int c = compare(x[i].first, y[i].first)) return c;
        if (int c = compare(x[i].second, y[i].second)) return c;
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    case Kind::Set: {
      if (a.node_id() == b.node_id()) return 0;
      const auto& x = a.set_items();
      const auto& y = b.set_items();
      std::size_t n = std::min(x.size(), y.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (int c = compare(x[i], y[i])) return c;
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
  }
  return 0;
}

bool equal_slow(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.node_id() && a.node_id() == b.node_id()) return true;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::Null: return true;
    case Kind::Bool: return a.as_bool() == b.as_bool();
    case Kind::Number: return num_compare(a, b) == 0;
    case Kind::String: return a.as_string() == b.as_string();
    case Kind::Array:
    case Kind::Set: {
      const auto& x = a.kind() == Kind::Array ? a.array_items() : a.set_items();
      const auto& y = b.kind() == Kind::Array ? b.array_items() : b.set_items();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!equal(x[i], y[i])) return false;
      return true;
    }
    case Kind::Object: {
      const auto& x = a.object_entries();
      const auto& y = b.object_entries();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!equal(x[i].first, y[i].first) || !equal(x[i].second, y[i].second)) return false;
      return true;
    }
  }
  return false;
}

std::size_t hash_value(const Value& v) {
  auto mix = [](std::size_t h, std::size_t x) { return h ^ (x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); };
  std::size_t h = static_cast<std::size_t>(v.kind());
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::Null: return h;
    case Kind::Bool: return mix(h, v.as_bool());
    case Kind::Number: {
      std::int64_t i;
      if (v.to_int64(i)) return mix(h, std::hash<std::int64_t>{}(i));
      if (v.is_float()) return mix(h, std::hash<double>{}(v.as_float()));
      return mix(h, std::hash<std::string>{}(v.integer_string()));
    }
    case Kind::String: return mix(h, std::hash<std::string>{}(v.as_string()));
    case Kind::Array:
      for (const auto& x : v.array_items()) h = mix(h, hash_value(x));
      return h;
    case Kind::Object:
      for (const auto& [k, x] : v.object_entries()) h = mix(mix(h, hash_value(k)), hash_value(x));
      return h;
    case Kind::Set:
      for (const auto& x : v.set_items()) h = mix(h, hash_value(x));
      return h;
  }
  return h;
}

// ---------------------------------------------------------------- JSON text

std::string format_number(const Value& v) {
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_big()) return v.big_node()->text.empty() ? v.big_node()->z.get_str() : v.big_node()->text;
  double d = v.as_float();
  if (d == std::trunc(d) && std::fabs(d) < 1e21) {
    // Integral doubles print without a fraction, as OPA's big.Float formatting does.
    return mpz_class(d).get_str();
  }
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
  (void)ec;
  std::string s(buf, ptr);
  // Go prints exponents as e+21 / e-07; keep to_chars' shortest digits with Go's exponent style.
  auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e);
    std::string exp = s.substr(e + 1);
    char sign = '+';
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) {
      sign = exp[0];
      exp.erase(0, 1);
    }
    if (exp.size() < 2) exp = std::string(2 - exp.size(), '0') + exp;
    std::string r;
    r.reserve(mant.size() + exp.size() + 2);
    r.append(mant);
    r.push_back('e');
    r.push_back(sign);
    r.append(exp);
    s.swap(r);
  }
  return s;
}

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': out += "\\u003c"; break;  // Go's encoding/json escapes HTML-significant bytes
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_json(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: out += "undefined"; return;
    case Kind::Null: out += "null"; return;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Kind::Number: out += format_number(v); return;
    case Kind::String: append_json_string(out, v.as_string()); return;
    case Kind::Array:
    case Kind::Set: {
      out.push_back('[');
      bool first = true;
      for (const auto& x : v.is_array() ? v.array_items() : v.set_items()) {
        if (!first) out.push_back(',');
        first = false;
        append_json(out, x);
      }
      out.push_back(']');
      return;
    }
    case Kind::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, x] : v.object_entries()) {
        if (!first) out.push_back(',');
        first = false;
        if (k.is_string()) {
          append_json_string(out, k.as_string());
        } else {
          append_json_string(out, to_json(k));
        }
        out.push_back(':');
        append_json(out, x);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string to_json(const Value& v) {
  std::string out;
  append_json(out, v);
  return out;
}

namespace {
void append_pretty(std::string& out, const Value& v, std::string_view prefix, std::string_view indent, int depth) {
  auto nl = [&](int d) {
    out.push_back('\n');
    out += prefix;
    for (int k = 0; k < d; ++k) out += indent;
  };
  if (v.is_array() || v.is_set()) {
    const auto& items = v.is_array() ? v.array_items() : v.set_items();
    if (items.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
      nl(depth + 1);
      append_pretty(out, items[i], prefix, indent, depth + 1);
      if (i + 1 < items.size()) out.push_back(',');
    }
    nl(depth);
    out.push_back(']');
  } else if (v.is_object()) {
    const auto& e = v.object_entries();
    if (e.empty()) {
      out += "{}";
      return;
    }
    out.push_back('{');
    for (std::size_t i = 0; i < e.size(); ++i) {
      nl(depth + 1);
      append_json_string(out, e[i].first.is_string() ? e[i].first.as_string() : to_json(e[i].first));
      out += ": ";
      append_pretty(out, e[i].second, prefix, indent, depth + 1);
      if (i + 1 < e.size()) out.push_back(',');
    }
    nl(depth);
    out.push_back('}');
  } else {
    append_json(out, v);
  }
}

void append_rego(std::string& out, const Value& v);

void append_rego_items(std::string& out, const std::vector<Value>& items, char open, char close) {
  out.push_back(open);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_rego(out, items[i]);
  }
  out.push_back(close);
}

void append_rego(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Set:
      if (v.set_items().empty()) {
        out += "set()";
        return;
      }
      append_rego_items(out, v.set_items(), '{', '}');
      return;
    case Kind::Array: append_rego_items(out, v.array_items(), '[', ']'); return;
    case Kind::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, x] : v.object_entries()) {
        if (!first) out += ", ";
        first = false;
        append_rego(out, k);
        out += ": ";
        append_rego(out, x);
      }
      out.push_back('}');
      return;
    }
    case Kind::String: {
      // Rego string literals use Go's quoting, which matches JSON's except for HTML bytes.
      out.push_back('"');
      for (unsigned char c : v.as_string()) {
        if (c == '"' || c == '\\') {
          out.push_back('\\');
          out.push_back(static_cast<char>(c));
        } else if (c == '\n') {
          out += "\\n";
        } else if (c == '\t') {
          out += "\\t";
        } else if (c == '\r') {
          out += "\\r";
        } else {
          out.push_back(static_cast<char>(c));
        }
      }
      out.push_back('"');
      return;
    }
    default: append_json(out, v);
  }
}

// ---------------------------------------------------------------- JSON parser

class JsonParser {
 public:
  JsonParser(std::string_view s, JsonLimits l) : s_(s), limits_(l) {}

  Result<Value> parse_document() {
    skip_ws();
    auto v = parse_value(0);
    if (!v) return v;
    skip_ws();
    if (pos_ != s_.size()) return fail("trailing characters");
    return v;
  }

 private:
  tl::unexpected<Error> fail(const std::string& what) {
    return make_error(Errc::parse, "JSON: " + what + " at offset " + std::to_string(pos_));
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(pos_, w.size()) == w) {
      pos_ += w.size();
      return true;
    }
    return false;
  }

  Result<Value> parse_value(std::size_t depth) {
    if (depth > limits_.max_depth) return fail("nesting too deep");
    if (pos_ >= s_.size()) return fail("unexpected end of input");
    char c = s_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') {
      auto s = parse_string();
      if (!s) return forward_error(s.error());
      return Value::string(std::string(*s));
    }
    if (lit("true")) return Value::boolean(true);
    if (lit("false")) return Value::boolean(false);
    if (lit("null")) return Value::null();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    return fail(std::string("unexpected character '") + c + "'");
  }

  Result<Value> parse_number() {
    std::size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      std::size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - b;
    };
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return fail("invalid number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return fail("invalid number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return fail("invalid number");
    }
    return Value::number_from_literal(s_.substr(start, pos_ - start));
  }

  bool hex4(std::uint32_t& out) {
    if (pos_ + 4 > s_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  // The first position from `i` on that holds '"', '\\' or a control character, or one of the
  // last 7 bytes, eight bytes at a time: in each word, the lowest byte flagged by the borrow tricks
  // below is the first such byte (flags above it may be false, never below).
  std::size_t plain_run_end(std::size_t i) const {
    static_assert(std::endian::native == std::endian::little);
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
    for (; i + 8 <= s_.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s_.data() + i, 8);
      const std::uint64_t hits =
          zero_bytes(w ^ (kOnes * '"')) | zero_bytes(w ^ (kOnes * '\\')) | ((w - kOnes * 0x20) & ~w & kHighs);
      if (hits) return i + static_cast<std::size_t>(std::countr_zero(hits)) / 8;
    }
    return i;
  }

  // The string at pos_ (its opening quote), decoded: a view of the text itself when it has no
  // escapes, else of `unescaped_` (valid until the next call).
  Result<std::string_view> parse_string() {
    ++pos_;  // opening quote
    const std::size_t start = pos_;
    pos_ = plain_run_end(pos_);
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') return s_.substr(start, pos_++ - start);
      if (c == '\\' || c < 0x20) break;
      ++pos_;
    }
    std::string& out = unescaped_;
    out.assign(s_.substr(start, pos_ - start));
    while (true) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return std::string_view(out);
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return fail("invalid \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(pos_, 2) == "\\u") {
            std::size_t save = pos_;
            pos_ += 2;
            std::uint32_t lo;
            if (hex4(lo) && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
          }
          builtins::text::append_rune(out, static_cast<char32_t>(cp));
          break;
        }
        default: return fail("invalid escape");
      }
    }
  }

  // Members are gathered on one stack shared by every level (items_, entries_), then moved into
  // a vector of the exact size: growing a vector per collection reallocated it several times.
  template <typename T>
  static std::vector<T> take(std::vector<T>& stack, std::size_t mark) {
    std::vector<T> out(std::make_move_iterator(stack.begin() + static_cast<std::ptrdiff_t>(mark)),
                       std::make_move_iterator(stack.end()));
    stack.resize(mark);
    return out;
  }

  Result<Value> parse_array(std::size_t depth) {
    ++pos_;
    const std::size_t mark = items_.size();
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Value::array({});
    }
    while (true) {
      skip_ws();
      auto v = parse_value(depth + 1);
      if (!v) return v;
      items_.push_back(std::move(*v));
      skip_ws();
      if (pos_ >= s_.size()) return fail("unterminated array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return Value::array(take(items_, mark));
      }
      return fail("expected ',' or ']'");
    }
  }

  Result<Value> parse_object(std::size_t depth) {
    ++pos_;
    const std::size_t mark = entries_.size();
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Value::object({});
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected object key");
      auto k = parse_string();
      if (!k) return forward_error(k.error());
      Value key = Value::key_string(*k);  // now: the view may be of unescaped_, which the value reuses
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      skip_ws();
      auto v = parse_value(depth + 1);
      if (!v) return v;
      entries_.emplace_back(std::move(key), std::move(*v));
      skip_ws();
      if (pos_ >= s_.size()) return fail("unterminated object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        auto entries = take(entries_, mark);
        // JSON duplicate keys: the last one wins (Go's encoding/json behaviour), so the entries
        // go to Value::object last first. Small objects are put in order here, stably, which
        // Value::object then takes as it is (no sort buffer); duplicates still go its way.
        std::reverse(entries.begin(), entries.end());
        if (entries.size() <= 32) {
          for (std::size_t i = 1; i < entries.size(); ++i) {
            for (std::size_t j = i; j > 0 && compare(entries[j].first, entries[j - 1].first) < 0; --j)
              std::swap(entries[j], entries[j - 1]);
          }
        }
        return Value::object(std::move(entries));
      }
      return fail("expected ',' or '}'");
    }
  }

  std::string_view s_;
  JsonLimits limits_;
  std::size_t pos_ = 0;
  std::string unescaped_;
  std::vector<Value> items_;
  std::vector<std::pair<Value, Value>> entries_;
};
}  // namespace

std::string to_json_pretty(const Value& v, std::string_view prefix, std::string_view indent) {
  std::string out;
  append_pretty(out, v, prefix, indent, 0);
  return out;
}

std::string to_rego_string(const Value& v) {
  std::string out;
  append_rego(out, v);
  return out;
}

Result<Value> parse_json(std::string_view text, JsonLimits limits) { return JsonParser(text, limits).parse_document(); }

}  // namespace cloister::rego
