#include "converter/auto_quant.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "edgeformer.h"
#include "platforms/layout.h"
#include "tools/perplexity/perplexity.h"

namespace edgeformer {
namespace convert {
namespace {

// The candidates, cheapest first; kNone marks a matrix the converter keeps f32 by design.
constexpr Quant kOrder[] = {Quant::kInt4, Quant::kInt8, Quant::kF16};

const char* QuantName(Quant q) {
  return q == Quant::kInt4 ? "int4" : q == Quant::kInt8 ? "int8" : q == Quant::kF16 ? "f16" : "f32";
}

struct Candidate {
  Quant quant;
  uint64_t bytes;
  double nll_cost;  // the matrix alone at this precision, the rest f32: nll - the f32 model's nll
};

struct Matrix {
  std::string name;
  schema::TensorRole role;
  uint64_t rows, cols;
  std::vector<Candidate> candidates;  // cheapest first
  size_t chosen = 0;
};

// The bytes a matrix takes in the file at `q` (segments only; each is 64-byte aligned).
uint64_t MatrixBytes(Quant q, uint64_t rows, uint64_t cols, uint32_t group) {
  auto aligned = [](uint64_t n) { return (n + 63) / 64 * 64; };
  switch (q) {
    case Quant::kInt4:
      return aligned(Int4Bytes(rows, cols, group)) + aligned(Int4ScaleCount(rows, cols, group) * 2);
    case Quant::kInt8:
      return aligned(BlockedBytes(rows, cols)) + 2 * aligned(BlockedRows(rows) * 4);
    case Quant::kF16:
      return aligned(rows * cols * 2);
    case Quant::kNone:
      break;
  }
  return aligned(rows * cols * 4);
}

struct Measured {
  double nll = 0.0;  // per predicted token
  uint64_t tokens = 0;
  uint64_t file_bytes = 0;
};

class Calibrator {
 public:
  Calibrator(const AutoQuantOptions& o, std::vector<std::string> docs) : options_(o), docs_(std::move(docs)) {}

  // Loads `path` and scores the calibration documents.
  Result<Measured> Score(const std::string& path) const {
    edgeformer_model* model = nullptr;
    edgeformer_session* session = nullptr;
    edgeformer_status st = edgeformer_model_load(path.c_str(), nullptr, &model);
    const std::unique_ptr<edgeformer_model, void (*)(edgeformer_model*)> model_owner(model, &edgeformer_model_destroy);
    edgeformer_session_params sp = edgeformer_session_default_params();
    sp.max_batch = 64;
    sp.n_threads = options_.threads;
    edgeformer_model_info info;
    if (st == EDGEFORMER_OK) st = edgeformer_model_get_info(model, &info);
    if (st == EDGEFORMER_OK && info.family != EDGEFORMER_FAMILY_DECODER) {
      return Error(Status::kUnsupported, "--quant auto scores perplexity, so it needs a decoder; this is an encoder");
    }
    if (st == EDGEFORMER_OK) st = edgeformer_session_create(model, &sp, &session);
    const std::unique_ptr<edgeformer_session, void (*)(edgeformer_session*)> session_owner(session,
                                                                                         &edgeformer_session_destroy);
    perplexity::Score score;
    if (st == EDGEFORMER_OK) st = perplexity::ScoreDocuments(model, session, docs_, -1, &score);
    if (st != EDGEFORMER_OK) {
      return Error(Status::kInternal, std::string("scoring the calibration text: ") + edgeformer_last_error());
    }
    if (score.tokens == 0) return Error(Status::kInvalidArgument, "the calibration text has no token to predict");
    if (!std::isfinite(score.nll_per_token())) {
      return Error(Status::kInvalidModel, "the model's perplexity on the calibration text is not finite");
    }
    Measured m;
    m.nll = score.nll_per_token();
    m.tokens = score.tokens;
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    m.file_bytes = static_cast<uint64_t>(f.tellg());
    return m;
  }

