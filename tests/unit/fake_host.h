#ifndef ZRECON_TESTS_UNIT_FAKE_HOST_H_
#define ZRECON_TESTS_UNIT_FAKE_HOST_H_

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reconciler/host/host.h"
#include "reconciler/host/recording_host.h"
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
// Streaming calls follow the same rules. RunToSink writes the chosen
// answer's `out` into the sink (in SetChunkSize pieces; result->out stays
// empty) and then reports the answer's exit code and stderr, so
// Streamed("half a stream", 1, "broken\n") is a `zfs send` that dies half
// way. RunToFile does the same with write(2) into its descriptor; a write
// that fails ends the call as a child that cannot write its output would:
// exit 1, the error on stderr. RunFromSource first reads its source to the end and keeps the bytes
// (Received), then answers like Run. A failing sink or source ends the call
// the way PosixHost does: exit 128+SIGTERM, and the sink's or source's
// Status prefixed with the command line. FailStart calls touch neither.
//
//   FakeHost host;
//   host.Answer({"zfs", "list"}, FakeHost::Output("tank\n"));
//   host.FailCall(2, FakeHost::Failure(1, "cannot destroy: dataset is busy\n"));
//   ... run the code under test ...
//   CHECK(host.CommandLines() == std::vector<std::string>{"zfs list", ...});
class FakeHost : public Host {
 public:
  using Predicate = std::function<bool(const Argv&)>;
  using Kind = RecordingHost::Call::Kind;

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
  // An answer for RunToSink: `bytes` go to the sink, then the exit code.
  static CommandResult Streamed(std::string bytes, int exit_code = 0, std::string err = "") {
    CommandResult result = Failure(exit_code, std::move(err));
    result.out = std::move(bytes);
    return result;
  }

  void Queue(CommandResult result) { queue_.push_back(std::move(result)); }
  void Answer(const Argv& argv, CommandResult result) { exact_[Key(argv)] = std::move(result); }
  void AnswerPrefix(Argv prefix, CommandResult result) {
    prefixes_.emplace_back(std::move(prefix), std::move(result));
  }
  void SetDefault(CommandResult result) { default_ = std::move(result); }
  // Largest piece RunToSink and RunToFile write and RunFromSource asks for
  // at once; 0 (the default): the whole output in one write, 64 KiB Reads.
  void SetChunkSize(size_t bytes) { chunk_size_ = bytes; }

  // The nth call (1-based) completes with `result`, whatever its argv.
  void FailCall(size_t n, CommandResult result) { by_call_[n] = {Status::Ok(), std::move(result)}; }
  // The nth call cannot be started: Run returns Status::Error(message).
  void FailStart(size_t n, std::string message) {
    by_call_[n] = {Status::Error(std::move(message)), CommandResult()};
  }
  // Called with each call's number (1-based) as it starts, before its
  // answer is chosen: for tests that act while a command runs (an interrupt).
  void OnCall(std::function<void(size_t n)> hook) { on_call_ = std::move(hook); }
  // Every call whose argv satisfies `matches` completes with `result`.
  void FailCallIf(Predicate matches, CommandResult result) {
    predicates_.emplace_back(std::move(matches), std::move(result));
  }

  Status Run(const Argv& argv, CommandResult* result) override {
    Status started = Start(argv, Kind::kRun, result);
    if (started.ok()) *result = Reply(argv);
    return started;
  }

