#include <cstdint>
#include <type_traits>

#include "builtins/builtin.h"
#include "builtins/regex_pattern.h"

namespace cloister::rego::builtins {

// The builtin families. Adding a family: create <family>.cpp defining
// `void register_<family>(Registry&)` and add one X(<family>) line here (CMake globs the file).
#define CLOISTER_REGO_BUILTIN_FAMILIES(X) \
  X(comparison)                           \
  X(arithmetic)                           \
  X(aggregates)                           \
  X(sets)                                 \
  X(types)                                \
  X(strings)                              \
  X(sprintf)                              \
  X(casts)                                \
  X(regex)                                \
  X(objects)                              \
  X(arrays)                               \
  X(units)                                \
  X(encoding)                             \
  X(glob)                                 \
  X(bits)                                 \
  X(semver)                               \
  X(graph)                                \
  X(uuid)                                 \
  X(json)                                 \
  X(net)                                  \
  X(crypto)                               \
  X(jwt)                                  \
  X(time)                                 \
  X(rand)                                 \
  X(jsonschema)                           \
  X(template)                             \
  X(graphql)                              \
  X(metadata)                             \
  X(regoparse)                            \
  X(trace)                                \
  X(unsupported)

#define CLOISTER_REGO_DECLARE(family) void register_##family(Registry& r);
CLOISTER_REGO_BUILTIN_FAMILIES(CLOISTER_REGO_DECLARE)
#undef CLOISTER_REGO_DECLARE

const Registry& Registry::standard() {
  static const Registry registry = [] {
    Registry r;
#define CLOISTER_REGO_CALL(family) register_##family(r);
    CLOISTER_REGO_BUILTIN_FAMILIES(CLOISTER_REGO_CALL)
#undef CLOISTER_REGO_CALL
    return r;
  }();
  return registry;
}

void Registry::add(BuiltinDef def) {
  std::string name = def.name;
  defs_[name] = std::move(def);
}

const BuiltinDef* Registry::find(std::string_view name) const {
  auto it = defs_.find(std::string(name));
  return it == defs_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  out.reserve(defs_.size());
  for (const auto& [k, v] : defs_) out.push_back(k);
  return out;
}

struct SharedRegexCache::Entry {
  std::size_t hash;
  std::string pattern;
  Regex re;
  Entry(std::size_t h, std::string_view p, const re2::RE2::Options& o) : hash(h), pattern(p), re(pattern, o) {}
};

SharedRegexCache::SharedRegexCache(std::size_t slots) : table_(slots, 16) {}
SharedRegexCache::~SharedRegexCache() = default;

const Regex* SharedRegexCache::get(std::string_view pattern) {
  const std::size_t h = std::hash<std::string_view>{}(pattern);
  Entry* e = table_.find_or_add(
      h, [&](const Entry& x) { return x.hash == h && x.pattern == pattern; },
      [&] {
        re2::RE2::Options opts;
        opts.set_log_errors(false);
        return std::make_unique<Entry>(h, pattern, opts);
      });
  return e ? &e->re : nullptr;
}

RegexCache::RegexCache(SharedRegexCache* shared) : shared_(shared) {}
RegexCache::~RegexCache() = default;

const Regex* RegexCache::get(const Value& pattern, std::string* error) {
  const void* node = pattern.node_id();
  if (!node) return get(pattern.as_string(), error);
  if (!recent_) recent_.emplace();
  auto& table = *recent_;
  static_assert(std::tuple_size_v<std::remove_reference_t<decltype(table)>> == 64);
  // Fibonacci hashing of the address: its top 6 bits, which every address bit reaches.
  const auto home = static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(node) * 0x9E3779B97F4A7C15ull) >> 58);
  std::size_t i = home;
  for (; table[i].re; i = (i + 1) % 64)
    if (table[i].pattern.node_id() == node) return table[i].re;
  const Regex* re = get(pattern.as_string(), error);
  if (!re) return nullptr;  // (failures are not kept: the next call reports its error)
  if (recent_used_ == 48) {  // full enough that probes grow long: start over
    table.fill(RecentRegex{});
    recent_used_ = 0;
    i = home;
  }
  table[i] = RecentRegex{pattern, re};
  ++recent_used_;
  return re;
}

const Regex* RegexCache::get(const std::string& pattern, std::string* error) {
  const Regex* re = shared_ ? shared_->get(pattern) : nullptr;
  if (!re) {
    auto it = cache_.find(pattern);
    if (it == cache_.end()) {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      it = cache_.emplace(pattern, std::make_unique<const Regex>(pattern, opts)).first;
    }
    re = it->second.get();
  }
  if (!re->ok()) {
    if (error) *error = re->error();
    return nullptr;
  }
  return re;
}

// ---- error helpers ----

BuiltinError type_error(const BuiltinContext& ctx, std::size_t operand, std::string_view want, const Value& got) {
  return BuiltinError{std::string(kTypeError), std::string(ctx.name) + ": operand " + std::to_string(operand) +
                                                   " must be " + std::string(want) + " but got " +
                                                   std::string(kind_name(got.kind()))};
}

BuiltinError operand_error(const BuiltinContext& ctx, std::size_t operand, std::string_view detail) {
  return BuiltinError{std::string(kTypeError),
                      std::string(ctx.name) + ": operand " + std::to_string(operand) + " must be " + std::string(detail)};
}

BuiltinError builtin_error(const BuiltinContext& ctx, std::string_view message) {
  return BuiltinError{std::string(kBuiltinError), std::string(ctx.name) + ": " + std::string(message)};
}

BResult<const std::string*> arg_string(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i) {
  if (!args[i].is_string()) return tl::unexpected(type_error(ctx, i + 1, "string", args[i]));
  return &args[i].as_string();
}

BResult<const Value*> arg_number(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i) {
  if (!args[i].is_number()) return tl::unexpected(type_error(ctx, i + 1, "number", args[i]));
  return &args[i];
}

BResult<std::int64_t> arg_int(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i) {
  if (!args[i].is_number()) return tl::unexpected(type_error(ctx, i + 1, "number", args[i]));
  std::int64_t v;
  if (!args[i].to_int64(v)) return tl::unexpected(operand_error(ctx, i + 1, "integer"));
  return v;
}

BResult<const Value*> arg_kind(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i, Kind kind) {
  if (args[i].kind() != kind) return tl::unexpected(type_error(ctx, i + 1, kind_name(kind), args[i]));
  return &args[i];
}

BResult<const std::vector<Value>*> arg_array_or_set(const BuiltinContext& ctx, std::span<const Value> args,
                                                    std::size_t i) {
  if (args[i].is_array()) return &args[i].array_items();
  if (args[i].is_set()) return &args[i].set_items();
  return tl::unexpected(type_error(ctx, i + 1, "one of {array, set}", args[i]));
}

}  // namespace cloister::rego::builtins