 private:
  const AutoQuantOptions& options_;
  std::vector<std::string> docs_;
};

// Chooses, per matrix, the cheapest candidates whose predicted nll cost fits `budget_nll`: from
// every matrix at its cheapest, takes the upgrade that removes the most nll per added byte until
// the sum fits (or nothing is left to upgrade). Returns the predicted total.
double Choose(std::vector<Matrix>* matrices, double budget_nll) {
  double total = 0.0;
  for (Matrix& m : *matrices) {
    m.chosen = 0;
    total += m.candidates[0].nll_cost;
  }
  while (total > budget_nll) {
    Matrix* best = nullptr;
    size_t best_to = 0;
    double best_gain = 0.0;
    for (Matrix& m : *matrices) {
      const Candidate& now = m.candidates[m.chosen];
      for (size_t to = m.chosen + 1; to < m.candidates.size(); ++to) {
        const Candidate& c = m.candidates[to];
        const double removed = now.nll_cost - c.nll_cost;
        if (removed <= 0.0) continue;
        // Candidates are in order of bytes; one of the same size is a free improvement.
        const double added = static_cast<double>(c.bytes) - static_cast<double>(now.bytes);
        const double gain = added > 0.0 ? removed / added : INFINITY;
        if (gain > best_gain) best = &m, best_to = to, best_gain = gain;
      }
    }
    if (best == nullptr) break;
    total += best->candidates[best_to].nll_cost - best->candidates[best->chosen].nll_cost;
    best->chosen = best_to;
  }
  return total;
}

// The precisions a matrix may take, cheapest first (f32 alone when none is allowed).
std::vector<Quant> CandidatesOf(const Matrix& m, const AutoQuantOptions& a) {
  std::vector<Quant> out;
  for (Quant q : kOrder) {
    const bool allowed = q == Quant::kInt4 ? a.allow_int4 && m.role != schema::TensorRole::TokenEmbedding
                         : q == Quant::kInt8 ? a.allow_int8
                                             : a.allow_f16;
    if (allowed) out.push_back(q);
  }
  if (out.empty()) out.push_back(Quant::kNone);
  return out;
}

double Percent(double nll, double reference) { return 100.0 * (std::exp(nll - reference) - 1.0); }

}  // namespace

Error ConvertAuto(ConvertOptions options, const AutoQuantOptions& a, Error (*convert)(const ConvertOptions&),
                  std::FILE* out) {
  if (!(a.max_ppl_increase >= 0.0) || !std::isfinite(a.max_ppl_increase)) {
    return Error(Status::kInvalidArgument, "--max-ppl-increase must be a finite number >= 0");
  }
  if (!a.allow_int4 && !a.allow_int8 && !a.allow_f16) {
    return Error(Status::kInvalidArgument, "--quant auto needs at least one of int4, int8 and f16");
  }
  std::ifstream in(a.calibration, std::ios::binary);
  if (!in) return Error(Status::kIoError, "cannot read the calibration text '" + a.calibration + "'");
  std::stringstream text;
  text << in.rdbuf();
  Calibrator calibrator(a, perplexity::SplitDocuments(text.str(), a.doc_separator));

  const std::string final_output = options.output;
  const std::string trial = final_output + ".auto-trial.tmp";
  struct RemoveTrial {
    std::string path;
    ~RemoveTrial() { std::remove(path.c_str()); }
  } remove_trial{trial};
  std::FILE* const progress = options.progress;
  std::FILE* const report = options.report;
  options.output = trial;
  options.report = nullptr;
  options.progress = nullptr;
  options.quant = Quant::kInt8;  // what the converter would quantize; kNone marks what it keeps f32
  options.embedding_quant = Quant::kInt8;

  // The f32 reference, and the matrices the converter quantizes.
  std::vector<Matrix> matrices;
  options.choose = [&](const std::string& name, schema::TensorRole role, uint64_t rows, uint64_t cols, Quant given) {
    if (given != Quant::kNone) matrices.push_back(Matrix{name, role, rows, cols, {}, 0});
    return Quant::kNone;
  };
  EF_RETURN_IF_ERROR(convert(options));
  Result<Measured> reference = calibrator.Score(trial);
  if (!reference.ok()) return reference.error();
  const double ref_nll = reference.value().nll;
  if (progress) {
    std::fprintf(progress, "f32: perplexity %.4f on %" PRIu64 " calibration tokens; measuring %zu matrices\n",
                 std::exp(ref_nll), reference.value().tokens, matrices.size());
  }

  // Each matrix alone at each candidate (f16 and f32 are taken as free: f16's error is far below
  // int8's).
  auto measured = [](Quant q) { return q == Quant::kInt4 || q == Quant::kInt8; };
  size_t done = 0, trials = 0;
  for (const Matrix& m : matrices) {
    for (Quant q : CandidatesOf(m, a)) trials += measured(q);
  }
  for (Matrix& m : matrices) {
    for (Quant q : CandidatesOf(m, a)) {
      double cost = 0.0;
      if (measured(q)) {
        options.choose = [&](const std::string& name, schema::TensorRole, uint64_t, uint64_t, Quant) {
          return name == m.name ? q : Quant::kNone;
        };
        EF_RETURN_IF_ERROR(convert(options));
        Result<Measured> r = calibrator.Score(trial);
        if (!r.ok()) return r.error();
        cost = r.value().nll - ref_nll;
        if (progress) {
          std::fprintf(progress, "\rmeasured %zu of %zu", ++done, trials);
          std::fflush(progress);
        }
      }
      m.candidates.push_back(Candidate{q, MatrixBytes(q, m.rows, m.cols, options.group_size), cost});
    }
    // Cheapest first (a small matrix's int8 row padding can outweigh f16).
    std::stable_sort(m.candidates.begin(), m.candidates.end(),
                     [](const Candidate& x, const Candidate& y) { return x.bytes < y.bytes; });
  }
  if (progress && trials) std::fprintf(progress, "\n");

  // Choose, convert, measure; tighten the prediction's target while the result is over budget.
  const double budget = std::log1p(a.max_ppl_increase);
  auto convert_chosen = [&](const std::string& path, std::FILE* report_to) {
    std::map<std::string, Quant> plan;
    for (const Matrix& m : matrices) plan[m.name] = m.candidates[m.chosen].quant;
    ConvertOptions o = options;
    o.output = path;
    o.report = report_to;
    o.choose = [plan](const std::string& name, schema::TensorRole, uint64_t, uint64_t, Quant given) {
      const auto it = plan.find(name);
      return it == plan.end() ? given : it->second;
    };
    return convert(o);
  };
  double target = budget;
  bool met = false;
  Measured best;
  double best_predicted = 0.0;
  std::vector<size_t> best_choice;
  for (int round = 0; round < 4 && !met; ++round) {
    const double predicted = Choose(&matrices, target);
    EF_RETURN_IF_ERROR(convert_chosen(trial, nullptr));
    Result<Measured> r = calibrator.Score(trial);
    if (!r.ok()) return r.error();
    met = r.value().nll - ref_nll <= budget;  // Score refuses a non-finite nll
    if (progress) {
      std::fprintf(progress, "round %d: predicted %+.3f%%, measured %+.3f%% perplexity, %" PRIu64 " bytes\n",
                   round + 1, Percent(predicted + ref_nll, ref_nll), Percent(r.value().nll, ref_nll),
                   r.value().file_bytes);
    }
    if (best_choice.empty() || met || r.value().nll < best.nll) {
      best = r.value();
      best_predicted = predicted;
      best_choice.clear();
      for (const Matrix& m : matrices) best_choice.push_back(m.chosen);
    }
    // The overshoot, taken off the target (at least halving what is left of it each round).
    const double over = r.value().nll - ref_nll - budget;
    target = std::min(target - over, target / 2.0);
    const bool all_best = std::all_of(matrices.begin(), matrices.end(),
                                      [](const Matrix& m) { return m.chosen + 1 == m.candidates.size(); });
    if (all_best) break;  // nothing cheaper is left to give up
  }
  for (size_t i = 0; i < matrices.size(); ++i) matrices[i].chosen = best_choice[i];

  // The table of choices.
  uint64_t all_int8 = 0, chosen_bytes = 0;
  if (report) std::fprintf(report, "%-28s %-12s %-5s %12s  %s\n", "tensor", "shape", "type", "bytes", "alone (int4 / int8)");
  for (const Matrix& m : matrices) {
    const Candidate& c = m.candidates[m.chosen];
    chosen_bytes += c.bytes;
    all_int8 += MatrixBytes(Quant::kInt8, m.rows, m.cols, options.group_size);
    std::string alone;
    for (const Candidate& k : m.candidates) {
      if (!measured(k.quant)) continue;
      char buf[48];
      std::snprintf(buf, sizeof(buf), "%s%s %+.3f%%", alone.empty() ? "" : " / ", QuantName(k.quant),
                    Percent(k.nll_cost + ref_nll, ref_nll));
      alone += buf;
    }
    const std::string shape = std::to_string(m.rows) + "x" + std::to_string(m.cols);
    if (report) {
      std::fprintf(report, "%-28s %-12s %-5s %12" PRIu64 "  %s\n", m.name.c_str(), shape.c_str(), QuantName(c.quant),
                   c.bytes, alone.c_str());
    }
  }
  std::fprintf(out,
               "matrices: %" PRIu64 " bytes (all-int8: %" PRIu64 ", %.1f%%); calibration perplexity %.4f against "
               "f32's %.4f: %+.3f%% (predicted %+.3f%%), budget %+.3f%%\n",
               chosen_bytes, all_int8, 100.0 * static_cast<double>(chosen_bytes) / static_cast<double>(all_int8),
               std::exp(best.nll), std::exp(ref_nll), Percent(best.nll, ref_nll),
               Percent(best_predicted + ref_nll, ref_nll), 100.0 * a.max_ppl_increase);
  if (!(best.nll - ref_nll <= budget)) {
    char buf[200];
    std::snprintf(buf, sizeof(buf), "no assignment met the perplexity budget of +%.3f%%: the best measured was %+.3f%% "
                  "at %" PRIu64 " bytes; allow a larger increase%s",
                  100.0 * a.max_ppl_increase, Percent(best.nll, ref_nll), best.file_bytes,
                  a.allow_f16 && a.allow_int8 ? "" : ", or more types (--auto-types)");
    return Error(Status::kInvalidArgument, buf);
  }
  // The chosen assignment, written where asked, with the per-tensor report.
  std::remove(trial.c_str());
  return convert_chosen(final_output, report);
}

}  // namespace convert
}  // namespace edgeformer
