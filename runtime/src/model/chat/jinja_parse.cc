// Parsing of the chat-template Jinja subset (model/chat/jinja.h): a recursive-descent parser
// over the lexer's segments (model/chat/jinja_lex.h).
#include <set>

#include "model/chat/jinja_ast.h"
#include "model/chat/jinja_lex.h"

namespace edgeformer {
namespace jinja {
namespace {

constexpr int kMaxNesting = 200;

class Parser {
 public:
  explicit Parser(std::vector<Segment> segments) : segments_(std::move(segments)) {}

  Result<std::unique_ptr<Node>> ParseAll() {
    auto root = std::make_unique<Node>();
    std::string end;
    EF_RETURN_IF_ERROR(ParseBody(root.get(), {}, &end, 0));
    return root;
  }

 private:
  // Statements into `block` until a statement named in `ends` (its name in *end; the segment
  // then current is that statement's) or the end of the template (only when ends is empty).
  Error ParseBody(Node* block, const std::set<std::string>& ends, std::string* end, int depth) {
    if (depth > kMaxNesting) return TemplateError(Line(), "statements nested too deeply");
    for (; seg_ < segments_.size(); ++seg_) {
      const Segment& s = segments_[seg_];
      if (s.kind == Segment::Kind::kText) {
        auto n = Make(NodeType::kText, s.line);
        n->text = s.text;
        block->kids.push_back(std::move(n));
        continue;
      }
      tokens_ = &s.tokens;
      pos_ = 0;
      if (s.kind == Segment::Kind::kOutput) {
        auto n = Make(NodeType::kOutput, s.line);
        auto e = ParseExpression(0);
        if (!e.ok()) return e.error();
        n->kids.push_back(e.take());
        EF_RETURN_IF_ERROR(ExpectEnd());
        block->kids.push_back(std::move(n));
        continue;
      }
      if (s.tokens.empty() || s.tokens[0].kind != Token::Kind::kName) return TemplateError(s.line, "a statement without a name");
      const std::string name = s.tokens[0].text;
      if (ends.count(name) != 0) {
        *end = name;
        return Error::Ok();
      }
      pos_ = 1;
      Result<std::unique_ptr<Node>> stmt = ParseStatement(name, depth);
      if (!stmt.ok()) return stmt.error();
      if (stmt.value() != nullptr) block->kids.push_back(stmt.take());
    }
    if (!ends.empty()) return TemplateError(Line(), "the template ends inside a block (expected " + *ends.begin() + ")");
    return Error::Ok();
  }

