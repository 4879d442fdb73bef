// An audit report as people read it (a terminal text) and as programs do (the JSON documents
// "hardbase.audit/v1" and "hardbase.audit-compare/v1" that `hardbase report` renders), alone or
// side by side (before/after). Pure. Every string from the image is escaped for the terminal in
// the text (base/printable.h); the JSON carries it as it is (invalid UTF-8 replaced).
#pragma once

#include <string>

#include "audit/audit.h"

namespace hardbase::audit {

// The "hardbase.audit/v1" document (schema, image, score, grade, surface, setuid, world_writable,
// secrets, unowned_files, packages_without_copyright, config, vulnerabilities, provenance, cis,
// findings), two-space indented, invalid UTF-8 replaced.
std::string AuditJson(const Report& report);
// {"schema": "hardbase.audit-compare/v1", "before": ..., "after": ...}, the same way.
std::string CompareJson(const Report& before, const Report& after);

// The report for a terminal: the image, score and grade, findings worst first with their
// evidence, the attack surface, the CIS checks, vulnerabilities and provenance.
std::string AuditText(const Report& report);
// Two reports side by side: the figures of each, then the findings and CIS checks that differ.
std::string CompareText(const Report& before, const Report& after);

}  // namespace hardbase::audit
