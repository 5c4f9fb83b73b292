#ifndef ZRECON_TESTS_UNIT_FAKE_HOST_H_
#define ZRECON_TESTS_UNIT_FAKE_HOST_H_

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "reconciler/host/host.h"
#include "reconciler/util/status.h"
#include "reconciler/util/strings.h"

namespace zrecon {

// A Host for unit tests: runs nothing, records every argv it is asked to run
// and answers from what the test configured. For each call the first rule
// that applies wins:
//   1. a failure injected for this call number (FailCall, FailStart) or for
//      argvs matching a predicate (FailCallIf, first registered wins);
//   2. the next queued answer (Queue), first in first out;
//   3. the answer for exactly this argv (Answer);
//   4. the answer for the longest registered argv prefix (AnswerPrefix);
//   5. the default answer (SetDefault; initially exit 0, no output).
// Call numbers start at 1. Injected failures do not consume queued answers,
// so a queue describes the calls that are not failed.
//
//   FakeHost host;
//   host.Answer({"zfs", "list"}, FakeHost::Output("tank\n"));
//   host.FailCall(2, FakeHost::Failure(1, "cannot destroy: dataset is busy\n"));
//   ... run the code under test ...
//   CHECK(host.CommandLines() == std::vector<std::string>{"zfs list", ...});
class FakeHost : public Host {
 public:
  using Predicate = std::function<bool(const Argv&)>;

  static CommandResult Output(std::string out) {
    CommandResult result;
    result.exit_code = 0;
    result.out = std::move(out);
    return result;
  }
  static CommandResult Failure(int exit_code, std::string err) {
    CommandResult result;
    result.exit_code = exit_code;
    result.err = std::move(err);
    return result;
  }

  void Queue(CommandResult result) { queue_.push_back(std::move(result)); }
  void Answer(const Argv& argv, CommandResult result) { exact_[Key(argv)] = std::move(result); }
  void AnswerPrefix(Argv prefix, CommandResult result) {
    prefixes_.emplace_back(std::move(prefix), std::move(result));
  }
  void SetDefault(CommandResult result) { default_ = std::move(result); }

  // The nth call (1-based) completes with `result`, whatever its argv.
  void FailCall(size_t n, CommandResult result) { by_call_[n] = {Status::Ok(), std::move(result)}; }
  // The nth call cannot be started: Run returns Status::Error(message).
  void FailStart(size_t n, std::string message) {
    by_call_[n] = {Status::Error(std::move(message)), CommandResult()};
  }
  // Every call whose argv satisfies `matches` completes with `result`.
  void FailCallIf(Predicate matches, CommandResult result) {
    predicates_.emplace_back(std::move(matches), std::move(result));
  }

  Status Run(const Argv& argv, CommandResult* result) override {
    calls_.push_back(argv);
    *result = CommandResult();
    auto injected = by_call_.find(calls_.size());
    if (injected != by_call_.end()) {
      if (!injected->second.status.ok()) return injected->second.status;
      *result = injected->second.result;
      return Status::Ok();
    }
    *result = Choose(argv);
    return Status::Ok();
  }

  const std::vector<Argv>& calls() const { return calls_; }
  // calls() rendered with ShellJoin, for readable assertions.
  std::vector<std::string> CommandLines() const {
    std::vector<std::string> lines;
    for (const Argv& argv : calls_) lines.push_back(ShellJoin(argv));
    return lines;
  }
  size_t queued() const { return queue_.size(); }

 private:
  struct Injected {
    Status status;
    CommandResult result;
  };

  static std::string Key(const Argv& argv) { return ShellJoin(argv); }

  static bool HasPrefix(const Argv& argv, const Argv& prefix) {
    return prefix.size() <= argv.size() && std::equal(prefix.begin(), prefix.end(), argv.begin());
  }

  CommandResult Choose(const Argv& argv) {
    for (const auto& [matches, result] : predicates_) {
      if (matches(argv)) return result;
    }
    if (!queue_.empty()) {
      CommandResult next = std::move(queue_.front());
      queue_.pop_front();
      return next;
    }
    auto exact = exact_.find(Key(argv));
    if (exact != exact_.end()) return exact->second;
    const CommandResult* best = &default_;
    size_t best_length = 0;
    for (const auto& [prefix, result] : prefixes_) {
      if (HasPrefix(argv, prefix) && (best == &default_ || prefix.size() > best_length)) {
        best = &result;
        best_length = prefix.size();
      }
    }
    return *best;
  }

  std::vector<Argv> calls_;
  std::map<size_t, Injected> by_call_;
  std::vector<std::pair<Predicate, CommandResult>> predicates_;
  std::deque<CommandResult> queue_;
  std::map<std::string, CommandResult> exact_;
  std::vector<std::pair<Argv, CommandResult>> prefixes_;
  CommandResult default_ = Output("");
};

}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_FAKE_HOST_H_
