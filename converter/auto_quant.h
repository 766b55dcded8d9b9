// `edgeformer-convert --quant auto`: precision chosen per matrix to a perplexity budget.
//
// 1. The checkpoint is converted in f32 and scored on the calibration text (the reference nll).
// 2. Each matrix is converted alone to each cheaper candidate (int4, int8), the rest f32, and the
//    model scored again: the matrix's own cost in nll (f16 is taken as free and not measured).
// 3. Costs are assumed additive in nll (a product of perplexity ratios). Starting from every matrix
//    at its smallest candidate, the upgrade that removes the most predicted nll per added byte is
//    taken until the predicted total fits the budget (a greedy multiple-choice knapsack).
// 4. The assignment is converted and measured. Over the budget (the costs are not quite
//    additive), the prediction's target is tightened by the overshoot and step 3 runs again, a few
//    times; then the result is refused, naming the best assignment measured.
// Cost: one conversion and one scoring per candidate of each matrix (2 per matrix, 1 for the token
// embedding, which is looked up by row and so has no int4), on the calibration text: keep it a
// few thousand tokens.
#pragma once

#include <cstdio>
#include <string>

#include "converter/convert.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

struct AutoQuantOptions {
  double max_ppl_increase = 0.02;  // relative: 0.02 allows perplexity up to 1.02x the f32 model's
  std::string calibration;         // UTF-8 text scored with the model's own tokenizer
  std::string doc_separator;       // split the calibration text into documents at this line
  // The candidates: int4 (for every matrix but the token embedding, which is looked up by row),
  // int8, f16. A matrix with none of them stays f32.
  bool allow_int4 = true;
  bool allow_int8 = true;
  bool allow_f16 = true;
  uint32_t threads = 1;            // for scoring
};

// Converts options.checkpoint with `convert` (ConvertHf, ConvertGguf or ConvertLlama2c) to
// options.output at the fewest bytes whose calibration perplexity is within the budget; prints
// the table of choices (and the output's per-tensor report) to options.report when it is set,
// the measured result to `out`, progress to options.progress.
// options.quant, embedding_quant and choose are set here. An error (and no output file) when no
// assignment meets the budget.
Error ConvertAuto(ConvertOptions options, const AutoQuantOptions& auto_options,
                  Error (*convert)(const ConvertOptions&), std::FILE* out);

}  // namespace convert
}  // namespace edgeformer
