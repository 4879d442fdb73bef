// ELF headers made by the tests, for the machines no binary on the test host is for: the first
// bytes a linker writes (the ELF header of an executable, with no program or section table
// after it), in either class and byte order.
#pragma once

#include <cstdint>
#include <string>

namespace hardbase::testing {

struct ElfHeaderFields {
  uint8_t elf_class = 2;        // ELFCLASS64; 1 for ELFCLASS32
  uint8_t data = 1;             // ELFDATA2LSB; 2 for ELFDATA2MSB
  uint16_t machine = 0;         // EM_*
  uint64_t section_offset = 0;  // e_shoff: where the header says the section table is
  uint16_t sections = 0;        // e_shnum
};

// The ELF header of an executable (ET_EXEC, version EV_CURRENT) with these fields: 64 bytes for
// ELFCLASS64, 52 for ELFCLASS32, each field in the given byte order.
std::string ElfHeader(const ElfHeaderFields& fields);

}  // namespace hardbase::testing
