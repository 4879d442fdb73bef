// `hardbase migrate`: a Dockerfile rewritten so that its final image is a hardened catalog image,
// pinned by digest, running as a non-root user, with nothing that needs a shell at run time.
//
// The rules, in the order they apply:
// - every stage's base image is looked up in the base-image table (base_images.h); build stages
//   move onto the matching `-dev` image, and one with no match stays where it is (noted);
// - the final stage, with the stages it builds on (`FROM build`), is the application's chain.
//   When the chain runs anything (RUN, ADD of a URL or archive) or builds on another stage, it
//   becomes the build stage (on the `-dev` image) and a new final stage on the runtime image
//   copies what the application is made of from it: its WORKDIR and every COPY/ADD destination
//   outside it. Without RUN, the final stage simply moves onto the runtime image;
// - `apt-get install X` in the chain moves X into a spec: the runtime image plus X (the resolver
//   builds it); apk, yum, dnf and zypper are refused (their package names are not Debian's);
// - shell-form CMD and ENTRYPOINT become exec form; one that needs a shell (variables, pipes,
//   redirections, globs, `&&`) is refused; a CMD under a runtime image with an ENTRYPOINT becomes
//   the ENTRYPOINT (the runtime's would otherwise prefix it);
// - USER is the runtime image's non-root user unless the Dockerfile names a non-root numeric id;
// - a shell-form HEALTHCHECK becomes exec form, or is commented out with its line when it needs
//   a shell; SHELL goes (there is none);
// - paths and ports where the catalog image differs (nginx's /usr/share/nginx/html is
//   /var/www/html, port 80 is 8080) are moved in COPY destinations, WORKDIR, VOLUME and EXPOSE.
// Every change is recorded with its line; what cannot be translated is refused with its line and
// no Dockerfile is written. Nothing is dropped silently.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "dockerfile/base_images.h"
#include "dockerfile/dockerfile.h"

namespace hardbase::dockerfile {

// A catalog image the migrated Dockerfile needs, with the Debian packages to add to it ("" none).
struct ImageRequest {
  std::string catalog;                // "nodejs", "python3-dev"
  std::vector<std::string> packages;  // sorted, unique
  bool operator==(const ImageRequest&) const = default;
};

// Where it is and what its config says.
struct ResolvedImage {
  std::string reference;  // pinned: "registry.example/nodejs@sha256:..."
  std::string user;       // the config's User ("" = root)
  std::vector<std::string> entrypoint;
};

// Finds (or builds) a requested image; an error stops the migration.
using ImageResolver = std::function<Result<ResolvedImage>(const ImageRequest&)>;

struct MigrationNote {
  int line = 0;      // of the original Dockerfile; 0 for the file as a whole
  std::string kind;  // "base", "pin", "stage", "copy", "packages", "user", "exec-form",
                     // "entrypoint", "healthcheck", "path", "port", "removed", "warning", "refused"
  std::string message;
};

struct Migration {
  std::string before;                         // the original text
  std::string after;                          // the new Dockerfile; "" when refused
  std::string runtime;                        // the final stage's catalog image ("" when none)
  std::vector<std::string> runtime_packages;  // added to it (apt-get install of the final stage)
  std::vector<MigrationNote> changes;         // in line order
  std::vector<MigrationNote> refused;         // what could not be translated, in line order
};

struct MigrateOptions {
  std::vector<BaseImageOverride> overrides;  // --map, before the table
};

// kSpec when the Dockerfile does not parse; the resolver's error when it fails. Refusals are
// data: Migration::refused, with `after` empty (the resolver is then not asked for anything).
Result<Migration> Migrate(std::string_view dockerfile, const MigrateOptions& options,
                          const ImageResolver& resolve);

// The explanation written beside the new Dockerfile: every change and refusal with its line.
std::string MigrationMarkdown(const Migration& migration, std::string_view source);
// The `migrate --json` document (schema "hardbase.migration/v1"); `spec` is the spec written
// for the runtime's added packages, "" when none.
nlohmann::ordered_json MigrationJson(const Migration& migration, std::string_view source,
                                     std::string_view spec);

// The words of a shell command that a program can be started with directly (exec form), or
// nullopt when it needs a shell: expansions, pipes, lists, redirections, globs, subshells,
// comments. Quotes and backslashes are taken as the shell would; a leading `exec` is dropped.
std::optional<std::vector<std::string>> ExecWords(std::string_view command);

}  // namespace hardbase::dockerfile
