#include "parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <set>
#include <unordered_map>

namespace cloister::rego {

namespace {

enum class Tok : std::uint8_t {
  Eof, Ident, Number, String, RawString, Template,
  LBrace, RBrace, LBrack, RBrack, LParen, RParen,
  Dot, Comma, Semi, Colon, Assign, Unify, Eq, Neq, Lt, Le, Gt, Ge,
  Plus, Minus, Star, Slash, Percent, Amp, Bar, Bad
};

// Identifiers the parser tests for, classified once by the lexer (the parser asks "is this
// `in`?" several times per token).
enum class Word : std::uint8_t {
  None, In, Contains, If, Every, Not, With, As, Some, Default, Else, Import, Package, True, False, Null, Set,
  Underscore
};

Word classify_word(std::string_view w) {
  switch (w.size()) {
    case 1: return w[0] == '_' ? Word::Underscore : Word::None;
    case 2: return w == "in"_lit ? Word::In : w == "if"_lit ? Word::If : w == "as"_lit ? Word::As : Word::None;
    case 3: return w == "not"_lit ? Word::Not : w == "set"_lit ? Word::Set : Word::None;
    case 4:
      return w == "with"_lit   ? Word::With
             : w == "some"_lit ? Word::Some
             : w == "else"_lit ? Word::Else
             : w == "true"_lit ? Word::True
             : w == "null"_lit ? Word::Null
                             : Word::None;
    case 5: return w == "every"_lit ? Word::Every : w == "false"_lit ? Word::False : Word::None;
    case 6: return w == "import"_lit ? Word::Import : Word::None;
    case 7: return w == "default"_lit ? Word::Default : w == "package"_lit ? Word::Package : Word::None;
    case 8: return w == "contains"_lit ? Word::Contains : Word::None;
    default: return Word::None;
  }
}

// 32 bytes: the lexer writes ~18,000 of them for the Kata policy. The offset in the source is
// text.data() - source.data() (also for Eof, whose text is empty at the end of the source).
struct Token {
  std::string_view text;
  std::uint32_t line = 1, col = 1;
  Tok t = Tok::Eof;
  Word word = Word::None;  // Ident only
  bool nl_before = false;
  bool ws_before = false;
  bool bar_inside = false;  // LBrace only: a `|` directly inside its braces (not in a nested bracket)
};

// A token as OPA's parser names it in "unexpected X token" (ast/internal/tokens: Token.String).
const char* tok_desc(Tok t) {
  switch (t) {
    case Tok::Eof: return "eof";
    case Tok::Ident: return "ident";
    case Tok::Number: return "number";
    case Tok::String:
    case Tok::RawString: return "string";
    case Tok::Template: return "template-string-part";
    case Tok::LBrace: return "{";
    case Tok::RBrace: return "}";
    case Tok::LBrack: return "[";
    case Tok::RBrack: return "]";
    case Tok::LParen: return "(";
    case Tok::RParen: return ")";
    case Tok::Dot: return ".";
    case Tok::Comma: return ",";
    case Tok::Semi: return ";";
    case Tok::Colon: return ":";
    case Tok::Assign: return "assign";
    case Tok::Unify: return "eq";
    case Tok::Eq: return "equal";
    case Tok::Neq: return "neq";
    case Tok::Lt: return "lt";
    case Tok::Le: return "lte";
    case Tok::Gt: return "gt";
    case Tok::Ge: return "gte";
    case Tok::Plus: return "plus";
    case Tok::Minus: return "minus";
    case Tok::Star: return "mul";
    case Tok::Slash: return "div";
    case Tok::Percent: return "rem";
    case Tok::Amp: return "and";
    case Tok::Bar: return "or";
    case Tok::Bad: return "illegal";
  }
  return "illegal";
}

struct ParseFail {
  Loc loc;
  std::size_t offset;
  std::string msg;
};

// Template strings ($"a {expr} b", $`raw {expr}`): finds the end of one, skipping nested strings
// and templates inside expressions. `i` is just past the opening quote.
bool skip_template(std::string_view s, std::size_t i, char q, std::size_t& end, std::string& why);

bool skip_expr(std::string_view s, std::size_t i, std::size_t& close, std::string& why) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '$' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '`')) {
      std::size_t e;
      if (!skip_template(s, i + 2, s[i + 1], e, why)) return false;
      i = e;
      continue;
    }
    if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
      ++i;
      continue;
    }
    if (c == '`') {
      ++i;
      while (i < s.size() && s[i] != '`') ++i;
      ++i;
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}') {
      if (depth == 0) {
        close = i;
        return true;
      }
      --depth;
    }
    ++i;
  }
  why = "non-terminated template expression";
  return false;
}

bool skip_template(std::string_view s, std::size_t i, char q, std::size_t& end, std::string& why) {
  while (i < s.size()) {
    char c = s[i];
    if (c == q) {
      end = i + 1;
      return true;
    }
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (q == '"' && c == '\n') break;
    if (c == '{') {
      std::size_t close;
      if (!skip_expr(s, i + 1, close, why)) return false;
      i = close + 1;
      continue;
    }
    ++i;
  }
  why = "non-terminated template string";
  return false;
}

