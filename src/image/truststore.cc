#include "image/truststore.h"

#include <locale.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <wctype.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "base/strings.h"

namespace hardbase::image {
namespace {

constexpr std::string_view kCertificatesDir = "/usr/share/ca-certificates/";

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

// The oldest error OpenSSL queued (the root cause); the queue is left empty.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no details";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size > 0 ? size : 0);
}

// Code points of UTF-8 text; a malformed sequence becomes U+FFFD, as Java decodes file names.
std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char lead = s[i];
    size_t extra = 0;  // continuation bytes
    char32_t cp = lead, min = 0;
    if (lead >= 0xF0 && lead < 0xF8) {
      extra = 3, cp = lead & 0x07, min = 0x10000;
    } else if (lead >= 0xE0 && lead < 0xF0) {
      extra = 2, cp = lead & 0x0F, min = 0x800;
    } else if (lead >= 0xC0 && lead < 0xE0) {
      extra = 1, cp = lead & 0x1F, min = 0x80;
    }
    bool ok = lead < 0x80 || (extra > 0 && i + extra < s.size());
    for (size_t k = 1; ok && k <= extra; ++k) {
      unsigned char c = s[i + k];
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
    } else {
      out.push_back(cp);
      i += extra + 1;
    }
  }
  return out;
}

std::u16string ToUtf16(const std::u32string& text) {
  std::u16string out;
  for (char32_t cp : text) {
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    }
  }
  return out;
}

// Java's String.toLowerCase for the simple (one-to-one) Unicode mappings, which is what the JKS
// keystore applies to every alias: Unicode, unlike base's AsciiLower (an allowed exception in
// scripts/check-one-home.sh).
std::u32string ToLower(std::u32string text) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  for (char32_t& cp : text) {
    if (utf8 != static_cast<locale_t>(0)) {
      cp = static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), utf8));
    } else if (cp >= 'A' && cp <= 'Z') {
      cp += 'a' - 'A';
    }
  }
  return text;
}

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void PutU32(std::string& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}
void PutU64(std::string& out, uint64_t v) {
  PutU32(out, static_cast<uint32_t>(v >> 32));
  PutU32(out, static_cast<uint32_t>(v));
}

// DataOutputStream.writeUTF: a u16 byte count, then "modified UTF-8" (UTF-8 of each UTF-16 unit,
// with U+0000 as two bytes). Aliases come from single file names, far below the 65535-byte limit.
void PutJavaUtf(std::string& out, const std::u16string& text) {
  std::string bytes;
  for (char16_t u : text) {
    if (u != 0 && u < 0x80) {
      bytes.push_back(static_cast<char>(u));
    } else if (u < 0x800) {
      bytes.push_back(static_cast<char>(0xC0 | (u >> 6)));
      bytes.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    } else {
      bytes.push_back(static_cast<char>(0xE0 | (u >> 12)));
      bytes.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
      bytes.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    }
  }
  PutU16(out, static_cast<uint16_t>(bytes.size()));
  out += bytes;
}

// ca-certificates-java's alias: "debian:" and the name update-ca-certificates gives the
// certificate's link in /etc/ssl/certs (base name, ".crt" -> ".pem", ' ' and ',' -> '_',
// '(' and ')' -> '='), lowercased by the JKS keystore.
std::u16string JavaAlias(std::string_view name) {
  std::string base(name.substr(name.rfind('/') + 1));
  if (base.ends_with(".crt")) base.resize(base.size() - 4);
  for (char& c : base) {
    if (c == ' ' || c == ',') c = '_';
    if (c == '(' || c == ')') c = '=';
  }
  return ToUtf16(ToLower(DecodeUtf8("debian:" + base + ".pem")));
}

}  // namespace

std::vector<CaCertificateFile> EnabledCertificates(const std::vector<CaCertificateFile>& files,
                                                   std::string_view ca_certificates_conf) {
  std::vector<CaCertificateFile> enabled;
  if (ca_certificates_conf.empty()) {
    enabled = files;
  } else {
    // As update-ca-certificates reads the conf: '#' and '!' lines (in the first column) name
    // nothing to add; every other line, trimmed, is a file to add if it exists.
    std::set<std::string, std::less<>> listed;
    for (const Line& conf_line : Lines(ca_certificates_conf)) {
      std::string_view line = conf_line.text;
      if (line.starts_with('#') || line.starts_with('!')) continue;
      if (std::string_view path = Trim(line); !path.empty()) listed.emplace(path);
    }
    for (const CaCertificateFile& file : files) {
      if (listed.contains(file.name)) enabled.push_back(file);
    }
  }
  std::sort(enabled.begin(), enabled.end(),
            [](const CaCertificateFile& a, const CaCertificateFile& b) { return a.name < b.name; });
  return enabled;
}

