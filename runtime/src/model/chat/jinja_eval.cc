// Rendering of a parsed chat template (model/chat/jinja.h): scopes as Jinja's (a for loop's
// variables and sets stay inside it; namespaces carry values out), Python's semantics for values,
// and the filters, tests, methods and globals chat templates use. The methods and filters are in
// jinja_builtins.cc.
#include <cmath>

#include "model/chat/jinja_ast.h"
#include "model/chat/jinja_builtins.h"

namespace edgeformer {
namespace jinja {
namespace {

class Renderer {
 public:
  Renderer(const Value& globals, const std::string& today, const RenderLimits& limits)
      : globals_(globals), today_(today), limits_(limits) {
    frames_.emplace_back();
  }

  Error Exec(const Node* n) {
    if (++steps_ > limits_.max_steps) return Fail(n, "the template runs too long");
    switch (n->type) {
      case NodeType::kBlock:
        for (const auto& kid : n->kids) {
          EF_RETURN_IF_ERROR(Exec(kid.get()));
          if (control_ != Control::kNone) break;
        }
        return Error::Ok();
      case NodeType::kText: return Emit(n, n->text);
      case NodeType::kOutput: {
        auto v = Eval(n->kids[0].get());
        if (!v.ok()) return v.error();
        return Emit(n, v.value().ToString());
      }
      case NodeType::kIf:
        for (size_t i = 0; i + 1 < n->kids.size(); i += 2) {
          auto c = Eval(n->kids[i].get());
          if (!c.ok()) return c.error();
          if (c.value().Truthy()) return Exec(n->kids[i + 1].get());
        }
        if (n->kids.size() % 2 == 1) return Exec(n->kids.back().get());
        return Error::Ok();
      case NodeType::kFor: return ExecFor(n);
      case NodeType::kSet: {
        Value value;
        if (n->flag) {  // {% set x %}body{% endset %}
          std::string saved;
          saved.swap(out_);
          const Error e = Exec(n->kids[0].get());
          saved.swap(out_);
          if (!e.ok()) return e;
          value = Value::String(saved);
        } else {
          auto v = Eval(n->kids[0].get());
          if (!v.ok()) return v.error();
          value = v.take();
        }
        if (n->text.empty()) {
          frames_.back()[n->names[0]] = value;
          return Error::Ok();
        }
        const Value target = Lookup(n->names[0]);
        if (!target.is(Value::Kind::kNamespace)) return Fail(n, "'" + n->names[0] + "' is not a namespace");
        target.Set(n->text, value);
        return Error::Ok();
      }
      case NodeType::kMacro:
        frames_.back()[n->text] = Value::Macro(n);
        return Error::Ok();
      case NodeType::kBreak: control_ = Control::kBreak; return Error::Ok();
      case NodeType::kContinue: control_ = Control::kContinue; return Error::Ok();
      default: return Fail(n, "an expression where a statement belongs");
    }
  }

  const std::string& output() const { return out_; }

  // Namespaces are the only values a template can change, so the only ones that can come to
  // hold themselves (set ns.me = ns): emptied after the render, they free.
  ~Renderer() {
    for (const Value& ns : namespaces_) ns.dict().clear();
  }

 private:
  enum class Control { kNone, kBreak, kContinue };
  using Frame = std::map<std::string, Value>;

  Error Fail(const Node* n, const std::string& what) const {
    return Error(Status::kInvalidArgument, "chat template, line " + std::to_string(n->line) + ": " + what);
  }

  Error Emit(const Node* n, const std::string& text) {
    out_ += text;
    if (out_.size() > limits_.max_output) return Fail(n, "the output passes " + std::to_string(limits_.max_output) + " bytes");
    return Error::Ok();
  }

  Value Lookup(const std::string& name) const {
    for (size_t i = frames_.size(); i-- > 0;) {
      const auto it = frames_[i].find(name);
      if (it != frames_[i].end()) return it->second;
    }
    if (const Value* v = globals_.Find(name)) return *v;
    return Value();
  }

