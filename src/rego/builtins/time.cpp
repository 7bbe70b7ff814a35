// Time (OPA topdown/time.go): time.now_ns, parse_ns (Go reference layouts), parse_rfc3339_ns,
// parse_duration_ns, date, clock, weekday, add_date, diff, format; and test.sleep.
//
// Instants are int64 nanoseconds since the Unix epoch, as in OPA. Civil dates use the proleptic
// Gregorian calendar; zones come from the system's TZif files (RFC 8536) so no process-wide TZ
// is ever switched. Beyond a zone's last listed transition its last offset is kept (Debian ships
// "fat" TZif files with transitions through 2037).
#include <strings.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

using i128 = __int128;
constexpr std::int64_t kNsPerSec = 1000000000;

// ---- civil calendar (days since 1970-01-01) ----

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  int month, day, hour, minute, second;
  std::int64_t nanos;
  int weekday;  // 0 = Sunday
  int yday;     // 1-based
};

Civil civil_from_seconds(std::int64_t secs, std::int64_t nanos) {
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) rem += 86400, --days;
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c{};
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<std::int64_t>(yoe) + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  c.nanos = nanos;
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  c.yday = static_cast<int>(days - days_from_civil(c.year, 1, 1) + 1);
  return c;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(std::int64_t y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};
const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

// ---- zones ----

struct Zone {
  std::string name;
  std::vector<std::int64_t> transitions;  // UTC seconds
  std::vector<std::uint8_t> type_of;      // ttinfo index per transition
  struct Type {
    std::int32_t offset;
    std::string abbrev;
  };
  std::vector<Type> types;

  std::pair<std::int32_t, std::string> at(std::int64_t utc) const {
    if (types.empty()) return {0, "UTC"};
    if (transitions.empty() || utc < transitions.front()) return {types[0].offset, types[0].abbrev};
    auto it = std::upper_bound(transitions.begin(), transitions.end(), utc);
    const Type& t = types[type_of[static_cast<std::size_t>(it - transitions.begin() - 1)]];
    return {t.offset, t.abbrev};
  }
};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// RFC 8536 TZif: version 1 block, then (v2+) the 64-bit block that we read.
std::optional<Zone> load_tzif(const std::string& name, const std::string& data) {
  auto header = [&](std::size_t off, std::array<std::uint32_t, 6>& n) {
    if (off + 44 > data.size() || data.compare(off, 4, "TZif") != 0) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data()) + off + 20;
    for (int i = 0; i < 6; ++i) n[static_cast<std::size_t>(i)] = be32(p + 4 * i);
    return true;
  };
  std::array<std::uint32_t, 6> n{};  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, n)) return std::nullopt;
  std::size_t off = 44;
  int time_size = 4;
  if (data[4] >= '2') {
    off += n[3] * 4 + n[3] + n[4] * 6 + n[5] + n[2] * 8 + n[1] + n[0];
    if (!header(off, n)) return std::nullopt;
    off += 44;
    time_size = 8;
  }
  std::size_t need = n[3] * time_size + n[3] + n[4] * 6 + n[5];
  if (off + need > data.size() || n[4] == 0) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data()) + off;
  Zone z;
  z.name = name;
  for (std::uint32_t i = 0; i < n[3]; ++i, p += time_size) {
    std::int64_t t = time_size == 8 ? static_cast<std::int64_t>((std::uint64_t{be32(p)} << 32) | be32(p + 4))
                                    : static_cast<std::int32_t>(be32(p));
    z.transitions.push_back(t);
  }
  for (std::uint32_t i = 0; i < n[3]; ++i) z.type_of.push_back(*p++);
  const unsigned char* types = p;
  const char* chars = reinterpret_cast<const char*>(types + n[4] * 6);
  for (std::uint32_t i = 0; i < n[4]; ++i) {
    const unsigned char* t = types + i * 6;
    std::uint8_t idx = t[5];
    std::string abbrev = idx < n[5] ? std::string(chars + idx, strnlen(chars + idx, n[5] - idx)) : "";
    z.types.push_back({static_cast<std::int32_t>(be32(t)), abbrev});
  }
  for (auto ti : z.type_of)
    if (ti >= z.types.size()) return std::nullopt;
  return z;
}

