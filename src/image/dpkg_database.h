// The dev variant's package database: what dpkg and apt find on a Debian system, so that in the
// build stage of a multi-stage build `dpkg -l`, `dpkg -S` and `apt-get update && apt-get install`
// work as they do in Debian's own images.
//
// A hardened image carries only the distroless, scanner-visible records of each package layer
// (/var/lib/dpkg/status.d/, see image/dpkg_db.h). A dev image gets, in one layer of its own above
// the image's top layer, built from what each package's layer holds (its PackageFacts):
//   /var/lib/dpkg/status               every package with "Status: install ok installed", sorted by
//                                      name and architecture, fields in dpkg's order, with the
//                                      package's Conffiles and their md5sums
//   /var/lib/dpkg/available            empty
//   /var/lib/dpkg/arch                 the image's architecture
//   /var/lib/dpkg/info/format          "1": the multi-arch layout (info files of Multi-Arch: same
//                                      packages are named "<name>:<arch>.<what>")
//   /var/lib/dpkg/info/<pkg>.list      "/." and every path of the package that shipped (the
//                                      package's own paths, as dpkg lists them: /bin/bash, which
//                                      the image stores at /usr/bin/bash)
//   /var/lib/dpkg/info/<pkg>.md5sums   what shipped, and the control files dpkg keeps there
//                                      (maintainer scripts, conffiles, triggers, shlibs, ...)
//   /var/lib/dpkg/triggers/File, <name>, Unincorp   the trigger interests of the packages, as dpkg
//                                      records them when it unpacks them
//   /var/lib/dpkg/.wh.status.d         an OCI whiteout: the package layers' status.d goes, so
//                                      that a scanner reads one database, the one dpkg updates
//   /etc/apt/sources.list.d/hardbase.sources   deb822, the repositories the lock came from, each
//                                      with Signed-By naming a keyring the image holds
//   /etc/apt/keyrings/<name>           those keyrings the image's packages do not ship
// and the directories dpkg and apt expect, and /usr/local's, that the packages did not ship.
//
// The maintainer scripts of the packages never ran (hardbase does what they would have done
// declaratively); dpkg is told the packages are installed and configured, as they are.
// Pure: values in, layer entries out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/image_files.h"
#include "image/package_files.h"
#include "oci/layer.h"

namespace hardbase::image {

// Whether dpkg keeps a control.tar member of this name in /var/lib/dpkg/info (conffiles, config,
// the four maintainer scripts, shlibs, symbols, templates, triggers). The package's own `md5sums`
// is not among them: the database lists what shipped (PackageFacts::md5sums).
bool IsDpkgInfoControlFile(std::string_view name);

// One package of the image, as the database records it.
struct DpkgPackage {
  std::string name;          // as the lock names it
  std::string architecture;  // the package's Architecture ("all" for arch-independent ones)
  const PackageFacts* facts = nullptr;
};

// The name of the package's info files: "libc6:amd64" for a Multi-Arch: same package, else its
// name ("bash").
std::string DpkgInfoName(const DpkgPackage& package);

// The package's stanza of /var/lib/dpkg/status: its status.d stanza with "Status: install ok
// installed", a Conffiles field (" <path> <md5>" for each conffile that shipped, flags such as
// remove-on-upgrade after the md5) and the fields in the order dpkg writes them (Package,
// Essential, Protected, Status, Priority, ... Conffiles, Description, then the others as they
// came). Ends with the field lines' newline, no blank line. kIntegrity error if the stanza is not
// one stanza naming the package.
Result<std::string> DpkgStatusStanza(const DpkgPackage& package);

// A keyring file that verified a repository's Release files when the lock was made.
struct AptKeyring {
  std::string path;     // where apt found it (host or spec path): the image may hold it there too
  std::string content;  // its bytes (binary or ASCII-armored OpenPGP keys)
};

// One suite of a repository the lock came from (apt::SuiteSource, as apt configures it).
struct AptRepository {
  std::string uri;  // without a trailing slash
  std::string suite;
  std::vector<std::string> components;     // empty for a flat repository ("suite/")
  std::vector<std::string> architectures;  // empty: apt's default
  std::vector<AptKeyring> keyrings;
  std::string inline_key;            // an armored key block configured in place of a file
  std::vector<std::string> signers;  // key fingerprints apt must require; empty: any key
};

// /etc/apt/sources.list.d/hardbase.sources for `repositories`, given the keyring path the image
// holds for each of their keyrings (`signed_by[i][k]` for repositories[i].keyrings[k], the
// inline key's file last when it has one): one "Types: deb" stanza per run of suites that share
// URI, components, architectures and Signed-By, in the order given. kSpec error for a value that
// would break the deb822 syntax (white space or control characters in a URI, suite, component,
// architecture, path or fingerprint).
Result<std::string> AptSourcesText(const std::vector<AptRepository>& repositories,
                                   const std::vector<std::vector<std::string>>& signed_by);

struct DpkgDatabaseInputs {
  std::string arch;  // the image's Debian architecture
  std::vector<DpkgPackage> packages;
  std::vector<AptRepository> repositories;
  int64_t epoch = 0;  // timestamp of every entry
};

// The dev variant's database layer (see the top of this file) over the image in `view` (every
// layer below). A keyring is named where the image holds a regular file at the keyring's own path
// (debian-archive-keyring's /usr/share/keyrings/debian-archive-keyring.gpg, say), else it is
// copied to /etc/apt/keyrings/ (an armored one as .asc, others as .gpg, as apt reads them by
// extension). kIntegrity error, naming the path, when the packages ship a file where this layer
// writes one, or a link or file where it needs a directory; or when a package's name, path or
// trigger cannot be written into dpkg's line-based files.
Result<std::vector<oci::LayerEntry>> DpkgDatabaseEntries(const DpkgDatabaseInputs& inputs,
                                                         const ImageView& view);

}  // namespace hardbase::image
