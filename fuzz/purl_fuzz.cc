// Fuzzes the purl parser (VEX documents and SBOMs of others name packages with purls): any bytes
// either fail with kSpec or give a purl whose canonical string parses back to the same value and
// is its own canonical form; the Debian package purls hardbase makes from the parts parse back to
// themselves too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/purl.h"
#include "deb/purl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto purl = hardbase::Purl::Parse(text);
  if (!purl) {
    if (purl.error().code != hardbase::ErrorCode::kSpec) __builtin_trap();
    return 0;
  }
  if (purl->type.empty() || purl->name.empty()) __builtin_trap();
  for (const auto& [key, value] : purl->qualifiers) {
    if (key.empty() || value.empty()) __builtin_trap();
  }
  std::string canonical = purl->ToString();
  auto again = hardbase::Purl::Parse(canonical);
  if (!again || !(*again == *purl)) __builtin_trap();
  if (again->ToString() != canonical) __builtin_trap();

  // Its parts as a Debian package's: what the SBOM and the scan write must parse back.
  hardbase::deb::Distro distro{purl->namespace_, purl->version, purl->subpath};
  hardbase::Purl deb = hardbase::deb::PackagePurl(distro, purl->name, purl->version, purl->type,
                                                  purl->namespace_, purl->subpath);
  auto parsed = hardbase::Purl::Parse(deb.ToString());
  if (!parsed || parsed->ToString() != deb.ToString()) __builtin_trap();
  return 0;
}
