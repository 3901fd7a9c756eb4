#!/usr/bin/env python3
"""machocheck.py: what can be proven of a macOS binary without a Mac (tests/t-macos.sh).

    python3 tests/machocheck.py [--arch arm64|x86_64] [--min X.Y] --tbd-dir DIR FILE
    python3 tests/machocheck.py --text-offset FILE     (prints the file offset of __TEXT,__text)

Prints one line per check, "ok: what" or "FAIL: what: why"; exits 1 if any failed, 2 on usage.
The checks, on a thin 64-bit Mach-O:
  - MH_EXECUTE with MH_PIE, of the CPU asked for (arm64 or x86_64);
  - /usr/lib/dyld as its loader, an LC_MAIN entry point;
  - /usr/lib/libSystem.B.dylib the only library of any kind (load, weak, reexport, lazy, upward);
  - no LC_RPATH (nothing it loads is looked for in a path of the user's);
  - a deployment target for macOS (LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX), not above --min;
  - the code signature (required on arm64, where macOS kills an unsigned process; checked on x86_64
    when present): LC_CODE_SIGNATURE -> SuperBlob -> CodeDirectory with hashType SHA-256, hashes
    of 32 bytes, a page size; its codeLimit is where the signature starts; every code slot equals
    the SHA-256 of that page of the file, and each special slot whose blob is there equals that
    blob's SHA-256: a byte changed anywhere before the signature fails here;
  - every symbol it imports (chained fixups, the bind opcodes of LC_DYLD_INFO, and the undefined
    symbols of LC_DYSYMTAB) binds to libSystem (ordinal 1) and is exported, for this CPU, by the
    libSystem stubs that zig ships for the deployment target's macOS (DIR/libSystem.MAJOR.tbd):
    a symbol macOS does not have would stop dyld before main().
The standard library only: hashlib for SHA-256, struct for the parsing.
"""
import hashlib
import re
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
MH_EXECUTE = 2
MH_PIE = 0x200000
CPU = {0x0100000C: "arm64", 0x01000007: "x86_64"}
LC_REQ_DYLD = 0x80000000
LC_SEGMENT_64 = 0x19
LC_SYMTAB = 0x2
LC_DYSYMTAB = 0xB
LC_LOAD_DYLINKER = 0xE
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
LC_DYLD_INFO = 0x22
LC_DYLD_INFO_ONLY = 0x22 | LC_REQ_DYLD
LC_MAIN = 0x28 | LC_REQ_DYLD
LC_RPATH = 0x1C | LC_REQ_DYLD
LC_DYLD_CHAINED_FIXUPS = 0x34 | LC_REQ_DYLD
DYLIB_CMDS = {0xC: "LC_LOAD_DYLIB", 0x18 | LC_REQ_DYLD: "LC_LOAD_WEAK_DYLIB",
              0x1F | LC_REQ_DYLD: "LC_REEXPORT_DYLIB", 0x20: "LC_LAZY_LOAD_DYLIB",
              0x23 | LC_REQ_DYLD: "LC_LOAD_UPWARD_DYLIB"}
LIBSYSTEM = "/usr/lib/libSystem.B.dylib"
PLATFORM_MACOS = 1
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_HASHTYPE_SHA256 = 2

failed = []


def ok(what):
    print("ok: " + what)


def fail(what, why):
    failed.append(what)
    print("FAIL: %s: %s" % (what, why))


def cstr(buf, off):
    end = buf.index(b"\0", off)
    return buf[off:end].decode("utf-8", "replace")


def version(v):
    return "%d.%d.%d" % (v >> 16, (v >> 8) & 0xFF, v & 0xFF)


def leb(buf, i, signed=False):
    """A LEB128 number at buf[i]: (value, index after it)."""
    val = shift = 0
    while True:
        b = buf[i]
        i += 1
        val |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if signed and b & 0x40:
                val -= 1 << shift
            return val, i


def uleb(buf, i):
    return leb(buf, i)


def sleb(buf, i):
    return leb(buf, i, True)


