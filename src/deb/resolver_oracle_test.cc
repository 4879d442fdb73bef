// The resolver against apt itself, on the host's real bookworm lists: for each request, the
// closure must name the same packages at the same versions as
// `apt-get install --simulate --no-install-recommends` on an empty dpkg status.
#include <glob.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "base/fs.h"
#include "deb/package_index.h"
#include "deb/resolver.h"
#include "support/process.h"

namespace hardbase::deb {
namespace {

using testing::RunProcess;

constexpr const char* kListsGlob = "/var/lib/apt/lists/*_dists_bookworm*_binary-amd64_Packages*";

// "<mirror>_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4" ->
// "bookworm-security".
std::string SuiteOf(const std::string& path) {
  auto pos = path.find("_dists_");
  if (pos == std::string::npos) return path;
  pos += 7;
  return path.substr(pos, path.find('_', pos) - pos);
}

// The Packages lists, in the order apt reads them (its sources order), which decides apt's
// package numbering and so its last tie-break between providers.
std::vector<std::string> FindLists() {
  std::vector<std::string> found;
  glob_t g{};
  if (::glob(kListsGlob, 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string p = g.gl_pathv[i];
      if (p.find(".diff") == std::string::npos) found.push_back(p);
    }
  }
  ::globfree(&g);
  auto targets =
      RunProcess({"apt-get", "indextargets", "--format", "$(FILENAME)", "Created-By: Packages"});
  std::vector<std::string> ordered;
  std::istringstream lines(targets.out);
  for (std::string line; std::getline(lines, line);) {
    for (const std::string& f : found) {
      // indextargets names the file without the compression extension the lists dir adds.
      if ((f == line || f.rfind(line + ".", 0) == 0) &&
          std::find(ordered.begin(), ordered.end(), f) == ordered.end()) {
        ordered.push_back(f);
      }
    }
  }
  for (const std::string& f : found) {
    if (std::find(ordered.begin(), ordered.end(), f) == ordered.end()) ordered.push_back(f);
  }
  return ordered;
}

struct HostIndex {
  std::vector<std::string> files;
  PackageIndex index;
  double main_seconds = 0;      // wall time to index the largest file
  double main_cpu_seconds = 0;  // CPU time of the same (less sensitive to a busy machine)
  size_t main_stanzas = 0;
  size_t main_bytes = 0;
  std::string error;
};

double ThreadCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

HostIndex* LoadHostIndex() {
  static HostIndex* host = [] {
    auto* h = new HostIndex;
    h->files = FindLists();
    RepositoryId id = 0;
    for (const std::string& f : h->files) {
      auto cat = RunProcess({"/usr/lib/apt/apt-helper", "cat-file", f});
      if (cat.exit_code != 0) {
        h->error = "apt-helper cat-file " + f + ": " + cat.err;
        return h;
      }
      auto text = std::make_shared<const std::string>(std::move(cat.out));
      h->index.SetRepositoryLabel(id, SuiteOf(f));
      size_t before = h->index.size();
      auto start = std::chrono::steady_clock::now();
      double cpu_start = ThreadCpuSeconds();
      auto added = h->index.AddPackagesFile(text, id);
      double cpu = ThreadCpuSeconds() - cpu_start;
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!added) {
        h->error = added.error().message;
        return h;
      }
      if (text->size() > h->main_bytes) {
        h->main_bytes = text->size();
        h->main_seconds = seconds;
        h->main_cpu_seconds = cpu;
        h->main_stanzas = h->index.size() - before;
      }
      ++id;
    }
    return h;
  }();
  return host;
}

// Without lists the test cannot run: a failure under CI, a skip on a developer's machine.
#define SKIP_OR_FAIL_WITHOUT_LISTS(host)                                                    \
  if ((host)->files.empty()) {                                                              \
    if (std::getenv("CI")) FAIL() << "no apt lists match " << kListsGlob << " (CI is set)"; \
    GTEST_SKIP() << "no apt lists match " << kListsGlob << ": run apt-get update first";    \
  }

struct AptResult {
  bool ok = false;
  std::map<std::string, std::string> installs;  // name -> version
  std::map<std::string, uint64_t> sizes;        // name -> .deb size (--print-uris only)
  std::string output;
};

// apt-get's closure for `packages` on an empty dpkg status. By default apt prints the URIs of
// what it would download (every package it would install, as the archives directory is empty):
// the same resolution as --simulate at half the cost, since --simulate also plays the dpkg run
// through. HARDBASE_ORACLE_SIMULATE=1 reads --simulate's "Inst" lines instead.
AptResult RunApt(const std::string& dir, const std::vector<std::string>& packages) {
  bool simulate = std::getenv("HARDBASE_ORACLE_SIMULATE") != nullptr;
  std::vector<std::string> argv = {"apt-get", "install", "--no-install-recommends", "-q",
                                   simulate ? "--simulate" : "--print-uris"};
  for (std::string option : {
           "Dir::State::status=" + dir + "/empty",
           "Dir::State::extended_states=" + dir + "/extended_states",
           "Dir::Etc::Preferences=" + dir + "/preferences",
           "Dir::Etc::PreferencesParts=" + dir + "/preferences.d",
           "Dir::Cache::archives=" + dir + "/archives",
           "Dir::Cache::pkgcache=" + dir + "/pkgcache.bin",
           "Dir::Cache::srcpkgcache=" + dir + "/srcpkgcache.bin",
           std::string("APT::Architectures=amd64"),
           std::string("Debug::NoLocking=1"),
       }) {
    argv.push_back("-o");
    argv.push_back(option);
  }
  argv.insert(argv.end(), packages.begin(), packages.end());
  auto r = RunProcess(argv, {{"LC_ALL", "C"}});
  AptResult out;
  out.ok = r.exit_code == 0;
  out.output = r.out + r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (simulate) {
      // "Inst libc6 (2.36-9+deb12u10 Debian:12.11/stable [amd64])"
      if (line.rfind("Inst ", 0) != 0) continue;
      std::istringstream words(line.substr(5));
      std::string name, version;
      words >> name >> version;
      if (!version.empty() && version.front() == '[') words >> version;  // "[old version]"
      if (!version.empty() && version.front() == '(') version.erase(0, 1);
      out.installs[name] = version;
    } else {
      // "'http://…/libcrypt1_4.4.33-2_amd64.deb' libcrypt1_1%3a4.4.33-2_amd64.deb 89464 MD5Sum:…"
      if (line.empty() || line.front() != '\'') continue;
      std::istringstream words(line);
      std::string uri, file;
      uint64_t size = 0;
      words >> uri >> file >> size;
      auto first = file.find('_');
      auto last = file.rfind('_');
      if (first == std::string::npos || last == first) continue;
      std::string version = file.substr(first + 1, last - first - 1);
      for (size_t p; (p = version.find("%3a")) != std::string::npos;) version.replace(p, 3, ":");
      out.installs[file.substr(0, first)] = version;
      out.sizes[file.substr(0, first)] = size;
    }
  }
  return out;
}

