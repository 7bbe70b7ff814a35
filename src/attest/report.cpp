#include "cloister/attest/report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cloister/common/encoding.h"
#include "format.h"
#include "report_wire.h"

namespace cloister::attest {
namespace {


using fmt::hex;
using fmt::hex_u64;

template <std::size_t N>
void copy_in(std::array<std::uint8_t, N>& dst, const std::uint8_t (&src)[N]) {
  std::memcpy(dst.data(), src, N);
}
template <std::size_t N>
void copy_out(std::uint8_t (&dst)[N], const std::array<std::uint8_t, N>& src) {
  std::memcpy(dst, src.data(), N);
}

Status require_zero(ByteView bytes, wire::ReservedRange r, std::uint32_t version) {
  for (std::size_t i = r.begin; i < r.end; ++i) {
    if (bytes[i] != 0) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "reserved byte at offset 0x%03zx is 0x%02x (must be zero in a v%u report)", i,
                    bytes[i], version);
      return make_error(Errc::parse, buf);
    }
  }
  return {};
}

}  // namespace

std::string_view product_name(Product p) {
  switch (p) {
    case Product::milan: return "Milan";
    case Product::genoa: return "Genoa";
    case Product::turin: return "Turin";
    case Product::unknown: break;
  }
  return "unknown";
}

std::optional<Product> parse_product(std::string_view name) {
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  // KDS productName carries a stepping suffix on older certs ("Milan-B0").
  if (auto dash = lower.find('-'); dash != std::string::npos) lower.resize(dash);
  if (lower == "milan") return Product::milan;
  if (lower == "genoa") return Product::genoa;
  if (lower == "turin") return Product::turin;
  return std::nullopt;
}

