// End-to-end tests of `hardbase report`: the real binary writes the page from JSON documents
// shaped as `audit --compare --json`, `diff --json` and `migrate --json` write them (a fat image
// with shells, root, 150 packages and 40 CVEs, and its hardened successor), and Debian's headless
// Chromium opens it. The page must log no console message and ask the network for nothing (its
// own net log says), its DOM must hold the scores and counts, and its screenshot must show the
// charts: bars of exactly the severity colours, sized to the counts. A bad input is a one-line
// error naming the file, with the exit code of its kind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/exit_codes.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

// --- the documents -----------------------------------------------------------------------------

constexpr const char* kSeverityNames[] = {"critical", "high",       "medium",
                                          "low",      "negligible", "unknown"};
constexpr int kSeverities = 6;
// The counts of each severity (kSeverityNames order) before and after.
constexpr int kBeforeCves[] = {4, 10, 16, 6, 2, 2};  // 40
constexpr int kAfterCves[] = {0, 0, 1, 1, 0, 0};     // 2

json BySeverity(const int (&counts)[kSeverities]) {
  json out = json::object();
  for (int i = 0; i < kSeverities; ++i) {
    out[kSeverityNames[i]] = {{"fixable", counts[i] - counts[i] / 2}, {"unfixed", counts[i] / 2}};
  }
  return out;
}

json Files(const std::vector<std::pair<std::string, std::string>>& files) {
  json out = json::array();
  for (const auto& [path, package] : files) out.push_back({{"path", path}, {"package", package}});
  return out;
}

json Cis(const std::string& user_status, const std::string& healthcheck_status) {
  return json::array({{{"id", "4.1"},
                       {"title", "Ensure a user for the container has been created"},
                       {"status", user_status},
                       {"evidence", user_status == "pass" ? "User 65532" : "no User"}},
                      {{"id", "4.6"},
                       {"title", "Ensure HEALTHCHECK instructions have been added"},
                       {"status", healthcheck_status},
                       {"evidence", ""}},
                      {{"id", "4.8"},
                       {"title", "Ensure setuid and setgid permissions are removed"},
                       {"status", user_status},
                       {"evidence", ""}}});
}

json FatAudit() {
  return {{"image",
           {{"reference", "docker.io/library/python:3.11"},
            {"name", "python"},
            {"digest", "sha256:9f7a8e1f1c7e2b1d3a4c5b6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"},
            {"created", "2024-05-14T10:00:00Z"},
            {"architecture", "amd64"},
            {"distro", "Debian GNU/Linux 12 (bookworm)"},
            {"user", ""},
            {"packages", 150},
            {"size_bytes", int64_t{387} * 1048576},
            {"files", 24311},
            {"layers", 8}}},
          {"score", 28},
          {"grade", "F"},
          {"surface",
           {{"shells", Files({{"/usr/bin/bash", "bash"}, {"/usr/bin/dash", "dash"}})},
            {"package_managers", Files({{"/usr/bin/apt", "apt"},
                                        {"/usr/bin/apt-get", "apt"},
                                        {"/usr/bin/dpkg", "dpkg"},
                                        {"/usr/local/bin/pip", ""}})},
            {"compilers", Files({{"/usr/bin/gcc-12", "gcc-12"}, {"/usr/bin/g++-12", "g++-12"}})},
            {"debuggers", json::array()},
            {"network_tools", Files({{"/usr/bin/curl", "curl"}, {"/usr/bin/wget", "wget"}})}}},
          {"setuid",
           {{{"path", "/usr/bin/su"}, {"mode", "4755"}, {"package", "util-linux"}},
            {{"path", "/usr/bin/passwd"}, {"mode", "4755"}, {"package", "passwd"}}}},
          {"world_writable", json::array()},
          {"secrets",
           {{{"path", "/root/.aws/credentials"},
             {"kind", "aws-access-key"},
             {"line", 2},
             {"layer", 6},
             {"removed", true}}}},
          {"unowned_files", {{"count", 1840}, {"sample", {"/usr/local/bin/python3.11"}}}},
          {"packages_without_copyright", json::array()},
          {"config",
           {{"user", ""},
            {"runs_as_root", true},
            {"healthcheck", false},
            {"exposed_ports", json::array()},
            {"env_secrets", json::array()},
            {"entrypoint", json::array()},
            {"cmd", {"python3"}}}},
          {"vulnerabilities",
           {{"database", true}, {"total", 40}, {"by_severity", BySeverity(kBeforeCves)}}},
          {"provenance", {{"signature", "absent"}, {"sbom", false}, {"attestations", 0}}},
          {"cis", Cis("fail", "fail")},
          {"findings",
           {{{"id", "shells"},
             {"severity", "medium"},
             {"title", "Shells an attacker can use"},
             {"evidence", {"/usr/bin/bash", "/usr/bin/dash"}}},
            {{"id", "root"},
             {"severity", "high"},
             {"title", "Runs as root"},
             {"evidence", {"User: \"\""}}}}}};
}

