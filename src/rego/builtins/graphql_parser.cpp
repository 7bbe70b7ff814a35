// GraphQL lexer and recursive-descent parser (GraphQL spec, October 2021, sections 2 and 3) for
// executable documents and SDL. Error texts and positions follow vektah/gqlparser, the parser OPA
// uses, because policies and OPA's conformance cases see them: "Expected Name, found <EOF>",
// "Unexpected Name \"x\"", "expected at least one definition, found }".
#include <cstdio>

#include "builtins/graphql_ast.h"
#include "builtins/text.h"

namespace cloister::rego::builtins::graphql {

std::string Type::str() const {
  std::string s = elem ? "[" + elem->str() + "]" : named;
  if (non_null) s += "!";
  return s;
}

namespace {

enum class Tok {
  Invalid, Eof, Bang, Dollar, Amp, ParenL, ParenR, Spread, Colon, Equals, At, BracketL, BracketR,
  BraceL, BraceR, Pipe, Name, Int, Float, String, BlockString
};

const char* tok_name(Tok k) {
  switch (k) {
    case Tok::Invalid: return "<Invalid>";
    case Tok::Eof: return "<EOF>";
    case Tok::Bang: return "!";
    case Tok::Dollar: return "$";
    case Tok::Amp: return "&";
    case Tok::ParenL: return "(";
    case Tok::ParenR: return ")";
    case Tok::Spread: return "...";
    case Tok::Colon: return ":";
    case Tok::Equals: return "=";
    case Tok::At: return "@";
    case Tok::BracketL: return "[";
    case Tok::BracketR: return "]";
    case Tok::BraceL: return "{";
    case Tok::BraceR: return "}";
    case Tok::Pipe: return "|";
    case Tok::Name: return "Name";
    case Tok::Int: return "Int";
    case Tok::Float: return "Float";
    case Tok::String: return "String";
    case Tok::BlockString: return "BlockString";
  }
  return "<Invalid>";
}

struct Token {
  Tok kind = Tok::Invalid;
  std::string value;
  Pos pos;
  std::string error;  // lexer message for Invalid tokens

  std::string str() const {
    if (!value.empty()) return std::string(tok_name(kind)) + " " + text::go_quote(value);
    return tok_name(kind);
  }
};

bool is_name_start(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Spec 3.2 BlockStringValue: common indentation of all but the first line removed, leading and
// trailing blank lines dropped, lines joined with "\n".
std::string block_string_value(std::string_view raw) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' || raw[i] == '\r') {
      lines.push_back(raw.substr(start, i - start));
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  lines.push_back(raw.substr(start));
  auto indent_of = [](std::string_view l) {
    std::size_t n = 0;
    while (n < l.size() && (l[n] == ' ' || l[n] == '\t')) ++n;
    return n;
  };
  std::optional<std::size_t> common;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::size_t ind = indent_of(lines[i]);
    if (ind < lines[i].size() && (!common || ind < *common)) common = ind;
  }
  if (common) {
    for (std::size_t i = 1; i < lines.size(); ++i)
      lines[i] = lines[i].size() < *common ? std::string_view() : lines[i].substr(*common);
  }
  auto blank = [&](std::string_view l) { return indent_of(l) == l.size(); };
  std::size_t first = 0, last = lines.size();
  while (first < last && blank(lines[first])) ++first;
  while (last > first && blank(lines[last - 1])) --last;
  std::string out;
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += '\n';
    out.append(lines[i]);
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  Token next() {
    skip_ignored();
    start_pos_ = here();
    if (i_ >= s_.size()) return make(Tok::Eof);
    char c = s_[i_];
    switch (c) {
      case '!': return punct(Tok::Bang);
      case '$': return punct(Tok::Dollar);
      case '&': return punct(Tok::Amp);
      case '(': return punct(Tok::ParenL);
      case ')': return punct(Tok::ParenR);
      case ':': return punct(Tok::Colon);
      case '=': return punct(Tok::Equals);
      case '@': return punct(Tok::At);
      case '[': return punct(Tok::BracketL);
      case ']': return punct(Tok::BracketR);
      case '{': return punct(Tok::BraceL);
      case '}': return punct(Tok::BraceR);
      case '|': return punct(Tok::Pipe);
      case '.':
        if (s_.substr(i_, 3) == "...") {
          advance(3);
          return make(Tok::Spread);
        }
        return error("Cannot parse the unexpected character \".\".");
      case '"':
        if (s_.substr(i_, 3) == "\"\"\"") return block_string();
        return string();
      default: break;
    }
    if (is_name_start(c)) {
      std::size_t b = i_;
      while (i_ < s_.size() && (is_name_start(s_[i_]) || is_digit(s_[i_]))) advance(1);
      return make(Tok::Name, std::string(s_.substr(b, i_ - b)));
    }
    if (c == '-' || is_digit(c)) return number();
    auto d = text::decode_rune(s_, i_);
    return error("Cannot parse the unexpected character " + text::go_quote(s_.substr(i_, d.width)) + ".");
  }

