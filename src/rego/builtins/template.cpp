// strings.render_template (OPA topdown/template.go on Go's text/template): the template language
// subset policies use — {{.field.path}}, $variables, {{if}}/{{else if}}/{{else}}, {{range}} with
// index/key and value variables, {{with}}, comparison and logic functions (eq ne lt le gt ge and
// or not len index), literals, trim markers {{- -}} and comments. A missing key renders as
// "<undefined>", as OPA's renderer does. Anything else is a template error.
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

struct Node {
  enum Kind { Text, Action, If, Range, With, Assign } kind = Text;
  std::string text;                  // Text
  std::vector<std::string> tokens;   // Action/If/Range/With/Assign pipeline tokens
  std::vector<std::string> vars;     // Range/Assign variable names
  std::vector<std::unique_ptr<Node>> body, alt;
};

using Nodes = std::vector<std::unique_ptr<Node>>;

struct TemplateError {
  std::string message;
};

// Splits an action's inside into tokens: strings (quoted or raw), parentheses-free words.
std::vector<std::string> tokenize(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    if (s[i] == '"' || s[i] == '`') {
      char q = s[i];
      ++j;
      while (j < s.size() && s[j] != q) j += (q == '"' && s[j] == '\\') ? 2 : 1;
      ++j;
    } else if (s[i] == '|') {
      ++j;
    } else {
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '|') ++j;
    }
    out.emplace_back(s.substr(i, std::min(j, s.size()) - i));
    i = j;
  }
  return out;
}

struct Parser {
  std::string_view src;
  std::size_t pos = 0;

  // Parses until {{end}} / {{else}} (returned through `stop`) or the end of input.
  tl::expected<Nodes, TemplateError> parse(std::string* stop, std::vector<std::string>* stop_tokens) {
    Nodes nodes;
    while (pos < src.size()) {
      std::size_t open = src.find("{{", pos);
      std::string text(src.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
      if (open == std::string_view::npos) {
        pos = src.size();
        add_text(nodes, text);
        break;
      }
      std::size_t inner = open + 2;
      bool trim_left = inner + 1 < src.size() && src[inner] == '-' && std::isspace(static_cast<unsigned char>(src[inner + 1]));
      if (trim_left) {
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
        inner += 1;
      }
      add_text(nodes, text);
      std::size_t close = src.find("}}", inner);
      if (close == std::string_view::npos) return tl::unexpected(TemplateError{"unclosed action"});
      std::size_t end = close;
      bool trim_right = end >= 2 && src[end - 1] == '-' && std::isspace(static_cast<unsigned char>(src[end - 2]));
      if (trim_right) --end;
      std::string_view body = src.substr(inner, end - inner);
      pos = close + 2;
      if (trim_right)
        while (pos < src.size() && std::isspace(static_cast<unsigned char>(src[pos]))) ++pos;
      std::string_view trimmed = body;
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
      if (trimmed.starts_with("/*")) continue;  // comment
      auto toks = tokenize(body);
      if (toks.empty()) return tl::unexpected(TemplateError{"missing value for command"});
      const std::string& kw = toks[0];
      if (kw == "end" || kw == "else") {
        if (!stop) return tl::unexpected(TemplateError{"unexpected {{" + kw + "}}"});
        *stop = kw;
        *stop_tokens = std::vector<std::string>(toks.begin() + 1, toks.end());
        return nodes;
      }
      auto node = std::make_unique<Node>();
      if (kw == "if" || kw == "range" || kw == "with") {
        node->kind = kw == "if" ? Node::If : kw == "range" ? Node::Range : Node::With;
        node->tokens.assign(toks.begin() + 1, toks.end());
        if (node->kind == Node::Range) split_decl(*node);
        auto r = parse_block(*node);
        if (!r) return tl::unexpected(r.error());
      } else if (kw == "define" || kw == "template" || kw == "block" || kw == "break" || kw == "continue") {
        return tl::unexpected(TemplateError{"{{" + kw + "}} is not supported"});
      } else if (toks.size() >= 3 && toks[0][0] == '$' && (toks[1] == ":=" || toks[1] == "=")) {
        node->kind = Node::Assign;
        node->vars = {toks[0]};
        node->tokens.assign(toks.begin() + 2, toks.end());
      } else {
        node->kind = Node::Action;
        node->tokens = std::move(toks);
      }
      nodes.push_back(std::move(node));
    }
    if (stop) return tl::unexpected(TemplateError{"unexpected EOF"});
    return nodes;
  }

  static void add_text(Nodes& nodes, const std::string& text) {
    if (text.empty()) return;
    auto n = std::make_unique<Node>();
    n->text = text;
    nodes.push_back(std::move(n));
  }

  // `range $i, $v := pipeline` / `range $v := pipeline`.
  static void split_decl(Node& n) {
    auto it = std::find(n.tokens.begin(), n.tokens.end(), ":=");
    if (it == n.tokens.end()) return;
    for (auto v = n.tokens.begin(); v != it; ++v) {
      std::string name = *v;
      if (!name.empty() && name.back() == ',') name.pop_back();
      if (!name.empty()) n.vars.push_back(name);
    }
    n.tokens.erase(n.tokens.begin(), it + 1);
  }

  tl::expected<void, TemplateError> parse_block(Node& node) {
    std::string stop;
    std::vector<std::string> rest;
    auto body = parse(&stop, &rest);
    if (!body) return tl::unexpected(body.error());
    node.body = std::move(*body);
    if (stop == "else") {
      if (!rest.empty() && rest[0] == "if" && node.kind == Node::If) {
        // {{else if x}} nests an If that shares this block's {{end}}.
        auto nested = std::make_unique<Node>();
        nested->kind = Node::If;
        nested->tokens.assign(rest.begin() + 1, rest.end());
        auto r = parse_block(*nested);
        if (!r) return r;
        node.alt.push_back(std::move(nested));
        return {};
      }
      auto alt = parse(&stop, &rest);
      if (!alt) return tl::unexpected(alt.error());
      if (stop != "end") return tl::unexpected(TemplateError{"expected {{end}}"});
      node.alt = std::move(*alt);
    }
    return {};
  }
};

struct Renderer {
  std::map<std::string, Value> vars;
  std::string out;

