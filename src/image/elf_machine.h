// Which processor an image's executables and libraries are for: the identity of an ELF file's
// header (class, byte order, machine), what each Debian architecture's images must hold, and the
// check over every ELF file of an image of one architecture.
//
// A multi-arch build stacks per architecture the layers of packages locked for it; this check
// proves on the result that what the image would run is code for its processors (a wrong .deb, a
// layer taken for the wrong architecture, or a `files:` binary built on the host would all fail
// it), not only that the image is well formed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "oci/layer.h"

namespace hardbase::image {

// What the kernel's loader checks of an ELF file before it maps it: its class (ELFCLASS32 or
// ELFCLASS64), byte order (ELFDATA2LSB or ELFDATA2MSB) and machine (EM_X86_64, EM_AARCH64, ...).
struct ElfIdentity {
  uint8_t elf_class = 0;
  uint8_t data = 0;
  uint16_t machine = 0;

  bool operator==(const ElfIdentity&) const = default;
};

// "x86-64 (64-bit LSB)", "AArch64 (64-bit LSB)", "IBM S/390 (64-bit MSB)"; a machine without a
// name here is given by number ("machine 4242 (32-bit LSB)").
std::string DescribeElfIdentity(const ElfIdentity& identity);

// Whether `bytes` begin with ELF's magic, "\x7fELF".
bool HasElfMagic(std::string_view bytes);

// The identity in the ELF header that begins `bytes`, read with libelf (which checks the class,
// byte order and version bytes and converts the header of either class and byte order): nullopt
// when `bytes` do not begin with ELF's magic; kIntegrity when they do but the header is truncated
// or invalid. Only the header is read (a section table, wherever it claims to be, is not).
Result<std::optional<ElfIdentity>> ReadElfIdentity(std::string_view bytes);

// An ELF file an image holds, at its image path.
struct ElfFile {
  std::string path;
  std::optional<ElfIdentity> identity;  // nullopt: the magic, but a header that cannot be read

  bool operator==(const ElfFile&) const = default;
};

// The ELF files among `entries`: every regular file and hard link whose content begins with ELF's
// magic, in the entries' order.
std::vector<ElfFile> ElfFilesOf(const std::vector<oci::LayerEntry>& entries);

// The identity every executable and library of a `debian_arch` image has: amd64 x86-64, arm64
// AArch64, armhf and armel ARM (32-bit; the float ABI is not in these fields), i386 Intel 80386,
// ppc64el PowerPC64 LSB, s390x IBM S/390 64-bit MSB, riscv64 RISC-V, mips64el MIPS 64-bit LSB, all
// little-endian but s390x. kSpec for an architecture hardbase does not build.
Result<ElfIdentity> ArchElfIdentity(std::string_view debian_arch);

// The ELF files of one image that one owner put there.
struct ElfFilesOwner {
  std::string owner;  // "package libc6", "the files: entry at image.yaml:12:5", for messages
  const std::vector<ElfFile>* files = nullptr;
};

// What CheckElfMachines found: how many ELF files the image has, how many of each identity
// (DescribeElfIdentity, plus "unreadable header"), and the warnings (at most two lines per owner).
struct ElfCheck {
  size_t files = 0;
  std::map<std::string, size_t> machines;
  std::vector<std::string> warnings;
};

// Checks every ELF file of a `debian_arch` image (its owners' files) against the architecture's
// identity (ArchElfIdentity). Files for no processor Debian builds for (eBPF objects the kernel
// loads, GPU and DSP code) are counted and pass. A file for another processor, or whose header
// cannot be read, is a warning when Debian legitimately ships it there, one line per owner and
// reason naming the owner, the first machines and the first paths:
//  - it lies where files for other processors are kept: below a directory named by another GNU
//    triplet (cross toolchains' /usr/<triplet>, /usr/lib/gcc-cross/<triplet>), firmware
//    (/usr/lib/firmware) or architecture-independent data (/usr/share: Go's testdata, QEMU's
//    firmware images);
//  - else, its identity is one the architecture's processors run too, which Debian ships as
//    multilib (i386 and x32 code on amd64: lib32*, libx32*, valgrind's and GRUB's 32-bit parts;
//    32-bit ARM on arm64; amd64 and x32 code on i386; 31-bit S/390 on s390x; 32-bit MIPS on
//    mips64el).
// With `strict` those are errors too. Any other is a kIntegrity error naming the file, its owner,
// its machine and the one the architecture needs (and how many more there are).
Result<ElfCheck> CheckElfMachines(std::string_view debian_arch,
                                  const std::vector<ElfFilesOwner>& owners, bool strict);

}  // namespace hardbase::image