  Status RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) override {
    Status started = Start(argv, Kind::kToSink, result);
    if (!started.ok()) return started;
    CommandResult answer = Reply(argv);
    const std::string out = std::move(answer.out);
    answer.out.clear();
    Status written =
        Deliver(out, [sink](const char* data, size_t size) { return sink->Write(data, size); });
    if (!written.ok()) return Stopped(argv, written, result);
    *result = std::move(answer);
    return Status::Ok();
  }

  Status RunToFile(const Argv& argv, int fd, CommandResult* result) override {
    Status started = Start(argv, Kind::kToFile, result);
    if (!started.ok()) return started;
    CommandResult answer = Reply(argv);
    const std::string out = std::move(answer.out);
    answer.out.clear();
    Status written =
        Deliver(out, [fd](const char* data, size_t size) { return WriteAll(fd, data, size); });
    *result = written.ok() ? std::move(answer) : Failure(1, written.message() + "\n");
    return Status::Ok();
  }

  Status RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) override {
    Status started = Start(argv, Kind::kFromSource, result);
    if (!started.ok()) return started;
    std::string& received = received_[calls_.size()];
    std::string buffer(chunk_size_ == 0 ? 64 * 1024 : chunk_size_, '\0');
    for (;;) {
      size_t got = 0;
      Status read = source->Read(buffer.data(), buffer.size(), &got);
      if (!read.ok()) return Stopped(argv, read, result);
      if (got == 0) break;
      received.append(buffer.data(), got);
    }
    *result = Reply(argv);
    return Status::Ok();
  }

  const std::vector<Argv>& calls() const { return calls_; }
  // How each call in calls() was made (Run, RunToSink, RunFromSource or
  // RunToFile).
  const std::vector<Kind>& kinds() const { return kinds_; }
  // The bytes RunFromSource read from its source in call n (1-based);
  // empty for other calls.
  std::string Received(size_t n) const {
    auto found = received_.find(n);
    return found == received_.end() ? std::string() : found->second;
  }
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

  // Records the call and resets *result; fails the call when FailStart was
  // set for its number.
  Status Start(const Argv& argv, Kind kind, CommandResult* result) {
    *result = CommandResult();
    calls_.push_back(argv);
    kinds_.push_back(kind);
    if (on_call_) on_call_(calls_.size());
    auto injected = by_call_.find(calls_.size());
    return injected == by_call_.end() ? Status::Ok() : injected->second.status;
  }

  // The answer for the call just started (see the class comment).
  CommandResult Reply(const Argv& argv) {
    auto injected = by_call_.find(calls_.size());
    if (injected != by_call_.end()) return injected->second.result;
    return Choose(argv);
  }

  // Hands `bytes` to `write` in SetChunkSize pieces, up to the first failure.
  template <typename WriteFn>
  Status Deliver(std::string_view bytes, WriteFn write) const {
    while (!bytes.empty()) {
      size_t piece = chunk_size_ == 0 ? bytes.size() : std::min(chunk_size_, bytes.size());
      Status st = write(bytes.data(), piece);
      if (!st.ok()) return st;
      bytes.remove_prefix(piece);
    }
    return Status::Ok();
  }

  static Status WriteAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Status::Error("write error on descriptor " + std::to_string(fd) + ": " +
                             std::strerror(n < 0 ? errno : EIO));
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  static Status Stopped(const Argv& argv, const Status& why, CommandResult* result) {
    *result = Failure(128 + SIGTERM, "");
    return why.Prefixed(Printable(ShellJoin(argv)));
  }

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

  std::function<void(size_t)> on_call_;
  std::vector<Argv> calls_;
  std::vector<Kind> kinds_;
  std::map<size_t, std::string> received_;
  size_t chunk_size_ = 0;
  std::map<size_t, Injected> by_call_;
  std::vector<std::pair<Predicate, CommandResult>> predicates_;
  std::deque<CommandResult> queue_;
  std::map<std::string, CommandResult> exact_;
  std::vector<std::pair<Argv, CommandResult>> prefixes_;
  CommandResult default_ = Output("");
};

// A ByteSink that keeps what it is given. It fails (with "disk full") the
// Write that would take it past `fail_after` bytes, and counts any Write
// that still comes after that.
class StringSink : public ByteSink {
 public:
  explicit StringSink(size_t fail_after = SIZE_MAX) : fail_after_(fail_after) {}

  Status Write(const char* data, size_t size) override {
    if (failed_) ++writes_after_failure_;
    if (data_.size() + size > fail_after_) {
      failed_ = true;
      return Status::Error("disk full");
    }
    data_.append(data, size);
    ++writes_;
    return Status::Ok();
  }

  const std::string& data() const { return data_; }
  int writes() const { return writes_; }
  int writes_after_failure() const { return writes_after_failure_; }

 private:
  size_t fail_after_;
  std::string data_;
  bool failed_ = false;
  int writes_ = 0;
  int writes_after_failure_ = 0;
};

// A ByteSource serving `data` in reads of at most `max_read` bytes. It fails
// (with "bad sector") the Read that would go past `fail_at` bytes.
class ChunkedSource : public ByteSource {
 public:
  explicit ChunkedSource(std::string data, size_t max_read = SIZE_MAX, size_t fail_at = SIZE_MAX)
      : data_(std::move(data)), max_read_(max_read), fail_at_(fail_at) {}

  Status Read(char* buffer, size_t capacity, size_t* got) override {
    size_t n = std::min({capacity, max_read_, data_.size() - offset_});
    if (offset_ + n > fail_at_) return Status::Error("bad sector");
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    *got = n;
    ++reads_;
    return Status::Ok();
  }

  // How many bytes were read so far, and in how many Reads.
  size_t offset() const { return offset_; }
  int reads() const { return reads_; }

 private:
  std::string data_;
  size_t max_read_;
  size_t fail_at_;
  size_t offset_ = 0;
  int reads_ = 0;
};

}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_FAKE_HOST_H_