Result<std::vector<CaCertificate>> ParseCertificates(const std::vector<CaCertificateFile>& files) {
  std::vector<CaCertificate> certs;
  certs.reserve(files.size());
  for (const CaCertificateFile& file : files) {
    BioPtr in(BIO_new_mem_buf(file.pem.data(), static_cast<int>(file.pem.size())), &BIO_free);
    X509Ptr x509(in ? PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
    if (!x509) {
      return Fail(ErrorCode::kSpec,
                  "CA certificate " + file.name + ": no PEM certificate: " + OpenSslError());
    }
    CaCertificate cert;
    cert.name = file.name;

    BioPtr out(BIO_new(BIO_s_mem()), &BIO_free);
    int der_size = i2d_X509(x509.get(), nullptr);
    if (!out || !PEM_write_bio_X509(out.get(), x509.get()) || der_size <= 0) {
      return Fail(ErrorCode::kInternal,
                  "CA certificate " + file.name + ": cannot encode: " + OpenSslError());
    }
    cert.pem = BioContents(out.get());
    cert.der.resize(der_size);
    auto* der = reinterpret_cast<unsigned char*>(cert.der.data());
    i2d_X509(x509.get(), &der);

    char hash[16];
    std::snprintf(hash, sizeof hash, "%08lx", X509_subject_name_hash(x509.get()));
    cert.subject_hash = hash;
    certs.push_back(std::move(cert));
  }
  return certs;
}

std::string CaBundle(const std::vector<CaCertificate>& certs) {
  std::string bundle;
  for (const CaCertificate& cert : certs) bundle += cert.pem;
  return bundle;
}

std::vector<HashLink> CapathLinks(const std::vector<CaCertificate>& certs) {
  std::vector<HashLink> links;
  std::map<std::string, int> next_index;
  std::set<std::string> seen_der;  // `openssl rehash` links a repeated certificate only once
  for (const CaCertificate& cert : certs) {
    if (!seen_der.insert(cert.der).second) continue;
    int index = next_index[cert.subject_hash]++;
    links.push_back({cert.subject_hash + "." + std::to_string(index),
                     std::string(kCertificatesDir) + cert.name});
  }
  return links;
}

std::string JavaKeystore(const std::vector<CaCertificate>& certs, int64_t created_ms,
                         std::string_view password) {
  // Alias order makes the bytes reproducible (Java itself writes in hash-table order). When two
  // files map to one alias the later one wins, as it would replace the earlier in Java.
  std::vector<std::pair<std::u16string, const CaCertificate*>> entries;
  for (const CaCertificate& cert : certs) entries.emplace_back(JavaAlias(cert.name), &cert);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i + 1 < entries.size();) {
    if (entries[i].first == entries[i + 1].first) {
      entries.erase(entries.begin() + i);
    } else {
      ++i;
    }
  }

  // Layout of sun.security.provider.JavaKeyStore.engineStore, big-endian throughout.
  std::string out;
  PutU32(out, 0xFEEDFEED);
  PutU32(out, 2);  // version
  PutU32(out, static_cast<uint32_t>(entries.size()));
  for (const auto& [alias, cert] : entries) {
    PutU32(out, 2);  // trusted certificate entry
    PutJavaUtf(out, alias);
    PutU64(out, static_cast<uint64_t>(created_ms));
    PutJavaUtf(out, u"X.509");
    PutU32(out, static_cast<uint32_t>(cert->der.size()));
    out += cert->der;
  }

  // Integrity digest: SHA-1 over the password's UTF-16BE units, "Mighty Aphrodite", the store.
  std::string keyed;
  for (char16_t u : ToUtf16(DecodeUtf8(password))) PutU16(keyed, u);
  keyed += "Mighty Aphrodite";
  keyed += out;
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t digest_size = 0;
  EVP_Q_digest(nullptr, "SHA1", nullptr, keyed.data(), keyed.size(), digest, &digest_size);
  out.append(reinterpret_cast<const char*>(digest), digest_size);
  return out;
}

}  // namespace hardbase::image