 private:
  Pos here() const { return {line_, static_cast<int>(runes_ - line_start_) + 1}; }

  void advance(std::size_t n) {
    for (std::size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_)
      if ((static_cast<unsigned char>(s_[i_]) & 0xC0) != 0x80) ++runes_;
  }
  void newline() {
    ++line_;
    line_start_ = runes_;
  }
  // Consumes a line terminator at i_ (\n, \r\n or \r).
  void line_terminator() {
    if (s_[i_] == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') advance(1);
    advance(1);
    newline();
  }

  void skip_ignored() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == ',') {
        advance(1);
      } else if (c == '\n' || c == '\r') {
        line_terminator();
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') advance(1);
      } else if (s_.substr(i_, 3) == "\xEF\xBB\xBF") {  // byte order mark
        advance(3);
      } else {
        break;
      }
    }
  }

  Token make(Tok k, std::string value = {}) { return Token{k, std::move(value), start_pos_, {}}; }
  Token punct(Tok k) {
    advance(1);
    return make(k);
  }
  // gqlparser places lexer errors at the scan position, not at the token start.
  Token error(std::string msg) { return Token{Tok::Invalid, {}, here(), std::move(msg)}; }

  std::string describe_char() const {
    if (i_ >= s_.size()) return "<EOF>";
    auto d = text::decode_rune(s_, i_);
    return text::go_quote(s_.substr(i_, d.width));
  }

  Token number() {
    std::size_t b = i_;
    bool is_float = false;
    if (s_[i_] == '-') advance(1);
    if (i_ < s_.size() && s_[i_] == '0') {
      advance(1);
      if (i_ < s_.size() && is_digit(s_[i_]))
        return error("Invalid number, unexpected digit after 0: " + describe_char() + ".");
    } else if (!digits()) {
      return error("Invalid number, expected digit but got: " + describe_char() + ".");
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      is_float = true;
      advance(1);
      if (!digits()) return error("Invalid number, expected digit but got: " + describe_char() + ".");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      is_float = true;
      advance(1);
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) advance(1);
      if (!digits()) return error("Invalid number, expected digit but got: " + describe_char() + ".");
    }
    // Spec 2.9: a number may not be directly followed by a name start or '.'.
    if (i_ < s_.size() && (is_name_start(s_[i_]) || s_[i_] == '.'))
      return error("Invalid number, expected digit but got: " + describe_char() + ".");
    return make(is_float ? Tok::Float : Tok::Int, std::string(s_.substr(b, i_ - b)));
  }
  bool digits() {
    if (i_ >= s_.size() || !is_digit(s_[i_])) return false;
    while (i_ < s_.size() && is_digit(s_[i_])) advance(1);
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // gqlparser positions string tokens after their opening quotes; policies see those columns.
  Token string() {
    advance(1);
    start_pos_.column += 1;
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '"') {
        advance(1);
        return make(Tok::String, std::move(out));
      }
      if (c == '\n' || c == '\r') break;
      auto uc = static_cast<unsigned char>(c);
      if (uc < 0x20 && c != '\t') return error("Invalid character within String: " + describe_char() + ".");
      if (c != '\\') {
        auto d = text::decode_rune(s_, i_);
        out.append(s_.substr(i_, d.width));
        advance(d.width);
        continue;
      }
      if (i_ + 1 >= s_.size()) break;
      char e = s_[i_ + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          char32_t cp = 0;
          for (std::size_t k = 0; k < 4; ++k) {
            int h = i_ + 2 + k < s_.size() ? hex(s_[i_ + 2 + k]) : -1;
            if (h < 0) {
              advance(1);
              return error("Invalid character escape sequence: \\" +
                           std::string(s_.substr(i_, std::min<std::size_t>(5, s_.size() - i_))) + ".");
            }
            cp = cp * 16 + static_cast<char32_t>(h);
          }
          text::append_rune(out, cp);
          advance(6);
          continue;
        }
        default:
          advance(1);
          return error("Invalid character escape sequence: \\" + std::string(1, e) + ".");
      }
      advance(2);
    }
    return error("Unterminated string.");
  }

  Token block_string() {
    advance(3);
    start_pos_.column += 3;
    std::string raw;
    while (i_ < s_.size()) {
      if (s_.substr(i_, 3) == "\"\"\"") {
        advance(3);
        return make(Tok::BlockString, block_string_value(raw));
      }
      if (s_.substr(i_, 4) == "\\\"\"\"") {
        raw += "\"\"\"";
        advance(4);
        continue;
      }
      char c = s_[i_];
      if (c == '\n' || c == '\r') {
        bool crlf = c == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n';
        raw.append(crlf ? "\r\n" : std::string(1, c));
        line_terminator();
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        return error("Invalid character within String: " + describe_char() + ".");
      raw += c;
      advance(1);
    }
    return error("Unterminated string.");
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::size_t runes_ = 0;
  std::size_t line_start_ = 0;
  int line_ = 1;
  Pos start_pos_;
};

// gqlparser's parser shape: the first error wins and parsing unwinds by checking `failed()`.
class Parser {
 public:
  explicit Parser(std::string_view src) : lex_(src) {}

  GResult<QueryDocument> query_document() {
    QueryDocument doc;
    while (peek().kind != Tok::Eof && !failed()) {
      const Token& t = peek();
      if (t.kind == Tok::BraceL) {
        doc.operations.push_back(operation());
      } else if (t.kind == Tok::Name) {
        if (t.value == "query" || t.value == "mutation" || t.value == "subscription") {
          doc.operations.push_back(operation());
        } else if (t.value == "fragment") {
          doc.fragments.push_back(fragment());
        } else {
          unexpected(peek());
        }
      } else {
        unexpected(peek());
      }
    }
    if (err_) return tl::unexpected(*err_);
    return doc;
  }

  GResult<SchemaDocument> schema_document() {
    SchemaDocument doc;
    while (peek().kind != Tok::Eof && !failed()) {
      std::optional<Token> desc = description();
      const Token t = peek();
      if (t.kind != Tok::Name) {
        unexpected(t);
        break;
      }
      std::string d = desc ? desc->value : std::string();
      if (t.value == "schema") {
        doc.schema.push_back(schema_definition(d));
      } else if (t.value == "directive") {
        doc.directives.push_back(directive_definition(d));
      } else if (t.value == "extend") {
        if (desc) {
          unexpected(*desc);
          break;
        }
        type_system_extension(doc);
      } else {
        doc.definitions.push_back(type_definition(d));
      }
    }
    if (err_) return tl::unexpected(*err_);
    return doc;
  }

 private:
  bool failed() const { return err_.has_value(); }

  const Token& peek() {
    if (!peeked_) {
      peek_tok_ = lex_.next();
      peeked_ = true;
    }
    return peek_tok_;
  }
  // The returned reference stays valid until the next call (tokens are moved, not copied).
  const Token& next() {
    if (failed()) return prev_;
    peek();
    peeked_ = false;
    prev_ = std::move(peek_tok_);
    if (prev_.kind == Tok::Invalid) error(prev_.pos, prev_.error);
    return prev_;
  }
  bool skip(Tok k) {
    if (failed() || peek().kind != k) return false;
    next();
    return true;
  }
  void error(Pos p, std::string msg) {
    if (!err_) err_ = Error{std::move(msg), p};
  }
  void unexpected(const Token& t) { error(t.pos, "Unexpected " + t.str()); }
  const Token& expect(Tok k) {
    const Token& t = peek();
    if (t.kind == k) return next();
    error(t.pos, std::string("Expected ") + tok_name(k) + ", found " + tok_name(t.kind));
    return t;
  }
  const Token& expect_keyword(std::string_view kw) {
    const Token& t = peek();
    if (t.kind == Tok::Name && t.value == kw) return next();
    error(t.pos, "Expected " + text::go_quote(kw) + ", found " + t.str());
    return t;
  }
  std::string name() { return expect(Tok::Name).value; }

  // Bounded recursion: every recursive production enters a DepthGuard.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.error(p.peek().pos, "document nesting exceeds " + std::to_string(kMaxDepth) + " levels");
    }
    ~DepthGuard() { --p.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
  };

  // `start item+ end` (gqlparser "some"): absent start is fine, an empty list is an error.
  template <typename F>
  void some(Tok start, Tok end, F item) {
    if (!skip(start)) return;
    bool called = false;
    while (!failed() && peek().kind != end) {
      called = true;
      item();
    }
    if (failed()) return;
    if (!called) {
      error(peek().pos, std::string("expected at least one definition, found ") + tok_name(peek().kind));
      return;
    }
    next();
  }
  // `start item* end` (gqlparser "many").
  template <typename F>
  void many(Tok start, Tok end, F item) {
    if (!skip(start)) return;
    while (!failed() && peek().kind != end) item();
    if (!failed()) next();
  }

  // ---- executable definitions ----

  Operation operation() {
    Operation op;
    op.pos = peek().pos;
    if (peek().kind == Tok::BraceL) {
      op.operation = "query";
      op.selections = selection_set();
      return op;
    }
    op.operation = operation_type();
    if (peek().kind == Tok::Name) op.name = next().value;
    op.variables = variable_definitions();
    op.directives = directives(false);
    op.selections = selection_set();
    return op;
  }

  std::string operation_type() {
    const Token& t = expect(Tok::Name);
    if (t.value == "query" || t.value == "mutation" || t.value == "subscription") return t.value;
    if (!failed()) unexpected(t);
    return {};
  }

  std::vector<VariableDefinition> variable_definitions() {
    std::vector<VariableDefinition> out;
    some(Tok::ParenL, Tok::ParenR, [&] {
      VariableDefinition v;
      v.pos = peek().pos;
      expect(Tok::Dollar);
      v.variable = name();
      expect(Tok::Colon);
      v.type = type_reference();
      if (skip(Tok::Equals)) v.default_value = value_literal(true);
      v.directives = directives(true);
      out.push_back(std::move(v));
    });
    return out;
  }

  Fragment fragment() {
    Fragment f;
    f.pos = peek().pos;
    expect_keyword("fragment");
    if (peek().kind == Tok::Name && peek().value == "on") unexpected(peek());
    f.name = name();
    if (peek().kind == Tok::ParenL) f.variables = variable_definitions();
    expect_keyword("on");
    f.type_condition = name();
    f.directives = directives(false);
    f.selections = selection_set();
    return f;
  }

  std::vector<Selection> selection_set() {
    std::vector<Selection> out;
    if (failed()) return out;
    if (peek().kind != Tok::BraceL) {
      error(peek().pos, std::string("Expected {, found ") + tok_name(peek().kind));
      return out;
    }
    DepthGuard g(*this);
    some(Tok::BraceL, Tok::BraceR, [&] { out.push_back(selection()); });
    return out;
  }

  Selection selection() {
    Selection s;
    s.pos = peek().pos;
    if (peek().kind == Tok::Spread) {
      next();
      if (peek().kind == Tok::Name && peek().value != "on") {
        s.kind = Selection::Kind::FragmentSpread;
        s.name = name();
        s.directives = directives(false);
        return s;
      }
      s.kind = Selection::Kind::InlineFragment;
      if (peek().kind == Tok::Name && peek().value == "on") {
        next();
        s.type_condition = name();
      }
      s.directives = directives(false);
      s.selections = selection_set();
      return s;
    }
    s.kind = Selection::Kind::Field;
    s.alias = name();
    if (skip(Tok::Colon)) {
      s.name = name();
    } else {
      s.name = s.alias;
    }
    s.arguments = arguments(false);
    s.directives = directives(false);
    if (peek().kind == Tok::BraceL) s.selections = selection_set();
    return s;
  }

  std::vector<Argument> arguments(bool is_const) {
    std::vector<Argument> out;
    some(Tok::ParenL, Tok::ParenR, [&] {
      Argument a;
      a.pos = peek().pos;
      a.name = name();
      expect(Tok::Colon);
      a.value = value_literal(is_const);
      out.push_back(std::move(a));
    });
    return out;
  }

  std::vector<Directive> directives(bool is_const) {
    std::vector<Directive> out;
    while (!failed() && peek().kind == Tok::At) {
      Directive d;
      d.pos = peek().pos;
      next();
      d.name = name();
      d.arguments = arguments(is_const);
      out.push_back(std::move(d));
    }
    return out;
  }

  Value value_literal(bool is_const) {
    Value v;
    const Token t = peek();
    v.pos = t.pos;
    DepthGuard g(*this);
    if (failed()) return v;
    switch (t.kind) {
      case Tok::BracketL:
        v.kind = ValueKind::List;
        many(Tok::BracketL, Tok::BracketR, [&] {
          ChildValue c;
          c.pos = peek().pos;
          c.value = value_literal(is_const);
          v.children.push_back(std::move(c));
        });
        return v;
      case Tok::BraceL:
        v.kind = ValueKind::Object;
        many(Tok::BraceL, Tok::BraceR, [&] {
          ChildValue c;
          c.pos = peek().pos;
          c.name = name();
          expect(Tok::Colon);
          c.value = value_literal(is_const);
          v.children.push_back(std::move(c));
        });
        return v;
      case Tok::Dollar:
        if (is_const) {
          unexpected(t);
          return v;
        }
        next();
        v.kind = ValueKind::Variable;
        v.raw = name();
        return v;
      case Tok::Int: v.kind = ValueKind::Int; break;
      case Tok::Float: v.kind = ValueKind::Float; break;
      case Tok::String: v.kind = ValueKind::String; break;
      case Tok::BlockString: v.kind = ValueKind::Block; break;
      case Tok::Name:
        v.kind = t.value == "true" || t.value == "false" ? ValueKind::Boolean
                 : t.value == "null"                     ? ValueKind::Null
                                                         : ValueKind::Enum;
        break;
      default:
        unexpected(t);
        return v;
    }
    v.raw = next().value;
    return v;
  }

  Type type_reference() {
    Type ty;
    ty.pos = peek().pos;
    DepthGuard g(*this);
    if (failed()) return ty;
    if (skip(Tok::BracketL)) {
      ty.elem = std::make_shared<Type>(type_reference());
      expect(Tok::BracketR);
    } else {
      ty.named = name();
    }
    if (skip(Tok::Bang)) ty.non_null = true;
    return ty;
  }

  // ---- type system definitions ----

  std::optional<Token> description() {
    if (peek().kind == Tok::String || peek().kind == Tok::BlockString) return next();
    return std::nullopt;
  }

  SchemaDefinition schema_definition(std::string desc) {
    SchemaDefinition s;
    s.pos = peek().pos;
    s.description = std::move(desc);
    expect_keyword("schema");
    s.directives = directives(true);
    if (peek().kind != Tok::BraceL && !failed()) {
      error(peek().pos, std::string("Expected {, found ") + tok_name(peek().kind));
      return s;
    }
    some(Tok::BraceL, Tok::BraceR, [&] { s.operation_types.push_back(operation_type_definition()); });
    return s;
  }

  OperationTypeDefinition operation_type_definition() {
    OperationTypeDefinition o;
    o.pos = peek().pos;
    o.operation = operation_type();
    expect(Tok::Colon);
    o.type = name();
    return o;
  }

  Definition type_definition(std::string desc) {
    Definition d;
    d.pos = peek().pos;
    d.description = std::move(desc);
    const Token& t = peek();
    if (t.value == "scalar") {
      d.kind = "SCALAR";
      next();
      d.name = name();
      d.directives = directives(true);
    } else if (t.value == "type" || t.value == "interface") {
      d.kind = t.value == "type" ? "OBJECT" : "INTERFACE";
      next();
      d.name = name();
      d.interfaces = implements_interfaces();
      d.directives = directives(true);
      d.fields = fields_definition();
    } else if (t.value == "union") {
      d.kind = "UNION";
      next();
      d.name = name();
      d.directives = directives(true);
      d.types = union_member_types();
    } else if (t.value == "enum") {
      d.kind = "ENUM";
      next();
      d.name = name();
      d.directives = directives(true);
      d.enum_values = enum_values();
    } else if (t.value == "input") {
      d.kind = "INPUT_OBJECT";
      next();
      d.name = name();
      d.directives = directives(true);
      d.fields = input_fields();
    } else {
      unexpected(t);
    }
    return d;
  }

  void type_system_extension(SchemaDocument& doc) {
    expect_keyword("extend");
    const Token t = peek();
    if (t.kind != Tok::Name) {
      unexpected(t);
      return;
    }
    if (t.value == "schema") {
      SchemaDefinition s;
      s.pos = t.pos;
      next();
      s.directives = directives(true);
      some(Tok::BraceL, Tok::BraceR, [&] { s.operation_types.push_back(operation_type_definition()); });
      if (s.directives.empty() && s.operation_types.empty()) unexpected(peek());
      doc.schema_extension.push_back(std::move(s));
      return;
    }
    if (t.value != "scalar" && t.value != "type" && t.value != "interface" && t.value != "union" &&
        t.value != "enum" && t.value != "input") {
      unexpected(t);
      return;
    }
    Definition d = type_definition("");
    bool empty = d.directives.empty() && d.interfaces.empty() && d.fields.empty() && d.types.empty() &&
                 d.enum_values.empty();
    // A scalar extension needs directives; the others need at least one added part.
    if (empty) unexpected(peek());
    doc.extensions.push_back(std::move(d));
  }

  std::vector<std::string> implements_interfaces() {
    std::vector<std::string> out;
    if (failed() || peek().kind != Tok::Name || peek().value != "implements") return out;
    next();
    skip(Tok::Amp);
    do {
      out.push_back(name());
    } while (!failed() && skip(Tok::Amp));
    return out;
  }

  std::vector<FieldDefinition> fields_definition() {
    std::vector<FieldDefinition> out;
    some(Tok::BraceL, Tok::BraceR, [&] {
      FieldDefinition f;
      if (auto d = description()) f.description = d->value;
      f.pos = peek().pos;
      f.name = name();
      f.arguments = argument_definitions();
      expect(Tok::Colon);
      f.type = type_reference();
      f.directives = directives(true);
      out.push_back(std::move(f));
    });
    return out;
  }

  std::vector<FieldDefinition> argument_definitions() {
    std::vector<FieldDefinition> out;
    some(Tok::ParenL, Tok::ParenR, [&] { out.push_back(input_value_definition()); });
    return out;
  }
  std::vector<FieldDefinition> input_fields() {
    std::vector<FieldDefinition> out;
    some(Tok::BraceL, Tok::BraceR, [&] { out.push_back(input_value_definition()); });
    return out;
  }

  FieldDefinition input_value_definition() {
    FieldDefinition f;
    if (auto d = description()) f.description = d->value;
    f.pos = peek().pos;
    f.name = name();
    expect(Tok::Colon);
    f.type = type_reference();
    if (skip(Tok::Equals)) f.default_value = value_literal(true);
    f.directives = directives(true);
    return f;
  }

  std::vector<std::string> union_member_types() {
    std::vector<std::string> out;
    if (!skip(Tok::Equals)) return out;
    skip(Tok::Pipe);
    do {
      out.push_back(name());
    } while (!failed() && skip(Tok::Pipe));
    return out;
  }

  std::vector<EnumValueDefinition> enum_values() {
    std::vector<EnumValueDefinition> out;
    some(Tok::BraceL, Tok::BraceR, [&] {
      EnumValueDefinition e;
      if (auto d = description()) e.description = d->value;
      e.pos = peek().pos;
      const Token t = peek();
      e.name = name();
      // Spec 3.9: true, false and null would be ambiguous with the literals.
      if (!failed() && (e.name == "true" || e.name == "false" || e.name == "null"))
        error(t.pos, e.name + " is reserved and cannot be used for an enum value");
      e.directives = directives(true);
      out.push_back(std::move(e));
    });
    return out;
  }

  DirectiveDefinition directive_definition(std::string desc) {
    DirectiveDefinition d;
    d.pos = peek().pos;
    d.description = std::move(desc);
    expect_keyword("directive");
    expect(Tok::At);
    d.name = name();
    d.arguments = argument_definitions();
    if (!failed() && peek().kind == Tok::Name && peek().value == "repeatable") {
      next();
      d.repeatable = true;
    }
    expect_keyword("on");
    skip(Tok::Pipe);
    do {
      const Token& t = expect(Tok::Name);
      if (failed()) break;
      static constexpr std::string_view kLocations[] = {
          "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
          "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT", "FIELD_DEFINITION",
          "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE", "INPUT_OBJECT",
          "INPUT_FIELD_DEFINITION"};
      bool known = false;
      for (auto l : kLocations) known = known || t.value == l;
      if (!known) {
        unexpected(t);
        break;
      }
      d.locations.push_back(t.value);
    } while (skip(Tok::Pipe));
    return d;
  }

  Lexer lex_;
  Token peek_tok_;
  Token prev_;
  bool peeked_ = false;
  int depth_ = 0;
  std::optional<Error> err_;
};

std::optional<Error> check_size(std::string_view source) {
  if (source.size() > kMaxSourceBytes)
    return Error{"document exceeds " + std::to_string(kMaxSourceBytes) + " bytes", Pos{1, 1}};
  return std::nullopt;
}

}  // namespace

GResult<QueryDocument> parse_query(std::string_view source) {
  if (auto e = check_size(source)) return tl::unexpected(*e);
  return Parser(source).query_document();
}

GResult<SchemaDocument> parse_schema(std::string_view source) {
  if (auto e = check_size(source)) return tl::unexpected(*e);
  return Parser(source).schema_document();
}

}  // namespace cloister::rego::builtins::graphql