  Error ExecFor(const Node* n) {
    auto iterable = Eval(n->kids[0].get());
    if (!iterable.ok()) return iterable.error();
    List items;
    const Value& it = iterable.value();
    if (it.is(Value::Kind::kList)) {
      items = it.list();
    } else if (it.mapping()) {
      for (const auto& [k, v] : it.dict()) items.push_back(Value::String(k));
    } else if (it.is(Value::Kind::kString)) {
      for (char c : it.str()) items.push_back(Value::String(std::string(1, c)));
    } else if (it.defined() && !it.is(Value::Kind::kNone)) {
      return Fail(n, "cannot loop over " + it.Repr());
    }
    if (n->kids[3] != nullptr) {  // {% for x in xs if cond %}: the condition filters first
      List kept;
      for (const Value& item : items) {
        frames_.emplace_back();
        Bind(n, item);
        auto keep = Eval(n->kids[3].get());
        frames_.pop_back();
        if (!keep.ok()) return keep.error();
        if (keep.value().Truthy()) kept.push_back(item);
      }
      items.swap(kept);
    }
    if (items.empty()) return n->kids[2] != nullptr ? Exec(n->kids[2].get()) : Error::Ok();
    if (frames_.size() > limits_.max_depth) return Fail(n, "loops nested too deeply");
    for (size_t i = 0; i < items.size(); ++i) {
      frames_.emplace_back();
      Bind(n, items[i]);
      const Value loop = Value::MakeDict();
      const int64_t count = static_cast<int64_t>(items.size()), index = static_cast<int64_t>(i);
      loop.Set("index0", Value::Int(index));
      loop.Set("index", Value::Int(index + 1));
      loop.Set("revindex0", Value::Int(count - index - 1));
      loop.Set("revindex", Value::Int(count - index));
      loop.Set("first", Value::Bool(i == 0));
      loop.Set("last", Value::Bool(i + 1 == items.size()));
      loop.Set("length", Value::Int(count));
      loop.Set("previtem", i > 0 ? items[i - 1] : Value());
      loop.Set("nextitem", i + 1 < items.size() ? items[i + 1] : Value());
      frames_.back()["loop"] = loop;
      const Error e = Exec(n->kids[1].get());
      frames_.pop_back();
      if (!e.ok()) return e;
      const Control c = control_;
      control_ = Control::kNone;
      if (c == Control::kBreak) break;
    }
    return Error::Ok();
  }

  // The loop's targets: one name, or several unpacked from a list item.
  void Bind(const Node* n, const Value& item) {
    if (n->names.size() == 1) {
      frames_.back()[n->names[0]] = item;
      return;
    }
    for (size_t k = 0; k < n->names.size(); ++k) {
      frames_.back()[n->names[k]] =
          item.is(Value::Kind::kList) && k < item.list().size() ? item.list()[k] : Value();
    }
  }

  Result<Value> Eval(const Node* n) {
    if (++steps_ > limits_.max_steps) return Fail(n, "the template runs too long");
    switch (n->type) {
      case NodeType::kLiteral: return n->value;
      case NodeType::kName: {
        Value v = Lookup(n->text);
        if (!v.defined() && IsGlobalFunction(n->text)) return Value::String(n->text);  // called by kCall
        return v;
      }
      case NodeType::kList: {
        List items;
        for (const auto& k : n->kids) {
          auto v = Eval(k.get());
          if (!v.ok()) return v.error();
          items.push_back(v.take());
        }
        return n->flag ? Value::MakeTuple(std::move(items)) : Value::MakeList(std::move(items));
      }
      case NodeType::kDict: {
        const Value d = Value::MakeDict();
        for (size_t i = 0; i + 1 < n->kids.size(); i += 2) {
          auto k = Eval(n->kids[i].get());
          if (!k.ok()) return k.error();
          auto v = Eval(n->kids[i + 1].get());
          if (!v.ok()) return v.error();
          d.Set(k.value().ToString(), v.take());
        }
        return d;
      }
      case NodeType::kAttr: {
        auto obj = Eval(n->kids[0].get());
        if (!obj.ok()) return obj.error();
        return Item(obj.value(), Value::String(n->text));
      }
      case NodeType::kSubscript: {
        auto obj = Eval(n->kids[0].get());
        if (!obj.ok()) return obj.error();
        auto key = Eval(n->kids[1].get());
        if (!key.ok()) return key.error();
        return Item(obj.value(), key.value());
      }
      case NodeType::kSlice: {
        auto obj = Eval(n->kids[0].get());
        if (!obj.ok()) return obj.error();
        Value parts[3];
        for (int k = 0; k < 3; ++k) {
          if (n->kids[k + 1] == nullptr) continue;
          auto v = Eval(n->kids[k + 1].get());
          if (!v.ok()) return v.error();
          parts[k] = v.take();
        }
        return Slice(obj.value(), parts[0], parts[1], parts[2]);
      }
      case NodeType::kCall: return Call(n);
      case NodeType::kFilter:
      case NodeType::kTest: {
        std::vector<Value> args;
        for (const auto& k : n->kids) {
          auto v = Eval(k.get());
          if (!v.ok()) return v.error();
          args.push_back(v.take());
        }
        Result<Value> r = n->type == NodeType::kFilter ? ApplyFilter(n->text, args, n->names)
                                                       : ApplyTest(n->text, args);
        if (!r.ok()) return Fail(n, r.error().message());
        if (n->type == NodeType::kTest && n->flag) return Value::Bool(!r.value().Truthy());
        return r;
      }
      case NodeType::kUnary: {
        auto a = Eval(n->kids[0].get());
        if (!a.ok()) return a.error();
        if (n->text == "not") return Value::Bool(!a.value().Truthy());
        if (!a.value().numeric()) return Fail(n, "'" + n->text + "' needs a number");
        if (n->text == "+") return a;
        return a.value().is(Value::Kind::kFloat) ? Value::Float(-a.value().as_float()) : Value::Int(-a.value().as_int());
      }
      case NodeType::kBinary: return EvalBinary(n);
      case NodeType::kTernary: {
        auto c = Eval(n->kids[0].get());
        if (!c.ok()) return c.error();
        if (c.value().Truthy()) return Eval(n->kids[1].get());
        return n->kids[2] != nullptr ? Eval(n->kids[2].get()) : Result<Value>(Value());
      }
      default: return Fail(n, "a statement where an expression belongs");
    }
  }