json HardenedAudit() {
  json a = FatAudit();
  a["image"] = {
      {"reference", "localhost:5000/python:3.11-hardened"},
      {"name", "python"},
      {"digest", "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"},
      {"created", "2024-05-14T10:00:00Z"},
      {"architecture", "amd64"},
      {"distro", "Debian GNU/Linux 12 (bookworm)"},
      {"user", "65532"},
      {"packages", 22},
      {"size_bytes", int64_t{41} * 1048576},
      {"files", 2210},
      {"layers", 22}};
  a["score"] = 96;
  a["grade"] = "A";
  for (auto& [category, files] : a["surface"].items()) files = json::array();
  a["setuid"] = json::array();
  a["secrets"] = json::array();
  a["unowned_files"] = {{"count", 0}, {"sample", json::array()}};
  a["config"]["user"] = "65532";
  a["config"]["runs_as_root"] = false;
  a["vulnerabilities"] = {
      {"database", true}, {"total", 2}, {"by_severity", BySeverity(kAfterCves)}};
  a["provenance"] = {{"signature", "verified"}, {"sbom", true}, {"attestations", 2}};
  a["cis"] = Cis("pass", "fail");
  a["findings"] = json::array();
  return a;
}

json AuditCompare() {
  return {
      {"schema", "hardbase.audit-compare/v1"}, {"before", FatAudit()}, {"after", HardenedAudit()}};
}

// 128 packages removed (38 of their CVEs closed), 22 kept: 2 of them upgraded, 20 unchanged.
json PackageDiff() {
  json changes = json::array();
  for (int i = 0; i < 128; ++i) {
    json closed = json::array();
    if (i < 38) {
      closed.push_back({{"id", "CVE-2023-" + std::to_string(40000 + i)},
                        {"package", "removed-" + std::to_string(i)},
                        {"severity", kSeverityNames[i % kSeverities]},
                        {"fixed_version", ""}});
    }
    changes.push_back({{"name", "removed-" + std::to_string(i)},
                       {"architecture", "amd64"},
                       {"before", "1.0-" + std::to_string(i)},
                       {"after", nullptr},
                       {"size_before_kib", 900 + i},
                       {"size_after_kib", 0},
                       {"closed", closed},
                       {"opened", json::array()}});
  }
  for (const char* name : {"libc6", "libssl3"}) {
    changes.push_back({{"name", name},
                       {"architecture", "amd64"},
                       {"before", "1.0-1"},
                       {"after", "1.0-1+deb12u1"},
                       {"size_before_kib", 4000},
                       {"size_after_kib", 4010},
                       {"closed", json::array()},
                       {"opened", json::array()}});
  }
  return {{"before",
           {{"reference", "docker.io/library/python:3.11"},
            {"digest", "sha256:9f7a"},
            {"packages", 150},
            {"bytes", int64_t{387} * 1048576}}},
          {"after",
           {{"reference", "localhost:5000/python:3.11-hardened"},
            {"digest", "sha256:0a1b"},
            {"packages", 22},
            {"bytes", int64_t{41} * 1048576}}},
          {"size_change", -int64_t{346} * 1048576},
          {"packages",
           {{"changes", changes},
            {"unchanged", 20},
            {"matched", true},
            {"closed", 38},
            {"opened", 0},
            {"remaining_with_fix", json::array()}}}};
}

