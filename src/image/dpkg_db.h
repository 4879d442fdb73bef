// The scanner-visible package database, laid out as distroless images have it: for each package
// that shipped, /var/lib/dpkg/status.d/<name> (its control stanza) and
// /var/lib/dpkg/status.d/<name>.md5sums (one "<md5>  <path>" line per regular file that shipped).
// syft, grype and trivy read this layout; it must list every package in the image and nothing else.
// Pure: texts in, texts out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::image {

// The stanza for status.d/<name>: the package's `control` file (from control.tar) with a
// "Status: install ok installed" field inserted after Package, fields in their original order,
// folded lines kept, ending with exactly one newline. kSpec error if `control` is not one stanza
// with a Package field.
Result<std::string> StatusStanza(std::string_view control);

struct ShippedFile {
  std::string path;  // the package's own path, absolute ("/lib/x86_64-linux-gnu/libc.so.6"), even
                     // when the image stores it under /usr (merged-/usr)
  std::string_view content;
};

// The md5sums text: "<32 hex>  <path without leading slash>\n" per file, sorted by path, as dpkg's
// md5sums files are written (computed from the content that shipped, so conffiles are listed too).
std::string Md5sums(const std::vector<ShippedFile>& files);

}  // namespace hardbase::image
