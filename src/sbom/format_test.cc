#include "sbom/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::sbom {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SbomFormatTest, NamesAndAliasesParse) {
  // The CLI offers exactly these: the full names and the short aliases.
  EXPECT_THAT(SbomFormatNames(), ElementsAre("spdx-json", "cyclonedx-json", "spdx", "cyclonedx"));
  EXPECT_EQ(*ParseSbomFormat("spdx-json"), SbomFormat::kSpdx);
  EXPECT_EQ(*ParseSbomFormat("spdx"), SbomFormat::kSpdx);
  EXPECT_EQ(*ParseSbomFormat("cyclonedx-json"), SbomFormat::kCycloneDx);
  EXPECT_EQ(*ParseSbomFormat("cyclonedx"), SbomFormat::kCycloneDx);
  auto bad = ParseSbomFormat("SPDX");
  ASSERT_THAT(bad, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(bad.error().message, HasSubstr("use spdx-json or cyclonedx-json"));
}

TEST(SbomFormatTest, MediaTypeAndJsonFollowTheFormat) {
  EXPECT_EQ(SbomMediaType(SbomFormat::kSpdx), kSpdxMediaType);
  EXPECT_EQ(SbomMediaType(SbomFormat::kCycloneDx), kCycloneDxMediaType);
  Document doc;
  doc.name = "demo";
  EXPECT_EQ(SbomJson(doc, SbomFormat::kSpdx), SpdxJson(doc));
  EXPECT_EQ(SbomJson(doc, SbomFormat::kCycloneDx), CycloneDxJson(doc));
}

}  // namespace
}  // namespace hardbase::sbom
