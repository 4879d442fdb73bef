#include "ci/workflows.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "base/strings.h"

namespace hardbase::ci {
namespace {

// The actions the GitHub workflows use besides hardbase's, each pinned by the full commit of a
// release (a tag can be moved; a commit cannot), the release named in a comment.
constexpr std::string_view kCheckout =
    "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";
constexpr std::string_view kUploadArtifact =
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0";
constexpr std::string_view kUploadSarif =
    "github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e # v4.36.2";

constexpr int kMaxShards = 256;  // what `catalog plan --shards` and `--shard i/n` take

// ---- The values, each in the alphabet of its kind --------------------------------------------

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The first byte of `s` outside `alphabet` (letters and digits are always in), or npos.
size_t FirstOutside(std::string_view s, std::string_view alphabet) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsAsciiAlnum(s[i]) && alphabet.find(s[i]) == std::string_view::npos) return i;
  }
  return std::string_view::npos;
}

// A byte for an error message: itself when printable, else its escape.
std::string ShowByte(char c) {
  if (c == '\n') return "a newline";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    return fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
  }
  if (c == ' ') return "a space";
  return fmt::format("'{}'", c);
}

// Checks `value` of `flag` against its alphabet: not empty, not starting with '-' (it would be
// read as an option by the commands it is passed to), and made of letters, digits and `alphabet`.
Result<void> CheckAlphabet(std::string_view flag, std::string_view value, std::string_view alphabet,
                           std::string_view what) {
  if (value.empty()) return Fail(ErrorCode::kUsage, fmt::format("{} is empty", flag));
  if (size_t bad = FirstOutside(value, alphabet); bad != std::string_view::npos) {
    return Fail(ErrorCode::kUsage, fmt::format("{}: {} is not allowed ({}: letters, digits and {})",
                                               flag, ShowByte(value[bad]), what, alphabet));
  }
  if (value.front() == '-') {
    return Fail(ErrorCode::kUsage, fmt::format("{}: may not start with '-'", flag));
  }
  return {};
}

// A path inside the repository: relative, no `..` or `.` component, no empty one.
Result<void> CheckRepoPath(std::string_view flag, std::string_view path) {
  HB_TRY_VOID(CheckAlphabet(flag, path, "._/-", "a relative path"));
  if (path.front() == '/') {
    return Fail(ErrorCode::kUsage,
                fmt::format("{} {}: must be relative to the repository's root", flag, path));
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Fail(ErrorCode::kUsage,
                  fmt::format("{} {}: must be a plain path inside the repository (no '.', '..' "
                              "or empty component)",
                              flag, path));
    }
    start = slash + 1;
  }
  return {};
}

// HOST[:PORT]/PATH, as registries name repositories (lower case).
Result<void> CheckRepository(std::string_view flag, std::string_view value) {
  HB_TRY_VOID(CheckAlphabet(flag, value, "._:/-", "a registry repository"));
  size_t slash = value.find('/');
  if (slash == 0 || slash == std::string_view::npos || value.back() == '/' ||
      value.find("//") != std::string_view::npos) {
    return Fail(ErrorCode::kUsage, fmt::format("{} {}: want HOST[:PORT]/REPOSITORY", flag, value));
  }
  std::string_view path = value.substr(slash + 1);
  if (path.find(':') != std::string_view::npos || AsciiLower(path) != path) {
    return Fail(ErrorCode::kUsage,
                fmt::format("{} {}: a repository is lower case, without a tag", flag, value));
  }
  return {};
}

// A name CI platforms take for a secret or variable: [A-Za-z_][A-Za-z0-9_]*.
Result<void> CheckSecretName(std::string_view flag, std::string_view name) {
  HB_TRY_VOID(CheckAlphabet(flag, name, "_", "a secret's name"));
  if (name.front() >= '0' && name.front() <= '9') {
    return Fail(ErrorCode::kUsage, fmt::format("{} {}: may not start with a digit", flag, name));
  }
  if (AsciiLower(name).starts_with("github_")) {
    return Fail(
        ErrorCode::kUsage,
        fmt::format("{} {}: GitHub reserves secret names starting with GITHUB_", flag, name));
  }
  return {};
}

// ---- Text ------------------------------------------------------------------------------------

// `text` with each "@@KEY@@" replaced by its value, in one pass: what a value brings in is never
// read for placeholders (a value holding "@@PUBLISH@@" stays that text).
std::string Fill(std::string_view text,
                 const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string out;
  for (size_t at = 0;;) {
    size_t open = text.find("@@", at);
    size_t close = open == std::string_view::npos ? open : text.find("@@", open + 2);
    if (close == std::string_view::npos) return out.append(text.substr(at));
    std::string_view key = text.substr(open + 2, close - open - 2);
    auto value =
        std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == key; });
    out.append(text.substr(at, open - at));
    if (value == values.end()) {  // not a placeholder: keep the first "@@", look on from there
      out.append("@@");
      at = open + 2;
      continue;
    }
    out.append(value->second);
    at = close + 2;
  }
}

