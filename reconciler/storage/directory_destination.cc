#include "reconciler/storage/directory_destination.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "reconciler/catalog/catalog_edits.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/local_stream_file.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/files.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// The layout is at most four levels deep; deeper trees are not zrecon's.
constexpr int kMaxCleanDepth = 16;

bool IsSingleComponent(const std::string& name) {
  return IsSafeRelativePath(name) && name.find('/') == std::string::npos;
}

// Removes ".tmp*" non-directories in `dir` and, recursively, in its real
// subdirectories (symlinks are neither followed nor removed unless .tmp*).
Status RemoveTempFiles(int dir, const std::string& path, int depth) {
  std::vector<std::string> names;
  Status st = ListDirectoryAt(dir, path, &names);
  for (size_t i = 0; i < names.size() && st.ok(); ++i) {
    const std::string& name = names[i];
    std::string child = path + "/" + name;
    struct stat info;
    if (::fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) st = SystemError("cannot stat", child, errno);
    } else if (S_ISDIR(info.st_mode)) {
      if (depth >= kMaxCleanDepth) continue;
      Fd sub;
      st = OpenSubdirectory(dir, name, child, false, &sub);
      if (st.ok() && sub.valid()) st = RemoveTempFiles(sub.get(), child, depth + 1);
    } else if (StartsWith(name, kTempPrefix)) {
      if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
        st = SystemError("cannot remove leftover temporary file", child, errno);
      }
    }
  }
  return st;
}

}  // namespace

// ---------------------------------------------------------------------------
// DirectoryDestination

DirectoryDestination::DirectoryDestination(std::string name, std::string path, std::string host,
                                           DestinationCatalog catalog)
    : ManifestDestination(std::move(name), std::move(host), std::move(catalog)),
      path_(std::move(path)) {}

std::string DirectoryDestination::HostDir() const { return path_ + "/" + host(); }

// <path> is followed as given: it is the operator's mount point, perhaps
// through a symlink. Below it nothing is (OpenBelow). Once prepared, the
// host directory is never created again and must be the one Prepare saw: a
// medium unmounted mid-run leaves an empty mount point, and the exports
// must not go on into the filesystem under it.
Status DirectoryDestination::OpenHostDir(const std::string& relative, bool create, Fd* out) const {
  if (!IsSingleComponent(host())) {
    return Status::Error("invalid host directory name " + Quoted(host()));
  }
  Fd top(OpenAt(AT_FDCWD, path_, O_RDONLY | O_DIRECTORY));
  if (!top.valid()) {
    return SystemError("destination " + name() + " is unreachable: cannot open", path_, errno);
  }
  const std::string host_path = HostDir();
  Fd host_dir;
  Status st = OpenSubdirectory(top.get(), host(), host_path, create && !prepared_, &host_dir);
  if (st.ok() && prepared_) {
    struct stat info;
    if (!host_dir.valid() || ::fstat(host_dir.get(), &info) != 0 || info.st_dev != host_dev_ ||
        info.st_ino != host_ino_) {
      st = Status::Error("destination " + name() + ": " + host_path +
                         " is no longer the directory this run prepared (was the medium "
                         "unmounted or replaced?); nothing more is written there");
    }
  }
  if (!st.ok() || !host_dir.valid()) {
    *out = Fd();
    return st;
  }
  return OpenBelow(std::move(host_dir), host_path, relative, create, out);
}

Status DirectoryDestination::Prepare() {
  prepared_ = false;
  Fd host_dir;
  Status st = OpenHostDir("", true, &host_dir);
  struct stat info;
  if (st.ok() && ::fstat(host_dir.get(), &info) != 0) {
    st = SystemError("cannot stat", HostDir(), errno);
  }
  if (st.ok()) st = RemoveTempFiles(host_dir.get(), HostDir(), 0);
  if (st.ok()) {
    host_dev_ = info.st_dev;
    host_ino_ = info.st_ino;
    prepared_ = true;
  }
  return st;
}