TcbVersion decode_tcb(std::uint64_t raw, Product product) {
  auto byte = [raw](int i) { return static_cast<std::uint8_t>(raw >> (8 * i)); };
  TcbVersion t;
  if (product == Product::turin) {
    t.fmc = byte(0);
    t.bootloader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.bootloader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.microcode = byte(7);
  return t;
}

std::uint64_t encode_tcb(const TcbVersion& t, Product product) {
  auto at = [](std::uint8_t v, int i) { return static_cast<std::uint64_t>(v) << (8 * i); };
  if (product == Product::turin)
    return at(t.fmc, 0) | at(t.bootloader, 1) | at(t.tee, 2) | at(t.snp, 3) | at(t.microcode, 7);
  return at(t.bootloader, 0) | at(t.tee, 1) | at(t.snp, 6) | at(t.microcode, 7);
}

std::string tcb_to_string(const TcbVersion& t, Product product) {
  char buf[96];
  if (product == Product::turin)
    std::snprintf(buf, sizeof buf, "fmc=%u bl=%u tee=%u snp=%u ucode=%u", t.fmc, t.bootloader, t.tee, t.snp,
                  t.microcode);
  else
    std::snprintf(buf, sizeof buf, "bl=%u tee=%u snp=%u ucode=%u", t.bootloader, t.tee, t.snp, t.microcode);
  return buf;
}

std::string_view signing_key_name(SigningKey k) {
  switch (k) {
    case SigningKey::vcek: return "vcek";
    case SigningKey::vlek: return "vlek";
    case SigningKey::none: return "none";
  }
  return "?";
}

Product product_from_cpuid(const Cpuid& c) {
  // DESIGN.md §4 (AMD family/model assignments used by the KDS product names).
  if (c.family == 0x19) {
    if (c.model <= 0x0F) return Product::milan;
    if ((c.model >= 0x10 && c.model <= 0x1F) || (c.model >= 0xA0 && c.model <= 0xAF)) return Product::genoa;
  }
  if (c.family == 0x1A) return Product::turin;
  return Product::unknown;
}

Result<Report> parse_report(ByteView bytes) {
  if (bytes.size() != kReportSize)
    return make_error(Errc::parse, "attestation report is " + std::to_string(bytes.size()) +
                                       " bytes, expected 1184 (0x4A0)");
  wire::AttestationReport w;
  std::memcpy(&w, bytes.data(), sizeof w);  // trivially copyable wire struct; size checked above

  if (w.version < kMinReportVersion || w.version > kMaxReportVersion)
    return make_error(Errc::unsupported, "report version " + std::to_string(w.version) +
                                             " at offset 0x000 is not supported (2..5)");
  if (w.signature_algo != kSigAlgoEcdsaP384Sha384)
    return make_error(Errc::unsupported, "signature_algo " + std::to_string(w.signature_algo) +
                                             " at offset 0x034 is unknown (only 1 = ECDSA P-384/SHA-384)");
  for (auto r : wire::kReservedAll) CLOISTER_RETURN_IF_ERROR(require_zero(bytes, r, w.version));
  CLOISTER_RETURN_IF_ERROR(
      require_zero(bytes, w.version >= 3 ? wire::kReservedV3Cpuid : wire::kReservedV2Cpuid, w.version));
  if (w.version < 5) CLOISTER_RETURN_IF_ERROR(require_zero(bytes, wire::kReservedPreV5Mit, w.version));
  if (w.signer_info >> 5)
    return make_error(Errc::parse, "signer_info at offset 0x048 has reserved bits 31:5 set (" +
                                       hex_u64(w.signer_info) + ")");
  const unsigned key = (w.signer_info >> 2) & 7;
  if (key != 0 && key != 1 && key != 7)
    return make_error(Errc::unsupported,
                      "signer_info SIGNING_KEY at offset 0x048 is " + std::to_string(key) + " (0 VCEK, 1 VLEK, 7 none)");

  Report r;
  r.version = w.version;
  r.guest_svn = w.guest_svn;
  r.policy.raw = w.policy;
  copy_in(r.family_id, w.family_id);
  copy_in(r.image_id, w.image_id);
  r.vmpl = w.vmpl;
  r.signature_algo = w.signature_algo;
  r.current_tcb = w.current_tcb;
  r.platform_info.raw = w.platform_info;
  r.signer_info.author_key_en = w.signer_info & 1;
  r.signer_info.mask_chip_key = w.signer_info & 2;
  r.signer_info.signing_key = static_cast<SigningKey>(key);
  copy_in(r.report_data, w.report_data);
  copy_in(r.measurement, w.measurement);
  copy_in(r.host_data, w.host_data);
  copy_in(r.id_key_digest, w.id_key_digest);
  copy_in(r.author_key_digest, w.author_key_digest);
  copy_in(r.report_id, w.report_id);
  copy_in(r.report_id_ma, w.report_id_ma);
  r.reported_tcb = w.reported_tcb;
  if (w.version >= 3) r.cpuid = Cpuid{w.cpuid_fam_id, w.cpuid_mod_id, w.cpuid_step};
  copy_in(r.chip_id, w.chip_id);
  r.committed_tcb = w.committed_tcb;
  r.current_version = {w.current_build, w.current_minor, w.current_major};
  r.committed_version = {w.committed_build, w.committed_minor, w.committed_major};
  r.launch_tcb = w.launch_tcb;
  if (w.version >= 5) {
    r.launch_mit_vector = w.launch_mit_vector;
    r.current_mit_vector = w.current_mit_vector;
  }
  copy_in(r.signature_r, w.signature.r);
  copy_in(r.signature_s, w.signature.s);
  return r;
}

Bytes serialize_report(const Report& r) {
  wire::AttestationReport w;
  std::memset(&w, 0, sizeof w);
  w.version = r.version;
  w.guest_svn = r.guest_svn;
  w.policy = r.policy.raw;
  copy_out(w.family_id, r.family_id);
  copy_out(w.image_id, r.image_id);
  w.vmpl = r.vmpl;
  w.signature_algo = r.signature_algo;
  w.current_tcb = r.current_tcb;
  w.platform_info = r.platform_info.raw;
  w.signer_info = (r.signer_info.author_key_en ? 1u : 0u) | (r.signer_info.mask_chip_key ? 2u : 0u) |
                  (static_cast<std::uint32_t>(r.signer_info.signing_key) & 7u) << 2;
  copy_out(w.report_data, r.report_data);
  copy_out(w.measurement, r.measurement);
  copy_out(w.host_data, r.host_data);
  copy_out(w.id_key_digest, r.id_key_digest);
  copy_out(w.author_key_digest, r.author_key_digest);
  copy_out(w.report_id, r.report_id);
  copy_out(w.report_id_ma, r.report_id_ma);
  w.reported_tcb = r.reported_tcb;
  // Fields a version does not have stay zero, so serialize_report never writes bytes that
  // parse_report would refuse as reserved (the layouts per version: report_wire.h).
  if (r.cpuid && r.version >= 3) {
    w.cpuid_fam_id = r.cpuid->family;
    w.cpuid_mod_id = r.cpuid->model;
    w.cpuid_step = r.cpuid->stepping;
  }
  copy_out(w.chip_id, r.chip_id);
  w.committed_tcb = r.committed_tcb;
  w.current_build = r.current_version.build;
  w.current_minor = r.current_version.minor;
  w.current_major = r.current_version.major;
  w.committed_build = r.committed_version.build;
  w.committed_minor = r.committed_version.minor;
  w.committed_major = r.committed_version.major;
  w.launch_tcb = r.launch_tcb;
  if (r.version >= 5) {
    w.launch_mit_vector = r.launch_mit_vector.value_or(0);
    w.current_mit_vector = r.current_mit_vector.value_or(0);
  }
  copy_out(w.signature.r, r.signature_r);
  copy_out(w.signature.s, r.signature_s);
  Bytes out(sizeof w);
  std::memcpy(out.data(), &w, sizeof w);
  return out;
}

namespace {

nlohmann::ordered_json tcb_json(std::uint64_t raw, Product product) {
  TcbVersion t = decode_tcb(raw, product);
  nlohmann::ordered_json j;
  j["raw"] = hex_u64(raw);
  if (product == Product::turin) j["fmc"] = t.fmc;
  j["bootloader"] = t.bootloader;
  j["tee"] = t.tee;
  j["snp"] = t.snp;
  j["microcode"] = t.microcode;
  return j;
}

std::string version_string(const FirmwareVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.build);
}

nlohmann::ordered_json to_json(const Report& r, Product product) {
  nlohmann::ordered_json j;
  j["version"] = r.version;
  j["product"] = product_name(product);
  j["guest_svn"] = r.guest_svn;
  j["policy"] = {{"raw", hex_u64(r.policy.raw)},
                 {"abi_major", r.policy.abi_major()},
                 {"abi_minor", r.policy.abi_minor()},
                 {"smt", r.policy.smt_allowed()},
                 {"migrate_ma", r.policy.migrate_ma()},
                 {"debug", r.policy.debug()},
                 {"single_socket", r.policy.single_socket()},
                 {"cxl_allowed", r.policy.cxl_allowed()},
                 {"mem_aes_256_xts", r.policy.mem_aes_256_xts()},
                 {"rapl_dis", r.policy.rapl_dis()},
                 {"ciphertext_hiding", r.policy.ciphertext_hiding()},
                 {"page_swap_disable", r.policy.page_swap_disable()}};
  j["family_id"] = hex(r.family_id);
  j["image_id"] = hex(r.image_id);
  j["vmpl"] = r.vmpl;
  j["signature_algo"] = r.signature_algo;
  j["current_tcb"] = tcb_json(r.current_tcb, product);
  j["platform_info"] = {{"raw", hex_u64(r.platform_info.raw)},
                        {"smt_enabled", r.platform_info.smt_enabled()},
                        {"tsme_enabled", r.platform_info.tsme_enabled()},
                        {"ecc_enabled", r.platform_info.ecc_enabled()},
                        {"rapl_disabled", r.platform_info.rapl_disabled()},
                        {"ciphertext_hiding_enabled", r.platform_info.ciphertext_hiding_enabled()},
                        {"alias_check_complete", r.platform_info.alias_check_complete()}};
  j["signer_info"] = {{"author_key_en", r.signer_info.author_key_en},
                      {"mask_chip_key", r.signer_info.mask_chip_key},
                      {"signing_key", signing_key_name(r.signer_info.signing_key)}};
  j["report_data"] = hex(r.report_data);
  j["measurement"] = hex(r.measurement);
  j["host_data"] = hex(r.host_data);
  j["id_key_digest"] = hex(r.id_key_digest);
  j["author_key_digest"] = hex(r.author_key_digest);
  j["report_id"] = hex(r.report_id);
  j["report_id_ma"] = hex(r.report_id_ma);
  j["reported_tcb"] = tcb_json(r.reported_tcb, product);
  if (r.cpuid)
    j["cpuid"] = {{"family", r.cpuid->family}, {"model", r.cpuid->model}, {"stepping", r.cpuid->stepping}};
  j["chip_id"] = hex(r.chip_id);
  j["committed_tcb"] = tcb_json(r.committed_tcb, product);
  j["current_version"] = version_string(r.current_version);
  j["committed_version"] = version_string(r.committed_version);
  j["launch_tcb"] = tcb_json(r.launch_tcb, product);
  if (r.launch_mit_vector) j["launch_mit_vector"] = hex_u64(*r.launch_mit_vector);
  if (r.current_mit_vector) j["current_mit_vector"] = hex_u64(*r.current_mit_vector);
  j["signature"] = {{"r", hex(r.signature_r)}, {"s", hex(r.signature_s)}};
  return j;
}

}  // namespace