// `script` as the body of a YAML literal block (`run: |`, `- |`), each line indented by `indent`
// spaces; blank lines stay empty.
std::string Indent(std::string_view script, size_t indent) {
  std::string out;
  for (auto [line, number] : Lines(script)) {
    if (!Trim(line).empty()) out += std::string(indent, ' ') + std::string(line);
    out += '\n';
  }
  return out;
}

// A YAML flow sequence of double-quoted strings: ["a", "b"].
std::string FlowList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + YamlString(values[i]);
  return out + "]";
}

// "1/N" ... "N/N", the shards of `catalog build --shard`.
std::vector<std::string> ShardNames(int shards) {
  std::vector<std::string> names;
  for (int i = 1; i <= shards; ++i) names.push_back(fmt::format("{}/{}", i, shards));
  return names;
}

std::string_view HostOf(std::string_view repository) {
  return repository.substr(0, repository.find('/'));
}

// ---- The scripts both platforms run ------------------------------------------------------------
// Plain bash over environment variables (CATALOG, REGISTRY, CACHE_REPO, TAG, KEY_FILE, ...), never
// with a value written into the code.

// Logs in to the hosts of REGISTRY and CACHE_REPO (each once) with REGISTRY_USERNAME and
// REGISTRY_PASSWORD; without a password, the registries are used as they are.
constexpr std::string_view kLoginScript = R"sh(if [ -z "${REGISTRY_PASSWORD:-}" ]; then
  echo "no registry password: using ${REGISTRY%%/*} without logging in"
else
  previous=""
  for host in "${REGISTRY%%/*}" "${CACHE_REPO%%/*}"; do
    if [ -n "$host" ] && [ "$host" != "$previous" ]; then
      printf '%s' "$REGISTRY_PASSWORD" |
        hardbase login "$host" -u "$REGISTRY_USERNAME" --password-stdin
    fi
    previous=$host
  done
fi
)sh";

// The key from the secret (its text) or, on GitLab, a file variable (its path), to KEY_FILE.
constexpr std::string_view kKeyScript = R"sh(if [ -z "${SIGNING_KEY:-}" ]; then
  echo "the signing key's secret is empty" >&2
  exit 1
fi
umask 077
if [ -f "$SIGNING_KEY" ]; then
  cp "$SIGNING_KEY" "$KEY_FILE"
else
  printf '%s\n' "$SIGNING_KEY" >"$KEY_FILE"
fi
)sh";

// After `catalog build --shard`: each image of the shard (an OCI layout under out/catalog) whose
// digest is not the one REGISTRY/NAME:TAG has is signed for that repository (the build signed it
// and attested its SBOM and provenance already; this signature names where it is published, as
// containers' policy.json checks), pushed, and compared with the image it replaces. `pin` exits 6
// when the tag does not exist yet: a first publication.
constexpr std::string_view kPublishScript = R"sh(for dir in out/catalog/*/; do
  dir=${dir%/}
  [ -f "$dir/index.json" ] || continue
  name=${dir##*/}
  ref="$REGISTRY/$name"
  built=$(hardbase pin "oci:$dir")
  built=${built##*@}
  code=0
  previous=$(hardbase pin "$ref:$TAG") || code=$?
  if [ "$code" -eq 6 ]; then
    previous=""
  elif [ "$code" -ne 0 ]; then
    exit "$code"
  elif [ "${previous##*@}" = "$built" ]; then
    echo "$name: unchanged ($ref:$TAG is $built)"
    continue
  fi
  hardbase sign "oci:$dir" --key "$KEY_FILE" --reference "$ref"
  hardbase push "oci:$dir" "$ref:$TAG"
  if [ -n "$previous" ]; then
    hardbase diff "$previous" "$ref@$built" | tee "$dir.diff"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      printf '### %s\n\n```\n' "$name" >>"$GITHUB_STEP_SUMMARY"
      cat "$dir.diff" >>"$GITHUB_STEP_SUMMARY"
      printf '```\n' >>"$GITHUB_STEP_SUMMARY"
    fi
  else
    echo "$name: first publication, $ref@$built"
  fi
done
)sh";

// `catalog update --write`: the locks that changed written beside their specs; its exit 9 sets
// REBUILD=true (a rebuild is due), 0 REBUILD=false, any other fails the job.
constexpr std::string_view kUpdateScript = R"sh(code=0
hardbase catalog update "$CATALOG" --write --markdown "$REPORT_DIR/pr.md" \
  --json "$REPORT_DIR/update.json" || code=$?
case "$code" in
  0) REBUILD=false; echo "every image is up to date" ;;
  9) REBUILD=true ;;
  *) echo "hardbase catalog update exited $code" >&2; exit "$code" ;;
esac
)sh";

