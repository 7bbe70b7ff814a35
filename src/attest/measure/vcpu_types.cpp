// QEMU EPYC CPU models and their CPUID(1).EAX signatures.
#include <algorithm>
#include <array>
#include <string>

#include "cloister/snp_measure/measure.h"

namespace cloister::snp_measure {
namespace {

struct CpuModel {
  std::string_view name;
  unsigned family, model, stepping;
};

// Family/model/stepping of QEMU's builtin_x86_defs (target/i386/cpu.c), as sev-snp-measure's
// vcpu_types.py lists them.
constexpr std::array kCpuModels{
    CpuModel{"EPYC", 23, 1, 2},          CpuModel{"EPYC-v1", 23, 1, 2},       CpuModel{"EPYC-v2", 23, 1, 2},
    CpuModel{"EPYC-IBPB", 23, 1, 2},     CpuModel{"EPYC-v3", 23, 1, 2},       CpuModel{"EPYC-v4", 23, 1, 2},
    CpuModel{"EPYC-Rome", 23, 49, 0},    CpuModel{"EPYC-Rome-v1", 23, 49, 0}, CpuModel{"EPYC-Rome-v2", 23, 49, 0},
    CpuModel{"EPYC-Rome-v3", 23, 49, 0}, CpuModel{"EPYC-Milan", 25, 1, 1},    CpuModel{"EPYC-Milan-v1", 25, 1, 1},
    CpuModel{"EPYC-Milan-v2", 25, 1, 1}, CpuModel{"EPYC-Genoa", 25, 17, 0},   CpuModel{"EPYC-Genoa-v1", 25, 17, 0},
    CpuModel{"EPYC-Turin", 26, 0, 0},
};

constexpr auto kNames = [] {
  std::array<std::string_view, kCpuModels.size()> names{};
  for (std::size_t i = 0; i < kCpuModels.size(); ++i) names[i] = kCpuModels[i].name;
  return names;
}();

}  // namespace

std::uint32_t cpu_signature(unsigned family, unsigned model, unsigned stepping) {
  // CPUID Fn0000_0001_EAX (AMD 25481): families above 0xF are BaseFamily 0xF + ExtFamily.
  const unsigned base_family = family > 0xf ? 0xf : family;
  const unsigned ext_family = family > 0xf ? (family - 0xf) & 0xff : 0;
  return static_cast<std::uint32_t>(ext_family << 20 | ((model >> 4) & 0xf) << 16 | base_family << 8 |
                                    (model & 0xf) << 4 | (stepping & 0xf));
}

Result<std::uint32_t> vcpu_type_signature(std::string_view name) {
  auto it = std::find_if(kCpuModels.begin(), kCpuModels.end(), [name](const CpuModel& m) { return m.name == name; });
  if (it == kCpuModels.end()) return make_error(Errc::not_found, "unknown vCPU type '" + std::string(name) + "'");
  return cpu_signature(it->family, it->model, it->stepping);
}

std::span<const std::string_view> vcpu_type_names() { return kNames; }

}  // namespace cloister::snp_measure