  static bool truthy(const Value& v) {
    switch (v.kind()) {
      case Kind::Undefined:
      case Kind::Null: return false;
      case Kind::Bool: return v.as_bool();
      case Kind::Number: return num_compare(v, Value::integer(0)) != 0;
      case Kind::String:
      case Kind::Array:
      case Kind::Object:
      case Kind::Set: return v.size() != 0;
    }
    return false;
  }

  // Go's fmt %v of the JSON-decoded value.
  static std::string print(const Value& v) {
    switch (v.kind()) {
      case Kind::Undefined: return "<undefined>";
      case Kind::Null: return "<nil>";
      case Kind::Bool: return v.as_bool() ? "true" : "false";
      case Kind::Number: return format_number(v);
      case Kind::String: return v.as_string();
      case Kind::Array:
      case Kind::Set: {
        std::string s = "[";
        const auto& items = v.is_array() ? v.array_items() : v.set_items();
        for (std::size_t i = 0; i < items.size(); ++i) s += (i ? " " : "") + print(items[i]);
        return s + "]";
      }
      case Kind::Object: {
        std::string s = "map[";
        bool first = true;
        for (const auto& [k, x] : v.object_entries()) {
          s += (first ? "" : " ") + print(k) + ":" + print(x);
          first = false;
        }
        return s + "]";
      }
    }
    return "";
  }

  static Value field_path(Value cur, std::string_view path) {
    while (!path.empty()) {
      if (path[0] != '.') return Value();
      path.remove_prefix(1);
      if (path.empty()) break;
      auto dot = path.find('.');
      std::string key(path.substr(0, dot));
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
      const Value* next = cur.is_object() ? cur.get(key) : nullptr;
      if (!next) return Value();
      cur = *next;
    }
    return cur;
  }