json Migration() {
  return {{"schema", "hardbase.migration/v1"},
          {"source", "Dockerfile"},
          {"before",
           "FROM python:3.11\n"
           "RUN apt-get update && apt-get install -y --no-install-recommends libpq5\n"
           "COPY app/ /app/\n"
           "CMD [\"python3\", \"/app/main.py\"]\n"},
          {"after",
           "FROM localhost:5000/python:3.11-hardened\n"
           "COPY app/ /app/\n"
           "USER 65532\n"
           "CMD [\"python3\", \"/app/main.py\"]\n"},
          {"spec", "name: app\nbase: python3\npackages:\n  - libpq5\n"},
          {"changes",
           {{{"line", 1}, {"kind", "base"}, {"message", "python:3.11 becomes the hardened python"}},
            {{"line", 2}, {"kind", "packages"}, {"message", "libpq5 moves into the spec"}}}},
          {"refused", json::array()}};
}

// --- the screenshot ----------------------------------------------------------------------------

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // 3 bytes a pixel, rows top to bottom
  uint32_t At(int x, int y) const {
    const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
  }
};

uint32_t ReadBe32(const std::string& s, size_t at) {
  return uint32_t{static_cast<uint8_t>(s[at])} << 24 |
         uint32_t{static_cast<uint8_t>(s[at + 1])} << 16 |
         uint32_t{static_cast<uint8_t>(s[at + 2])} << 8 | static_cast<uint8_t>(s[at + 3]);
}

// Chromium's screenshot: an 8-bit RGB or RGBA, non-interlaced PNG. Decoded with zlib and the five
// PNG row filters; an empty image when it is anything else.
Image DecodePng(const std::string& png) {
  Image image;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return image;
  std::string idat;
  int channels = 0;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t length = ReadBe32(png, at);
    std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) return {};
    if (type == "IHDR") {
      image.width = static_cast<int>(ReadBe32(png, at + 8));
      image.height = static_cast<int>(ReadBe32(png, at + 12));
      int depth = static_cast<uint8_t>(png[at + 16]), colour = static_cast<uint8_t>(png[at + 17]);
      int interlace = static_cast<uint8_t>(png[at + 20]);
      if (depth != 8 || interlace != 0 || (colour != 2 && colour != 6)) return {};
      channels = colour == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, length);
    }
    at += 12 + length;
  }
  if (channels == 0 || image.width <= 0 || image.height <= 0) return {};
  size_t stride = static_cast<size_t>(image.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size()) {
    return {};
  }
  std::vector<uint8_t> prev(stride, 0), line(stride);
  image.rgb.reserve(static_cast<size_t>(image.width) * image.height * 3);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* in = &raw[y * (stride + 1)];
    uint8_t filter = in[0];
    for (size_t x = 0; x < stride; ++x) {
      int a = x >= static_cast<size_t>(channels) ? line[x - channels] : 0;
      int b = prev[x];
      int c = x >= static_cast<size_t>(channels) ? prev[x - channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4: {
          int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          break;
      }
      line[x] = static_cast<uint8_t>(in[1 + x] + predictor);
    }
    for (int x = 0; x < image.width; ++x) {
      for (int k = 0; k < 3; ++k) image.rgb.push_back(line[x * channels + k]);
    }
    std::swap(prev, line);
  }
  return image;
}

// A connected area of one exact colour, by its bounding box; `solid` when it fills the box (a
// bar or a legend swatch, not anti-aliased text).
struct Area {
  int x, y, width, height;
  bool solid;
};

std::vector<Area> AreasOf(const Image& image, uint32_t colour) {
  std::vector<uint8_t> seen(static_cast<size_t>(image.width) * image.height, 0);
  std::vector<Area> areas;
  for (int y0 = 0; y0 < image.height; ++y0) {
    for (int x0 = 0; x0 < image.width; ++x0) {
      size_t i0 = static_cast<size_t>(y0) * image.width + x0;
      if (seen[i0] || image.At(x0, y0) != colour) continue;
      int min_x = x0, max_x = x0, min_y = y0, max_y = y0;
      size_t count = 0;
      std::vector<std::pair<int, int>> stack = {{x0, y0}};
      seen[i0] = 1;
      while (!stack.empty()) {
        auto [x, y] = stack.back();
        stack.pop_back();
        ++count;
        min_x = std::min(min_x, x), max_x = std::max(max_x, x);
        min_y = std::min(min_y, y), max_y = std::max(max_y, y);
        for (auto [dx, dy] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
          int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= image.width || ny >= image.height) continue;
          size_t ni = static_cast<size_t>(ny) * image.width + nx;
          if (seen[ni] || image.At(nx, ny) != colour) continue;
          seen[ni] = 1;
          stack.push_back({nx, ny});
        }
      }
      int w = max_x - min_x + 1, h = max_y - min_y + 1;
      if (count >= 16) {
        areas.push_back({min_x, min_y, w, h, count == static_cast<size_t>(w) * h});
      }
    }
  }
  std::sort(areas.begin(), areas.end(), [](const Area& a, const Area& b) { return a.x < b.x; });
  return areas;
}

