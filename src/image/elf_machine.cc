#include "image/elf_machine.h"

#include <elf.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <span>

namespace hardbase::image {
namespace {

constexpr std::string_view kElfMagic = "\177ELF";

// A Debian architecture's code: its own identity, its GNU triplet (the directory name of its
// multiarch libraries and of its cross toolchains' trees), and the identities its processors run
// as well, which its multilib packages ship.
struct ArchCode {
  std::string_view arch;
  std::string_view triplet;
  ElfIdentity own;
  std::array<ElfIdentity, 2> also;  // unused slots are all zero
};

constexpr ElfIdentity Lsb64(uint16_t machine) { return {ELFCLASS64, ELFDATA2LSB, machine}; }
constexpr ElfIdentity Lsb32(uint16_t machine) { return {ELFCLASS32, ELFDATA2LSB, machine}; }

// The architectures oci::PlatformForDebianArch knows.
constexpr ArchCode kArchs[] = {
    {"amd64", "x86_64-linux-gnu", Lsb64(EM_X86_64), {Lsb32(EM_386), Lsb32(EM_X86_64)}},
    {"arm64", "aarch64-linux-gnu", Lsb64(EM_AARCH64), {Lsb32(EM_ARM)}},
    {"armhf", "arm-linux-gnueabihf", Lsb32(EM_ARM), {}},
    {"armel", "arm-linux-gnueabi", Lsb32(EM_ARM), {}},
    {"i386", "i386-linux-gnu", Lsb32(EM_386), {Lsb64(EM_X86_64), Lsb32(EM_X86_64)}},
    {"ppc64el", "powerpc64le-linux-gnu", Lsb64(EM_PPC64), {}},
    {"s390x",
     "s390x-linux-gnu",
     {ELFCLASS64, ELFDATA2MSB, EM_S390},
     {ElfIdentity{ELFCLASS32, ELFDATA2MSB, EM_S390}}},
    {"riscv64", "riscv64-linux-gnu", Lsb64(EM_RISCV), {}},
    {"mips64el", "mips64el-linux-gnuabi64", Lsb64(EM_MIPS), {Lsb32(EM_MIPS)}},
};

// The machines of the processors Debian builds for, released and ports, by name: code for one of
// them is code an image's processors could be asked to run. Code for other machines (eBPF, GPUs,
// DSPs) is loaded by the kernel or a device, whatever the image's architecture.
struct Machine {
  uint16_t machine;
  std::string_view name;
  bool processor;
};
constexpr Machine kMachines[] = {
    {EM_X86_64, "x86-64", true},
    {EM_386, "Intel 80386", true},
    {EM_AARCH64, "AArch64", true},
    {EM_ARM, "ARM", true},
    {EM_PPC64, "PowerPC64", true},
    {EM_PPC, "PowerPC", true},
    {EM_S390, "IBM S/390", true},
    {EM_RISCV, "RISC-V", true},
    {EM_MIPS, "MIPS", true},
    {EM_LOONGARCH, "LoongArch", true},
    {EM_SPARCV9, "SPARC V9", true},
    {EM_SPARC, "SPARC", true},
    {EM_IA_64, "IA-64", true},
    {EM_ALPHA, "Alpha", true},
    {41, "Alpha", true},  // EM_ALPHA's number in the ELF standard; Linux uses 0x9026
    {EM_PARISC, "PA-RISC", true},
    {EM_68K, "Motorola 68000", true},
    {EM_SH, "SuperH", true},
    {EM_BPF, "eBPF", false},
    {EM_AMDGPU, "AMD GPU", false},
    {EM_CUDA, "NVIDIA CUDA", false},
};

const Machine* FindMachine(uint16_t machine) {
  for (const auto& m : kMachines) {
    if (m.machine == machine) return &m;
  }
  return nullptr;
}

const ArchCode* FindArch(std::string_view arch) {
  for (const auto& a : kArchs) {
    if (a.arch == arch) return &a;
  }
  return nullptr;
}

// libelf's version handshake, once per process before any other call.
void InitLibelf() {
  static std::once_flag once;
  std::call_once(once, [] { elf_version(EV_CURRENT); });
}

// Whether `path` lies below a directory named by a GNU triplet other than `own`
// ("/usr/aarch64-linux-gnu/lib/libc.so.6", "/usr/lib/gcc-cross/arm-linux-gnueabihf/12/...").
bool BelowOtherTriplet(std::string_view path, std::string_view own) {
  size_t start = 0;
  for (size_t end; (end = path.find('/', start)) != std::string_view::npos; start = end + 1) {
    std::string_view component = path.substr(start, end - start);
    if (component.find("-linux-gnu") != std::string_view::npos && component != own) return true;
  }
  return false;
}

// Whether Debian keeps files for other processors at `path` (see CheckElfMachines).
bool OtherProcessorsPath(std::string_view path, const ArchCode& arch) {
  return path.starts_with("/usr/share/") || path.starts_with("/usr/lib/firmware/") ||
         BelowOtherTriplet(path, arch.triplet);
}

bool IsAlso(const ArchCode& arch, const ElfIdentity& id) {
  return std::find(arch.also.begin(), arch.also.end(), id) != arch.also.end() &&
         id != ElfIdentity{};
}

std::string Described(const std::optional<ElfIdentity>& id) {
  return id ? DescribeElfIdentity(*id) : "unreadable header";
}

// A list for a message: the first three items, then how many more ("and 10 more machines").
std::string FirstThree(const std::vector<std::string_view>& items, std::string_view more = "") {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 3; ++i) {
    out += (i ? ", " : "") + std::string(items[i]);
  }
  if (items.size() > 3) out += fmt::format(" and {} more{}", items.size() - 3, more);
  return out;
}

}  // namespace

