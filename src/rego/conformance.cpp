#include "cloister/rego/conformance.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <yaml-cpp/yaml.h>

#include "cloister/common/file.h"
#include "builtins/builtin.h"
#include "cloister/rego/rego.h"

namespace cloister::rego {
namespace {

// Skip rule: a case that calls a builtin cloister deliberately does not provide (network and
// runtime access) is skipped, not failed. Those builtins are the registry entries marked
// `unsupported` (builtins/unsupported.cpp); this is the only skip rule.
const std::vector<std::string>& unsupported_builtins() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    const auto& reg = builtins::Registry::standard();
    for (const auto& n : reg.names())
      if (reg.find(n)->unsupported) out.push_back(n);
    return out;
  }();
  return names;
}

bool looks_like_number(const std::string& s) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return false;
  bool digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') digit = true;
    else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') return false;
  }
  return digit;
}

// YAML -> Value keeping integers exact: scalars are read as text and typed here. Quoted scalars
// (tag "!") are always strings.
Result<Value> yaml_value(const YAML::Node& n, int depth = 0) {
  if (depth > 200) return make_error(Errc::limit_exceeded, "YAML nesting too deep");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return Value::null();
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return Value::string(s);
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return Value::null();
      if (s == "true" || s == "True" || s == "TRUE") return Value::boolean(true);
      if (s == "false" || s == "False" || s == "FALSE") return Value::boolean(false);
      if (looks_like_number(s)) {
        auto v = Value::number_from_string(s[0] == '+' ? s.substr(1) : s);
        if (v) return v;
      }
      return Value::string(s);
    }
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& c : n) items.push_back(CLOISTER_TRY(yaml_value(c, depth + 1)));
      return Value::array(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& kv : n) {
        entries.emplace_back(Value::string(kv.first.Scalar()), CLOISTER_TRY(yaml_value(kv.second, depth + 1)));
      }
      return Value::object(std::move(entries));
    }
  }
  return Value::null();
}

// Results as JSON values: sets become arrays, as in want_result.
Value as_json(const Value& v) {
  auto r = parse_json(to_json(v));
  return r ? *r : Value();
}

Value sorted_if_array(const Value& v) {
  if (!v.is_array()) return v;
  std::vector<Value> items = v.array_items();
  std::stable_sort(items.begin(), items.end(), ValueLess{});
  return Value::array(std::move(items));
}

struct Case {
  std::string note;
  std::string query;
  std::vector<std::string> modules;
  Value data, input;
  std::string input_term;
  bool has_want_result = false;
  Value want_result;
  std::string want_error_code, want_error;
  bool has_want_error = false;
  bool strict = false, sort_bindings = false;
};

std::string run_case(const Case& c) {
  std::vector<ModuleSource> mods;
  for (std::size_t i = 0; i < c.modules.size(); ++i) mods.push_back({"test-" + std::to_string(i) + ".rego", c.modules[i]});
  auto check_error = [&](const Error& e) -> std::string {
    if (c.want_error_code.empty() && !c.has_want_error) return "unexpected error: " + e.message();
    std::string code(error_code(e));
    if (!c.want_error_code.empty() && code != c.want_error_code) {
      return "want error code " + c.want_error_code + ", got: " + e.message();
    }
    if (c.has_want_error && e.message().find(c.want_error) == std::string::npos) {
      return "want error containing \"" + c.want_error + "\", got: " + e.message();
    }
    return {};
  };
  // OPA's harness compiles the modules without the store's data-path conflict check (its cases
  // expect base data and rules at one path to merge, e.g. baseandvirtualdocs "conflicts").
  CompileOptions copts;
  copts.check_data_conflicts = false;
  auto policy = Policy::compile(mods, c.data.is_defined() ? c.data : Value::empty_object(), copts);
  if (!policy) return check_error(policy.error());
  EvalOptions opts;
  opts.input = c.input;
  if (!c.input_term.empty()) {
    auto t = parse_value_term(c.input_term);
    if (!t) return "input_term: " + t.error().message();
    opts.input = *t;
  }
  opts.strict_builtin_errors = c.strict;
  opts.limits.timeout = std::chrono::milliseconds(10000);
  auto res = (*policy)->eval(c.query, opts);
  if (!res) return check_error(res.error());
  if (!c.want_error_code.empty() || c.has_want_error) {
    return "want error " + c.want_error_code + " \"" + c.want_error + "\", got " + std::to_string(res->rows.size()) +
           " result(s)";
  }
  if (!c.has_want_result) return {};
  std::vector<Value> got;
  for (const auto& row : res->rows) {
    std::vector<std::pair<Value, Value>> entries;
    for (const auto& [name, v] : row.bindings) {
      if (name.rfind("__localq", 0) == 0) continue;
      Value j = as_json(v);
      if (c.sort_bindings) j = sorted_if_array(j);
      entries.emplace_back(Value::string(name), j);
    }
    got.push_back(Value::object(std::move(entries)));
  }
  std::vector<Value> want;
  for (const auto& w : c.want_result.array_items()) {
    if (c.sort_bindings && w.is_object()) {
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& [k, v] : w.object_entries()) entries.emplace_back(k, sorted_if_array(v));
      want.push_back(Value::object(std::move(entries)));
    } else {
      want.push_back(w);
    }
  }
  Value gs = Value::set(got), ws = Value::set(want);
  if (gs != ws) {
    std::string g = to_json(Value::array(got));
    if (g.size() > 400) g = g.substr(0, 400) + "...";
    std::string w = to_json(Value::array(want));
    if (w.size() > 400) w = w.substr(0, 400) + "...";
    return "want " + w + ", got " + g;
  }
  return {};
}

