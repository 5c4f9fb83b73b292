#include "reconciler/storage/s3_destination.h"

#include <openssl/evp.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "reconciler/catalog/catalog_edits.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/zstd_encoder.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr size_t kFirstPart = 8u << 20;
constexpr size_t kMaxPart = 5ull << 30;  // S3's limit
constexpr size_t kPartsPerSize = 1000;
constexpr size_t kMaxParts = 10000;  // S3's limit
constexpr size_t kEstimatedParts = 8000;
constexpr size_t kEncodeBuffer = 256 << 10;
constexpr size_t kReadRange = 8u << 20;
constexpr size_t kReadAhead = 2;  // ranges fetched ahead of the reader

std::string Md5Hex(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(digits[out[i] >> 4]);
    hex.push_back(digits[out[i] & 15]);
  }
  return hex;
}

}  // namespace

uint64_t S3PartSize(uint64_t expected, size_t parts_done) {
  constexpr uint64_t kMiB = 1 << 20;
  uint64_t size = kFirstPart;
  size_t steady = kPartsPerSize;  // parts before the first doubling
  size_t band = kPartsPerSize;    // parts per doubling after that
  if (expected > 0) {
    // The estimate fits in 8000 parts; the 2000 left double every 250, so
    // a stream 16 times larger than estimated still fits.
    size = std::max(size, (expected / kEstimatedParts + kMiB) / kMiB * kMiB);
    steady = kEstimatedParts;
    band = (kMaxParts - kEstimatedParts) / 8;
  }
  for (size_t n = parts_done < steady ? 0 : 1 + (parts_done - steady) / band;
       n > 0 && size < kMaxPart; --n) {
    size *= 2;
  }
  return std::min<uint64_t>(size, kMaxPart);
}

namespace {

std::string JoinKey(const std::string& prefix, const std::string& rest) {
  if (prefix.empty()) return rest;
  return rest.empty() ? prefix : prefix + "/" + rest;
}

// A stream uploaded to its final key in parts of S3PartSize (each held in
// memory while it goes up); a stream that ends before its first part is
// full is one PUT.
class S3StreamFile : public StreamFile, private EncoderOutput {
 public:
  S3StreamFile(S3Client* client, std::string key, std::string file, std::string compression,
               std::unique_ptr<ZstdEncoder> encoder)
      : client_(client),
        key_(std::move(key)),
        file_(std::move(file)),
        compression_(std::move(compression)),
        encoder_(std::move(encoder)) {
    if (encoder_) encode_buffer_.resize(kEncodeBuffer);
  }

  ~S3StreamFile() override {
    if (!committed_ && !upload_id_.empty()) client_->AbortMultipart(key_, upload_id_);
  }

  Status Write(const char* data, size_t size) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Error("cannot write " + client_->Shown(key_) + ": committed");
    bytes_in_ += size;
    Status st = encoder_ ? encoder_->Encode(data, size, false, this) : Emit(data, size);
    return st.ok() ? st : Fail(st);
  }

  Status Commit(StoredFile* stored) override {
    if (!error_.ok()) return error_;
    Status st = encoder_ ? encoder_->Encode(nullptr, 0, true, this) : Status::Ok();
    std::string sha = sha_.HexDigest();
    if (st.ok() && upload_id_.empty()) {
      // One PUT, create-only: an unrecorded leftover of the name was
      // removed by Create, so a refusal means someone else wrote it since.
      bool refused = false;
      st = client_->Put(key_, part_, {true, "", {{"sha256", sha}}}, &refused, nullptr);
      if (st.ok() && refused) {
        st = Status::Error("refusing to replace " + client_->Shown(key_) +
                           ": it appeared while this stream was written");
      }
    } else if (st.ok()) {
      if (!part_.empty()) st = SendPart();
      if (st.ok()) st = client_->CompleteMultipart(key_, upload_id_, etags_);
      // Its SHA-256 as a tag: metadata is fixed when the upload starts.
      bool tagged = false;
      if (st.ok()) st = client_->PutTags(key_, {{"sha256", sha}}, &tagged);
    }
    if (!st.ok()) return Fail(st);
    committed_ = true;
    stored->file = file_;
    stored->size = size_;
    stored->sha256 = sha;
    stored->compression = compression_;
    stored->stream_size = bytes_in_;
    return Status::Ok();
  }

