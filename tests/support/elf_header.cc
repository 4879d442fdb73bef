#include "support/elf_header.h"

#include <elf.h>

#include <cstddef>
#include <cstring>

namespace hardbase::testing {
namespace {

// Writes the low `width` bytes of `value` at `offset`, in `data`'s byte order.
void Put(std::string& bytes, size_t offset, uint64_t value, size_t width, uint8_t data) {
  for (size_t i = 0; i < width; ++i) {
    size_t at = data == ELFDATA2MSB ? offset + width - 1 - i : offset + i;
    bytes[at] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

template <class Ehdr>
std::string Header(const ElfHeaderFields& f) {
  std::string bytes(sizeof(Ehdr), '\0');
  std::memcpy(bytes.data(), ELFMAG, SELFMAG);
  bytes[EI_CLASS] = static_cast<char>(f.elf_class);
  bytes[EI_DATA] = static_cast<char>(f.data);
  bytes[EI_VERSION] = EV_CURRENT;
  bytes[EI_OSABI] = ELFOSABI_SYSV;
  Put(bytes, offsetof(Ehdr, e_type), ET_EXEC, sizeof(Ehdr::e_type), f.data);
  Put(bytes, offsetof(Ehdr, e_machine), f.machine, sizeof(Ehdr::e_machine), f.data);
  Put(bytes, offsetof(Ehdr, e_version), EV_CURRENT, sizeof(Ehdr::e_version), f.data);
  Put(bytes, offsetof(Ehdr, e_shoff), f.section_offset, sizeof(Ehdr::e_shoff), f.data);
  Put(bytes, offsetof(Ehdr, e_ehsize), sizeof(Ehdr), sizeof(Ehdr::e_ehsize), f.data);
  Put(bytes, offsetof(Ehdr, e_shnum), f.sections, sizeof(Ehdr::e_shnum), f.data);
  if (f.sections) {
    Put(bytes, offsetof(Ehdr, e_shentsize),
        f.elf_class == ELFCLASS64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr),
        sizeof(Ehdr::e_shentsize), f.data);
  }
  return bytes;
}

}  // namespace

std::string ElfHeader(const ElfHeaderFields& fields) {
  return fields.elf_class == ELFCLASS32 ? Header<Elf32_Ehdr>(fields) : Header<Elf64_Ehdr>(fields);
}

}  // namespace hardbase::testing
