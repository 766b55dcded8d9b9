// Lexing of the chat-template Jinja subset (model/chat/jinja_lex.h). Whitespace rules as Hugging
// Face's environment: trim_blocks (the first newline after a block or comment tag goes),
// lstrip_blocks (spaces and tabs before a block or comment tag on its line go, unless "{%+"), and
// "-" inside a delimiter strips all whitespace on that side.
#include "model/chat/jinja_lex.h"

#include <cctype>
#include <string>

namespace edgeformer {
namespace jinja {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

Error TemplateError(int line, const std::string& what) {
  return Error(Status::kInvalidArgument, "chat template, line " + std::to_string(line) + ": " + what);
}

namespace {

// Tokens of a tag's inside, from `at` to its closing delimiter `close` ("}}" or "%}"); *end is
// where the delimiter (with its "-") starts.
Error LexTag(std::string_view src, size_t at, std::string_view close, int line, std::vector<Token>* out, size_t* end) {
  static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=",
                                     "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"};
  for (size_t i = at; i < src.size();) {
    const char c = src[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if ((c == '-' && src.compare(i + 1, close.size(), close) == 0) || src.compare(i, close.size(), close) == 0) {
      *end = i;
      return Error::Ok();
    }
    Token t;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < src.size() && (std::isalnum(static_cast<unsigned char>(src[j])) || src[j] == '_')) ++j;
      t.kind = Token::Kind::kName;
      t.text = std::string(src.substr(i, j - i));
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < src.size() && std::isdigit(static_cast<unsigned char>(src[j]))) ++j;
      bool real = j + 1 < src.size() && src[j] == '.' && std::isdigit(static_cast<unsigned char>(src[j + 1]));
      if (real) {
        ++j;
        while (j < src.size() && std::isdigit(static_cast<unsigned char>(src[j]))) ++j;
      }
      t.text = std::string(src.substr(i, j - i));
      if (real) {
        t.kind = Token::Kind::kFloat;
        t.float_value = std::strtod(t.text.c_str(), nullptr);
      } else {
        if (t.text.size() > 18) return TemplateError(line, "the number " + t.text + " is too large");
        t.kind = Token::Kind::kInt;
        t.int_value = std::strtoll(t.text.c_str(), nullptr, 10);
      }
      i = j;
    } else if (c == '\'' || c == '"') {
      t.kind = Token::Kind::kString;
      size_t j = i + 1;
      for (; j < src.size() && src[j] != c; ++j) {
        if (src[j] == '\\' && j + 1 < src.size()) {
          ++j;
          switch (src[j]) {
            case 'n': t.text += '\n'; break;
            case 't': t.text += '\t'; break;
            case 'r': t.text += '\r'; break;
            default: t.text += src[j]; break;  // \\, \', \" and the rest as themselves
          }
        } else {
          if (src[j] == '\n') ++line;
          t.text += src[j];
        }
      }
      if (j >= src.size()) return TemplateError(line, "a string is not closed");
      i = j + 1;
    } else {
      for (const char* op : kOps) {
        if (src.compare(i, std::char_traits<char>::length(op), op) == 0) {
          t.kind = Token::Kind::kOp;
          t.text = op;
          break;
        }
      }
      if (t.kind != Token::Kind::kOp) return TemplateError(line, std::string("unexpected character '") + c + "'");
      i += t.text.size();
    }
    out->push_back(std::move(t));
  }
  return TemplateError(line, "a tag is not closed with " + std::string(close));
}

int CountLines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

Error Lex(std::string_view src, std::vector<Segment>* out) {
  int line = 1;
  bool strip_next = false, trim_newline = false;
  size_t at = 0;
  while (at <= src.size()) {
    size_t open = src.find('{', at);
    while (open != std::string_view::npos && open + 1 < src.size() && src[open + 1] != '{' && src[open + 1] != '%' &&
           src[open + 1] != '#') {
      open = src.find('{', open + 1);
    }
    if (open != std::string_view::npos && open + 1 >= src.size()) open = std::string_view::npos;
    std::string text(src.substr(at, open == std::string_view::npos ? std::string_view::npos : open - at));
    if (strip_next) {
      size_t k = 0;
      while (k < text.size() && IsSpace(text[k])) ++k;
      text.erase(0, k);
    } else if (trim_newline && !text.empty() && (text[0] == '\n' || text.compare(0, 2, "\r\n") == 0)) {
      text.erase(0, text[0] == '\n' ? 1 : 2);
    }
    line += CountLines(src.substr(at, open == std::string_view::npos ? src.size() - at : open - at));
    if (open == std::string_view::npos) {
      if (!text.empty()) out->push_back(Segment{Segment::Kind::kText, text, {}, line});
      return Error::Ok();
    }
    const char kind = src[open + 1];
    const bool minus = open + 2 < src.size() && src[open + 2] == '-';
    const bool plus = open + 2 < src.size() && src[open + 2] == '+';
    if (minus) {
      while (!text.empty() && IsSpace(text.back())) text.pop_back();
    } else if (kind != '{' && !plus) {
      // lstrip_blocks: the spaces and tabs before the tag, when only they precede it on its line.
      size_t j = open;
      while (j > 0 && (src[j - 1] == ' ' || src[j - 1] == '\t')) --j;
      if (j == 0 || src[j - 1] == '\n') {
        size_t k = text.size();
        while (k > 0 && open - (text.size() - k) > j && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
        text.erase(k);
      }
    }
    if (!text.empty()) out->push_back(Segment{Segment::Kind::kText, text, {}, line});
    const size_t inner = open + 2 + (minus || plus ? 1 : 0);
    if (kind == '#') {
      const size_t close = src.find("#}", inner);
      if (close == std::string_view::npos) return TemplateError(line, "a comment is not closed");
      strip_next = src[close - 1] == '-';
      trim_newline = true;
      line += CountLines(src.substr(open, close + 2 - open));
      at = close + 2;
      continue;
    }
    Segment seg;
    seg.kind = kind == '{' ? Segment::Kind::kOutput : Segment::Kind::kStatement;
    seg.line = line;
    size_t end = 0;
    EF_RETURN_IF_ERROR(LexTag(src, inner, kind == '{' ? "}}" : "%}", line, &seg.tokens, &end));
    strip_next = src[end] == '-';
    trim_newline = kind == '%';
    const size_t after = end + (strip_next ? 1 : 0) + 2;
    line += CountLines(src.substr(open, after - open));
    out->push_back(std::move(seg));
    at = after;
  }
  return Error::Ok();
}

}  // namespace jinja
}  // namespace edgeformer