Status DirectoryDestination::Create(const std::string& file, const std::string& compression,
                                    std::unique_ptr<StreamFile>* out) {
  Status st = CheckNewFile(catalog(), file, compression);
  LocalStreamTarget target;
  if (st.ok()) {
    st = OpenHostDir(RelativeParent(file), true, &target.dir);
  }
  if (!st.ok()) return st;
  target.dir_path = JoinPath(HostDir(), RelativeParent(file));
  target.file = file;
  target.compression = compression;
  target.serial = next_temp_++;
  target.recorded = [this, file] { return CatalogRecordsFile(catalog(), file); };
  return CreateLocalStreamFile(std::move(target), out);
}

Status DirectoryDestination::CheckCommitted(const StoredFile& stored) {
  std::string path = JoinPath(HostDir(), stored.file);
  Fd dir;
  Status st = IsSafeRelativePath(stored.file)
                  ? OpenHostDir(RelativeParent(stored.file), false, &dir)
                  : Status::Error("refusing to record " + Quoted(stored.file) +
                                  ": not a relative path of ordinary components");
  if (!st.ok()) return st;
  struct stat info;
  if (!dir.valid() ||
      ::fstatat(dir.get(), BaseName(stored.file).c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    int err = dir.valid() ? errno : ENOENT;
    return SystemError("refusing to record a file that was not committed:", path, err);
  }
  if (!S_ISREG(info.st_mode)) {
    return Status::Error("refusing to record " + path + ": not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) != stored.size) {
    return Status::Error("refusing to record " + path + ": it holds " +
                         std::to_string(info.st_size) + " bytes but the record says " +
                         std::to_string(stored.size));
  }
  return Status::Ok();
}

Status DirectoryDestination::PutZoneManifest(const ZoneManifest& manifest) {
  Fd dir;
  Status st = OpenHostDir(manifest.uuid, true, &dir);
  if (!st.ok()) return st;
  return WriteFileAtomically(HostDir() + "/" + manifest.uuid + "/" + kZoneManifestName,
                             EncodeZoneManifest(manifest));
}

Status DirectoryDestination::PutImageManifest(const ImageManifest& manifest) {
  Fd dir;
  Status st = OpenHostDir(kImagesDir, true, &dir);
  if (!st.ok()) return st;
  return WriteFileAtomically(HostDir() + "/" + kImagesDir + "/" + manifest.uuid + ".json",
                             EncodeImageManifest(manifest));
}

// A loose file (`regular_only`) is a name a manifest journaled, not one it
// records: whatever else now has that name was not written by zrecon.
Status DirectoryDestination::RemoveFile(const std::string& file, const std::string& zone_uuid,
                                        bool regular_only) {
  Fd dir;
  Status st = OpenHostDir(RelativeParent(file), false, &dir);
  if (!st.ok() || !dir.valid()) return st;
  const std::string path = JoinPath(HostDir(), file);
  const std::string base = BaseName(file);
  struct stat info;
  if (regular_only && ::fstatat(dir.get(), base.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : SystemError("cannot stat", path, errno);
  }
  if (regular_only && !S_ISREG(info.st_mode)) {
    return Status::Error("refusing to remove " + path + ": not a regular file");
  }
  if (::unlinkat(dir.get(), base.c_str(), 0) != 0 && errno != ENOENT) {
    return SystemError("cannot remove", path, errno);
  }
  // Directories the removal emptied, deepest first, up to but not
  // including the zone directory; the first non-empty one ends it.
  for (std::string sub = RelativeParent(file); sub != zone_uuid && !sub.empty();
       sub = RelativeParent(sub)) {
    Fd parent;
    st = OpenHostDir(RelativeParent(sub), false, &parent);
    if (!st.ok() || !parent.valid()) return st;
    if (::unlinkat(parent.get(), BaseName(sub).c_str(), AT_REMOVEDIR) != 0) break;
  }
  return Status::Ok();
}

}  // namespace zrecon