// --- running Chromium --------------------------------------------------------------------------

std::string FindChromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (PathExists(path)) return path;
  }
  return "";
}

struct BrowserRun {
  ProcessResult process;  // stdout: the DOM; stderr: Chromium's log with console messages
  Image screenshot;
  std::vector<std::string> page_requests;  // network requests made for the page
  std::vector<std::string> console;        // console messages of the page
};

// Opens `page` in headless Chromium with a throw-away profile, every host name resolving to
// nothing and the background services off; screenshot, DOM, log and net log.
BrowserRun OpenInChromium(const std::string& chromium, const std::string& dir,
                          const std::string& page) {
  BrowserRun run;
  std::string shot = dir + "/screenshot.png", net_log = dir + "/net-log.json";
  std::vector<std::string> argv = {chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--user-data-dir=" + dir + "/profile",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-default-apps",
                                   "--disable-extensions",
                                   "--host-resolver-rules=MAP * ~NOTFOUND",
                                   "--log-net-log=" + net_log,
                                   "--enable-logging=stderr",
                                   "--v=0",
                                   "--force-device-scale-factor=1",
                                   "--window-size=1280,2000",
                                   "--screenshot=" + shot,
                                   "--dump-dom",
                                   "file://" + page};
  run.process = RunProcess(WithinLimits(argv, 90),
                           {{"HOME", dir}, {"XDG_CONFIG_HOME", dir}, {"XDG_CACHE_HOME", dir}});
  if (auto png = ReadFile(shot)) run.screenshot = DecodePng(*png);
  // Chromium logs each console message of a page as "...:INFO:CONSOLE(line)] "text", source: ...".
  size_t start = 0;
  while (start < run.process.err.size()) {
    size_t end = run.process.err.find('\n', start);
    if (end == std::string::npos) end = run.process.err.size();
    std::string line = run.process.err.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos) run.console.push_back(line);
    start = end + 1;
  }
  // The net log: every URL request; the page's have the page's file:// site in their network
  // isolation key (Chromium's own background requests, if any are left, have another).
  auto log = ReadFile(net_log);
  if (log) {
    json j = json::parse(*log, nullptr, false);
    if (!j.is_discarded()) {
      int start_job = -1;
      for (const auto& [name, id] : j["constants"]["logEventTypes"].items()) {
        if (name == "URL_REQUEST_START_JOB") start_job = id.get<int>();
      }
      for (const json& event : j["events"]) {
        if (event.value("type", -2) != start_job || !event.contains("params")) continue;
        const json& params = event["params"];
        std::string key = params.value("network_isolation_key", "");
        if (key.find("file://") != std::string::npos) {
          run.page_requests.push_back(params.value("url", ""));
        }
      }
    } else {
      run.page_requests.push_back("(the net log is not JSON)");
    }
  } else {
    run.page_requests.push_back("(no net log: " + log.error().message + ")");
  }
  return run;
}

uint32_t Rgb(const char* hex) { return static_cast<uint32_t>(std::stoul(hex + 1, nullptr, 16)); }

// The charts' colours (src/report/report.h): the severities in kSeverityNames order, "before"
// and "after".
constexpr const char* kSeverityColours[] = {"#b91c1c", "#f97316", "#eab308",
                                            "#3b82f6", "#a78bfa", "#9ca3af"};
constexpr const char* kBeforeColour = "#64748b";
constexpr const char* kAfterColour = "#14b8a6";
constexpr int kMaxBar = 160;  // the tallest bar of a chart, in pixels

int BarHeight(int64_t value, int64_t max) {
  return value == 0 ? 0 : static_cast<int>((value * kMaxBar * 2 + max) / (max * 2));
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-e2e-report-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }
  std::string Write(const std::string& name, const json& document) {
    EXPECT_TRUE(WriteFileAtomic(Path(name), document.dump(2)));
    return Path(name);
  }

  std::optional<TempDir> dir_;
};