// Commits the catalog's changed locks to BRANCH (replacing what it held: it only ever holds the
// latest update) and pushes it to PUSH_URL.
constexpr std::string_view kCommitScript = R"sh(git config user.name "$GIT_NAME"
git config user.email "$GIT_EMAIL"
git checkout -B "$BRANCH"
git add -A -- "$CATALOG"
git commit -q -m "hardbase: update the catalog's locks" \
  -m "hardbase catalog update found new package versions; see the request's description."
git push -q --force "$PUSH_URL" "HEAD:refs/heads/$BRANCH"
# The description, cut to what the platforms take (65536 characters on GitHub).
head -c 60000 "$REPORT_DIR/pr.md" >"$REPORT_DIR/description.md"
)sh";

// The gate: a valid signature by the public key first, then no finding FAIL_ON or worse; the
// SARIF report is written either way.
constexpr std::string_view kVerifyScript = R"sh(hardbase verify "$IMAGE" --key "$PUBLIC_KEY"
)sh";
constexpr std::string_view kScanScript =
    R"sh(hardbase scan "$IMAGE" --fail-on "$FAIL_ON" --format sarif -o results.sarif
)sh";

// ---- GitHub ------------------------------------------------------------------------------------

constexpr std::string_view kGitHubHeader =
    R"yaml(# Written by `hardbase ci init`: edit it as your own; `hardbase ci init --force` writes it anew.
)yaml";

constexpr std::string_view kGitHubUpdate = R"yaml(#
# The nightly update: `hardbase catalog update` re-resolves every lock of the catalog against
# today's Debian packages. Exit 9 (new versions: a rebuild is due) puts the new locks on the
# branch hardbase/catalog-update and opens, or updates, a pull request from it whose description
# is the report: per image the new versions and the CVEs they close. Exit 0: nothing to do. Any
# other exit fails the run.
#
# Allow GitHub Actions to create pull requests (Settings > Actions > General), or put a token
# that may in the secret HARDBASE_PR_TOKEN: a pull request opened with the default GITHUB_TOKEN
# starts no workflow of its own, so its checks run only once someone pushes to it.
name: hardbase update
on:
  schedule:
    - cron: "17 4 * * *"
  workflow_dispatch:
permissions:
  contents: write
  pull-requests: write
concurrency:
  group: hardbase-update
env:
  CATALOG: @@CATALOG@@
  BRANCH: hardbase/catalog-update
defaults:
  run:
    shell: bash
jobs:
  update:
    runs-on: ubuntu-latest
    # Debian 12: hardbase locks against the apt sources of the machine it runs on.
    container: debian:12
    timeout-minutes: 90
    steps:
      - name: Install git and gh
        run: |
          apt-get update -qq
          apt-get install -y -qq --no-install-recommends ca-certificates git gh
      - uses: @@CHECKOUT@@
        with:
          token: ${{ secrets.HARDBASE_PR_TOKEN || github.token }}
      - name: Install hardbase
        uses: @@ACTION@@
      - name: Fetch the vulnerability data
        run: hardbase vuln update
      - name: Re-resolve the locks
        id: update
        run: |
          REPORT_DIR=$RUNNER_TEMP
@@UPDATE@@          echo "rebuild=$REBUILD" >>"$GITHUB_OUTPUT"
          if [ "$REBUILD" = true ]; then cat "$REPORT_DIR/pr.md" >>"$GITHUB_STEP_SUMMARY"; fi
      - name: Keep the report
        if: steps.update.outputs.rebuild == 'true'
        uses: @@UPLOAD_ARTIFACT@@
        with:
          name: hardbase-update
          path: ${{ runner.temp }}/update.json
      - name: Open or update the pull request
        if: steps.update.outputs.rebuild == 'true'
        env:
          GH_TOKEN: ${{ secrets.HARDBASE_PR_TOKEN || github.token }}
          BASE: ${{ github.ref_name }}
          GIT_NAME: "github-actions[bot]"
          GIT_EMAIL: "41898282+github-actions[bot]@users.noreply.github.com"
        run: |
          git config --global --add safe.directory "$GITHUB_WORKSPACE"
          REPORT_DIR=$RUNNER_TEMP
          PUSH_URL=origin
@@COMMIT@@          open=$(gh pr list --head "$BRANCH" --state open --json number --jq '.[0].number')
          if [ -n "$open" ]; then
            gh pr edit "$open" --body-file "$REPORT_DIR/description.md"
          else
            gh pr create --base "$BASE" --head "$BRANCH" --body-file "$REPORT_DIR/description.md" \
              --title "hardbase: new package versions for the catalog"
          fi
)yaml";