// `name` occurs in `text` as a whole reference (called, or named as a `with` replacement).
bool mentions(std::string_view text, std::string_view name) {
  auto ident = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.'; };
  for (auto at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    bool left = at == 0 || !ident(text[at - 1]);
    bool right = at + name.size() == text.size() || !ident(text[at + name.size()]);
    if (left && right) return true;
  }
  return false;
}

bool uses_unsupported(const Case& c) {
  for (const auto& name : unsupported_builtins()) {
    if (mentions(c.query, name)) return true;
    for (const auto& m : c.modules)
      if (mentions(m, name)) return true;
  }
  return false;
}

Status run_file(const std::filesystem::path& file, ConformanceReport& report) {
  auto text = read_text_file(file);
  if (!text) return forward_error(text.error());
  YAML::Node doc;
  try {
    doc = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return make_error(Errc::parse, file.string() + ": " + e.what());
  }
  const YAML::Node cases = doc["cases"];
  if (!cases || !cases.IsSequence()) return make_error(Errc::parse, file.string() + ": no cases list");
  for (const auto& n : cases) {
    Case c;
    try {
      c.note = n["note"] ? n["note"].Scalar() : std::string("(no note)");
      c.query = n["query"] ? n["query"].Scalar() : std::string();
      if (n["modules"])
        for (const auto& m : n["modules"]) c.modules.push_back(m.Scalar());
      if (n["data"]) c.data = CLOISTER_TRY(yaml_value(n["data"]));
      if (n["input"]) c.input = CLOISTER_TRY(yaml_value(n["input"]));
      if (n["input_term"]) c.input_term = n["input_term"].Scalar();
      if (n["want_result"]) {
        c.has_want_result = true;
        c.want_result = CLOISTER_TRY(yaml_value(n["want_result"]));
      }
      if (n["want_error_code"]) c.want_error_code = n["want_error_code"].Scalar();
      if (n["want_error"]) {
        c.has_want_error = true;
        c.want_error = n["want_error"].Scalar();
      }
      c.strict = n["strict_error"] && n["strict_error"].as<bool>();
      c.sort_bindings = n["sort_bindings"] && n["sort_bindings"].as<bool>();
    } catch (const YAML::Exception& e) {
      return make_error(Errc::parse, file.string() + ": " + c.note + ": " + e.what());
    }
    if (uses_unsupported(c)) {
      ++report.skipped;
      report.skipped_notes.push_back(c.note);
      continue;
    }
    std::string reason;
    try {
      reason = run_case(c);
    } catch (const std::exception& e) {
      reason = std::string("internal error: ") + e.what();
    }
    if (reason.empty()) {
      ++report.passed;
    } else {
      ++report.failed;
      report.failures.push_back({file.string(), c.note, reason});
    }
  }
  return {};
}

}  // namespace

Result<ConformanceReport> run_conformance(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec)) {
        auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path());
      }
    } else if (std::filesystem::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      return make_error(Errc::not_found, p.string() + ": no such file or directory");
    }
  }
  std::sort(files.begin(), files.end());
  ConformanceReport report;
  for (const auto& f : files) CLOISTER_RETURN_IF_ERROR(run_file(f, report));
  return report;
}

}  // namespace cloister::rego