  tl::expected<Value, TemplateError> operand(const std::string& t, const Value& dot) {
    if (t == ".") return dot;
    if (t[0] == '.') return field_path(dot, t);
    if (t[0] == '$') {
      auto dotpos = t.find('.');
      std::string name = t.substr(0, dotpos);
      auto it = vars.find(name);
      if (it == vars.end()) return tl::unexpected(TemplateError{"undefined variable \"" + name + "\""});
      return dotpos == std::string::npos ? it->second : field_path(it->second, std::string_view(t).substr(dotpos));
    }
    if (t[0] == '"') {
      auto v = parse_json(t);
      if (v) return *v;
      return tl::unexpected(TemplateError{"bad string literal " + t});
    }
    if (t[0] == '`') return Value::string(t.substr(1, t.size() >= 2 ? t.size() - 2 : 0));
    if (t == "true" || t == "false") return Value::boolean(t == "true");
    if (t == "nil") return Value::null();
    auto n = Value::number_from_string(t);
    if (n) return *n;
    return tl::unexpected(TemplateError{"function \"" + t + "\" not defined"});
  }

  tl::expected<Value, TemplateError> call(const std::string& fn, const std::vector<Value>& a) {
    auto need = [&](std::size_t n) -> tl::expected<void, TemplateError> {
      if (a.size() < n) return tl::unexpected(TemplateError{"wrong number of args for " + fn});
      return {};
    };
    if (fn == "not") {
      auto r = need(1);
      if (!r) return tl::unexpected(r.error());
      return Value::boolean(!truthy(a[0]));
    }
    if (fn == "and" || fn == "or") {
      auto r = need(1);
      if (!r) return tl::unexpected(r.error());
      for (const auto& x : a)
        if (truthy(x) != (fn == "and")) return x;
      return a.back();
    }
    if (fn == "len") {
      auto r = need(1);
      if (!r) return tl::unexpected(r.error());
      if (!a[0].is_string() && !a[0].is_collection()) return tl::unexpected(TemplateError{"len of " + print(a[0])});
      return Value::integer(static_cast<std::int64_t>(a[0].size()));
    }
    if (fn == "index") {
      auto r = need(1);
      if (!r) return tl::unexpected(r.error());
      Value cur = a[0];
      for (std::size_t i = 1; i < a.size(); ++i) {
        std::int64_t k;
        const Value* next = nullptr;
        if (cur.is_object()) next = cur.get(a[i]);
        if (cur.is_array() && a[i].to_int64(k) && k >= 0 && static_cast<std::size_t>(k) < cur.array_items().size())
          next = &cur.array_items()[static_cast<std::size_t>(k)];
        if (!next) return Value();
        cur = *next;
      }
      return cur;
    }
    static const char* cmps[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    for (int i = 0; i < 6; ++i) {
      if (fn != cmps[i]) continue;
      auto r = need(2);
      if (!r) return tl::unexpected(r.error());
      if (i == 0) {
        for (std::size_t k = 1; k < a.size(); ++k)
          if (a[0] == a[k]) return Value::boolean(true);
        return Value::boolean(false);
      }
      int c = compare(a[0], a[1]);
      bool res = i == 1 ? c != 0 : i == 2 ? c < 0 : i == 3 ? c <= 0 : i == 4 ? c > 0 : c >= 0;
      return Value::boolean(res);
    }
    return tl::unexpected(TemplateError{"function \"" + fn + "\" not defined"});
  }

  // command ( '|' command )*: each stage's result is appended as the next stage's last argument.
  tl::expected<Value, TemplateError> pipeline(const std::vector<std::string>& toks, const Value& dot) {
    if (toks.empty()) return tl::unexpected(TemplateError{"missing value for command"});
    Value prev;
    bool have_prev = false;
    std::size_t i = 0;
    while (i < toks.size()) {
      std::size_t j = i;
      while (j < toks.size() && toks[j] != "|") ++j;
      std::vector<std::string> cmd(toks.begin() + static_cast<std::ptrdiff_t>(i), toks.begin() + static_cast<std::ptrdiff_t>(j));
      if (cmd.empty()) return tl::unexpected(TemplateError{"missing command in pipeline"});
      const std::string& head = cmd[0];
      bool is_fn = std::isalpha(static_cast<unsigned char>(head[0])) && head != "true" && head != "false" && head != "nil";
      if (is_fn) {
        std::vector<Value> args;
        for (std::size_t k = 1; k < cmd.size(); ++k) {
          auto v = operand(cmd[k], dot);
          if (!v) return v;
          args.push_back(*v);
        }
        if (have_prev) args.push_back(prev);
        auto r = call(head, args);
        if (!r) return r;
        prev = *r;
      } else {
        if (cmd.size() > 1 || have_prev) return tl::unexpected(TemplateError{"can't give argument to non-function " + head});
        auto v = operand(head, dot);
        if (!v) return v;
        prev = *v;
      }
      have_prev = true;
      i = j + 1;
    }
    return prev;
  }

  tl::expected<void, TemplateError> run(const Nodes& nodes, const Value& dot, int depth) {
    if (depth > 100) return tl::unexpected(TemplateError{"template nesting too deep"});
    for (const auto& n : nodes) {
      switch (n->kind) {
        case Node::Text: out += n->text; break;
        case Node::Action: {
          auto v = pipeline(n->tokens, dot);
          if (!v) return tl::unexpected(v.error());
          out += print(*v);
          break;
        }
        case Node::Assign: {
          auto v = pipeline(n->tokens, dot);
          if (!v) return tl::unexpected(v.error());
          vars[n->vars[0]] = *v;
          break;
        }
        case Node::If:
        case Node::With: {
          auto v = pipeline(n->tokens, dot);
          if (!v) return tl::unexpected(v.error());
          auto r = truthy(*v) ? run(n->body, n->kind == Node::With ? *v : dot, depth + 1) : run(n->alt, dot, depth + 1);
          if (!r) return r;
          break;
        }
        case Node::Range: {
          auto v = pipeline(n->tokens, dot);
          if (!v) return tl::unexpected(v.error());
          std::vector<std::pair<Value, Value>> items;
          if (v->is_array()) {
            for (std::size_t i = 0; i < v->array_items().size(); ++i)
              items.emplace_back(Value::integer(static_cast<std::int64_t>(i)), v->array_items()[i]);
          } else if (v->is_set()) {
            for (std::size_t i = 0; i < v->set_items().size(); ++i)
              items.emplace_back(Value::integer(static_cast<std::int64_t>(i)), v->set_items()[i]);
          } else if (v->is_object()) {
            items = v->object_entries();
          } else if (truthy(*v)) {
            return tl::unexpected(TemplateError{"range can't iterate over " + print(*v)});
          }
          if (items.empty()) {
            auto r = run(n->alt, dot, depth + 1);
            if (!r) return r;
          }
          for (const auto& [k, x] : items) {
            if (n->vars.size() == 1) vars[n->vars[0]] = x;
            if (n->vars.size() >= 2) vars[n->vars[0]] = k, vars[n->vars[1]] = x;
            auto r = run(n->body, x, depth + 1);
            if (!r) return r;
          }
          break;
        }
      }
    }
    return {};
  }
};

BuiltinResult render_template(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& tpl = *REGO_ARG(arg_string(ctx, a, 0));
  const Value& data = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Object));
  Parser p{tpl};
  auto nodes = p.parse(nullptr, nullptr);
  if (!nodes) return tl::unexpected(builtin_error(ctx, "template: " + nodes.error().message));
  Renderer r;
  r.vars["$"] = data;
  auto ok = r.run(*nodes, data, 0);
  if (!ok) return tl::unexpected(builtin_error(ctx, "template: " + ok.error().message));
  return Value::string(std::move(r.out));
}

}  // namespace

void register_template(Registry& r) { r.add({"strings.render_template", 2, render_template}); }

}  // namespace cloister::rego::builtins