  uint64_t bytes_in() const override { return bytes_in_; }

 private:
  char* space() override { return encode_buffer_.data(); }
  size_t space_size() const override { return encode_buffer_.size(); }
  Status Fill(size_t n) override { return n == 0 ? Status::Ok() : Emit(encode_buffer_.data(), n); }

  void ExpectBytes(uint64_t bytes) override {
    if (etags_.empty() && part_.empty()) expected_ = bytes;
  }

  size_t PartSize() const { return static_cast<size_t>(S3PartSize(expected_, etags_.size())); }

  Status Emit(const char* data, size_t n) {
    sha_.Update(data, n);
    size_ += n;
    while (n > 0) {
      size_t take = std::min(n, PartSize() - part_.size());
      part_.append(data, take);
      data += take;
      n -= take;
      if (part_.size() == PartSize()) {
        Status st = SendPart();
        if (!st.ok()) return st;
      }
    }
    return Status::Ok();
  }

  Status SendPart() {
    if (upload_id_.empty()) {
      Status st = client_->CreateMultipart(key_, {}, &upload_id_);
      if (!st.ok()) return st;
    }
    std::string etag;
    Status st =
        client_->UploadPart(key_, upload_id_, static_cast<int>(etags_.size()) + 1, part_, &etag);
    if (!st.ok()) return st;
    etags_.push_back(etag);
    part_.clear();
    return Status::Ok();
  }

  Status Fail(const Status& st) {
    if (error_.ok()) error_ = st;
    if (!upload_id_.empty()) client_->AbortMultipart(key_, upload_id_);
    upload_id_.clear();
    return error_;
  }

  S3Client* client_;
  std::string key_;
  std::string file_;
  std::string compression_;
  std::unique_ptr<ZstdEncoder> encoder_;
  std::string encode_buffer_;
  std::string part_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  uint64_t expected_ = 0;
  Sha256 sha_;
  uint64_t size_ = 0;
  uint64_t bytes_in_ = 0;
  bool committed_ = false;
  Status error_;
};

// --- the tree ------------------------------------------------------------------

// An object read in ranged GETs of kReadRange by a thread of its own (with
// a client of its own: S3Client is not thread-safe), up to kReadAhead
// ranges ahead of the reader, so that the store and the consumer (zfs
// receive, a hash) work at the same time instead of taking turns. A failed
// GET is reported after the ranges before it were read.
class S3Source : public ByteSource {
 public:
  S3Source(std::unique_ptr<S3Client> client, std::string key, uint64_t size)
      : client_(std::move(client)), key_(std::move(key)), size_(size) {
    fetcher_ = std::thread([this] { Fetch(); });
  }

  ~S3Source() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    fetcher_.join();
  }

  Status Read(char* buffer, size_t capacity, size_t* got) override {
    *got = 0;
    if (pos_ == chunk_.size()) {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return !ready_.empty() || done_; });
      if (ready_.empty()) return error_;  // the end, or why it came early
      chunk_ = std::move(ready_.front());
      ready_.pop_front();
      pos_ = 0;
      lock.unlock();
      changed_.notify_all();
    }
    size_t n = std::min(capacity, chunk_.size() - pos_);
    std::copy(chunk_.data() + pos_, chunk_.data() + pos_ + n, buffer);
    pos_ += n;
    *got = n;
    return Status::Ok();
  }

 private:
  void Fetch() {
    uint64_t offset = 0;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || ready_.size() < kReadAhead; });
        if (stop_) return;
      }
      std::string chunk;
      Status st = offset >= size_
                      ? Status::Ok()
                      : client_->GetRange(key_, offset,
                                          std::min<uint64_t>(kReadRange, size_ - offset), &chunk);
      // Shorter than listed ends it too: the size check says so.
      const bool last = !st.ok() || chunk.empty();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (last) {
          error_ = st;
          done_ = true;
        } else {
          offset += chunk.size();
          ready_.push_back(std::move(chunk));
        }
      }
      changed_.notify_all();
      if (last) return;
    }
  }

  std::unique_ptr<S3Client> client_;
  std::string key_;
  uint64_t size_;
  std::string chunk_;  // the reader's: being handed out
  size_t pos_ = 0;
  std::mutex mutex_;  // guards what follows
  std::condition_variable changed_;
  std::deque<std::string> ready_;
  bool done_ = false;
  bool stop_ = false;
  Status error_;
  std::thread fetcher_;  // last: starts once the rest exists
};