TEST(ResolverOracleTest, IndexesTheHostLists) {
  HostIndex* host = LoadHostIndex();
  SKIP_OR_FAIL_WITHOUT_LISTS(host);
  ASSERT_TRUE(host->error.empty()) << host->error;
  EXPECT_GT(host->main_stanzas, 50000u);
  // Reported, not asserted: the budget is "well under 0.5 s" in a RelWithDebInfo build.
  std::cout << "indexed " << host->main_stanzas << " stanzas (" << host->main_bytes / 1000000
            << " MB) in " << host->main_seconds << " s (" << host->main_cpu_seconds << " s CPU)\n";
  ::testing::Test::RecordProperty("index_seconds", std::to_string(host->main_seconds));
  const PackageRecord* libc = host->index.Candidate("libc6", "amd64");
  ASSERT_NE(libc, nullptr);
  EXPECT_EQ(libc->source, "glibc");
  EXPECT_EQ(libc->multi_arch, MultiArch::kSame);
  EXPECT_EQ(libc->sha256.size(), 64u);
}

struct Case {
  std::vector<std::string> packages;
};

TEST(ResolverOracleTest, ClosuresMatchApt) {
  HostIndex* host = LoadHostIndex();
  SKIP_OR_FAIL_WITHOUT_LISTS(host);
  ASSERT_TRUE(host->error.empty()) << host->error;
  const PackageIndex& index = host->index;

  std::vector<Case> cases;
  for (const char* name : {"openjdk-17-jre-headless",
                           "python3",
                           "nodejs",
                           "libssl3",
                           "curl",
                           "ca-certificates",
                           "tzdata",
                           "base-files",
                           "libc6",
                           "libstdc++6",
                           "perl",
                           "git",
                           "openssh-client",
                           "bash",
                           "coreutils",
                           "busybox",
                           "nginx",
                           "postgresql-client",
                           "ruby",
                           "php-cli",
                           "gnupg",
                           "wget",
                           "iproute2",
                           "libgtk-3-0",
                           "default-jre-headless",
                           "python3-pip",
                           "openssh-server",
                           "apache2",
                           "mutt",
                           "sudo",
                           "dbus",
                           "procps",
                           "vim",
                           "gcc",
                           "make",
                           "systemd",
                           "default-mysql-client",
                           "r-base-core",
                           "exim4"}) {
    cases.push_back({{name}});
  }
  cases.push_back({{"python3", "curl", "ca-certificates"}});
  // An older version, where the lists have one: its dependencies are the old version's.
  auto ssl = index.Versions("libssl3");
  if (ssl.size() > 1) {
    cases.push_back({{"libssl3=" + std::string(ssl.back()->version), "openssl"}});
  }

  auto dir = TempDir::Create("hardbase-oracle");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string d = dir->path();
  std::ofstream(d + "/empty").flush();
  std::ofstream(d + "/extended_states").flush();
  ASSERT_TRUE(MakeDirs(d + "/preferences.d"));
  ASSERT_TRUE(MakeDirs(d + "/archives/partial"));

  // The first run writes apt's binary cache of the lists; the parallel ones only read it.
  std::vector<AptResult> apt(cases.size());
  apt[0] = RunApt(d, cases[0].packages);
  std::atomic<size_t> next{1};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < cases.size(); i = next++) apt[i] = RunApt(d, cases[i].packages);
    });
  }

  std::vector<Result<Resolution>> ours;
  auto start = std::chrono::steady_clock::now();
  for (const Case& c : cases) {
    ResolveRequest req;
    req.arch = "amd64";
    req.packages = c.packages;
    ours.push_back(ResolveClosure(index, req));
  }
  std::cout << "hardbase resolved " << cases.size() << " requests in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s\n";
  for (auto& w : workers) w.join();

  for (size_t i = 0; i < cases.size(); ++i) {
    std::string label;
    for (const auto& p : cases[i].packages) label += (label.empty() ? "" : " ") + p;
    SCOPED_TRACE(label);
    const AptResult& a = apt[i];
    const Result<Resolution>& r = ours[i];
    if (!a.ok) {
      EXPECT_FALSE(r) << "apt failed but hardbase resolved; apt said:\n" << a.output;
      continue;
    }
    ASSERT_TRUE(r) << r.error().message;
    std::map<std::string, std::string> mine;
    for (const SelectedPackage& p : r->packages) {
      std::string name(p.record->name);
      mine[name] = std::string(p.record->version);
      auto size = a.sizes.find(name);
      if (size != a.sizes.end()) {
        EXPECT_EQ(p.record->size, size->second) << name;
      }
    }
    std::vector<std::string> only_apt, only_ours, version_diff;
    for (const auto& [name, version] : a.installs) {
      auto it = mine.find(name);
      if (it == mine.end())
        only_apt.push_back(name + " " + version);
      else if (it->second != version)
        version_diff.push_back(name + " apt " + version + " ours " + it->second);
    }
    for (const auto& [name, version] : mine) {
      if (!a.installs.count(name)) only_ours.push_back(name + " " + version);
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += "\n  " + x;
      return s;
    };
    EXPECT_TRUE(only_apt.empty()) << "only apt installs:" << join(only_apt);
    EXPECT_TRUE(only_ours.empty()) << "only hardbase selects:" << join(only_ours);
    EXPECT_TRUE(version_diff.empty()) << "versions differ:" << join(version_diff);
    EXPECT_FALSE(a.installs.empty());
    std::cout << label << ": apt " << a.installs.size() << ", hardbase " << mine.size()
              << " packages\n";
  }
}

}  // namespace
}  // namespace hardbase::deb
