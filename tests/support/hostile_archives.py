"""Hostile archives for hardbase's tests, put together byte by byte where Debian's own tools
(dpkg-deb, xz, zstd) refuse to write them: ar and tar files, xz streams whose index lies about the
unpacked size or whose block header asks for a huge dictionary, and zstd frames that unpack a few
bytes into gigabytes. Imported by the tests' python3 scripts (PYTHONPATH=tests/support)."""
import io
import lzma
import struct
import tarfile
import zlib


def tar(items, mode='w', fmt=tarfile.GNU_FORMAT):
    """A tar archive of (TarInfo, bytes) pairs; `mode` 'w:xz', 'w:gz' compresses it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as t:
        for ti, data in items:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()


def ar(members):
    """An ar archive (the .deb container) of (name, bytes) pairs."""
    out = b'!<arch>\n'
    for name, data in members:
        out += ('%-16s%-12d%-6d%-6d%-8o%-10d`\n' % (name, 0, 0, 0, 0o100644, len(data))).encode()
        out += data + (b'\n' if len(data) % 2 else b'')
    return out


def varint(n):
    out = b''
    while n >= 0x80:
        out += bytes([n & 0x7f | 0x80])
        n >>= 7
    return out + bytes([n])


def read_varint(b, i):
    n = s = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7f) << s
        s += 7
        if c < 0x80:
            return n, i


def xz_lying_index(data, claimed):
    """A one-block xz stream of `data` whose index claims `claimed` unpacked bytes (CRCs made to
    match, so only a decoder that trusts the index is fooled)."""
    x = lzma.compress(data, check=lzma.CHECK_CRC32)
    start = len(x) - 12 - (struct.unpack('<I', x[-8:-4])[0] + 1) * 4
    count, i = read_varint(x, start + 1)
    unpadded, i = read_varint(x, i)
    body = b'\0' + varint(count) + varint(unpadded) + varint(claimed)
    body += b'\0' * (-len(body) % 4)
    body += struct.pack('<I', zlib.crc32(body))
    fb = struct.pack('<I', len(body) // 4 - 1) + x[-4:-2]
    return x[:start] + body + struct.pack('<I', zlib.crc32(fb)) + fb + b'YZ'


def xz_dict(data, props):
    """An xz stream of `data` whose block header asks for the LZMA2 dictionary that `props`
    encodes (40: 4 GiB), its CRC made to match."""
    x = bytearray(lzma.compress(data, check=lzma.CHECK_CRC32))
    hsize = (x[12] + 1) * 4
    i = 14
    if x[13] & 0x40:
        _, i = read_varint(x, i)
    if x[13] & 0x80:
        _, i = read_varint(x, i)
    assert x[i] == 0x21 and x[i + 1] == 1
    x[i + 2] = props
    x[8 + hsize:12 + hsize] = struct.pack('<I', zlib.crc32(bytes(x[12:8 + hsize])))
    return bytes(x)


def zstd_frame(blocks, window_log=20):
    """A zstd frame without a content size, of raw (bytes) and RLE ((byte, count)) blocks, its
    window 2^window_log."""
    out = b'\x28\xb5\x2f\xfd' + bytes([0, (window_log - 10) << 3])
    for k, b in enumerate(blocks):
        last = int(k == len(blocks) - 1)
        if isinstance(b, tuple):
            out += struct.pack('<I', last | 2 | b[1] << 3)[:3] + b[0]
        else:
            out += struct.pack('<I', last | len(b) << 3)[:3] + b
    return out


def zstd_raw(data, window_log=20):
    return zstd_frame([data[i:i + 65536] for i in range(0, len(data), 65536)] or [b''],
                      window_log)


def zstd_zero_files(sizes, prefix='./zero'):
    """A tar of files of zeros (PREFIX0, PREFIX1, ... of `sizes` bytes) as a zstd frame of RLE
    blocks: 128 KiB of output for every 4 bytes of input."""
    blocks = []
    for n, size in enumerate(sizes):
        ti = tarfile.TarInfo('%s%d' % (prefix, n))
        ti.size = size
        blocks.append(ti.tobuf(tarfile.GNU_FORMAT))
        size += -size % 512
        while size:
            step = min(size, 1 << 17)
            blocks.append((b'\0', step))
            size -= step
    blocks.append((b'\0', 10240))
    return zstd_frame(blocks)
