// `cloister rego ...`: thin CLI over the Rego engine (src/rego).
#include <cstdio>
#include <iostream>

#include "cloister/common/file.h"
#include "cloister/rego/conformance.h"
#include "cloister/rego/loader.h"
#include "cloister/rego/rego.h"
#include "commands.h"

namespace cloister::cli {
namespace {

struct EvalArgs {
  bool v0 = false;
  bool strict = false;
  std::vector<std::string> data;
  std::string input;
  std::string query;
  bool pretty = false;
};

int run_eval(const EvalArgs& a) {
  std::vector<std::filesystem::path> paths(a.data.begin(), a.data.end());
  auto bundle = rego::load_paths(paths);
  if (!bundle) {
    std::fprintf(stderr, "cloister rego eval: %s\n", bundle.error().to_string().c_str());
    return 2;
  }
  rego::CompileOptions copts;
  copts.v0 = a.v0;
  auto policy = rego::Policy::compile(bundle->modules, bundle->data, copts);
  if (!policy) {
    std::fprintf(stderr, "%s\n", policy.error().to_string().c_str());
    return 2;
  }
  rego::EvalOptions opts;
  opts.strict_builtin_errors = a.strict;
  if (!a.input.empty()) {
    auto text = read_text_file(a.input);
    if (!text) {
      std::fprintf(stderr, "cloister rego eval: %s\n", text.error().to_string().c_str());
      return 2;
    }
    auto in = rego::parse_json(*text);
    if (!in) {
      std::fprintf(stderr, "cloister rego eval: %s: %s\n", a.input.c_str(), in.error().to_string().c_str());
      return 2;
    }
    opts.input = *in;
  }
  auto res = (*policy)->eval(a.query, opts);
  if (!res) {
    std::fprintf(stderr, "%s\n", res.error().to_string().c_str());
    return 2;
  }
  for (const auto& line : res->prints) std::fprintf(stderr, "%s\n", line.c_str());
  if (res->rows.empty()) {
    std::printf("undefined\n");
    return 0;
  }
  const rego::Value& v = res->rows.front().value;
  std::printf("%s\n", (a.pretty ? rego::to_json_pretty(v) : rego::to_json(v)).c_str());
  return 0;
}

int run_check(const std::vector<std::string>& files, bool v0) {
  std::vector<std::filesystem::path> paths(files.begin(), files.end());
  auto bundle = rego::load_paths(paths);
  if (!bundle) {
    std::fprintf(stderr, "cloister rego check: %s\n", bundle.error().to_string().c_str());
    return 2;
  }
  rego::CompileOptions copts;
  copts.v0 = v0;
  auto policy = rego::Policy::compile(bundle->modules, bundle->data, copts);
  if (!policy) {
    std::fprintf(stderr, "%s\n", policy.error().to_string().c_str());
    return 1;
  }
  return 0;
}

int run_conformance(const std::vector<std::string>& dirs, bool quiet) {
  std::vector<std::filesystem::path> paths(dirs.begin(), dirs.end());
  auto report = rego::run_conformance(paths);
  if (!report) {
    std::fprintf(stderr, "cloister rego conformance: %s\n", report.error().to_string().c_str());
    return 2;
  }
  if (!quiet) {
    for (const auto& f : report->failures) {
      std::printf("FAIL %s: %s: %s\n", f.file.c_str(), f.note.c_str(), f.reason.c_str());
    }
  }
  std::printf("%zu passed, %zu failed, %zu skipped\n", report->passed, report->failed, report->skipped);
  return report->failed == 0 ? 0 : 1;
}

}  // namespace

void register_rego(CLI::App& parent, int& exit_code) {
  auto* rego = parent.add_subcommand("rego", "Rego policies: evaluate, check, run OPA conformance cases");
  rego->require_subcommand(1);

  auto eval_args = std::make_shared<EvalArgs>();
  auto* eval = rego->add_subcommand(
      "eval", "Evaluate QUERY; print the first result's value as JSON, or `undefined` (exit 2 on errors)");
  eval->add_flag("--v0", eval_args->v0, "Parse modules as Rego v0 (unless they import rego.v1)");
  eval->add_flag("--strict", eval_args->strict, "Strict builtin errors: a failing builtin is an error");
  eval->add_flag("--pretty", eval_args->pretty, "Indent the JSON output");
  eval->add_option("-d,--data", eval_args->data, "Policy (.rego), data (.json) or directory; repeatable");
  eval->add_option("-i,--input", eval_args->input, "Input document (JSON file)");
  eval->add_option("query", eval_args->query, "Rego query, e.g. data.policy.allow")->required();
  eval->callback([eval_args, &exit_code] { exit_code = run_eval(*eval_args); });

  auto check_files = std::make_shared<std::vector<std::string>>();
  auto check_v0 = std::make_shared<bool>(false);
  auto* check = rego->add_subcommand("check", "Parse and compile policies; errors with file:line (exit 1 on errors)");
  check->add_flag("--v0", *check_v0, "Parse modules as Rego v0 (unless they import rego.v1)");
  check->add_option("files", *check_files, "Policy files or directories")->required();
  check->callback([check_files, check_v0, &exit_code] { exit_code = run_check(*check_files, *check_v0); });

  auto conf_dirs = std::make_shared<std::vector<std::string>>();
  auto conf_quiet = std::make_shared<bool>(false);
  auto* conf = rego->add_subcommand(
      "conformance",
      "Run OPA conformance YAML cases found recursively; print failures and `N passed, N failed, N skipped`");
  conf->add_flag("-q,--quiet", *conf_quiet, "Only print the closing summary line");
  conf->add_option("dirs", *conf_dirs, "Directories or case files")->required();
  conf->callback([conf_dirs, conf_quiet, &exit_code] { exit_code = run_conformance(*conf_dirs, *conf_quiet); });
}

}  // namespace cloister::cli
