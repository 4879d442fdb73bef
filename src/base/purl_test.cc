#include "base/purl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/result_matchers.h"

namespace hardbase {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

// Cases of the purl specification's own test suite (package-url/purl-spec at commit
// 16f3d0e39343d47d1ac3d559b7e110f25eac1513: tests/spec/specification-test.json and
// tests/types/<type>-test.json; the older root test-suite-data.json has most of them too). Valid
// ones are its "validate" (round-trip) cases: input -> canonical string. Left out: the cases of
// type-specific checks this parser does not make (a namespace a type requires or prohibits, a
// name's length or characters, hugging face's lower-case versions), and the one case the suite
// contradicts itself on: "pkg:Rpm/...?Arch=i386" is a valid input whose canonical form has the
// key lower-cased (rpm-test.json, "validate") and an input that must fail for its upper-case key
// ("parse"); this parser lower-cases keys, as the specification's "how to parse" says.
struct ValidCase {
  const char* source;
  const char* input;
  const char* canonical;
};

const std::vector<ValidCase> kValid = {
    // deb: an epoch's ':' is never encoded, '+' is.
    {"deb-test.json", "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
     "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"},
    {"deb-test.json", "pkg:deb/debian/dpkg@1.19.0.4?arch=amd64&distro=stretch",
     "pkg:deb/debian/dpkg@1.19.0.4?arch=amd64&distro=stretch"},
    {"deb-test.json", "pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64",
     "pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64"},
    {"deb-test.json", "pkg:deb/debian/attr@1:2.4.47-2?arch=source",
     "pkg:deb/debian/attr@1:2.4.47-2?arch=source"},
    {"deb-test.json", "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64",
     "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64"},
    // oci and docker: a digest's encoded colon is decoded; '/' in a value is encoded.
    {"oci-test.json",
     "pkg:oci/debian@sha256%3A244fd47e07d10?repository_url=docker.io/library/debian&arch=amd64&"
     "tag=latest",
     "pkg:oci/debian@sha256:244fd47e07d10?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian&"
     "tag=latest"},
    {"oci-test.json", "pkg:oci/hello-wasm@sha256%3A244fd47e07d10?tag=v1",
     "pkg:oci/hello-wasm@sha256:244fd47e07d10?tag=v1"},
    {"oci-test.json",
     "pkg:oci/static@sha256%3A244fd47e07d10?repository_url=gcr.io/distroless/static&tag=latest",
     "pkg:oci/static@sha256:244fd47e07d10?repository_url=gcr.io%2Fdistroless%2Fstatic&tag=latest"},
    {"docker-test.json",
     "pkg:docker/customer/dockerimage@sha256%3A244fd47e07d1004f0aed9c?repository_url=gcr.io",
     "pkg:docker/customer/dockerimage@sha256:244fd47e07d1004f0aed9c?repository_url=gcr.io"},
    {"docker-test.json", "pkg:docker/cassandra@latest", "pkg:docker/cassandra@latest"},
    // Scheme and type: slashes after "pkg:" are not significant, the type is lower-cased.
    {"maven-test.json", "pkg:/maven/org.apache.commons/io", "pkg:maven/org.apache.commons/io"},
    {"maven-test.json", "pkg://maven/org.apache.commons/io", "pkg:maven/org.apache.commons/io"},
    {"maven-test.json", "pkg:///maven/org.apache.commons/io", "pkg:maven/org.apache.commons/io"},
    {"nuget-test.json", "pkg:Nuget/EnterpriseLibrary.Common@6.0.1304",
     "pkg:nuget/EnterpriseLibrary.Common@6.0.1304"},
    // Case: kept where the type is case-sensitive, folded where it is not.
    {"maven-test.json", "pkg:maven/HTTPClient/HTTPClient@0.3-3",
     "pkg:maven/HTTPClient/HTTPClient@0.3-3"},
    {"github-test.json", "pkg:github/Package-url/purl-Spec@244fd47e07d1004f0aed9c",
     "pkg:github/package-url/purl-spec@244fd47e07d1004f0aed9c"},
    {"bitbucket-test.json", "pkg:bitbucket/birKenfeld/pyGments-main@244fd47e07d1014f0aed9c",
     "pkg:bitbucket/birkenfeld/pygments-main@244fd47e07d1014f0aed9c"},
    {"composer-test.json", "pkg:composer/Laravel/Laravel@5.5.0",
     "pkg:composer/laravel/laravel@5.5.0"},
    {"pypi-test.json", "pkg:PYPI/Django_package@1.11.1.dev1",
     "pkg:pypi/django-package@1.11.1.dev1"},
    {"swift-test.json", "pkg:swift/github.com/RxSwiftCommunity/RxFlow@2.12.4",
     "pkg:swift/github.com/RxSwiftCommunity/RxFlow@2.12.4"},
    // Qualifiers: keys lower-cased and sorted, values encoded (' ' as %20, ',' as %2C).
    {"maven-test.json",
     "pkg:Maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repositorY_url=https://"
     "repo.spring.io/release",
     "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repository_url=https:"
     "%2F%2Frepo.spring.io%2Frelease"},
    {"maven-test.json",
     "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?type=zip&classifier=dist",
     "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=dist&type=zip"},
    {"maven-test.json", "pkg:maven/mygroup/myartifact@1.0.0%20Final?mykey=my%20value",
     "pkg:maven/mygroup/myartifact@1.0.0%20Final?mykey=my%20value"},
    {"rpm-test.json", "pkg:rpm/fedora/centerim@4.22.10-1.el6?arch=i686&epoch=1&distro=fedora-25",
     "pkg:rpm/fedora/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1"},
    {"generic-test.json",
     "pkg:generic/bitwarderl?vcs_url=git%2Bhttps://git.fsfe.org/dxtr/bitwarderl%40cc55108da32",
     "pkg:generic/bitwarderl?vcs_url=git%2Bhttps:%2F%2Fgit.fsfe.org%2Fdxtr%2Fbitwarderl%40"
     "cc55108da32"},
    {"specification-test.json",
     "pkg:generic/bitwarderl?checksum=sha1:ad9503c3e994a4f%2Csha256:41bf9088b3a1e6c1ef1d",
     "pkg:generic/bitwarderl?checksum=sha1:ad9503c3e994a4f%2Csha256:41bf9088b3a1e6c1ef1d"},
    {"npm-test.json",
     "pkg:npm/mypackage@12.4.5?vcs_url=git://host.com/path/to/repo.git%404345abcd34343",
     "pkg:npm/mypackage@12.4.5?vcs_url=git:%2F%2Fhost.com%2Fpath%2Fto%2Frepo.git%404345abcd34343"},
    // Namespace: an '@' in it is encoded.
    {"npm-test.json", "pkg:npm/%40angular/animation@12.3.1", "pkg:npm/%40angular/animation@12.3.1"},
    // Subpath: leading and trailing slashes dropped.
    {"golang-test.json",
     "pkg:GOLANG/google.golang.org/genproto@abcdedf#/googleapis/api/annotations/",
     "pkg:golang/google.golang.org/genproto@abcdedf#googleapis/api/annotations"},
    {"golang-test.json", "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c#api",
     "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c#api"},
    {"npm-test.json", "pkg:npm/core@2.0.1#/googleapis/api/annotations/",
     "pkg:npm/core@2.0.1#googleapis/api/annotations"},
    {"github-test.json", "pkg:github/package-url/purl-spec@244fd47e07d1004#everybody/loves/dogs",
     "pkg:github/package-url/purl-spec@244fd47e07d1004#everybody/loves/dogs"},
};

// The suite's inputs that must not parse (its "parse" cases with expected_failure).
struct InvalidCase {
  const char* source;
  const char* input;
};

const std::vector<InvalidCase> kInvalid = {
    {"specification-test.json: a scheme is always required", "EnterpriseLibrary.Common@6.0.1304"},
    {"specification-test.json: a type is always required", "pkg:EnterpriseLibrary.Common@6.0.1304"},
    {"specification-test.json: invalid character in type", "pkg:n&g?inx/nginx@0.8.9"},
    {"specification-test.json: type that starts with a number", "pkg:3nginx/nginx@0.8.9"},
    {"specification-test.json: colon in type", "pkg:nginx:a/nginx@0.8.9"},
    {"specification-test.json: invalid qualifier key",
     "pkg:npm/myartifact@1.0.0?in%20production=true"},
    {"specification-test.json: a name is required", "pkg:maven/@1.3.4"},
    {"specification-test.json: encoded colon between scheme and type",
     "pkg%3Amaven/org.apache.commons/io"},
    {"cran-test.json: no name", "pkg:cran/@0.9.1"},
    {"hackage-test.json: name and version are always required", "pkg:hackage"},
};

TEST(PurlSpecSuiteTest, ValidPurlsParseToTheirCanonicalForm) {
  for (const ValidCase& c : kValid) {
    SCOPED_TRACE(std::string(c.source) + ": " + c.input);
    auto purl = Purl::Parse(c.input);
    ASSERT_TRUE(purl.has_value()) << purl.error().message;
    EXPECT_EQ(purl->ToString(), c.canonical);
    // The canonical form is a fixed point, and names the same package.
    auto again = Purl::Parse(c.canonical);
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(*again, *purl);
    EXPECT_EQ(again->ToString(), c.canonical);
  }
}

TEST(PurlSpecSuiteTest, InvalidPurlsAreRefusedNamingTheInput) {
  for (const InvalidCase& c : kInvalid) {
    auto purl = Purl::Parse(c.input);
    ASSERT_FALSE(purl.has_value()) << c.source << ": " << purl->ToString();
    EXPECT_THAT(purl, FailsWith(ErrorCode::kSpec)) << c.source;
    EXPECT_THAT(purl.error().message, HasSubstr(c.input)) << c.source;
  }
}

TEST(PurlTest, TakesADebianPackagePurlApart) {
  auto purl = Purl::Parse(
      "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1%2Bdeb12u1?distro=debian-12&arch=amd64&"
      "upstream=zlib%401:1.2.13.dfsg-1");
  ASSERT_TRUE(purl.has_value()) << purl.error().message;
  EXPECT_EQ(purl->type, "deb");
  EXPECT_EQ(purl->namespace_, "debian");
  EXPECT_EQ(purl->name, "zlib1g");
  EXPECT_EQ(purl->version, "1:1.2.13.dfsg-1+deb12u1");
  EXPECT_EQ(purl->qualifiers,
            (std::map<std::string, std::string>{
                {"arch", "amd64"}, {"distro", "debian-12"}, {"upstream", "zlib@1:1.2.13.dfsg-1"}}));
  EXPECT_EQ(purl->subpath, "");
  EXPECT_EQ(purl->ToString(),
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1%2Bdeb12u1?arch=amd64&distro=debian-12&"
            "upstream=zlib%401:1.2.13.dfsg-1");
}

// The two spellings of an epoch that tools write name one package, and print as one string.
TEST(PurlTest, AnEncodedColonIsTheSameColon) {
  auto encoded = Purl::Parse("pkg:deb/debian/libcrypt1@1%3A4.4.33-2?arch=amd64");
  auto plain = Purl::Parse("pkg:deb/debian/libcrypt1@1:4.4.33-2?arch=amd64");
  ASSERT_TRUE(encoded.has_value() && plain.has_value());
  EXPECT_EQ(*encoded, *plain);
  EXPECT_EQ(encoded->ToString(), "pkg:deb/debian/libcrypt1@1:4.4.33-2?arch=amd64");
}

TEST(PurlTest, BuildsTheCanonicalFormFromAValue) {
  Purl purl;
  purl.type = "DEB";
  purl.namespace_ = "/Debian/";
  purl.name = "libstdc++6";
  purl.version = "12.2.0-14 ";
  purl.qualifiers = {{"distro", "debian-12"}, {"arch", "amd64"}, {"empty", ""}};
  purl.subpath = "./usr//lib/../x";
  EXPECT_EQ(purl.ToString(),
            "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%20?arch=amd64&distro=debian-12#usr/lib/x");
  // A name may hold what the grammar uses as separators, encoded.
  Purl odd{"generic", "", "a/b@c?d#e", "", {}, ""};
  EXPECT_EQ(odd.ToString(), "pkg:generic/a%2Fb%40c%3Fd%23e");
  auto back = Purl::Parse(odd.ToString());
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, odd);
}