constexpr std::string_view kGitHubPublish = R"yaml(#
# Publishing, on every change of the catalog on @@BRANCH_TEXT@@ (a merged update among them):
# `hardbase catalog plan` splits the catalog into @@SHARDS@@ shards balanced by cost, and a
# matrix job per shard builds its share (`hardbase catalog build --shard i/n --locked`)@@CACHE_TEXT@@,
# signing with the key in the secret @@KEY_SECRET@@ (its password in the secret
# COSIGN_PASSWORD). Each image whose digest is not the one its repository has under the tag is
# then signed for that repository, pushed, and compared with the image it replaces (`hardbase
# diff`, in the job's summary). A build is reproducible: an image whose lock did not change
# keeps its digest and is not pushed again.
#
# Images: @@REGISTRY@@/NAME:@@TAG@@ for each catalog entry NAME.
# Registry credentials: the secrets REGISTRY_USERNAME and REGISTRY_PASSWORD@@GHCR_TEXT@@.
name: hardbase publish
on:
  push:
    branches: [@@BRANCH@@]
    paths: [@@PATHS@@]
  workflow_dispatch:
permissions:
  contents: read
  packages: write
concurrency:
  group: hardbase-publish
env:
  CATALOG: @@CATALOG@@
  REGISTRY: @@REGISTRY_VALUE@@
  CACHE_REPO: @@CACHE_REPO_VALUE@@
  TAG: @@TAG_VALUE@@
defaults:
  run:
    shell: bash
jobs:
  plan:
    runs-on: ubuntu-latest
    container: debian:12
    timeout-minutes: 60
    outputs:
      matrix: ${{ steps.plan.outputs.matrix }}
    steps:
      - name: Install jq
        run: |
          apt-get update -qq
          apt-get install -y -qq --no-install-recommends ca-certificates jq
      - uses: @@CHECKOUT@@
      - name: Install hardbase
        uses: @@ACTION@@
      - name: Plan the shards
        id: plan
        run: |
          hardbase catalog plan "$CATALOG" --shards @@SHARDS@@ --json >"$RUNNER_TEMP/plan.json"
          jq . "$RUNNER_TEMP/plan.json"
          echo "matrix=$(jq -c .matrix "$RUNNER_TEMP/plan.json")" >>"$GITHUB_OUTPUT"
  build:
    needs: plan
    runs-on: ubuntu-latest
    container: debian:12
    timeout-minutes: 180
    strategy:
      fail-fast: false
      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
    steps:
      - uses: @@CHECKOUT@@
      - name: Install hardbase
        uses: @@ACTION@@
      - name: Log in to the registries
        env:
          REGISTRY_USERNAME: @@REGISTRY_USERNAME@@
          REGISTRY_PASSWORD: @@REGISTRY_PASSWORD@@
        run: |
@@LOGIN@@      - name: Fetch the vulnerability data
        run: hardbase vuln update
      - name: Build the shard
        env:
          SHARD: ${{ matrix.shard }}
          SIGNING_KEY: ${{ secrets.@@KEY_SECRET@@ }}
          COSIGN_PASSWORD: ${{ secrets.COSIGN_PASSWORD }}
        run: |
          KEY_FILE=$RUNNER_TEMP/cosign.key
@@KEY@@          hardbase catalog build "$CATALOG" --shard "$SHARD"@@CACHE_FLAG@@ --locked \
            --sign-key "$KEY_FILE" --output-dir out/catalog
      - name: Sign, push and compare the changed images
        env:
          COSIGN_PASSWORD: ${{ secrets.COSIGN_PASSWORD }}
        run: |
          KEY_FILE=$RUNNER_TEMP/cosign.key
@@PUBLISH@@)yaml";

constexpr std::string_view kGitHubGate = R"yaml(#
# The gate: each image is used only when a valid signature by @@PUBLIC_KEY@@ covers it
# (`hardbase verify`) and its scan finds nothing @@FAIL_ON@@ or worse (`hardbase scan
# --fail-on`); the scan's SARIF report goes to GitHub code scanning either way (Security >
# Code scanning; pull requests from forks get no permission to upload). It runs on pull requests,
# on @@BRANCH_TEXT@@ and every morning, since new CVEs are published every day.
#
# Registry credentials for private images: the secrets REGISTRY_USERNAME and REGISTRY_PASSWORD@@GHCR_TEXT@@.
name: hardbase gate
on:
  pull_request:
  push:
    branches: [@@BRANCH@@]
  schedule:
    - cron: "41 5 * * *"
  workflow_dispatch:
permissions:
  contents: read
  packages: read
  security-events: write
env:
  PUBLIC_KEY: @@PUBLIC_KEY_VALUE@@
  FAIL_ON: @@FAIL_ON_VALUE@@
defaults:
  run:
    shell: bash
