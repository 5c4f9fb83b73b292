#include "reconciler/storage/directory_layout.h"

#include <algorithm>
#include <utility>

#include "reconciler/catalog/catalog.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// The walk of one host directory of a tree; files are named relative to
// the host directory in problems, and relative to the root in the tree.
class Walker {
 public:
  Walker(DestinationTree& tree, const std::string& host, HostLayout* out)
      : tree_(tree), host_(host), out_(out) {}

  void Run() {
    std::string what;
    switch (tree_.Inspect(host_, &what)) {
      case EntryKind::kMissing:
        return;
      case EntryKind::kDirectory:
        break;
      case EntryKind::kSymlink:
        AddProblem("", SymlinkProblem(tree_, host_));
        return;
      case EntryKind::kError:
        AddProblem("", what);
        return;
      default:
        AddProblem("", "not a directory");
        return;
    }
    out_->present = true;
    std::vector<std::string> names;
    if (!ListEntries("", &names)) return;
    for (const std::string& name : names) ListEntry(name);
  }

 private:
  std::string InTree(const std::string& file) const { return JoinPath(host_, file); }

  void AddProblem(const std::string& file, const std::string& what) {
    out_->problems.push_back(LayoutProblem{file, what});
  }

  // Names in `dir` without unfinished ".tmp*" writes, sorted; false (with
  // the problem added) when it cannot be listed.
  bool ListEntries(const std::string& dir, std::vector<std::string>* names) {
    Status st = tree_.List(InTree(dir), names);
    if (!st.ok()) {
      AddProblem(dir, st.message());
      return false;
    }
    std::vector<std::string> kept;
    for (std::string& name : *names) {
      if (!StartsWith(name, kTempPrefix)) kept.push_back(std::move(name));
    }
    std::sort(kept.begin(), kept.end());
    *names = std::move(kept);
    return true;
  }

  // A manifest: a regular file, never a symlink. Returns whether it exists.
  bool CheckManifest(const std::string& file) {
    std::string what;
    switch (tree_.Inspect(InTree(file), &what)) {
      case EntryKind::kMissing:
        return false;
      case EntryKind::kRegular:
        return true;
      case EntryKind::kSymlink:
        what = SymlinkProblem(tree_, InTree(file));
        break;
      case EntryKind::kError:
        break;
      default:
        what = "not a regular file";
    }
    AddProblem(file, what);
    return true;
  }

  void ListImages() {
    std::vector<std::string> names;
    if (!ListEntries(kImagesDir, &names)) return;
    for (const std::string& name : names) {
      if (!EndsWith(name, kJsonSuffix)) continue;
      std::string file = std::string(kImagesDir) + "/" + name;
      size_t before = out_->problems.size();
      if (CheckManifest(file) && out_->problems.size() == before) {
        out_->image_manifests.push_back(name);
      }
    }
  }

  // One entry of the host directory.
  void ListEntry(const std::string& name) {
    std::string what;
    EntryKind kind = tree_.Inspect(InTree(name), &what);
    if (kind == EntryKind::kSymlink) {
      AddProblem(name, SymlinkProblem(tree_, InTree(name)));
    } else if (kind == EntryKind::kError) {
      AddProblem(name, what);
    } else if (name == kImagesDir) {
      if (kind == EntryKind::kDirectory) {
        ListImages();
      } else if (kind != EntryKind::kMissing) {
        AddProblem(name, "not a directory");
      }
    } else if (kind == EntryKind::kDirectory) {
      std::string manifest = name + "/" + kZoneManifestName;
      size_t before = out_->problems.size();
      if (CheckManifest(manifest) && out_->problems.size() == before) {
        out_->zones.push_back(name);
      }
    }
  }

  DestinationTree& tree_;
  const std::string& host_;
  HostLayout* out_;
};

}  // namespace

void ListHostLayout(DestinationTree& tree, const std::string& host, HostLayout* out) {
  *out = HostLayout();
  Walker(tree, host, out).Run();
}

void ListHostLayout(const std::string& path, const std::string& host, HostLayout* out) {
  ListHostLayout(*LocalDestinationTree(path), host, out);
}

}  // namespace zrecon