TEST(PurlTest, DropsEmptyQualifierValuesAndFoldsKeys) {
  auto purl = Purl::Parse("pkg:deb/Debian/Curl@1?ARCH=amd64&distro=&&tag=");
  ASSERT_TRUE(purl.has_value()) << purl.error().message;
  EXPECT_EQ(purl->namespace_, "debian");
  EXPECT_EQ(purl->name, "curl");
  EXPECT_EQ(purl->qualifiers, (std::map<std::string, std::string>{{"arch", "amd64"}}));
  EXPECT_EQ(purl->ToString(), "pkg:deb/debian/curl@1?arch=amd64");
}

TEST(PurlTest, RefusesMalformedParts) {
  for (const char* input : {
           "pkg:deb/debian/curl@1%2",                   // '%' without two hex digits
           "pkg:deb/debian/curl@1%zz",                  //
           "pkg:deb/debian/cu%ffrl@1",                  // not UTF-8 once decoded
           "pkg:deb/debian/curl?arch=amd64&arch=i386",  // a key given twice
           "pkg:deb/debian/curl?arch",                  // no '='
           "pkg:deb/debian/curl?=amd64",                // no key
           "pkg:deb/deb%2Fian/curl",                    // a namespace segment holding '/'
           "pkg:golang/x/y#a/b%2Fc",                    // a subpath segment holding '/'
           "pkg:deb/@1",                                // no name
           "pkg:deb",                                   // no name
           "pkg:",                                      //
           "",                                          //
           "pkg:d%65b/debian/curl",                     // an encoded type
       }) {
    auto purl = Purl::Parse(input);
    EXPECT_FALSE(purl.has_value()) << input << " -> " << purl->ToString();
    if (!purl) {
      EXPECT_THAT(purl, FailsWith(ErrorCode::kSpec)) << input;
    }
  }
}

// What the input holds is shown escaped, whatever bytes it has.
TEST(PurlTest, MessagesShowHostileInputEscaped) {
  auto purl = Purl::Parse("pkg:deb/debian/x\n[ok] verified\x1b[2J@1%zz");
  ASSERT_FALSE(purl.has_value());
  EXPECT_EQ(purl.error().message.find('\n'), std::string::npos);
  EXPECT_EQ(purl.error().message.find('\x1b'), std::string::npos);
  EXPECT_THAT(purl.error().message, HasSubstr("two hex digits"));
}

TEST(PurlTest, EncodesAllButUnreservedAndColon) {
  EXPECT_EQ(PurlEncode("aZ09.-_~:"), "aZ09.-_~:");
  EXPECT_EQ(PurlEncode("+/@?#&= %\xc3\xa4"), "%2B%2F%40%3F%23%26%3D%20%25%C3%A4");
}

}  // namespace
}  // namespace hardbase
