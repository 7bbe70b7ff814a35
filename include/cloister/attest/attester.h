// Guest side: obtaining a report for our own 64-byte REPORT_DATA. Three sources, tried in this
// order by detect_attester(): /dev/sev-guest ioctls, the configfs-tsm report interface, and the
// INSECURE simulator's socket (only when configured).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::attest {

using ReportData = std::array<std::uint8_t, 64>;

struct AttesterOutput {
  Bytes report;      // 1184 bytes
  Bytes cert_table;  // GUID table (evidence.h), empty when not requested or not provided
};

class Attester {
 public:
  virtual ~Attester() = default;
  virtual std::string_view kind() const = 0;  // "sev-guest", "configfs-tsm", "sim"
  virtual Result<AttesterOutput> get_report(const ReportData& report_data, bool with_certs) = 0;
};

// SNP_GET_REPORT / SNP_GET_EXT_REPORT on the sev-guest device. Only works inside an SNP guest.
std::unique_ptr<Attester> make_sev_guest_attester(std::filesystem::path device = "/dev/sev-guest",
                                                  std::uint32_t vmpl = 0);
// /sys/kernel/config/tsm/report/<entry>/{inblob,outblob,auxblob,privlevel,provider,generation}.
std::unique_ptr<Attester> make_tsm_attester(std::filesystem::path root = "/sys/kernel/config/tsm/report",
                                            std::uint32_t privlevel = 0);
// The simulator's unix socket (sim.h; docs/snp-sim-protocol.md).
std::unique_ptr<Attester> make_sim_attester(std::filesystem::path socket);

struct DetectOptions {
  std::filesystem::path sev_guest = "/dev/sev-guest";
  std::filesystem::path tsm_root = "/sys/kernel/config/tsm/report";
  std::optional<std::filesystem::path> sim_socket;  // considered only when set
  std::uint32_t vmpl = 0;
};
// Errc::not_found naming every place looked at when none is available.
Result<std::unique_ptr<Attester>> detect_attester(const DetectOptions& opts);

}  // namespace cloister::attest
