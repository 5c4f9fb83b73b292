#include "reconciler/host/recording_host.h"

namespace zrecon {

Status RecordingHost::Run(const Argv& argv, CommandResult* result) {
  return Record(argv, Call::kRun, result);
}

Status RecordingHost::RunToSink(const Argv& argv, ByteSink* /*sink*/, CommandResult* result) {
  return Record(argv, Call::kToSink, result);
}

Status RecordingHost::RunFromSource(const Argv& argv, ByteSource* /*source*/,
                                    CommandResult* result) {
  return Record(argv, Call::kFromSource, result);
}

Status RecordingHost::RunToFile(const Argv& argv, int /*fd*/, CommandResult* result) {
  return Record(argv, Call::kToFile, result);
}

Status RecordingHost::Record(const Argv& argv, Call::Kind kind, CommandResult* result) {
  calls_.push_back(Call{argv, kind});
  *result = CommandResult();
  result->exit_code = 0;
  return Status::Ok();
}

}  // namespace zrecon
