// JSON document operations (OPA topdown/json.go): json.filter, json.remove, json.patch (RFC 6902).
// Paths are "a/b/c" strings (JSON-pointer escapes ~0 and ~1) or arrays of segments; array
// elements are addressed by index, set elements by value.
#include <functional>
#include <map>
#include <optional>

#include "builtins/builtin.h"
#include "builtins/family_util.h"

namespace cloister::rego::builtins {
namespace {

std::string unescape_pointer(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && i + 1 < s.size() && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out.push_back(s[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<Value> split_path(std::string_view p, bool pointer) {
  std::vector<Value> segs;
  if (pointer) {
    if (p.empty()) return segs;
    p.remove_prefix(1);  // callers checked the leading '/'
  } else {
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    if (p.empty()) return segs;
  }
  std::size_t start = 0;
  for (;;) {
    auto slash = p.find('/', start);
    segs.push_back(Value::string(unescape_pointer(p.substr(start, slash == std::string_view::npos ? slash : slash - start))));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segs;
}

// An array index from a segment: a number, or a string of digits without a leading zero.
std::optional<std::size_t> index_of(const Value& seg) {
  std::int64_t i;
  if (seg.is_number()) {
    if (!seg.to_int64(i) || i < 0) return std::nullopt;
    return static_cast<std::size_t>(i);
  }
  if (!seg.is_string()) return std::nullopt;
  const std::string& s = seg.as_string();
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  return static_cast<std::size_t>(std::stoll(s));
}

// A set element addressed by a segment: the element itself, or one whose JSON text is the segment.
std::optional<Value> set_member(const Value& set, const Value& seg) {
  if (set.set_contains(seg)) return seg;
  if (seg.is_string()) {
    for (const auto& x : set.set_items())
      if (to_json(x) == seg.as_string()) return x;
  }
  return std::nullopt;
}

const Value* child(const Value& v, const Value& seg, Value& scratch) {
  switch (v.kind()) {
    case Kind::Object: return v.get(seg);
    case Kind::Array: {
      auto i = index_of(seg);
      if (!i || *i >= v.array_items().size()) return nullptr;
      return &v.array_items()[*i];
    }
    case Kind::Set: {
      auto m = set_member(v, seg);
      if (!m) return nullptr;
      scratch = *m;
      return &scratch;
    }
    default: return nullptr;
  }
}

// ---- json.filter / json.remove: a trie of paths ----

struct PathTrie {
  bool terminal = false;
  std::map<Value, PathTrie, ValueLess> next;
};

BResult<PathTrie> build_trie(const BuiltinContext& ctx, std::span<const Value> a) {
  const auto* paths = REGO_ARG(arg_array_or_set(ctx, a, 1));
  PathTrie root;
  for (const auto& p : *paths) {
    std::vector<Value> segs;
    if (p.is_string()) {
      segs = split_path(p.as_string(), false);
    } else if (p.is_array()) {
      segs = p.array_items();
    } else {
      return tl::unexpected(type_error(ctx, 2, "one of {set, array} containing string paths or array of path segments", p));
    }
    PathTrie* node = &root;
    for (const auto& s : segs) node = &node->next[s];
    node->terminal = true;
  }
  return root;
}

// The trie node for an object key or array index (string paths give "0" for index 0).
const PathTrie* lookup(const PathTrie& t, const Value& key) {
  auto it = t.next.find(key);
  if (it != t.next.end()) return &it->second;
  if (key.is_number()) {
    auto s = t.next.find(Value::string(format_number(key)));
    if (s != t.next.end()) return &s->second;
  }
  return nullptr;
}

Value filter(const Value& v, const PathTrie& t) {
  if (t.terminal) return v;
  if (v.is_object()) {
    std::vector<std::pair<Value, Value>> out;
    for (const auto& [k, x] : v.object_entries())
      if (const PathTrie* n = lookup(t, k)) out.emplace_back(k, filter(x, *n));
    return Value::object(std::move(out));
  }
  if (v.is_array()) {
    std::vector<Value> out;
    const auto& items = v.array_items();
    for (std::size_t i = 0; i < items.size(); ++i) {
      // Only the index's decimal string selects an element (OPA's filterObject looks elements up
      // as StringTerm(strconv.Itoa(i))): the number 1 in `[["a", 1]]` selects none.
      auto it = t.next.find(Value::string(std::to_string(i)));
      if (it != t.next.end()) out.push_back(filter(items[i], it->second));
    }
    return Value::array(std::move(out));
  }
  if (v.is_set()) {
    std::vector<Value> out;
    for (const auto& x : v.set_items())
      if (const PathTrie* n = lookup(t, x)) out.push_back(filter(x, *n));
    return Value::set(std::move(out));
  }
  return v;
}

Value remove(const Value& v, const PathTrie& t) {
  if (v.is_object()) {
    std::vector<std::pair<Value, Value>> out;
    for (const auto& [k, x] : v.object_entries()) {
      const PathTrie* n = lookup(t, k);
      if (!n) {
        out.emplace_back(k, x);
      } else if (!n->terminal) {
        out.emplace_back(k, remove(x, *n));
      }
    }
    return Value::object(std::move(out));
  }
  if (v.is_array()) {
    std::vector<Value> out;
    const auto& items = v.array_items();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const PathTrie* n = lookup(t, Value::integer(static_cast<std::int64_t>(i)));
      if (!n) {
        out.push_back(items[i]);
      } else if (!n->terminal) {
        out.push_back(remove(items[i], *n));
      }
    }
    return Value::array(std::move(out));
  }
  if (v.is_set()) {
    std::vector<Value> out;
    for (const auto& x : v.set_items()) {
      const PathTrie* n = lookup(t, x);
      if (!n) {
        out.push_back(x);
      } else if (!n->terminal) {
        out.push_back(remove(x, *n));
      }
    }
    return Value::set(std::move(out));
  }
  return v;
}

BResult<PathTrie> trie_operands(const BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  if (!a[1].is_array() && !a[1].is_set()) return tl::unexpected(type_error(ctx, 2, "one of {set, array}", a[1]));
  return build_trie(ctx, a);
}

BuiltinResult json_filter(BuiltinContext& ctx, std::span<const Value> a) {
  PathTrie t = REGO_ARG(trie_operands(ctx, a));
  return filter(a[0], t);
}

BuiltinResult json_remove(BuiltinContext& ctx, std::span<const Value> a) {
  PathTrie t = REGO_ARG(trie_operands(ctx, a));
  return remove(a[0], t);
}

// ---- json.patch ----

using Editor = std::function<std::optional<Value>(const Value& container, const Value& key)>;

std::optional<Value> with_child(const Value& c, const Value& key, const Value& replacement) {
  if (c.is_object()) {
    std::vector<std::pair<Value, Value>> es;
    for (const auto& e : c.object_entries())
      if (e.first != key) es.push_back(e);
    es.emplace_back(key, replacement);
    return Value::object(std::move(es));
  }
  if (c.is_array()) {
    auto i = index_of(key);
    if (!i || *i >= c.array_items().size()) return std::nullopt;
    std::vector<Value> items = c.array_items();
    items[*i] = replacement;
    return Value::array(std::move(items));
  }
  if (c.is_set()) {
    auto m = set_member(c, key);
    if (!m) return std::nullopt;
    std::vector<Value> items;
    for (const auto& x : c.set_items())
      if (x != *m) items.push_back(x);
    items.push_back(replacement);
    return Value::set(std::move(items));
  }
  return std::nullopt;
}

// Applies `fn` to the container holding the last segment, rebuilding the path back to the root.
std::optional<Value> edit(const Value& doc, const std::vector<Value>& segs, std::size_t i, const Editor& fn) {
  if (i + 1 == segs.size()) return fn(doc, segs[i]);
  Value scratch;
  const Value* c = child(doc, segs[i], scratch);
  if (!c) return std::nullopt;
  auto updated = edit(*c, segs, i + 1, fn);
  if (!updated) return std::nullopt;
  return with_child(doc, segs[i], *updated);
}

std::optional<Value> get_path(const Value& doc, const std::vector<Value>& segs) {
  Value cur = doc;
  for (const auto& s : segs) {
    Value scratch;
    const Value* c = child(cur, s, scratch);
    if (!c) return std::nullopt;
    cur = *c;
  }
  return cur;
}

std::optional<Value> add_at(const Value& doc, const std::vector<Value>& segs, const Value& v) {
  if (segs.empty()) return v;
  return edit(doc, segs, 0, [&](const Value& c, const Value& key) -> std::optional<Value> {
    if (c.is_object()) {
      if (!key.is_string()) return std::nullopt;
      return with_child(c, key, v);
    }
    if (c.is_array()) {
      std::vector<Value> items = c.array_items();
      if (key.is_string() && key.as_string() == "-") {
        items.push_back(v);
      } else {
        auto i = index_of(key);
        if (!i || *i > items.size()) return std::nullopt;
        items.insert(items.begin() + static_cast<std::ptrdiff_t>(*i), v);
      }
      return Value::array(std::move(items));
    }
    if (c.is_set()) {
      // A set member's path names the member itself.
      if (key != v && !(key.is_string() && to_json(v) == key.as_string())) return std::nullopt;
      std::vector<Value> items = c.set_items();
      items.push_back(v);
      return Value::set(std::move(items));
    }
    return std::nullopt;
  });
}

std::optional<Value> remove_at(const Value& doc, const std::vector<Value>& segs) {
  if (segs.empty()) return std::nullopt;
  return edit(doc, segs, 0, [&](const Value& c, const Value& key) -> std::optional<Value> {
    if (c.is_object()) {
      if (!c.get(key)) return std::nullopt;
      std::vector<std::pair<Value, Value>> es;
      for (const auto& e : c.object_entries())
        if (e.first != key) es.push_back(e);
      return Value::object(std::move(es));
    }
    if (c.is_array()) {
      auto i = index_of(key);
      if (!i || *i >= c.array_items().size()) return std::nullopt;
      std::vector<Value> items = c.array_items();
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(*i));
      return Value::array(std::move(items));
    }
    if (c.is_set()) {
      auto m = set_member(c, key);
      if (!m) return std::nullopt;
      std::vector<Value> items;
      for (const auto& x : c.set_items())
        if (x != *m) items.push_back(x);
      return Value::set(std::move(items));
    }
    return std::nullopt;
  });
}

std::optional<std::vector<Value>> patch_path(const Value* p) {
  if (!p) return std::nullopt;
  if (p->is_array()) return p->array_items();
  if (!p->is_string()) return std::nullopt;
  // OPA also accepts paths without the leading '/' ("foo/b").
  const std::string& s = p->as_string();
  if (!s.empty() && s[0] != '/') return split_path("/" + s, true);
  return split_path(s, true);
}

std::optional<Value> apply_op(const Value& doc, const Value& op) {
  if (!op.is_object()) return std::nullopt;
  const Value* name = op.get("op");
  if (!name || !name->is_string()) return std::nullopt;
  auto path = patch_path(op.get("path"));
  if (!path) return std::nullopt;
  const std::string& o = name->as_string();
  const Value* value = op.get("value");
  if (o == "add") {
    if (!value) return std::nullopt;
    return add_at(doc, *path, *value);
  }
  if (o == "remove") return remove_at(doc, *path);
  if (o == "replace") {
    if (!value) return std::nullopt;
    if (path->empty()) return *value;
    auto removed = remove_at(doc, *path);
    if (!removed) return std::nullopt;
    return add_at(*removed, *path, *value);
  }
  if (o == "test") {
    if (!value) return std::nullopt;
    auto cur = get_path(doc, *path);
    if (!cur || *cur != *value) return std::nullopt;
    return doc;
  }
  if (o == "move" || o == "copy") {
    auto from = patch_path(op.get("from"));
    if (!from) return std::nullopt;
    auto v = get_path(doc, *from);
    if (!v) return std::nullopt;
    if (o == "copy") return add_at(doc, *path, *v);
    // A location cannot be moved into one of its own children (RFC 6902 §4.4).
    if (path->size() > from->size() && std::equal(from->begin(), from->end(), path->begin())) return std::nullopt;
    auto removed = remove_at(doc, *from);
    if (!removed) return std::nullopt;
    return add_at(*removed, *path, *v);
  }
  return std::nullopt;
}

BuiltinResult json_patch(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& ops = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Array));
  Value doc = a[0];
  for (const auto& op : ops.array_items()) {
    auto next = apply_op(doc, op);
    if (!next) return Value::undefined();  // OPA: a patch that cannot be applied gives no result
    doc = std::move(*next);
  }
  return doc;
}

}  // namespace

void register_json(Registry& r) {
  r.add({"json.filter", 2, json_filter});
  r.add({"json.remove", 2, json_remove});
  r.add({"json.patch", 2, json_patch});
}

}  // namespace cloister::rego::builtins