class S3Tree : public DestinationTree {
 public:
  S3Tree(S3Location location, const TransferLimits& limits)
      : location_(std::move(location)), limits_(limits) {}

  std::string PathOf(const std::string& relative) const override {
    return location_.Url() + (relative.empty() ? "" : "/" + relative);
  }

  std::string CheckRoot() override {
    if (!Connected()) return error_.message();
    return client_->CheckBucket();
  }

  EntryKind Inspect(const std::string& relative, std::string* what, uint64_t* size) override {
    if (relative.empty()) return Connected() ? EntryKind::kDirectory : EntryKind::kError;
    Status st = Load(relative);
    if (!st.ok()) {
      *what = st.message();
      return EntryKind::kError;
    }
    auto f = files_.find(relative);
    if (f != files_.end()) {
      if (size) *size = f->second;
      return dirs_.count(relative) ? EntryKind::kOther : EntryKind::kRegular;
    }
    return dirs_.count(relative) ? EntryKind::kDirectory : EntryKind::kMissing;
  }

  Status List(const std::string& relative, std::vector<std::string>* names) override {
    names->clear();
    if (!Connected()) return error_;
    if (relative.empty()) {
      std::vector<std::string> dirs;
      std::vector<S3Object> objects;
      Status st = client_->ListLevel(location_.prefix.empty() ? "" : location_.prefix + "/", &dirs,
                                     &objects);
      for (std::string& d : dirs) names->push_back(d.substr(0, d.size() - 1));
      return st;
    }
    Status st = Load(relative);
    if (!st.ok()) return st;
    std::set<std::string> out;
    std::string below = relative + "/";
    auto collect = [&](const std::string& path) {
      if (path.compare(0, below.size(), below) != 0) return;
      std::string rest = path.substr(below.size());
      out.insert(rest.substr(0, rest.find('/')));
    };
    for (const auto& [path, size] : files_) collect(path);
    for (const std::string& d : dirs_) collect(d);
    names->assign(out.begin(), out.end());
    return Status::Ok();
  }

  std::string LinkTarget(const std::string&) override { return "?"; }

  std::string Open(const std::string& relative, std::unique_ptr<ByteSource>* out,
                   uint64_t* size) override {
    if (!IsSafeRelativePath(relative) || relative.find('/') == std::string::npos) {
      return "not a relative path of ordinary components";
    }
    std::string what;
    switch (Inspect(relative, &what, size)) {
      case EntryKind::kRegular:
        break;
      case EntryKind::kMissing:
        return "missing";
      case EntryKind::kError:
        return what;
      default:
        return "not a regular file";
    }
    // A parent that is an object rather than a "directory".
    for (std::string p = RelativeParent(relative); !p.empty(); p = RelativeParent(p)) {
      if (files_.count(p)) return p + " is not a directory";
    }
    if (out) {
      std::unique_ptr<S3Client> reader;
      Status st = S3Client::Create(location_, keys_, &reader, limits_);
      if (!st.ok()) return "cannot open: " + st.message();
      *out = std::make_unique<S3Source>(std::move(reader), Key(relative), *size);
    }
    return "";
  }

 private:
  std::string Key(const std::string& relative) const { return JoinKey(location_.prefix, relative); }

  bool Connected() {
    if (client_) return true;
    if (!error_.ok()) return false;
    error_ = LoadS3Credentials(location_, &keys_);
    if (error_.ok()) error_ = S3Client::Create(location_, keys_, &client_, limits_);
    return error_.ok();
  }

  // One listing of the host directory (the first component) holding
  // `relative`, kept for the run.
  Status Load(const std::string& relative) {
    if (!Connected()) return error_;
    std::string host = relative.substr(0, relative.find('/'));
    if (loaded_.count(host)) return Status::Ok();
    std::vector<S3Object> objects;
    Status st = client_->List(Key(host) + "/", &objects);
    if (!st.ok()) return st;
    loaded_.insert(host);
    size_t skip = location_.prefix.empty() ? 0 : location_.prefix.size() + 1;
    for (const S3Object& o : objects) {
      std::string path = o.key.substr(skip);
      files_[path] = o.size;
      for (std::string d = RelativeParent(path); !d.empty(); d = RelativeParent(d)) {
        dirs_.insert(d);
      }
    }
    return Status::Ok();
  }