class MachO:
    def __init__(self, data):
        self.data = data
        (magic, self.cputype, _sub, self.filetype, ncmds, _size, self.flags,
         _res) = struct.unpack_from("<IIIIIIII", data, 0)
        if magic != MH_MAGIC_64:
            raise ValueError("not a thin 64-bit little-endian Mach-O (magic %#x)" % magic)
        self.cmds = []
        off = 32
        for _ in range(ncmds):
            cmd, size = struct.unpack_from("<II", data, off)
            if size < 8 or off + size > len(data):
                raise ValueError("load command %#x at %d runs past the file" % (cmd, off))
            self.cmds.append((cmd, off, size))
            off += size
        self.segments = []
        for cmd, off, _size in self.of(LC_SEGMENT_64):
            name = data[off + 8:off + 24].rstrip(b"\0").decode()
            vmaddr, vmsize, fileoff, filesize, _maxp, _initp, nsects, _fl = \
                struct.unpack_from("<QQQQIIII", data, off + 24)
            sects = []
            for k in range(nsects):
                s = off + 72 + 80 * k
                sname = data[s:s + 16].rstrip(b"\0").decode()
                addr, ssize, soff = struct.unpack_from("<QQI", data, s + 32)
                sects.append((sname, addr, ssize, soff))
            self.segments.append((name, vmaddr, vmsize, fileoff, filesize, sects))

    def of(self, *kinds):
        return [c for c in self.cmds if c[0] in kinds]

    def section(self, seg, sect):
        for name, _va, _vs, _fo, _fs, sects in self.segments:
            if name == seg:
                for s in sects:
                    if s[0] == sect:
                        return s
        return None

    def dylibs(self):
        out = []
        for cmd, off, _size in self.cmds:
            if cmd in DYLIB_CMDS:
                (name_off,) = struct.unpack_from("<I", self.data, off + 8)
                out.append((DYLIB_CMDS[cmd], cstr(self.data, off + name_off)))
        return out

    def imports(self):
        """(ordinal, name, source) of every symbol the image asks dyld for."""
        d = self.data
        out = []
        for _cmd, off, _size in self.of(LC_DYLD_CHAINED_FIXUPS):
            dataoff, _datasize = struct.unpack_from("<II", d, off + 8)
            (_ver, _starts, imp_off, sym_off, count, fmt,
             sym_fmt) = struct.unpack_from("<IIIIIII", d, dataoff)
            if sym_fmt != 0:
                raise ValueError("compressed chained-fixup symbol names (format %d)" % sym_fmt)
            for k in range(count):
                if fmt == 1:	# DYLD_CHAINED_IMPORT: lib_ordinal:8 weak:1 name_offset:23
                    (v,) = struct.unpack_from("<I", d, dataoff + imp_off + 4 * k)
                    ordinal, name_off = v & 0xFF, v >> 9
                    if ordinal > 0xF0:
                        ordinal -= 0x100
                elif fmt == 2:	# DYLD_CHAINED_IMPORT_ADDEND: the same and an int32 addend
                    (v,) = struct.unpack_from("<I", d, dataoff + imp_off + 8 * k)
                    ordinal, name_off = v & 0xFF, v >> 9
                    if ordinal > 0xF0:
                        ordinal -= 0x100
                elif fmt == 3:	# DYLD_CHAINED_IMPORT_ADDEND64: lib_ordinal:16 weak:1 ... name_offset:32
                    (v,) = struct.unpack_from("<Q", d, dataoff + imp_off + 16 * k)
                    ordinal, name_off = v & 0xFFFF, v >> 32
                    if ordinal > 0xFFF0:
                        ordinal -= 0x10000
                else:
                    raise ValueError("unknown chained-fixup import format %d" % fmt)
                out.append((ordinal, cstr(d, dataoff + sym_off + name_off), "chained fixups"))
        for _cmd, off, _size in self.of(LC_DYLD_INFO, LC_DYLD_INFO_ONLY):
            f = struct.unpack_from("<10I", d, off + 8)
            # bind and lazy bind; weak bind names coalesced definitions, not imports of a library
            for what, boff, bsize in (("bind", f[2], f[3]), ("lazy bind", f[6], f[7])):
                out += self.bind_symbols(d[boff:boff + bsize], what)
        for _cmd, off, _size in self.of(LC_DYSYMTAB):
            iundef, nundef = struct.unpack_from("<II", d, off + 8 + 16)
            sym = self.of(LC_SYMTAB)
            if not sym:
                raise ValueError("LC_DYSYMTAB without LC_SYMTAB")
            symoff, nsyms, stroff, _strsize = struct.unpack_from("<IIII", d, sym[0][1] + 8)
            if iundef + nundef > nsyms:
                raise ValueError("LC_DYSYMTAB's undefined symbols run past the symbol table")
            for k in range(iundef, iundef + nundef):
                strx, _type, _sect, desc, _val = struct.unpack_from("<IBBhQ", d, symoff + 16 * k)
                ordinal = (desc >> 8) & 0xFF
                if ordinal > 0xF0:
                    ordinal -= 0x100
                out.append((ordinal, cstr(d, stroff + strx), "undefined symbol"))
        return out

    @staticmethod
    def bind_symbols(ops, what):
        out = []
        i = 0
        ordinal = 0
        name = None
        while i < len(ops):
            op, imm = ops[i] & 0xF0, ops[i] & 0x0F
            i += 1
            if op == 0x00:		# DONE (lazy bind: between entries)
                continue
            elif op == 0x10:		# SET_DYLIB_ORDINAL_IMM
                ordinal = imm
            elif op == 0x20:		# SET_DYLIB_ORDINAL_ULEB
                ordinal, i = uleb(ops, i)
            elif op == 0x30:		# SET_DYLIB_SPECIAL_IMM: 0 self, -1 main, -2 flat, -3 weak
                ordinal = imm - 16 if imm else 0
            elif op == 0x40:		# SET_SYMBOL_TRAILING_FLAGS_IMM
                end = ops.index(b"\0", i)
                name = ops[i:end].decode("utf-8", "replace")
                i = end + 1
            elif op == 0x50:		# SET_TYPE_IMM
                pass
            elif op == 0x60:		# SET_ADDEND_SLEB
                _v, i = sleb(ops, i)
            elif op in (0x70, 0x80, 0xA0):	# SEGMENT_AND_OFFSET / ADD_ADDR / DO_BIND_ADD_ADDR
                _v, i = uleb(ops, i)
                if op == 0xA0 and name is not None:
                    out.append((ordinal, name, what))
            elif op in (0x90, 0xB0):	# DO_BIND, DO_BIND_ADD_ADDR_IMM_SCALED
                if name is not None:
                    out.append((ordinal, name, what))
            elif op == 0xC0:		# DO_BIND_ULEB_TIMES_SKIPPING_ULEB
                _v, i = uleb(ops, i)
                _v, i = uleb(ops, i)
                if name is not None:
                    out.append((ordinal, name, what))
            elif op == 0xD0:		# THREADED
                if imm == 0:
                    _v, i = uleb(ops, i)
            else:
                raise ValueError("unknown %s opcode %#x" % (what, op))
        return out


