#include "cloister/rego/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego {
namespace {

Value J(std::string_view s) {
  auto v = parse_json(s);
  EXPECT_TRUE(v.has_value()) << s;
  return v ? *v : Value();
}

// Short object keys share one node per text across parses, threads and the compiler
// (Value::key_node), so key tests can compare nodes; everything else keeps its own node.
TEST(RegoValue, ShortObjectKeysAreInternedAcrossParses) {
  const std::string long_key(33, 'k');
  std::string doc = R"({"image": 1, "x": {"image": 2}, ")";
  doc += long_key;
  doc += R"(": 3})";
  const Value a = J(doc);
  const Value b = J(doc);
  auto key_node = [](const Value& obj, std::string_view key) -> const void* {
    for (const auto& [k, v] : obj.object_entries())
      if (k.as_string() == key) return k.node_id();
    return nullptr;
  };
  const void* image = Value::key_node("image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(static_cast<const detail::StringNode*>(image)->s, "image");
  EXPECT_NE(Value::key_node("imagf"), image);
  EXPECT_EQ(key_node(a, "image"), image);
  EXPECT_EQ(key_node(b, "image"), image);
  EXPECT_EQ(key_node(*a.get("x"), "image"), image);
  // Too long to intern: a node per parse, and no interned node to compare with.
  EXPECT_EQ(Value::key_node(long_key), nullptr);
  EXPECT_NE(key_node(a, long_key), key_node(b, long_key));
  // Interned or not, values compare by text.
  EXPECT_EQ(Value::key_string("image"), Value::string("image"));
  EXPECT_EQ(a, b);
  ASSERT_NE(a.get(long_key), nullptr);
  EXPECT_EQ(*a.get(long_key), Value::integer(3));
  // Threads interning the same new keys at once agree on one node per key.
  std::vector<std::vector<const void*>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 200; ++k) {
        std::string key = "interned-";
        key += std::to_string(k);
        const Value v = Value::key_string(key);
        EXPECT_EQ(v.as_string(), key);
        seen[static_cast<std::size_t>(t)].push_back(v.node_id());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) EXPECT_EQ(seen[static_cast<std::size_t>(t)], seen[0]);
  EXPECT_EQ(Value::key_node("interned-7"), seen[0][7]);
}

TEST(RegoValue, TypeOrderFollowsOpa) {
  std::vector<Value> ordered = {Value::null(), Value::boolean(false), Value::boolean(true), Value::integer(-5),
                                Value::floating(2.5), Value::string(""), Value::string("a"), J("[]"), J("[1]"),
                                J("{}"), Value::set({})};
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_LT(compare(ordered[i], ordered[i + 1]), 0) << i;
    EXPECT_GT(compare(ordered[i + 1], ordered[i]), 0) << i;
  }
}

TEST(RegoValue, NumbersCompareByValueAcrossRepresentations) {
  EXPECT_EQ(J("1"), J("1.0"));
  EXPECT_LT(J("9223372036854775807"), J("9223372036854775808"));
  EXPECT_LT(J("-9223372036854775809"), J("-9223372036854775808"));
  EXPECT_GT(J("18446744073709551616"), J("1.5e19"));
  EXPECT_EQ(to_json(J("18446744073709551614")), "18446744073709551614");
}