  S3Location location_;
  TransferLimits limits_;
  S3Credentials keys_;
  std::unique_ptr<S3Client> client_;
  Status error_;
  std::set<std::string> loaded_;
  std::map<std::string, uint64_t> files_;
  std::set<std::string> dirs_;
};

}  // namespace

// --- the destination --------------------------------------------------------------

S3Destination::S3Destination(std::string name, S3Location location, std::string host,
                             DestinationCatalog catalog, const TransferLimits& limits)
    : ManifestDestination(std::move(name), std::move(host), std::move(catalog)),
      location_(std::move(location)),
      limits_(limits) {}

S3Destination::~S3Destination() = default;

std::string S3Destination::Key(const std::string& file) const {
  return JoinKey(location_.prefix, file.empty() ? host() : host() + "/" + file);
}

Status S3Destination::Prepare() {
  client_.reset();
  etags_.clear();
  auto fail = [this](const Status& st) {
    prepare_error_ = st.Prefixed("destination " + name());
    client_.reset();
    return prepare_error_;
  };
  if (host().empty() || host().find('/') != std::string::npos || !IsSafeRelativePath(host())) {
    return fail(Status::Error("invalid host directory name " + Quoted(host())));
  }
  S3Credentials keys;
  Status st = LoadS3Credentials(location_, &keys);
  if (st.ok()) st = S3Client::Create(location_, keys, &client_, limits_);
  if (!st.ok()) return fail(st);
  std::string why = client_->CheckBucket();
  if (!why.empty()) return fail(Status::Error("is unreachable: " + why));
  st = AbortUploads();
  std::vector<S3Object> objects;
  if (st.ok()) st = client_->List(Key("") + "/", &objects);
  for (const S3Object& o : objects) {
    if (EndsWith(o.key, kJsonSuffix)) etags_[o.key] = o.etag;
  }
  if (!st.ok()) return fail(st);
  prepare_error_ = Status::Ok();
  return prepare_error_;
}

// Unfinished uploads of a crashed or failed run (only this host's: the
// host lock keeps a second run of this host away).
Status S3Destination::AbortUploads() {
  std::vector<S3Upload> uploads;
  Status st = client_->ListMultipart(Key("") + "/", &uploads);
  for (size_t i = 0; i < uploads.size() && st.ok(); ++i) {
    st = client_->AbortMultipart(uploads[i].key, uploads[i].upload_id);
  }
  return st;
}

Status S3Destination::Recover(const Status& failure, const Interrupt* interrupt) {
  if (client_ == nullptr || failure.message().find(" is unreachable: ") == std::string::npos) {
    return failure;
  }
  std::string why;
  for (int wait_ms : recover_waits_ms_) {
    if (!SleepUnlessInterrupted(interrupt, wait_ms)) return failure;
    // One try per wait: the waits are the backoff here.
    int tries = client_->tries();
    client_->set_tries(1);
    why = client_->CheckBucket();
    client_->set_tries(tries);
    if (why.empty()) {
      // The failed upload's parts, if its abort did not reach the store.
      Status st = AbortUploads();
      prepare_error_ = st.ok() ? st : st.Prefixed("destination " + name());
      return prepare_error_;
    }
  }
  return Status::Error("destination " + name() + " is unreachable: " + why);
}

Status S3Destination::Create(const std::string& file, const std::string& compression,
                             std::unique_ptr<StreamFile>* out) {
  Status st = Ready();
  if (st.ok()) st = CheckNewFile(catalog(), file, compression);
  if (!st.ok()) return st;
  // An unrecorded leftover of this name (a crash between a commit and its
  // record) goes first: uploads never replace, and a single PUT is create-only.
  bool exists = false;
  uint64_t size = 0;
  std::string etag;
  st = client_->Head(Key(file), &exists, &size, &etag);
  if (st.ok() && exists) {
    if (CatalogRecordsFile(catalog(), file)) {
      return Status::Error("refusing to replace " + client_->Shown(Key(file)) +
                           ": the catalog records it");
    }
    st = client_->Delete(Key(file));
  }
  std::unique_ptr<ZstdEncoder> encoder;
  if (st.ok() && compression == "zstd") {
    st = ZstdEncoder::Create(client_->Shown(Key(file)), &encoder);
  }
  if (!st.ok()) return st;
  *out = std::make_unique<S3StreamFile>(client_.get(), Key(file), file, compression,
                                        std::move(encoder));
  return Status::Ok();
}

