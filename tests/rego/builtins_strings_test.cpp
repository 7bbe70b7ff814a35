// Strings, sprintf, casts: expected values are OPA's (conformance topics strings, sprintf, trim*,
// replacen, casts) and Go's strings/fmt behaviour those builtins delegate to.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kType = "eval_type_error";
constexpr const char* kBuiltin = "eval_builtin_error";

TEST(RegoStrings, ConcatAcceptsArraysAndSets) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "concat", R"j(["/", ["", "foo", "bar", "0", "baz"]])j", R"j("/foo/bar/0/baz")j");
  EXPECT_BUILTIN(c, "concat", A(S(","), Value::set({S("3"), S("1"), S("2")})), R"j("1,2,3")j");
  EXPECT_BUILTIN(c, "concat", R"j([",", []])j", R"j("")j");
  EXPECT_BUILTIN_ERROR(c, "concat", R"j([",", ["a", 1]])j", kType,
                       "concat: operand 2 must be array of strings but got array containing number");
  EXPECT_BUILTIN_ERROR(c, "concat", R"j([1, ["a"]])j", kType, "concat: operand 1 must be string but got number");
}

TEST(RegoStrings, SplitFollowsGoStringsSplit) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "split", R"j(["foo.bar.baz", "."])j", R"j(["foo", "bar", "baz"])j");
  EXPECT_BUILTIN(c, "split", R"j(["", "."])j", R"j([""])j");
  EXPECT_BUILTIN(c, "split", R"j(["", ""])j", R"j([])j");
  EXPECT_BUILTIN(c, "split", R"j(["tést", ""])j", R"j(["t", "é", "s", "t"])j");
  EXPECT_BUILTIN(c, "split", R"j(["a..b", "."])j", R"j(["a", "", "b"])j");
}

TEST(RegoStrings, ReplaceAndReplaceN) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "replace", R"j(["foo...bar", "..", ",,"])j", R"j("foo,,.bar")j");
  EXPECT_BUILTIN(c, "replace", R"j(["", "hi", "bye"])j", R"j("")j");
  EXPECT_BUILTIN(c, "replace", R"j(["ab", "", "-"])j", R"j("-a-b-")j");
  EXPECT_BUILTIN(c, "strings.replace_n", R"j([{"<": "&lt;", ">": "&gt;"}, "This is <b>HTML</b>!"])j",
                 R"j("This is &lt;b&gt;HTML&lt;/b&gt;!")j");
  // Key order decides overlapping patterns ("f" sorts before "foo"), whatever the insertion order.
  EXPECT_BUILTIN(c, "strings.replace_n", R"j([{"foo": "xxx", "f": "x"}, "foobar"])j", R"j("xoobar")j");
  EXPECT_BUILTIN(c, "strings.replace_n", R"j([{"old1": "new1", "old2": "new2"}, "Everything is new1, new2"])j",
                 R"j("Everything is new1, new2")j");
  EXPECT_BUILTIN_ERROR(c, "strings.replace_n", A(Value::object({{I(2), S("x")}}), S("foo")), kType,
                       "strings.replace_n: operand 1 non-string key found in pattern object");
  EXPECT_BUILTIN_ERROR(c, "strings.replace_n", R"j([{"a": 1}, "foo"])j", kType,
                       "strings.replace_n: operand 1 non-string value found in pattern object");
  EXPECT_BUILTIN_ERROR(c, "strings.replace_n", R"j([{"foo": "baz"}, 100])j", kType,
                       "strings.replace_n: operand 2 must be string but got number");
}

TEST(RegoStrings, AffixesAndAnyMatch) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "startswith", R"j(["abcdefgh", "abc"])j", "true");
  EXPECT_BUILTIN(c, "endswith", R"j(["abcdefgh", "abc"])j", "false");
  EXPECT_BUILTIN(c, "contains", R"j(["abcdefgh", "defg"])j", "true");
  EXPECT_BUILTIN(c, "contains", R"j(["abcdefgh", "ac"])j", "false");
  EXPECT_BUILTIN(c, "strings.any_prefix_match", R"j([["a/b/c", "e/f/g"], ["d/", "e/f/g"]])j", "true");
  EXPECT_BUILTIN(c, "strings.any_prefix_match", R"j([["a/b/c"], ["f/", "d/"]])j", "false");
  EXPECT_BUILTIN(c, "strings.any_prefix_match", R"j(["a/b/c", "a/"])j", "true");
  EXPECT_BUILTIN(c, "strings.any_suffix_match", A(Value::set({S("a/b/c")}), Value::set({S("/c")})), "true");
  EXPECT_BUILTIN_ERROR(c, "strings.any_suffix_match", R"j([1, "a"])j", kType,
                       "strings.any_suffix_match: operand 1 must be one of {string, set, array} but got number");
  EXPECT_BUILTIN_ERROR(c, "strings.any_prefix_match", R"j([["a"], ["b", 1]])j", kType,
                       "strings.any_prefix_match: operand 2 must be array of strings but got array containing number");
}

