#include "support/oci_runtime.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "base/fs.h"

namespace hardbase::testing {
namespace {

using nlohmann::json;

// Runs a tool that must succeed; `what` names it in the error.
Result<std::string> Run(const std::string& what, const std::vector<std::string>& argv) {
  ProcessResult r = RunProcess(argv);
  if (r.exit_code != 0) {
    return Fail(ErrorCode::kIo,
                what + ": exit " + std::to_string(r.exit_code) + ": " + OneLine(r.err));
  }
  return r.out;
}

Result<json> ReadJson(const std::string& path) {
  HB_TRY(std::string text, ReadFile(path));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Fail(ErrorCode::kSpec, path + ": not valid JSON");
  return doc;
}

// Host resource numbers of the rlimit names the OCI runtime spec allows.
const std::map<std::string, int>& RlimitResources() {
  static const std::map<std::string, int> kResources = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  return kResources;
}

// Lowers runtime-spec rlimits to the host's hard limits: crun cannot raise one above them.
void LowerRlimits(json& rlimits) {
  for (json& limit : rlimits) {
    auto resource = RlimitResources().find(limit.at("type").get<std::string>());
    rlimit host{};
    if (resource == RlimitResources().end() || ::getrlimit(resource->second, &host) != 0 ||
        host.rlim_max == RLIM_INFINITY) {
      continue;
    }
    for (const char* key : {"hard", "soft"}) {
      if (limit.at(key).get<uint64_t>() > host.rlim_max) limit[key] = host.rlim_max;
    }
  }
}

// Adapts the process of umoci's config.json to this host and the caller's wishes (see RunWithCrun).
void AdjustProcess(json& process, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env) {
  process["terminal"] = false;
  if (!argv.empty()) process["args"] = argv;
  if (process.contains("rlimits")) LowerRlimits(process["rlimits"]);
  if (!process.contains("env")) process["env"] = json::array();
  json& env_list = process["env"];
  for (const auto& [key, value] : env) {
    std::string prefix = key + "=";  // clang 14 lambdas cannot capture structured bindings
    auto same = std::find_if(env_list.begin(), env_list.end(), [&](const json& entry) {
      return entry.get<std::string>().starts_with(prefix);
    });
    if (same != env_list.end()) {
      *same = key + "=" + value;
    } else {
      env_list.push_back(key + "=" + value);
    }
  }
}

// Whether an image manifest has zstd layers, which umoci 0.4 cannot unpack.
Result<bool> HasZstdLayers(const std::string& manifest) {
  try {
    const json doc = json::parse(manifest);
    for (const json& layer : doc.at("layers")) {
      if (layer.at("mediaType").get<std::string>().ends_with("+zstd")) return true;
    }
    return false;
  } catch (const json::exception& e) {
    return Fail(ErrorCode::kSpec, std::string("not an image manifest: ") + e.what());
  }
}

ProcessResult FailedRun(std::string message) {
  ProcessResult result;
  result.err = std::move(message);
  return result;
}

}  // namespace

Result<UnpackedImage> UnpackWithUmoci(const std::string& layout_dir, const std::string& tag,
                                      const std::string& bundle_dir) {
  const std::string ref = layout_dir + ":" + tag;
  const std::string context = "unpack " + ref;
  HB_TRY(std::string manifest,
         WithContext(Run("skopeo inspect", {"skopeo", "inspect", "--raw", "oci:" + ref}), context));
  HB_TRY(bool zstd, WithContext(HasZstdLayers(manifest), context + ": skopeo inspect"));

  std::optional<TempDir> gzip_copy;  // lives until umoci has read it
  std::string source = ref;
  if (zstd) {
    HB_TRY(TempDir dir, TempDir::Create("hardbase-gzip-layout-"));
    source = dir.path() + "/layout:" + tag;
    gzip_copy.emplace(std::move(dir));
    HB_TRY_VOID(
        WithContext(Run("skopeo copy", {"skopeo", "copy", "--quiet", "--dest-compress-format",
                                        "gzip", "oci:" + ref, "oci:" + source}),
                    context));
  }
  HB_TRY_VOID(WithContext(Run("umoci unpack", {"umoci", "unpack", "--image", source, bundle_dir}),
                          context));

  UnpackedImage image{bundle_dir, bundle_dir + "/rootfs", {}};
  HB_TRY(image.config, WithContext(ReadJson(bundle_dir + "/config.json"), context));
  return image;
}

ProcessResult RunWithCrun(const std::string& bundle, const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env) {
  static std::atomic<int> counter{0};
  const std::string context = "crun " + bundle + ": ";
  auto config = ReadJson(bundle + "/config.json");
  if (!config) return FailedRun(context + config.error().message);
  try {
    AdjustProcess(config->at("process"), argv, env);
  } catch (const json::exception& e) {
    return FailedRun(context + "config.json: " + e.what());
  }
  auto work = TempDir::Create("hardbase-crun-");
  if (!work) return FailedRun(context + work.error().message);
  const std::string config_path = work->path() + "/config.json";
  if (auto written = WriteFileAtomic(config_path, config->dump()); !written) {
    return FailedRun(context + written.error().message);
  }
  const std::string name =
      "hardbase-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  return RunProcess({"unshare", "-m", "sh", "-c",
                     "umount /sys/fs/cgroup/unified 2>/dev/null; exec crun \"$@\"", "sh", "--root",
                     work->path() + "/state", "--cgroup-manager=disabled", "run", "--bundle",
                     bundle, "--config", config_path, name});
}

ProcessResult RunWithBwrap(const std::string& rootfs, const std::vector<std::string>& argv,
                           uid_t uid, gid_t gid, const std::map<std::string, std::string>& env) {
  std::vector<std::string> args = {"bwrap",  "--bind", rootfs,  "/",
                                   "--proc", "/proc",  "--dev", "/dev"};
  args.insert(args.end(),
              {"--unshare-all", "--die-with-parent", "--unshare-user", "--uid", std::to_string(uid),
               "--gid", std::to_string(gid), "--chdir", "/", "--clearenv"});
  for (const auto& [key, value] : env) args.insert(args.end(), {"--setenv", key, value});
  args.push_back("--");
  args.insert(args.end(), argv.begin(), argv.end());
  return RunProcess(args);
}

}  // namespace hardbase::testing
