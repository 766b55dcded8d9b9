#include "model/chat/jinja_builtins.h"

#include <algorithm>
#include <cmath>

#include "model/normalize.h"
#include "model/pretokenize.h"
#include "model/utf8.h"

namespace edgeformer {
namespace jinja {
namespace {

constexpr int64_t kMaxRange = 100000;   // chat templates count messages
constexpr size_t kMaxString = 16u << 20;  // no string a template makes grows past this
constexpr size_t kMaxList = 1u << 20;
using Kind = Value::Kind;

Error Bad(const std::string& what) { return Error(Status::kInvalidArgument, what); }

// A string's characters (Python indexes code points); a byte that is not UTF-8 is one character.
std::vector<std::string> Chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = utf8::Next(s, i, &cp);
    if (n == 0) n = 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool Space(const std::string& s, size_t i, size_t* n) {
  uint32_t cp = 0;
  *n = utf8::Next(s, i, &cp);
  return *n != 0 && IsWhiteSpace(cp);
}

// str.strip/lstrip/rstrip: White_Space, or the characters of `chars`.
std::string Strip(const std::string& s, const Value& chars, bool left, bool right) {
  const std::vector<std::string> cs = Chars(s);
  const bool custom = chars.is(Kind::kString);
  auto strip = [&](const std::string& c) {
    if (custom) return chars.str().find(c) != std::string::npos;
    size_t n = 0;
    return Space(c, 0, &n) && n == c.size();
  };
  size_t b = 0, e = cs.size();
  while (left && b < e && strip(cs[b])) ++b;
  while (right && e > b && strip(cs[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += cs[i];
  return out;
}

Value Split(const std::string& s, const Value& sep, int64_t maxsplit) {
  List parts;
  if (sep.is(Kind::kString) && !sep.str().empty()) {
    size_t start = 0;
    for (size_t at; (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) &&
                    (at = s.find(sep.str(), start)) != std::string::npos;
         start = at + sep.str().size()) {
      parts.push_back(Value::String(s.substr(start, at - start)));
    }
    parts.push_back(Value::String(s.substr(start)));
    return Value::MakeList(std::move(parts));
  }
  // No separator: runs of whitespace, none empty.
  const std::vector<std::string> cs = Chars(s);
  std::string word;
  for (size_t i = 0; i < cs.size(); ++i) {
    size_t n = 0;
    if (Space(cs[i], 0, &n) && (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit)) {
      if (!word.empty()) parts.push_back(Value::String(word));
      word.clear();
    } else {
      word += cs[i];
    }
  }
  if (!word.empty()) parts.push_back(Value::String(word));
  return Value::MakeList(std::move(parts));
}

std::string Upper(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  return out;
}

std::string Lower(const std::string& s) {
  std::string out;
  Lowercase(s, &out);
  return out;
}

std::string Capitalize(const std::string& s) {
  std::vector<std::string> cs = Chars(Lower(s));
  if (!cs.empty()) cs[0] = Upper(cs[0]);
  std::string out;
  for (const auto& c : cs) out += c;
  return out;
}

Result<std::string> ReplaceText(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) return s;
  size_t hits = 0;
  for (size_t at = 0; (count < 0 || static_cast<int64_t>(hits) < count) && (at = s.find(from, at)) != std::string::npos;
       at += from.size()) {
    ++hits;
  }
  if (to.size() > from.size() && hits * (to.size() - from.size()) + s.size() > kMaxString) {
    return Bad("replace makes a string longer than " + std::to_string(kMaxString) + " bytes");
  }
  std::string out;
  size_t start = 0;
  for (size_t at; count != 0 && (at = s.find(from, start)) != std::string::npos; start = at + from.size(), --count) {
    out += s.substr(start, at - start) + to;
  }
  return out + s.substr(start);
}

int64_t Length(const Value& v) {
  if (v.is(Kind::kString)) return static_cast<int64_t>(Chars(v.str()).size());
  if (v.is(Kind::kList)) return static_cast<int64_t>(v.list().size());
  if (v.mapping()) return static_cast<int64_t>(v.dict().size());
  return 0;
}

// The keyword argument `name` of a filter, else positional argument `index` (after the value).
Value Arg(const std::vector<Value>& args, const std::vector<std::string>& kw, size_t index, const char* name) {
  const size_t positional = args.size() - kw.size();
  for (size_t k = 0; k < kw.size(); ++k) {
    if (kw[k] == name) return args[positional + k];
  }
  return index < positional ? args[index] : Value();
}

List AsList(const Value& v) {
  if (v.is(Kind::kList)) return v.list();
  List out;
  if (v.mapping()) {
    for (const auto& [k, x] : v.dict()) out.push_back(Value::String(k));
  } else if (v.is(Kind::kString)) {
    for (const auto& c : Chars(v.str())) out.push_back(Value::String(c));
  }
  return out;
}

bool Less(const Value& a, const Value& b) {
  if (a.numeric() && b.numeric()) return a.as_float() < b.as_float();
  if (a.is(Kind::kString) && b.is(Kind::kString)) return a.str() < b.str();
  return false;
}

}  // namespace

Value Item(const Value& obj, const Value& key) {
  if (obj.mapping()) {
    const Value* v = obj.Find(key.ToString());
    return v != nullptr ? *v : Value();
  }
  if ((obj.is(Kind::kList) || obj.is(Kind::kString)) && key.numeric() && !key.is(Kind::kFloat)) {
    int64_t i = key.as_int();
    if (obj.is(Kind::kList)) {
      const int64_t n = static_cast<int64_t>(obj.list().size());
      if (i < 0) i += n;
      return i >= 0 && i < n ? obj.list()[static_cast<size_t>(i)] : Value();
    }
    const std::vector<std::string> cs = Chars(obj.str());
    const int64_t n = static_cast<int64_t>(cs.size());
    if (i < 0) i += n;
    return i >= 0 && i < n ? Value::String(cs[static_cast<size_t>(i)]) : Value();
  }
  return Value();
}

Result<Value> Slice(const Value& obj, const Value& start, const Value& stop, const Value& step_value) {
  const bool text = obj.is(Kind::kString);
  if (!text && !obj.is(Kind::kList)) return Bad("only lists and strings can be sliced");
  const List items = AsList(obj);
  const int64_t n = static_cast<int64_t>(items.size());
  const int64_t step = step_value.numeric() ? step_value.as_int() : 1;
  if (step == 0) return Bad("a slice step cannot be 0");
  auto clamp = [&](const Value& v, int64_t fallback) {
    if (!v.numeric()) return fallback;
    int64_t i = v.as_int();
    if (i < 0) i += n;
    return step > 0 ? std::clamp<int64_t>(i, 0, n) : std::clamp<int64_t>(i, -1, n - 1);
  };
  const int64_t b = clamp(start, step > 0 ? 0 : n - 1), e = clamp(stop, step > 0 ? n : -1);
  List out;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) out.push_back(items[static_cast<size_t>(i)]);
  if (!text) return Value::MakeList(std::move(out));
  std::string s;
  for (const Value& c : out) s += c.str();
  return Value::String(s);
}

Result<Value> BinaryOp(const std::string& op, const Value& a, const Value& b) {
  if (op == "~" || (op == "+" && a.is(Kind::kString) && b.is(Kind::kString))) {
    std::string x = a.ToString(), y = b.ToString();
    if (x.size() + y.size() > kMaxString) return Bad("a string longer than " + std::to_string(kMaxString) + " bytes");
    return Value::String(x + y);
  }
  if (op == "==") return Value::Bool(a.Equals(b));
  if (op == "!=") return Value::Bool(!a.Equals(b));
  if (op == "in" || op == "not in") {
    bool found = false;
    if (b.is(Kind::kString)) {
      if (!a.is(Kind::kString)) return Bad("'in <string>' needs a string on the left");
      found = b.str().find(a.str()) != std::string::npos;
    } else if (b.is(Kind::kList)) {
      for (const Value& x : b.list()) found = found || x.Equals(a);
    } else if (b.mapping()) {
      found = b.Find(a.ToString()) != nullptr;
    } else if (b.defined() && !b.is(Kind::kNone)) {
      return Bad("'in' needs a string, list or dict on the right");
    }
    return Value::Bool(op == "in" ? found : !found);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    const bool comparable = (a.numeric() && b.numeric()) || (a.is(Kind::kString) && b.is(Kind::kString));
    if (!comparable) return Bad("cannot compare " + a.Repr() + " and " + b.Repr());
    const bool lt = Less(a, b), gt = Less(b, a);
    if (op == "<") return Value::Bool(lt);
    if (op == ">") return Value::Bool(gt);
    if (op == "<=") return Value::Bool(!gt);
    return Value::Bool(!lt);
  }
  if (op == "+") {
    if (a.is(Kind::kString) && b.is(Kind::kString)) return Value::String(a.str() + b.str());
    if (a.is(Kind::kList) && b.is(Kind::kList)) {
      if (a.list().size() + b.list().size() > kMaxList) return Bad("a list longer than " + std::to_string(kMaxList));
      List l = a.list();
      l.insert(l.end(), b.list().begin(), b.list().end());
      return Value::MakeList(std::move(l));
    }
  }
  if (op == "*" && a.is(Kind::kString) && b.numeric() && !b.is(Kind::kFloat)) {
    const int64_t times = b.as_int();
    if (times > 0 && a.str().size() * static_cast<uint64_t>(times) > kMaxString) return Bad("a string repeated too long");
    std::string s;
    for (int64_t i = 0; i < times; ++i) s += a.str();
    return Value::String(s);
  }
  if (!a.numeric() || !b.numeric()) return Bad("'" + op + "' between " + a.Repr() + " and " + b.Repr());
  const bool real = a.is(Kind::kFloat) || b.is(Kind::kFloat) || op == "/";
  const double x = a.as_float(), y = b.as_float();
  if ((op == "/" || op == "//" || op == "%") && y == 0.0) return Bad("division by zero");
  if (real || op == "**") {
    double r = 0.0;
    if (op == "+") r = x + y;
    else if (op == "-") r = x - y;
    else if (op == "*") r = x * y;
    else if (op == "/") r = x / y;
    else if (op == "//") r = std::floor(x / y);
    else if (op == "%") r = x - y * std::floor(x / y);
    else r = std::pow(x, y);
    if (op == "**" && !real && std::fabs(r) < 9e18 && y >= 0) return Value::Int(static_cast<int64_t>(r));
    return Value::Float(r);
  }
  const int64_t i = a.as_int(), j = b.as_int();
  int64_t r = 0;
  if (op == "+" && !__builtin_add_overflow(i, j, &r)) return Value::Int(r);
  if (op == "-" && !__builtin_sub_overflow(i, j, &r)) return Value::Int(r);
  if (op == "*" && !__builtin_mul_overflow(i, j, &r)) return Value::Int(r);
  if (op == "//") return Value::Int(static_cast<int64_t>(std::floor(static_cast<double>(i) / static_cast<double>(j))));
  if (op == "%") return Value::Int(((i % j) + j) % j);
  return Bad("integer overflow in '" + op + "'");
}

Result<Value> ApplyTest(const std::string& name, const std::vector<Value>& args) {
  const Value& v = args[0];
  const Value arg = args.size() > 1 ? args[1] : Value();
  if (name == "defined") return Value::Bool(v.defined());
  if (name == "undefined") return Value::Bool(!v.defined());
  if (name == "none") return Value::Bool(v.is(Kind::kNone));
  if (name == "boolean") return Value::Bool(v.is(Kind::kBool));
  if (name == "true") return Value::Bool(v.is(Kind::kBool) && v.as_int() != 0);
  if (name == "false") return Value::Bool(v.is(Kind::kBool) && v.as_int() == 0);
  if (name == "integer") return Value::Bool(v.is(Kind::kInt));
  if (name == "float") return Value::Bool(v.is(Kind::kFloat));
  if (name == "number") return Value::Bool(v.is(Kind::kInt) || v.is(Kind::kFloat));
  if (name == "string") return Value::Bool(v.is(Kind::kString));
  if (name == "mapping") return Value::Bool(v.mapping());
  if (name == "iterable") return Value::Bool(v.is(Kind::kList) || v.is(Kind::kString) || v.mapping());
  if (name == "sequence") return Value::Bool(v.is(Kind::kList) || v.is(Kind::kString) || v.mapping());
  if (name == "callable") return Value::Bool(v.is(Kind::kMacro));
  if (name == "lower") return Value::Bool(v.is(Kind::kString) && Lower(v.str()) == v.str());
  if (name == "upper") return Value::Bool(v.is(Kind::kString) && Upper(v.str()) == v.str());
  if (name == "even" || name == "odd") {
    if (!v.numeric()) return Bad("'" + name + "' needs a number");
    return Value::Bool((v.as_int() % 2 == 0) == (name == "even"));
  }
  if (name == "divisibleby") {
    if (!v.numeric() || !arg.numeric() || arg.as_int() == 0) return Bad("'divisibleby' needs numbers");
    return Value::Bool(v.as_int() % arg.as_int() == 0);
  }
  static const std::pair<const char*, const char*> kCompare[] = {
      {"equalto", "=="}, {"eq", "=="}, {"==", "=="}, {"sameas", "=="}, {"ne", "!="}, {"!=", "!="}, {"lt", "<"},
      {"<", "<"},        {"le", "<="}, {"<=", "<="}, {"gt", ">"},      {">", ">"},   {"ge", ">="}, {">=", ">="},
      {"in", "in"}};
  for (const auto& [test, op] : kCompare) {
    if (name == test) return BinaryOp(op, v, arg);
  }
  return Bad("the test '" + name + "' is not supported");
}

Result<Value> ApplyFilter(const std::string& name, const std::vector<Value>& args, const std::vector<std::string>& kw) {
  const Value& v = args[0];
  auto arg = [&](size_t index, const char* key) { return Arg(args, kw, index, key); };
  if (name == "trim") return Value::String(Strip(v.ToString(), arg(1, "chars"), true, true));
  if (name == "length" || name == "count") return Value::Int(Length(v));
  if (name == "tojson") {
    const Value indent = arg(1, "indent");
    return Value::String(v.ToJson(indent.numeric() ? static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64)) : -1));
  }
  if (name == "string") return Value::String(v.ToString());
  if (name == "upper") return Value::String(Upper(v.ToString()));
  if (name == "lower") return Value::String(Lower(v.ToString()));
  if (name == "capitalize") return Value::String(Capitalize(v.ToString()));
  if (name == "safe") return v;
  if (name == "e" || name == "escape" || name == "forceescape") {
    std::string s = v.ToString(), out;
    for (char c : s) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
      }
    }
    return Value::String(out);
  }
  if (name == "default" || name == "d") {
    const bool boolean = arg(2, "boolean").Truthy();
    const bool use = boolean ? !v.Truthy() : !v.defined();
    return use ? (args.size() > 1 ? arg(1, "default_value") : Value::String("")) : v;
  }
  if (name == "join") {
    const Value sep = arg(1, "d"), attribute = arg(2, "attribute");
    std::string out;
    bool first = true;
    for (const Value& x : AsList(v)) {
      out += (first ? "" : sep.ToString()) + (attribute.defined() ? Item(x, attribute).ToString() : x.ToString());
      first = false;
    }
    return Value::String(out);
  }
  if (name == "first" || name == "last") {
    const List l = AsList(v);
    return l.empty() ? Value() : (name == "first" ? l.front() : l.back());
  }
  if (name == "list") return Value::MakeList(AsList(v));
  if (name == "items") {
    List out;
    if (v.mapping()) {
      for (const auto& [k, x] : v.dict()) out.push_back(Value::MakeTuple({Value::String(k), x}));
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "reverse") {
    List l = AsList(v);
    std::reverse(l.begin(), l.end());
    if (!v.is(Kind::kString)) return Value::MakeList(std::move(l));
    std::string s;
    for (const Value& c : l) s += c.str();
    return Value::String(s);
  }
  if (name == "replace") {
    const Value count = arg(3, "count");
    Result<std::string> r = ReplaceText(v.ToString(), arg(1, "old").ToString(), arg(2, "new").ToString(),
                                        count.numeric() ? count.as_int() : -1);
    if (!r.ok()) return r.error();
    return Value::String(r.take());
  }
  if (name == "int") return Value::Int(v.numeric() ? v.as_int() : v.is(Kind::kString) ? std::strtoll(v.str().c_str(), nullptr, 10) : 0);
  if (name == "float") return Value::Float(v.numeric() ? v.as_float() : v.is(Kind::kString) ? std::strtod(v.str().c_str(), nullptr) : 0.0);
  if (name == "abs") {
    if (!v.numeric()) return Bad("'abs' needs a number");
    return v.is(Kind::kFloat) ? Value::Float(std::fabs(v.as_float())) : Value::Int(std::llabs(v.as_int()));
  }
  if (name == "indent") {
    const Value width = arg(1, "width");
    const std::string pad(width.numeric() ? static_cast<size_t>(std::clamp<int64_t>(width.as_int(), 0, 256)) : 4, ' ');
    const bool first = arg(2, "first").Truthy(), blank = arg(3, "blank").Truthy();
    const std::string s = v.ToString();
    std::string out;
    size_t start = 0;
    for (bool at_first = true;; at_first = false) {
      const size_t nl = s.find('\n', start);
      const std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if ((!at_first || first) && (blank || !line.empty())) out += pad;
      out += line;
      if (nl == std::string::npos) break;
      out += '\n';
      start = nl + 1;
    }
    return Value::String(out);
  }
  if (name == "selectattr" || name == "rejectattr" || name == "select" || name == "reject") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_when = name == "selectattr" || name == "select";
    const size_t t = by_attr ? 2 : 1;
    List out;
    for (const Value& x : AsList(v)) {
      const Value subject = by_attr ? Item(x, args.size() > 1 ? args[1] : Value()) : x;
      bool pass = subject.Truthy();
      if (args.size() > t) {
        std::vector<Value> targs = {subject};
        for (size_t k = t + 1; k < args.size(); ++k) targs.push_back(args[k]);
        Result<Value> r = ApplyTest(args[t].ToString(), targs);
        if (!r.ok()) return r.error();
        pass = r.value().Truthy();
      }
      if (pass == keep_when) out.push_back(x);
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "map") {
    const Value attribute = arg(99, "attribute");
    List out;
    for (const Value& x : AsList(v)) {
      if (attribute.defined()) {
        out.push_back(Item(x, attribute));
      } else {
        std::vector<Value> fargs = {x};
        for (size_t k = 2; k < args.size(); ++k) fargs.push_back(args[k]);
        Result<Value> r = ApplyFilter(args.size() > 1 ? args[1].ToString() : "", fargs, {});
        if (!r.ok()) return r.error();
        out.push_back(r.take());
      }
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "unique") {
    List out;
    for (const Value& x : AsList(v)) {
      bool seen = false;
      for (const Value& y : out) seen = seen || y.Equals(x);
      if (!seen) out.push_back(x);
    }
    return Value::MakeList(std::move(out));
  }
  return Bad("the filter '" + name + "' is not supported");
}

Result<Value> CallMethod(const Value& obj, const std::string& name, const std::vector<Value>& args) {
  const Value a0 = args.size() > 0 ? args[0] : Value(), a1 = args.size() > 1 ? args[1] : Value();
  if (obj.is(Kind::kString)) {
    const std::string& s = obj.str();
    if (name == "strip") return Value::String(Strip(s, a0, true, true));
    if (name == "lstrip") return Value::String(Strip(s, a0, true, false));
    if (name == "rstrip") return Value::String(Strip(s, a0, false, true));
    if (name == "split") return Split(s, a0, a1.numeric() ? a1.as_int() : -1);
    if (name == "upper") return Value::String(Upper(s));
    if (name == "lower") return Value::String(Lower(s));
    if (name == "capitalize") return Value::String(Capitalize(s));
    if (name == "replace") {
      Result<std::string> r = ReplaceText(s, a0.ToString(), a1.ToString(), args.size() > 2 && args[2].numeric() ? args[2].as_int() : -1);
      if (!r.ok()) return r.error();
      return Value::String(r.take());
    }
    if (name == "startswith" || name == "endswith") {
      const List options = a0.is(Kind::kList) ? a0.list() : List{a0};
      for (const Value& o : options) {
        const std::string& p = o.ToString();
        const bool hit = name == "startswith" ? s.compare(0, p.size(), p) == 0
                                              : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
        if (hit) return Value::Bool(true);
      }
      return Value::Bool(false);
    }
    if (name == "find") {
      const size_t at = s.find(a0.ToString());
      return Value::Int(at == std::string::npos ? -1 : static_cast<int64_t>(Chars(s.substr(0, at)).size()));
    }
    if (name == "count") {
      int64_t n = 0;
      const std::string p = a0.ToString();
      for (size_t at = 0; !p.empty() && (at = s.find(p, at)) != std::string::npos; at += p.size()) ++n;
      return Value::Int(n);
    }
    if (name == "join") return ApplyFilter("join", {a0, obj}, {});
    if (name == "isspace" || name == "isdigit" || name == "isalpha") {
      bool all = !s.empty();
      for (const std::string& c : Chars(s)) {
        size_t n = 0;
        const unsigned char b = static_cast<unsigned char>(c[0]);
        all = all && (name == "isspace" ? Space(c, 0, &n) : name == "isdigit" ? (b >= '0' && b <= '9') : std::isalpha(b) != 0);
      }
      return Value::Bool(all);
    }
  } else if (obj.is(Kind::kList)) {
    // Lists are immutable, as in Hugging Face's sandbox (append and pop are refused there too).
    if (name == "index") {
      for (size_t i = 0; i < obj.list().size(); ++i) {
        if (obj.list()[i].Equals(a0)) return Value::Int(static_cast<int64_t>(i));
      }
      return Bad(a0.Repr() + " is not in the list");
    }
  } else if (obj.mapping()) {
    if (name == "items") return ApplyFilter("items", {obj}, {});
    if (name == "keys") return ApplyFilter("list", {obj}, {});
    if (name == "values") {
      List out;
      for (const auto& [k, x] : obj.dict()) out.push_back(x);
      return Value::MakeList(std::move(out));
    }
    if (name == "get") {
      const Value* v = obj.Find(a0.ToString());
      return v != nullptr ? *v : (args.size() > 1 ? a1 : Value::None());
    }
  }
  return Bad("the method '" + name + "' is not supported on " + (obj.defined() ? obj.Repr().substr(0, 40) : "an undefined value"));
}

bool IsGlobalFunction(const std::string& name) {
  return name == "range" || name == "namespace" || name == "raise_exception" || name == "strftime_now";
}

Result<Value> CallGlobal(const std::string& name, const std::vector<Value>& args,
                         const std::vector<std::pair<std::string, Value>>& kwargs, const std::string& today) {
  if (name == "raise_exception") {
    return Error(Status::kInvalidArgument, "the template refuses the conversation: " + (args.empty() ? "" : args[0].ToString()));
  }
  if (name == "namespace") {
    const Value ns = Value::Namespace();
    if (!args.empty() && args[0].mapping()) {
      for (const auto& [k, v] : args[0].dict()) ns.Set(k, v);
    }
    for (const auto& [k, v] : kwargs) ns.Set(k, v);
    return ns;
  }
  if (name == "range") {
    int64_t start = 0, stop = 0, step = 1;
    for (const Value& a : args) {
      if (!a.numeric()) return Bad("range needs integers");
    }
    if (args.size() == 1) stop = args[0].as_int();
    if (args.size() >= 2) start = args[0].as_int(), stop = args[1].as_int();
    if (args.size() >= 3) step = args[2].as_int();
    if (args.empty() || args.size() > 3 || step == 0) return Bad("range takes 1 to 3 integers, the step not 0");
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (static_cast<int64_t>(out.size()) >= kMaxRange) return Bad("range is longer than " + std::to_string(kMaxRange));
      out.push_back(Value::Int(i));
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "strftime_now") {
    static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
    const int year = std::atoi(today.c_str()), month = std::clamp(std::atoi(today.c_str() + 5), 1, 12);
    const int day = std::atoi(today.c_str() + 8);
    const std::string format = args.empty() ? "" : args[0].ToString();
    std::string out;
    char buf[16];
    for (size_t i = 0; i < format.size(); ++i) {
      if (format[i] != '%' || i + 1 >= format.size()) {
        out += format[i];
        continue;
      }
      const char f = format[++i];
      switch (f) {
        case 'd': std::snprintf(buf, sizeof(buf), "%02d", day); out += buf; break;
        case 'm': std::snprintf(buf, sizeof(buf), "%02d", month); out += buf; break;
        case 'Y': out += std::to_string(year); break;
        case 'y': std::snprintf(buf, sizeof(buf), "%02d", year % 100); out += buf; break;
        case 'B': out += kMonths[month - 1]; break;
        case 'b': out += std::string(kMonths[month - 1]).substr(0, 3); break;
        case '%': out += '%'; break;
        default: return Bad(std::string("strftime_now: %") + f + " is not supported");
      }
    }
    return Value::String(out);
  }
  return Bad("the function '" + name + "' is not defined");
}

}  // namespace jinja
}  // namespace edgeformer
