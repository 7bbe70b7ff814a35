#include "cloister/attest/attester.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <optional>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cloister/attest/report.h"
#include "cloister/attest/sim.h"
#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "sev_guest_abi.h"

namespace cloister::attest {

namespace fs = std::filesystem;

namespace {

Result<Bytes> report_from_response(const sevguest::snp_report_resp& resp) {
  sevguest::msg_report_rsp_hdr hdr;
  std::memcpy(&hdr, resp.data, sizeof hdr);
  if (hdr.status != 0) return make_error(Errc::io, "firmware MSG_REPORT_RSP status " + std::to_string(hdr.status));
  if (hdr.report_size != kReportSize)
    return make_error(Errc::parse, "firmware report_size " + std::to_string(hdr.report_size) + " != 1184");
  return Bytes(resp.data + sizeof hdr, resp.data + sizeof hdr + kReportSize);
}

class SevGuestAttester final : public Attester {
 public:
  SevGuestAttester(fs::path dev, std::uint32_t vmpl) : dev_(std::move(dev)), vmpl_(vmpl) {}
  std::string_view kind() const override { return "sev-guest"; }

  Result<AttesterOutput> get_report(const ReportData& rd, bool with_certs) override {
    UniqueFd fd(::open(dev_.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return make_error(errno == ENOENT ? Errc::not_found : Errc::io, "open " + dev_.string() + ": " + errno_string(errno));
    sevguest::snp_ext_report_req req{};
    std::memcpy(req.data.user_data, rd.data(), 64);
    req.data.vmpl = vmpl_;
    auto resp = std::make_unique<sevguest::snp_report_resp>();
    Bytes certs(with_certs ? 4 * 4096 : 0);
    for (int attempt = 0; attempt < 2; ++attempt) {
      sevguest::snp_guest_request_ioctl io{};
      io.msg_version = 1;
      io.resp_data = reinterpret_cast<std::uintptr_t>(resp.get());  // kernel ABI takes user addresses as u64
      // The ioctl ABI carries user-space buffer addresses as u64 (include/uapi/linux/sev-guest.h);
      // every buffer outlives the ioctl call.
      if (with_certs) {
        req.certs_address = reinterpret_cast<std::uintptr_t>(certs.data());
        req.certs_len = static_cast<std::uint32_t>(certs.size());
        io.req_data = reinterpret_cast<std::uintptr_t>(&req);
      } else {
        io.req_data = reinterpret_cast<std::uintptr_t>(&req.data);
      }
      int rc = ::ioctl(fd.get(), with_certs ? sevguest::kSnpGetExtReport : sevguest::kSnpGetReport, &io);
      if (rc == 0) {
        AttesterOutput out;
        out.report = CLOISTER_TRY(report_from_response(*resp));
        if (with_certs) {
          certs.resize(req.certs_len);
          out.cert_table = std::move(certs);
        }
        return out;
      }
      int err = errno;
      if (with_certs && io.errors.vmm_error == sevguest::kVmmErrInvalidLen && attempt == 0 && req.certs_len > certs.size() &&
          req.certs_len <= (1u << 20)) {
        certs.assign(req.certs_len, 0);  // the host told us how much room its certificates need
        continue;
      }
      return make_error(Errc::io, "ioctl " + std::string(with_certs ? "SNP_GET_EXT_REPORT" : "SNP_GET_REPORT") + " on " +
                                      dev_.string() + ": " + errno_string(err) + " (fw_error " +
                                      std::to_string(io.errors.fw_error) + ", vmm_error " +
                                      std::to_string(io.errors.vmm_error) + ")");
    }
    return make_error(Errc::io, "SNP_GET_EXT_REPORT: certificate buffer negotiation failed");
  }

 private:
  fs::path dev_;
  std::uint32_t vmpl_;
};

std::optional<unsigned long> parse_counter(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

class TsmAttester final : public Attester {
 public:
  TsmAttester(fs::path root, std::uint32_t privlevel) : root_(std::move(root)), privlevel_(privlevel) {}
  std::string_view kind() const override { return "configfs-tsm"; }

  Result<AttesterOutput> get_report(const ReportData& rd, bool with_certs) override {
    static std::atomic<unsigned> counter{0};
    fs::path entry = root_ / ("cloister-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    if (::mkdir(entry.c_str(), 0700) != 0)
      return make_error(errno == ENOENT ? Errc::not_found : Errc::io, "mkdir " + entry.string() + ": " + errno_string(errno));
    struct Cleanup {
      fs::path p;
      ~Cleanup() { ::rmdir(p.c_str()); }  // configfs removes the attribute files with the directory
    } cleanup{entry};
    auto provider = read_text_file(entry / "provider");
    if (provider && provider->find("sev_guest") == std::string::npos)
      return make_error(Errc::unsupported, "configfs-tsm provider is '" + *provider + "', not sev_guest");
    std::string priv = std::to_string(privlevel_);
    CLOISTER_RETURN_IF_ERROR(write_attr(entry / "privlevel", as_bytes(priv)));
    auto gen_before = read_text_file(entry / "generation");
    CLOISTER_RETURN_IF_ERROR(write_attr(entry / "inblob", ByteView(rd.data(), rd.size())));
    AttesterOutput out;
    Bytes blob = CLOISTER_TRY(read_file(entry / "outblob"));
    // sev_guest's outblob is the MSG_REPORT_RSP payload; accept it with or without the header.
    if (blob.size() == kReportSize) {
      out.report = std::move(blob);
    } else if (blob.size() >= sizeof(sevguest::msg_report_rsp_hdr) + kReportSize) {
      sevguest::snp_report_resp resp{};
      std::memcpy(resp.data, blob.data(), std::min(blob.size(), sizeof resp.data));
      out.report = CLOISTER_TRY(report_from_response(resp));
    } else {
      return make_error(Errc::parse, "configfs-tsm outblob is " + std::to_string(blob.size()) + " bytes");
    }
    if (with_certs) {
      auto aux = read_file(entry / "auxblob");
      if (aux) out.cert_table = std::move(*aux);
    }
    // generation counts writes: a change means another writer raced us on this entry.
    auto gen_after = read_text_file(entry / "generation");
    if (gen_before && gen_after) {
      auto before = parse_counter(*gen_before), after = parse_counter(*gen_after);
      if (!before || !after || *after != *before + 1)
        return make_error(Errc::failed_precondition, "configfs-tsm entry was modified concurrently");
    }
    return out;
  }

 private:
  static Status write_attr(const fs::path& p, ByteView data) {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return make_error(Errc::io, "open " + p.string() + ": " + errno_string(errno));
    return write_full(fd.get(), data);
  }
  fs::path root_;
  std::uint32_t privlevel_;
};

class SimAttester final : public Attester {
 public:
  explicit SimAttester(fs::path socket) : socket_(std::move(socket)) {}
  std::string_view kind() const override { return "sim"; }

  Result<AttesterOutput> get_report(const ReportData& rd, bool with_certs) override {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = socket_.string();
    if (path.size() >= sizeof addr.sun_path) return make_error(Errc::invalid_argument, "socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error(Errc::io, "socket: " + errno_string(errno));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)  // sockaddr_un is a sockaddr
      return make_error(errno == ENOENT ? Errc::not_found : Errc::io, "connect " + path + ": " + errno_string(errno));
    nlohmann::json req{{"op", "report"}, {"report_data", hex_encode(ByteView(rd.data(), rd.size()))}, {"certs", with_certs}};
    CLOISTER_RETURN_IF_ERROR(sim_write_frame(fd.get(), req.dump()));
    std::string text = CLOISTER_TRY(sim_read_frame(fd.get()));
    auto resp = nlohmann::json::parse(text, nullptr, false);
    if (resp.is_discarded() || !resp.is_object()) return make_error(Errc::parse, "simulator response is not JSON");
    if (!resp.value("ok", false)) {
      std::string err = resp.contains("error") && resp["error"].is_string() ? resp["error"].get<std::string>() : "?";
      return make_error(Errc::failed_precondition, "simulator refused: " + err);
    }
    if (!resp.contains("report") || !resp["report"].is_string()) return make_error(Errc::parse, "simulator response lacks report");
    AttesterOutput out;
    out.report = CLOISTER_TRY(base64_decode(resp["report"].get<std::string>()));
    if (out.report.size() != kReportSize) return make_error(Errc::parse, "simulator report is not 1184 bytes");
    if (with_certs && resp.contains("cert_table") && resp["cert_table"].is_string())
      out.cert_table = CLOISTER_TRY(base64_decode(resp["cert_table"].get<std::string>()));
    return out;
  }

 private:
  fs::path socket_;
};

}  // namespace

std::unique_ptr<Attester> make_sev_guest_attester(fs::path device, std::uint32_t vmpl) {
  return std::make_unique<SevGuestAttester>(std::move(device), vmpl);
}
std::unique_ptr<Attester> make_tsm_attester(fs::path root, std::uint32_t privlevel) {
  return std::make_unique<TsmAttester>(std::move(root), privlevel);
}
std::unique_ptr<Attester> make_sim_attester(fs::path socket) { return std::make_unique<SimAttester>(std::move(socket)); }

Result<std::unique_ptr<Attester>> detect_attester(const DetectOptions& opts) {
  std::error_code ec;
  if (fs::exists(opts.sev_guest, ec)) return make_sev_guest_attester(opts.sev_guest, opts.vmpl);
  if (fs::is_directory(opts.tsm_root, ec)) return make_tsm_attester(opts.tsm_root, opts.vmpl);
  if (opts.sim_socket) {
    struct stat st {};
    if (::stat(opts.sim_socket->c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return make_sim_attester(*opts.sim_socket);
  }
  std::string where = opts.sev_guest.string() + " (absent), " + opts.tsm_root.string() + " (absent)";
  where += opts.sim_socket ? ", simulator socket " + opts.sim_socket->string() + " (absent)" : ", no simulator socket configured";
  return make_error(Errc::not_found, "no SEV-SNP attestation interface: looked at " + where);
}

}  // namespace cloister::attest