jobs:
  gate:
    runs-on: ubuntu-latest
    container: debian:12
    timeout-minutes: 90
    strategy:
      fail-fast: false
      matrix:
        image: @@IMAGES@@
    steps:
      - uses: @@CHECKOUT@@
      - name: Install hardbase
        uses: @@ACTION@@
      - name: Log in to the registry
        env:
          IMAGE: ${{ matrix.image }}
          REGISTRY_USERNAME: @@REGISTRY_USERNAME@@
          REGISTRY_PASSWORD: @@REGISTRY_PASSWORD@@
        run: |
          REGISTRY=${IMAGE#docker://}
          CACHE_REPO=""
@@LOGIN@@      - name: Verify the signature
        env:
          IMAGE: ${{ matrix.image }}
        run: |
@@VERIFY@@      - name: Fetch the vulnerability data
        run: hardbase vuln update
      - name: Scan
        env:
          IMAGE: ${{ matrix.image }}
        run: |
@@SCAN@@      - name: Upload the scan to code scanning
        if: ${{ !cancelled() && hashFiles('results.sarif') != '' }}
        uses: @@UPLOAD_SARIF@@
        with:
          sarif_file: results.sarif
          category: hardbase ${{ matrix.image }}
)yaml";

// The expressions for registry credentials: the secrets, and on ghcr.io the workflow's own
// token when they are not set.
std::pair<std::string, std::string> GitHubCredentials(std::string_view registry_host) {
  if (registry_host == "ghcr.io") {
    return {"${{ secrets.REGISTRY_USERNAME || github.actor }}",
            "${{ secrets.REGISTRY_PASSWORD || github.token }}"};
  }
  return {"${{ secrets.REGISTRY_USERNAME }}", "${{ secrets.REGISTRY_PASSWORD }}"};
}

std::string GhcrText(std::string_view registry_host) {
  return registry_host == "ghcr.io"
             ? ";\n# without them, the workflow's own token (it may use this "
               "repository's packages on ghcr.io)"
             : "";
}

// ---- GitLab ------------------------------------------------------------------------------------

constexpr std::string_view kGitLabPipeline =
    R"yaml(# Written by `hardbase ci init`: edit it as your own; `hardbase ci init --force` writes it anew.
#
# Three pipelines:
# - update (scheduled pipelines: CI/CD > Schedules, e.g. nightly): `hardbase catalog update`
#   re-resolves every lock of the catalog; exit 9 (a rebuild is due) pushes the new locks to the
#   branch hardbase/catalog-update and opens, or updates, a merge request whose description is
#   the report (the new versions and the CVEs they close); exit 0: nothing to do; any other
#   fails. It needs a project access token with the api and write_repository scopes in the
#   masked variable HARDBASE_GITLAB_TOKEN.
# - publish (the catalog changed on @@BRANCH_TEXT@@): `hardbase catalog plan` splits it into
#   @@SHARDS@@ shards, a parallel:matrix job per shard builds its share (`catalog build --shard i/n
#   --locked`@@CACHE_TEXT@@), signed with the key in the variable @@KEY_SECRET@@ (its text, or a
#   file variable; its password in COSIGN_PASSWORD); each image whose digest is not the
#   registry's under its tag is signed for its repository, pushed as @@REGISTRY@@/NAME:@@TAG@@ and
#   compared with the image it replaces (`hardbase diff`).
# - gate (merge requests, @@BRANCH_TEXT@@, schedules): each image is used only when a valid
#   signature by @@PUBLIC_KEY@@ covers it (`hardbase verify`) and its scan finds nothing
#   @@FAIL_ON@@ or worse (`hardbase scan --fail-on`); the SARIF report is kept as an artifact.
#
# Registry credentials: the variables REGISTRY_USERNAME and REGISTRY_PASSWORD; without them, the
# job's own credentials for this project's GitLab registry ($CI_REGISTRY).
#
# hardbase itself is built from its source (@@SOURCE_TEXT@@) by its
# scripts/, once per source version (the binary is cached).
stages: [update, plan, build, gate]

variables:
  CATALOG: @@CATALOG@@
  REGISTRY: @@REGISTRY_VALUE@@
  CACHE_REPO: @@CACHE_REPO_VALUE@@
  TAG: @@TAG_VALUE@@
  PUBLIC_KEY: @@PUBLIC_KEY_VALUE@@
  FAIL_ON: @@FAIL_ON_VALUE@@
  BRANCH: hardbase/catalog-update
  HARDBASE_SOURCE: @@SOURCE_URL@@
  HARDBASE_REF: @@SOURCE_REF@@