std::string DescribeElfIdentity(const ElfIdentity& identity) {
  const Machine* m = FindMachine(identity.machine);
  std::string name = m ? std::string(m->name) : fmt::format("machine {}", identity.machine);
  std::string bits = identity.elf_class == ELFCLASS64 ? "64-bit"
                     : identity.elf_class == ELFCLASS32
                         ? "32-bit"
                         : fmt::format("class {}", identity.elf_class);
  std::string order = identity.data == ELFDATA2LSB   ? "LSB"
                      : identity.data == ELFDATA2MSB ? "MSB"
                                                     : fmt::format("byte order {}", identity.data);
  return fmt::format("{} ({} {})", name, bits, order);
}

bool HasElfMagic(std::string_view bytes) { return bytes.starts_with(kElfMagic); }

Result<std::optional<ElfIdentity>> ReadElfIdentity(std::string_view bytes) {
  if (!HasElfMagic(bytes)) return std::nullopt;
  InitLibelf();
  // The header alone: libelf then never looks for a section table the header may place anywhere.
  std::string header(bytes.substr(0, sizeof(Elf64_Ehdr)));
  Elf* elf = elf_memory(header.data(), header.size());
  if (!elf) {
    return Fail(ErrorCode::kIntegrity, fmt::format("ELF header of {} bytes cannot be read: {}",
                                                   header.size(), elf_errmsg(-1)));
  }
  GElf_Ehdr ehdr;
  bool ok = elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &ehdr) != nullptr;
  std::string why = ok ? "" : elf_errmsg(-1);
  elf_end(elf);
  if (!ok) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("not a valid ELF header (class {}, byte order {}, version {}){}",
                            bytes.size() > EI_CLASS ? uint8_t(bytes[EI_CLASS]) : 0,
                            bytes.size() > EI_DATA ? uint8_t(bytes[EI_DATA]) : 0,
                            bytes.size() > EI_VERSION ? uint8_t(bytes[EI_VERSION]) : 0,
                            why.empty() ? "" : ": " + why));
  }
  return ElfIdentity{ehdr.e_ident[EI_CLASS], ehdr.e_ident[EI_DATA], ehdr.e_machine};
}

