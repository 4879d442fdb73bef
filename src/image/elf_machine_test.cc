#include "image/elf_machine.h"

#include <elf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "base/fs.h"
#include "oci/image.h"
#include "support/elf_header.h"
#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::ElfHeader;
using ::hardbase::testing::FailsWith;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The Debian architecture this test binary was compiled for.
#if defined(__x86_64__)
constexpr std::string_view kHostArch = "amd64";
#elif defined(__aarch64__)
constexpr std::string_view kHostArch = "arm64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr std::string_view kHostArch = "ppc64el";
#elif defined(__s390x__)
constexpr std::string_view kHostArch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::string_view kHostArch = "riscv64";
#else
constexpr std::string_view kHostArch = "";
#endif

// A file's first `n` bytes (the whole file when shorter).
std::string Head(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(n, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

std::string Header(const ElfIdentity& id) {
  return ElfHeader({.elf_class = id.elf_class, .data = id.data, .machine = id.machine});
}

constexpr ElfIdentity kX8664{ELFCLASS64, ELFDATA2LSB, EM_X86_64};
constexpr ElfIdentity kAarch64{ELFCLASS64, ELFDATA2LSB, EM_AARCH64};
constexpr ElfIdentity kI386{ELFCLASS32, ELFDATA2LSB, EM_386};
constexpr ElfIdentity kArm{ELFCLASS32, ELFDATA2LSB, EM_ARM};

// Real binaries of the host, from Debian's coreutils and the test itself, are of the host's
// architecture.
TEST(ReadElfIdentityTest, ReadsTheHostsOwnBinaries) {
  if (kHostArch.empty()) GTEST_SKIP() << "a host architecture this test does not name";
  auto expected = ArchElfIdentity(kHostArch);
  ASSERT_TRUE(expected.has_value());
  auto coreutils = ReadFile("/usr/bin/true");
  ASSERT_TRUE(coreutils.has_value()) << coreutils.error().message;
  for (const std::string& bytes : {*coreutils, Head("/proc/self/exe", 4096)}) {
    auto id = ReadElfIdentity(bytes);
    ASSERT_TRUE(id.has_value()) << id.error().message;
    ASSERT_TRUE(id->has_value());
    EXPECT_EQ(**id, *expected) << DescribeElfIdentity(**id);
  }
}

// Every architecture hardbase makes OCI platforms for has its identity, and the names say class
// and byte order.
TEST(ArchElfIdentityTest, EveryArchitectureHasItsIdentity) {
  const std::pair<std::string_view, ElfIdentity> cases[] = {
      {"amd64", kX8664},
      {"arm64", kAarch64},
      {"armhf", kArm},
      {"armel", kArm},
      {"i386", kI386},
      {"ppc64el", {ELFCLASS64, ELFDATA2LSB, EM_PPC64}},
      {"s390x", {ELFCLASS64, ELFDATA2MSB, EM_S390}},
      {"riscv64", {ELFCLASS64, ELFDATA2LSB, EM_RISCV}},
      {"mips64el", {ELFCLASS64, ELFDATA2LSB, EM_MIPS}},
  };
  for (const auto& [arch, id] : cases) {
    SCOPED_TRACE(arch);
    EXPECT_TRUE(oci::PlatformForDebianArch(arch).has_value());
    auto got = ArchElfIdentity(arch);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, id);
    // Each read back from a header made for it, big-endian s390x included.
    auto read = ReadElfIdentity(Header(id));
    ASSERT_TRUE(read.has_value()) << read.error().message;
    EXPECT_EQ(read->value_or(ElfIdentity{}), id);
  }
  EXPECT_THAT(ArchElfIdentity("hurd-i386"), FailsWith(ErrorCode::kSpec, HasSubstr("hurd-i386")));
  EXPECT_EQ(DescribeElfIdentity(kX8664), "x86-64 (64-bit LSB)");
  EXPECT_EQ(DescribeElfIdentity(kArm), "ARM (32-bit LSB)");
  EXPECT_EQ(DescribeElfIdentity({ELFCLASS64, ELFDATA2MSB, EM_S390}), "IBM S/390 (64-bit MSB)");
  EXPECT_EQ(DescribeElfIdentity({ELFCLASS32, ELFDATA2MSB, 4242}), "machine 4242 (32-bit MSB)");
}

TEST(ReadElfIdentityTest, WhatDoesNotBeginWithTheMagicIsNoElfFile) {
  for (std::string_view bytes : {std::string_view(""), std::string_view("#!/bin/sh\n"),
                                 std::string_view("\177EL"), std::string_view("ELF\x7f")}) {
    auto id = ReadElfIdentity(bytes);
    ASSERT_TRUE(id.has_value()) << id.error().message;
    EXPECT_FALSE(id->has_value()) << bytes;
  }
}

// A header cut short, or whose identification bytes are not ELF's, cannot say what it is for.
TEST(ReadElfIdentityTest, ATruncatedOrInvalidHeaderIsAnIntegrityError) {
  std::string header64 = Header(kAarch64);
  ASSERT_EQ(header64.size(), 64u);
  std::string bad_class = header64, bad_order = header64, bad_version = header64;
  bad_class[EI_CLASS] = 3;
  bad_order[EI_DATA] = 0;
  bad_version[EI_VERSION] = 0;
  for (const std::string& bytes : {std::string("\177ELF"), header64.substr(0, 20),
                                   header64.substr(0, 63), bad_class, bad_order, bad_version}) {
    EXPECT_THAT(ReadElfIdentity(bytes), FailsWith(ErrorCode::kIntegrity)) << bytes.size();
  }
  auto coreutils = ReadFile("/usr/bin/true");
  ASSERT_TRUE(coreutils.has_value());
  EXPECT_THAT(ReadElfIdentity(coreutils->substr(0, 40)),
              FailsWith(ErrorCode::kIntegrity, HasSubstr("40 bytes")));
  // A 32-bit header is 52 bytes: complete at that size.
  std::string header32 = Header(kArm);
  ASSERT_EQ(header32.size(), 52u);
  auto arm = ReadElfIdentity(header32);
  ASSERT_TRUE(arm.has_value()) << arm.error().message;
  EXPECT_EQ(arm->value_or(ElfIdentity{}), kArm);
}

// Only the header is read: a section table said to lie far past the file, or the most sections a
// header can count, change nothing.
TEST(ReadElfIdentityTest, TheSectionTableIsNotRead) {
  std::string bytes =
      ElfHeader({.machine = EM_AARCH64, .section_offset = uint64_t{1} << 40, .sections = 0xffff});
  auto id = ReadElfIdentity(bytes);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(id->value_or(ElfIdentity{}), kAarch64);
}

oci::LayerEntry Entry(std::string path, oci::LayerEntryType type, std::string content = "") {
  oci::LayerEntry e;
  e.path = std::move(path);
  e.type = type;
  if (!content.empty()) e.content = std::make_shared<const std::string>(std::move(content));
  return e;
}

TEST(ElfFilesOfTest, RegularFilesAndHardLinksThatBeginWithTheMagic) {
  using Type = oci::LayerEntryType;
  std::vector<oci::LayerEntry> entries = {
      Entry("/usr/bin", Type::kDirectory),
      Entry("/usr/bin/tool", Type::kFile, Header(kAarch64) + "code"),
      Entry("/usr/bin/tool-again", Type::kHardlink, Header(kAarch64) + "code"),
      Entry("/usr/bin/link", Type::kSymlink),
      Entry("/usr/bin/script", Type::kFile, "#!/usr/bin/perl\n"),
      Entry("/usr/lib/broken.so", Type::kFile, "\177ELF\x02"),
      Entry("/usr/lib/empty", Type::kFile),
  };
  EXPECT_THAT(ElfFilesOf(entries), ElementsAre(ElfFile{"/usr/bin/tool", kAarch64},
                                               ElfFile{"/usr/bin/tool-again", kAarch64},
                                               ElfFile{"/usr/lib/broken.so", std::nullopt}));
}

// ElfFiles, each at its path with its identity (nullopt: an unreadable header).
std::vector<ElfFile> Files(std::vector<std::pair<std::string, std::optional<ElfIdentity>>> in) {
  std::vector<ElfFile> out;
  for (auto& [path, id] : in) out.push_back({path, id});
  return out;
}

TEST(CheckElfMachinesTest, AnImageOfItsArchitecturesCodePasses) {
  auto libc = Files({{"/usr/lib/aarch64-linux-gnu/libc.so.6", kAarch64},
                     {"/usr/lib/ld-linux-aarch64.so.1", kAarch64}});
  // An eBPF object is loaded by the kernel, whatever the processor.
  auto tools = Files({{"/usr/bin/tool", kAarch64},
                      {"/usr/lib/bpf/filter.o", ElfIdentity{ELFCLASS64, ELFDATA2LSB, EM_BPF}}});
  auto check = CheckElfMachines("arm64", {{"package libc6", &libc}, {"package tool", &tools}},
                                /*strict=*/true);
  ASSERT_TRUE(check.has_value()) << check.error().message;
  EXPECT_EQ(check->files, 4u);
  EXPECT_EQ(check->machines,
            (std::map<std::string, size_t>{{"AArch64 (64-bit LSB)", 3}, {"eBPF (64-bit LSB)", 1}}));
  EXPECT_TRUE(check->warnings.empty());
}

// The hostile case: an arm64 image holding x86-64 code where Debian puts the image's own.
TEST(CheckElfMachinesTest, CodeForAnotherProcessorIsRefusedNamingFileOwnerAndMachines) {
  auto libc = Files({{"/usr/lib/aarch64-linux-gnu/libc.so.6", kAarch64}});
  auto intruder = Files({{"/usr/bin/tool", kX8664},
                         {"/usr/lib/aarch64-linux-gnu/libtool.so.1", kX8664},
                         {"/usr/lib/tool/helper", kI386}});
  EXPECT_THAT(
      CheckElfMachines("arm64", {{"package libc6", &libc}, {"package tool", &intruder}}, false),
      FailsWith(ErrorCode::kIntegrity,
                AllOf(HasSubstr("/usr/bin/tool of package tool is ELF code for x86-64 "
                                "(64-bit LSB), but an arm64 image runs AArch64 (64-bit "
                                "LSB)"),
                      HasSubstr("2 more ELF files are not for AArch64"))));
  // Under the image's own triplet, too; and a `files:` entry is named by its place in the spec.
  auto own = Files({{"/usr/lib/aarch64-linux-gnu/libx.so", kX8664}});
  EXPECT_THAT(CheckElfMachines("arm64", {{"the files: entry at image.yaml:9:5", &own}}, false),
              FailsWith(ErrorCode::kIntegrity,
                        HasSubstr("/usr/lib/aarch64-linux-gnu/libx.so of the files: entry at "
                                  "image.yaml:9:5 is ELF code for x86-64")));
  // And the other way round: AArch64 code in an amd64 image.
  auto arm_code = Files({{"/usr/bin/tool", kAarch64}});
  EXPECT_THAT(CheckElfMachines("amd64", {{"package tool", &arm_code}}, false),
              FailsWith(ErrorCode::kIntegrity, HasSubstr("but an amd64 image runs x86-64")));
}

TEST(CheckElfMachinesTest, AnUnreadableHeaderIsRefusedButWhereDataIsKept) {
  auto broken = Files({{"/usr/lib/x86_64-linux-gnu/libbroken.so", std::nullopt}});
  EXPECT_THAT(CheckElfMachines("amd64", {{"package broken", &broken}}, false),
              FailsWith(ErrorCode::kIntegrity,
                        HasSubstr("/usr/lib/x86_64-linux-gnu/libbroken.so of package broken "
                                  "begins with ELF's magic but its header cannot be read")));
  auto data = Files({{"/usr/share/broken/sample.bin", std::nullopt}});
  auto check = CheckElfMachines("amd64", {{"package broken-data", &data}}, false);
  ASSERT_TRUE(check.has_value()) << check.error().message;
  EXPECT_EQ(check->machines, (std::map<std::string, size_t>{{"unreadable header", 1}}));
  ASSERT_EQ(check->warnings.size(), 1u);
}

// What Debian legitimately ships for other processors is a warning naming the package, or with
// --strict an error.
TEST(CheckElfMachinesTest, MultilibCrossTreesFirmwareAndDataAreWarningsOrStrictErrors) {
  auto lib32 = Files({{"/usr/lib32/libc.so.6", kI386},
                      {"/usr/lib32/ld-linux.so.2", kI386},
                      {"/usr/lib32/libm.so.6", kI386},
                      {"/usr/lib32/libmvec.so.1", kI386},
                      {"/usr/libx32/libc.so.6", ElfIdentity{ELFCLASS32, ELFDATA2LSB, EM_X86_64}}});
  auto cross = Files({{"/usr/aarch64-linux-gnu/lib/libc.so.6", kAarch64},
                      {"/usr/lib/gcc-cross/aarch64-linux-gnu/12/crtbegin.o", kAarch64}});
  auto firmware =
      Files({{"/usr/lib/firmware/dsp/boot.elf", kArm},
             {"/usr/share/qemu/s390-ccw.img", ElfIdentity{ELFCLASS64, ELFDATA2MSB, EM_S390}}});
  std::vector<ElfFilesOwner> owners = {{"package libc6-i386", &lib32},
                                       {"package libc6-arm64-cross", &cross},
                                       {"package firmware-misc", &firmware}};
  auto check = CheckElfMachines("amd64", owners, false);
  ASSERT_TRUE(check.has_value()) << check.error().message;
  EXPECT_EQ(check->files, 9u);
  EXPECT_THAT(
      check->warnings,
      ElementsAre("package libc6-i386: 5 ELF files for Intel 80386 (32-bit LSB), x86-64 (32-bit "
                  "LSB) in an amd64 image, multilib code its processors also run: "
                  "/usr/lib32/libc.so.6, /usr/lib32/ld-linux.so.2, /usr/lib32/libm.so.6 and 2 more",
                  "package libc6-arm64-cross: 2 ELF files for AArch64 (64-bit LSB) in an amd64 "
                  "image, kept where Debian keeps code for other processors: "
                  "/usr/aarch64-linux-gnu/lib/libc.so.6, "
                  "/usr/lib/gcc-cross/aarch64-linux-gnu/12/crtbegin.o",
                  "package firmware-misc: 2 ELF files for ARM (32-bit LSB), IBM S/390 (64-bit MSB) "
                  "in an amd64 image, kept where Debian keeps code for other processors: "
                  "/usr/lib/firmware/dsp/boot.elf, /usr/share/qemu/s390-ccw.img"));
  EXPECT_THAT(CheckElfMachines("amd64", owners, true),
              FailsWith(ErrorCode::kIntegrity,
                        AllOf(HasSubstr("package libc6-i386: 5 ELF files for Intel 80386"),
                              HasSubstr("--strict"))));
  // 32-bit ARM code is multilib on arm64, not on amd64 (where it is refused outside firmware).
  auto compat = Files({{"/usr/lib/arm-linux-gnueabihf/libc.so.6", kArm}, {"/usr/bin/x", kArm}});
  auto arm64 = CheckElfMachines("arm64", {{"package compat", &compat}}, false);
  ASSERT_TRUE(arm64.has_value()) << arm64.error().message;
  EXPECT_THAT(arm64->warnings,
              ElementsAre("package compat: 1 ELF file for ARM (32-bit LSB) in an arm64 image, "
                          "multilib code its processors also run: /usr/bin/x",
                          "package compat: 1 ELF file for ARM (32-bit LSB) in an arm64 image, kept "
                          "where Debian keeps code for other processors: "
                          "/usr/lib/arm-linux-gnueabihf/libc.so.6"));
  EXPECT_THAT(CheckElfMachines("amd64", {{"package compat", &compat}}, false),
              FailsWith(ErrorCode::kIntegrity, HasSubstr("/usr/bin/x of package compat")));
  EXPECT_THAT(CheckElfMachines("amd64", {{"package compat", &compat}}, false),
              FailsWith(ErrorCode::kIntegrity, Not(HasSubstr("more ELF files"))));
}

}  // namespace
}  // namespace hardbase::image
