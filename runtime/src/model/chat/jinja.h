// The subset of Jinja that chat templates are written in (Hugging Face's apply_chat_template:
// trim_blocks and lstrip_blocks on, loop controls), so a model's own template formats its
// conversations. Statements: if/elif/else, for (with loop.*, else, tuple targets), set (names and
// namespace attributes), macro and call, break/continue, generation (its body as it is).
// Expressions: literals, lists, dicts, attributes, subscripts and slices, calls, filters, tests,
// arithmetic, comparison, `in`, `~`, and/or/not, conditional expressions; the string, list and
// dict methods templates use; raise_exception, range, namespace and strftime_now.
//
// A template is parsed once (Parse) and rendered any number of times (Render), from any thread.
// Everything is validated: a template that does not parse, or raises, or runs away (a render
// past its step or output budget) gives an error, never a crash.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgeformer {
namespace jinja {

struct Node;
class Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;  // in insertion order, as Python's dict

// A value: none, undefined, bool, int, float, string, list, dict (shared: a template's set and
// append see the same object, as Python's do), or a namespace.
class Value {
 public:
  enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kMacro };

  Value() = default;
  static Value None() { Value v; v.kind_ = Kind::kNone; return v; }
  static Value Bool(bool b) { Value v; v.kind_ = Kind::kBool; v.int_ = b; return v; }
  static Value Int(int64_t i) { Value v; v.kind_ = Kind::kInt; v.int_ = i; return v; }
  static Value Float(double f) { Value v; v.kind_ = Kind::kFloat; v.float_ = f; return v; }
  static Value String(std::string s) { Value v; v.kind_ = Kind::kString; v.string_ = std::make_shared<std::string>(std::move(s)); return v; }
  static Value MakeList(List l = {}) { Value v; v.kind_ = Kind::kList; v.list_ = std::make_shared<List>(std::move(l)); return v; }
  // A tuple: a list that prints as Python prints tuples.
  static Value MakeTuple(List l) { Value v = MakeList(std::move(l)); v.tuple_ = true; return v; }
  static Value MakeDict(Dict d = {}) { Value v; v.kind_ = Kind::kDict; v.dict_ = std::make_shared<Dict>(std::move(d)); return v; }
  static Value Namespace() { Value v = MakeDict(); v.kind_ = Kind::kNamespace; return v; }
  static Value Macro(const Node* node) { Value v; v.kind_ = Kind::kMacro; v.macro_ = node; return v; }

  Kind kind() const { return kind_; }
  bool is(Kind k) const { return kind_ == k; }
  bool defined() const { return kind_ != Kind::kUndefined; }
  bool numeric() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }

  // A float truncates toward zero (Python's int()), saturated to [-INT64_MAX, INT64_MAX] (symmetric,
  // so negating the result cannot overflow); NaN gives 0. Defined for every value.
  int64_t as_int() const { return kind_ == Kind::kFloat ? FloatToInt(float_) : int_; }
  double as_float() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& str() const { return *string_; }
  List& list() const { return *list_; }
  Dict& dict() const { return *dict_; }
  const Node* macro() const { return macro_; }

  // The entry for `key` of a dict or namespace, or null.
  Value* Find(std::string_view key) const;
  // Sets an entry of a dict or namespace.
  void Set(const std::string& key, Value v) const;

  bool Truthy() const;
  // As Jinja prints it: strings as they are, None as "None", True/False, lists and dicts as
  // Python's repr.
  std::string ToString() const;
  // Python's repr (strings quoted). A list or dict that contains itself (a template can append
  // a list to itself) prints "[...]" below 64 levels, and no text grows past 1 MiB.
  std::string Repr() const;
  // JSON, as Python's json.dumps (ensure_ascii off, ", " and ": " separators) or with `indent`;
  // nesting below 64 levels is written null, and no text grows past 1 MiB.
  std::string ToJson(int indent = -1) const;
  // Deep equality; the same object equals itself at once, and a comparison that would visit more
  // than a million values is false.
  bool Equals(const Value& other) const;

 private:
  void AppendRepr(std::string* out, int depth) const;
  void AppendJson(std::string* out, int indent, int depth) const;
  bool EqualsWithin(const Value& other, int depth, uint64_t* budget) const;

  static int64_t FloatToInt(double f) {
    if (std::isnan(f)) return 0;
    if (f >= 9223372036854775807.0) return INT64_MAX;  // the literal is 2^63 as a double
    if (f <= -9223372036854775807.0) return -INT64_MAX;
    return static_cast<int64_t>(f);
  }

  Kind kind_ = Kind::kUndefined;
  int64_t int_ = 0;
  double float_ = 0.0;
  std::shared_ptr<std::string> string_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  const Node* macro_ = nullptr;
  bool tuple_ = false;
};

// Limits on one render: statements and expressions evaluated, output bytes, nesting.
struct RenderLimits {
  uint64_t max_steps = 10'000'000;
  uint64_t max_output = 16u << 20;
  uint32_t max_depth = 64;
};

class Template {
 public:
  Template();
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Parses `text`. Errors name the line and what was expected.
  static Result<Template> Parse(std::string_view text);

  // Renders with `globals` (a dict: messages, add_generation_prompt, bos_token, ...). `today`
  // is what strftime_now formats ("YYYY-MM-DD"; the caller's clock).
  Result<std::string> Render(const Value& globals, const std::string& today = "2026-01-01",
                             const RenderLimits& limits = RenderLimits()) const;

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace jinja
}  // namespace edgeformer