// OPA keeps number literals as their text (json.Number), so a literal beyond the double range is a
// number, not an error; integral ones stay exact here and print as written.
TEST(RegoValue, LiteralsBeyondTheDoubleRangeStayExact) {
  const Value big = J("2e308");
  ASSERT_TRUE(big.is_big());
  EXPECT_EQ(to_json(big), "2e308");
  EXPECT_EQ(big, J("20e307"));
  EXPECT_EQ(big, J("2000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "000000000000000000000000000"));
  EXPECT_GT(big, J("1e308"));
  EXPECT_LT(J("-1.5e400"), J("-1e308"));
  EXPECT_EQ(to_json(num_add(big, Value::integer(0))).size(), 309u);  // arithmetic results print digits
  EXPECT_EQ(to_json(J("[-2.50E+308]")), "[-2.50E+308]");
  // Not integral, or too long to hold: still an error naming the number.
  const std::string beyond_with_fraction = "1" + std::string(310, '0') + ".5e0";
  for (std::string_view bad : {std::string_view(beyond_with_fraction), std::string_view("1e10001"),
                               std::string_view("1e99999999999999999999")}) {
    auto v = parse_json(bad);
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_NE(v.error().message().find(bad), std::string::npos) << v.error().message();
  }
  // The strict form (to_number, as Go's ParseFloat) still refuses it.
  EXPECT_FALSE(Value::number_from_string("2e308").has_value());
}

// Rego numbers have no infinity: a float result that overflows, or a float operation on an
// integer beyond the double range, is computed again exactly. Comparing an infinite double used to
// abort the process inside GMP.
TEST(RegoValue, ArithmeticNeverOverflowsToInfinity) {
  const Value big = Value::floating(1e308);
  const mpz_class big_z = to_mpz(big);  // the double's exact value
  const Value sum = num_add(big, big);
  ASSERT_TRUE(sum.is_big());
  EXPECT_EQ(to_mpz(sum), 2 * big_z);
  EXPECT_EQ(to_mpz(num_mul(big, Value::integer(10))), 10 * big_z);
  EXPECT_EQ(to_mpz(num_sub(num_neg(big), big)), -2 * big_z);
  EXPECT_GT(num_compare(num_mul(big, Value::integer(10)), big), 0);

  mpz_class ten_400;
  mpz_ui_pow_ui(ten_400.get_mpz_t(), 10, 400);
  const Value huge = from_mpz(ten_400);
  EXPECT_EQ(to_mpz(num_sub(huge, Value::floating(1.5))), ten_400 - 2);  // truncated toward zero
  EXPECT_EQ(num_mul(huge, Value::floating(0.0)), Value::integer(0));
  const Value scaled = num_mul(huge, Value::floating(1e-300));
  ASSERT_TRUE(scaled.is_float());
  EXPECT_DOUBLE_EQ(scaled.as_float(), 1e100);
  EXPECT_EQ(to_mpz(num_div(huge, Value::integer(3))), ten_400 / 3);
  EXPECT_DOUBLE_EQ(num_div(huge, Value::floating(1e300)).to_double(), 1e100);
  for (const Value& v : {sum, num_sub(huge, Value::floating(1.5)), scaled})
    EXPECT_EQ(to_json(v).find("inf"), std::string::npos) << to_json(v);

  // Were an infinite double to get in, comparing it must not abort.
  EXPECT_GT(num_compare(Value::floating(HUGE_VAL), huge), -2);
  EXPECT_EQ(num_compare(Value::floating(HUGE_VAL), Value::integer(1)), 1);
}

TEST(RegoValue, BigArithmeticStaysExact) {
  Value max = Value::integer(INT64_MAX);
  Value sum = num_add(max, Value::integer(1));
  EXPECT_TRUE(sum.is_big());
  EXPECT_EQ(format_number(sum), "9223372036854775808");
  EXPECT_EQ(num_sub(sum, Value::integer(1)), max);
  EXPECT_TRUE(num_sub(sum, Value::integer(1)).is_int());  // normalised back to the fast path
  EXPECT_EQ(format_number(num_mul(sum, sum)), "85070591730234615865843651857942052864");
  EXPECT_EQ(to_json(num_div(Value::integer(7), Value::integer(2))), "3.5");
  EXPECT_EQ(to_json(num_div(Value::integer(6), Value::integer(2))), "3");
  EXPECT_TRUE(num_div(Value::integer(1), Value::integer(0)).is_undefined());
  EXPECT_EQ(to_json(num_rem(Value::integer(-7), Value::integer(2))), "-1");
}

// An inexact quotient of integers is the nearest double, ties to even, as IEEE division and OPA's
// big.Float quotient round (GMP's mpq_get_d truncates: 21 / 5 was 4.199999999999999, so
// `21 / 5 == 4.2` was false).
TEST(RegoValue, IntegerQuotientsRoundToNearest) {
  EXPECT_EQ(to_json(num_div(Value::integer(21), Value::integer(5))), "4.2");
  EXPECT_EQ(to_json(num_div(Value::integer(1), Value::integer(5))), "0.2");
  EXPECT_EQ(to_json(num_div(Value::integer(-9), Value::integer(5))), "-1.8");
  EXPECT_EQ(num_compare(num_div(Value::integer(21), Value::integer(5)), Value::floating(4.2)), 0);
  // Operands a double holds exactly: the quotient must be the IEEE one, bit for bit.
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 20000; ++i) {
    const auto a = static_cast<std::int64_t>(next() >> (11 + next() % 50)) * (i % 2 ? -1 : 1);
    const auto b = static_cast<std::int64_t>(next() >> (11 + next() % 50)) | 1;
    const Value q = num_div(Value::integer(a), Value::integer(b));
    ASSERT_EQ(q.to_double(), static_cast<double>(a) / static_cast<double>(b)) << a << " / " << b;
  }
  // Beyond 2^53, and into the subnormal range, against quotients rounded by hand.
  const Value big = *parse_json("36028797018963969");  // 2^55 + 1: its nearest double is 2^55
  EXPECT_EQ(num_div(big, Value::integer(2)).to_double(), std::ldexp(1.0, 54));
  const Value tiny = from_rational(mpq_class(1, mpz_class(1) << 1075) * 3);  // 1.5 * 2^-1074: tie, to even
  EXPECT_EQ(tiny.to_double(), std::ldexp(1.0, -1073));
  const Value below = from_rational(mpq_class(1, mpz_class(1) << 1076));  // 2^-1076 rounds to zero
  EXPECT_EQ(below.to_double(), 0.0);
}

TEST(RegoValue, SetsAndObjectsAreCanonical) {
  Value s = Value::set({Value::integer(3), Value::integer(1), Value::integer(3), Value::floating(1.0)});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(to_json(s), "[1,3]");
  EXPECT_EQ(to_rego_string(Value::empty_set()), "set()");
  Value o = J(R"({"b":1,"a":{"c":[true,null]}})");
  EXPECT_EQ(to_json(o), R"({"a":{"c":[true,null]},"b":1})");
  ASSERT_NE(o.get("a"), nullptr);
  EXPECT_EQ(o.get("z"), nullptr);
  EXPECT_EQ(J(R"({"a":1,"b":2})"), J(R"({"b":2,"a":1})"));
  EXPECT_NE(J(R"({"a":1})"), J(R"({"a":2})"));
}

TEST(RegoValue, EqualityAgreesWithTheOrderOnEveryPair) {
  // equal() has its own fast paths (sizes, shared nodes, small-object scans); it must decide
  // exactly compare() == 0 across kinds and representations.
  std::vector<Value> vs = {Value(), Value::null(), Value::boolean(false), Value::boolean(true), Value::integer(1),
                           Value::floating(1.0), Value::floating(1.5), J("18446744073709551616"), J("18446744073709551616"),
                           Value::string(""), Value::string("a"), Value::string("b"), Value::string("ab"), J("[]"),
                           J("[1]"), J("[1.0]"), J("[1,2]"), J(R"({"a":1})"), J(R"({"a":1.0})"), J(R"({"a":2})"),
                           J(R"({"b":1})"), J(R"({"a":1,"b":2})"), Value::set({}), Value::set({Value::integer(1)}),
                           Value::set({Value::floating(1.0)}), Value::set({Value::integer(1), Value::integer(2)})};
  for (const auto& a : vs) {
    for (const auto& b : vs) EXPECT_EQ(a == b, compare(a, b) == 0) << a << " vs " << b;
  }
}

TEST(RegoValue, SmallAndLargeObjectLookupsAgree) {
  std::vector<std::pair<Value, Value>> small, large;
  for (int i = 0; i < 20; ++i) {
    std::string name = "k";
    name += std::to_string(i);
    Value k = Value::string(name);
    if (i < 6) small.emplace_back(k, Value::integer(i));
    large.emplace_back(k, Value::integer(i));
  }
  Value s = Value::object(small), l = Value::object(large);
  for (int i = 0; i < 22; ++i) {
    std::string k = "k";
    k += std::to_string(i);
    const Value* vs = s.get(k);
    const Value* vl = l.get(k);
    ASSERT_EQ(vs != nullptr, i < 6) << k;
    ASSERT_EQ(vl != nullptr, i < 20) << k;
    if (vs) {
      EXPECT_EQ(vs->as_int(), i);
    }
    if (vl) {
      EXPECT_EQ(vl->as_int(), i);
    }
    EXPECT_EQ(l.get(Value::string(k)), vl);
  }
  EXPECT_EQ(J(R"({"1":"s"})").get("1")->as_string(), "s");
  EXPECT_EQ(J(R"({"1":"s"})").get(Value::integer(1)), nullptr);
}

TEST(RegoValue, JsonStringsAndErrors) {
  EXPECT_EQ(J(R"("\u00e9\ud83d\ude00\n")").as_string(), "\xC3\xA9\xF0\x9F\x98\x80\n");
  EXPECT_EQ(to_json(Value::string("a\"<b>")), R"("a\"\u003cb\u003e")");
  EXPECT_FALSE(parse_json("[1,").has_value());
  EXPECT_FALSE(parse_json("01").has_value());
  EXPECT_FALSE(parse_json("{\"a\" 1}").has_value());
  auto deep = parse_json(std::string(5000, '['), JsonLimits{100});
  ASSERT_FALSE(deep.has_value());
  EXPECT_NE(deep.error().message().find("too deep"), std::string::npos);
}

// The parser hands plain strings over as views of the text and decodes escaped ones in a
// buffer it reuses; members of every level share one stack; small objects are ordered in the
// parser. Escaped keys next to escaped values, duplicate keys (the last wins) in small and large
// objects, and nesting between a collection's members must all come out as written.
TEST(RegoValue, JsonParseKeepsEscapesDuplicatesAndNesting) {
  Value o = J(R"({"\u003c0\u003e": "\u003cfoo\u003e", "z\"q": "\\", "plain": "p", "a\nb": {"\u0041": ["\t", "x"]}})");
  EXPECT_EQ(to_json(o), R"({"\u003c0\u003e":"\u003cfoo\u003e","a\nb":{"A":["\t","x"]},"plain":"p","z\"q":"\\"})");
  ASSERT_NE(o.get("<0>"), nullptr);
  EXPECT_EQ(o.get("<0>")->as_string(), "<foo>");
  EXPECT_EQ(o.get("z\"q")->as_string(), "\\");
  for (int n : {3, 31, 32, 33, 80}) {
    std::string text = "{";
    std::string want = "{";
    std::vector<std::string> keys;
    for (int i = n - 1; i >= 0; --i) {  // keys written in reverse order, then the first one again
      std::string k = "k";
      k.append(i < 10 ? "0" : "").append(std::to_string(i));
      keys.push_back(k);
      text.append("\"").append(k).append("\": [").append(std::to_string(i)).append(", {\"in\": \"").append(k).append("\"}], ");
    }
    text.append("\"").append(keys.front()).append("\": \"last\"}");
    for (int i = 0; i < n; ++i) {
      const std::string& k = keys[static_cast<std::size_t>(n - 1 - i)];
      want.append(i ? "," : "").append("\"").append(k).append("\":");
      if (i == n - 1) want.append("\"last\"");
      else want.append("[").append(std::to_string(i)).append(",{\"in\":\"").append(k).append("\"}]");
    }
    want.append("}");
    EXPECT_EQ(to_json(J(text)), want) << n << " keys";
  }
  EXPECT_EQ(to_json(J(R"([[], {}, [[1], {"a": [2, {"b": []}]}], "s"])")), R"([[],{},[[1],{"a":[2,{"b":[]}]}],"s"])");
  // Strings are scanned eight bytes at a time: a quote, escape or control character at any offset
  // of any length, next to UTF-8 and DEL bytes, ends the plain run exactly there.
  const std::string filler = "a\xC3\xA9~\x7F \xF0\x9F\x98\x80z";  // (16 bytes)
  // (Texts are built by appending: GCC 12 at -O3 raises a false -Wrestrict on `"lit" + string`.)
  auto text = [](std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto p : parts) out.append(p);
    return out;
  };
  for (std::size_t len = 0; len <= 24; ++len) {
    std::string plain;
    for (std::size_t i = 0; i < len; ++i) plain += filler[i % filler.size()];
    EXPECT_EQ(J(text({"\"", plain, "\""})).as_string(), plain) << len;
    for (std::size_t at = 0; at <= len; ++at) {
      const std::string_view head = std::string_view(plain).substr(0, at), tail = std::string_view(plain).substr(at);
      EXPECT_EQ(J(text({"[\"", head, "\\n", tail, "\", 1]"})).array_items()[0].as_string(), text({head, "\n", tail}))
          << len << " " << at;
      EXPECT_FALSE(parse_json(text({"\"", head, "\x1F", tail, "\""})).has_value()) << len << " " << at;
      EXPECT_EQ(J(text({"{\"", head, "\": \"", tail, "\"}"})).object_entries()[0].second.as_string(), tail);
    }
  }
  EXPECT_FALSE(parse_json(R"({"a": "x\q"})").has_value());
  EXPECT_FALSE(parse_json("[\"a\x01\"]").has_value());
  EXPECT_FALSE(parse_json(R"(["abc)").has_value());
}

