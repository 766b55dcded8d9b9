// Stop strings, worked by hand: held back while a token's text could begin one, delivered once
// it cannot, cut where one begins; bad strings refused. (Through generate: session_test.cc.)
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "model/stop_strings.h"

namespace edgeformer {
namespace {

struct Run {
  StopStrings stops;
  std::vector<std::pair<int32_t, std::string>> got;
  int refuse_after = -1;  // the deliver callback says stop after this many

  explicit Run(std::vector<const char*> strings) {
    REQUIRE(stops.Init(16).ok());
    REQUIRE(stops.Start(strings.data(), strings.size()).ok());
  }
  static bool Deliver(void* p, int32_t token, std::string_view piece) {
    auto* r = static_cast<Run*>(p);
    r->got.emplace_back(token, std::string(piece));
    return r->refuse_after < 0 || static_cast<int>(r->got.size()) < r->refuse_after;
  }
  StopStrings::Outcome Push(int32_t token, const char* piece) { return stops.Push(token, piece, &Deliver, this); }
  StopStrings::Outcome Flush() { return stops.Flush(&Deliver, this); }
};

using Got = std::vector<std::pair<int32_t, std::string>>;

TEST_CASE("a stop string across three tokens: the text before it is delivered, cut inside a token") {
  Run r({"###"});
  CHECK(r.Push(1, "Hello") == StopStrings::Outcome::kGoOn);
  CHECK(r.got == Got{{1, "Hello"}});  // nothing in it can begin "###"
  CHECK(r.Push(2, " #") == StopStrings::Outcome::kGoOn);
  CHECK(r.Push(3, "#") == StopStrings::Outcome::kGoOn);
  CHECK(r.got.size() == 1);  // " #" and "#" are held
  CHECK(r.Push(4, "# world") == StopStrings::Outcome::kStopString);
  CHECK(r.got == Got{{1, "Hello"}, {2, " "}});
}

TEST_CASE("a false start is delivered whole once it cannot begin a stop string") {
  Run r({"abc"});
  CHECK(r.Push(1, "xa") == StopStrings::Outcome::kGoOn);
  CHECK(r.Push(2, "b") == StopStrings::Outcome::kGoOn);
  CHECK(r.got.empty());
  CHECK(r.Push(3, "d") == StopStrings::Outcome::kGoOn);
  CHECK(r.got == Got{{1, "xa"}, {2, "b"}, {3, "d"}});
}

TEST_CASE("the earliest of several stop strings wins; one inside a single token") {
  Run r({"world", "lo w"});
  CHECK(r.Push(1, "Hello world") == StopStrings::Outcome::kStopString);
  CHECK(r.got == Got{{1, "Hel"}});
  Run whole({"END"});
  CHECK(whole.Push(7, "END") == StopStrings::Outcome::kStopString);
  CHECK(whole.got.empty());
}

TEST_CASE("what is held is delivered by Flush; a refusing callback stops") {
  Run r({"ab"});
  CHECK(r.Push(1, "x") == StopStrings::Outcome::kGoOn);
  CHECK(r.Push(2, "") == StopStrings::Outcome::kGoOn);  // an empty piece passes with the text before it
  CHECK(r.Push(3, "a") == StopStrings::Outcome::kGoOn);
  CHECK(r.Push(4, "") == StopStrings::Outcome::kGoOn);  // held: after a possible beginning
  CHECK(r.got == Got{{1, "x"}, {2, ""}});
  CHECK(r.Flush() == StopStrings::Outcome::kGoOn);
  CHECK(r.got == Got{{1, "x"}, {2, ""}, {3, "a"}, {4, ""}});

  Run refusing({"zz"});
  refusing.refuse_after = 1;
  CHECK(refusing.Push(1, "a") == StopStrings::Outcome::kStopped);
  Run none({});
  CHECK(none.Push(5, "anything") == StopStrings::Outcome::kGoOn);
  CHECK(none.got == Got{{5, "anything"}});
}

TEST_CASE("many tokens with empty pieces never overflow the buffers") {
  Run r({"ab"});
  CHECK(r.Push(1, "a") == StopStrings::Outcome::kGoOn);
  for (int i = 0; i < 1000; ++i) REQUIRE(r.Push(2, "") == StopStrings::Outcome::kGoOn);
  CHECK(r.got.size() > 800);  // the oldest went once the held tokens filled the buffer
  CHECK(r.Push(3, "b") != StopStrings::Outcome::kStopped);
}

TEST_CASE("bad stop strings are refused") {
  StopStrings s;
  REQUIRE(s.Init(8).ok());
  const char* empty[] = {""};
  CHECK(s.Start(empty, 1).status() == Status::kInvalidArgument);
  const char* null[] = {nullptr};
  CHECK(s.Start(null, 1).status() == Status::kInvalidArgument);
  const std::string long_one(129, 'x');
  const char* too_long[] = {long_one.c_str()};
  CHECK(s.Start(too_long, 1).status() == Status::kInvalidArgument);
  std::vector<const char*> many(17, "x");
  CHECK(s.Start(many.data(), many.size()).status() == Status::kInvalidArgument);
  CHECK(s.Start(nullptr, 2).status() == Status::kInvalidArgument);
  CHECK(s.Start(nullptr, 0).ok());
}

}  // namespace
}  // namespace edgeformer
