// Node storage of a compiled policy and its prepared queries: who owns what, and for how long.
#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "arena.h"
#include "ast.h"
#include "cloister/rego/rego.h"

namespace cloister::rego {
namespace {

TEST(RegoNodeArena, NodesAreDistinctAlignedAndOutliveTheirHandles) {
  NodeArena arena;
  std::set<const Term*> seen;
  std::vector<TermP> kept;
  for (int i = 0; i < 5000; ++i) {
    auto t = arena.make<Term>();
    t->slot = i;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.get()) % alignof(Term), 0u);
    EXPECT_TRUE(seen.insert(t.get()).second);
    if (i % 2 == 0) kept.push_back(std::move(t));  // the others are dropped: no reuse, no harm
  }
  for (std::size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i]->slot, static_cast<int>(2 * i));
  kept.clear();
}

TEST(RegoNodeArena, ObjectsLargerThanABlockGetTheirOwn) {
  NodeArena arena;
  auto small = arena.make<Term>();
  auto big = arena.make<std::array<char, 100000>>();
  big->fill('x');
  auto after = arena.make<Term>();
  after->name = "still usable";
  EXPECT_EQ((*big)[99999], 'x');
  EXPECT_EQ(after->name, "still usable");
}

TEST(RegoNodeArena, WithoutAnArenaNodesAreOnTheHeap) {
  auto t = make_node<Term>(nullptr);
  t->name = "heap";
  EXPECT_EQ(t.use_count(), 1);
}

const char* kPolicy = R"(package t

p contains x if {
  some x in input.xs
  x > 1
}

f(a) := b if b := a * 2

q := [f(v) | some v in p]
)";

// The policy's nodes live in its arena; a prepared query keeps the policy (and its own nodes)
// alive after the last Policy handle is gone.
// Lists inside nodes: a new node made in an arena keeps its items (expressions) there; copies and
// nodes made without an arena use the heap.
TEST(RegoNodeArena, NewNodesKeepTheirListsInTheArena) {
  NodeArena arena;
  auto t = make_node<Term>(&arena);
  EXPECT_EQ(t->items.get_allocator().arena(), &arena);
  for (int i = 0; i < 100; ++i) t->items.push_back(make_node<Term>(&arena));  // grows in the arena
  ASSERT_EQ(t->items.size(), 100u);
  auto copy = make_node<Term>(&arena, *t);
  EXPECT_EQ(copy->items.get_allocator().arena(), nullptr);
  EXPECT_EQ(copy->items.size(), 100u);
  EXPECT_EQ(copy->items[99], t->items[99]);
  Term plain = *t;
  EXPECT_EQ(plain.items.get_allocator().arena(), nullptr);
  TermList moved = std::move(t->items);
  EXPECT_EQ(moved.get_allocator().arena(), &arena);
  EXPECT_EQ(moved.size(), 100u);
  auto b = make_node<Body>(&arena);
  EXPECT_EQ(b->exprs.get_allocator().arena(), &arena);
  b->exprs.resize(10);
  EXPECT_EQ(make_node<Body>(nullptr)->exprs.get_allocator().arena(), nullptr);
  EXPECT_EQ(make_node<Term>(nullptr)->items.get_allocator().arena(), nullptr);
}

// The parser's interned strings and the compiler's rule names: entries made once, found again by
// equal text from anywhere, across growth.
TEST(RegoNameTable, FindsWhatItMadeAcrossGrowth) {
  NameTable<int> t;
  EXPECT_EQ(t.find("x"), nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(std::string(static_cast<std::size_t>(i % 37), 'a') + std::to_string(i));
  for (int i = 0; i < 1000; ++i) {
    auto [v, fresh] = t.try_emplace(keys[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(fresh);
    EXPECT_EQ(*v, 0);
    *v = i + 1;
  }
  EXPECT_EQ(t.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    std::string copy = keys[static_cast<std::size_t>(i)];  // other storage, same text
    const int* v = t.find(copy);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, i + 1);
    auto [again, fresh] = t.try_emplace(copy);
    EXPECT_FALSE(fresh);
    EXPECT_EQ(*again, i + 1);
  }
  EXPECT_EQ(t.find("a1x"), nullptr);
  EXPECT_EQ(t.find(""), nullptr);
  *t.try_emplace("").first = 7;
  EXPECT_EQ(*t.find(""), 7);
  // Re-pointed keys still find their entry.
  std::string moved = keys[5];
  t.rekey(keys[5], moved);
  keys[5].assign("changed");
  ASSERT_NE(t.find(moved), nullptr);
  EXPECT_EQ(*t.find(moved), 6);
}

// Term::vars: inline up to SlotList::kInline slots, on the heap beyond; copies and moves keep the
// contents either way.
TEST(RegoSlotList, InlineAndHeapListsCopyAndMove) {
  std::vector<int> expect;
  for (int n = 0; n <= static_cast<int>(SlotList::kInline) + 3; ++n) {
    expect.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) expect[static_cast<std::size_t>(i)] = 10 * i + 1;
    SlotList a;
    a.assign(expect.begin(), expect.end());
    auto same = [&](const SlotList& l) {
      ASSERT_EQ(l.size(), expect.size());
      EXPECT_EQ(l.empty(), expect.empty());
      EXPECT_TRUE(std::equal(l.begin(), l.end(), expect.begin()));
      for (std::size_t i = 0; i < l.size(); ++i) EXPECT_EQ(l[i], expect[i]);
    };
    same(a);
    SlotList copy(a);
    same(copy);
    same(a);
    SlotList assigned = {7, 8};
    assigned = a;
    same(assigned);
    SlotList moved(std::move(copy));
    same(moved);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from lists are empty
    SlotList move_assigned;
    move_assigned.assign(expect.begin(), expect.end());
    move_assigned = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // to the heap
    move_assigned = std::move(moved);
    same(move_assigned);
    move_assigned.clear();
    EXPECT_TRUE(move_assigned.empty());
    move_assigned = {3};
    ASSERT_EQ(move_assigned.size(), 1u);
    EXPECT_EQ(move_assigned[0], 3);
  }
  // Terms copy their lists.
  Term t;
  t.vars = {4, 5};
  Term u = t;
  t.vars = {9};
  ASSERT_EQ(u.vars.size(), 2u);
  EXPECT_EQ(u.vars[1], 5);
}

TEST(RegoCompile, PreparedQueryOutlivesThePolicyHandle) {
  PreparedQuery q = [] {
    auto p = Policy::compile({{"t.rego", kPolicy}});
    EXPECT_TRUE(p.has_value());
    auto prepared = (*p)->prepare("y := data.t.q; z := [w | w := y[_] + 1]");
    EXPECT_TRUE(prepared.has_value());
    return *prepared;
  }();
  EvalOptions o;
  o.input = *parse_json(R"({"xs": [1, 2, 3]})");
  auto r = q.eval(o);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->rows.size(), 1u);
  ASSERT_EQ(r->rows[0].bindings.size(), 2u);
  EXPECT_EQ(to_json(r->rows[0].bindings[0].second), "[4,6]");
  EXPECT_EQ(to_json(r->rows[0].bindings[1].second), "[5,7]");
}

