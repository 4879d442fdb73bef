// Which hardened catalog images stand in for a Dockerfile's base image: `python:3.11-slim` is
// `python3` at run time and `python3-dev` to build in. The table is the one `hardbase migrate`
// uses and the README documents; `--map` adds to it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::dockerfile {

// Where the hardened image differs from the image it replaces in a way a Dockerfile sees.
struct PathMove {
  std::string_view from;  // "/usr/share/nginx/html"
  std::string_view to;    // "/var/www/html"
};
struct PortMove {
  std::string_view from;  // "80"
  std::string_view to;    // "8080"
};

struct BaseImageRule {
  // Repository names as FROM writes them, without registry or "library/": "python", "node",
  // "gcr.io/distroless/java17-debian12". A trailing '*' matches any rest.
  std::string_view repository;
  // Tags it applies to: "" any, else a prefix ("17" matches "17-jdk-slim"); several separated by
  // '|'.
  std::string_view tags;
  std::string_view runtime;  // the catalog image to run on
  std::string_view dev;      // the catalog image to build in
  std::string_view note;     // what changes for the application, "" when nothing
  std::span<const PathMove> paths = {};
  std::span<const PortMove> ports = {};
};

std::span<const BaseImageRule> BaseImageTable();

// A match, possibly from a user's `--map IMAGE=RUNTIME[,DEV]`.
struct BaseImageMatch {
  std::string runtime;
  std::string dev;
  std::string note;
  std::vector<PathMove> paths;
  std::vector<PortMove> ports;
};

// "IMAGE=RUNTIME[,DEV]" (DEV defaults to RUNTIME-dev) as a user's mapping; kUsage when malformed.
struct BaseImageOverride {
  std::string image;  // as FROM names it, compared after normalising (see MatchBaseImage)
  std::string runtime;
  std::string dev;
};
Result<BaseImageOverride> ParseBaseImageOverride(std::string_view text);

// The catalog images for `image` as FROM names it ("docker.io/library/node:20@sha256:..." is
// "node" tag "20"): the first override naming it, else the first row of the table that matches.
// nullopt when nothing does; a match with no runtime when a row says the catalog has none (its
// note says why).
std::optional<BaseImageMatch> MatchBaseImage(std::string_view image,
                                             std::span<const BaseImageOverride> overrides = {});

}  // namespace hardbase::dockerfile
