// `cloister verity format|verify|layer`: thin wrappers over cloister_verity. Output lines follow
// veritysetup's so scripts written against one read the other.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "cloister/common/encoding.h"
#include "cloister/verity/layer.h"
#include "cloister/verity/verity.h"
#include "commands.h"

namespace cloister::cli {

namespace {

namespace fs = std::filesystem;
using verity::Params;

struct TreeOptions {
  std::string hash = "sha256";
  std::string data_block_size = "4096";
  std::string hash_block_size = "4096";
  std::optional<std::string> salt;
  bool no_superblock = false;
  std::uint64_t hash_offset = 0;
  std::optional<std::uint64_t> data_blocks;
  unsigned threads = 0;
  CLI::Option* hash_opt = nullptr;
  CLI::Option* dbs_opt = nullptr;
  CLI::Option* hbs_opt = nullptr;
};

void add_tree_options(CLI::App& cmd, TreeOptions& o) {
  o.hash_opt = cmd.add_option("--hash", o.hash, "Hash algorithm: sha256 (default), sha512, sha1");
  o.dbs_opt = cmd.add_option("--data-block-size", o.data_block_size, "Data block size in bytes (512..65536, power of two; default 4096)");
  o.hbs_opt = cmd.add_option("--hash-block-size", o.hash_block_size, "Hash block size in bytes (512..65536, power of two; default 4096)");
  cmd.add_option("--salt", o.salt, "Salt as hex, or - for none");
  cmd.add_flag("--no-superblock", o.no_superblock, "No 512-byte verity superblock on the hash device");
  cmd.add_option("--hash-offset", o.hash_offset, "Byte offset of the hash area on the hash device (multiple of 512)");
  cmd.add_option("--data-blocks", o.data_blocks, "Number of data blocks (default: the whole data file)");
  cmd.add_option("--threads", o.threads, "Hashing threads (default: up to 2)");
}

int fail(std::string_view command, const Error& e) {
  std::fprintf(stderr, "cloister verity %.*s: error: %s\n", static_cast<int>(command.size()), command.data(),
               e.to_string().c_str());
  return 2;
}

// Progress on stderr for work that outlasts a second, only for a human watching a terminal.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (shown_) std::fputc('\n', stderr);
  }
  verity::ProgressFn fn() {
    if (!::isatty(STDERR_FILENO)) return {};
    return [this](std::uint64_t done, std::uint64_t total) {
      if (std::chrono::steady_clock::now() - start_ < std::chrono::seconds(1)) return;
      shown_ = true;
      unsigned pct = total ? static_cast<unsigned>(done * 100 / total) : 0;
      std::fprintf(stderr, "\r%s: %3u%% (%llu/%llu MiB)", label_.c_str(), pct,
                   static_cast<unsigned long long>(done >> 20), static_cast<unsigned long long>(total >> 20));
      std::fflush(stderr);
    };
  }

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  bool shown_ = false;
};

Result<Params> params_from_options(const TreeOptions& o) {
  Params p;
  p.hash = CLOISTER_TRY(verity::parse_hash_algorithm(o.hash));
  auto dbs = verity::parse_block_size(o.data_block_size);
  if (!dbs) return forward_error(std::move(dbs.error()).wrap("--data-block-size"));
  auto hbs = verity::parse_block_size(o.hash_block_size);
  if (!hbs) return forward_error(std::move(hbs.error()).wrap("--hash-block-size"));
  p.data_block_size = *dbs;
  p.hash_block_size = *hbs;
  if (o.salt) {
    auto salt = verity::parse_salt(*o.salt);
    if (!salt) return forward_error(std::move(salt.error()).wrap("--salt"));
    p.salt = std::move(*salt);
  }
  p.superblock = !o.no_superblock;
  p.hash_offset = o.hash_offset;
  if (o.data_blocks) {
    if (*o.data_blocks == 0) return make_error(Errc::invalid_argument, "--data-blocks must be positive");
    p.data_blocks = *o.data_blocks;
  }
  if (auto st = verity::validate(p, false); !st) return forward_error(std::move(st.error()));
  return p;
}

std::string salt_text(const Bytes& salt) { return salt.empty() ? "-" : hex_encode(salt); }

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