# Debian 12: hardbase locks against the apt sources of the machine it runs on.
.hardbase:
  image: debian:12
  cache:
    key: hardbase-$HARDBASE_REF
    paths: [.hardbase/bin/]
  before_script:
    - apt-get update -qq
    - apt-get install -y -qq --no-install-recommends ca-certificates git curl jq
    - rm -rf .hardbase/src
    - git clone -q "$HARDBASE_SOURCE" .hardbase/src
    - git -C .hardbase/src checkout -q "$HARDBASE_REF"
    - bash .hardbase/src/scripts/install-deps.sh
    - |
      if [ ! -x .hardbase/bin/hardbase ]; then
        BUILD_DIR=$PWD/.hardbase/build bash .hardbase/src/scripts/build.sh \
          -DCMAKE_BUILD_TYPE=Release -DHARDBASE_TESTS=OFF -DHARDBASE_WERROR=OFF hardbase
        install -D -m 0755 .hardbase/build/src/cli/hardbase .hardbase/bin/hardbase
      fi
    - export PATH="$PWD/.hardbase/bin:$PATH"
    - hardbase --version
    - |
      if [ -z "${REGISTRY_PASSWORD:-}" ] && [ -n "${CI_REGISTRY_PASSWORD:-}" ]; then
        REGISTRY_USERNAME=$CI_REGISTRY_USER
        REGISTRY_PASSWORD=$CI_REGISTRY_PASSWORD
      fi

hardbase-update:
  extends: .hardbase
  stage: update
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
    - if: $CI_PIPELINE_SOURCE == "web"
  script:
    - hardbase vuln update
    - REPORT_DIR=$PWD/.hardbase
    - |
@@UPDATE@@    - |
      if [ "$REBUILD" = true ]; then
        if [ -z "${HARDBASE_GITLAB_TOKEN:-}" ]; then
          echo "a rebuild is due, but HARDBASE_GITLAB_TOKEN is not set: no merge request" >&2
          exit 1
        fi
        GIT_NAME="hardbase"
        GIT_EMAIL="hardbase@$CI_SERVER_HOST"
        PUSH_URL="$CI_SERVER_PROTOCOL://oauth2:$HARDBASE_GITLAB_TOKEN@$CI_SERVER_HOST:$CI_SERVER_PORT/$CI_PROJECT_PATH.git"
@@COMMIT@@        api="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests"
        auth="PRIVATE-TOKEN: $HARDBASE_GITLAB_TOKEN"
        open=$(curl -fsS -H "$auth" "$api?state=opened&source_branch=$BRANCH" | jq -r '.[0].iid // empty')
        if [ -n "$open" ]; then
          curl -fsS -o /dev/null -X PUT -H "$auth" \
            --data-urlencode "description@$REPORT_DIR/description.md" "$api/$open"
        else
          curl -fsS -o /dev/null -X POST -H "$auth" \
            --data-urlencode "source_branch=$BRANCH" \
            --data-urlencode "target_branch=$CI_DEFAULT_BRANCH" \
            --data-urlencode "title=hardbase: new package versions for the catalog" \
            --data-urlencode "description@$REPORT_DIR/description.md" "$api"
        fi
      fi
  artifacts:
    when: always
    paths: [.hardbase/update.json, .hardbase/pr.md]

hardbase-plan:
  extends: .hardbase
  stage: plan
  rules:
    - if: $CI_COMMIT_BRANCH == @@BRANCH@@ && $CI_PIPELINE_SOURCE == "push"
      changes: [@@PATHS@@]
    - if: $CI_COMMIT_BRANCH == @@BRANCH@@ && $CI_PIPELINE_SOURCE == "web"
  script:
    - hardbase catalog plan "$CATALOG" --shards @@SHARDS@@ --json | tee plan.json
  artifacts:
    paths: [plan.json]

hardbase-build:
  extends: .hardbase
  stage: build
  needs: [hardbase-plan]
  rules:
    - if: $CI_COMMIT_BRANCH == @@BRANCH@@ && $CI_PIPELINE_SOURCE == "push"
      changes: [@@PATHS@@]
    - if: $CI_COMMIT_BRANCH == @@BRANCH@@ && $CI_PIPELINE_SOURCE == "web"
  parallel:
    matrix:
      - SHARD: @@SHARD_LIST@@
  script:
    - |
@@LOGIN@@    - hardbase vuln update
    - |
      KEY_FILE=$(mktemp)
      SIGNING_KEY=${@@KEY_SECRET@@:-}
@@KEY@@    - |
      hardbase catalog build "$CATALOG" --shard "$SHARD"@@CACHE_FLAG@@ --locked \
        --sign-key "$KEY_FILE" --output-dir out/catalog
    - |
@@PUBLISH@@
hardbase-gate:
  extends: .hardbase
  stage: gate
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == @@BRANCH@@
    - if: $CI_PIPELINE_SOURCE == "schedule"
  parallel:
    matrix:
      - IMAGE: @@IMAGES@@
  script:
    - |
      REGISTRY=${IMAGE#docker://}
      CACHE_REPO=""
@@LOGIN@@    - |
@@VERIFY@@    - hardbase vuln update
    - |
@@SCAN@@  artifacts:
    when: always
    paths: [results.sarif]
)yaml";

}  // namespace

