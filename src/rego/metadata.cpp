// METADATA annotations (OPA's policy-reference "Annotations" and "Metadata" sections): a block of
// comments starting with `# METADATA`, holding YAML, directly above the package or rule it
// annotates. Scopes: `rule` (default on rules) and `document` (every rule of that path) on rules;
// `package` (default on packages, across all modules of the package) and `subpackages` on
// packages. rego.metadata.chain() lists, for the rule it is called in, the rule's own entry (always
// present, `annotations` only when it has rule-scope annotations), its document's, its package's,
// then `subpackages` annotations from the package outwards; rego.metadata.rule() is the rule's
// rule-scope annotations, or {}. Both depend only on the rule, so calls become constants here.
#include "metadata.h"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "builtins/builtin.h"

namespace cloister::rego {
namespace {

[[noreturn]] void fail(std::uint32_t file, std::uint32_t line, std::string msg) {
  throw RegoFailure{"rego_parse_error", std::move(msg), Loc{file, line, 1}, true};
}

std::string_view trim_left(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

struct Block {
  std::string yaml;
  std::uint32_t first_line = 0;  // the `# METADATA` line
};

// Blocks by the line right after them (the statement they annotate), and the package line.
struct ModuleBlocks {
  std::map<std::uint32_t, Block> by_next_line;
  std::uint32_t package_line = 0;
};

ModuleBlocks scan(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    pos = nl + 1;
  }
  ModuleBlocks out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = trim_left(lines[i]);
    if (!out.package_line && t.substr(0, 7) == "package" && (t.size() == 7 || t[7] == ' ' || t[7] == '\t')) {
      out.package_line = static_cast<std::uint32_t>(i + 1);
    }
    if (t.empty() || t[0] != '#') continue;
    std::string_view head = t.substr(1);
    while (!head.empty() && (head.back() == ' ' || head.back() == '\t')) head.remove_suffix(1);
    if (trim_left(head) != "METADATA") continue;
    // The comment lines that follow, without '#', dedented by their common indentation.
    std::vector<std::string_view> body;
    std::size_t j = i + 1;
    for (; j < lines.size(); ++j) {
      std::string_view c = trim_left(lines[j]);
      if (c.empty() || c[0] != '#') break;
      body.push_back(c.substr(1));
    }
    std::size_t indent = std::string_view::npos;
    for (auto b : body) {
      if (trim_left(b).empty()) continue;
      indent = std::min(indent, b.size() - trim_left(b).size());
    }
    Block blk;
    blk.first_line = static_cast<std::uint32_t>(i + 1);
    for (auto b : body) {
      blk.yaml.append(b.size() >= indent && indent != std::string_view::npos ? b.substr(indent) : trim_left(b));
      blk.yaml.push_back('\n');
    }
    out.by_next_line[static_cast<std::uint32_t>(j + 1)] = std::move(blk);
    i = j - 1;
  }
  return out;
}

// "Jane Doe <jane@example.com>" -> {"name": "Jane Doe", "email": "jane@example.com"}.
Value author(const Value& a, std::uint32_t file, std::uint32_t line) {
  if (a.is_object()) return a;
  if (!a.is_string()) fail(file, line, "invalid annotation: authors: expected a string or an object");
  std::string_view s = a.as_string();
  std::vector<std::pair<Value, Value>> es;
  auto lt = s.rfind('<');
  if (lt != std::string_view::npos && s.size() > lt + 1 && s.back() == '>') {
    std::string_view name = s.substr(0, lt);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    es.emplace_back(Value::string("email"), Value::string(std::string(s.substr(lt + 1, s.size() - lt - 2))));
    if (!name.empty()) es.emplace_back(Value::string("name"), Value::string(std::string(name)));
  } else {
    es.emplace_back(Value::string("name"), a);
  }
  return Value::object(std::move(es));
}

// The annotations of one block in OPA's JSON form, with its scope made explicit.
Value normalize(const Block& b, bool on_package, std::uint32_t file, std::string& scope) {
  auto parsed = builtins::yaml_to_value(b.yaml);
  if (!parsed) fail(file, b.first_line, "invalid METADATA block: " + parsed.error().message());
  if (parsed->is_null()) return Value::empty_object();
  if (!parsed->is_object()) fail(file, b.first_line, "invalid METADATA block: expected a YAML mapping");
  scope = on_package ? "package" : "rule";
  std::vector<std::pair<Value, Value>> out;
  for (const auto& [k, v] : parsed->object_entries()) {
    const std::string& key = k.as_string();
    if (key == "scope") {
      if (!v.is_string()) fail(file, b.first_line, "invalid annotation: scope must be a string");
      scope = v.as_string();
      bool ok = on_package ? (scope == "package" || scope == "subpackages") : (scope == "rule" || scope == "document");
      if (!ok) fail(file, b.first_line, "annotation scope '" + scope + "' must be applied to " + (on_package ? "rule" : "package"));
      continue;
    }
    if (key == "title" || key == "description") {
      if (!v.is_string()) fail(file, b.first_line, "invalid annotation: " + key + " must be a string");
      out.emplace_back(k, v);
    } else if (key == "authors" || key == "organizations" || key == "related_resources" || key == "schemas") {
      if (!v.is_array()) fail(file, b.first_line, "invalid annotation: " + key + " must be a list");
      std::vector<Value> items;
      for (const auto& x : v.array_items()) {
        if (key == "authors") {
          items.push_back(author(x, file, b.first_line));
        } else if (key == "related_resources" && x.is_string()) {
          items.push_back(Value::object({{Value::string("ref"), x}}));
        } else {
          items.push_back(x);
        }
      }
      out.emplace_back(k, Value::array(std::move(items)));
    } else if (key == "entrypoint") {
      if (!v.is_bool()) fail(file, b.first_line, "invalid annotation: entrypoint must be a boolean");
      out.emplace_back(k, v);
    } else if (key == "custom") {
      if (!v.is_object() && !v.is_null()) fail(file, b.first_line, "invalid annotation: custom must be a mapping");
      out.emplace_back(k, v);
    } else {
      fail(file, b.first_line, "invalid annotation key '" + key + "'");
    }
  }
  out.emplace_back(Value::string("scope"), Value::string(scope));
  return Value::object(std::move(out));
}

std::string path_key(const std::vector<Value>& path) { return to_json(Value::array(path)); }

Value entry(const std::vector<Value>& path, const Value* annotations) {
  std::vector<std::pair<Value, Value>> es{{Value::string("path"), Value::array(path)}};
  if (annotations) es.emplace_back(Value::string("annotations"), *annotations);
  return Value::object(std::move(es));
}

// Replaces rego.metadata.* calls in a rule with their values, built on the first call found.
struct Folder {
  std::function<void(Value&, Value&)> build;  // fills chain and rule
  Value chain, rule;
  bool built = false;