int run_format(const TreeOptions& o, const std::optional<std::string>& uuid_text, const fs::path& data, const fs::path& hash) {
  auto params = params_from_options(o);
  if (!params) return fail("format", params.error());
  // veritysetup defaults: 32 random salt bytes, a random UUID.
  if (!o.salt) params->salt = verity::random_salt(32);
  if (uuid_text) {
    auto uuid = verity::parse_uuid(*uuid_text);
    if (!uuid) return fail("format", std::move(uuid.error()).wrap("--uuid"));
    params->uuid = *uuid;
  } else if (params->superblock) {
    params->uuid = verity::random_uuid();
  }
  Progress progress("format " + data.string());
  auto r = verity::format(data, hash, *params, verity::Options{o.threads, progress.fn()});
  if (!r) return fail("format", r.error());
  const auto& p = r->params;
  std::printf("VERITY header information for %s\n", hash.c_str());
  std::printf("UUID:            \t%s\n", p.superblock ? verity::format_uuid(p.uuid).c_str() : "");
  std::printf("Hash type:       \t1\n");
  std::printf("Data blocks:     \t%llu\n", static_cast<unsigned long long>(p.data_blocks));
  std::printf("Data block size: \t%u\n", p.data_block_size);
  std::printf("Hash blocks:     \t%llu\n", static_cast<unsigned long long>(r->geometry.tree_blocks));
  std::printf("Hash block size: \t%u\n", p.hash_block_size);
  std::printf("Hash algorithm:  \t%s\n", std::string(verity::to_string(p.hash)).c_str());
  std::printf("Salt:            \t%s\n", salt_text(p.salt).c_str());
  std::printf("Root hash:      \t%s\n", hex_encode(r->root_hash).c_str());
  if (p.hash_offset == 0) {
    std::printf("Hash device size: \t%llu [bytes]\n", static_cast<unsigned long long>(r->geometry.hash_device_size));
  }
  return 0;
}

int run_verify(const TreeOptions& o, const fs::path& data, const fs::path& hash, const std::string& root_text) {
  auto root = hex_decode(root_text);
  if (!root) return fail("verify", std::move(root.error()).wrap("root hash '" + root_text + "'"));
  auto params = params_from_options(o);
  if (!params) return fail("verify", params.error());
  if (params->superblock) {
    // Like veritysetup: the superblock is authoritative; explicit options must agree with it.
    auto sb = verity::read_superblock(hash, params->hash_offset);
    if (!sb) return fail("verify", sb.error());
    auto conflict = [&](bool given, bool differs, const char* what) {
      if (given && differs) {
        std::fprintf(stderr, "cloister verity verify: error: %s: %s differs from the superblock\n", hash.c_str(), what);
        return true;
      }
      return false;
    };
    if (conflict(o.hash_opt->count() > 0, sb->hash != params->hash, "--hash") ||
        conflict(o.dbs_opt->count() > 0, sb->data_block_size != params->data_block_size, "--data-block-size") ||
        conflict(o.hbs_opt->count() > 0, sb->hash_block_size != params->hash_block_size, "--hash-block-size") ||
        conflict(o.salt.has_value(), sb->salt != params->salt, "--salt") ||
        conflict(o.data_blocks.has_value(), sb->data_blocks != params->data_blocks, "--data-blocks")) {
      return 2;
    }
    params = std::move(*sb);
  } else if (params->data_blocks == 0) {
    std::uint64_t dbs = params->data_block_size;
    if (same_file(data, hash)) {
      if (params->hash_offset == 0 || params->hash_offset % dbs != 0) {
        std::fprintf(stderr, "cloister verity verify: error: %s is both data and hash device: give --data-blocks or a hash offset that is a multiple of the data block size\n", data.c_str());
        return 2;
      }
      params->data_blocks = params->hash_offset / dbs;
    } else {
      auto size = verity::device_size(data);
      if (!size) return fail("verify", size.error());
      if (*size % dbs != 0 || *size == 0) {
        std::fprintf(stderr, "cloister verity verify: error: %s: size %llu is not a non-zero multiple of the data block size %llu\n",
                     data.c_str(), static_cast<unsigned long long>(*size), static_cast<unsigned long long>(dbs));
        return 2;
      }
      params->data_blocks = *size / dbs;
    }
  }
  Progress progress("verify " + data.string());
  auto r = verity::verify(data, hash, *params, *root, verity::Options{o.threads, progress.fn()});
  if (!r) return fail("verify", r.error());
  if (!r->ok()) {
    const auto& m = *r->mismatch;
    if (m.kind == verity::Mismatch::Kind::data_block) {
      std::fprintf(stderr, "Verification failed: data block %llu of %s is corrupted (byte offset %llu)\n",
                   static_cast<unsigned long long>(m.block), data.c_str(),
                   static_cast<unsigned long long>(m.block * params->data_block_size));
    } else {
      std::fprintf(stderr, "Verification failed: hash block %llu of %s is corrupted (byte offset %llu, tree level %u)\n",
                   static_cast<unsigned long long>(m.block), hash.c_str(),
                   static_cast<unsigned long long>(m.block * params->hash_block_size), m.level);
    }
    return 1;
  }
  std::printf("Verification OK: %llu data blocks of %s match root hash %s\n",
              static_cast<unsigned long long>(params->data_blocks), data.c_str(), hex_encode(*root).c_str());
  return 0;
}