TEST(RegoStrings, TrimFamilyWorksOnRunes) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "trim", R"j(["...foo.bar...", ".o"])j", R"j("foo.bar")j");
  EXPECT_BUILTIN(c, "trim", R"j(["...foo.bar...", ".fr"])j", R"j("oo.ba")j");
  EXPECT_BUILTIN(c, "trim", R"j(["¡¡¡foo, bar!!!", "!¡"])j", R"j("foo, bar")j");
  EXPECT_BUILTIN(c, "trim", R"j(["", "."])j", R"j("")j");
  EXPECT_BUILTIN(c, "trim_left", R"j(["¡¡¡foo, bar!!!", "!¡"])j", R"j("foo, bar!!!")j");
  EXPECT_BUILTIN(c, "trim_right", R"j(["!!!foo, bar¡¡¡", "!"])j", R"j("!!!foo, bar¡¡¡")j");
  EXPECT_BUILTIN(c, "trim_right", R"j(["¡¡¡foo, bar!!!", "!¡"])j", R"j("¡¡¡foo, bar")j");
  EXPECT_BUILTIN(c, "trim_prefix", R"j(["¡¡¡foo, bar!!!", "¡¡¡foo"])j", R"j(", bar!!!")j");
  EXPECT_BUILTIN(c, "trim_prefix", R"j(["¡¡¡foo, bar!!!", "¡¡¡bar"])j", R"j("¡¡¡foo, bar!!!")j");
  EXPECT_BUILTIN(c, "trim_suffix", R"j(["¡¡¡foo, bar!!!", ", bar!!!"])j", R"j("¡¡¡foo")j");
  EXPECT_BUILTIN(c, "trim_space", R"j([" \t\n foo, bar \n\t\r\n"])j", R"j("foo, bar")j");
  EXPECT_BUILTIN(c, "trim_space", R"j(["\u00a0x\u3000"])j", R"j("x")j");
}

TEST(RegoStrings, CaseMappingIsUnicode) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "lower", R"j(["AbCdEf"])j", R"j("abcdef")j");
  EXPECT_BUILTIN(c, "upper", R"j(["AbCdEf"])j", R"j("ABCDEF")j");
  EXPECT_BUILTIN(c, "upper", R"j(["åäö straße"])j", R"j("ÅÄÖ STRAßE")j");
  EXPECT_BUILTIN(c, "lower", R"j(["ΣΑΣ"])j", R"j("σασ")j");
}

TEST(RegoStrings, SubstringCountsRunes) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "substring", R"j(["abcdefgh", 2, 3])j", R"j("cde")j");
  EXPECT_BUILTIN(c, "substring", R"j(["abcdefgh", 2, -1])j", R"j("cdefgh")j");
  EXPECT_BUILTIN(c, "substring", R"j(["abcdefgh", 2, 10000])j", R"j("cdefgh")j");
  EXPECT_BUILTIN(c, "substring", R"j(["åäö", 0, 2])j", R"j("åä")j");
  EXPECT_BUILTIN(c, "substring", R"j(["aåäö", 2, -1])j", R"j("äö")j");
  EXPECT_BUILTIN(c, "substring", R"j(["åäö", 3, -1])j", R"j("")j");
  EXPECT_BUILTIN(c, "substring", R"j(["aaa", 4, -1])j", R"j("")j");
  EXPECT_BUILTIN_ERROR(c, "substring", R"j(["aaa", -1, -1])j", kBuiltin, "negative offset");
  EXPECT_BUILTIN_ERROR(c, "substring", R"j(["aaa", 1.5, -1])j", kType, "substring: operand 2 must be integer");
}

TEST(RegoStrings, IndexofCountsRunes) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "indexof", R"j(["abcabcabcdefgh", "cde"])j", "8");
  EXPECT_BUILTIN(c, "indexof", R"j(["abcdefgh", "xyz"])j", "-1");
  EXPECT_BUILTIN(c, "indexof", R"j(["skön var våren", "vår"])j", "9");
  EXPECT_BUILTIN(c, "indexof", R"j(["μx", "x"])j", "1");
  EXPECT_BUILTIN(c, "indexof", R"j(["μ", "μμ"])j", "-1");
  // OPA's builtinIndexOf and builtinIndexOfN refuse an empty search string.
  EXPECT_BUILTIN_ERROR(c, "indexof", R"j(["abc", ""])j", kBuiltin, "indexof: empty search character");
  EXPECT_BUILTIN_ERROR(c, "indexof_n", R"j(["abc", ""])j", kBuiltin, "indexof_n: empty search character");
  EXPECT_BUILTIN(c, "indexof", R"j(["🍧🍨🧁🍰🍮", "🍮"])j", "4");
  EXPECT_BUILTIN(c, "indexof_n", R"j(["dogcatdogcat", "cat"])j", "[3, 9]");
  EXPECT_BUILTIN(c, "indexof_n", R"j(["😇😀😇😀😇😀", "😀"])j", "[1, 3, 5]");
  EXPECT_BUILTIN(c, "indexof_n", R"j(["dogcat", "rabbit"])j", "[]");
  EXPECT_BUILTIN(c, "indexof_n", R"j(["aaa", "aa"])j", "[0, 1]");
}

