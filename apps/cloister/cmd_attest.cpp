// `cloister attest show|verify|sim`: thin wrappers over cloister_attest. Exit codes: 0 accepted,
// 1 rejected (a named check failed), 2 unusable input.
#include <pthread.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include <csignal>

#include "cloister/attest/attester.h"
#include "cloister/attest/evidence.h"
#include "cloister/attest/kds.h"
#include "cloister/attest/policy.h"
#include "cloister/attest/report.h"
#include "cloister/attest/sim.h"
#include "cloister/attest/verify.h"
#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "attest_launch_flags.h"
#include "commands.h"

namespace cloister::cli {
namespace {

using namespace cloister::attest;

int fail_input(const std::string& what) {
  std::fprintf(stderr, "cloister attest: %s\n", what.c_str());
  return 2;
}

// integrity / permission_denied are answers ("rejected"); everything else is unusable input.
int report_error(const Error& e) {
  bool rejected = e.code() == Errc::integrity || e.code() == Errc::permission_denied;
  std::fprintf(stderr, "cloister attest: %s: %s\n", rejected ? "REJECTED" : "error", e.to_string().c_str());
  return rejected ? 1 : 2;
}

Result<std::time_t> parse_rfc3339(const std::string& s) {
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return make_error(Errc::invalid_argument, "--now '" + s + "' is not RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)");
  std::string rest(end);
  if (!rest.empty() && rest[0] == '.') rest.erase(0, rest.find_first_not_of("0123456789", 1));
  long offset = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    offset = (std::stol(rest.substr(1, 2)) * 3600 + std::stol(rest.substr(4, 2)) * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return make_error(Errc::invalid_argument, "--now '" + s + "' needs a Z or ±HH:MM offset");
  }
  return timegm(&tm) - offset;
}

Result<Bytes> hex_arg(const std::string& flag, const std::string& value, std::size_t max) {
  auto b = hex_decode(value);
  if (!b) return forward_error(std::move(b.error()).wrap(flag));
  if (b->size() > max || b->empty())
    return make_error(Errc::invalid_argument, flag + " must be 1.." + std::to_string(max) + " bytes of hex");
  return *b;
}

struct VerifyArgs {
  std::string report, vcek, chain, cert_table, evidence, product, host_data, report_data, min_tcb, trust_sim_root, crl,
      now;
  std::string kds_cache;
  std::vector<std::string> measurements, vmpls;
  bool allow_debug = false, allow_migration = false, deny_smt = false, fetch = false;
  unsigned min_guest_svn = 0;
};

int run_verify(const VerifyArgs& a) {
  // Evidence.
  Evidence ev;
  if (!a.evidence.empty()) {
    auto text = read_text_file(a.evidence);
    if (!text) return fail_input(text.error().to_string());
    auto e = parse_trustee_evidence(*text);
    if (!e) return fail_input(a.evidence + ": " + e.error().to_string());
    ev = std::move(*e);
  } else {
    if (a.report.empty()) return fail_input("give REPORT (with --vcek or --cert-table) or --evidence FILE");
    auto rep = read_file(a.report);
    if (!rep) return fail_input(rep.error().to_string());
    if (!a.cert_table.empty()) {
      auto table = read_file(a.cert_table);
      if (!table) return fail_input(table.error().to_string());
      auto e = evidence_from_cert_table(*rep, *table);
      if (!e) return fail_input(a.cert_table + ": " + e.error().to_string());
      ev = std::move(*e);
    } else {
      ev.report = std::move(*rep);
    }
  }
  std::vector<Bytes> extra;
  for (const auto& path : {a.vcek, a.chain}) {
    if (path.empty()) continue;
    auto b = read_file(path);
    if (!b) return fail_input(b.error().to_string());
    extra.push_back(std::move(*b));
  }
  if (!extra.empty()) {
    auto e = evidence_from_parts(ev.report, extra);
    if (!e) return fail_input(e.error().to_string());
    if (!e->leaf.empty()) ev.leaf = std::move(e->leaf);
    for (auto& c : e->chain) ev.chain.push_back(std::move(c));
  }
  if (ev.leaf.empty() && (!a.kds_cache.empty() || a.fetch)) {
    // Look the VCEK up by the report's chip_id and reported TCB (KDS spec 57230 §4.1).
    auto rep = parse_report(ev.report);
    if (!rep) return fail_input(rep.error().to_string());
    Product product = rep->cpuid_product();
    if (!a.product.empty()) product = parse_product(a.product).value_or(Product::unknown);
    auto url = kds_vcek_url(*rep, product);
    if (!url) return fail_input(url.error().to_string() + " (v2 reports need --product)");
    std::optional<KdsCache> cache;
    if (!a.kds_cache.empty()) cache.emplace(a.kds_cache);
    std::unique_ptr<HttpFetcher> fetcher = a.fetch ? make_curl_fetcher() : nullptr;
    if (a.fetch && !fetcher) return fail_input("--fetch: this cloister was built without libcurl");
    auto vcek = kds_get(*url, cache ? &*cache : nullptr, fetcher.get());
    if (!vcek) return fail_input(vcek.error().to_string());
    ev.leaf = std::move(*vcek);
  }
  if (ev.leaf.empty()) return fail_input("no VCEK/VLEK: pass --vcek CERT, --kds-cache DIR, or evidence that carries one");

  // Options and policy.
  ChainOptions opts;
  opts.now = std::time(nullptr);
  if (!a.now.empty()) {
    auto t = parse_rfc3339(a.now);
    if (!t) return fail_input(t.error().to_string());
    opts.now = *t;
  }
  if (!a.product.empty()) {
    auto p = parse_product(a.product);
    if (!p) return fail_input("--product must be milan, genoa or turin");
    opts.product = *p;
  }
  AppraisalPolicy policy;
  policy.allow_debug = a.allow_debug;
  policy.allow_migration_agent = a.allow_migration;
  policy.allow_smt = !a.deny_smt;
  policy.min_guest_svn = a.min_guest_svn;
  for (const auto& m : a.measurements) {
    auto b = hex_arg("--expect-measurement", m, 48);
    if (!b || b->size() != 48) return fail_input("--expect-measurement must be 48 bytes of hex");
    policy.measurements.push_back(*b);
  }
  if (!a.host_data.empty()) {
    auto b = hex_arg("--expect-host-data", a.host_data, 32);
    if (!b || b->size() != 32) return fail_input("--expect-host-data must be 32 bytes of hex");
    policy.host_data = *b;
  }
  if (!a.report_data.empty()) {
    auto b = hex_arg("--expect-report-data", a.report_data, 64);
    if (!b) return fail_input(b.error().to_string());
    policy.report_data = *b;
  }
  if (!a.min_tcb.empty()) {
    auto t = parse_min_tcb(a.min_tcb);
    if (!t) return fail_input("--min-tcb: " + t.error().to_string());
    policy.min_tcb = *t;
  }
  if (!a.vmpls.empty()) {
    policy.allowed_vmpls.clear();
    for (const auto& v : a.vmpls) {
      if (v.size() != 1 || v[0] < '0' || v[0] > '3') return fail_input("--allowed-vmpl takes 0..3");
      policy.allowed_vmpls.insert(static_cast<std::uint32_t>(v[0] - '0'));
    }
  }
  std::vector<TrustAnchor> anchors = builtin_amd_anchors();
  if (!a.trust_sim_root.empty()) {
    auto sim = load_sim_anchor(a.trust_sim_root);
    if (!sim) return fail_input(sim.error().to_string());
    anchors.push_back(std::move(*sim));
    policy.allow_sim_root = true;
    std::fprintf(stderr, "cloister attest: WARNING: trusting the INSECURE simulator root in %s\n",
                 a.trust_sim_root.c_str());
  }

  auto verifier = Verifier::create(std::move(anchors));
  if (!verifier) return report_error(verifier.error());
  if (!a.crl.empty()) {
    auto crl = read_file(a.crl);
    if (!crl) return fail_input(crl.error().to_string());
    if (auto st = verifier->add_crl(*crl); !st) return report_error(st.error());
  }
  auto chain = verifier->verify_chain(ev.leaf, ev.chain, opts);
  if (!chain) return report_error(chain.error());
  auto verified = verifier->verify_report(ev.report, *chain);
  if (!verified) return report_error(verified.error());
  auto claims = appraise(*verified, policy);
  if (!claims) return report_error(claims.error());
  std::cout << claims->to_json() << "\n";
  return 0;
}

int run_show(const std::string& path, bool json, const std::string& product_flag) {
  auto bytes = read_file(path);
  if (!bytes) return fail_input(bytes.error().to_string());
  auto report = parse_report(*bytes);
  if (!report) return fail_input(path + ": " + report.error().to_string());
  Product product = report->cpuid_product();
  if (!product_flag.empty()) {
    auto p = parse_product(product_flag);
    if (!p) return fail_input("--product must be milan, genoa or turin");
    product = *p;
  }
  std::cout << (json ? report_to_json(*report, product) + "\n" : report_to_text(*report, product));
  return 0;
}

constexpr const char* kInsecure =
    "cloister attest sim: WARNING: INSECURE simulated SEV-SNP firmware; its reports prove nothing about isolation\n";

struct SimArgs {
  std::string state, product = "genoa", tcb, socket, measurement, host_data, policy = "0x30000", report_data, out,
                     cert_table, evidence;
  unsigned chips = 1, chip = 0, vmpl = 0, guest_svn = 0;
  snp_measure::LaunchSpec images;  // what the host launches; MEASUREMENT is computed from it
};

// Any launch-image flag given (the spec differs from a default one).
bool images_given(const snp_measure::LaunchSpec& s) {
  const snp_measure::LaunchSpec d;
  return !s.ovmf.empty() || s.vcpus || s.vcpu_type || s.vcpu_sig || s.vcpu_family || s.kernel || s.initrd ||
         s.append || s.snp_ovmf_hash || s.svsm || s.vars_size || s.vars_file || s.mode != d.mode ||
         s.vmm_type != d.vmm_type || s.guest_features != d.guest_features || s.vcpu_model != d.vcpu_model ||
         s.vcpu_stepping != d.vcpu_stepping;
}

template <std::size_t N>
Status fixed_hex(const std::string& flag, const std::string& value, std::array<std::uint8_t, N>& out) {
  auto b = hex_decode(value);
  if (!b || b->size() != N)
    return make_error(Errc::invalid_argument, flag + " must be " + std::to_string(N) + " bytes (" +
                                                  std::to_string(2 * N) + " hex digits)");
  std::memcpy(out.data(), b->data(), N);
  return {};
}

Result<SimLaunch> launch_from(const SimArgs& a) {
  SimLaunch l;
  // The measurement is normally computed from the launched images, as the PSP would. --measurement
  // is for a runtime that measured the launch itself (e.g. with a tool we do not mirror); the two
  // together would let a typed value silently disagree with the images, so they are exclusive.
  const bool images = images_given(a.images);
  if (images && !a.measurement.empty())
    return make_error(Errc::invalid_argument,
                      "--measurement and the launch images (--ovmf, --kernel, ...) are mutually exclusive: the "
                      "measurement is either computed from the images or given");
  if (images) {
    if (a.images.ovmf.empty()) return make_error(Errc::invalid_argument, "--ovmf FILE is required to measure a launch");
    l.measurement = CLOISTER_TRY(sim_launch_measurement(a.images));
  } else if (!a.measurement.empty()) {
    CLOISTER_RETURN_IF_ERROR(fixed_hex("--measurement", a.measurement, l.measurement));
  } else {
    return make_error(Errc::invalid_argument,
                      "give the launched images (--ovmf FILE --vcpus N --vcpu-type T [--kernel/--initrd/--append], "
                      "as for 'cloister attest measure') or --measurement HEX");
  }
  if (!a.host_data.empty()) CLOISTER_RETURN_IF_ERROR(fixed_hex("--host-data", a.host_data, l.host_data));
  try {
    l.policy = std::stoull(a.policy, nullptr, 0);
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument, "--policy '" + a.policy + "' is not a number");
  }
  if (a.vmpl > 3) return make_error(Errc::invalid_argument, "--vmpl must be 0..3");
  l.vmpl = a.vmpl;
  l.guest_svn = a.guest_svn;
  return l;
}

Status write_outputs(const SimArgs& a, const AttesterOutput& out, Product product) {
  if (a.out.empty()) return make_error(Errc::invalid_argument, "--out FILE is required");
  CLOISTER_RETURN_IF_ERROR(write_file_atomic(a.out, out.report));
  if (!a.cert_table.empty()) CLOISTER_RETURN_IF_ERROR(write_file_atomic(a.cert_table, out.cert_table));
  if (!a.evidence.empty()) {
    auto ev = evidence_from_cert_table(out.report, out.cert_table);
    if (!ev) return forward_error(ev.error());
    std::string json = CLOISTER_TRY(trustee_evidence_json(*ev, product));
    CLOISTER_RETURN_IF_ERROR(write_file_atomic(a.evidence, as_bytes(json)));
  }
  return {};
}

int run_sim_init(const SimArgs& a) {
  std::fputs(kInsecure, stderr);
  SimInitOptions o;
  auto p = parse_product(a.product);
  if (!p) return fail_input("--product must be milan, genoa or turin");
  o.product = *p;
  if (!a.tcb.empty()) {
    auto t = parse_min_tcb(a.tcb);
    if (!t) return fail_input("--tcb: " + t.error().to_string());
    o.tcb = TcbVersion{t->fmc.value_or(0), t->bootloader.value_or(0), t->tee.value_or(0), t->snp.value_or(0),
                       t->microcode.value_or(0)};
  }
  o.chips = a.chips;
  o.now = std::time(nullptr);
  auto fw = SimFirmware::init(a.state, o);
  if (!fw) return fail_input(fw.error().to_string());
  std::printf("simulator state in %s: product %s, %u chip(s), chip 0 id %s\n", a.state.c_str(),
              std::string(product_name(fw->product())).c_str(), a.chips,
              hex_encode(ByteView(fw->chip_id().data(), 8)).c_str());
  return 0;
}

int run_sim_report(const SimArgs& a) {
  std::fputs(kInsecure, stderr);
  ReportData rd{};
  if (!a.report_data.empty()) {
    auto b = hex_decode(a.report_data);
    if (!b || b->size() > 64) return fail_input("--report-data must be at most 64 bytes of hex");
    std::memcpy(rd.data(), b->data(), b->size());
  }
  bool certs = !a.cert_table.empty() || !a.evidence.empty();
  AttesterOutput out;
  Product product = Product::genoa;
  if (!a.socket.empty()) {
    // Guest side: only report_data goes over the socket; launch values belong to the host.
    if (!a.measurement.empty() || !a.host_data.empty() || images_given(a.images))
      return fail_input(
          "--measurement/--host-data/launch images are fixed by the host at launch; not accepted with --socket");
    auto r = make_sim_attester(a.socket)->get_report(rd, certs);
    if (!r) return fail_input(r.error().to_string());
    out = std::move(*r);
    if (auto rep = parse_report(out.report); rep) product = rep->cpuid_product();
  } else {
    if (a.state.empty()) return fail_input("give --socket PATH (guest side) or --state DIR with launch values");
    auto fw = SimFirmware::load(a.state, a.chip);
    if (!fw) return fail_input(fw.error().to_string());
    auto launch = launch_from(a);
    if (!launch) return fail_input(launch.error().to_string());
    std::array<std::uint8_t, 32> id{};
    auto r = fw->report(*launch, rd, id);
    if (!r) return fail_input(r.error().to_string());
    out.report = std::move(*r);
    if (certs) {
      auto t = fw->cert_table();
      if (!t) return fail_input(t.error().to_string());
      out.cert_table = std::move(*t);
    }
    product = fw->product();
  }
  if (auto st = write_outputs(a, out, product); !st) return fail_input(st.error().to_string());
  return 0;
}

int run_sim_serve(const SimArgs& a) {
  std::fputs(kInsecure, stderr);
  auto fw = SimFirmware::load(a.state, a.chip);
  if (!fw) return fail_input(fw.error().to_string());
  auto launch = launch_from(a);
  if (!launch) return fail_input(launch.error().to_string());
  if (a.socket.empty()) return fail_input("--socket PATH is required");
  // Block the stop signals before the server thread starts so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto server = SimServer::start(std::move(*fw), *launch, a.socket);
  if (!server) return fail_input(server.error().to_string());
  std::printf("serving simulated SNP reports on %s (launch values fixed), measurement %s\n", a.socket.c_str(),
              hex_encode(launch->measurement).c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  (*server)->stop();
  std::fprintf(stderr, "cloister attest sim: served %zu report(s)\n", (*server)->served());
  return 0;
}

struct ReportArgs {
  std::string report_data, out, cert_table, sim_socket, device = "/dev/sev-guest",
                                                      tsm = "/sys/kernel/config/tsm/report";
  unsigned vmpl = 0;
};

// Guest side, any platform: /dev/sev-guest, then configfs-tsm, then the simulator if configured.
int run_report(const ReportArgs& a) {
  ReportData rd{};
  auto b = hex_decode(a.report_data);
  if (!b || b->size() > 64) return fail_input("--report-data must be at most 64 bytes of hex");
  std::memcpy(rd.data(), b->data(), b->size());
  DetectOptions o;
  o.sev_guest = a.device;
  o.tsm_root = a.tsm;
  o.vmpl = a.vmpl;
  if (!a.sim_socket.empty()) o.sim_socket = a.sim_socket;
  auto attester = detect_attester(o);
  if (!attester) return fail_input(attester.error().to_string());
  if ((*attester)->kind() == "sim") std::fputs(kInsecure, stderr);
  auto out = (*attester)->get_report(rd, !a.cert_table.empty());
  if (!out) return fail_input(std::string((*attester)->kind()) + ": " + out.error().to_string());
  if (auto st = write_file_atomic(a.out, out->report); !st) return fail_input(st.error().to_string());
  if (!a.cert_table.empty())
    if (auto st = write_file_atomic(a.cert_table, out->cert_table); !st) return fail_input(st.error().to_string());
  std::fprintf(stderr, "cloister attest: report from %s written to %s\n", std::string((*attester)->kind()).c_str(),
               a.out.c_str());
  return 0;
}

void register_attest_sim(CLI::App& attest, int& exit_code) {
  auto* sim = attest.add_subcommand("sim", "INSECURE simulated SEV-SNP firmware for machines without SEV-SNP");
  sim->require_subcommand(1);
  auto a = std::make_shared<SimArgs>();
  auto* init = sim->add_subcommand("init", "Create a simulator state (sim ARK/ASK/VCEK keys and certificates)");
  init->add_option("--state", a->state, "State directory")->required();
  init->add_option("--product", a->product, "milan|genoa|turin (default genoa)");
  init->add_option("--tcb", a->tcb, "Simulated TCB: bl=N,tee=N,snp=N,ucode=N[,fmc=N]");
  init->add_option("--chips", a->chips, "Number of simulated chips (default 1)");
  init->callback([&exit_code, a] { exit_code = run_sim_init(*a); });

  auto launch_opts = [a](CLI::App* c) {
    c->add_option("--mode", a->images.mode, "Launch mode of the images: snp (default) or snp:svsm")
        ->check(CLI::IsMember({"snp", "snp:svsm"}));
    add_launch_flags(c, a->images);
    c->add_option("--measurement", a->measurement,
                  "Launch measurement (96 hex) for a launch measured elsewhere; excludes the image flags");
    c->add_option("--host-data", a->host_data, "HOST_DATA fixed by the host (64 hex)");
    c->add_option("--policy", a->policy, "Guest policy (default 0x30000)");
    c->add_option("--vmpl", a->vmpl, "VMPL (default 0)");
    c->add_option("--guest-svn", a->guest_svn, "Guest SVN");
    c->add_option("--chip", a->chip, "Simulated chip index (default 0)");
  };
  auto* report = sim->add_subcommand("report", "Get a simulated report (guest side with --socket, or local with --state)");
  report->add_option("--socket", a->socket, "Simulator socket of this sandbox (guest side)");
  report->add_option("--state", a->state, "State directory (host-local report)");
  launch_opts(report);
  report->add_option("--report-data", a->report_data, "REPORT_DATA (hex, up to 64 bytes, zero-padded)");
  report->add_option("--out", a->out, "Write the 1184-byte report here")->required();
  report->add_option("--cert-table", a->cert_table, "Also write the certificate table here");
  report->add_option("--evidence", a->evidence, "Also write Trustee-style evidence JSON here");
  report->callback([&exit_code, a] { exit_code = run_sim_report(*a); });

  auto* serve = sim->add_subcommand("serve", "Serve one sandbox's reports on a unix socket until SIGINT/SIGTERM");
  serve->add_option("--state", a->state, "State directory")->required();
  serve->add_option("--socket", a->socket, "Unix socket path")->required();
  launch_opts(serve);
  serve->footer(
      "The measurement is computed from the launched images with the flags of 'cloister attest measure' (--ovmf, "
      "--vcpus, --vcpu-type, --kernel, --initrd, --append, --guest-features, ...), or given with --measurement for "
      "a launch measured elsewhere; not both. The guest can only choose REPORT_DATA.");
  serve->callback([&exit_code, a] { exit_code = run_sim_serve(*a); });
}

}  // namespace

void register_attest(CLI::App& attest, int& exit_code) {
  {
    auto* show = attest.add_subcommand("show", "Decode an SEV-SNP attestation report (1184 bytes)");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto product = std::make_shared<std::string>();
    show->add_option("REPORT", *path, "Binary report file")->required();
    show->add_flag("--json", *json, "Print JSON instead of text");
    show->add_option("--product", *product,
                     "milan|genoa|turin: TCB byte layout for v2 reports (default: from CPUID, else Milan/Genoa)");
    show->callback([&exit_code, path, json, product] { exit_code = run_show(*path, *json, *product); });
  }
  {
    auto* verify = attest.add_subcommand(
        "verify",
        "Verify a report's AMD (or simulator) chain and signature, then appraise it; prints claims JSON on success");
    auto a = std::make_shared<VerifyArgs>();
    verify->add_option("REPORT", a->report, "Binary report file");
    verify->add_option("--vcek", a->vcek, "VCEK or VLEK certificate (DER or PEM)");
    verify->add_option("--chain", a->chain, "ASK/ASVK/ARK PEM bundle (default: the built-in AMD roots)");
    verify->add_option("--cert-table", a->cert_table, "SNP_GET_EXT_REPORT certificate table (GUID table)");
    verify->add_option("--evidence", a->evidence, "Trustee SNP evidence JSON (report + cert_chain)");
    verify->add_option("--product", a->product, "Only accept this product's chain: milan|genoa|turin");
    verify->add_option("--expect-measurement", a->measurements, "Expected launch measurement (96 hex; repeatable)");
    verify->add_option("--expect-host-data", a->host_data, "Expected HOST_DATA (64 hex)");
    verify->add_option("--expect-report-data", a->report_data, "Expected REPORT_DATA (hex, zero-padded to 64 bytes)");
    verify->add_flag("--allow-debug", a->allow_debug, "Accept guests whose policy allows debugging");
    verify->add_flag("--allow-migration-agent", a->allow_migration, "Accept guests with a migration agent");
    verify->add_flag("--deny-smt", a->deny_smt, "Reject guests whose policy allows SMT");
    verify->add_option("--allowed-vmpl", a->vmpls, "Allowed VMPL (repeatable; default 0-3)");
    verify->add_option("--min-guest-svn", a->min_guest_svn, "Minimum guest SVN");
    verify->add_option("--min-tcb", a->min_tcb, "Minimum reported TCB: bl=N,tee=N,snp=N,ucode=N[,fmc=N]");
    verify->add_option("--trust-sim-root", a->trust_sim_root,
                       "Also trust the INSECURE simulator root in this state directory (tee becomes snp-sim)");
    verify->add_option("--crl", a->crl, "CRL (DER or PEM) signed by a trusted ARK/ASK");
    verify->add_option("--now", a->now, "Verification time, RFC 3339 (default: the current time)");
    verify->add_option("--kds-cache", a->kds_cache, "Directory of cached KDS downloads (VCEK looked up by chip_id/TCB)");
    verify->add_flag("--fetch", a->fetch, "Fetch a missing VCEK from AMD KDS (network; needs libcurl)");
    verify->callback([&exit_code, a] { exit_code = run_verify(*a); });
  }
  {
    auto* report = attest.add_subcommand(
        "report", "Guest side: get a report for REPORT_DATA from /dev/sev-guest, configfs-tsm or a simulator socket");
    auto a = std::make_shared<ReportArgs>();
    report->add_option("--report-data", a->report_data, "REPORT_DATA (hex, up to 64 bytes, zero-padded)")->required();
    report->add_option("--out", a->out, "Write the 1184-byte report here")->required();
    report->add_option("--cert-table", a->cert_table, "Also request the certificate table and write it here");
    report->add_option("--vmpl", a->vmpl, "VMPL to request (default 0)");
    report->add_option("--sim-socket", a->sim_socket, "Fall back to this INSECURE simulator socket");
    report->add_option("--device", a->device, "sev-guest device (default /dev/sev-guest)");
    report->add_option("--tsm-root", a->tsm, "configfs-tsm report directory");
    report->callback([&exit_code, a] { exit_code = run_report(*a); });
  }
  register_attest_sim(attest, exit_code);
}

}  // namespace cloister::cli
