// The chat-template lexer (jinja_lex.cc) and what the parser (jinja_parse.cc) reads from it: the
// source split into text and tags, each tag's tokens, with line numbers for errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgeformer {
namespace jinja {

struct Token {
  enum class Kind : uint8_t { kName, kInt, kFloat, kString, kOp, kEnd } kind = Kind::kEnd;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0.0;
};

// One piece of template source: text, or a tag's tokens.
struct Segment {
  enum class Kind : uint8_t { kText, kOutput, kStatement } kind = Kind::kText;
  std::string text;
  std::vector<Token> tokens;
  int line = 1;
};

// kInvalidArgument: "chat template, line N: what".
Error TemplateError(int line, const std::string& what);

// Splits `src` into segments (whitespace control applied), or fails with the line.
Error Lex(std::string_view src, std::vector<Segment>* out);

}  // namespace jinja
}  // namespace edgeformer
