// The parsed form of a chat template (model/chat/jinja.h): one node type for statements and
// expressions. Internal to jinja_parse.cc and jinja_eval.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/chat/jinja.h"

namespace edgeformer {
namespace jinja {

enum class NodeType : uint8_t {
  // Statements. kBlock: kids in order. kIf: kids are condition, body, condition, body, ... and a
  // last body when there is an else. kFor: names (targets), kids iterable, body, else body (may
  // be null), filter condition (may be null). kSet: names[0] the variable, text the attribute (a
  // namespace's) or "", kids value. kMacro: text the name, names the parameters, kids body then
  // the defaults (null where none).
  kBlock, kText, kOutput, kIf, kFor, kSet, kMacro, kBreak, kContinue,
  // Expressions. kLiteral: value. kName: text. kList: kids. kDict: kids key, value, key, ...
  // kAttr: kids object, text name. kSubscript: kids object, index. kSlice: kids object, start,
  // stop, step (null where left out). kCall: kids callee, positional args; names the keyword
  // args' names, matched to the last kids. kFilter: text name, kids value, args (names as kCall).
  // kTest: text name, kids value, args; flag: "is not". kUnary: text "-", "+" or "not".
  // kBinary: text the operator (+ - * / // % ** ~ == != < <= > >= in "not in" and or).
  // kTernary: kids condition, then, else (may be null).
  kLiteral, kName, kList, kDict, kAttr, kSubscript, kSlice, kCall, kFilter, kTest, kUnary, kBinary, kTernary,
};

struct Node {
  NodeType type = NodeType::kBlock;
  int line = 1;
  std::string text;
  Value value;
  std::vector<std::unique_ptr<Node>> kids;
  std::vector<std::string> names;
  bool flag = false;  // kTest: "is not"; kList: a tuple; kSet: a block
};

}  // namespace jinja
}  // namespace edgeformer