TEST(RegoStrings, CountReverseFormatInt) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "strings.count", R"j(["cheese", "e"])j", "3");
  EXPECT_BUILTIN(c, "strings.count", R"j(["11111", "11"])j", "2");
  EXPECT_BUILTIN(c, "strings.count", R"j(["dummy", ""])j", "6");
  EXPECT_BUILTIN(c, "strings.count", R"j(["", ""])j", "1");
  EXPECT_BUILTIN(c, "strings.reverse", R"j(["åbc😀"])j", R"j("😀cbå")j");
  EXPECT_BUILTIN_ERROR(c, "strings.reverse", R"j([{}])j", kType, "reverse: operand 1 must be string but got object");
  EXPECT_BUILTIN(c, "format_int", R"j([15.5, 16])j", R"j("f")j");
  EXPECT_BUILTIN(c, "format_int", R"j([-4.9, 10])j", R"j("-4")j");
  EXPECT_BUILTIN(c, "format_int", R"j([5, 2])j", R"j("101")j");
  EXPECT_BUILTIN(c, "format_int", R"j([18446744073709551616, 16])j", R"j("10000000000000000")j");
  EXPECT_BUILTIN_ERROR(c, "format_int", R"j([4.1, 199])j", kType, "operand 2 must be one of {2, 8, 10, 16}");
}

TEST(RegoSprintf, GoVerbsAndFlags) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi", []])j", R"j("hi")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi %s", ["there"]])j", R"j("hi there")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi %02d", [5]])j", R"j("hi 05")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi %02X.%02X", [127, 1]])j", R"j("hi 7F.01")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi %.2f", [3.1415]])j", R"j("hi 3.14")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi %s", [true]])j", R"j("hi true")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["hi %v", [["there", 5, 3.14]]])j", R"j("hi [\"there\", 5, 3.14]")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%s", [123456789123456789123]])j", R"j("123456789123456789123")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%x", [1208925819614629174706175]])j", R"j("ffffffffffffffffffff")j");
  // OPA formats a literal beyond the double range by its text, as a string.
  EXPECT_BUILTIN(c, "sprintf", R"j(["%v|%d", [2e308, -2e308]])j", R"j("2e308|%!d(string=-2e308)")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%v %v %v", [1.5, 1e21, 0.00001]])j", R"j("1.5 1e+21 1e-05")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%v|%g", [1234567.5, 100000.5]])j", R"j("1.2345675e+06|100000.5")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%-5d|%5s|%+d|%x|%o|%b|%#x", [3, "ab", 4, 255, 8, 5, 255]])j",
                 R"j("3    |   ab|+4|ff|10|101|0xff")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%q %c %U %e", ["a\"b", 65, 65, 1234.5678]])j",
                 R"j("\"a\\\"b\" A U+0041 1.234568e+03")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%.3s|%5.1f|%%", ["abcdef", 3.14159]])j", R"j("abc|  3.1|%")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%d %s", ["x", 5]])j", R"j("%!d(string=x) %!s(int=5)")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%d %d", [1]])j", R"j("1 %!d(MISSING)")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%d", [1, "a"]])j", R"j("1%!(EXTRA string=a)")j");
  EXPECT_BUILTIN(c, "sprintf", R"j(["%v", [{"a": null}]])j", R"j("{\"a\": null}")j");
  EXPECT_BUILTIN_ERROR(c, "sprintf", R"j(["%v", "x"])j", kType, "sprintf: operand 2 must be array but got string");
}

TEST(RegoCasts, ToNumber) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "to_number", R"j(["-42.0"])j", "-42");
  EXPECT_BUILTIN(c, "to_number", R"j([false])j", "0");
  EXPECT_BUILTIN(c, "to_number", R"j([true])j", "1");
  EXPECT_BUILTIN(c, "to_number", R"j([null])j", "0");
  EXPECT_BUILTIN(c, "to_number", R"j([100.1])j", "100.1");
  EXPECT_BUILTIN(c, "to_number", R"j(["+5"])j", "5");
  EXPECT_BUILTIN(c, "to_number", R"j([".5"])j", "0.5");
  EXPECT_BUILTIN(c, "to_number", R"j(["12345678901234567890123"])j", "12345678901234567890123");
  EXPECT_BUILTIN_ERROR(c, "to_number", R"j(["broken"])j", kBuiltin, "invalid syntax");
  EXPECT_BUILTIN_ERROR(c, "to_number", R"j([" 1"])j", kBuiltin, "invalid syntax");
  EXPECT_BUILTIN_ERROR(c, "to_number", R"j(["0x10"])j", kBuiltin, "invalid syntax");
  for (const char* s : {R"j(["nan"])j", R"j(["-Infinity"])j", R"j(["inf"])j"})
    EXPECT_BUILTIN_ERROR(c, "to_number", s, kType, "to_number: operand 1 must be valid number string");
  EXPECT_BUILTIN_ERROR(c, "to_number", R"j([[]])j", kType, "operand 1 must be one of {null, boolean, number, string}");
}

}  // namespace
}  // namespace cloister::rego