std::string YamlString(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {  // a control character
      out += fmt::format("\\x{:02x}", c);
      ++i;
    } else {
      char32_t code_point = 0xfffd;  // U+FFFD for a byte that starts no valid sequence
      size_t length = DecodeUtf8(s.substr(i), &code_point);
      out += code_point <= 0xffff ? fmt::format("\\u{:04x}", static_cast<uint32_t>(code_point))
                                  : fmt::format("\\U{:08x}", static_cast<uint32_t>(code_point));
      i += length == 0 ? 1 : length;
    }
  }
  return out + "\"";
}

std::vector<std::string> GateImages(const CiOptions& o) {
  if (!o.gate_images.empty()) return o.gate_images;
  std::vector<std::string> images;
  for (const auto& entry : o.catalog_entries)
    images.push_back(o.registry + "/" + entry + ":" + o.tag);
  return images;
}

Result<void> CheckCiOptions(const CiOptions& o, bool github, bool gitlab) {
  HB_TRY_VOID(CheckRepoPath("--catalog", o.catalog));
  HB_TRY_VOID(CheckRepository("--registry", o.registry));
  if (!o.cache_repo.empty()) HB_TRY_VOID(CheckRepository("--cache-repo", o.cache_repo));
  if (o.shards < 1 || o.shards > kMaxShards) {
    return Fail(ErrorCode::kUsage, fmt::format("--shards {}: want 1 to {}", o.shards, kMaxShards));
  }
  HB_TRY_VOID(CheckAlphabet("--tag", o.tag, "._-", "a tag"));
  if (o.tag.size() > 128) return Fail(ErrorCode::kUsage, "--tag: at most 128 characters");
  HB_TRY_VOID(CheckAlphabet("--branch", o.branch, "._/-", "a branch"));
  HB_TRY_VOID(CheckSecretName("--key-secret", o.key_secret));
  HB_TRY_VOID(CheckRepoPath("--public-key", o.public_key));
  HB_TRY_VOID(CheckAlphabet("--fail-on", o.fail_on, "", "a severity"));
  std::vector<std::string> gate_images = GateImages(o);
  if (gate_images.empty()) {
    return Fail(ErrorCode::kUsage,
                "the gate has no image to check: give --image REF (repeatable), or a --catalog "
                "with entries");
  }
  // An entry's name comes from a directory's: checked as the image it makes.
  std::string flag = o.gate_images.empty() ? "--catalog's entry image" : "--image";
  for (const auto& image : gate_images) {
    HB_TRY_VOID(CheckAlphabet(flag, image, "._:/@-", "an image reference"));
    size_t at = image.find('@');
    if (at != std::string::npos && image.find('@', at + 1) != std::string::npos) {
      return Fail(ErrorCode::kUsage, fmt::format("{} {}: more than one '@'", flag, image));
    }
  }
  if (github) {
    if (o.action.empty()) {
      return Fail(ErrorCode::kUsage,
                  "--github needs --action OWNER/REPO@REF: the repository holding hardbase's "
                  "action (action.yml), at a commit or tag");
    }
    HB_TRY_VOID(CheckAlphabet("--action", o.action, "._/@-", "OWNER/REPO[/PATH]@REF"));
    size_t at = o.action.find('@');
    std::string_view path = std::string_view(o.action).substr(0, at);
    if (at == std::string::npos || o.action.find('@', at + 1) != std::string::npos ||
        at + 1 == o.action.size() || path.find('/') == std::string_view::npos ||
        path.front() == '/' || path.back() == '/' || path.find("//") != std::string_view::npos) {
      return Fail(ErrorCode::kUsage,
                  fmt::format("--action {}: want OWNER/REPO[/PATH]@REF", o.action));
    }
  }
  if (gitlab) {
    if (o.source_url.empty() || o.source_ref.empty()) {
      return Fail(ErrorCode::kUsage,
                  "--gitlab needs where hardbase's source is: --source GIT_URL and --source-ref "
                  "REF (or --action OWNER/REPO@REF, for a clone from GitHub)");
    }
    HB_TRY_VOID(CheckAlphabet("--source", o.source_url, "._:/@~+-", "a git URL"));
    HB_TRY_VOID(CheckAlphabet("--source-ref", o.source_ref, "._/-", "a commit, tag or branch"));
  }
  return {};
}

