// The Linux sev-guest ioctl ABI (include/uapi/linux/sev-guest.h) and the firmware messages it
// carries (SEV-SNP ABI spec 56860, MSG_REPORT_REQ and MSG_REPORT_RSP structures).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cloister::attest::sevguest {

struct snp_report_req {  // 56860 MSG_REPORT_REQ
  std::uint8_t user_data[64];
  std::uint32_t vmpl;
  std::uint8_t rsvd[28];
};
static_assert(sizeof(snp_report_req) == 96);
static_assert(offsetof(snp_report_req, vmpl) == 64);

struct snp_report_resp {  // the kernel hands back the firmware's response buffer
  std::uint8_t data[4000];
};

struct msg_report_rsp_hdr {  // 56860 MSG_REPORT_RSP: STATUS, REPORT_SIZE, reserved, then the report
  std::uint32_t status;
  std::uint32_t report_size;
  std::uint8_t rsvd[24];
};
static_assert(sizeof(msg_report_rsp_hdr) == 32);

struct snp_ext_report_req {
  snp_report_req data;
  std::uint64_t certs_address;
  std::uint32_t certs_len;
};
static_assert(offsetof(snp_ext_report_req, certs_address) == 96);
static_assert(offsetof(snp_ext_report_req, certs_len) == 104);
static_assert(sizeof(snp_ext_report_req) == 112);

struct snp_guest_request_ioctl {
  std::uint8_t msg_version;  // must be 1
  std::uint64_t req_data;
  std::uint64_t resp_data;
  union {
    std::uint64_t exitinfo2;
    struct {
      std::uint32_t fw_error;
      std::uint32_t vmm_error;
    } errors;
  };
};
static_assert(offsetof(snp_guest_request_ioctl, req_data) == 8);
static_assert(offsetof(snp_guest_request_ioctl, resp_data) == 16);
static_assert(offsetof(snp_guest_request_ioctl, exitinfo2) == 24);
static_assert(sizeof(snp_guest_request_ioctl) == 32);

// _IOWR('S', 0x0 / 0x2, struct snp_guest_request_ioctl) — DESIGN.md §4.
inline constexpr unsigned long kSnpGetReport = 0xC0205300;
inline constexpr unsigned long kSnpGetExtReport = 0xC0205302;
// vmm_error when the certificate buffer is too small; certs_len then holds the needed size.
inline constexpr std::uint32_t kVmmErrInvalidLen = 1;

}  // namespace cloister::attest::sevguest