Status S3Destination::CheckCommitted(const StoredFile& stored) {
  if (!IsSafeRelativePath(stored.file)) {
    return Status::Error("refusing to record " + Quoted(stored.file) +
                         ": not a relative path of ordinary components");
  }
  bool exists = false;
  uint64_t size = 0;
  std::string etag;
  Status st = client_->Head(Key(stored.file), &exists, &size, &etag);
  if (!st.ok()) return st;
  std::string shown = client_->Shown(Key(stored.file));
  if (!exists)
    return Status::Error("refusing to record an object that was not committed: " + shown);
  if (size != stored.size) {
    return Status::Error("refusing to record " + shown + ": it holds " + std::to_string(size) +
                         " bytes but the record says " + std::to_string(stored.size));
  }
  return Status::Ok();
}

Status S3Destination::PutManifest(const std::string& file, const std::string& data) {
  const std::string key = Key(file);
  auto known = etags_.find(key);
  std::string expected = known == etags_.end() ? "" : known->second;
  // The fallback for stores that ignore conditions: the ETag just before.
  bool exists = false;
  uint64_t size = 0;
  std::string current;
  Status st = client_->Head(key, &exists, &size, &current);
  if (!st.ok()) return st;
  auto changed = [&] {
    return Status::Error(client_->Shown(key) +
                         " was changed by someone else since this run read it: is another host "
                         "writing to host directory " +
                         Quoted(host()) + "? nothing was overwritten");
  };
  // Our own write whose reply was lost (the store went away after taking
  // it; the action is now run again): the object is what this run last
  // tried to put, not someone else's.
  auto tried = attempted_.find(key);
  if (exists && current != expected && tried != attempted_.end() && tried->second == current) {
    expected = current;
  }
  if (exists != !expected.empty() || (exists && current != expected)) return changed();
  S3Client::PutOptions options;
  options.if_none_match = expected.empty();
  options.if_match =
      expected.empty() ? "" : (unquoted_if_match_ ? expected : "\"" + expected + "\"");
  bool refused = false;
  std::string etag;
  st = client_->Put(key, data, options, &refused, &etag);
  if (st.ok() && refused && !expected.empty() && !unquoted_if_match_) {
    // Ceph RGW compares If-Match with the unquoted ETag: if the object is
    // still the one we know, say it that way and remember.
    st = client_->Head(key, &exists, &size, &current);
    if (st.ok() && exists && current == expected) {
      unquoted_if_match_ = true;
      options.if_match = expected;
      st = client_->Put(key, data, options, &refused, &etag);
    }
  }
  if (st.ok() && refused) {
    // A retried request whose first try landed is refused too: ours if the
    // object now holds exactly these bytes.
    st = client_->Head(key, &exists, &size, &current);
    if (st.ok() && !(exists && current == Md5Hex(data))) return changed();
    etag = current;
  }
  if (!st.ok()) {
    attempted_[key] = Md5Hex(data);
    return st.Prefixed("cannot write " + client_->Shown(key));
  }
  attempted_.erase(key);
  etags_[key] = etag.empty() ? Md5Hex(data) : etag;
  return Status::Ok();
}

Status S3Destination::PutZoneManifest(const ZoneManifest& manifest) {
  return PutManifest(manifest.uuid + "/" + kZoneManifestName, EncodeZoneManifest(manifest));
}

Status S3Destination::PutImageManifest(const ImageManifest& manifest) {
  return PutManifest(std::string(kImagesDir) + "/" + manifest.uuid + kJsonSuffix,
                     EncodeImageManifest(manifest));
}

Status S3Destination::RemoveFile(const std::string& file, const std::string&, bool) {
  return client_->Delete(Key(file));
}

std::unique_ptr<DestinationTree> S3DestinationTree(const S3Location& location,
                                                   const TransferLimits& limits) {
  return std::make_unique<S3Tree>(location, limits);
}

}  // namespace zrecon
