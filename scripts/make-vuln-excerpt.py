#!/usr/bin/python3
"""Makes data/vuln/osv-debian-excerpt-DATE.zip: the part of an osv.dev Debian export (all.zip)
that concerns the example images, small enough to ship for offline demos.

Usage (from the top of the source tree):
  scripts/make-vuln-excerpt.py SNAPSHOT.zip [-o OUT.zip] [--lock LOCK.json ...]

Which source packages: the `source` fields of the examples' locks. Without --lock, each
examples/*/image.yaml is locked into a temporary directory with build/src/cli/hardbase (which
needs the network to a Debian mirror). A record is kept when one of its `affected[]` entries is
for Debian 12 (ecosystem "Debian:12") and one of those source packages, and names a published
bookworm version as affected (a non-empty `versions` list, or no fix yet). Other entries point
only at versions older than anything bookworm shipped (e.g. "fixed": "0.9.8f-1" for openssl), so
they cannot match a bookworm image and leaving them out changes no scan of one.

Records are copied byte for byte. The zip is deterministic: members sorted by name, each with
its timestamp from the snapshot, fixed attributes, deflate level 9 (the bytes depend only on the
snapshot, the source packages and the zlib of the Python that runs this).

The excerpt's data date is its newest record's `modified`, as hardbase reads it; the script fails
unless that is the snapshot's own date, so the excerpt never claims to be older or newer data
than it is. Standard library only.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

RELEASE = "Debian:12"


def lock_sources(lock_paths):
    """The source package names of every package of every architecture of the locks."""
    sources = set()
    for path in lock_paths:
        with open(path, encoding="utf-8") as f:
            lock = json.load(f)
        for arch in lock["archs"]:
            for package in arch["packages"]:
                sources.add(package.get("source") or package["name"])
    return sources


def lock_examples(hardbase, tmp):
    """Locks each example spec with `hardbase lock` and returns the lock paths."""
    locks = []
    for spec in sorted(glob.glob("examples/*/image.yaml")):
        name = os.path.basename(os.path.dirname(spec))
        out = os.path.join(tmp, name + ".lock.json")
        subprocess.run([hardbase, "lock", spec, "-o", out, "-q"], check=True)
        locks.append(out)
    return locks


def has_fix(affected):
    return any("fixed" in event
               for r in affected.get("ranges", []) for event in r.get("events", []))


def relevant(record, sources):
    """Whether a record affects a published bookworm version of one of `sources`."""
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != RELEASE or package.get("name") not in sources:
            continue
        if affected.get("versions") or not has_fix(affected):
            return True
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("snapshot", help="osv.dev's Debian all.zip")
    parser.add_argument("-o", "--output", help="the excerpt (default: "
                        "data/vuln/osv-debian-excerpt-<snapshot date>.zip)")
    parser.add_argument("--lock", nargs="+", default=[],
                        help="lock files to take the source packages from (default: lock the "
                        "examples)")
    parser.add_argument("--hardbase", default="build/src/cli/hardbase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vuln-excerpt-") as tmp:
        locks = args.lock or lock_examples(args.hardbase, tmp)
        sources = lock_sources(locks)

    kept = []  # (ZipInfo of the snapshot, bytes)
    snapshot_date = ""
    with zipfile.ZipFile(args.snapshot) as snapshot:
        for info in snapshot.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            data = snapshot.read(info)
            record = json.loads(data)
            snapshot_date = max(snapshot_date, record.get("modified", ""))
            if relevant(record, sources):
                kept.append((info, data))
    if not kept:
        sys.exit("no record of the snapshot concerns the source packages " + " ".join(sorted(sources)))
    kept.sort(key=lambda item: item[0].filename)
    excerpt_date = max(json.loads(data).get("modified", "") for _, data in kept)
    if excerpt_date[:10] != snapshot_date[:10]:
        sys.exit(f"the excerpt's newest record is of {excerpt_date}, the snapshot's of "
                 f"{snapshot_date}: hardbase would date the excerpt wrongly")

    output = args.output or f"data/vuln/osv-debian-excerpt-{snapshot_date[:10]}.zip"
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    partial = output + ".tmp"
    with zipfile.ZipFile(partial, "w") as excerpt:
        for info, data in kept:
            member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            member.create_system = 3  # Unix
            member.external_attr = 0o100644 << 16
            member.compress_type = zipfile.ZIP_DEFLATED
            excerpt.writestr(member, data, compresslevel=9)
    os.replace(partial, output)
    print(f"{output}: {len(kept)} records of {len(sources)} source packages, data of "
          f"{excerpt_date}, {os.path.getsize(output)} bytes")
    print("source packages: " + " ".join(sorted(sources)))


if __name__ == "__main__":
    main()
