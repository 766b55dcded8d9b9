// Structure-aware mutator of edgeformer model files, for fuzz_model_structured (the loader and a
// session, as fuzz_model). It parses the FlatBuffer header, changes one to three values of it (an
// architecture field, a tokenizer offset, id, score, type, byte value or merge (or a RankedBPE
// tokenizer's step, added token or template id), a tensor's role,
// layer, shape, dtype, layout or segment; a vector's length; a tensor removed or duplicated) or of
// the weight section (scale and row-sum bits), then writes the header again and moves the weight
// segments' offsets with it. Most outputs pass the FlatBuffers verifier, so the fuzzing time goes
// to the loader's own value checks, which byte-level mutation rarely reaches. Inputs that do not
// parse, and one in eight that do, get libFuzzer's byte-level mutation.
#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/mutate_util.h"
#include "model_generated.h"

namespace edgeformer {
namespace fuzz {
namespace {

namespace s = schema;

uint64_t Align64(uint64_t v) { return (v + 63) / 64 * 64; }

template <typename T>
void MutateElement(Rng& rng, std::vector<T>& v, T (*mutate)(Rng&, T)) {
  if (v.empty()) return;
  T& e = v[rng.Below(v.size())];
  e = mutate(rng, e);
}

uint32_t MutU32(Rng& rng, uint32_t v) { return static_cast<uint32_t>(InterestingUnsigned(rng, v)); }
uint64_t MutU64(Rng& rng, uint64_t v) { return InterestingUnsigned(rng, v); }
uint8_t MutU8(Rng& rng, uint8_t v) { return static_cast<uint8_t>(InterestingUnsigned(rng, v)); }
int32_t MutI32(Rng& rng, int32_t v) { return InterestingInt32(rng, v); }
float MutF32(Rng& rng, float v) { return InterestingFloat(rng, v); }

// Shortens, lengthens (repeating an element) or empties a vector.
template <typename T>
void Resize(Rng& rng, std::vector<T>& v) {
  switch (rng.Below(4)) {
    case 0: v.clear(); break;
    case 1: if (!v.empty()) v.pop_back(); break;
    case 2: v.push_back(v.empty() ? T{} : v[rng.Below(v.size())]); break;
    default: v.resize(v.size() / 2); break;
  }
}

// The stack: a layer spec's kinds, window, rotary base and flags (a layer spec added or dropped),
// and the stack's scales, caps and prefix.
void MutateStack(Rng& rng, s::StackSpecT& st) {
  if (st.layers.empty() || rng.OneIn(8)) {
    if (!st.layers.empty() && rng.OneIn(2)) {
      st.layers.pop_back();
    } else {
      st.layers.push_back(std::make_unique<s::LayerSpecT>(st.layers.empty() ? s::LayerSpecT{} : *st.layers.front()));
    }
    return;
  }
  s::LayerSpecT& l = *st.layers[rng.Below(st.layers.size())];
  float* floats[] = {&st.embedding_scale, &st.attention_scale, &st.attention_softcap, &st.logit_softcap, &l.rope_theta};
  switch (rng.Below(5)) {
    case 0: {
      float* f = floats[rng.Below(sizeof(floats) / sizeof(floats[0]))];
      *f = MutF32(rng, *f);
      break;
    }
    case 1:
      switch (rng.Below(3)) {
        case 0: l.sliding_window = MutU32(rng, l.sliding_window); break;
        case 1: l.rotary_dim = MutU32(rng, l.rotary_dim); break;
        default: st.prefix_len = MutU32(rng, st.prefix_len); break;
      }
      break;
    case 2:
      switch (rng.Below(4)) {
        case 0: l.norm_placement = InterestingEnum<s::NormPlacement>(rng, 3); break;
        case 1: l.mask = InterestingEnum<s::AttentionMask>(rng, 3); break;
        case 2: l.position = InterestingEnum<s::PositionKind>(rng, 6); break;
        default: l.activation = InterestingEnum<s::Activation>(rng, 7); break;
      }
      break;
    case 3:
      switch (rng.Below(5)) {
        case 0: l.qk_norm = !l.qk_norm; break;
        case 1: l.attention_bias = !l.attention_bias; break;
        case 2: l.cross_attention = !l.cross_attention; break;
        case 3: st.shared_embedding = !st.shared_embedding; break;
        default: l.mlp_bias = !l.mlp_bias; break;
      }
      break;
    default: l.norm = InterestingEnum<s::NormKind>(rng, 2); break;
  }
}

void MutateArchitecture(Rng& rng, s::ArchitectureT& a) {
  if (a.stack != nullptr && rng.OneIn(3)) {
    MutateStack(rng, *a.stack);
    return;
  }
  // An encoder-decoder's encoder (a nested Architecture, mutated alike), start and suppressed ids.
  if (rng.OneIn(5)) {
    switch (rng.Below(5)) {
      case 4:
        if (rng.OneIn(2)) {
          a.forced_start_ids = MutU32(rng, a.forced_start_ids);
        } else {
          a.forced_eos_id = MutI32(rng, a.forced_eos_id);
        }
        break;
      case 0:
        if (a.encoder != nullptr && !rng.OneIn(8)) {
          MutateArchitecture(rng, *a.encoder);
        } else if (a.encoder != nullptr) {
          a.encoder.reset();
        } else {
          a.encoder = std::make_unique<s::ArchitectureT>();
        }
        break;
      case 1: MutateElement(rng, a.decoder_start_ids, &MutI32); break;
      case 2: MutateElement(rng, a.suppress_ids, &MutI32); break;
      default: a.family = s::ModelFamily::EncoderDecoder; break;
    }
    return;
  }
  uint32_t* uints[] = {&a.n_layers, &a.dim, &a.hidden_dim, &a.n_heads, &a.n_kv_heads, &a.head_dim,
                       &a.vocab_size, &a.max_seq_len, &a.rotary_dim, &a.rope_original_max_seq_len};
  float* floats[] = {&a.norm_eps, &a.rope_theta, &a.rope_scaling_factor, &a.rope_low_freq_factor,
                     &a.rope_high_freq_factor};
  switch (rng.Below(6)) {
    case 0:
    case 1: {
      uint32_t* f = uints[rng.Below(sizeof(uints) / sizeof(uints[0]))];
      *f = MutU32(rng, *f);
      break;
    }
    case 2: {
      float* f = floats[rng.Below(sizeof(floats) / sizeof(floats[0]))];
      *f = MutF32(rng, *f);
      break;
    }
    case 3:
      switch (rng.Below(5)) {
        case 0: a.family = InterestingEnum<s::ModelFamily>(rng, 3); break;
        case 1: a.norm = InterestingEnum<s::NormKind>(rng, 2); break;
        case 2: a.activation = InterestingEnum<s::Activation>(rng, 4); break;
        case 3: a.position = InterestingEnum<s::PositionKind>(rng, 5); break;
        default: a.rope_scaling = InterestingEnum<s::RopeScaling>(rng, 4); break;
      }
      break;
    case 4:
      switch (rng.Below(3)) {
        case 0: a.tied_embeddings = !a.tied_embeddings; break;
        case 1: a.attention_bias = !a.attention_bias; break;
        default: a.mlp_bias = !a.mlp_bias; break;
      }
      break;
    default:
      if (rng.OneIn(2)) {
        a.bos_id = MutI32(rng, a.bos_id);
      } else {
        a.eos_id = MutI32(rng, a.eos_id);
      }
      break;
  }
}

// The RankedBPE fields: the pipeline's steps (kinds, options, texts), added tokens (ids, flags,
// content), the template's ids and the BPE options.
void MutateRanked(Rng& rng, s::TokenizerT& t) {
  auto text = [&](std::string& s) {
    switch (rng.Below(4)) {
      case 0: s.clear(); break;
      case 1: s.assign(rng.OneIn(2) ? 257 + rng.Below(4096) : 1 + rng.Below(4), static_cast<char>(rng.Next())); break;
      case 2: s = rng.OneIn(2) ? "\xE2\x96\x81" : " "; break;
      default:
        if (!s.empty()) s[rng.Below(s.size())] = static_cast<char>(rng.Next());
        break;
    }
  };
  switch (rng.Below(8)) {
    case 0:
      if (t.normalizers.empty() || rng.OneIn(4)) {
        t.normalizers.push_back(std::make_unique<s::NormalizerStepT>());
        while (rng.OneIn(8) && t.normalizers.size() < 20) t.normalizers.push_back(std::make_unique<s::NormalizerStepT>());
      } else {
        auto& n = t.normalizers[rng.Below(t.normalizers.size())];
        if (n == nullptr) n = std::make_unique<s::NormalizerStepT>();
        switch (rng.Below(5)) {
          case 0: n->kind = InterestingEnum<s::NormalizerKind>(rng, 12); break;
          case 1: text(n->pattern); break;
          case 2: text(n->content); break;
          case 3:  // a Precompiled charsmap's bytes: its trie units, size header and strings
            if (n->data.empty() || rng.OneIn(4)) {
              Resize(rng, n->data);
            } else {
              MutateElement(rng, n->data, &MutU8);
            }
            break;
          default: n->left = !n->left, n->right = rng.OneIn(2); break;
        }
      }
      break;
    case 1:
      if (t.pre_tokenizers.empty() || rng.OneIn(4)) {
        t.pre_tokenizers.push_back(std::make_unique<s::PreTokenizerStepT>());
      } else {
        auto& p = t.pre_tokenizers[rng.Below(t.pre_tokenizers.size())];
        if (p == nullptr) p = std::make_unique<s::PreTokenizerStepT>();
        switch (rng.Below(6)) {
          case 0: p->kind = InterestingEnum<s::PreTokenizerKind>(rng, 5); break;
          case 1: text(p->pattern); break;
          case 2: p->split_regex = InterestingEnum<s::Pretokenizer>(rng, 4); break;
          case 3: p->behavior = InterestingEnum<s::SplitBehavior>(rng, 5); break;
          case 4: p->prepend_scheme = InterestingEnum<s::PrependScheme>(rng, 3); break;
          default:
            p->invert = rng.OneIn(2), p->add_prefix_space = rng.OneIn(2), p->use_regex = rng.OneIn(2);
            p->split = rng.OneIn(2), p->individual_digits = rng.OneIn(2);
            break;
        }
      }
      break;
    case 2:
    case 3:
      if (t.added_tokens.empty() || rng.OneIn(4)) {
        auto a = std::make_unique<s::AddedTokenT>();
        a->id = static_cast<int32_t>(rng.Below(t.types.size() + 2));
        a->content = "<x>";
        t.added_tokens.push_back(std::move(a));
      } else {
        auto& a = t.added_tokens[rng.Below(t.added_tokens.size())];
        if (a == nullptr) a = std::make_unique<s::AddedTokenT>();
        switch (rng.Below(3)) {
          case 0: a->id = MutI32(rng, a->id); break;
          case 1: text(a->content); break;
          default:
            a->special = rng.OneIn(2), a->lstrip = rng.OneIn(2), a->rstrip = rng.OneIn(2);
            a->single_word = rng.OneIn(2), a->normalized = rng.OneIn(2), a->in_vocabulary = rng.OneIn(2);
            break;
        }
      }
      break;
    case 4: {
      auto& ids = rng.OneIn(2) ? t.template_prefix : t.template_suffix;
      if (ids.empty() || rng.OneIn(3)) {
        ids.resize(rng.Below(20));
      } else {
        MutateElement(rng, ids, &MutI32);
      }
      break;
    }
    default:
      switch (rng.Below(9)) {
        case 0: t.byte_fallback = !t.byte_fallback; break;
        case 1: t.ignore_merges = !t.ignore_merges; break;
        case 2: t.fuse_unk = !t.fuse_unk; break;
        case 3: t.hf_unigram = !t.hf_unigram; break;
        case 4: t.unknown_as_piece = !t.unknown_as_piece; break;
        // Unigram's segment-only pieces: offsets, scores (NaN, infinities) and bytes.
        case 5: MutateElement(rng, t.segment_offsets, &MutU32); break;
        case 6: MutateElement(rng, t.segment_scores, &MutF32); break;
        case 7:
          switch (rng.Below(3)) {
            case 0: Resize(rng, t.segment_data); break;
            case 1: Resize(rng, t.segment_offsets); break;
            default: Resize(rng, t.segment_scores); break;
          }
          break;
        default: t.marker_spaces = !t.marker_spaces; break;
      }
      break;
  }
}

void MutateTokenizer(Rng& rng, s::TokenizerT& t) {
  if ((t.kind == s::TokenizerKind::RankedBPE || t.kind == s::TokenizerKind::Unigram) && rng.OneIn(2)) {
    return MutateRanked(rng, t);
  }
  switch (rng.Below(14)) {
    case 0: t.kind = InterestingEnum<s::TokenizerKind>(rng, 5); break;
    case 1: t.pretokenizer = InterestingEnum<s::Pretokenizer>(rng, 4); break;
    case 2: {
      int32_t* ids[] = {&t.bos_id, &t.eos_id, &t.unk_id};
      int32_t* id = ids[rng.Below(3)];
      *id = MutI32(rng, *id);
      break;
    }
    case 3:
    case 4: MutateElement(rng, t.piece_offsets, &MutU32); break;  // the offsets the crash came from
    case 5:
      if (rng.OneIn(2)) {
        MutateElement(rng, t.piece_data, &MutU8);
      } else {
        Resize(rng, t.piece_data);
      }
      break;
    case 6: MutateElement(rng, t.scores, &MutF32); break;
    case 7:
      if (!t.types.empty()) t.types[rng.Below(t.types.size())] = InterestingEnum<s::TokenType>(rng, 6);
      break;
    case 8: MutateElement(rng, t.byte_values, &MutU8); break;
    case 9:
    case 10: MutateElement(rng, t.merges, &MutI32); break;
    case 11: {
      switch (rng.Below(5)) {
        case 0: Resize(rng, t.piece_offsets); break;
        case 1: Resize(rng, t.scores); break;
        case 2: Resize(rng, t.types); break;
        case 3: Resize(rng, t.byte_values); break;
        default: Resize(rng, t.merges); break;
      }
      break;
    }
    case 12:
      // Offsets that jump past the data and come back: only a whole-table check catches them.
      if (t.piece_offsets.size() > 2) {
        const size_t i = 1 + rng.Below(t.piece_offsets.size() - 2);
        t.piece_offsets[i] += static_cast<uint32_t>(1u << rng.Below(20));
      }
      break;
    default:
      if (rng.OneIn(2)) {
        t.add_dummy_prefix = !t.add_dummy_prefix;
      } else {
        t.strip_space_after_bos = !t.strip_space_after_bos;
      }
      break;
  }
}

void MutateSegment(Rng& rng, std::unique_ptr<s::Segment>& seg) {
  if (seg == nullptr || rng.OneIn(8)) {
    seg = rng.OneIn(2) ? nullptr : std::make_unique<s::Segment>(rng.Below(1 << 20) * 64, rng.Below(1 << 16));
    return;
  }
  const uint64_t offset = seg->offset(), size = seg->size();
  switch (rng.Below(4)) {
    case 0: seg = std::make_unique<s::Segment>(MutU64(rng, offset), size); break;
    case 1: seg = std::make_unique<s::Segment>(offset, MutU64(rng, size)); break;
    case 2: seg = std::make_unique<s::Segment>(offset + 64 * (rng.Below(33) - 16), size); break;
    default: seg = std::make_unique<s::Segment>(offset, size + rng.Below(129) - 64); break;
  }
}

void MutateTensor(Rng& rng, s::TensorT& t) {
  switch (rng.Below(10)) {
    case 0: t.role = static_cast<s::TensorRole>(rng.OneIn(4) ? rng.Below(65536) : rng.Below(48)); break;
    case 1: t.layer = MutI32(rng, t.layer); break;
    case 2: MutateElement(rng, t.shape, &MutU64); break;
    case 3: Resize(rng, t.shape); break;
    case 4: t.dtype = InterestingEnum<s::DType>(rng, 6); break;
    case 5:
      if (rng.OneIn(2)) {
        t.layout = InterestingEnum<s::WeightLayout>(rng, 3);
      } else {
        t.quant = InterestingEnum<s::QuantScheme>(rng, 3);
      }
      break;
    case 6: MutateSegment(rng, t.data); break;
    case 7: MutateSegment(rng, rng.OneIn(2) ? t.scales : t.row_sums); break;
    case 8:
      if (rng.OneIn(2)) {
        t.group_size = MutU32(rng, t.group_size);
      } else {
        t.stack = MutU8(rng, t.stack);
      }
      break;
    default: t.checksum = MutU64(rng, t.checksum); break;
  }
}

// Changes values inside the weight section: an int8 tensor's scale (NaN, negative, huge) or row
// sum, or any byte. `weights` starts at file offset `base`.
void MutateWeights(Rng& rng, const s::ModelT& m, uint64_t base, std::vector<uint8_t>& weights) {
  if (weights.empty()) return;
  std::vector<const s::Segment*> segments;
  for (const auto& t : m.tensors) {
    if (t->scales) segments.push_back(t->scales.get());
    if (t->row_sums) segments.push_back(t->row_sums.get());
  }
  if (!segments.empty() && !rng.OneIn(4)) {
    const s::Segment* seg = segments[rng.Below(segments.size())];
    // Mutated segments can lie anywhere: only one inside the weights is poked.
    if (seg->offset() >= base && seg->size() >= 4 && seg->size() <= weights.size() &&
        seg->offset() - base <= weights.size() - seg->size()) {
      uint8_t* p = weights.data() + (seg->offset() - base) + rng.Below(seg->size() / 4) * 4;
      float f;
      std::memcpy(&f, p, 4);
      f = InterestingFloat(rng, f);
      std::memcpy(p, &f, 4);
      return;
    }
  }
  weights[rng.Below(weights.size())] ^= static_cast<uint8_t>(1u << rng.Below(8));
}

// The mutated file in *out, or false when `data` is not a verifiable model header.
bool MutateModelFile(const uint8_t* data, size_t size, Rng& rng, std::vector<uint8_t>* out) {
  if (size < 12) return false;
  uint32_t header = 0;
  std::memcpy(&header, data, 4);
  if (header > size - 4) return false;
  // libFuzzer's buffers have any alignment, and FlatBuffers reads 8-byte scalars in place, checked
  // for alignment relative to the buffer's start only (the runtime refuses buffers that are not
  // 8-aligned): verify and unpack an aligned copy of the header.
  const std::vector<uint8_t> head(data, data + header + 4);
  flatbuffers::Verifier verifier(head.data(), head.size());
  if (!s::VerifySizePrefixedModelBuffer(verifier)) return false;
  // The verifier leaves a vector's 8-byte values unchecked for alignment; unpacking misaligned
  // shapes would be undefined (the runtime refuses such a header).
  const s::Model* verified = s::GetSizePrefixedModel(head.data());
  if (verified->tensors() != nullptr) {
    for (const s::Tensor* t : *verified->tensors()) {
      if (t->shape() != nullptr && reinterpret_cast<uintptr_t>(t->shape()->Data()) % alignof(uint64_t) != 0) return false;
    }
  }
  std::unique_ptr<s::ModelT> m(verified->UnPack());
  const uint64_t old_base = Align64(uint64_t{header} + 4);
  std::vector<uint8_t> weights(data + std::min<uint64_t>(old_base, size), data + size);

  bool file_size_set = false;
  const int n = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < n; ++i) {
    switch (rng.Below(10)) {
      case 0:
      case 1:
        if (!m->architecture) m->architecture = std::make_unique<s::ArchitectureT>();
        MutateArchitecture(rng, *m->architecture);
        break;
      case 2:
      case 3:
      case 4:
        if (m->source_tokenizer && rng.OneIn(3)) {
          MutateTokenizer(rng, *m->source_tokenizer);
        } else if (m->tokenizer) {
          MutateTokenizer(rng, *m->tokenizer);
        }
        break;
      case 5:
      case 6:
        if (!m->tensors.empty()) MutateTensor(rng, *m->tensors[rng.Below(m->tensors.size())]);
        break;
      case 7:
        if (!m->tensors.empty()) {
          const size_t at = rng.Below(m->tensors.size());
          if (rng.OneIn(2)) {
            m->tensors.erase(m->tensors.begin() + static_cast<std::ptrdiff_t>(at));
          } else {
            std::unique_ptr<s::TensorT> copy(new s::TensorT(*m->tensors[at]));
            m->tensors.push_back(std::move(copy));
          }
        }
        break;
      case 8: MutateWeights(rng, *m, old_base, weights); break;
      default:
        switch (rng.Below(4)) {
          case 0: m->format_version = MutU32(rng, m->format_version); break;
          case 1:
            m->file_size = MutU64(rng, m->file_size);
            file_size_set = true;
            break;
          case 2: m->tokenizer.reset(); break;
          default: m->architecture.reset(); break;
        }
        break;
    }
  }