  void term(Term* t) {
    if (!t) return;
    if (t->kind == TermKind::Call && t->builtin &&
        (t->builtin->name == "rego.metadata.chain" || t->builtin->name == "rego.metadata.rule")) {
      if (!built) {
        build(chain, rule);
        built = true;
      }
      Value v = t->builtin->name == "rego.metadata.chain" ? chain : rule;
      t->kind = TermKind::Scalar;
      t->value = std::move(v);
      t->items.clear();
      t->builtin = nullptr;
      t->op = CallOp::Other;
      t->vars.clear();
      t->ground = true;
      t->multi = false;
      return;
    }
    for (auto& x : t->items) term(x.get());
    term(t->head.get());
    term(t->head2.get());
    body(t->body.get());
  }
  void body(Body* b) {
    if (!b) return;
    for (auto& e : b->exprs) {
      term(e.term.get());
      term(e.key.get());
      term(e.val.get());
      term(e.coll.get());
      body(e.body.get());
      for (auto& w : e.withs) {
        term(w.target.get());
        term(w.value.get());
      }
    }
  }
  void rule_terms(Rule& r) {
    term(r.ref.get());
    for (auto& a : r.args) term(a.get());
    term(r.key.get());
    term(r.value.get());
    body(r.body.get());
    for (auto& e : r.elses) rule_terms(*e);
  }
};

}  // namespace

void resolve_metadata(Policy::Impl& p) {
  // Annotations matter only through the calls, and invalid blocks must still be reported: with
  // neither in the sources (nearly every policy) there is nothing to do.
  bool relevant = false;
  for (const auto& src : p.sources)
    if (src.find("METADATA") != std::string::npos || src.find("rego.metadata") != std::string::npos) relevant = true;
  if (!relevant) return;
  struct RuleAnn {
    Rule* rule;
    std::size_t module;
    Value annotations;  // undefined: none of rule scope
  };
  std::vector<RuleAnn> rules;
  std::map<std::string, Value> document, package, subpackages;
  for (std::size_t mi = 0; mi < p.modules.size(); ++mi) {
    Module& m = p.modules[mi];
    auto file = static_cast<std::uint32_t>(mi);
    ModuleBlocks blocks = scan(p.sources[mi]);
    if (auto it = blocks.by_next_line.find(blocks.package_line); it != blocks.by_next_line.end()) {
      std::string scope;
      Value v = normalize(it->second, true, file, scope);
      auto& slot = scope == "package" ? package : subpackages;
      slot.emplace(path_key(m.package), v);  // the first block of a package wins
    }
    for (auto& r : m.rules) {
      RuleAnn ra{r.get(), mi, Value()};
      if (auto it = blocks.by_next_line.find(r->loc.line); it != blocks.by_next_line.end()) {
        std::string scope;
        Value v = normalize(it->second, false, file, scope);
        if (scope == "document") document.emplace(path_key(r->path), v);
        else ra.annotations = v;
      }
      rules.push_back(std::move(ra));
    }
  }
  for (auto& ra : rules) {
    const Module& m = p.modules[ra.module];
    Folder f;
    f.build = [&](Value& chain_out, Value& rule_out) {
      std::vector<Value> chain;
      chain.push_back(entry(ra.rule->path, ra.annotations.is_defined() ? &ra.annotations : nullptr));
      if (auto it = document.find(path_key(ra.rule->path)); it != document.end()) {
        chain.push_back(entry(ra.rule->path, &it->second));
      }
      if (auto it = package.find(path_key(m.package)); it != package.end()) chain.push_back(entry(m.package, &it->second));
      for (std::size_t n = m.package.size(); n > 0; --n) {
        std::vector<Value> prefix(m.package.begin(), m.package.begin() + static_cast<std::ptrdiff_t>(n));
        if (auto it = subpackages.find(path_key(prefix)); it != subpackages.end()) chain.push_back(entry(prefix, &it->second));
      }
      chain_out = Value::array(std::move(chain));
      rule_out = ra.annotations.is_defined() ? ra.annotations : Value::empty_object();
    };
    f.rule_terms(*ra.rule);
  }
}

}  // namespace cloister::rego
