#include "cloister/attest/sim.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "cloister/attest/evidence.h"
#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "x509_build.h"
#include "x509_util.h"

namespace cloister::attest {

namespace fs = std::filesystem;

namespace {

// state.json is written last by init, so a readable one with a known product marks a complete state.
Result<Product> read_state_product(const fs::path& dir) {
  std::string state_text = CLOISTER_TRY(read_text_file(dir / "state.json"));
  auto state = nlohmann::json::parse(state_text, nullptr, false);
  if (state.is_discarded() || !state.is_object() || !state.contains("product") || !state["product"].is_string())
    return make_error(Errc::parse, (dir / "state.json").string() + ": not a simulator state");
  auto product = parse_product(state["product"].get<std::string>());
  if (!product) return make_error(Errc::parse, (dir / "state.json").string() + ": unknown product");
  return *product;
}

constexpr long kArkSerial = 1, kAskSerial = 2, kVcekSerialBase = 100;
constexpr std::time_t kYear = 365 * 24 * 3600;
constexpr std::string_view kAmdArc = "1.3.6.1.4.1.3704.1.";

std::string cn_suffix(Product p) { return "Sim-" + std::string(product_name(p)); }

Cpuid sim_cpuid(Product p) {
  // Representative CPUID values per product (DESIGN.md §4 ranges).
  switch (p) {
    case Product::milan: return {0x19, 0x01, 0x01};
    case Product::turin: return {0x1A, 0x02, 0x00};
    default: return {0x19, 0x11, 0x01};
  }
}

std::vector<std::pair<std::string, Bytes>> vcek_extensions(Product p, const TcbVersion& t, ByteView hwid) {
  auto oid = [](const char* sub) { return std::string(kAmdArc) + sub; };
  std::vector<std::pair<std::string, Bytes>> ext = {
      {oid("1"), x509::der_integer(1)},
      {oid("2"), x509::der_ia5(product_name(p))},
      {oid("3.1"), x509::der_integer(t.bootloader)},
      {oid("3.2"), x509::der_integer(t.tee)},
      {oid("3.3"), x509::der_integer(t.snp)},
      {oid("3.8"), x509::der_integer(t.microcode)},
  };
  if (p == Product::turin) ext.emplace_back(oid("3.9"), x509::der_integer(t.fmc));
  ext.emplace_back(oid("4"), Bytes(hwid.begin(), hwid.end()));
  return ext;
}

Status write_secret(const fs::path& p, std::string_view data) { return write_file_atomic(p, as_bytes(data), 0600); }
Status write_public(const fs::path& p, ByteView data) { return write_file_atomic(p, data, 0644); }

Result<ossl::X509Ptr> read_pem_cert(const fs::path& p) {
  Bytes b = CLOISTER_TRY(read_file(p));
  auto certs = CLOISTER_TRY(load_certificates(b));
  if (certs.size() != 1) return make_error(Errc::parse, p.string() + ": expected one certificate");
  return x509::from_der(certs[0]);
}

Result<ossl::EvpPkey> read_key(const fs::path& p) {
  Bytes b = CLOISTER_TRY(read_file(p));
  auto k = x509::private_key_from_pem(b);
  if (!k) return forward_error(std::move(k.error()).wrap(p.string()));
  return k;
}

nlohmann::json tcb_json(const TcbVersion& t) {
  return {{"fmc", t.fmc}, {"bootloader", t.bootloader}, {"tee", t.tee}, {"snp", t.snp}, {"microcode", t.microcode}};
}

}  // namespace

struct SimFirmware::Impl {
  Product product = Product::genoa;
  TcbVersion tcb;
  std::array<std::uint8_t, 64> chip_id{};
  unsigned chip = 0;
  ossl::X509Ptr ark, ask, vcek;
  ossl::EvpPkey ark_key, ask_key, vcek_key;
  Bytes ark_der, ask_der, vcek_der;
};

SimFirmware::SimFirmware(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SimFirmware::SimFirmware(SimFirmware&&) noexcept = default;
SimFirmware& SimFirmware::operator=(SimFirmware&&) noexcept = default;
SimFirmware::~SimFirmware() = default;

Result<SimFirmware> SimFirmware::init(const fs::path& dir, const SimInitOptions& opts) {
  if (opts.product == Product::unknown) return make_error(Errc::invalid_argument, "simulator product must be set");
  if (opts.chips == 0 || opts.chips > 64) return make_error(Errc::invalid_argument, "simulator chips must be 1..64");
  std::error_code ec;
  if (fs::exists(dir / "state.json", ec))
    return make_error(Errc::failed_precondition, dir.string() + " already holds a simulator state");
  fs::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "creating " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);

  ossl::EvpPkey ark_key = CLOISTER_TRY(x509::generate_rsa(4096));
  ossl::EvpPkey ask_key = CLOISTER_TRY(x509::generate_rsa(4096));
  std::time_t nb = opts.now - 3600;  // tolerate small clock skew between host and verifier
  x509::CertSpec ark_spec{"ARK-" + cn_suffix(opts.product), kArkSerial, nb, nb + 25 * kYear, true, {}, 48};
  auto ark = CLOISTER_TRY(x509::issue(ark_spec, ark_key.get(), nullptr, ark_key.get()));
  x509::CertSpec ask_spec{"SEV-" + cn_suffix(opts.product), kAskSerial, nb, nb + 25 * kYear, true, {}, 48};
  auto ask = CLOISTER_TRY(x509::issue(ask_spec, ask_key.get(), ark.get(), ark_key.get()));
  CLOISTER_RETURN_IF_ERROR(write_secret(dir / "ark.key", CLOISTER_TRY(x509::private_key_pem(ark_key.get()))));
  CLOISTER_RETURN_IF_ERROR(write_secret(dir / "ask.key", CLOISTER_TRY(x509::private_key_pem(ask_key.get()))));
  CLOISTER_RETURN_IF_ERROR(write_public(dir / "ark.pem", as_bytes(x509::cert_pem(ark.get()))));
  CLOISTER_RETURN_IF_ERROR(write_public(dir / "ask.pem", as_bytes(x509::cert_pem(ask.get()))));

  for (unsigned c = 0; c < opts.chips; ++c) {
    fs::path cdir = dir / "chips" / std::to_string(c);
    fs::create_directories(cdir, ec);
    if (ec) return make_error(Errc::io, "creating " + cdir.string() + ": " + ec.message());
    std::array<std::uint8_t, 64> chip_id{};
    if (RAND_bytes(chip_id.data(), opts.product == Product::turin ? 8 : 64) != 1)
      return forward_error(ossl::error(Errc::internal, "RAND_bytes"));
    ossl::EvpPkey vkey = CLOISTER_TRY(x509::generate_p384());
    ByteView hwid(chip_id.data(), opts.product == Product::turin ? 8 : 64);
    x509::CertSpec vspec{"SEV-VCEK", kVcekSerialBase + c, nb, nb + 7 * kYear, false,
                         vcek_extensions(opts.product, opts.tcb, hwid), 48};
    auto vcek = CLOISTER_TRY(x509::issue(vspec, vkey.get(), ask.get(), ask_key.get()));
    CLOISTER_RETURN_IF_ERROR(write_secret(cdir / "vcek.key", CLOISTER_TRY(x509::private_key_pem(vkey.get()))));
    CLOISTER_RETURN_IF_ERROR(write_public(cdir / "vcek.der", x509::to_der(vcek.get())));
    nlohmann::json chip{{"chip_id", hex_encode(ByteView(chip_id.data(), chip_id.size()))}, {"tcb", tcb_json(opts.tcb)}};
    CLOISTER_RETURN_IF_ERROR(write_public(cdir / "chip.json", as_bytes(chip.dump(2))));
  }
  nlohmann::json state{{"format", 1},
                       {"product", product_name(opts.product)},
                       {"chips", opts.chips},
                       {"warning", "INSECURE simulated SEV-SNP firmware: private keys are in this directory"}};
  // Written last: its presence marks a complete state.
  CLOISTER_RETURN_IF_ERROR(write_public(dir / "state.json", as_bytes(state.dump(2))));
  return load(dir, 0);
}

Result<SimFirmware> SimFirmware::load(const fs::path& dir, unsigned chip) {
  auto impl = std::make_unique<Impl>();
  impl->product = CLOISTER_TRY(read_state_product(dir));
  impl->chip = chip;
  impl->ark = CLOISTER_TRY(read_pem_cert(dir / "ark.pem"));
  impl->ask = CLOISTER_TRY(read_pem_cert(dir / "ask.pem"));
  impl->ark_key = CLOISTER_TRY(read_key(dir / "ark.key"));
  impl->ask_key = CLOISTER_TRY(read_key(dir / "ask.key"));
  fs::path cdir = dir / "chips" / std::to_string(chip);
  impl->vcek_der = CLOISTER_TRY(read_file(cdir / "vcek.der"));
  impl->vcek = CLOISTER_TRY(x509::from_der(impl->vcek_der));
  impl->vcek_key = CLOISTER_TRY(read_key(cdir / "vcek.key"));
  impl->ark_der = x509::to_der(impl->ark.get());
  impl->ask_der = x509::to_der(impl->ask.get());
  // The chip id and TCB come from the certificate itself, so they cannot drift from it.
  CertExtensions ext = CLOISTER_TRY(parse_cert_extensions(impl->vcek_der));
  if (!ext.hwid || !ext.bl_spl || !ext.tee_spl || !ext.snp_spl || !ext.ucode_spl)
    return make_error(Errc::parse, (cdir / "vcek.der").string() + ": sim VCEK lacks hwID/SPL extensions");
  std::memcpy(impl->chip_id.data(), ext.hwid->data(), ext.hwid->size());
  impl->tcb = TcbVersion{ext.fmc_spl.value_or(0), *ext.bl_spl, *ext.tee_spl, *ext.snp_spl, *ext.ucode_spl};
  return SimFirmware(std::move(impl));
}

Product SimFirmware::product() const { return impl_->product; }
TcbVersion SimFirmware::tcb() const { return impl_->tcb; }
const std::array<std::uint8_t, 64>& SimFirmware::chip_id() const { return impl_->chip_id; }
const Bytes& SimFirmware::ark_der() const { return impl_->ark_der; }
const Bytes& SimFirmware::ask_der() const { return impl_->ask_der; }
const Bytes& SimFirmware::vcek_der() const { return impl_->vcek_der; }
TrustAnchor SimFirmware::anchor() const {
  return TrustAnchor{impl_->product, RootKind::sim, impl_->ark_der, impl_->ask_der, {}};
}

Result<Bytes> SimFirmware::sign(Report r) const {
  r.signature_r.fill(0);
  r.signature_s.fill(0);
  Bytes bytes = serialize_report(r);
  Sha384 digest = sha384(ByteView(bytes).first(kSignedSize));
  ossl::EvpPkeyCtx ctx(EVP_PKEY_CTX_new(impl_->vcek_key.get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1)
    return forward_error(ossl::error(Errc::internal, "ECDSA sign init"));
  Bytes der(len);
  if (EVP_PKEY_sign(ctx.get(), der.data(), &len, digest.data(), digest.size()) != 1)
    return forward_error(ossl::error(Errc::internal, "ECDSA sign"));
  const unsigned char* p = der.data();
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig) return forward_error(ossl::error(Errc::internal, "decoding ECDSA signature"));
  // 56860 ECDSA P-384 signature format: r and s little-endian, zero-padded to 72 bytes.
  if (BN_bn2lebinpad(ECDSA_SIG_get0_r(sig.get()), r.signature_r.data(), 72) != 72 ||
      BN_bn2lebinpad(ECDSA_SIG_get0_s(sig.get()), r.signature_s.data(), 72) != 72)
    return forward_error(ossl::error(Errc::internal, "encoding r/s"));
  return serialize_report(r);
}

Result<Bytes> SimFirmware::report(const SimLaunch& l, const std::array<std::uint8_t, 64>& report_data,
                                  const std::array<std::uint8_t, 32>& report_id) const {
  Report r;
  r.version = 3;
  r.guest_svn = l.guest_svn;
  r.policy.raw = l.policy;
  r.family_id = l.family_id;
  r.image_id = l.image_id;
  r.vmpl = l.vmpl;
  r.signature_algo = kSigAlgoEcdsaP384Sha384;
  std::uint64_t tcb = encode_tcb(impl_->tcb, impl_->product);
  r.current_tcb = r.reported_tcb = r.committed_tcb = r.launch_tcb = tcb;
  r.platform_info.raw = 1;  // SMT enabled
  r.signer_info.author_key_en = std::any_of(l.author_key_digest.begin(), l.author_key_digest.end(),
                                            [](std::uint8_t b) { return b != 0; });
  r.signer_info.signing_key = SigningKey::vcek;
  r.report_data = report_data;
  r.measurement = l.measurement;
  r.host_data = l.host_data;
  r.id_key_digest = l.id_key_digest;
  r.author_key_digest = l.author_key_digest;
  r.report_id = report_id;
  r.report_id_ma.fill(0xff);  // no migration agent
  r.cpuid = sim_cpuid(impl_->product);
  r.chip_id = impl_->chip_id;
  r.current_version = r.committed_version = FirmwareVersion{0, 55, 1};
  return sign(r);
}

Result<Bytes> SimFirmware::cert_table() const {
  return build_cert_table({{std::string(kGuidVcek), impl_->vcek_der},
                           {std::string(kGuidAsk), impl_->ask_der},
                           {std::string(kGuidArk), impl_->ark_der}});
}

Result<Bytes> SimFirmware::issue_vcek(const TcbVersion& tcb, std::time_t now) const {
  ByteView hwid(impl_->chip_id.data(), impl_->product == Product::turin ? 8 : 64);
  x509::CertSpec spec{"SEV-VCEK", kVcekSerialBase + 50 + impl_->chip, now - 3600, now + 7 * kYear, false,
                      vcek_extensions(impl_->product, tcb, hwid), 48};
  EVP_PKEY* pub = X509_get0_pubkey(impl_->vcek.get());
  auto cert = CLOISTER_TRY(x509::issue(spec, pub, impl_->ask.get(), impl_->ask_key.get()));
  return x509::to_der(cert.get());
}

Result<Bytes> SimFirmware::ark_crl(const std::vector<long>& serials, std::time_t now) const {
  return x509::issue_crl(impl_->ark.get(), impl_->ark_key.get(), serials, now - 3600, now + 30 * 24 * 3600);
}

Result<std::array<std::uint8_t, 48>> sim_launch_measurement(const snp_measure::LaunchSpec& images) {
  namespace sm = snp_measure;
  auto mode = sm::parse_mode(images.mode);
  if (!mode) return forward_error(std::move(mode.error()).wrap("--mode"));
  if (*mode != sm::Mode::snp && *mode != sm::Mode::snp_svsm)
    return make_error(Errc::invalid_argument, "--mode '" + images.mode +
                                                  "': the simulator attests SEV-SNP launches only (snp, snp:svsm)");
  sm::LaunchConfig config = CLOISTER_TRY(sm::load_launch(images));
  auto m = sm::measure(config);
  if (!m) return forward_error(std::move(m.error()).wrap(images.ovmf));
  std::array<std::uint8_t, 48> out{};
  if (m->digest.size() != out.size())
    return make_error(Errc::internal, "SNP launch digest is " + std::to_string(m->digest.size()) + " bytes, not 48");
  std::copy(m->digest.begin(), m->digest.end(), out.begin());
  return out;
}

Result<TrustAnchor> load_sim_anchor(const fs::path& dir) {
  auto ark = CLOISTER_TRY(read_pem_cert(dir / "ark.pem"));
  auto ask = CLOISTER_TRY(read_pem_cert(dir / "ask.pem"));
  const Product product = CLOISTER_TRY(read_state_product(dir));
  return TrustAnchor{product, RootKind::sim, x509::to_der(ark.get()), x509::to_der(ask.get()), {}};
}

// ---- protocol framing ----

Status sim_write_frame(int fd, std::string_view json) {
  if (json.size() > kSimMaxFrame) return make_error(Errc::limit_exceeded, "sim frame too large");
  std::uint8_t hdr[4] = {static_cast<std::uint8_t>(json.size() >> 24), static_cast<std::uint8_t>(json.size() >> 16),
                         static_cast<std::uint8_t>(json.size() >> 8), static_cast<std::uint8_t>(json.size())};
  CLOISTER_RETURN_IF_ERROR(write_full(fd, ByteView(hdr, 4)));
  return write_full(fd, as_bytes(json));
}

Result<std::string> sim_read_frame(int fd) {
  std::uint8_t hdr[4];
  std::size_t n = CLOISTER_TRY(read_full(fd, std::span<std::uint8_t>(hdr, 4)));
  if (n != 4) return make_error(Errc::io, "sim connection closed before a frame header");
  std::size_t len = (std::size_t{hdr[0]} << 24) | (std::size_t{hdr[1]} << 16) | (std::size_t{hdr[2]} << 8) | hdr[3];
  if (len > kSimMaxFrame) return make_error(Errc::limit_exceeded, "sim frame of " + std::to_string(len) + " bytes exceeds 1 MiB");
  std::string body(len, '\0');
  n = CLOISTER_TRY(read_full(fd, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(body.data()), len)));  // string storage as bytes
  if (n != len) return make_error(Errc::io, "sim frame truncated");
  return body;
}