  Result<Value> EvalBinary(const Node* n) {
    auto a = Eval(n->kids[0].get());
    if (!a.ok()) return a.error();
    const std::string& op = n->text;
    if (op == "and") return a.value().Truthy() ? Eval(n->kids[1].get()) : a;
    if (op == "or") return a.value().Truthy() ? a : Eval(n->kids[1].get());
    auto b = Eval(n->kids[1].get());
    if (!b.ok()) return b.error();
    Result<Value> r = BinaryOp(op, a.value(), b.value());
    if (!r.ok()) return Fail(n, r.error().message());
    return r;
  }

  Result<Value> Call(const Node* n) {
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;
    const size_t n_positional = n->kids.size() - 1 - n->names.size();
    for (size_t i = 1; i < n->kids.size(); ++i) {
      auto v = Eval(n->kids[i].get());
      if (!v.ok()) return v.error();
      if (i - 1 < n_positional) {
        args.push_back(v.take());
      } else {
        kwargs.emplace_back(n->names[i - 1 - n_positional], v.take());
      }
    }
    const Node* callee = n->kids[0].get();
    if (callee->type == NodeType::kAttr) {  // a method: obj.name(args)
      auto obj = Eval(callee->kids[0].get());
      if (!obj.ok()) return obj.error();
      Result<Value> r = CallMethod(obj.value(), callee->text, args);
      if (!r.ok()) return Fail(n, r.error().message());
      return r;
    }
    if (callee->type == NodeType::kName) {
      const Value v = Lookup(callee->text);
      if (v.is(Value::Kind::kMacro)) return CallMacro(n, v.macro(), args, kwargs);
      Result<Value> r = CallGlobal(callee->text, args, kwargs, today_);
      if (!r.ok()) return Fail(n, r.error().message());
      if (r.value().is(Value::Kind::kNamespace)) namespaces_.push_back(r.value());
      return r;
    }
    return Fail(n, "this cannot be called");
  }

  Result<Value> CallMacro(const Node* at, const Node* macro, const std::vector<Value>& args,
                          const std::vector<std::pair<std::string, Value>>& kwargs) {
    if (frames_.size() > limits_.max_depth) return Fail(at, "macros call each other too deeply");
    Frame frame;
    for (size_t i = 0; i < macro->names.size(); ++i) {
      Value v;
      if (i < args.size()) {
        v = args[i];
      } else if (macro->kids[i + 1] != nullptr) {
        auto d = Eval(macro->kids[i + 1].get());
        if (!d.ok()) return d.error();
        v = d.take();
      }
      frame[macro->names[i]] = v;
    }
    for (const auto& [k, v] : kwargs) frame[k] = v;
    std::string saved;
    saved.swap(out_);
    frames_.push_back(std::move(frame));
    const Error e = Exec(macro->kids[0].get());
    frames_.pop_back();
    saved.swap(out_);
    control_ = Control::kNone;
    if (!e.ok()) return e;
    return Value::String(saved);
  }

  const Value& globals_;
  const std::string& today_;
  RenderLimits limits_;
  std::vector<Frame> frames_;
  std::vector<Value> namespaces_;
  std::string out_;
  uint64_t steps_ = 0;
  Control control_ = Control::kNone;
};

}  // namespace

Result<std::string> Template::Render(const Value& globals, const std::string& today, const RenderLimits& limits) const {
  if (root_ == nullptr) return Error(Status::kInvalidArgument, "chat template: nothing parsed");
  Renderer r(globals, today, limits);
  EF_RETURN_IF_ERROR(r.Exec(root_.get()));
  return r.output();
}

}  // namespace jinja
}  // namespace edgeformer