  // Write the header; move every segment by the change of the weight section's start (twice at
  // most: moving them can change the header's size through omitted default values).
  uint64_t base = old_base;
  for (int pass = 0; pass < 4; ++pass) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.FinishSizePrefixed(s::Model::Pack(fbb, m.get()), s::ModelIdentifier());
    const uint64_t new_base = Align64(fbb.GetSize());
    if (new_base == base || pass == 3) {
      out->assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
      out->resize(new_base, 0);
      out->insert(out->end(), weights.begin(), weights.end());
      return true;
    }
    const uint64_t delta = new_base - base;  // modulo 2^64: moves down as well
    for (auto& t : m->tensors) {
      for (std::unique_ptr<s::Segment>* seg : {&t->data, &t->scales, &t->row_sums}) {
        if (*seg) *seg = std::make_unique<s::Segment>((*seg)->offset() + delta, (*seg)->size());
      }
    }
    base = new_base;
    if (!file_size_set) m->file_size = new_base + weights.size();
  }
  return false;
}

}  // namespace
}  // namespace fuzz
}  // namespace edgeformer

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  edgeformer::fuzz::Rng rng(seed);
  std::vector<uint8_t> out;
  if (rng.OneIn(8) || !edgeformer::fuzz::MutateModelFile(data, size, rng, &out) || out.size() > max_size) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