  Result<std::unique_ptr<Node>> ParseStatement(const std::string& name, int depth) {
    const int line = Line();
    std::string end;
    if (name == "if") {
      auto n = Make(NodeType::kIf, line);
      for (;;) {
        auto cond = ParseExpression(0);
        if (!cond.ok()) return cond.error();
        EF_RETURN_IF_ERROR(ExpectEnd());
        n->kids.push_back(cond.take());
        auto body = Make(NodeType::kBlock, line);
        ++seg_;
        EF_RETURN_IF_ERROR(ParseBody(body.get(), {"elif", "else", "endif"}, &end, depth + 1));
        n->kids.push_back(std::move(body));
        tokens_ = &segments_[seg_].tokens;
        pos_ = 1;
        if (end == "elif") continue;
        if (end == "else") {
          EF_RETURN_IF_ERROR(ExpectEnd());
          auto other = Make(NodeType::kBlock, line);
          ++seg_;
          EF_RETURN_IF_ERROR(ParseBody(other.get(), {"endif"}, &end, depth + 1));
          n->kids.push_back(std::move(other));
        }
        break;
      }
      return n;
    }
    if (name == "for") {
      auto n = Make(NodeType::kFor, line);
      do {
        if (!PeekKind(Token::Kind::kName)) return TemplateError(line, "for needs a loop variable");
        n->names.push_back(Next().text);
      } while (Accept(","));
      if (!AcceptName("in")) return TemplateError(line, "for needs 'in'");
      auto iter = ParseExpression(1);  // no conditional expression: its "if" filters the loop
      if (!iter.ok()) return iter.error();
      n->kids.push_back(iter.take());
      std::unique_ptr<Node> filter;
      if (AcceptName("if")) {
        auto cond = ParseExpression(1);
        if (!cond.ok()) return cond.error();
        filter = cond.take();
      }
      AcceptName("recursive");
      EF_RETURN_IF_ERROR(ExpectEnd());
      auto body = Make(NodeType::kBlock, line);
      ++seg_;
      EF_RETURN_IF_ERROR(ParseBody(body.get(), {"else", "endfor"}, &end, depth + 1));
      n->kids.push_back(std::move(body));
      std::unique_ptr<Node> other;
      if (end == "else") {
        other = Make(NodeType::kBlock, line);
        ++seg_;
        EF_RETURN_IF_ERROR(ParseBody(other.get(), {"endfor"}, &end, depth + 1));
      }
      n->kids.push_back(std::move(other));
      n->kids.push_back(std::move(filter));
      return n;
    }
    if (name == "set") {
      auto n = Make(NodeType::kSet, line);
      if (!PeekKind(Token::Kind::kName)) return TemplateError(line, "set needs a name");
      n->names.push_back(Next().text);
      if (Accept(".")) {
        if (!PeekKind(Token::Kind::kName)) return TemplateError(line, "set needs an attribute name after '.'");
        n->text = Next().text;
      }
      if (!Accept("=")) {
        // {% set x %}...{% endset %}: the body's output.
        EF_RETURN_IF_ERROR(ExpectEnd());
        auto body = Make(NodeType::kBlock, line);
        ++seg_;
        EF_RETURN_IF_ERROR(ParseBody(body.get(), {"endset"}, &end, depth + 1));
        n->flag = true;
        n->kids.push_back(std::move(body));
        return n;
      }
      auto value = ParseExpression(0);
      if (!value.ok()) return value.error();
      n->kids.push_back(value.take());
      EF_RETURN_IF_ERROR(ExpectEnd());
      return n;
    }
    if (name == "macro") {
      auto n = Make(NodeType::kMacro, line);
      if (!PeekKind(Token::Kind::kName)) return TemplateError(line, "macro needs a name");
      n->text = Next().text;
      if (!Accept("(")) return TemplateError(line, "macro needs its parameters in ( )");
      std::vector<std::unique_ptr<Node>> defaults;
      while (!Accept(")")) {
        if (!PeekKind(Token::Kind::kName)) return TemplateError(line, "a macro parameter must be a name");
        n->names.push_back(Next().text);
        std::unique_ptr<Node> def;
        if (Accept("=")) {
          auto e = ParseExpression(0);
          if (!e.ok()) return e.error();
          def = e.take();
        }
        defaults.push_back(std::move(def));
        if (!Accept(",") && !Peek(")")) return TemplateError(line, "expected ',' or ')' in the macro's parameters");
      }
      EF_RETURN_IF_ERROR(ExpectEnd());
      auto body = Make(NodeType::kBlock, line);
      ++seg_;
      EF_RETURN_IF_ERROR(ParseBody(body.get(), {"endmacro"}, &end, depth + 1));
      n->kids.push_back(std::move(body));
      for (auto& d : defaults) n->kids.push_back(std::move(d));
      return n;
    }
    if (name == "break" || name == "continue") {
      EF_RETURN_IF_ERROR(ExpectEnd());
      return Make(name == "break" ? NodeType::kBreak : NodeType::kContinue, line);
    }
    if (name == "generation") {  // Hugging Face's assistant-mask marker: its body renders as is
      EF_RETURN_IF_ERROR(ExpectEnd());
      auto body = Make(NodeType::kBlock, line);
      ++seg_;
      EF_RETURN_IF_ERROR(ParseBody(body.get(), {"endgeneration"}, &end, depth + 1));
      return body;
    }
    return TemplateError(line, "the statement '" + name + "' is not supported");
  }

  // Expressions, by precedence. `level` 1 parses no conditional expression at the top.
  Result<std::unique_ptr<Node>> ParseExpression(int level) {
    if (++nesting_ > kMaxNesting) return TemplateError(Line(), "an expression nested too deeply");
    auto r = level == 0 ? ParseTernary() : ParseOr();
    --nesting_;
    return r;
  }