TEST(RegoValue, FloatsFormatShortest) {
  EXPECT_EQ(to_json(num_add(J("0.1"), J("0.2"))), "0.30000000000000004");
  EXPECT_EQ(to_json(J("2.5")), "2.5");
  EXPECT_EQ(to_json(num_mul(J("1.5"), J("2"))), "3");
}

TEST(RegoBuiltins, RegistryCallsAndTypeErrors) {
  const auto& reg = builtins::Registry::standard();
  const auto* count = reg.find("count");
  ASSERT_NE(count, nullptr);
  builtins::BuiltinContext ctx;
  ctx.name = "count";
  std::vector<Value> args = {Value::string("h\xC3\xA9llo")};
  auto r = count->fn(ctx, args);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::integer(5));
  args = {Value::integer(1)};
  r = count->fn(ctx, args);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "eval_type_error");
  EXPECT_EQ(r.error().message, "count: operand 1 must be one of {array, object, set, string} but got number");
  const auto* div = reg.find("div");
  ctx.name = "div";
  args = {Value::integer(1), Value::integer(0)};
  r = div->fn(ctx, args);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "eval_builtin_error");
  const auto* mx = reg.find("max");
  ctx.name = "max";
  args = {Value::empty_array()};
  r = mx->fn(ctx, args);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->is_undefined());
}

}  // namespace
}  // namespace cloister::rego