// Letters, digits and '_': one load per byte in the identifier loop.
constexpr std::array<bool, 256> kIdentChar = [] {
  std::array<bool, 256> a{};
  for (int c = 0; c < 256; ++c) a[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  return a;
}();

class Lexer {
 public:
  // `line`, `col`: where `s` starts in its file (a template string's expression is lexed on its own).
  Lexer(std::string_view s, std::vector<std::string_view>* comments, std::uint32_t line = 1, std::uint32_t col = 1)
      : s_(s), comments_(comments), line_(line), col_(col) {}

  // Returns false with `err` on a lexical error.
  bool run(std::vector<Token>& out, ParseFail& err) {
    bool nl = false, ws = false;
    while (true) {
      // whitespace and comments
      while (i_ < s_.size()) {
        char c = s_[i_];
        if (c == '\n') {
          nl = ws = true;
          ++line_;
          col_ = 1;
          ++i_;
        } else if (c == ' ' || c == '\t' || c == '\r') {
          ws = true;
          ++i_;
          ++col_;
        } else if (c == '#') {
          const std::size_t start = i_;
          while (i_ < s_.size() && s_[i_] != '\n') ++i_;
          if (comments_) comments_->push_back(s_.substr(start, i_ - start));
        } else {
          break;
        }
      }
      // Built in place: copying each finished token into the vector cost ~20 instructions a token.
      Token& t = out.emplace_back();
      t.line = line_;
      t.col = col_;
      t.nl_before = nl;
      t.ws_before = ws;
      nl = ws = false;
      if (i_ >= s_.size()) {
        t.t = Tok::Eof;
        t.text = s_.substr(s_.size());
        return true;
      }
      std::size_t start = i_;
      char c = s_[i_];
      auto is_id0 = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; };
      auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
      if (is_id0(c)) {
        while (i_ < s_.size() && kIdentChar[static_cast<unsigned char>(s_[i_])]) ++i_;
        t.t = Tok::Ident;
        t.word = classify_word(s_.substr(start, i_ - start));
      } else if (is_digit(c)) {
        // As OPA's scanner (ast/internal/scanner scanNumber): a `.` must be followed by digits, an
        // exponent must have digits, and no letter may follow the number.
        auto digits = [&] {
          const std::size_t from = i_;
          while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
          return i_ > from;
        };
        auto bad = [&](const char* why) {
          err = {Loc{0, t.line, t.col + static_cast<std::uint32_t>(i_ - start)}, i_, why};
          return false;
        };
        digits();
        if (i_ < s_.size() && s_[i_] == '.') {
          ++i_;
          if (!digits()) return bad("expected fraction");
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
          ++i_;
          if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
          if (!digits()) return bad("expected exponent");
        }
        if (i_ < s_.size() && is_id0(s_[i_])) return bad("illegal number format");
        t.t = Tok::Number;
      } else if (c == '"') {
        ++i_;
        while (i_ < s_.size() && s_[i_] != '"') {
          if (s_[i_] == '\n') break;
          if (s_[i_] == '\\') ++i_;
          ++i_;
        }
        if (i_ >= s_.size() || s_[i_] != '"') {
          err = {Loc{0, t.line, t.col}, start, "non-terminated string"};
          return false;
        }
        ++i_;
        t.t = Tok::String;
      } else if (c == '$' && i_ + 1 < s_.size() && (s_[i_ + 1] == '"' || s_[i_ + 1] == '`')) {
        std::size_t end = 0;
        std::string why;
        if (!skip_template(s_, i_ + 2, s_[i_ + 1], end, why)) {
          err = {Loc{0, t.line, t.col}, start, why};
          return false;
        }
        for (std::size_t j = i_; j < end; ++j) {
          if (s_[j] == '\n') {
            ++line_;
            col_ = 0;
          }
        }
        i_ = end;
        t.t = Tok::Template;
      } else if (c == '`') {
        ++i_;
        while (i_ < s_.size() && s_[i_] != '`') {
          if (s_[i_] == '\n') {
            ++line_;
            col_ = 0;
          }
          ++i_;
        }
        if (i_ >= s_.size()) {
          err = {Loc{0, t.line, t.col}, start, "non-terminated raw string"};
          return false;
        }
        ++i_;
        t.t = Tok::RawString;
      } else {
        ++i_;
        auto next_is = [&](char ch) {
          if (i_ < s_.size() && s_[i_] == ch) {
            ++i_;
            return true;
          }
          return false;
        };
        switch (c) {
          case '{': t.t = Tok::LBrace, open_.push_back(out.size() - 1); break;
          case '[': t.t = Tok::LBrack, open_.push_back(out.size() - 1); break;
          case '(': t.t = Tok::LParen, open_.push_back(out.size() - 1); break;
          case '}': t.t = Tok::RBrace, close(); break;
          case ']': t.t = Tok::RBrack, close(); break;
          case ')': t.t = Tok::RParen, close(); break;
          case '.': t.t = Tok::Dot; break;
          case ',': t.t = Tok::Comma; break;
          case ';': t.t = Tok::Semi; break;
          case ':': t.t = next_is('=') ? Tok::Assign : Tok::Colon; break;
          case '=': t.t = next_is('=') ? Tok::Eq : Tok::Unify; break;
          case '!':
            if (next_is('=')) {
              t.t = Tok::Neq;
            } else {
              err = {Loc{0, t.line, t.col}, start, "illegal ! character"};
              return false;
            }
            break;
          case '<': t.t = next_is('=') ? Tok::Le : Tok::Lt; break;
          case '>': t.t = next_is('=') ? Tok::Ge : Tok::Gt; break;
          case '+': t.t = Tok::Plus; break;
          case '-': t.t = Tok::Minus; break;
          case '*': t.t = Tok::Star; break;
          case '/': t.t = Tok::Slash; break;
          case '%': t.t = Tok::Percent; break;
          case '&': t.t = Tok::Amp; break;
          case '|':
            t.t = Tok::Bar;
            if (!open_.empty() && out[open_.back()].t == Tok::LBrace) out[open_.back()].bar_inside = true;
            break;
          default:
            err = {Loc{0, t.line, t.col}, start, std::string("illegal token '") + c + "'"};
            return false;
        }
      }
      t.text = s_.substr(start, i_ - start);
      col_ += static_cast<std::uint32_t>(i_ - start);
    }
  }

 private:
  void close() {
    if (!open_.empty()) open_.pop_back();
  }

  std::string_view s_;
  // Indices of the open brackets around the position, innermost last (for Token::bar_inside).
  std::vector<std::size_t> open_;
  std::vector<std::string_view>* comments_;
  std::uint32_t line_, col_;
  std::size_t i_ = 0;
};

class Parser {
 public:
  Parser(std::string_view file, std::uint32_t file_index, std::string_view text, const ParseOptions& opts)
      : file_(file), file_index_(file_index), text_(text), opts_(opts) {
    if (!opts.v0) enable_all_keywords();
  }

  Result<Module> module() {
    try {
      lex();
      Module m;
      m.file = std::string(file_);
      m.v1 = !opts_.v0;
      m.package_loc = loc(cur());
      expect_word(Word::Package, "package");
      auto pkg = ref_path(true);
      for (auto& p : pkg) m.package.push_back(p);
      v1_ = m.v1;
      // Imports may come anywhere after the package, as in OPA (its parser takes statements in any
      // order); a keyword import applies from where it stands.
      while (cur().t != Tok::Eof) {
        if (is_stmt_word(Word::Import)) {
          m.imports.push_back(import());
          const Import& imp = m.imports.back();
          if (imp.path.size() == 2 && imp.path[0] == "rego"_lit && imp.path[1] == "v1"_lit) {
            enable_all_keywords();
            m.v1 = v1_ = true;
          } else if (imp.path[0] == "future"_lit) {
            // (OPA's futureImport enables one keyword for future.keywords.x, else all of them.)
            if (imp.path.size() == 3) keyword_enable(imp.path[2]);
            else enable_all_keywords();
          }
        } else if (is_stmt_word(Word::Package)) {
          error(cur(), "unexpected package");
        } else {
          rule(m.rules);
        }
      }
      return m;
    } catch (const ParseFail& f) {
      return fail(f);
    }
  }

  Result<std::shared_ptr<Body>> query() {
    try {
      lex();
      auto b = node<Body>();
      b->loc = loc(cur());
      while (cur().t != Tok::Eof) {
        b->exprs.push_back(literal());
        if (cur().t == Tok::Semi) {
          advance();
        } else if (cur().t != Tok::Eof && !cur().nl_before) {
          error(cur(), unexpected(cur()));
        }
      }
      if (b->exprs.empty()) error(cur(), "empty query");
      return b;
    } catch (const ParseFail& f) {
      return fail(f);
    }
  }

  // One template expression: a term, optionally with `with` modifiers. The latter becomes
  // [$t | $t = term with ...] marked "$template", of which the evaluator takes the first value.
  Result<TermP> template_part() {
    try {
      lex();
      auto t = infix_in(false);
      if (is_stmt_word(Word::With)) {
        Expr e;
        e.loc = t->loc;
        auto v = node<Term>();
        v->kind = TermKind::Var;
        v->name = "$t";
        v->loc = t->loc;
        e.term = call("eq", {v, t}, t->loc);
        withs(e);
        auto c = node<Term>();
        c->kind = TermKind::ArrayCompr;
        c->name = "$template";
        c->loc = t->loc;
        c->head = node<Term>(*v);
        c->body = node<Body>();
        c->body->loc = t->loc;
        c->body->exprs.push_back(std::move(e));
        t = c;
      }
      if (cur().t != Tok::Eof) error(cur(), "unexpected trailing token");
      return t;
    } catch (const ParseFail& f) {
      return fail(f);
    }
  }

  Result<TermP> single_term() {
    try {
      lex();
      auto t = infix_in(false);
      if (cur().t != Tok::Eof) error(cur(), "unexpected trailing token");
      return t;
    } catch (const ParseFail& f) {
      return fail(f);
    }
  }

