// Policy: "do we accept this (already verified) report?" Kept apart from verify.h's mechanism so a
// key broker can apply its own rules to the same VerifiedReport.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloister/attest/report.h"
#include "cloister/attest/verify.h"
#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::attest {

// Minimum TCB per component (compared with the report's reported_tcb).
struct MinTcb {
  std::optional<std::uint8_t> bootloader, tee, snp, microcode, fmc;
};
// "bl=N,tee=N,snp=N,ucode=N[,fmc=N]" (any subset, any order).
Result<MinTcb> parse_min_tcb(std::string_view text);

struct AppraisalPolicy {
  std::vector<Bytes> measurements;          // any of these (48 bytes each); empty: any
  std::optional<Bytes> host_data;           // 32 bytes
  std::optional<Bytes> report_data;         // up to 64 bytes, zero-padded
  MinTcb min_tcb;
  std::uint32_t min_guest_svn = 0;
  std::set<std::uint32_t> allowed_vmpls{0, 1, 2, 3};
  bool allow_debug = false;                 // a debug guest's memory can be read by the host
  bool allow_smt = true;
  bool allow_migration_agent = false;       // a migration agent can export guest memory
  std::vector<Bytes> id_key_digests;        // any of these; empty: any
  std::vector<Bytes> author_key_digests;    // any of these; empty: any
  std::set<Product> allowed_products;       // empty: any
  bool allow_amd_root = true;
  bool allow_sim_root = false;              // INSECURE: only for machines without SEV-SNP
};

// Check tags in failure messages ("[policy:<name>] ..."), one per rule.
namespace policy_check {
inline constexpr std::string_view kRoot = "policy:root";
inline constexpr std::string_view kProduct = "policy:product";
inline constexpr std::string_view kDebug = "policy:debug";
inline constexpr std::string_view kSmt = "policy:smt";
inline constexpr std::string_view kMigration = "policy:migration-agent";
inline constexpr std::string_view kVmpl = "policy:vmpl";
inline constexpr std::string_view kMeasurement = "policy:measurement";
inline constexpr std::string_view kHostData = "policy:host-data";
inline constexpr std::string_view kReportData = "policy:report-data";
inline constexpr std::string_view kGuestSvn = "policy:guest-svn";
inline constexpr std::string_view kTcb = "policy:min-tcb";
inline constexpr std::string_view kIdKey = "policy:id-key-digest";
inline constexpr std::string_view kAuthorKey = "policy:author-key-digest";
}  // namespace policy_check

// What an accepted report asserts; the key broker and the sidecar put these into tokens.
struct Claims {
  std::string tee;  // "snp" or "snp-sim"
  std::string product;
  std::string signer;  // "vcek" / "vlek"
  std::uint32_t report_version = 0;
  std::uint32_t guest_svn = 0;
  std::string policy;  // hex u64
  bool debug = false, smt_allowed = false, migration_allowed = false;
  std::uint32_t vmpl = 0;
  std::string measurement, host_data, report_data, id_key_digest, author_key_digest, family_id, image_id,
      report_id, chip_id;  // lower-case hex
  TcbVersion reported_tcb;
  std::string platform_info;  // hex u64

  std::string to_json(int indent = 2) const;
};

// Errc::permission_denied naming the failed rule and the values compared.
Result<Claims> appraise(const VerifiedReport& report, const AppraisalPolicy& policy);

}  // namespace cloister::attest