// Preparing allocates in the query's arena only, so threads may prepare on one policy at once.
TEST(RegoCompile, QueriesPreparedConcurrentlyOnOnePolicy) {
  auto p = Policy::compile({{"t.rego", kPolicy}});
  ASSERT_TRUE(p.has_value());
  std::shared_ptr<const Policy> policy = *p;
  std::vector<std::thread> threads;
  std::array<int, 4> ok{};
  for (std::size_t i = 0; i < ok.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 50; ++n) {
        auto q = policy->prepare("x := count(data.t.p)");
        if (!q) return;
        EvalOptions o;
        o.input = *parse_json(R"({"xs": [1, 2, 3, 4]})");
        auto r = q->eval(o);
        if (r && r->rows.size() == 1 && to_json(r->rows[0].bindings[0].second) == "3") ++ok[i];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int n : ok) EXPECT_EQ(n, 50);
}

// Errors found after parsing (the nodes already in the arena) release everything cleanly.
TEST(RegoCompile, ErrorsAfterParsingReleaseTheArena) {
  auto p = Policy::compile({{"t.rego", "package t\n\np if { x }\n"}});
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("rego_unsafe_var_error"), std::string::npos) << p.error().message();
}

// Each module is parsed on its own: every broken file is reported (its first error), one per line,
// before anything is compiled; the error's code is the first one's.
TEST(RegoCompile, ParseErrorsOfEveryModule) {
  auto p = Policy::compile({{"a.rego", "package a\np := \n"}, {"ok.rego", "package ok\nq := x\n"}, {"b.rego", "package b\nq if {\n"}});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().message(),
            // (At the end of a file the excerpt is the last line with text, as OPA's ParserErrorDetail
            // backs up over whitespace.)
            "a.rego:3:1: rego_parse_error: unexpected eof token\n\tp := \n\t   ^\n"
            "b.rego:3:1: rego_parse_error: unexpected eof token: expected }\n\tq if {\n\t     ^");
  EXPECT_EQ(error_code(p.error()), "rego_parse_error");
  std::vector<ModuleSource> many;
  for (int i = 0; i < 12; ++i) many.push_back({"m" + std::to_string(i) + ".rego", "package"});
  auto q = Policy::compile(many);
  ASSERT_FALSE(q.has_value());
  const std::string& m = q.error().message();
  EXPECT_NE(m.find("m9.rego:1:"), std::string::npos) << m;
  EXPECT_EQ(m.find("m10.rego"), std::string::npos) << m;  // OPA's default limit: 10 errors
}

// Rules compile one by one: each broken rule's first error is reported, in rule order, one per
// line (up to 10); the rules between them compile as usual.
TEST(RegoCompile, ErrorsOfEveryRule) {
  auto p = Policy::compile({{"t.rego", "package t\np if { x }\nq if { y := 1; y := 2 }\nok := 1\nr := print(1)\n"},
                            {"u.rego", "package u\nf(a) := b\n"}});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().message(),
            "t.rego:2: rego_unsafe_var_error: var x is unsafe\n"
            "t.rego:3: rego_compile_error: var y assigned above\n"
            "t.rego:5: rego_type_error: print(1) used as value\n"
            "u.rego:2: rego_unsafe_var_error: var b is unsafe");
  EXPECT_EQ(error_code(p.error()), "rego_unsafe_var_error");
  std::string many = "package t\n";
  for (int i = 0; i < 12; ++i) many += "p" + std::to_string(i) + " if { x" + std::to_string(i) + " }\n";
  auto q = Policy::compile({{"t.rego", many}});
  ASSERT_FALSE(q.has_value());
  EXPECT_NE(q.error().message().find("var x9 is unsafe"), std::string::npos) << q.error().message();
  EXPECT_EQ(q.error().message().find("var x10 is unsafe"), std::string::npos) << q.error().message();
}

}  // namespace
}  // namespace cloister::rego
