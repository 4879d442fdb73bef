#include "sbom/copyright.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fs.h"

namespace hardbase::sbom {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::StartsWith;

// The copyright file of a package every Debian system has (Essential, or needed by dpkg).
std::string HostCopyright(const std::string& package) {
  auto text = ReadFile("/usr/share/doc/" + package + "/copyright");
  EXPECT_TRUE(text.has_value()) << text.error().message;
  return text.value_or("");
}

TEST(LicenseExpressionTest, Coreutils) {
  // Files stanzas: GPL-3+, "GPL-3+ and BSD-4-clause-UC", "GPL-3+ and ISC", FSFULLR and
  // GFDL-NIV-1.3; the standalone License stanzas only carry texts.
  EXPECT_EQ(LicenseExpression(HostCopyright("coreutils")),
            "BSD-4-Clause-UC AND FSFULLR AND GFDL-1.3-no-invariants-only AND GPL-3.0-or-later AND "
            "ISC");
}

TEST(LicenseExpressionTest, Zlib) { EXPECT_EQ(LicenseExpression(HostCopyright("zlib1g")), "Zlib"); }

TEST(LicenseExpressionTest, FreeTextFileGivesNothing) {
  // glibc's copyright file is prose, with no Format line.
  EXPECT_EQ(LicenseExpression(HostCopyright("libc6")), "");
  EXPECT_EQ(LicenseExpression("This package is\nLicense: GPL-2\n\nFiles: *\nLicense: MIT\n"), "");
  EXPECT_EQ(LicenseExpression(""), "");
}

// From libssl3 3.0.x's copyright file (tab-indented continuation lines included).
constexpr std::string_view kLibssl3 =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Upstream-Name: OpenSSL\n"
    "Source: https://www.openssl.org\n"
    "\n"
    "Files: *\n"
    "Copyright: 1995-2020, The OpenSSL Project Authors\n"
    "\t   2016 VMS Software Inc.\n"
    "License: Apache-2.0\n"
    "\n"
    "License: Apache-2.0\n"
    " Licensed under the Apache License 2.0 (the \"License\").\n"
    "\n"
    "Files: debian/*\n"
    "Copyright: Christoph Martin, Kurt Roeckx, Sebastian Andrzej Siewior\n"
    "License: Apache-2.0\n"
    "\n"
    "Files: external/perl/Text-Template-1.56/*\n"
    "Copyright: 2013, Mark Jason Dominus <mjd@cpan.org>.\n"
    "License: Artistic or GPL-1+\n"
    "\n"
    "License: Artistic\n"
    " This program is free software; you can redistribute it and/or modify\n"
    " it under the terms of the Artistic License, which comes with Perl.\n";

TEST(LicenseExpressionTest, Libssl3ChoiceIsParenthesised) {
  EXPECT_EQ(LicenseExpression(kLibssl3), "Apache-2.0 AND (Artistic-1.0-Perl OR GPL-1.0-or-later)");
  EXPECT_THAT(LicenseRefTexts(kLibssl3), IsEmpty());
}

TEST(LicenseExpressionTest, OperatorsAndCommas) {
  auto dep5 = [](std::string_view license) {
    return LicenseExpression(
        "Format: https://www.debian.org/doc/packaging-manuals/"
        "copyright-format/1.0/\n\nFiles: *\nCopyright: x\nLicense: " +
        std::string(license) + "\n");
  };
  // Within a part "and" binds tighter, as in SPDX; a comma closes a part.
  EXPECT_EQ(dep5("Expat or Zlib and ISC"), "(MIT OR Zlib AND ISC)");
  EXPECT_EQ(dep5("GPL-2+ or Artistic, and BSD-3-clause"),
            "BSD-3-Clause AND (GPL-2.0-or-later OR Artistic-1.0-Perl)");
  EXPECT_EQ(dep5("GPL-2+ and BSD-3-clause, or Expat"),
            "(GPL-2.0-or-later AND BSD-3-Clause OR MIT)");
  EXPECT_EQ(dep5("LGPL-2.1+ AND lgpl-2.1+"), "LGPL-2.1-or-later");
  EXPECT_EQ(dep5("GPL-2 with Classpath exception"), "GPL-2.0-only WITH Classpath-exception-2.0");
  EXPECT_EQ(dep5("or"), "");
}

TEST(LicenseExpressionTest, HeaderLicenseCountsAndLicenseRefsGetTheirText) {
  constexpr std::string_view kText =
      "Format: http://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
      "License: public-domain\n"
      "\n"
      "Files: src/*\n"
      "License: GPL-2+ with OpenSSL exception\n"
      "\n"
      "Files: debian/*\n"
      "License: GPL-2+\n"
      "\n"
      "License: GPL-2+ with OpenSSL exception\n"
      " You may link this with OpenSSL.\n"
      " .\n"
      " On Debian systems, see /usr/share/common-licenses/GPL-2.\n"
      "\n"
      "License: Unused-Licence\n"
      " Not referenced by any Files stanza.\n";
  EXPECT_EQ(LicenseExpression(kText),
            "GPL-2.0-or-later AND LicenseRef-GPL-2-plus-with-OpenSSL-exception AND "
            "LicenseRef-public-domain");
  EXPECT_THAT(LicenseRefTexts(kText),
              ElementsAre(Pair("LicenseRef-GPL-2-plus-with-OpenSSL-exception",
                               "You may link this with OpenSSL.\n\nOn Debian systems, see "
                               "/usr/share/common-licenses/GPL-2.\n")));
}

TEST(SpdxLicenseIdTest, DebianShortNames) {
  EXPECT_EQ(SpdxLicenseId("GPL-1"), "GPL-1.0-only");
  EXPECT_EQ(SpdxLicenseId("GPL-2"), "GPL-2.0-only");
  EXPECT_EQ(SpdxLicenseId("GPL-2+"), "GPL-2.0-or-later");
  EXPECT_EQ(SpdxLicenseId("GPL-3.0+"), "GPL-3.0-or-later");
  EXPECT_EQ(SpdxLicenseId("LGPL-2"), "LGPL-2.0-only");
  EXPECT_EQ(SpdxLicenseId("LGPL-2.1+"), "LGPL-2.1-or-later");
  EXPECT_EQ(SpdxLicenseId("AGPL-3+"), "AGPL-3.0-or-later");
  EXPECT_EQ(SpdxLicenseId("GFDL-1.2+"), "GFDL-1.2-or-later");
  EXPECT_EQ(SpdxLicenseId("GFDL-NIV-1.3+"), "GFDL-1.3-no-invariants-or-later");
  EXPECT_EQ(SpdxLicenseId("BSD-3-clause"), "BSD-3-Clause");
  EXPECT_EQ(SpdxLicenseId("Expat"), "MIT");
  EXPECT_EQ(SpdxLicenseId("Apache-2.0"), "Apache-2.0");
  EXPECT_EQ(SpdxLicenseId("MPL-1.1+"), "MPL-1.1+");
  EXPECT_EQ(SpdxLicenseId("zlib"), "Zlib");
  EXPECT_EQ(SpdxLicenseId("GPL-3+ with GCC-exception-3.1 exception"),
            "GPL-3.0-or-later WITH GCC-exception-3.1");
  EXPECT_EQ(SpdxLicenseId("GPL-2.0-only"), "GPL-2.0-only");  // already SPDX
  EXPECT_EQ(SpdxLicenseId("Apache-2-LLVM-exceptions"), "Apache-2.0 WITH LLVM-exception");
  EXPECT_EQ(SpdxLicenseId("Apache-2-LLVM-exceptions with Font exception"),
            "LicenseRef-Apache-2-LLVM-exceptions-with-Font-exception");
  // No such version, or not an SPDX licence: a LicenseRef with only idstring characters.
  EXPECT_EQ(SpdxLicenseId("GPL-4"), "LicenseRef-GPL-4");
  EXPECT_EQ(SpdxLicenseId("public-domain"), "LicenseRef-public-domain");
  EXPECT_EQ(SpdxLicenseId("permissive/other (see below)"), "LicenseRef-permissive-other-see-below");
  EXPECT_EQ(SpdxLicenseId("\xc3\xa9+"), "LicenseRef-plus");
  EXPECT_EQ(SpdxLicenseId("()"), "");
}

TEST(LicenseRefsInTest, FindsWholeIds) {
  EXPECT_THAT(LicenseRefsIn("MIT AND (LicenseRef-a.b OR LicenseRef-c-d) AND LicenseRef-a.b"),
              ElementsAre("LicenseRef-a.b", "LicenseRef-c-d"));
  EXPECT_THAT(LicenseRefsIn("LicenseRef-"), IsEmpty());
  EXPECT_THAT(LicenseRefsIn("GPL-2.0-only"), IsEmpty());
  EXPECT_THAT(SpdxLicenseId("Foo Licence"), StartsWith("LicenseRef-Foo-Licence"));
}

}  // namespace
}  // namespace hardbase::sbom
