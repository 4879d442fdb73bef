// Fuzzes the ELF header reader and the machine check over it. The input is a file's content: an
// identity is read only from bytes that begin with ELF's magic, and agrees with the header's bytes
// read by hand (class, byte order, e_machine in that order); whatever the file, the check of an
// image holding it at a path made of the input's tail never fails but with kIntegrity, and passes
// with no warning for each architecture whose own identity it has.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/elf_machine.h"
#include "oci/layer.h"

namespace {

constexpr std::string_view kArchs[] = {"amd64",   "arm64", "armhf",   "armel",   "i386",
                                       "ppc64el", "s390x", "riscv64", "mips64el"};

// A path for the file from the input's bytes after the header: printable ones, at most 64.
std::string PathOf(std::string_view text) {
  std::string path = "/";
  for (char c : text.substr(std::min<size_t>(text.size(), 64), 64)) {
    if (c >= 0x21 && c < 0x7f) path += c;
  }
  return path == "/" ? "/usr/bin/x" : path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hardbase::image;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto id = ReadElfIdentity(text);
  if (!HasElfMagic(text) && (!id || id->has_value())) __builtin_trap();
  if (!id && id.error().code != hardbase::ErrorCode::kIntegrity) __builtin_trap();
  if (id && id->has_value()) {
    const ElfIdentity& got = **id;
    if (size < (got.elf_class == 2 ? 64u : 52u) || got.elf_class != data[4] || got.data != data[5])
      __builtin_trap();
    if (got.elf_class != 1 && got.elf_class != 2) __builtin_trap();
    uint16_t machine =
        got.data == 2 ? uint16_t(data[18] << 8 | data[19]) : uint16_t(data[19] << 8 | data[18]);
    if (got.machine != machine) __builtin_trap();
    if (DescribeElfIdentity(got).empty()) __builtin_trap();
  }

  hardbase::oci::LayerEntry entry;
  entry.path = PathOf(text);
  entry.content = std::make_shared<const std::string>(text);
  std::vector<ElfFile> files = ElfFilesOf({entry});
  if (files.size() != (HasElfMagic(text) ? 1u : 0u)) __builtin_trap();
  for (std::string_view arch : kArchs) {
    for (bool strict : {false, true}) {
      auto check = CheckElfMachines(arch, {{"package fuzz", &files}}, strict);
      if (!check) {
        if (check.error().code != hardbase::ErrorCode::kIntegrity) __builtin_trap();
        continue;
      }
      if (check->files != files.size() || check->warnings.size() > 1) __builtin_trap();
      if (strict && !check->warnings.empty()) __builtin_trap();
    }
    auto own = ArchElfIdentity(arch);
    if (!own) __builtin_trap();
    if (id && id->has_value() && **id == *own) {
      auto check = CheckElfMachines(arch, {{"package fuzz", &files}}, true);
      if (!check || !check->warnings.empty()) __builtin_trap();
    }
  }
  return 0;
}
