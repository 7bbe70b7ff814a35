#include "cloister/attest/policy.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cloister/common/encoding.h"
#include "format.h"

namespace cloister::attest {
namespace {

using fmt::hex;
using fmt::hex_u64;


tl::unexpected<Error> deny(std::string_view tag, std::string msg) {
  std::string text = "[";
  text.append(tag);
  text.append("] ");
  text.append(msg);
  return make_error(Errc::permission_denied, std::move(text));
}

template <std::size_t N>
bool equals(const std::array<std::uint8_t, N>& a, const Bytes& b) {
  return b.size() == N && std::equal(a.begin(), a.end(), b.begin());
}

template <std::size_t N>
bool any_equals(const std::array<std::uint8_t, N>& a, const std::vector<Bytes>& set) {
  return std::any_of(set.begin(), set.end(), [&](const Bytes& b) { return equals(a, b); });
}

std::string join_hex(const std::vector<Bytes>& set) {
  std::string out;
  for (const auto& b : set) {
    if (!out.empty()) out.push_back(',');
    out.append(hex_encode(b));
  }
  return out;
}

}  // namespace

Result<MinTcb> parse_min_tcb(std::string_view text) {
  MinTcb out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return make_error(Errc::invalid_argument, "min-tcb item '" + std::string(item) + "' lacks '='");
    std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
    if (ec != std::errc() || p != val.data() + val.size() || v > 255)
      return make_error(Errc::invalid_argument, "min-tcb value '" + std::string(val) + "' is not 0..255");
    auto u8 = static_cast<std::uint8_t>(v);
    if (key == "bl" || key == "bootloader") out.bootloader = u8;
    else if (key == "tee") out.tee = u8;
    else if (key == "snp") out.snp = u8;
    else if (key == "ucode" || key == "microcode") out.microcode = u8;
    else if (key == "fmc") out.fmc = u8;
    else return make_error(Errc::invalid_argument, "min-tcb component '" + std::string(key) + "' is unknown (bl, tee, snp, ucode, fmc)");
  }
  return out;
}