BResult<Zone> load_zone(const BuiltinContext& ctx, const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Local") return Zone{"UTC", {}, {}, {{0, "UTC"}}};
  bool ok = name.front() != '/' && name.find("..") == std::string::npos;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+');
  std::string data;
  if (ok) {
    std::ifstream f("/usr/share/zoneinfo/" + name, std::ios::binary);
    if (f) data.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto z = data.empty() ? std::nullopt : load_tzif(name, data);
  if (!z) return tl::unexpected(builtin_error(ctx, "unknown time zone " + name));
  return *z;
}

// ---- operands ----

// An instant operand: a number of ns (int64 range; floats truncated).
BResult<std::int64_t> ns_operand(const BuiltinContext& ctx, const Value& v, std::size_t operand) {
  if (!v.is_number()) return tl::unexpected(type_error(ctx, operand, "number", v));
  if (v.is_float()) {
    double d = v.as_float();
    if (d >= 9.223372036854775807e18 || d < -9.223372036854775808e18)
      return tl::unexpected(builtin_error(ctx, "timestamp too big"));
    return static_cast<std::int64_t>(d);
  }
  std::int64_t i;
  if (!v.to_int64(i)) return tl::unexpected(builtin_error(ctx, "timestamp too big"));
  return i;
}

struct Instant {
  std::int64_t ns = 0;
  Zone zone{"UTC", {}, {}, {{0, "UTC"}}};
  std::optional<std::string> layout;
};

// ns, or [ns, tz], or (time.format) [ns, tz, layout].
BResult<Instant> instant_operand(const BuiltinContext& ctx, const Value& v, bool allow_layout) {
  Instant in;
  if (v.is_number()) {
    in.ns = REGO_ARG(ns_operand(ctx, v, 1));
    return in;
  }
  if (!v.is_array()) return tl::unexpected(type_error(ctx, 1, "one of {number, array}", v));
  const auto& items = v.array_items();
  if (items.size() < 2 || items.size() > (allow_layout ? 3u : 2u) || !items[1].is_string())
    return tl::unexpected(operand_error(ctx, 1, allow_layout ? "array of [ns, tz] or [ns, tz, layout]" : "array of [ns, tz]"));
  in.ns = REGO_ARG(ns_operand(ctx, items[0], 1));
  in.zone = REGO_ARG(load_zone(ctx, items[1].as_string()));
  if (items.size() == 3) {
    if (!items[2].is_string()) return tl::unexpected(operand_error(ctx, 1, "array whose third element is a layout string"));
    in.layout = items[2].as_string();
  }
  return in;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil local_civil(const Instant& in, std::int32_t* offset = nullptr, std::string* abbrev = nullptr) {
  std::int64_t secs = floor_div(in.ns, kNsPerSec);
  // Remainder, not ns - secs * 1e9: near INT64_MIN the product overflows (UBSan, conformance).
  std::int64_t nanos = in.ns % kNsPerSec;
  if (nanos < 0) nanos += kNsPerSec;
  auto [off, ab] = in.zone.at(secs);
  if (offset) *offset = off;
  if (abbrev) *abbrev = ab;
  return civil_from_seconds(secs + off, nanos);
}

// ---- Go reference layouts ----

enum Std {
  kNone, kLongMonth, kMonth, kNumMonth, kZeroMonth, kLongWeekDay, kWeekDay, kDay, kUnderDay, kZeroDay,
  kUnderYearDay, kZeroYearDay, kHour, kHour12, kZeroHour12, kMinute, kZeroMinute, kSecond, kZeroSecond,
  kLongYear, kYear, kPM, kpm, kTZ, kISO8601TZ, kISO8601SecondsTZ, kISO8601ShortTZ, kISO8601ColonTZ,
  kISO8601ColonSecondsTZ, kNumTZ, kNumSecondsTz, kNumShortTZ, kNumColonTZ, kNumColonSecondsTZ, kFracSecond0,
  kFracSecond9
};

struct Chunk {
  std::size_t start = 0;  // of the token in the layout
  std::size_t len = 0;
  Std std = kNone;
  int frac_digits = 0;
};

bool digit_at(std::string_view s, std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// The next reference token at or after `from` (Go's nextStdChunk).
Chunk next_std(std::string_view l, std::size_t from) {
  for (std::size_t i = from; i < l.size(); ++i) {
    auto has = [&](std::string_view tok) { return l.substr(i, tok.size()) == tok; };
    auto hit = [&](std::size_t n, Std s) { return Chunk{i, n, s, 0}; };
    switch (l[i]) {
      case 'J':
        if (has("January")) return hit(7, kLongMonth);
        if (has("Jan")) return hit(3, kMonth);
        break;
      case 'M':
        if (has("Monday")) return hit(6, kLongWeekDay);
        if (has("Mon")) return hit(3, kWeekDay);
        if (has("MST")) return hit(3, kTZ);
        break;
      case '0':
        if (i + 1 < l.size() && l[i + 1] >= '1' && l[i + 1] <= '6') {
          static const Std z[] = {kZeroMonth, kZeroDay, kZeroHour12, kZeroMinute, kZeroSecond, kYear};
          return hit(2, z[l[i + 1] - '1']);
        }
        if (has("002")) return hit(3, kZeroYearDay);
        break;
      case '1':
        if (has("15")) return hit(2, kHour);
        return hit(1, kNumMonth);
      case '2':
        if (has("2006")) return hit(4, kLongYear);
        return hit(1, kDay);
      case '_':
        if (has("_2")) {
          if (has("_2006")) return Chunk{i + 1, 4, kLongYear, 0};
          return hit(2, kUnderDay);
        }
        if (has("__2")) return hit(3, kUnderYearDay);
        break;
      case '3': return hit(1, kHour12);
      case '4': return hit(1, kMinute);
      case '5': return hit(1, kSecond);
      case 'P':
        if (has("PM")) return hit(2, kPM);
        break;
      case 'p':
        if (has("pm")) return hit(2, kpm);
        break;
      case '-':
      case 'Z': {
        // Numeric zone forms; the Z-prefixed ones print "Z" for UTC (ISO 8601).
        struct Form {
          const char* suffix;
          Std num, iso;
        };
        static const Form forms[] = {{"070000", kNumSecondsTz, kISO8601SecondsTZ},
                                     {"07:00:00", kNumColonSecondsTZ, kISO8601ColonSecondsTZ},
                                     {"0700", kNumTZ, kISO8601TZ},
                                     {"07:00", kNumColonTZ, kISO8601ColonTZ},
                                     {"07", kNumShortTZ, kISO8601ShortTZ}};
        for (const auto& f : forms)
          if (l.substr(i + 1).starts_with(f.suffix)) return hit(1 + std::strlen(f.suffix), l[i] == 'Z' ? f.iso : f.num);
        break;
      }
      case '.':
      case ',':
        if (i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
          char ch = l[i + 1];
          std::size_t j = i + 1;
          while (j < l.size() && l[j] == ch) ++j;
          if (!digit_at(l, j)) return Chunk{i, j - i, ch == '0' ? kFracSecond0 : kFracSecond9, static_cast<int>(j - i - 1)};
        }
        break;
      default: break;
    }
  }
  return Chunk{l.size(), 0, kNone, 0};
}

// Go's named layouts, accepted wherever a layout is.
std::string resolve_layout(const std::string& l) {
  static const std::pair<const char*, const char*> names[] = {
      {"ANSIC", "Mon Jan _2 15:04:05 2006"},
      {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
      {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"},
      {"RFC822", "02 Jan 06 15:04 MST"},
      {"RFC822Z", "02 Jan 06 15:04 -0700"},
      {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
      {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
      {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
      {"RFC3339", "2006-01-02T15:04:05Z07:00"},
      {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
      {"Kitchen", "3:04PM"},
      {"Stamp", "Jan _2 15:04:05"},
      {"StampMilli", "Jan _2 15:04:05.000"},
      {"StampMicro", "Jan _2 15:04:05.000000"},
      {"StampNano", "Jan _2 15:04:05.000000000"},
      {"DateTime", "2006-01-02 15:04:05"},
      {"DateOnly", "2006-01-02"},
      {"TimeOnly", "15:04:05"},
  };
  for (auto [n, v] : names)
    if (l == n) return v;
  return l;
}

std::string pad(std::int64_t v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), fill);
  return v < 0 ? "-" + s : s;
}

std::string format_time(const Instant& in, const std::string& layout_in) {
  std::string layout = resolve_layout(layout_in);
  std::int32_t off = 0;
  std::string abbrev;
  Civil c = local_civil(in, &off, &abbrev);
  std::string out;
  std::size_t pos = 0;
  while (pos < layout.size()) {
    Chunk ch = next_std(layout, pos);
    out.append(layout, pos, ch.start - pos);
    if (ch.std == kNone) break;
    pos = ch.start + ch.len;
    int h12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
    switch (ch.std) {
      case kLongMonth: out += kMonths[c.month - 1]; break;
      case kMonth: out += std::string(kMonths[c.month - 1], 3); break;
      case kNumMonth: out += std::to_string(c.month); break;
      case kZeroMonth: out += pad(c.month, 2); break;
      case kLongWeekDay: out += kDays[c.weekday]; break;
      case kWeekDay: out += std::string(kDays[c.weekday], 3); break;
      case kDay: out += std::to_string(c.day); break;
      case kUnderDay: out += pad(c.day, 2, ' '); break;
      case kZeroDay: out += pad(c.day, 2); break;
      case kUnderYearDay: out += pad(c.yday, 3, ' '); break;
      case kZeroYearDay: out += pad(c.yday, 3); break;
      case kHour: out += pad(c.hour, 2); break;
      case kHour12: out += std::to_string(h12); break;
      case kZeroHour12: out += pad(h12, 2); break;
      case kMinute: out += std::to_string(c.minute); break;
      case kZeroMinute: out += pad(c.minute, 2); break;
      case kSecond: out += std::to_string(c.second); break;
      case kZeroSecond: out += pad(c.second, 2); break;
      case kLongYear: out += pad(c.year, 4); break;
      case kYear: out += pad(((c.year % 100) + 100) % 100, 2); break;
      case kPM: out += c.hour >= 12 ? "PM" : "AM"; break;
      case kpm: out += c.hour >= 12 ? "pm" : "am"; break;
      case kTZ:
        if (!abbrev.empty()) {
          out += abbrev;
        } else {
          out += (off < 0 ? "-" : "+") + pad(std::abs(off) / 3600, 2) + pad(std::abs(off) / 60 % 60, 2);
        }
        break;
      case kFracSecond0:
      case kFracSecond9: {
        std::string digits = pad(c.nanos, 9).substr(0, static_cast<std::size_t>(ch.frac_digits));
        if (ch.std == kFracSecond9) {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (digits.empty()) break;
        }
        out.push_back(layout[ch.start]);
        out += digits;
        break;
      }
      default: {
        // Numeric zones; the Z forms print "Z" for UTC.
        bool iso = ch.std >= kISO8601TZ && ch.std <= kISO8601ColonSecondsTZ;
        if (iso && off == 0) {
          out.push_back('Z');
          break;
        }
        int a = std::abs(off);
        out.push_back(off < 0 ? '-' : '+');
        out += pad(a / 3600, 2);
        bool colon = ch.std == kISO8601ColonTZ || ch.std == kISO8601ColonSecondsTZ || ch.std == kNumColonTZ ||
                     ch.std == kNumColonSecondsTZ;
        bool shrt = ch.std == kISO8601ShortTZ || ch.std == kNumShortTZ;
        bool secs = ch.std == kISO8601SecondsTZ || ch.std == kISO8601ColonSecondsTZ || ch.std == kNumSecondsTz ||
                    ch.std == kNumColonSecondsTZ;
        if (!shrt) {
          if (colon) out.push_back(':');
          out += pad(a / 60 % 60, 2);
        }
        if (secs) {
          if (colon) out.push_back(':');
          out += pad(a % 60, 2);
        }
      }
    }
  }
  return out;
}

struct ParseError {
  std::string rest, token, extra;
};

// Go's time.Parse for the subset of behaviour policies use; returns UTC ns as i128.
tl::expected<i128, ParseError> parse_time(const std::string& layout_in, std::string_view value) {
  std::string layout = resolve_layout(layout_in);
  std::int64_t year = 1;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0, yday = -1;
  std::int64_t nanos = 0;
  bool pm_set = false, pm = false, have_zone = false;
  std::int64_t zone_off = 0;
  std::size_t pos = 0;
  auto getnum = [&](std::string_view& v, bool fixed, int& out) {
    if (!digit_at(v, 0)) return false;
    if (!digit_at(v, 1)) {
      if (fixed) return false;
      out = v[0] - '0';
      v.remove_prefix(1);
      return true;
    }
    out = (v[0] - '0') * 10 + (v[1] - '0');
    v.remove_prefix(2);
    return true;
  };
  auto lookup = [&](std::string_view& v, const char* const* names, int count, bool abbrev, int& out) {
    for (int i = 0; i < count; ++i) {
      std::string n = abbrev ? std::string(names[i], 3) : names[i];
      if (v.size() >= n.size() && strncasecmp(v.data(), n.data(), n.size()) == 0) {
        out = i;
        v.remove_prefix(n.size());
        return true;
      }
    }
    return false;
  };
  while (true) {
    Chunk ch = next_std(layout, pos);
    std::string_view lit = std::string_view(layout).substr(pos, ch.start - pos);
    // Literal text must match (Go skips runs of spaces on either side; we require exactness).
    if (value.substr(0, lit.size()) != lit) return tl::unexpected(ParseError{std::string(value), std::string(lit), ""});
    value.remove_prefix(lit.size());
    if (ch.std == kNone) {
      if (!value.empty()) return tl::unexpected(ParseError{"", "", ": extra text: \"" + std::string(value) + "\""});
      break;
    }
    pos = ch.start + ch.len;
    std::string token = layout.substr(ch.start, ch.len);
    std::string_view before = value;
    bool ok = true;
    int n = 0;
    switch (ch.std) {
      case kLongYear:
        if (value.size() < 4 || !digit_at(value, 0) || !digit_at(value, 1) || !digit_at(value, 2) || !digit_at(value, 3)) {
          ok = false;
        } else {
          year = std::stoll(std::string(value.substr(0, 4)));
          value.remove_prefix(4);
        }
        break;
      case kYear:
        ok = value.size() >= 2 && digit_at(value, 0) && digit_at(value, 1);
        if (ok) {
          n = (value[0] - '0') * 10 + (value[1] - '0');
          year = n >= 69 ? 1900 + n : 2000 + n;
          value.remove_prefix(2);
        }
        break;
      case kLongMonth: ok = lookup(value, kMonths, 12, false, month), ++month; break;
      case kMonth: ok = lookup(value, kMonths, 12, true, month), ++month; break;
      case kNumMonth:
      case kZeroMonth: ok = getnum(value, ch.std == kZeroMonth, month) && month >= 1 && month <= 12; break;
      case kLongWeekDay: ok = lookup(value, kDays, 7, false, n); break;
      case kWeekDay: ok = lookup(value, kDays, 7, true, n); break;
      case kUnderDay:
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        [[fallthrough]];
      case kDay:
      case kZeroDay: ok = getnum(value, ch.std == kZeroDay, day) && day >= 1 && day <= 31; break;
      case kUnderYearDay:
      case kZeroYearDay: {
        std::size_t k = 0;
        while (k < value.size() && k < 3 && (digit_at(value, k) || (ch.std == kUnderYearDay && value[k] == ' '))) ++k;
        ok = k == 3;
        if (ok) {
          yday = 0;
          for (std::size_t d = 0; d < 3; ++d) yday = yday * 10 + (value[d] == ' ' ? 0 : value[d] - '0');
          ok = yday >= 1 && yday <= 366;
          value.remove_prefix(3);
        }
        break;
      }
      case kHour: ok = getnum(value, false, hour) && hour < 24; break;
      case kHour12:
      case kZeroHour12: ok = getnum(value, ch.std == kZeroHour12, hour) && hour >= 1 && hour <= 12; break;
      case kMinute:
      case kZeroMinute: ok = getnum(value, ch.std == kZeroMinute, minute) && minute < 60; break;
      case kSecond:
      case kZeroSecond: {
        ok = getnum(value, ch.std == kZeroSecond, second) && second < 60;
        // A fractional second may follow even if the layout has none (Go accepts it).
        if (ok && value.size() >= 2 && (value[0] == '.' || value[0] == ',') && digit_at(value, 1)) {
          Chunk nx = next_std(layout, pos);
          if (nx.start == pos && (nx.std == kFracSecond0 || nx.std == kFracSecond9)) break;
          std::size_t k = 1;
          while (digit_at(value, k)) ++k;
          std::string digits(value.substr(1, k - 1));
          digits = digits.substr(0, 9);
          digits.append(9 - digits.size(), '0');
          nanos = std::stoll(digits);
          value.remove_prefix(k);
        }
        break;
      }
      case kPM:
      case kpm:
        ok = value.size() >= 2;
        if (ok) {
          std::string p(value.substr(0, 2));
          if (ch.std == kPM ? p == "PM" : p == "pm") {
            pm = true;
          } else if (!(ch.std == kPM ? p == "AM" : p == "am")) {
            ok = false;
          }
          pm_set = true;
          value.remove_prefix(2);
        }
        break;
      case kTZ: {
        if (value.size() >= 3 && value.substr(0, 3) == "UTC") {
          value.remove_prefix(3);
          have_zone = true;
          zone_off = 0;
          break;
        }
        std::size_t k = 0;
        while (k < value.size() && std::isupper(static_cast<unsigned char>(value[k]))) ++k;
        ok = k >= 3;
        if (ok) value.remove_prefix(k);  // unknown abbreviations are taken as UTC, as Go does for non-local zones
        break;
      }
      case kFracSecond0:
      case kFracSecond9: {
        if (value.empty() || (value[0] != '.' && value[0] != ',')) {
          ok = ch.std == kFracSecond9;  // .999 is optional
          break;
        }
        std::size_t k = 1;
        while (digit_at(value, k)) ++k;
        if (ch.std == kFracSecond0 && k - 1 != static_cast<std::size_t>(ch.frac_digits)) {
          ok = false;
          break;
        }
        std::string digits(value.substr(1, k - 1));
        digits = digits.substr(0, 9);
        digits.append(9 - digits.size(), '0');
        nanos = std::stoll(digits);
        value.remove_prefix(k);
        break;
      }
      default: {
        bool iso = ch.std >= kISO8601TZ && ch.std <= kISO8601ColonSecondsTZ;
        if (iso && !value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          have_zone = true;
          zone_off = 0;
          break;
        }
        bool colon = ch.std == kISO8601ColonTZ || ch.std == kISO8601ColonSecondsTZ || ch.std == kNumColonTZ ||
                     ch.std == kNumColonSecondsTZ;
        bool shrt = ch.std == kISO8601ShortTZ || ch.std == kNumShortTZ;
        bool secs = ch.std == kISO8601SecondsTZ || ch.std == kISO8601ColonSecondsTZ || ch.std == kNumSecondsTz ||
                    ch.std == kNumColonSecondsTZ;
        std::string pattern = "+hh";
        if (!shrt) pattern += colon ? ":mm" : "mm";
        if (secs) pattern += colon ? ":ss" : "ss";
        ok = value.size() >= pattern.size() && (value[0] == '+' || value[0] == '-');
        for (std::size_t k = 1; ok && k < pattern.size(); ++k)
          ok = pattern[k] == ':' ? value[k] == ':' : digit_at(value, k);
        if (!ok) break;
        auto two = [&](std::size_t k) { return (value[k] - '0') * 10 + (value[k + 1] - '0'); };
        std::int64_t o = two(1) * 3600;
        std::size_t k = 3;
        if (!shrt) {
          if (colon) ++k;
          o += two(k) * 60;
          k += 2;
        }
        if (secs) {
          if (colon) ++k;
          o += two(k);
          k += 2;
        }
        zone_off = value[0] == '-' ? -o : o;
        have_zone = true;
        value.remove_prefix(pattern.size());
      }
    }
    if (!ok) return tl::unexpected(ParseError{std::string(before), token, ""});
  }
  if (pm_set) {
    if (pm && hour < 12) hour += 12;
    if (!pm && hour == 12) hour = 0;
  }
  if (yday >= 0) {
    std::int64_t d0 = days_from_civil(year, 1, 1) + yday - 1;
    Civil c = civil_from_seconds(d0 * 86400, 0);
    if (c.year != year) return tl::unexpected(ParseError{"", "", ": day-of-year out of range"});
    month = c.month;
    day = c.day;
  }
  if (day > days_in_month(year, month)) return tl::unexpected(ParseError{"", "", ": day out of range"});
  (void)have_zone;
  i128 secs = static_cast<i128>(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) * 86400 +
              hour * 3600 + minute * 60 + second - zone_off;
  return secs * kNsPerSec + nanos;
}

BuiltinResult checked_ns(const BuiltinContext& ctx, i128 ns) {
  if (ns > INT64_MAX || ns < INT64_MIN) return tl::unexpected(builtin_error(ctx, "time outside of valid range"));
  return Value::integer(static_cast<std::int64_t>(ns));
}

BuiltinResult parse_with(const BuiltinContext& ctx, const std::string& layout, const std::string& value) {
  auto r = parse_time(layout, value);
  if (!r) {
    const auto& e = r.error();
    std::string msg = "parsing time \"" + value + "\"";
    if (e.token.empty() && e.rest.empty()) {
      msg += e.extra;
    } else {
      msg += " as \"" + layout + "\": cannot parse \"" + e.rest + "\" as \"" + e.token + "\"";
    }
    return tl::unexpected(builtin_error(ctx, msg));
  }
  return checked_ns(ctx, *r);
}

BuiltinResult now_ns(BuiltinContext& ctx, std::span<const Value>) { return Value::integer(ctx.now_ns); }

BuiltinResult parse_ns(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& layout = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 1));
  return parse_with(ctx, layout, value);
}

BuiltinResult parse_rfc3339_ns(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& value = *REGO_ARG(arg_string(ctx, a, 0));
  return parse_with(ctx, "2006-01-02T15:04:05Z07:00", value);
}

// Go's time.ParseDuration, exact in nanoseconds.
BuiltinResult parse_duration_ns(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  auto invalid = [&] { return tl::unexpected(builtin_error(ctx, "time: invalid duration \"" + s + "\"")); };
  std::string_view v(s);
  bool neg = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v == "0") return Value::integer(0);
  if (v.empty()) return invalid();
  i128 total = 0;
  while (!v.empty()) {
    std::size_t k = 0;
    i128 whole = 0;
    bool any = false;
    while (digit_at(v, k)) {
      whole = whole * 10 + (v[k] - '0');
      if (whole > (i128{1} << 63)) return invalid();
      ++k, any = true;
    }
    i128 frac = 0, scale = 1;
    if (k < v.size() && v[k] == '.') {
      ++k;
      while (digit_at(v, k)) {
        if (scale < i128{1000000000000000000}) {
          frac = frac * 10 + (v[k] - '0');
          scale *= 10;
        }
        ++k, any = true;
      }
    }
    if (!any) return invalid();
    std::size_t u = k;
    while (u < v.size() && v[u] != '.' && !digit_at(v, u)) ++u;
    std::string unit(v.substr(k, u - k));
    if (unit.empty()) return tl::unexpected(builtin_error(ctx, "time: missing unit in duration \"" + s + "\""));
    static const std::pair<const char*, std::int64_t> units[] = {
        {"ns", 1}, {"us", 1000}, {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000}, {"ms", 1000000},
        {"s", kNsPerSec}, {"m", 60 * kNsPerSec}, {"h", 3600 * kNsPerSec}};
    std::int64_t mult = 0;
    for (auto [name, m] : units)
      if (unit == name) mult = m;
    if (!mult) return tl::unexpected(builtin_error(ctx, "time: unknown unit \"" + unit + "\" in duration \"" + s + "\""));
    total += whole * mult + frac * mult / scale;
    if (total > (i128{1} << 63)) return invalid();
    v.remove_prefix(u);
  }
  if (neg) total = -total;
  if (total > INT64_MAX || total < INT64_MIN) return invalid();
  return Value::integer(static_cast<std::int64_t>(total));
}

// OPA's test.sleep(duration): waits, then yields null. It never waits past the evaluation's
// deadline; the evaluator reports the time-out right after the call (call_builtin).
BuiltinResult sleep(BuiltinContext& ctx, std::span<const Value> a) {
  BuiltinResult ns = parse_duration_ns(ctx, a);
  if (!ns) return ns;
  // As a length, not an end time: now + 290 years ("2540400h") would overflow the clock.
  auto wait = std::chrono::nanoseconds(ns->as_int());
  if (ctx.deadline) wait = std::min(wait, std::chrono::nanoseconds(*ctx.deadline - std::chrono::steady_clock::now()));
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
  return Value::null();
}

BuiltinResult date(BuiltinContext& ctx, std::span<const Value> a) {
  Instant in = REGO_ARG(instant_operand(ctx, a[0], false));
  Civil c = local_civil(in);
  return Value::array({Value::integer(c.year), Value::integer(c.month), Value::integer(c.day)});
}

BuiltinResult clock(BuiltinContext& ctx, std::span<const Value> a) {
  Instant in = REGO_ARG(instant_operand(ctx, a[0], false));
  Civil c = local_civil(in);
  return Value::array({Value::integer(c.hour), Value::integer(c.minute), Value::integer(c.second)});
}

BuiltinResult weekday(BuiltinContext& ctx, std::span<const Value> a) {
  Instant in = REGO_ARG(instant_operand(ctx, a[0], false));
  return Value::string(kDays[local_civil(in).weekday]);
}

// Go's Time.AddDate in UTC: months and days overflow into the next unit (Jan 31 + 1 month = Mar 3).
BuiltinResult add_date(BuiltinContext& ctx, std::span<const Value> a) {
  Instant in;
  in.ns = REGO_ARG(ns_operand(ctx, a[0], 1));
  std::int64_t years = REGO_ARG(arg_int(ctx, a, 1));
  std::int64_t months = REGO_ARG(arg_int(ctx, a, 2));
  std::int64_t days = REGO_ARG(arg_int(ctx, a, 3));
  Civil c = local_civil(in);
  i128 m = static_cast<i128>(c.month - 1) + months;
  i128 y = static_cast<i128>(c.year) + years + (m >= 0 ? m / 12 : (m - 11) / 12);
  m = ((m % 12) + 12) % 12;
  if (y > 300000 || y < -300000) return tl::unexpected(builtin_error(ctx, "time outside of valid range"));
  i128 d = static_cast<i128>(days_from_civil(static_cast<std::int64_t>(y), static_cast<unsigned>(m + 1), 1)) + c.day - 1 + days;
  i128 ns = (d * 86400 + c.hour * 3600 + c.minute * 60 + c.second) * kNsPerSec + c.nanos;
  return checked_ns(ctx, ns);
}

BuiltinResult diff(BuiltinContext& ctx, std::span<const Value> a) {
  Instant x = REGO_ARG(instant_operand(ctx, a[0], false));
  Instant y = REGO_ARG(instant_operand(ctx, a[1], false));
  y.zone = x.zone;  // b is viewed in a's location
  if (x.ns > y.ns) std::swap(x.ns, y.ns);
  Civil c1 = local_civil(x), c2 = local_civil(y);
  std::int64_t year = c2.year - c1.year;
  int month = c2.month - c1.month, day = c2.day - c1.day, hour = c2.hour - c1.hour, minute = c2.minute - c1.minute,
      second = c2.second - c1.second;
  if (second < 0) second += 60, --minute;
  if (minute < 0) minute += 60, --hour;
  if (hour < 0) hour += 24, --day;
  if (day < 0) day += days_in_month(c1.year, c1.month), --month;
  if (month < 0) month += 12, --year;
  return Value::array({Value::integer(year), Value::integer(month), Value::integer(day), Value::integer(hour),
                       Value::integer(minute), Value::integer(second)});
}

BuiltinResult format(BuiltinContext& ctx, std::span<const Value> a) {
  Instant in = REGO_ARG(instant_operand(ctx, a[0], true));
  return Value::string(format_time(in, in.layout ? *in.layout : "2006-01-02T15:04:05.999999999Z07:00"));
}

}  // namespace

void register_time(Registry& r) {
  r.add({"time.now_ns", 0, now_ns, /*deterministic=*/false});
  r.add({"time.parse_ns", 2, parse_ns});
  r.add({"time.parse_rfc3339_ns", 1, parse_rfc3339_ns});
  r.add({"time.parse_duration_ns", 1, parse_duration_ns});
  r.add({"time.date", 1, date});
  r.add({"time.clock", 1, clock});
  r.add({"time.weekday", 1, weekday});
  r.add({"time.add_date", 4, add_date});
  r.add({"time.diff", 2, diff});
  r.add({"time.format", 1, format});
  r.add({"test.sleep", 1, sleep, /*deterministic=*/false});
}

}  // namespace cloister::rego::builtins