Result<std::vector<CiFile>> GitHubWorkflows(const CiOptions& o) {
  HB_TRY_VOID(CheckCiOptions(o, /*github=*/true, /*gitlab=*/false));
  auto [username, password] = GitHubCredentials(HostOf(o.registry));
  const std::vector<std::string> gate_images = GateImages(o);
  std::string gate_host = std::string(HostOf(gate_images.front()));
  auto [gate_username, gate_password] = GitHubCredentials(gate_host);
  const std::vector<std::pair<std::string_view, std::string>> common = {
      {"CHECKOUT", std::string(kCheckout)},
      {"UPLOAD_ARTIFACT", std::string(kUploadArtifact)},
      {"UPLOAD_SARIF", std::string(kUploadSarif)},
      {"ACTION", YamlString(o.action)},
      {"CATALOG", YamlString(o.catalog)},
      {"BRANCH", YamlString(o.branch)},
      {"BRANCH_TEXT", o.branch},
      {"PATHS", YamlString(o.catalog + "/**")},
      {"SHARDS", std::to_string(o.shards)},
      {"KEY_SECRET", o.key_secret},
      {"REGISTRY", o.registry},
      {"REGISTRY_VALUE", YamlString(o.registry)},
      {"CACHE_REPO_VALUE", YamlString(o.cache_repo)},
      {"CACHE_TEXT",
       o.cache_repo.empty() ? "" : ",\n# sharing package layers through " + o.cache_repo},
      {"CACHE_FLAG", o.cache_repo.empty() ? "" : " --cache-repo \"$CACHE_REPO\""},
      {"TAG", o.tag},
      {"TAG_VALUE", YamlString(o.tag)},
      {"PUBLIC_KEY", o.public_key},
      {"PUBLIC_KEY_VALUE", YamlString(o.public_key)},
      {"FAIL_ON", o.fail_on},
      {"FAIL_ON_VALUE", YamlString(o.fail_on)},
      {"IMAGES", FlowList(gate_images)},
      {"UPDATE", Indent(kUpdateScript, 10)},
      {"COMMIT", Indent(kCommitScript, 10)},
      {"LOGIN", Indent(kLoginScript, 10)},
      {"KEY", Indent(kKeyScript, 10)},
      {"PUBLISH", Indent(kPublishScript, 10)},
      {"VERIFY", Indent(kVerifyScript, 10)},
      {"SCAN", Indent(kScanScript, 10)},
  };
  auto with = [&](std::vector<std::pair<std::string_view, std::string>> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  std::vector<CiFile> files;
  files.push_back({".github/workflows/hardbase-update.yml",
                   Fill(std::string(kGitHubHeader) + std::string(kGitHubUpdate), common)});
  files.push_back({".github/workflows/hardbase-publish.yml",
                   Fill(std::string(kGitHubHeader) + std::string(kGitHubPublish),
                        with({{"REGISTRY_USERNAME", username},
                              {"REGISTRY_PASSWORD", password},
                              {"GHCR_TEXT", GhcrText(HostOf(o.registry))}}))});
  files.push_back({".github/workflows/hardbase-gate.yml",
                   Fill(std::string(kGitHubHeader) + std::string(kGitHubGate),
                        with({{"REGISTRY_USERNAME", gate_username},
                              {"REGISTRY_PASSWORD", gate_password},
                              {"GHCR_TEXT", GhcrText(gate_host)}}))});
  return files;
}

Result<CiFile> GitLabPipeline(const CiOptions& o) {
  HB_TRY_VOID(CheckCiOptions(o, /*github=*/false, /*gitlab=*/true));
  const std::vector<std::pair<std::string_view, std::string>> values = {
      {"CATALOG", YamlString(o.catalog)},
      {"BRANCH", YamlString(o.branch)},
      {"BRANCH_TEXT", o.branch},
      {"PATHS", YamlString(o.catalog + "/**/*")},
      {"SHARDS", std::to_string(o.shards)},
      {"SHARD_LIST", FlowList(ShardNames(o.shards))},
      {"KEY_SECRET", o.key_secret},
      {"REGISTRY", o.registry},
      {"REGISTRY_VALUE", YamlString(o.registry)},
      {"CACHE_REPO_VALUE", YamlString(o.cache_repo)},
      {"CACHE_TEXT", o.cache_repo.empty() ? "" : ", layers shared\n#   through " + o.cache_repo},
      {"CACHE_FLAG", o.cache_repo.empty() ? "" : " --cache-repo \"$CACHE_REPO\""},
      {"TAG", o.tag},
      {"TAG_VALUE", YamlString(o.tag)},
      {"PUBLIC_KEY", o.public_key},
      {"PUBLIC_KEY_VALUE", YamlString(o.public_key)},
      {"FAIL_ON", o.fail_on},
      {"FAIL_ON_VALUE", YamlString(o.fail_on)},
      {"IMAGES", FlowList(GateImages(o))},
      {"SOURCE_URL", YamlString(o.source_url)},
      {"SOURCE_REF", YamlString(o.source_ref)},
      {"SOURCE_TEXT", o.source_url + " at " + o.source_ref},
      {"UPDATE", Indent(kUpdateScript, 6)},
      {"COMMIT", Indent(kCommitScript, 8)},
      {"LOGIN", Indent(kLoginScript, 6)},
      {"KEY", Indent(kKeyScript, 6)},
      {"PUBLISH", Indent(kPublishScript, 6)},
      {"VERIFY", Indent(kVerifyScript, 6)},
      {"SCAN", Indent(kScanScript, 6)},
  };
  return CiFile{".gitlab-ci.yml", Fill(std::string(kGitLabPipeline), values)};
}

}  // namespace hardbase::ci