TEST_F(ReportBrowserTest, PageShowsTheComparisonWithoutErrorsOrRequests) {
  std::string chromium = FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "Debian's chromium is not installed (install-deps --test)";
  std::string audit = Write("audit.json", AuditCompare());
  std::string diff = Write("diff.json", PackageDiff());
  std::string migration = Write("migration.json", Migration());
  std::string page = Path("report.html");
  auto report = RunProcess({HardbaseBinary(), "report", "--audit", audit, "--diff", diff,
                            "--migration", migration, "-o", page});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(report.out, "");

  BrowserRun run = OpenInChromium(chromium, dir_->path(), page);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_THAT(run.console, ::testing::IsEmpty());
  EXPECT_THAT(run.page_requests, ::testing::IsEmpty());

  // The DOM as Chromium built it: scores, grades, counts, the Dockerfile's diff.
  const std::string& dom = run.process.out;
  EXPECT_THAT(dom, HasSubstr("28 / 100</strong> (grade F)"));
  EXPECT_THAT(dom, HasSubstr("96 / 100</strong> (grade A)"));
  EXPECT_THAT(dom, HasSubstr("<th scope=\"row\">critical</th><td class=\"num\">2</td>"
                             "<td class=\"num\">2</td><td class=\"num\">4</td>"));
  EXPECT_THAT(dom, HasSubstr("<th scope=\"row\">all</th><td class=\"num\">20</td>"
                             "<td class=\"num\">20</td><td class=\"num\">40</td>"
                             "<td class=\"num\">2</td><td class=\"num\">0</td>"
                             "<td class=\"num\">2</td>"));
  EXPECT_THAT(dom, HasSubstr("<strong>0</strong> added, <strong>128</strong> removed, "
                             "<strong>2</strong> changed, 20 unchanged."));
  EXPECT_THAT(dom, HasSubstr("Vulnerabilities closed: <strong>38</strong>"));
  EXPECT_THAT(dom, HasSubstr("<td>USER 65532</td>"));
  EXPECT_THAT(dom, Not(HasSubstr("<script")));

  // The screenshot: the whole window, not blank.
  const Image& shot = run.screenshot;
  ASSERT_EQ(shot.width, 1280);
  ASSERT_EQ(shot.height, 2000);
  std::map<uint32_t, size_t> colours;
  for (int y = 0; y < shot.height; y += 4) {
    for (int x = 0; x < shot.width; x += 4) ++colours[shot.At(x, y)];
  }
  EXPECT_GT(colours.size(), 20u);
  EXPECT_LT(colours[0xffffff], static_cast<size_t>(shot.width / 4) * (shot.height / 4) * 80 / 100);

  // The vulnerability chart: per severity, a solid bar for each non-zero count before and after
  // (left to right), all as wide, as tall as the count to the scale of the tallest (16 medium
  // before = 160 px), and the legend's 12 x 12 swatch to their right.
  int64_t max = *std::max_element(std::begin(kBeforeCves), std::end(kBeforeCves));
  int bar_width = 0;
  for (int s = 0; s < kSeverities; ++s) {
    SCOPED_TRACE(kSeverityNames[s]);
    std::vector<Area> areas = AreasOf(shot, Rgb(kSeverityColours[s]));
    std::vector<int> expected;
    for (int count : {kBeforeCves[s], kAfterCves[s]}) {
      if (count > 0) expected.push_back(BarHeight(count, max));
    }
    ASSERT_EQ(areas.size(), expected.size() + 1);
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_TRUE(areas[i].solid);
      EXPECT_NEAR(areas[i].height, expected[i], 1);
      if (bar_width == 0) bar_width = areas[i].width;
      EXPECT_EQ(areas[i].width, bar_width);
      if (i > 0) {  // on one baseline
        EXPECT_EQ(areas[i].y + areas[i].height, areas[0].y + areas[0].height);
      }
    }
    const Area& swatch = areas.back();
    EXPECT_TRUE(swatch.solid);
    EXPECT_EQ(swatch.width, 12);
    EXPECT_EQ(swatch.height, 12);
    EXPECT_GT(swatch.x, areas.front().x);
  }
  EXPECT_GT(bar_width, 8);
  // Size (387 -> 41 MiB) and packages (150 -> 22): the "before" bars full height, the "after"
  // bars to scale, each chart with its two-swatch legend.
  std::vector<Area> before = AreasOf(shot, Rgb(kBeforeColour));
  std::vector<Area> after = AreasOf(shot, Rgb(kAfterColour));
  ASSERT_EQ(before.size(), 4u);
  ASSERT_EQ(after.size(), 4u);
  std::vector<int> before_heights, after_heights;
  for (const Area& a : before) before_heights.push_back(a.height);
  for (const Area& a : after) after_heights.push_back(a.height);
  EXPECT_THAT(before_heights, ::testing::ElementsAre(kMaxBar, 12, kMaxBar, 12));
  EXPECT_THAT(after_heights,
              ::testing::ElementsAre(BarHeight(41, 387), 12, BarHeight(22, 150), 12));
}