// ---- host-side server ----

struct SimServer::Impl {
  SimFirmware fw;
  SimLaunch launch;
  fs::path socket;
  UniqueFd listen_fd;
  int wake[2] = {-1, -1};
  std::thread thread;
  std::atomic<std::size_t> served{0};
  std::array<std::uint8_t, 32> report_id{};
  bool stopped = false;

  Impl(SimFirmware f, SimLaunch l) : fw(std::move(f)), launch(l) {}

  std::string handle(const std::string& request) {
    auto fail = [](const std::string& msg) { return nlohmann::json{{"ok", false}, {"error", msg}}.dump(); };
    auto j = nlohmann::json::parse(request, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("request is not a JSON object");
    for (const auto& [key, value] : j.items()) {
      (void)value;
      // Launch values (measurement, host_data, policy, vmpl) are fixed by the host for this
      // socket; a guest may only choose report_data.
      if (key != "op" && key != "report_data" && key != "certs")
        return fail("field '" + key + "' is not accepted: launch values are fixed by the host");
    }
    if (!j.contains("op") || j["op"] != "report") return fail("op must be \"report\"");
    if (!j.contains("report_data") || !j["report_data"].is_string()) return fail("report_data (128 hex) is required");
    auto rd = hex_decode(j["report_data"].get<std::string>());
    if (!rd || rd->size() != 64) return fail("report_data must be 64 bytes of hex");
    bool certs = j.contains("certs") && j["certs"].is_boolean() && j["certs"].get<bool>();
    std::array<std::uint8_t, 64> report_data{};
    std::memcpy(report_data.data(), rd->data(), 64);
    auto report = fw.report(launch, report_data, report_id);
    if (!report) return fail(report.error().to_string());
    nlohmann::json resp{{"ok", true}, {"report", base64_encode(*report)}};
    if (certs) {
      auto table = fw.cert_table();
      if (!table) return fail(table.error().to_string());
      resp["cert_table"] = base64_encode(*table);
    }
    served.fetch_add(1);
    return resp.dump();
  }

  void serve_connection(int fd) {
    timeval tv{5, 0};  // a stuck guest must not block the sandbox's other requests forever
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (true) {
      // Wait for the next request or for stop(), so an idle guest connection cannot delay shutdown.
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (poll(fds, 2, 30000) <= 0 || fds[1].revents) return;
      auto req = sim_read_frame(fd);
      if (!req) return;
      std::string resp = handle(*req);
      if (!sim_write_frame(fd, resp)) return;
    }
  }

  void loop() {
    while (true) {
      pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      if (fds[0].revents & POLLIN) {
        UniqueFd conn(accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) continue;
        try {
          serve_connection(conn.get());
        } catch (...) {
          // Exceptions stop at the thread edge (STYLE rule 4); drop this connection only.
        }
      }
    }
  }
};

SimServer::SimServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<SimServer>> SimServer::start(SimFirmware firmware, SimLaunch launch, const fs::path& socket) {
  auto impl = std::make_unique<Impl>(std::move(firmware), launch);
  impl->socket = socket;
  if (RAND_bytes(impl->report_id.data(), 32) != 1) return forward_error(ossl::error(Errc::internal, "RAND_bytes"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = socket.string();
  if (path.size() >= sizeof addr.sun_path) return make_error(Errc::invalid_argument, "socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return make_error(Errc::failed_precondition, path + " exists and is not a socket");
    ::unlink(path.c_str());  // a stale socket from an earlier server
  }
  impl->listen_fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!impl->listen_fd) return make_error(Errc::io, "socket: " + errno_string(errno));
  if (::bind(impl->listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)  // sockaddr_un is a sockaddr
    return make_error(Errc::io, "bind " + path + ": " + errno_string(errno));
  ::chmod(path.c_str(), 0600);
  if (::listen(impl->listen_fd.get(), 16) != 0) return make_error(Errc::io, "listen: " + errno_string(errno));
  if (::pipe2(impl->wake, O_CLOEXEC) != 0) return make_error(Errc::io, "pipe2: " + errno_string(errno));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<SimServer>(new SimServer(std::move(impl)));
}

void SimServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  char c = 1;
  (void)!::write(impl_->wake[1], &c, 1);
  if (impl_->thread.joinable()) impl_->thread.join();
  ::close(impl_->wake[0]);
  ::close(impl_->wake[1]);
  impl_->listen_fd.reset();
  ::unlink(impl_->socket.c_str());
}

SimServer::~SimServer() { stop(); }
const fs::path& SimServer::socket() const { return impl_->socket; }
std::size_t SimServer::served() const { return impl_->served.load(); }

}  // namespace cloister::attest