Result<Claims> appraise(const VerifiedReport& v, const AppraisalPolicy& p) {
  const Report& r = v.report;
  // Which root vouched: the simulator's keys live on the host, so its reports prove nothing
  // about isolation and are refused unless explicitly enabled.
  if (v.root == RootKind::amd && !p.allow_amd_root) return deny(policy_check::kRoot, "AMD root not allowed");
  if (v.root == RootKind::sim && !p.allow_sim_root)
    return deny(policy_check::kRoot, "report is signed by the INSECURE simulator root, which policy does not allow");
  if (!p.allowed_products.empty() && !p.allowed_products.contains(v.product))
    return deny(policy_check::kProduct, "product " + std::string(product_name(v.product)) + " is not allowed");
  // DEBUG lets the hypervisor decrypt and modify guest memory (56860 guest policy, bit 19).
  if (r.policy.debug() && !p.allow_debug)
    return deny(policy_check::kDebug, "guest policy " + hex_u64(r.policy.raw) + " has DEBUG set; policy requires debug off");
  if (r.policy.smt_allowed() && !p.allow_smt)
    return deny(policy_check::kSmt, "guest policy " + hex_u64(r.policy.raw) + " allows SMT; policy forbids it");
  // A migration agent can export the guest's memory to another machine.
  if (r.policy.migrate_ma() && !p.allow_migration_agent)
    return deny(policy_check::kMigration, "guest policy " + hex_u64(r.policy.raw) + " allows a migration agent");
  if (!p.allowed_vmpls.contains(r.vmpl)) {
    std::string allowed;
    for (auto x : p.allowed_vmpls) {
      if (!allowed.empty()) allowed.push_back(',');
      allowed.append(std::to_string(x));
    }
    return deny(policy_check::kVmpl, "report VMPL " + std::to_string(r.vmpl) + " is not in the allowed set {" + allowed + "}");
  }
  if (!p.measurements.empty() && !any_equals(r.measurement, p.measurements))
    return deny(policy_check::kMeasurement,
                "measurement " + hex(r.measurement) + " is not one of the expected {" + join_hex(p.measurements) + "}");
  if (p.host_data && !equals(r.host_data, *p.host_data))
    return deny(policy_check::kHostData, "host_data " + hex(r.host_data) + " != expected " + hex_encode(*p.host_data));
  if (p.report_data) {
    Bytes want = *p.report_data;
    want.resize(64, 0);
    if (!equals(r.report_data, want))
      return deny(policy_check::kReportData, "report_data " + hex(r.report_data) + " != expected " + hex_encode(want));
  }
  if (r.guest_svn < p.min_guest_svn)
    return deny(policy_check::kGuestSvn,
                "guest_svn " + std::to_string(r.guest_svn) + " < minimum " + std::to_string(p.min_guest_svn));
  const TcbVersion& t = v.reported_tcb;
  auto tcb_check = [&](const char* name, std::uint8_t have, const std::optional<std::uint8_t>& min) -> Status {
    if (min && have < *min)
      return deny(policy_check::kTcb, std::string("reported_tcb ") + name + " " + std::to_string(have) + " < minimum " +
                                          std::to_string(*min));
    return {};
  };
  CLOISTER_RETURN_IF_ERROR(tcb_check("bootloader", t.bootloader, p.min_tcb.bootloader));
  CLOISTER_RETURN_IF_ERROR(tcb_check("tee", t.tee, p.min_tcb.tee));
  CLOISTER_RETURN_IF_ERROR(tcb_check("snp", t.snp, p.min_tcb.snp));
  CLOISTER_RETURN_IF_ERROR(tcb_check("microcode", t.microcode, p.min_tcb.microcode));
  if (v.product == Product::turin) CLOISTER_RETURN_IF_ERROR(tcb_check("fmc", t.fmc, p.min_tcb.fmc));
  if (!p.id_key_digests.empty() && !any_equals(r.id_key_digest, p.id_key_digests))
    return deny(policy_check::kIdKey, "id_key_digest " + hex(r.id_key_digest) + " is not one of {" + join_hex(p.id_key_digests) + "}");
  if (!p.author_key_digests.empty() && !any_equals(r.author_key_digest, p.author_key_digests))
    return deny(policy_check::kAuthorKey,
                "author_key_digest " + hex(r.author_key_digest) + " is not one of {" + join_hex(p.author_key_digests) + "}");

  Claims c;
  c.tee = v.root == RootKind::sim ? "snp-sim" : "snp";
  c.product = std::string(product_name(v.product));
  c.signer = std::string(signing_key_name(v.signer));
  c.report_version = r.version;
  c.guest_svn = r.guest_svn;
  c.policy = hex_u64(r.policy.raw);
  c.debug = r.policy.debug();
  c.smt_allowed = r.policy.smt_allowed();
  c.migration_allowed = r.policy.migrate_ma();
  c.vmpl = r.vmpl;
  c.measurement = hex(r.measurement);
  c.host_data = hex(r.host_data);
  c.report_data = hex(r.report_data);
  c.id_key_digest = hex(r.id_key_digest);
  c.author_key_digest = hex(r.author_key_digest);
  c.family_id = hex(r.family_id);
  c.image_id = hex(r.image_id);
  c.report_id = hex(r.report_id);
  c.chip_id = hex(r.chip_id);
  c.reported_tcb = t;
  c.platform_info = hex_u64(r.platform_info.raw);
  return c;
}

std::string Claims::to_json(int indent) const {
  nlohmann::ordered_json j;
  j["tee"] = tee;
  j["product"] = product;
  j["signer"] = signer;
  j["report_version"] = report_version;
  j["guest_svn"] = guest_svn;
  j["policy"] = policy;
  j["debug"] = debug;
  j["smt_allowed"] = smt_allowed;
  j["migration_allowed"] = migration_allowed;
  j["vmpl"] = vmpl;
  j["measurement"] = measurement;
  j["host_data"] = host_data;
  j["report_data"] = report_data;
  j["id_key_digest"] = id_key_digest;
  j["author_key_digest"] = author_key_digest;
  j["family_id"] = family_id;
  j["image_id"] = image_id;
  j["report_id"] = report_id;
  j["chip_id"] = chip_id;
  nlohmann::ordered_json tcb{{"bootloader", reported_tcb.bootloader},
                             {"tee", reported_tcb.tee},
                             {"snp", reported_tcb.snp},
                             {"microcode", reported_tcb.microcode}};
  if (product == "Turin") tcb["fmc"] = reported_tcb.fmc;
  j["reported_tcb"] = tcb;
  j["platform_info"] = platform_info;
  return j.dump(indent);
}

}  // namespace cloister::attest
