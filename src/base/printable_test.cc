#include "base/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace hardbase {
namespace {

using namespace std::string_literals;

TEST(PrintableTest, KeepsPrintableAsciiAndUtf8) {
  EXPECT_EQ(Printable(""), "");
  EXPECT_EQ(Printable("libc6 2.36-9+deb12u4 <debian-glibc@lists.debian.org>"),
            "libc6 2.36-9+deb12u4 <debian-glibc@lists.debian.org>");
  // Two-, three- and four-byte sequences, including the highest code point and U+00A0.
  std::string utf8 =
      "M\xc3\xbcller \xc2\xa0 \xe2\x82\xac \xe4\xb8\xad \xf0\x9f\x94\x92 \xf4\x8f\xbf\xbf";
  EXPECT_EQ(Printable(utf8), utf8);
  // Backslashes stay: escaping must not double on a second pass.
  EXPECT_EQ(Printable("C:\\x1b"), "C:\\x1b");
}

TEST(PrintableTest, EscapesC0ControlsAndDel) {
  EXPECT_EQ(Printable("a\nverified attestation"), "a\\x0averified attestation");
  EXPECT_EQ(Printable("\x1b[32mOK\x1b[0m"), "\\x1b[32mOK\\x1b[0m");
  EXPECT_EQ(Printable("x\ry\tz\x7f"), "x\\x0dy\\x09z\\x7f");
  EXPECT_EQ(Printable("nul\0byte"s), "nul\\x00byte");
}

TEST(PrintableTest, EscapesC1ControlsEncodedInUtf8) {
  // U+009B is the one-character CSI: "\xc2\x9b" "31m" turns a terminal red as ESC [ does.
  EXPECT_EQ(Printable("\xc2\x9b"
                      "31mred"),
            "\\u009b31mred");
  EXPECT_EQ(Printable("\xc2\x80\xc2\x85\xc2\x9f"), "\\u0080\\u0085\\u009f");
}

TEST(PrintableTest, EscapesBidiControlsAndLineSeparators) {
  EXPECT_EQ(Printable("a\xe2\x80\xaeTXT.exe"), "a\\u202eTXT.exe");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(Printable("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad"),
            "\\u202a\\u202b\\u202c\\u202d");
  EXPECT_EQ(Printable("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9"),
            "\\u2066\\u2067\\u2068\\u2069");
  EXPECT_EQ(Printable("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"), "\\u200e\\u200f\\u061c");
  EXPECT_EQ(Printable("\xe2\x80\xa8\xe2\x80\xa9"), "\\u2028\\u2029");
  // Neighbours are ordinary text.
  EXPECT_EQ(Printable("\xe2\x80\x94\xe2\x81\xa0"), "\xe2\x80\x94\xe2\x81\xa0");
}

TEST(PrintableTest, EscapesEachByteOfInvalidUtf8) {
  EXPECT_EQ(Printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(Printable("a\x80z"), "a\\x80z");                         // stray continuation byte
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(Printable("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");           // overlong, three bytes
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate U+D800
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // beyond U+10FFFF
  EXPECT_EQ(Printable("end\xe2\x82"), "end\\xe2\\x82");              // truncated at the end
  EXPECT_EQ(Printable("\xe2\x82z"), "\\xe2\\x82z");                  // truncated mid-text
  // An overlong ESC is not let through as a control in disguise, nor as the raw byte.
  EXPECT_EQ(Printable("\xc0\x9b"), "\\xc0\\x9b");
}

TEST(PrintableTest, IsIdempotentOverEveryByteAndPair) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 7) {
      std::string in{static_cast<char>(a), static_cast<char>(b), '\xe2', '\x80', '\xae'};
      std::string once = Printable(in);
      EXPECT_EQ(Printable(once), once);
      for (unsigned char c : once) ASSERT_FALSE(c < 0x20 || c == 0x7f) << once;
    }
  }
}

}  // namespace
}  // namespace hardbase
