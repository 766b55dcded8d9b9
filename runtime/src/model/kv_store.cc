// The session's KV cache regions (Session::KvStore): where each cache layer's keys, values and
// int8 scales sit.
#include "model/session.h"

namespace edgeformer {

void Session::KvStore::AddLayer(size_t slots, size_t ring, uint32_t window, size_t kv_dim, size_t n_kv_heads,
                                KvType type) {
  auto Align64 = [](size_t n) { return (n + 63) / 64 * 64; };
  CacheLayout layout;
  layout.slots = slots;
  layout.ring = ring;
  layout.window = window;
  layout.offset = bytes;
  bytes += Align64(slots * kv_dim * KvTypeBytes(type));
  if (type == KvType::kI8) {  // a scale per kv head and slot after the values
    layout.scales = bytes;
    bytes += Align64(slots * n_kv_heads * sizeof(float));
  }
  layouts.push_back(layout);
}

LayerCache Session::KvStore::View(size_t l, size_t head_dim, KvType type, size_t slots) const {
  const CacheLayout& layout = layouts[l];
  const size_t head_slots = slots != 0 && slots < layout.slots ? slots : layout.slots;
  LayerCache cache{k.as<char>() + layout.offset, v.as<char>() + layout.offset, head_slots * head_dim, type,
                   layout.ring, nullptr, nullptr, {}};
  if (type == KvType::kI8) {
    cache.k_scales = reinterpret_cast<float*>(k.as<char>() + layout.scales);
    cache.v_scales = reinterpret_cast<float*>(v.as<char>() + layout.scales);
  }
  return cache;
}

}  // namespace edgeformer