  Result<std::unique_ptr<Node>> ParseTernary() {
    auto value = ParseOr();
    if (!value.ok() || !PeekName("if")) return value;
    Next();
    auto n = Make(NodeType::kTernary, Line());
    auto cond = ParseOr();
    if (!cond.ok()) return cond.error();
    n->kids.push_back(cond.take());
    n->kids.push_back(value.take());
    std::unique_ptr<Node> other;
    if (AcceptName("else")) {
      auto e = ParseExpression(0);
      if (!e.ok()) return e.error();
      other = e.take();
    }
    n->kids.push_back(std::move(other));
    return n;
  }

  Result<std::unique_ptr<Node>> Binary(std::unique_ptr<Node> a, const std::string& op, std::unique_ptr<Node> b) {
    auto n = Make(NodeType::kBinary, Line());
    n->text = op;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  Result<std::unique_ptr<Node>> ParseOr() {
    auto a = ParseAnd();
    while (a.ok() && AcceptName("or")) {
      auto b = ParseAnd();
      if (!b.ok()) return b.error();
      a = Binary(a.take(), "or", b.take());
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParseAnd() {
    auto a = ParseNot();
    while (a.ok() && AcceptName("and")) {
      auto b = ParseNot();
      if (!b.ok()) return b.error();
      a = Binary(a.take(), "and", b.take());
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParseNot() {
    if (AcceptName("not")) {
      if (++nesting_ > kMaxNesting) return TemplateError(Line(), "an expression nested too deeply");
      auto a = ParseNot();
      --nesting_;
      if (!a.ok()) return a.error();
      auto n = Make(NodeType::kUnary, Line());
      n->text = "not";
      n->kids.push_back(a.take());
      return n;
    }
    return ParseCompare();
  }

  // a < b < c is (a < b) and (b < c), as in Python (b, side-effect free here, is evaluated twice).
  Result<std::unique_ptr<Node>> ParseCompare() {
    auto first = ParseConcat();
    if (!first.ok()) return first;
    std::unique_ptr<Node> chain;
    std::unique_ptr<Node> left = first.take();
    for (;;) {
      std::string op;
      for (const char* o : {"==", "!=", "<=", ">=", "<", ">"}) {
        if (Accept(o)) {
          op = o;
          break;
        }
      }
      if (op.empty() && AcceptName("in")) op = "in";
      if (op.empty() && PeekName("not") && pos_ + 1 < tokens_->size() && (*tokens_)[pos_ + 1].text == "in") {
        pos_ += 2;
        op = "not in";
      }
      if (op.empty()) break;
      // The right operand, parsed once more for the next link of the chain.
      const size_t at = pos_;
      auto b = ParseConcat();
      if (!b.ok()) return b.error();
      const size_t after = pos_;
      pos_ = at;
      auto again = ParseConcat();
      pos_ = after;
      auto link = Binary(std::move(left), op, b.take());
      chain = chain == nullptr ? link.take() : Binary(std::move(chain), "and", link.take()).take();
      left = again.take();
    }
    return chain != nullptr ? std::move(chain) : std::move(left);
  }

  Result<std::unique_ptr<Node>> ParseConcat() {
    auto a = ParseSum();
    while (a.ok() && Accept("~")) {
      auto b = ParseSum();
      if (!b.ok()) return b.error();
      a = Binary(a.take(), "~", b.take());
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParseSum() {
    auto a = ParseProduct();
    while (a.ok() && (Peek("+") || Peek("-"))) {
      const std::string op = Next().text;
      auto b = ParseProduct();
      if (!b.ok()) return b.error();
      a = Binary(a.take(), op, b.take());
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParseProduct() {
    auto a = ParsePower();
    while (a.ok() && (Peek("*") || Peek("/") || Peek("//") || Peek("%"))) {
      const std::string op = Next().text;
      auto b = ParsePower();
      if (!b.ok()) return b.error();
      a = Binary(a.take(), op, b.take());
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParsePower() {
    auto a = ParseUnary();
    while (a.ok() && Accept("**")) {
      auto b = ParseUnary();
      if (!b.ok()) return b.error();
      a = Binary(a.take(), "**", b.take());
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParseUnary() {
    if (Peek("-") || Peek("+")) {
      const std::string op = Next().text;
      if (++nesting_ > kMaxNesting) return TemplateError(Line(), "an expression nested too deeply");
      auto a = ParseUnary();
      --nesting_;
      if (!a.ok()) return a.error();
      auto n = Make(NodeType::kUnary, Line());
      n->text = op;
      n->kids.push_back(a.take());
      return n;
    }
    auto a = ParsePostfix();
    // Filters and tests bind to the unary expression: `x | length > 0`, `not x is defined`.
    while (a.ok()) {
      if (Accept("|")) {
        if (!PeekKind(Token::Kind::kName)) return TemplateError(Line(), "a filter name must follow '|'");
        auto n = Make(NodeType::kFilter, Line());
        n->text = Next().text;
        n->kids.push_back(a.take());
        if (Accept("(")) EF_RETURN_IF_ERROR(ParseArgs(n.get()));
        a = std::move(n);
      } else if (AcceptName("is")) {
        auto n = Make(NodeType::kTest, Line());
        n->flag = AcceptName("not");
        if (!PeekKind(Token::Kind::kName)) return TemplateError(Line(), "a test name must follow 'is'");
        n->text = Next().text;
        n->kids.push_back(a.take());
        if (Accept("(")) {
          EF_RETURN_IF_ERROR(ParseArgs(n.get()));
        } else if (PeekKind(Token::Kind::kString) || PeekKind(Token::Kind::kInt) || PeekName("none")) {
          auto arg = ParsePrimary();  // `is equalto 3`, `is sameas none`
          if (!arg.ok()) return arg.error();
          n->kids.push_back(arg.take());
        }
        a = std::move(n);
      } else {
        break;
      }
    }
    return a;
  }

  // Arguments after "(": positional, then name=value ones (names in n->names).
  Error ParseArgs(Node* n) {
    while (!Accept(")")) {
      if (PeekKind(Token::Kind::kName) && pos_ + 1 < tokens_->size() && (*tokens_)[pos_ + 1].text == "=") {
        n->names.push_back(Next().text);
        Next();
      } else if (!n->names.empty()) {
        return TemplateError(Line(), "a positional argument after a keyword one");
      }
      auto e = ParseExpression(0);
      if (!e.ok()) return e.error();
      n->kids.push_back(e.take());
      if (!Accept(",") && !Peek(")")) return TemplateError(Line(), "expected ',' or ')' in the arguments");
    }
    return Error::Ok();
  }

  Result<std::unique_ptr<Node>> ParsePostfix() {
    auto a = ParsePrimary();
    while (a.ok()) {
      if (Accept(".")) {
        if (!PeekKind(Token::Kind::kName) && !PeekKind(Token::Kind::kInt)) return TemplateError(Line(), "a name must follow '.'");
        auto n = Make(NodeType::kAttr, Line());
        n->text = Next().text;
        n->kids.push_back(a.take());
        a = std::move(n);
      } else if (Accept("[")) {
        std::unique_ptr<Node> parts[3];
        int colons = 0;
        while (!Accept("]")) {
          if (Accept(":")) {
            if (++colons > 2) return TemplateError(Line(), "a slice has at most three parts");
            continue;
          }
          if (parts[colons] != nullptr) return TemplateError(Line(), "expected ':' or ']'");
          auto e = ParseExpression(0);
          if (!e.ok()) return e.error();
          parts[colons] = e.take();
        }
        auto n = Make(colons == 0 ? NodeType::kSubscript : NodeType::kSlice, Line());
        n->kids.push_back(a.take());
        if (colons == 0) {
          if (parts[0] == nullptr) return TemplateError(Line(), "an empty subscript");
          n->kids.push_back(std::move(parts[0]));
        } else {
          for (auto& p : parts) n->kids.push_back(std::move(p));
        }
        a = std::move(n);
      } else if (Accept("(")) {
        auto n = Make(NodeType::kCall, Line());
        n->kids.push_back(a.take());
        EF_RETURN_IF_ERROR(ParseArgs(n.get()));
        a = std::move(n);
      } else {
        break;
      }
    }
    return a;
  }

  Result<std::unique_ptr<Node>> ParsePrimary() {
    if (pos_ >= tokens_->size()) return TemplateError(Line(), "an expression is missing");
    const Token& t = Next();
    auto n = Make(NodeType::kLiteral, Line());
    switch (t.kind) {
      case Token::Kind::kInt: n->value = Value::Int(t.int_value); return n;
      case Token::Kind::kFloat: n->value = Value::Float(t.float_value); return n;
      case Token::Kind::kString: {
        std::string s = t.text;
        while (PeekKind(Token::Kind::kString)) s += Next().text;  // adjacent literals join
        n->value = Value::String(s);
        return n;
      }
      case Token::Kind::kName:
        if (t.text == "true" || t.text == "True") n->value = Value::Bool(true);
        else if (t.text == "false" || t.text == "False") n->value = Value::Bool(false);
        else if (t.text == "none" || t.text == "None") n->value = Value::None();
        else {
          n->type = NodeType::kName;
          n->text = t.text;
        }
        return n;
      case Token::Kind::kOp:
        if (t.text == "(") {
          auto e = ParseExpression(0);
          if (!e.ok()) return e;
          if (Accept(",")) {  // a tuple
            auto list = Make(NodeType::kList, Line());
            list->flag = true;
            list->kids.push_back(e.take());
            while (!Accept(")")) {
              auto item = ParseExpression(0);
              if (!item.ok()) return item.error();
              list->kids.push_back(item.take());
              if (!Accept(",") && !Peek(")")) return TemplateError(Line(), "expected ',' or ')'");
            }
            return list;
          }
          if (!Accept(")")) return TemplateError(Line(), "expected ')'");
          return e;
        }
        if (t.text == "[" || t.text == "{") {
          const bool dict = t.text == "{";
          n->type = dict ? NodeType::kDict : NodeType::kList;
          while (!Accept(dict ? "}" : "]")) {
            auto item = ParseExpression(0);
            if (!item.ok()) return item.error();
            n->kids.push_back(item.take());
            if (dict) {
              if (!Accept(":")) return TemplateError(Line(), "expected ':' in a dict");
              auto value = ParseExpression(0);
              if (!value.ok()) return value.error();
              n->kids.push_back(value.take());
            }
            if (!Accept(",") && !Peek(dict ? "}" : "]")) return TemplateError(Line(), "expected ',' in a list or dict");
          }
          return n;
        }
        return TemplateError(Line(), "unexpected '" + t.text + "'");
      default: return TemplateError(Line(), "an expression is missing");
    }
  }

  std::unique_ptr<Node> Make(NodeType type, int line) {
    auto n = std::make_unique<Node>();
    n->type = type;
    n->line = line;
    return n;
  }
  int Line() const { return seg_ < segments_.size() ? segments_[seg_].line : (segments_.empty() ? 1 : segments_.back().line); }
  bool Peek(const char* op) const {
    return pos_ < tokens_->size() && (*tokens_)[pos_].kind == Token::Kind::kOp && (*tokens_)[pos_].text == op;
  }
  bool PeekName(const char* name) const {
    return pos_ < tokens_->size() && (*tokens_)[pos_].kind == Token::Kind::kName && (*tokens_)[pos_].text == name;
  }
  bool PeekKind(Token::Kind k) const { return pos_ < tokens_->size() && (*tokens_)[pos_].kind == k; }
  bool Accept(const char* op) { return Peek(op) ? (++pos_, true) : false; }
  bool AcceptName(const char* name) { return PeekName(name) ? (++pos_, true) : false; }
  const Token& Next() { return (*tokens_)[pos_++]; }
  Error ExpectEnd() const {
    if (pos_ < tokens_->size()) return TemplateError(Line(), "unexpected '" + (*tokens_)[pos_].text + "'");
    return Error::Ok();
  }

  std::vector<Segment> segments_;
  size_t seg_ = 0;
  const std::vector<Token>* tokens_ = nullptr;
  size_t pos_ = 0;
  int nesting_ = 0;
};

}  // namespace

Template::Template() = default;
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Result<Template> Template::Parse(std::string_view text) {
  std::vector<Segment> segments;
  EF_RETURN_IF_ERROR(Lex(text, &segments));
  Parser parser(std::move(segments));
  Result<std::unique_ptr<Node>> root = parser.ParseAll();
  if (!root.ok()) return root.error();
  Template t;
  t.root_ = root.take();
  return t;
}

}  // namespace jinja
}  // namespace edgeformer