// The checks above can fail: a page that loads an image from a URL and logs to the console is
// caught by both.
TEST_F(ReportBrowserTest, ChecksCatchAPageThatLoadsAndLogs) {
  std::string chromium = FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "Debian's chromium is not installed (install-deps --test)";
  std::string page = Path("control.html");
  ASSERT_TRUE(WriteFileAtomic(page,
                              "<!DOCTYPE html><html><body><p>control</p>"
                              "<img src=\"http://hardbase-report-test.invalid/x.png\">"
                              "<script>console.error(\"control page\")</script></body></html>"));
  BrowserRun run = OpenInChromium(chromium, dir_->path(), page);
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_THAT(run.page_requests, ::testing::Contains(HasSubstr("hardbase-report-test.invalid")));
  EXPECT_THAT(run.console, ::testing::Contains(HasSubstr("control page")));
  EXPECT_EQ(run.screenshot.width, 1280);
  EXPECT_TRUE(AreasOf(run.screenshot, Rgb(kSeverityColours[0])).empty());
}

TEST_F(ReportBrowserTest, BadInputIsOneLineErrorNamingTheFile) {
  json audit = AuditCompare();
  audit["after"]["surface"]["shells"][0] = "bash";
  std::string bad = Write("bad.json", audit);
  std::string page = Path("report.html");
  auto result = RunProcess({HardbaseBinary(), "report", "--audit", bad, "-o", page});
  EXPECT_EQ(result.exit_code, kExitSpec);
  EXPECT_EQ(result.err, "hardbase: error: report: " + bad +
                            ": after.surface.shells[0]: expected an object, found a string\n");
  EXPECT_FALSE(PathExists(page));

  ASSERT_TRUE(WriteFileAtomic(Path("broken.json"), "{\"schema\": \"hardbase.audit/v1\","));
  result = RunProcess({HardbaseBinary(), "report", "--audit", Path("broken.json")});
  EXPECT_EQ(result.exit_code, kExitSpec);
  EXPECT_THAT(result.err, ::testing::StartsWith("hardbase: error: report: " + Path("broken.json")));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);

  std::string good = Write("audit.json", AuditCompare());
  result =
      RunProcess({HardbaseBinary(), "report", "--audit", good, "--diff", Path("missing.json")});
  EXPECT_EQ(result.exit_code, kExitNotFound);
  EXPECT_EQ(result.err, "hardbase: error: report: " + Path("missing.json") + ": no such file\n");
  EXPECT_EQ(result.out, "");

  // An audit given as the diff: the wrong document, said as such.
  result = RunProcess({HardbaseBinary(), "report", "--audit", good, "--diff", good});
  EXPECT_EQ(result.exit_code, kExitSpec);
  EXPECT_THAT(result.err, HasSubstr(good + ": schema: not expected"));
}

TEST_F(ReportBrowserTest, WritesTheSamePageToStdoutEveryTime) {
  std::string audit = Write("audit.json", AuditCompare());
  std::string migration = Write("migration.json", Migration());
  auto first = RunProcess({HardbaseBinary(), "report", "--audit", audit, "--migration", migration});
  auto second =
      RunProcess({HardbaseBinary(), "report", "--audit", audit, "--migration", migration});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, ::testing::StartsWith("<!DOCTYPE html>"));
  EXPECT_EQ(first.out, second.out);
}

}  // namespace
}  // namespace hardbase::testing
