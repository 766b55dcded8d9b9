// Values of the chat-template language: truthiness, printing as Python prints, JSON as Python's
// json.dumps writes it, equality.
#include <cmath>
#include <cstdio>

#include "model/chat/jinja.h"

namespace edgeformer {
namespace jinja {
namespace {

// Python's repr of a float: the shortest text that reads back, with ".0" on whole numbers.
std::string FloatText(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, f);
    if (std::strtod(buf, nullptr) == f) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string Quote(const std::string& s) {
  // Python's repr: single quotes unless the text has one and no double quote.
  const char q = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out + q;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

Value* Value::Find(std::string_view key) const {
  if (!mapping()) return nullptr;
  for (auto& [k, v] : *dict_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Value::Set(const std::string& key, Value v) const {
  if (!mapping()) return;
  if (Value* slot = Find(key)) {
    *slot = std::move(v);
  } else {
    dict_->emplace_back(key, std::move(v));
  }
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return int_ != 0;
    case Kind::kFloat: return float_ != 0.0;
    case Kind::kString: return !string_->empty();
    case Kind::kList: return !list_->empty();
    case Kind::kDict: return !dict_->empty();
    default: return true;
  }
}

std::string Value::ToString() const {
  return kind_ == Kind::kString ? *string_ : Repr();
}

namespace {
constexpr int kMaxDepth = 64;
constexpr size_t kMaxText = size_t{1} << 20;
}  // namespace

std::string Value::Repr() const {
  std::string out;
  AppendRepr(&out, 0);
  return out;
}

void Value::AppendRepr(std::string* out, int depth) const {
  if (out->size() > kMaxText) return;
  switch (kind_) {
    case Kind::kUndefined: return;
    case Kind::kNone: *out += "None"; return;
    case Kind::kBool: *out += int_ ? "True" : "False"; return;
    case Kind::kInt: *out += std::to_string(int_); return;
    case Kind::kFloat: *out += FloatText(float_); return;
    case Kind::kString: *out += Quote(*string_); return;
    case Kind::kList: {
      if (depth >= kMaxDepth) {
        *out += "[...]";
        return;
      }
      *out += tuple_ ? "(" : "[";
      for (size_t i = 0; i < list_->size() && out->size() <= kMaxText; ++i) {
        if (i) *out += ", ";
        (*list_)[i].AppendRepr(out, depth + 1);
      }
      *out += tuple_ ? (list_->size() == 1 ? ",)" : ")") : "]";
      return;
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      if (depth >= kMaxDepth) {
        *out += "{...}";
        return;
      }
      *out += kind_ == Kind::kNamespace ? "<Namespace {" : "{";
      for (size_t i = 0; i < dict_->size() && out->size() <= kMaxText; ++i) {
        *out += (i ? ", " : "") + Quote((*dict_)[i].first) + ": ";
        (*dict_)[i].second.AppendRepr(out, depth + 1);
      }
      *out += kind_ == Kind::kNamespace ? "}>" : "}";
      return;
    }
    case Kind::kMacro: *out += "<Macro>"; return;
  }
}

std::string Value::ToJson(int indent) const {
  std::string out;
  AppendJson(&out, indent, 0);
  return out;
}

void Value::AppendJson(std::string* out, int indent, int depth) const {
  if (out->size() > kMaxText) return;
  const std::string newline = indent >= 0 ? "\n" + std::string(static_cast<size_t>(indent) * (depth + 1), ' ') : "";
  const std::string close = indent >= 0 ? "\n" + std::string(static_cast<size_t>(indent) * depth, ' ') : "";
  const char* comma = indent >= 0 ? "," : ", ";
  if (depth >= kMaxDepth && (kind_ == Kind::kList || mapping())) {
    *out += "null";
    return;
  }
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
    case Kind::kMacro: *out += "null"; return;
    case Kind::kBool: *out += int_ ? "true" : "false"; return;
    case Kind::kInt: *out += std::to_string(int_); return;
    case Kind::kFloat:
      *out += std::isfinite(float_) ? FloatText(float_) : (std::isnan(float_) ? "NaN" : float_ > 0 ? "Infinity" : "-Infinity");
      return;
    case Kind::kString: *out += JsonString(*string_); return;
    case Kind::kList:
      if (list_->empty()) {
        *out += "[]";
        return;
      }
      *out += "[";
      for (size_t i = 0; i < list_->size() && out->size() <= kMaxText; ++i) {
        *out += (i ? comma : "") + newline;
        (*list_)[i].AppendJson(out, indent, depth + 1);
      }
      *out += close + "]";
      return;
    case Kind::kDict:
    case Kind::kNamespace:
      if (dict_->empty()) {
        *out += "{}";
        return;
      }
      *out += "{";
      for (size_t i = 0; i < dict_->size() && out->size() <= kMaxText; ++i) {
        *out += (i ? comma : "") + newline + JsonString((*dict_)[i].first) + ": ";
        (*dict_)[i].second.AppendJson(out, indent, depth + 1);
      }
      *out += close + "}";
      return;
  }
}

bool Value::Equals(const Value& o) const {
  uint64_t budget = 1000000;
  return EqualsWithin(o, 0, &budget);
}

bool Value::EqualsWithin(const Value& o, int depth, uint64_t* budget) const {
  if (*budget == 0 || depth > kMaxDepth) return false;
  --*budget;
  if (numeric() && o.numeric()) {
    return (kind_ == Kind::kFloat || o.kind_ == Kind::kFloat) ? as_float() == o.as_float() : int_ == o.int_;
  }
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return *string_ == *o.string_;
    case Kind::kList:
      if (list_ == o.list_) return true;
      if (list_->size() != o.list_->size()) return false;
      for (size_t i = 0; i < list_->size(); ++i) {
        if (!(*list_)[i].EqualsWithin((*o.list_)[i], depth + 1, budget)) return false;
      }
      return true;
    case Kind::kDict:
    case Kind::kNamespace:
      if (dict_ == o.dict_) return true;
      if (dict_->size() != o.dict_->size()) return false;
      for (const auto& [k, v] : *dict_) {
        const Value* other = o.Find(k);
        if (other == nullptr || !v.EqualsWithin(*other, depth + 1, budget)) return false;
      }
      return true;
    case Kind::kMacro: return macro_ == o.macro_;
    default: return false;
  }
}

}  // namespace jinja
}  // namespace edgeformer
