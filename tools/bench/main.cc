// edgeformer-bench: see tools/bench/bench.h and docs/bench.md. Results go to stdout, progress to
// stderr, so `-o json > out.jsonl` works.
#include <cstdio>
#include <string>

#include "tools/bench/bench.h"

int main(int argc, char** argv) {
  edgeformer::bench::Config config;
  const int parsed = edgeformer::bench::ParseArgs(argc, argv, &config, stdout, stderr);
  if (parsed != 0) return parsed < 0 ? 0 : parsed;
  edgeformer::Result<edgeformer::bench::Report> report = edgeformer::bench::Run(config, stderr);
  if (!report.ok()) {
    std::fprintf(stderr, "edgeformer-bench: %s\n", report.error().message().c_str());
    return 1;
  }
  std::string out;
  if (config.output == "json") {
    out = edgeformer::bench::FormatJsonLines(report.value());
  } else if (config.output == "csv") {
    out = edgeformer::bench::FormatCsv(report.value());
  } else {
    out = edgeformer::bench::FormatMarkdown(report.value());
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}