 private:
  // ---------------------------------------------------------------- plumbing
  void lex() {
    ParseFail err;
    // The Kata policy averages one token per ~3.3 bytes; reserving avoids regrowing the vector.
    toks_.reserve(text_.size() / 3 + 16);
    if (!Lexer(text_, opts_.comments, start_.line, start_.col).run(toks_, err)) {
      err.loc.file = file_index_;
      throw err;
    }
    eof_ = toks_.size() - 1;
  }
  tl::unexpected<Error> fail(const ParseFail& f) {
    std::string msg = std::string(file_) + ":" + std::to_string(f.loc.line) + ":" + std::to_string(f.loc.col) +
                      ": rego_parse_error: " + f.msg;
    // One-line excerpt with a caret, as OPA's ParserErrorDetail prints it: the line of the error's
    // byte (backed up over whitespace, so an error at the end of the file shows its last line),
    // leading tabs removed, the caret indented by spaces.
    if (!text_.empty()) {
      std::size_t at = std::min(f.offset, text_.size() - 1);
      while (at > 0 && std::isspace(static_cast<unsigned char>(text_[at]))) --at;
      std::size_t ls = at;
      while (ls > 0 && text_[ls] != '\n' && text_[ls] != '\r') --ls;
      if (text_[ls] == '\n' || text_[ls] == '\r') ++ls;
      std::size_t le = at;
      while (le < text_.size() && text_[le] != '\n' && text_[le] != '\r') ++le;
      if (ls > le) ls = le;
      std::string_view line = text_.substr(ls, le - ls);
      const std::size_t tabs = std::min(line.find_first_not_of('\t'), line.size());
      const std::size_t indent = at - ls > tabs ? at - ls - tabs : 0;
      line.remove_prefix(tabs);
      if (line.size() > 200) line = line.substr(0, 200);
      msg += "\n\t" + std::string(line) + "\n\t" + std::string(std::min<std::size_t>(indent, 200), ' ') + "^";
    }
    return make_error(Errc::parse, msg);
  }
  [[noreturn]] void error(const Token& t, std::string msg) { throw ParseFail{loc(t), static_cast<std::size_t>(t.text.data() - text_.data()), std::move(msg)};
  }
  // The ident after a reference's `.`: OPA's parser scans it without skipping whitespace
  // (parseRef: scanWS), so `regex.\nmatch(...)` and `a. b` are errors, reported where the
  // whitespace starts, right after the dot.
  [[gnu::always_inline]] const Token& ref_key_after(const Token& dot) {
    if (cur().t == Tok::Ident && !cur().ws_before) [[likely]]
      return advance();
    ref_key_error(dot);
  }
  [[noreturn]] __attribute__((noinline)) void ref_key_error(const Token& dot) {
    if (cur().ws_before) {
      Token ws = dot;
      ws.text = std::string_view(dot.text.data() + dot.text.size(), 0);
      ws.col = dot.col + static_cast<std::uint32_t>(dot.text.size());
      error(ws, "unexpected whitespace token: expected ident");
    }
    error(cur(), unexpected(cur()) + ": expected ident");
  }
  Loc loc(const Token& t) const { return Loc{file_index_, t.line, t.col}; }
  // The file position of byte `offset` of token `t`'s text.
  Loc position_in(const Token& t, std::size_t offset) const {
    const std::string_view before = t.text.substr(0, offset);
    const std::size_t nl = before.rfind('\n');
    if (nl == std::string_view::npos) return Loc{file_index_, t.line, t.col + static_cast<std::uint32_t>(offset)};
    const auto lines = static_cast<std::uint32_t>(std::count(before.begin(), before.end(), '\n'));
    return Loc{file_index_, t.line + lines, static_cast<std::uint32_t>(offset - nl)};
  }
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(std::size_t n = 1) const { return toks_[std::min(pos_ + n, eof_)]; }
  const Token& advance() { return toks_[pos_ < eof_ ? pos_++ : pos_]; }
  bool is_word(Word w) const { return cur().t == Tok::Ident && cur().word == w; }
  bool is_kw(Word w) const { return is_word(w) && keyword_on(w) && !ref_follows(); }
  // The four future keywords, switched on by v1 or by imports (no allocation: checked per token).
  bool keyword_on(Word w) const {
    switch (w) {
      case Word::In: return kw_[0];
      case Word::Contains: return kw_[1];
      case Word::If: return kw_[2];
      case Word::Every: return kw_[3];
      default: return false;
    }
  }
  void keyword_enable(std::string_view w) {
    if (w == "in"_lit) kw_[0] = true;
    if (w == "contains"_lit) kw_[1] = true;
    if (w == "if"_lit) kw_[2] = true;
    // Importing `every` imports `in` too (OPA's scanner adds both: `every x in xs` needs it).
    if (w == "every"_lit) kw_[0] = kw_[3] = true;
  }
  // A keyword directly followed by '.', '[' or '(' is a name in a reference (`contains(...)`,
  // `as.foo`), as OPA allows.
  bool ref_follows() const {
    const Token& n = peek();
    return (n.t == Tok::Dot || n.t == Tok::LParen || n.t == Tok::LBrack) && !n.ws_before;
  }
  bool is_stmt_word(Word w) const { return is_word(w) && !ref_follows(); }
  // "unexpected X token", or "unexpected X keyword" for a word OPA's scanner makes a keyword
  // (its fixed ones, and the future keywords where enabled), as OPA's Parser.illegal words it.
  std::string unexpected(const Token& t) const {
    if (t.t == Tok::Ident) {
      switch (t.word) {
        case Word::Package: case Word::Import: case Word::As: case Word::Default: case Word::Else:
        case Word::Not: case Word::Some: case Word::With: case Word::Null: case Word::True: case Word::False:
          return "unexpected " + std::string(t.text) + " keyword";
        default:
          if (keyword_on(t.word)) return "unexpected " + std::string(t.text) + " keyword";
          return "unexpected ident token";
      }
    }
    return "unexpected " + std::string(tok_desc(t.t)) + " token";
  }
  void expect(Tok t, const char* what) {
    if (cur().t != t) {
      error(cur(), unexpected(cur()) + ": expected " + what);
    }
    advance();
  }
  void expect_word(Word w, std::string_view text) {
    if (!is_word(w)) error(cur(), unexpected(cur()) + ": expected " + std::string(text));
    advance();
  }
  void enable_all_keywords() {
    for (bool& k : kw_) k = true;
  }
  bool separated() const { return cur().nl_before && nl_ignore_ == 0; }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& pp, const Token& t) : p(pp) {
      if (++p.depth_ > p.opts_.max_depth) p.error(t, "nesting too deep (limit " + std::to_string(p.opts_.max_depth) + ")");
    }
    ~DepthGuard() { --p.depth_; }
  };
  struct NlIgnore {
    Parser& p;
    int saved;
    NlIgnore(Parser& pp, bool ignore) : p(pp), saved(pp.nl_ignore_) { p.nl_ignore_ = ignore ? saved + 1 : 0; }
    ~NlIgnore() { p.nl_ignore_ = saved; }
  };

  template <typename T, typename... A>
  std::shared_ptr<T> node(A&&... args) {
    return make_node<T>(opts_.arena, std::forward<A>(args)...);
  }
  [[gnu::always_inline]] TermP mk(TermKind k, const Token& t) {  // hot; GCC at times left it a call
    auto r = node<Term>();
    r->kind = k;
    r->loc = loc(t);
    return r;
  }
  TermP scalar(Value v, const Token& t) {
    auto r = mk(TermKind::Scalar, t);
    r->value = std::move(v);
    return r;
  }
  // A list for a node's items, in the arena when there is one (see make_node).
  TermList term_list() const { return TermList(NodeAllocator<TermP>(opts_.arena)); }
  TermP call(std::string name, TermList args, Loc l) {
    // Operator chains (a - b - c ...) nest without parser recursion, but everything after the
    // parser recurses on term depth: bound it here like bracket nesting.
    std::uint32_t depth = 0;
    for (const auto& a : args) depth = std::max(depth, a->depth);
    if (depth + 1 > opts_.max_depth * 4) error(cur(), "expression nesting too deep");
    auto r = node<Term>();
    r->depth = depth + 1;
    r->kind = TermKind::Call;
    r->loc = l;
    r->name = std::move(name);
    r->items = std::move(args);
    return r;
  }
  // Operators: `call(op, {lhs, rhs}, loc)`.
  TermP call(std::string name, std::initializer_list<TermP> args, Loc l) {
    TermList items = term_list();
    items.assign(args);
    return call(std::move(name), std::move(items), l);
  }

  // ---------------------------------------------------------------- module level
  static bool is_reserved(Word w) {
    switch (w) {
      case Word::Package: case Word::Import: case Word::Default: case Word::Else: case Word::With: case Word::As:
      case Word::Not: case Word::Some: case Word::True: case Word::False: case Word::Null: return true;
      default: return false;
    }
  }

  // package/import paths: ident (. ident | [ "string" ])*
  std::vector<Value> ref_path(bool /*package*/) {
    std::vector<Value> out;
    if (cur().t != Tok::Ident) error(cur(), unexpected(cur()) + ": expected ident");
    out.push_back(Value::string(std::string(advance().text)));
    while (true) {
      if (cur().t == Tok::Dot && !cur().ws_before) {
        const Token& dot = advance();
        out.push_back(Value::string(std::string(ref_key_after(dot).text)));
      } else if (cur().t == Tok::LBrack && !cur().ws_before) {
        advance();
        if (cur().t != Tok::String) {
          // OPA names the value there (ValueName): `input.x[1]` is a number.
          const Token& k = cur();
          const std::string_view what = k.t == Tok::Number                           ? "number"
                                        : k.t != Tok::Ident                          ? tok_desc(k.t)
                                        : k.text == "true"_lit || k.text == "false"_lit ? "boolean"
                                        : k.text == "null"_lit                       ? "null"
                                                                                     : "var";
          error(k, "unexpected " + std::string(what) + " token: expecting string");
        }
        out.push_back(string_value(advance()));
        expect(Tok::RBrack, "]");
      } else {
        break;
      }
    }
    return out;
  }

  // An import, checked as OPA's parser checks it (parseImport, futureImport, regoV1Import); the
  // errors point at the path, as OPA's do.
  Import import() {
    Import imp;
    imp.loc = loc(cur());
    advance();
    const Token& path = cur();  // (tokens are all lexed up front: the reference stays valid)
    imp.raw = ref_path(false);
    for (const auto& v : imp.raw) imp.path.push_back(v.as_string());
    if (is_word(Word::As)) {
      advance();
      if (cur().t != Tok::Ident) error(cur(), "expected ident after as");
      imp.alias = std::string(advance().text);
    }
    const std::string& root = imp.path[0];
    if (root != "data"_lit && root != "input"_lit && root != "future"_lit && root != "rego"_lit) {
      error(path, "unexpected import path, must begin with one of: {data, future, input, rego}, got: " + root);
    }
    if (root == "future"_lit) {
      if (imp.path.size() == 1 || imp.path[1] != "keywords"_lit) error(path, "invalid import, must be `future.keywords`");
      if (!imp.alias.empty()) error(path, "`future` imports cannot be aliased");
      if (imp.path.size() == 3 && imp.path[2] != "in"_lit && imp.path[2] != "contains"_lit && imp.path[2] != "if"_lit &&
          imp.path[2] != "every"_lit) {
        error(path, "unexpected keyword, must be one of [contains every if in]");
      }
    } else if (root == "rego"_lit) {
      if (imp.path.size() != 2 || imp.path[1] != "v1"_lit) {
        std::string text = imp.path[0];
        for (std::size_t i = 1; i < imp.raw.size(); ++i) append_ref_key(text, imp.raw[i]);
        error(path, "invalid import `" + text + "`, must be `rego.v1`");
      }
      // (In a v1 module the import is a no-op, an alias included, as in OPA.)
      if (opts_.v0 && !imp.alias.empty()) error(path, "`rego` imports cannot be aliased");
    }
    return imp;
  }

  // Appends the rule (and the rules of its further bodies, which share its head) to `out`.
  void rule(std::vector<std::shared_ptr<Rule>>& out) {
    auto r = node<Rule>();
    const Token& first = cur();  // tokens are all lexed up front: the reference stays valid
    r->loc = loc(first);
    if (is_stmt_word(Word::Default)) {
      advance();
      r->is_default = true;
    }
    if (cur().t != Tok::Ident || (is_reserved(cur().word) && !ref_follows())) {
      error(cur(), unexpected(cur()) + ": expected rule head");
    }
    if (keyword_on(cur().word) && !ref_follows()) error(cur(), "unexpected " + std::string(cur().text) + " keyword");
    r->ref = head_ref();
    if (cur().t == Tok::LParen && !cur().ws_before) {
      r->kind = RuleKind::Function;
      advance();
      NlIgnore nl(*this, true);
      while (cur().t != Tok::RParen) {
        r->args.push_back(infix_in(false));
        if (cur().t == Tok::Comma) advance();
        else if (cur().t != Tok::RParen) error(cur(), "expected , or ) in function arguments");
      }
      advance();
    }
    if (is_kw(Word::Contains)) {
      if (r->kind == RuleKind::Function) {
        // (OPA's parseHead, in its words; the head named as OPA prints a ref.)
        std::string name = r->ref->kind == TermKind::Var ? r->ref->name : r->ref->items[0]->name;
        for (std::size_t i = 1; r->ref->kind == TermKind::Ref && i < r->ref->items.size(); ++i) {
          const Term& k = *r->ref->items[i];
          if (k.kind == TermKind::Scalar) append_ref_key(name, k.value);
          else name += "[" + (k.kind == TermKind::Var ? k.name : std::string("...")) + "]";
        }
        error(cur(), "unexpected contains keyword: the contains keyword can only be used with multi-value rule definitions (e.g., " +
                         name + " contains <VALUE> { ... })");
      }
      advance();
      r->kind = RuleKind::MultiValue;
      r->key = infix_in(false);
    } else if (cur().t == Tok::Assign || cur().t == Tok::Unify) {
      r->assign = cur().t == Tok::Assign;
      advance();
      r->value = infix_in(false);
    }
    if (r->is_default) {
      if (!r->value) error(cur(), "default rule must have a value");
      check_default(*r, first);
      r->body = node<Body>();
      out.push_back(std::move(r));
      return;
    }
    // A two-part head without a value, `p[x]` or `a.b`: in v0 and without `if` a partial set rule
    // (`p contains x`), with or without a body; with `if` a single-value rule `p[x] = true`. A
    // module-level v0 statement of three or more parts, `a.b.c`, is the rule `a.b.c = true`.
    // (OPA v1/ast/parser.go parseRules, parser_ext.go ParseRuleFromExpr; OPA issue 6184.)
    const bool has_if = is_kw(Word::If);
    const bool bare_ref = r->kind == RuleKind::Complete && !r->value && r->ref->kind == TermKind::Ref;
    if (!v1_ && !has_if && bare_ref && r->ref->items.size() == 2) {
      r->kind = RuleKind::MultiValue;
      r->key = r->ref->items[1];
      r->ref = r->ref->items[0];
    }
    r->body = rule_body(true);
    if (!r->body) {
      r->body = node<Body>();
      if (!r->value && r->kind != RuleKind::MultiValue && r->kind != RuleKind::Function) {
        // OPA's words for each shape (parser_ext.go, rego_v1.go checkRegoV1Rule).
        if (r->ref->kind != TermKind::Ref) error(first, "var cannot be used for rule name");
        if (v1_ && r->ref->items.size() == 2) error(first, "`contains` keyword is required for partial set rules");
        if (v1_) error(first, "rule must have value assignment and/or body declaration");
        r->value = scalar(Value::boolean(true), first);
      }
    }
    out.push_back(r);
    while (is_stmt_word(Word::Else)) {
      if (r->kind == RuleKind::MultiValue) error(cur(), "else keyword cannot be used on multi-value rules");
      if (r->is_default) error(cur(), "else keyword cannot be used on default rules");
      Token et = advance();
      auto e = node<Rule>();
      e->loc = loc(et);
      e->kind = r->kind;
      e->ref = r->ref;
      e->args = r->args;
      e->shares_head = true;
      if (cur().t == Tok::Assign || cur().t == Tok::Unify) {
        e->assign = cur().t == Tok::Assign;
        advance();
        e->value = infix_in(false);
      }
      e->body = rule_body(true);
      if (!e->body) e->body = node<Body>();
      r->elses.push_back(e);
    }
    // Further bodies for the same head, `p if { a } { b }` (v0: `p { a } { b }`): each is a rule of
    // its own, sharing the head. OPA takes them in both versions, but not after an `else`.
    while (cur().t == Tok::LBrace) {
      if (!r->elses.empty()) error(cur(), "expected else keyword");
      auto copy = node<Rule>(*r);
      copy->loc = loc(cur());
      copy->shares_head = true;
      copy->body = block();
      out.push_back(copy);
    }
  }

  // A default rule's value is a constant (comprehensions aside) and its arguments distinct
  // variables: OPA's parser refuses anything else (ast/parser.go validateDefaultRuleValue and
  // validateDefaultRuleArgs), where it would otherwise be a value the rule can never take.
  void check_default(const Rule& r, const Token& at) {
    std::function<void(const Term&)> value = [&](const Term& t) {
      switch (t.kind) {
        case TermKind::Var: error(at, "illegal default rule (value cannot contain var)");
        case TermKind::Ref: error(at, "illegal default rule (value cannot contain ref)");
        case TermKind::Call:
          if (t.name != "internal.template_string"_lit) error(at, "illegal default rule (value cannot contain call)");
          break;
        case TermKind::ArrayCompr: case TermKind::SetCompr: case TermKind::ObjectCompr: return;
        default: break;
      }
      for (const auto& i : t.items) value(*i);
    };
    value(*r.value);
    std::set<std::string_view> seen;
    for (const auto& a : r.args) {
      if (a->kind != TermKind::Var) error(at, "illegal default rule (arguments cannot contain " + value_name(*a) + ")");
      if (!a->wildcard && !seen.insert(a->name).second)
        error(at, "illegal default rule (arguments cannot be repeated " + a->name + ")");
    }
  }

  // Head reference: ident (.ident | [term])*
  TermP head_ref() {
    const Token& t = advance();
    auto v = mk(TermKind::Var, t);
    v->name.append(t.text);  // empty: cheaper than assign or a temporary
    TermP ref;
    while (true) {
      if (cur().t == Tok::Dot && !cur().ws_before) {
        const Token& k = ref_key_after(advance());
        if (!ref) {
          ref = mk(TermKind::Ref, t);
          ref->items.push_back(v);
        }
        ref->items.push_back(scalar(intern(k.text), k));
      } else if (cur().t == Tok::LBrack && !cur().ws_before) {
        advance();
        NlIgnore nl(*this, true);
        if (!ref) {
          ref = mk(TermKind::Ref, t);
          ref->items.push_back(v);
        }
        ref->items.push_back(infix_in(false));
        expect(Tok::RBrack, "]");
      } else {
        break;
      }
    }
    return ref ? ref : v;
  }

  // `if` body / `{ body }` / nothing (nullptr).
  std::shared_ptr<Body> rule_body(bool allow_if) {
    if (allow_if && is_kw(Word::If)) {
      advance();
      if (cur().t == Tok::LBrace) {
        // OPA (parseRules) reads what follows `if` as one literal first and takes it unless it
        // is a set literal: `if { 1 | 1 }` is a set comprehension (always defined), `if {x: i |
        // ...}` an object comprehension. Reading a body first and the literal when that fails
        // gives the same answer except where both readings parse, which needs a `|` directly
        // inside the braces (the lexer marks those) or an operator after them (`if { x } ==
        // y`); only then is the literal tried first, so ordinary bodies are parsed once.
        const std::size_t save = pos_;
        if (cur().bar_inside) return literal_else_block(save);
        std::shared_ptr<Body> b;
        try {
          b = block();  // (abandoned at most once per rule: not marked speculative, see bracket_term)
        } catch (const ParseFail& as_body) {
          pos_ = save;
          try {
            auto lit = node<Body>();
            lit->loc = loc(cur());
            lit->exprs.push_back(literal());
            return lit;
          } catch (const ParseFail&) {
            throw as_body;  // neither reading works: report the body's error
          }
        }
        if (operator_follows()) return literal_else_block(save);
        return b;
      }
      auto b = node<Body>();
      b->loc = loc(cur());
      b->exprs.push_back(literal());
      return b;
    }
    if (cur().t == Tok::LBrace) {
      if (v1_) error(cur(), "`if` keyword is required before rule body");
      return block();
    }
    return nullptr;
  }

  // From `save` (a `{` after `if`): the literal there as the body, unless it is a set literal
  // or does not parse; then the braces as a body (OPA parseRules).
  std::shared_ptr<Body> literal_else_block(std::size_t save) {
    pos_ = save;
    try {
      Speculation spec(*this);
      auto b = node<Body>();
      b->loc = loc(cur());
      Expr e = literal();
      const bool set_literal =
          e.kind == ExprKind::Term && !e.negated && e.withs.empty() && e.term && e.term->kind == TermKind::Set;
      if (!set_literal) {
        b->exprs.push_back(std::move(e));
        return b;
      }
    } catch (const ParseFail&) {
    }
    pos_ = save;
    return block();
  }

  // After a rule's `{ ... }`: whether an infix operator continues it on the same line, making the
  // braces an operand in OPA's reading (`p if { x } == y`).
  bool operator_follows() const {
    if (cur().nl_before) return false;
    int level;
    const char* op;
    return infix_op(level, op) || cur().t == Tok::Assign || cur().t == Tok::Unify;
  }

  std::shared_ptr<Body> block() {
    DepthGuard g(*this, cur());
    auto b = node<Body>();
    b->exprs.reserve(4);  // most bodies: one allocation, and no expression moved by regrowth
    b->loc = loc(cur());
    expect(Tok::LBrace, "{");
    NlIgnore nl(*this, false);
    while (cur().t != Tok::RBrace) {
      if (cur().t == Tok::Eof) error(cur(), "unexpected eof token: expected }");
      const std::size_t start = pos_;
      b->exprs.push_back(literal());
      if (cur().t == Tok::Semi) {
        advance();
      } else if (cur().t != Tok::RBrace && !cur().nl_before) {
        // OPA's parseQuery wording, with its hint when the literal was a bare `every` that would
        // have read as an `every` expression had the keyword been imported.
        std::string msg = unexpected(cur()) + ": expected \\n or ; or }";
        if (pos_ == start + 1 && looks_like_every(start)) {
          msg += " (hint: `import future.keywords.every` for `every x in xs { ... }` expressions)";
        }
        error(cur(), msg);
      }
    }
    advance();
    if (b->exprs.empty()) error(cur(), "found empty body");
    return b;
  }

  // Whether the tokens from `at` read `every x in` or `every k, v in` with `every` and `in` plain
  // names (the keyword not imported): the shape OPA's parser hints the `every` import for.
  bool looks_like_every(std::size_t at) const {
    auto word = [&](std::size_t i, Word w) { return i < eof_ && toks_[i].t == Tok::Ident && toks_[i].word == w; };
    auto ident = [&](std::size_t i) { return i < eof_ && toks_[i].t == Tok::Ident; };
    if (!word(at, Word::Every) || keyword_on(Word::Every) || !ident(at + 1)) return false;
    std::size_t i = at + 2;
    if (i < eof_ && toks_[i].t == Tok::Comma) {
      if (!ident(i + 1)) return false;
      i += 2;
    }
    return word(i, Word::In);
  }

  // ---------------------------------------------------------------- literals
  Expr literal() {
    DepthGuard g(*this, cur());
    Expr e;
    e.loc = loc(cur());
    if (is_stmt_word(Word::Some)) {
      advance();
      std::vector<TermP> terms;
      terms.push_back(infix_relation(false));
      while (cur().t == Tok::Comma) {
        advance();
        terms.push_back(infix_relation(false));
      }
      if (is_kw(Word::In)) {
        advance();
        if (terms.size() > 2) error(cur(), "unexpected , token: expected at most two variables");
        e.kind = ExprKind::SomeIn;
        if (terms.size() == 2) e.key = terms[0];
        e.val = terms.back();
        e.coll = infix_relation(false);
      } else {
        e.kind = ExprKind::SomeDecl;
        for (auto& t : terms) {
          if (t->kind != TermKind::Var) error(cur(), "expected var in some declaration");
        }
        e.vars = std::move(terms);
      }
      withs(e);
      return e;
    }
    if (is_kw(Word::Every)) {
      advance();
      std::vector<TermP> terms;
      terms.push_back(infix_relation(false));
      if (cur().t == Tok::Comma) {
        advance();
        terms.push_back(infix_relation(false));
      }
      if (!is_kw(Word::In)) error(cur(), "unexpected token: expected in");
      advance();
      e.kind = ExprKind::Every;
      if (terms.size() == 2) e.key = terms[0];
      e.val = terms.back();
      e.coll = infix_relation(false);
      // OPA's parseEvery: the key and the value are variables (a pattern is refused there).
      if (e.key && e.key->kind != TermKind::Var) error(cur(), "unexpected " + std::string(cur().text) + " token: expected key to be a variable");
      if (e.val->kind != TermKind::Var) error(cur(), "unexpected " + std::string(cur().text) + " token: expected value to be a variable");
      e.body = block();
      withs(e);
      return e;
    }
    if (is_stmt_word(Word::Not)) {
      advance();
      e.negated = true;
    }
    auto lhs = infix_in(false);
    if (cur().t == Tok::Comma && nl_ignore_ == 0 && kw_[0]) {
      // k, v in xs; without the `in`, the comma is not this expression's (OPA's parseTermIn
      // restores to it): `[x | y, 5]` is then an array, and a stray comma in a body is reported
      // by the body.
      const std::size_t comma = pos_;
      advance();
      TermP v;
      try {
        Speculation spec(*this);
        v = infix_relation(false);
      } catch (const ParseFail&) {
        v = nullptr;
      }
      if (v && is_kw(Word::In)) {
        advance();
        auto coll = infix_relation(false);
        lhs = call("internal.member_3", {lhs, v, coll}, lhs->loc);
        while (is_kw(Word::In) && !separated()) {
          Token t = advance();
          lhs = call("internal.member_2", {lhs, infix_relation(false)}, loc(t));
        }
      } else {
        pos_ = comma;
      }
    }
    if (cur().t == Tok::Assign || cur().t == Tok::Unify) {
      bool assign = cur().t == Tok::Assign;
      advance();
      auto rhs = infix_in(false);
      lhs = call(assign ? "assign" : "eq", {lhs, rhs}, lhs->loc);
    }
    e.term = lhs;
    withs(e);
    return e;
  }

  void withs(Expr& e) {
    while (is_stmt_word(Word::With)) {
      With w;
      w.loc = loc(cur());
      advance();
      w.target = infix_relation(false);
      expect_word(Word::As, "as");
      w.value = infix_in(false);
      e.withs.push_back(std::move(w));
    }
  }

  // ---------------------------------------------------------------- terms
  // Binary operators by precedence climbing, loosest first: `in`, comparisons, `|`, `&`, `+ -`,
  // `* / %` (OPA's parseTermIn, parseTermRelation, parseTermOr, parseTermAnd, parseTermArith,
  // parseTermFactor: `s == a | b` compares s with the union); all left-associative. One loop
  // instead of a function per level: every operand went through six nested calls before (the
  // parser's largest share of calls).
  enum Level : int { kIn, kRel, kOr, kAnd, kArith, kFactor };
  TermP infix_in(bool no_bar) { return binary(kIn, no_bar); }
  TermP infix_relation(bool no_bar) { return binary(kRel, no_bar); }
  // Operators binding at least as tightly as `min`; `no_bar`: `|` ends the term (comprehensions).
  TermP binary(int min, bool no_bar) {
    auto lhs = primary();
    // An operator continues the expression across a line break, as in OPA, whose parser skips
    // newlines between a term and its operator (`y := {1}` then `| {2}` on the next line is one
    // set union): only a statement's start is sensitive to them.
    while (true) {
      int level;
      const char* op;
      if (!infix_op(level, op) || (no_bar && cur().t == Tok::Bar)) return lhs;
      if (level < min) break;
      Token t = advance();
      auto rhs = binary(level + 1, no_bar);
      // `in` is located at the keyword, the other operators at their left operand.
      lhs = call(op, {lhs, rhs}, level == kIn ? loc(t) : lhs->loc);
    }
    return lhs;
  }

  // The binary operator at the current token: its precedence level and builtin, or false.
  bool infix_op(int& level, const char*& op) const {
    switch (cur().t) {
      case Tok::Star: level = kFactor, op = "mul"; return true;
      case Tok::Slash: level = kFactor, op = "div"; return true;
      case Tok::Percent: level = kFactor, op = "rem"; return true;
      case Tok::Plus: level = kArith, op = "plus"; return true;
      case Tok::Minus: level = kArith, op = "minus"; return true;
      case Tok::Eq: level = kRel, op = "equal"; return true;
      case Tok::Neq: level = kRel, op = "neq"; return true;
      case Tok::Lt: level = kRel, op = "lt"; return true;
      case Tok::Le: level = kRel, op = "lte"; return true;
      case Tok::Gt: level = kRel, op = "gt"; return true;
      case Tok::Ge: level = kRel, op = "gte"; return true;
      case Tok::Amp: level = kAnd, op = "and"; return true;
      case Tok::Bar: level = kOr, op = "or"; return true;
      case Tok::Ident:
        if (!is_kw(Word::In)) return false;
        level = kIn, op = "internal.member_2";
        return true;
      default: return false;
    }
  }

  // One string value per distinct text: field names and literals repeat all over a policy
  // (`p.OCI.Process`, `i.Extra.f0`), and values are immutable, so the terms share them.
  Value intern(std::string_view text) {
    auto [v, fresh] = interned_.try_emplace(text);
    if (fresh) *v = Value::string(std::string(text));
    return *v;
  }

  Value string_value(const Token& t) {
    std::string_view inner = t.text.substr(1, t.text.size() - 2);
    if (t.t == Tok::RawString) return intern(inner);
    // Without escapes or control characters the JSON decoding is the identity (bytes are copied
    // as they are, as parse_json does).
    if (std::all_of(inner.begin(), inner.end(),
                    [](char c) { return c != '\\' && static_cast<unsigned char>(c) >= 0x20; })) {
      return intern(inner);
    }
    auto v = parse_json(t.text);
    if (!v || !v->is_string()) error(t, "invalid string literal");
    return *v;
  }

  TermP primary() {
    const Token& t = cur();
    DepthGuard g(*this, t);
    TermP term;
    switch (t.t) {
      case Tok::Number:
        term = number(t, "");
        break;
      case Tok::Dot:  // `.5` (OPA ast/parser.go parseNumber)
        if (peek().t != Tok::Number) error(peek(), "expected number");
        advance();
        term = number(t, "0.");
        break;
      case Tok::Minus: {
        if (peek().t == Tok::Number) {  // `-1`, and `- 1` too, as OPA reads it (parseNumber)
          advance();
          term = number(t, "-");
        } else if (peek().t == Tok::Dot && peek(2).t == Tok::Number) {
          advance();
          advance();
          term = number(t, "-0.");
        } else {
          advance();
          auto operand = primary();
          term = call("minus", {scalar(Value::integer(0), t), operand}, loc(t));
        }
        break;
      }
      case Tok::String:
      case Tok::RawString:
        advance();
        term = scalar(string_value(t), t);
        break;
      case Tok::Template:
        advance();
        term = template_term(t);
        break;
      case Tok::Ident: {
        if (ref_follows() && t.word != Word::Set) {
          advance();
          term = mk(TermKind::Var, t);
          term->name.append(t.text);  // empty: cheaper than assign or a temporary
        } else if (t.word == Word::True || t.word == Word::False) {
          advance();
          term = scalar(Value::boolean(t.word == Word::True), t);
        } else if (t.word == Word::Null) {
          advance();
          term = scalar(Value::null(), t);
        } else if (t.word == Word::Set && peek().t == Tok::LParen && peek(2).t == Tok::RParen) {
          advance();
          advance();
          advance();
          term = mk(TermKind::Set, t);
        } else {
          if (keyword_on(t.word) || t.word == Word::Not || t.word == Word::With || t.word == Word::As ||
              t.word == Word::Some || t.word == Word::Default || t.word == Word::Else || t.word == Word::Import ||
              t.word == Word::Package) {
            error(t, "unexpected " + std::string(t.text) + " keyword");
          }
          advance();
          term = mk(TermKind::Var, t);
          term->name.append(t.text);  // empty: cheaper than assign or a temporary
          term->wildcard = t.word == Word::Underscore;
        }
        break;
      }
      case Tok::LBrack:
      case Tok::LBrace: term = bracket_term(t.t); break;
      case Tok::LParen: {
        advance();
        NlIgnore nl(*this, true);
        term = infix_in(false);
        if (cur().t == Tok::Comma && kw_[0]) {
          // (k, v in xs)
          advance();
          auto v = infix_relation(false);
          if (!is_kw(Word::In)) error(cur(), "unexpected token: expected in");
          advance();
          term = call("internal.member_3", {term, v, infix_relation(false)}, term->loc);
          while (is_kw(Word::In)) {
            Token it = advance();
            term = call("internal.member_2", {term, infix_relation(false)}, loc(it));
          }
        }
        expect(Tok::RParen, ")");
        break;
      }
      case Tok::Eof: error(t, "unexpected eof token");
      default: error(t, "unexpected " + std::string(t.text) + " token");
    }
    return postfix(term);
  }

  // The number literal at the current token, written after `prefix` ("-", "0." or "-0."); `at` is
  // where the term starts. OPA refuses a leading zero (`01`, `-007`) but not `0.5` or `0e5`.
  TermP number(const Token& at, std::string_view prefix) {
    const Token& n = advance();
    const std::string_view lit = n.text;
    if (prefix.empty() || prefix == "-") {
      if (lit.size() > 1 && lit[0] == '0' && lit[1] != '.' && lit[1] != 'e' && lit[1] != 'E') {
        error(n, "expected number without leading zero");
      }
    }
    auto v = prefix.empty() ? Value::number_from_literal(lit)
                            : Value::number_from_literal(std::string(prefix) + std::string(lit));
    if (!v) error(n, "invalid number");
    return scalar(std::move(*v), at);
  }

  // $"..." -> internal.template_string(parts...): literal parts are string scalars, the others
  // are the embedded expressions (undefined ones print as <undefined>).
  TermP template_term(const Token& t) {
    std::string_view body = t.text.substr(2, t.text.size() - 3);
    char q = t.text[1];
    TermList parts = term_list();
    std::string lit;
    auto flush = [&] {
      if (lit.empty()) return;
      if (q == '"') {
        auto v = parse_json("\"" + lit + "\"");
        if (!v) error(t, "invalid escape in template string");
        parts.push_back(scalar(*v, t));
      } else {
        parts.push_back(scalar(Value::string(lit), t));
      }
      lit.clear();
    };
    for (std::size_t i = 0; i < body.size();) {
      char c = body[i];
      if (c == '\\' && i + 1 < body.size() && body[i + 1] == '{') {
        lit.push_back('{');
        i += 2;
      } else if (c == '\\' && q == '"' && i + 1 < body.size()) {
        lit.push_back(c);
        lit.push_back(body[i + 1]);
        i += 2;
      } else if (c == '{') {
        flush();
        std::size_t close;
        std::string why;
        if (!skip_expr(body, i + 1, close, why)) error(t, why);
        Parser sub(file_, file_index_, body.substr(i + 1, close - i - 1), opts_);
        sub.start_ = position_in(t, 2 + i + 1);  // (body is the token's text after `$"`)
        std::copy(std::begin(kw_), std::end(kw_), std::begin(sub.kw_));
        sub.depth_ = depth_;
        auto e = sub.template_part();
        if (!e) error(t, "in template expression: " + e.error().message());
        parts.push_back(*e);
        i = close + 1;
      } else {
        lit.push_back(c);
        ++i;
      }
    }
    flush();
    auto c = call("internal.template_string", std::move(parts), loc(t));
    return c;
  }

  TermP postfix(TermP term) {
    while (true) {
      const Token& t = cur();
      if (t.t == Tok::Dot && !t.ws_before) {
        const Token& k = ref_key_after(advance());
        term = extend_ref(std::move(term), scalar(intern(k.text), k));
      } else if (t.t == Tok::LBrack && !t.ws_before && !separated()) {
        advance();
        NlIgnore nl(*this, true);
        auto key = infix_in(false);
        expect(Tok::RBrack, "]");
        term = extend_ref(std::move(term), key);
      } else if (t.t == Tok::LParen && !t.ws_before && (term->kind == TermKind::Var || term->kind == TermKind::Ref)) {
        std::string name;
        if (!ref_name(term, name)) error(t, "invalid call target");
        advance();
        TermList args = term_list();
        args.reserve(4);
        {
          NlIgnore nl(*this, true);
          while (cur().t != Tok::RParen) {
            args.push_back(infix_in(false));
            if (cur().t == Tok::Comma) advance();
            else if (cur().t != Tok::RParen) error(cur(), unexpected(cur()) + ": expected , or )");
          }
          advance();
        }
        auto c = call(name, std::move(args), term->loc);
        c->head = term;
        term = c;
      } else {
        return term;
      }
    }
  }

  static bool ref_name(const TermP& t, std::string& out) {
    if (t->kind == TermKind::Var) {
      out = t->name;
      return true;
    }
    if (t->items[0]->kind != TermKind::Var) return false;
    out = t->items[0]->name;
    for (std::size_t i = 1; i < t->items.size(); ++i) {
      const auto& p = t->items[i];
      if (p->kind != TermKind::Scalar || !p->value.is_string()) return false;
      out += "." + p->value.as_string();
    }
    return true;
  }

  TermP extend_ref(TermP term, TermP key) {
    if (term->kind == TermKind::Ref) {
      // `a.b.c.d` extends one reference per segment: when nothing else holds it, grow it in place
      // rather than copying the whole term (and its items) each time.
      if (term.use_count() == 1) {
        term->items.push_back(std::move(key));
        return term;
      }
      auto copy = node<Term>(*term);
      copy->items.push_back(std::move(key));
      return copy;
    }
    auto r = node<Term>();
    r->kind = TermKind::Ref;
    r->loc = term->loc;
    r->items.reserve(4);  // references are mostly short paths: one allocation, not three
    r->items.push_back(std::move(term));
    r->items.push_back(std::move(key));
    return r;
  }

  // `[`, `{`: literal or comprehension, decided as OPA's parser does (parseArray,
  // parseSetOrObject): only a single term (no operator) directly before `|` opens a
  // comprehension, so `[x - {10} | y]` is an array of one set union; if that comprehension's
  // body stops at a comma, the whole is read again as a list (`[x | y, 5]`). A leading comma
  // (`[, x]`, accepted by OPA for backwards compatibility) rules comprehensions out.
  TermP array_or_compr() {
    const Token& t = advance();
    NlIgnore nl(*this, true);
    if (cur().t == Tok::RBrack) {
      advance();
      return mk(TermKind::Array, t);
    }
    const bool may_compr = !skip_comma();
    const std::size_t save = pos_;
    auto head = primary();
    if (cur().t == Tok::Bar && may_compr) {
      if (auto c = compr_after_bar(t, head, TermKind::ArrayCompr, Tok::RBrack, save)) return c;
    }
    auto arr = mk(TermKind::Array, t);
    if (pos_ != save && (cur().t == Tok::RBrack || cur().t == Tok::Comma)) {
      arr->items.push_back(std::move(head));
      if (skip_comma()) term_items(arr->items, Tok::RBrack, "]");
      else advance();
      return arr;
    }
    pos_ = save;  // an operator (or a `|` that opened no comprehension) follows the first term
    term_items(arr->items, Tok::RBrack, "]");
    return arr;
  }

  // At the `|` after a bracket's single first term: the comprehension of `kind` with that head,
  // or nullptr with the position back at `save` when its body stops at a comma (the caller then
  // reads the brackets as a list).
  TermP compr_after_bar(const Token& open, TermP& head, TermKind kind, Tok close, std::size_t save) {
    advance();
    auto body = try_compr_body(close);
    if (!body) {
      pos_ = save;
      return nullptr;
    }
    auto c = mk(kind, open);
    c->head = std::move(head);
    c->body = std::move(body);
    return c;
  }

  // Skips a comma; whether there was one (also the leading one OPA tolerates: `[, x]`, `{, x}`).
  bool skip_comma() {
    if (cur().t != Tok::Comma) return false;
    advance();
    return true;
  }

  // Items up to `close`: `a, b,` (a trailing comma is fine), each a full expression.
  void term_items(TermList& items, Tok close, const char* close_text) {
    while (cur().t != close) {
      items.push_back(infix_in(false));
      if (cur().t != Tok::Comma) break;
      advance();
    }
    expect(close, close_text);
  }

  // A comprehension body up to `close`; nullptr, with the position left where the body stopped,
  // when it stops at a comma and the caller should read its brackets as a list instead (OPA:
  // parseBody failed and `p.s.tok == tokens.Comma`). Other errors are errors.
  std::shared_ptr<Body> try_compr_body(Tok close) {
    Speculation spec(*this);
    try {
      return compr_body(close);
    } catch (const ParseFail&) {
      if (cur().t != Tok::Comma) throw;
      return nullptr;
    }
  }

  // A bracketed term at the current `[` or `{`. A reading that is abandoned (a comprehension body
  // that stops at a comma, a literal after `if`, `k, v in` without `in`) is followed by another of
  // the same tokens, which parses the brackets inside again; nested, that doubled the work at every
  // level (22 nested `[x | ... , 5]` took 71 s). What a speculative reading parsed is kept by
  // position and taken back as it was, as OPA's parser keeps its parsed terms (parsedTermCache):
  // a bracket's term does not depend on where it is read from.
  // A failure is kept the same way: abandoning a reading on an error inside nested brackets
  // would otherwise parse them again at every level before the error surfaces.
  TermP bracket_term(Tok open) {
    const std::size_t at = pos_;
    if (!bracket_memo_.empty()) {
      if (auto it = bracket_memo_.find(at); it != bracket_memo_.end()) {
        if (it->second.failed) throw *it->second.failed;
        pos_ = it->second.end;
        return it->second.term;
      }
    }
    TermP term;
    try {
      term = open == Tok::LBrack ? array_or_compr() : brace_term();
    } catch (const ParseFail& f) {
      if (speculating_ > 0) bracket_memo_.emplace(at, Parsed{nullptr, 0, std::make_shared<ParseFail>(f)});
      throw;
    }
    if (speculating_ > 0) bracket_memo_.emplace(at, Parsed{term, pos_, nullptr});
    return term;
  }

  // Marks a reading that may be abandoned for another (see bracket_term).
  struct Speculation {
    Parser& p;
    explicit Speculation(Parser& pp) : p(pp) { ++p.speculating_; }
    ~Speculation() { --p.speculating_; }
  };

  std::shared_ptr<Body> compr_body(Tok close) {
    auto b = node<Body>();
    b->loc = loc(cur());
    NlIgnore nl(*this, false);
    while (cur().t != close) {
      if (cur().t == Tok::Eof) error(cur(), "unexpected eof token");
      b->exprs.push_back(literal());
      if (cur().t == Tok::Semi) advance();
      else if (cur().t != close && !cur().nl_before) error(cur(), "unexpected token in comprehension body");
    }
    advance();
    if (b->exprs.empty()) error(cur(), "empty comprehension body");
    return b;
  }

  TermP brace_term() {
    const Token& t = advance();
    NlIgnore nl(*this, true);
    if (cur().t == Tok::RBrace) {
      advance();
      return mk(TermKind::Object, t);
    }
    const bool may_compr = !skip_comma();
    const std::size_t save = pos_;
    auto head = primary();
    const Tok after = cur().t;
    if (after == Tok::Colon) return object_rest(t, std::move(head), may_compr);
    if (after == Tok::Bar && may_compr) {
      if (auto c = compr_after_bar(t, head, TermKind::SetCompr, Tok::RBrace, save)) return c;
      auto set = mk(TermKind::Set, t);
      term_items(set->items, Tok::RBrace, "}");
      return set;
    }
    // Not a single term before `|` or `:`: read the first item as a full expression (a key may be
    // computed: `{a + 1: b | ...}` is still an object comprehension).
    pos_ = save;
    head = infix_in(false);
    if (cur().t == Tok::Colon) return object_rest(t, std::move(head), may_compr);
    auto set = mk(TermKind::Set, t);
    set->items.push_back(std::move(head));
    if (cur().t == Tok::Comma) {
      advance();
      term_items(set->items, Tok::RBrace, "}");
    } else {
      expect(Tok::RBrace, "}");
    }
    return set;
  }

  // An object (or object comprehension) after its first key and at its `:` (OPA parseObject):
  // the value is read as a single term first, which a `|` makes a comprehension's if a body
  // follows; otherwise as a full expression, which may contain `|` (set union).
  TermP object_rest(const Token& open, TermP key, bool may_compr) {
    advance();  // `:`
    const std::size_t save = pos_;
    auto val = primary();
    if (may_compr && cur().t == Tok::Bar) {
      advance();
      try {
        Speculation spec(*this);
        auto body = compr_body(Tok::RBrace);
        auto c = mk(TermKind::ObjectCompr, open);
        c->head = std::move(key);
        c->head2 = std::move(val);
        c->body = std::move(body);
        return c;
      } catch (const ParseFail&) {
        pos_ = save;  // not a comprehension's body: `|` is set union in the value (OPA parseObject)
        val = infix_in(false);
      }
    } else if (cur().t != Tok::RBrace && cur().t != Tok::Comma) {
      pos_ = save;
      val = infix_in(false);
    }
    auto obj = mk(TermKind::Object, open);
    obj->items.push_back(std::move(key));
    obj->items.push_back(std::move(val));
    while (cur().t == Tok::Comma) {
      advance();
      if (cur().t == Tok::RBrace) break;
      obj->items.push_back(infix_in(false));
      expect(Tok::Colon, ":");
      obj->items.push_back(infix_in(false));
    }
    expect(Tok::RBrace, "}");
    return obj;
  }

  std::string_view file_;
  std::uint32_t file_index_;
  std::string_view text_;
  ParseOptions opts_;
  Loc start_{0, 1, 1};  // where text_ starts in the file (line, col): 1:1 but for template expressions
  std::vector<Token> toks_;
  NameTable<Value> interned_;  // views into text_
  std::size_t pos_ = 0;
  std::size_t eof_ = 0;  // index of the Eof token, where the parser stays
  bool kw_[4] = {false, false, false, false};
  bool v1_ = true;
  int nl_ignore_ = 0;
  int speculating_ = 0;  // readings under way that may be abandoned (Speculation)
  struct Parsed {  // a bracketed term parsed while speculating (bracket_term)
    TermP term;
    std::size_t end;                    // token index after it
    std::shared_ptr<ParseFail> failed;  // or the error it gave
  };
  std::unordered_map<std::size_t, Parsed> bracket_memo_;  // by the token index of its `[` or `{`
  std::size_t depth_ = 0;
};

}  // namespace

Result<Module> parse_module(std::string_view file, std::uint32_t file_index, std::string_view text,
                            const ParseOptions& opts) {
  return Parser(file, file_index, text, opts).module();
}

Result<std::shared_ptr<Body>> parse_query(std::string_view file, std::uint32_t file_index, std::string_view text,
                                          const ParseOptions& opts) {
  return Parser(file, file_index, text, opts).query();
}

Result<TermP> parse_term(std::string_view text, const ParseOptions& opts) {
  return Parser("input_term", 0, text, opts).single_term();
}

}  // namespace cloister::rego