std::string report_to_json(const Report& r, Product product, int indent) { return to_json(r, product).dump(indent); }

std::string report_to_text(const Report& r, Product product) {
  std::string out;
  auto line = [&out](std::string_view k, const std::string& v) {
    out.append(k);
    out.append(k.size() < 20 ? 20 - k.size() : 1, ' ');
    out.append(v);
    out.push_back('\n');
  };
  line("version", std::to_string(r.version));
  line("product", std::string(product_name(product)));
  line("guest_svn", std::to_string(r.guest_svn));
  line("policy", hex_u64(r.policy.raw) + (r.policy.debug() ? " (DEBUG)" : "") + (r.policy.smt_allowed() ? " smt" : "") +
                     (r.policy.migrate_ma() ? " migrate_ma" : ""));
  line("vmpl", std::to_string(r.vmpl));
  line("signature_algo", std::to_string(r.signature_algo));
  line("signing_key", std::string(signing_key_name(r.signer_info.signing_key)) +
                          (r.signer_info.mask_chip_key ? " mask_chip_key" : "") +
                          (r.signer_info.author_key_en ? " author_key_en" : ""));
  line("platform_info", hex_u64(r.platform_info.raw));
  line("current_tcb", hex_u64(r.current_tcb) + " " + tcb_to_string(decode_tcb(r.current_tcb, product), product));
  line("reported_tcb", hex_u64(r.reported_tcb) + " " + tcb_to_string(decode_tcb(r.reported_tcb, product), product));
  line("committed_tcb", hex_u64(r.committed_tcb) + " " + tcb_to_string(decode_tcb(r.committed_tcb, product), product));
  line("launch_tcb", hex_u64(r.launch_tcb) + " " + tcb_to_string(decode_tcb(r.launch_tcb, product), product));
  if (r.cpuid)
    line("cpuid", std::to_string(r.cpuid->family) + "/" + std::to_string(r.cpuid->model) + "/" +
                      std::to_string(r.cpuid->stepping));
  line("firmware", "current " + version_string(r.current_version) + " committed " + version_string(r.committed_version));
  if (r.launch_mit_vector) line("launch_mit_vector", hex_u64(*r.launch_mit_vector));
  if (r.current_mit_vector) line("current_mit_vector", hex_u64(*r.current_mit_vector));
  line("report_data", hex(r.report_data));
  line("measurement", hex(r.measurement));
  line("host_data", hex(r.host_data));
  line("id_key_digest", hex(r.id_key_digest));
  line("author_key_digest", hex(r.author_key_digest));
  line("family_id", hex(r.family_id));
  line("image_id", hex(r.image_id));
  line("report_id", hex(r.report_id));
  line("report_id_ma", hex(r.report_id_ma));
  line("chip_id", hex(r.chip_id));
  return out;
}

}  // namespace cloister::attest
