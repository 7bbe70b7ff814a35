#include "cloister/rego/loader.h"

#include <algorithm>

#include "cloister/common/file.h"

namespace cloister::rego {

Result<Value> merge_data(const Value& a, const Value& b) {
  if (a.is_undefined()) return b;
  if (!a.is_object() || !b.is_object()) return make_error(Errc::invalid_argument, "cannot merge non-object values");
  std::vector<std::pair<Value, Value>> entries = a.object_entries();
  for (const auto& entry : b.object_entries()) {
    const Value& k = entry.first;
    const Value& v = entry.second;
    auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == k; });
    if (it == entries.end()) {
      entries.emplace_back(k, v);
      continue;
    }
    if (!it->second.is_object() || !v.is_object()) {
      return make_error(Errc::invalid_argument, "data conflict at key " + to_json(k));
    }
    auto merged = merge_data(it->second, v);
    if (!merged) return forward_error(std::move(merged.error()).wrap("under key " + to_json(k)));
    it->second = *merged;
  }
  return Value::object(std::move(entries));
}

namespace {
Status load_file(const std::filesystem::path& p, Bundle& b) {
  auto ext = p.extension();
  if (ext == ".rego") {
    auto text = read_text_file(p);
    if (!text) return forward_error(text.error());
    b.modules.push_back({p.string(), std::move(*text)});
  } else if (ext == ".json") {
    auto text = read_text_file(p);
    if (!text) return forward_error(text.error());
    auto v = parse_json(*text);
    if (!v) return forward_error(std::move(v.error()).wrap(p.string()));
    if (!v->is_object()) return make_error(Errc::invalid_argument, p.string() + ": data file must hold a JSON object");
    auto merged = merge_data(b.data, *v);
    if (!merged) return forward_error(std::move(merged.error()).wrap(p.string()));
    b.data = *merged;
  }
  return {};
}
}  // namespace

Result<Bundle> load_paths(const std::vector<std::filesystem::path>& paths) {
  Bundle b;
  b.data = Value::empty_object();
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) CLOISTER_RETURN_IF_ERROR(load_file(f, b));
    } else if (std::filesystem::is_regular_file(p, ec)) {
      auto ext = p.extension();
      if (ext != ".rego" && ext != ".json") {
        return make_error(Errc::invalid_argument, p.string() + ": expected a .rego or .json file");
      }
      CLOISTER_RETURN_IF_ERROR(load_file(p, b));
    } else {
      return make_error(Errc::not_found, p.string() + ": no such file or directory");
    }
  }
  return b;
}

}  // namespace cloister::rego