def tbd_exports(path, arch):
    """The symbols that a text stub (.tbd, version 4) exports for ARCH-macos, every document in it."""
    text = open(path, encoding="utf-8").read()
    target = arch + "-macos"
    syms = set()
    for doc in text.split("--- !tapi-tbd")[1:]:
        # The top-level exports: and reexports: blocks (not undefineds:).
        for m in re.finditer(r"^(?:re)?exports:\n((?:[ \t].*\n?)*)", doc, re.M):
            block = m.group(1)
            for item in re.split(r"^  - ", block, flags=re.M)[1:]:
                lists = dict((k, v) for k, v in re.findall(r"([\w-]+):\s*\[([^\]]*)\]", item))
                targets = [t.strip() for t in lists.get("targets", "").split(",")]
                if target not in targets:
                    continue
                for key, prefix in (("symbols", ""), ("weak-symbols", ""),
                                    ("thread-local-symbols", ""),
                                    ("objc-classes", "_OBJC_CLASS_$_"),
                                    ("objc-eh-types", "_OBJC_EHTYPE_$_"),
                                    ("objc-ivars", "_OBJC_IVAR_$_")):
                    for s in lists.get(key, "").split(","):
                        s = s.strip().strip("'\"")
                        if s:
                            syms.add(prefix + s)
                            if key == "objc-classes":
                                syms.add("_OBJC_METACLASS_$_" + s)
    return syms