std::vector<ElfFile> ElfFilesOf(const std::vector<oci::LayerEntry>& entries) {
  std::vector<ElfFile> out;
  for (const auto& e : entries) {
    if (e.type != oci::LayerEntryType::kFile && e.type != oci::LayerEntryType::kHardlink) continue;
    if (!e.content || !HasElfMagic(*e.content)) continue;
    auto identity = ReadElfIdentity(*e.content);
    out.push_back({e.path, identity.value_or(std::nullopt)});
  }
  return out;
}

Result<ElfIdentity> ArchElfIdentity(std::string_view debian_arch) {
  const ArchCode* arch = FindArch(debian_arch);
  if (!arch) {
    return Fail(ErrorCode::kSpec,
                fmt::format("Debian architecture '{}' has no known ELF machine", debian_arch));
  }
  return arch->own;
}

Result<ElfCheck> CheckElfMachines(std::string_view debian_arch,
                                  const std::vector<ElfFilesOwner>& owners, bool strict) {
  const ArchCode* arch = FindArch(debian_arch);
  if (!arch) return Fail(ArchElfIdentity(debian_arch).error());
  const std::string expected = DescribeElfIdentity(arch->own);
  ElfCheck out;
  const ElfFile* first_wrong = nullptr;
  const ElfFilesOwner* first_wrong_owner = nullptr;
  size_t wrong = 0;
  for (const auto& owner : owners) {
    // Per reason (kept where Debian keeps such code, or else multilib), the machines and paths a
    // warning names.
    struct Tolerated {
      std::set<std::string> machines;
      std::vector<std::string_view> paths;
    };
    std::map<bool, Tolerated> tolerated;
    for (const ElfFile& f : *owner.files) {
      ++out.files;
      ++out.machines[Described(f.identity)];
      if (f.identity && *f.identity == arch->own) continue;
      if (f.identity) {
        const Machine* m = FindMachine(f.identity->machine);
        if (!m || !m->processor) continue;
      }
      bool kept_there = OtherProcessorsPath(f.path, *arch);
      if (kept_there || (f.identity && IsAlso(*arch, *f.identity))) {
        Tolerated& t = tolerated[kept_there];
        t.machines.insert(Described(f.identity));
        t.paths.push_back(f.path);
        continue;
      }
      if (wrong++ == 0) {
        first_wrong = &f;
        first_wrong_owner = &owner;
      }
    }
    for (const auto& [kept_there, t] : tolerated) {
      out.warnings.push_back(fmt::format(
          "{}: {} ELF file{} for {} in an {} image, {}: {}", owner.owner, t.paths.size(),
          t.paths.size() == 1 ? "" : "s",
          FirstThree(std::vector<std::string_view>(t.machines.begin(), t.machines.end()),
                     " machines"),
          debian_arch,
          kept_there ? "kept where Debian keeps code for other processors"
                     : "multilib code its processors also run",
          FirstThree(t.paths)));
    }
  }
  if (first_wrong) {
    std::string what = first_wrong->identity
                           ? "is ELF code for " + DescribeElfIdentity(*first_wrong->identity)
                           : std::string("begins with ELF's magic but its header cannot be read");
    std::string more =
        wrong > 1 ? fmt::format(" ({} more ELF files are not for {})", wrong - 1, expected) : "";
    return Fail(ErrorCode::kIntegrity,
                fmt::format("{} of {} {}, but an {} image runs {}{}", first_wrong->path,
                            first_wrong_owner->owner, what, debian_arch, expected, more));
  }
  if (strict && !out.warnings.empty()) {
    return Fail(ErrorCode::kIntegrity, out.warnings.front() + " (refused with --strict)");
  }
  return out;
}

}  // namespace hardbase::image
