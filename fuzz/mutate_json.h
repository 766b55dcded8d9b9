// Structure-aware JSON mutation for the converter's inputs (config.json, tokenizer.json, the
// safetensors header): parse, change one node (a number to a boundary value, a string's bytes or
// kind, an array's or object's members), write back. Header-only, internal linkage.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "fuzz/mutate_util.h"

namespace edgeformer {
namespace fuzz {
namespace {

using Json = nlohmann::json;

// Every node of `j`, depth first, at most `limit`.
void CollectNodes(Json& j, std::vector<Json*>* nodes, size_t limit) {
  if (nodes->size() >= limit) return;
  nodes->push_back(&j);
  if (j.is_object() || j.is_array()) {
    for (auto& child : j) CollectNodes(child, nodes, limit);
  }
}

std::string MutateString(Rng& rng, std::string s) {
  switch (rng.Below(8)) {
    case 0: return "";
    case 1: return s + s;
    case 2:
      if (!s.empty()) s[rng.Below(s.size())] = static_cast<char>(rng.Below(256));
      return s;
    case 3:
      if (!s.empty()) s.erase(rng.Below(s.size()), 1);
      return s;
    case 4: return s + std::string(1, static_cast<char>(rng.Below(128)));
    case 5: return std::string(1 + rng.Below(2000), 'a');
    case 6: return std::to_string(static_cast<int64_t>(InterestingUnsigned(rng, 0)));
    default: return s.empty() ? s : s.substr(0, rng.Below(s.size()));
  }
}

// Changes one node of `root`; `hot` names object keys whose values are picked more often (ids,
// shapes, offsets: what the readers bound memory with).
void MutateJson(Rng& rng, Json& root, const std::vector<std::string>& hot = {}) {
  std::vector<Json*> nodes;
  CollectNodes(root, &nodes, 1 << 16);
  Json* node = nodes[rng.Below(nodes.size())];
  if (!hot.empty() && rng.OneIn(2)) {
    std::vector<Json*> hot_nodes;
    for (Json* n : nodes) {
      if (!n->is_object()) continue;
      for (const std::string& key : hot) {
        auto it = n->find(key);
        if (it != n->end()) hot_nodes.push_back(&*it);
      }
    }
    if (!hot_nodes.empty()) {
      node = hot_nodes[rng.Below(hot_nodes.size())];
      if (node->is_array() && !node->empty() && rng.OneIn(2)) node = &(*node)[rng.Below(node->size())];
    }
  }
  Json& j = *node;
  if (rng.OneIn(10)) {  // a value of another kind
    switch (rng.Below(6)) {
      case 0: j = nullptr; break;
      case 1: j = false; break;
      case 2: j = Json::array(); break;
      case 3: j = Json::object(); break;
      case 4: j = "x"; break;
      default: j = -1; break;
    }
    return;
  }
  if (j.is_number_integer() || j.is_number_unsigned()) {
    const int64_t v = j.get<int64_t>();
    switch (rng.Below(4)) {
      case 0: j = InterestingInt32(rng, static_cast<int32_t>(v)); break;
      case 1: j = static_cast<int64_t>(InterestingUnsigned(rng, static_cast<uint64_t>(v))); break;
      case 2: j = InterestingUnsigned(rng, static_cast<uint64_t>(v)); break;
      default: j = static_cast<double>(v) + 0.5; break;
    }
  } else if (j.is_number_float()) {
    const float f = InterestingFloat(rng, static_cast<float>(j.get<double>()));
    j = f == f ? Json(static_cast<double>(f)) : Json(nullptr);  // JSON has no NaN
  } else if (j.is_string()) {
    j = MutateString(rng, j.get<std::string>());
  } else if (j.is_boolean()) {
    j = !j.get<bool>();
  } else if (j.is_array()) {
    switch (rng.Below(5)) {
      case 0: j.clear(); break;
      case 1:
        if (!j.empty()) j.erase(rng.Below(j.size()));
        break;
      case 2:
        if (!j.empty()) j.push_back(j[rng.Below(j.size())]);
        break;
      case 3:
        if (j.size() > 1) std::swap(j[rng.Below(j.size())], j[rng.Below(j.size())]);
        break;
      default: j.push_back(static_cast<int64_t>(InterestingUnsigned(rng, 0))); break;
    }
  } else if (j.is_object() && !j.empty()) {
    auto it = j.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng.Below(j.size())));
    const std::string key = it.key();
    switch (rng.Below(3)) {
      case 0: j.erase(key); break;
      case 1: j[MutateString(rng, key)] = it.value(); break;
      default: {
        Json value = it.value();
        j.erase(key);
        j[MutateString(rng, key)] = value;
        break;
      }
    }
  } else {
    j = 0;
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace edgeformer