def check_signature(m, arch):
    d = m.data
    sig = m.of(LC_CODE_SIGNATURE)
    if not sig:
        if arch == "arm64":
            fail("code signature", "no LC_CODE_SIGNATURE (macOS on arm64 kills an unsigned process)")
        else:
            ok("code signature: none (not required on x86_64)")
        return
    dataoff, datasize = struct.unpack_from("<II", d, sig[0][1] + 8)
    if dataoff + datasize > len(d):
        fail("code signature", "it runs past the end of the file")
        return
    magic, length, count = struct.unpack_from(">III", d, dataoff)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE or length > datasize:
        fail("code signature", "no embedded-signature SuperBlob (magic %#x)" % magic)
        return
    blobs = {}
    for k in range(count):
        btype, boff = struct.unpack_from(">II", d, dataoff + 12 + 8 * k)
        bmagic, blen = struct.unpack_from(">II", d, dataoff + boff)
        blobs[btype] = (dataoff + boff, blen, bmagic)
    if 0 not in blobs or blobs[0][2] != CSMAGIC_CODEDIRECTORY:
        fail("code signature", "no CodeDirectory in slot 0 (have %s)" % sorted(blobs))
        return
    cd = blobs[0][0]
    (_m, _len, cdver, cdflags, hash_off, ident_off, nspecial, ncode, code_limit, hash_size, hash_type,
     _plat, page_log) = struct.unpack_from(">IIIIIIIIIBBBB", d, cd)
    ident = cstr(d, cd + ident_off)
    if hash_type != CS_HASHTYPE_SHA256 or hash_size != 32:
        fail("code signature: SHA-256", "hashType %d, hashSize %d" % (hash_type, hash_size))
        return
    if not 9 <= page_log <= 16:
        fail("code signature: page size", "2^%d" % page_log)
        return
    page = 1 << page_log
    if code_limit != dataoff:
        fail("code signature: covers the file", "codeLimit %d, the signature starts at %d" %
             (code_limit, dataoff))
        return
    if ncode != (code_limit + page - 1) // page:
        fail("code signature: one slot per page", "%d slots for %d bytes in %d-byte pages" %
             (ncode, code_limit, page))
        return
    bad = []
    for k in range(ncode):
        want = d[cd + hash_off + 32 * k:cd + hash_off + 32 * (k + 1)]
        if hashlib.sha256(d[k * page:min((k + 1) * page, code_limit)]).digest() != want:
            bad.append(k)
    if bad:
        fail("code signature: page hashes", "%d of %d pages differ from their hash (first: page %d, "
             "bytes %d-%d)" % (len(bad), ncode, bad[0], bad[0] * page, (bad[0] + 1) * page - 1))
    else:
        ok("code signature: %d page hashes (SHA-256, %d-byte pages) match the file's %d bytes; "
           "CodeDirectory %#x, flags %#x%s, identifier %s" %
           (ncode, page, code_limit, cdver, cdflags,
            " (ad-hoc, linker-signed)" if cdflags & 0x20002 == 0x20002 else
            " (ad-hoc)" if cdflags & 0x2 else "", ident))
    # Special slots (-1 Info.plist, -2 requirements, -5 entitlements, ...): hash of the blob.
    for k in range(1, nspecial + 1):
        want = d[cd + hash_off - 32 * k:cd + hash_off - 32 * (k - 1)]
        if k in blobs:
            boff, blen, _bm = blobs[k]
            if hashlib.sha256(d[boff:boff + blen]).digest() != want:
                fail("code signature: special slot %d" % k, "its blob's hash differs")
        elif want.strip(b"\0"):
            fail("code signature: special slot %d" % k, "a hash for a blob that is not there")
    if nspecial:
        ok("code signature: %d special slots consistent" % nspecial)
    # The executable segment the CodeDirectory names (version 0x20400 on) must be __TEXT.
    if cdver >= 0x20400:
        exec_base, exec_limit = struct.unpack_from(">QQ", d, cd + 64)
        text = [s for s in m.segments if s[0] == "__TEXT"]
        if text and (exec_base, exec_limit) != (text[0][3], text[0][4]):
            fail("code signature: executable segment", "%d+%d, __TEXT is %d+%d" %
                 (exec_base, exec_limit, text[0][3], text[0][4]))