fs::path default_layer_output(const fs::path& layer) {
  std::string name = layer.filename().string();
  for (std::string_view suffix : {".tar.gz", ".tgz", ".gz", ".tar"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  return layer.parent_path() / (name + ".verified.tar");
}

int run_layer(const fs::path& layer, std::optional<std::string> output, unsigned threads) {
  std::error_code ec;
  if (!output && !fs::is_regular_file(layer, ec) && fs::exists(layer, ec)) {
    std::fprintf(stderr, "cloister verity layer: error: %s is not a regular file: give --output\n", layer.c_str());
    return 2;
  }
  fs::path out = output ? fs::path(*output) : default_layer_output(layer);
  if (same_file(layer, out)) {
    std::fprintf(stderr, "cloister verity layer: error: output %s is the input layer\n", out.c_str());
    return 2;
  }
  Progress progress("layer " + layer.string());
  auto r = verity::build_verified_layer(layer, out, verity::Options{threads, progress.fn()});
  if (!r) return fail("layer", r.error());
  auto geometry = verity::compute_geometry(r->params);
  std::printf("Layer:           \t%s (%s)\n", layer.c_str(), r->compression == verity::LayerCompression::gzip ? "gzip tar" : "tar");
  std::printf("Tar entries:     \t%llu\n", static_cast<unsigned long long>(r->entries));
  std::printf("Tar size:        \t%llu [bytes]\n", static_cast<unsigned long long>(r->tar_size));
  std::printf("Verified tar:    \t%s (%llu bytes, padded to 4096)\n", out.c_str(), static_cast<unsigned long long>(r->padded_size));
  std::printf("Hash tree:       \t%s (%llu bytes)\n", verity::hash_tree_path(out).c_str(),
              static_cast<unsigned long long>(geometry ? geometry->tree_blocks * r->params.hash_block_size : 0));
  std::printf("Data blocks:     \t%llu\n", static_cast<unsigned long long>(r->params.data_blocks));
  std::printf("Hash algorithm:  \tsha256\n");
  std::printf("Salt:            \t%s\n", salt_text(r->params.salt).c_str());
  std::printf("Root hash:      \t%s\n", hex_encode(r->root_hash).c_str());
  return 0;
}

}  // namespace

void register_verity(CLI::App& parent, int& exit_code) {
  auto* verity = parent.add_subcommand("verity", "dm-verity hash trees (veritysetup-compatible) and verified layers");
  verity->require_subcommand(1);

  {
    auto* cmd = verity->add_subcommand("format", "Build the hash tree of DATA into HASH, like `veritysetup format`");
    auto o = std::make_shared<TreeOptions>();
    auto uuid = std::make_shared<std::optional<std::string>>();
    auto data = std::make_shared<std::string>();
    auto hash = std::make_shared<std::string>();
    add_tree_options(*cmd, *o);
    cmd->add_option("--uuid", *uuid, "Superblock UUID (default: random)");
    cmd->add_option("DATA", *data, "Data file or device")->required();
    cmd->add_option("HASH", *hash, "Hash file or device (may be DATA with --hash-offset)")->required();
    cmd->callback([=, &exit_code] { exit_code = run_format(*o, *uuid, *data, *hash); });
  }
  {
    auto* cmd = verity->add_subcommand(
        "verify", "Check DATA against HASH and ROOT_HASH; exit 0 intact, 1 corrupted (first bad block named), 2 bad input");
    auto o = std::make_shared<TreeOptions>();
    auto data = std::make_shared<std::string>();
    auto hash = std::make_shared<std::string>();
    auto root = std::make_shared<std::string>();
    add_tree_options(*cmd, *o);
    cmd->add_option("DATA", *data, "Data file or device")->required();
    cmd->add_option("HASH", *hash, "Hash file or device")->required();
    cmd->add_option("ROOT_HASH", *root, "Root hash (hex)")->required();
    cmd->callback([=, &exit_code] { exit_code = run_verify(*o, *data, *hash, *root); });
  }
  {
    auto* cmd = verity->add_subcommand(
        "layer", "Turn an OCI layer (tar or tar.gz) into a verified layer: OUT (tar padded to 4096) + OUT.hashtree");
    auto output = std::make_shared<std::optional<std::string>>();
    auto layer = std::make_shared<std::string>();
    auto threads = std::make_shared<unsigned>(0);
    cmd->add_option("--output,-o", *output, "Verified tar to write (default: LAYER without .tar[.gz] + .verified.tar)");
    cmd->add_option("--threads", *threads, "Hashing threads (default: up to 2)");
    cmd->add_option("LAYER", *layer, "Layer tar or gzip'd tar")->required();
    cmd->callback([=, &exit_code] { exit_code = run_layer(*layer, *output, *threads); });
  }
}

}  // namespace cloister::cli