def main(argv):
    arch = None
    minimum = None
    tbd_dir = None
    text_offset = False
    args = argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--text-offset":
            text_offset = True
        elif opt in ("--arch", "--min", "--tbd-dir") and args:
            val = args.pop(0)
            if opt == "--arch":
                arch = val
            elif opt == "--min":
                minimum = tuple(int(x) for x in val.split("."))
            else:
                tbd_dir = val
        else:
            args = []
            break
    if len(args) != 1 or (not text_offset and tbd_dir is None):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    data = open(args[0], "rb").read()
    try:
        m = MachO(data)
    except (ValueError, struct.error) as e:
        fail("Mach-O", str(e))
        return 1
    if text_offset:
        s = m.section("__TEXT", "__text")
        if s is None:
            print("no __TEXT,__text", file=sys.stderr)
            return 1
        print(s[3], s[2])
        return 0

    cpu = CPU.get(m.cputype, "cputype %#x" % m.cputype)
    if arch is not None and cpu != arch:
        fail("CPU", "%s, not %s" % (cpu, arch))
    else:
        ok("CPU: %s" % cpu)
    arch = cpu
    if m.filetype == MH_EXECUTE and m.flags & MH_PIE:
        ok("MH_EXECUTE, PIE")
    else:
        fail("MH_EXECUTE, PIE", "filetype %d, flags %#x" % (m.filetype, m.flags))

    dyld = [cstr(data, off + struct.unpack_from("<I", data, off + 8)[0])
            for _c, off, _s in m.of(LC_LOAD_DYLINKER)]
    if dyld == ["/usr/lib/dyld"] and m.of(LC_MAIN):
        ok("loader /usr/lib/dyld, entry point LC_MAIN")
    else:
        fail("loader and entry point", "LC_LOAD_DYLINKER %s, %d LC_MAIN" % (dyld, len(m.of(LC_MAIN))))

    libs = m.dylibs()
    if libs == [("LC_LOAD_DYLIB", LIBSYSTEM)]:
        ok("only library: %s" % LIBSYSTEM)
    else:
        fail("only library %s" % LIBSYSTEM, "has %s" % libs)

    rpaths = [cstr(data, off + struct.unpack_from("<I", data, off + 8)[0])
              for _c, off, _s in m.of(LC_RPATH)]
    if rpaths:
        fail("no LC_RPATH", "has %s" % rpaths)
    else:
        ok("no LC_RPATH")

    minos = None
    for _c, off, _s in m.of(LC_BUILD_VERSION):
        platform, v, sdk = struct.unpack_from("<III", data, off + 8)
        if platform == PLATFORM_MACOS:
            minos = v
            how = "LC_BUILD_VERSION, SDK %s" % version(sdk)
    for _c, off, _s in m.of(LC_VERSION_MIN_MACOSX):
        minos = struct.unpack_from("<I", data, off + 8)[0]
        how = "LC_VERSION_MIN_MACOSX"
    if minos is None:
        fail("deployment target", "no LC_BUILD_VERSION for macOS and no LC_VERSION_MIN_MACOSX")
    elif minimum is not None and (minos >> 16, (minos >> 8) & 0xFF) > minimum[:2]:
        fail("deployment target", "macOS %s, above the %s asked for" %
             (version(minos), ".".join(map(str, minimum))))
    else:
        ok("deployment target: macOS %s (%s)" % (version(minos), how))

    check_signature(m, arch)

    try:
        imports = m.imports()
    except (ValueError, struct.error, IndexError) as e:
        fail("imported symbols", "cannot read them: %s" % e)
        imports = None
    if imports is not None and minos is not None:
        tbd = "%s/libSystem.%d.tbd" % (tbd_dir, minos >> 16)
        try:
            exported = tbd_exports(tbd, arch)
        except OSError as e:
            fail("imported symbols", "no stubs for macOS %d: %s" % (minos >> 16, e))
            exported = None
        if exported is not None and len(exported) < 1000:
            fail("imported symbols", "%s exports only %d symbols for %s: not read right" %
                 (tbd, len(exported), arch))
        elif exported is not None:
            names = sorted(set(n for _o, n, _w in imports))
            wrong_lib = sorted(set("%s (ordinal %d, %s)" % (n, o, w) for o, n, w in imports if o != 1))
            missing = [n for n in names if n not in exported]
            if not names:
                fail("imported symbols", "none found (every program imports from libSystem)")
            elif wrong_lib:
                fail("imported symbols bind to libSystem", ", ".join(wrong_lib[:5]))
            elif missing:
                fail("imported symbols exported by libSystem",
                     "%d of %d are not in %s: %s" % (len(missing), len(names), tbd,
                                                     " ".join(missing[:10])))
            else:
                ok("imported symbols: all %d (from %s) are exported by %s for %s" %
                   (len(names), ", ".join(sorted(set(w for _o, _n, w in imports))), tbd, arch))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
