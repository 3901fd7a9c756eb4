#!/bin/sh
# t-install.sh: the release (make release-dist) and its installer, here on loopback.
#   - every connect built here prints the tree's version (release/version.sh: connect/cmd.h);
#   - make release-dist writes the real dist/: the stripped static binary, the git-archive tarball,
#     install.sh, connect.rb, SHA256SUMS over every file;
#   - the tarball holds exactly the committed files, the same bytes twice, and builds with plain
#     `make` where there is no git;
#   - install.sh, piped from curl as a user would, from dist/ served by `python3 -m http.server` on
#     127.0.0.1: picks the file for the OS and CPU, checks it against SHA256SUMS (sha256sum, and
#     shasum alone as on a Mac), installs it, says what to do next; a tampered file, a file
#     SHA256SUMS does not list, a binary that cannot run, an unknown OS or CPU: refused, nothing
#     installed and nothing replaced;
#   - connect.rb: ruby -c, the sha256 of the tarball and of the libssh resource, and its install and
#     test blocks run by tests/brew-stub.rb (make tuned from the tarball, files in their places).
# Needs connect/connect-static (make static; make test builds it on Linux x86_64), else it skips.
. "$(dirname "$0")/lib.sh"
t_init install

V=$(sh "$TOP/release/version.sh") || {
	t_fail "release/version.sh" "cannot read the version"
	t_done
}

# --- every build prints VERSION --------------------------------------------------------------
n=0
for b in "$TOP/connect/connect" "$TOP/tests/connect-asan" "$TOP/connect/connect-static" \
    "$TOP/connect/connect-tuned" ${CONNECT:+"$CONNECT"}; do
	[ -x "$b" ] || continue
	n=$((n + 1))
	case $("$b" --version 2>&1) in
	"connect $V (libssh "*) ;;
	*) t_fail "connect --version names $V" "${b#$TOP/}: '$("$b" --version 2>&1)'" ;;
	esac
done
if [ "$n" -gt 0 ]; then
	t_pass "connect --version of each of the $n builds here names $V (release/version.sh)"
else
	t_fail "connect --version names $V" "no connect built (make)"
fi

if [ ! -x "$TOP/connect/connect-static" ] || [ "$(uname -s) $(uname -m)" != "Linux x86_64" ]; then
	t_skip "make release-dist" "needs connect/connect-static (make static, x86_64 Linux)"
	t_done
fi
sha256() { sha256sum "$1" | cut -d' ' -f1; }

set -- $($TNET freeport 1)
PORT=$1
WWW=$T/www
URL=http://127.0.0.1:$PORT/rel
DIST=$WWW/rel
B=connect-$V-linux-x86_64

# --- make release-dist ----------------------------------------------------------------------
# A stand-in for what make release-macos-arm64 will put there: release-dist must sum it too.
mkdir -p "$DIST"
printf '#!/bin/sh\necho "connect %s (a stand-in for macos-arm64)"\n' "$V" > "$DIST/connect-$V-macos-arm64"
if (cd "$TOP" && make release-dist DIST="$DIST" RELEASE_URL="$URL/") >"$T/release.log" 2>&1; then
	t_pass "make release-dist"
else
	t_fail "make release-dist" "$(grep -v 'warning: Using\|in function' "$T/release.log" | tail -n 3)"
	t_done
fi
want="SHA256SUMS $B connect-$V-macos-arm64 connect-$V.tar.gz connect.rb install.sh"
t_eq "dist/ holds the binary, the tarball, install.sh, connect.rb and SHA256SUMS" \
    "$(ls "$DIST" | sort | tr '\n' ' ')" "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ')"
t_eq "SHA256SUMS lists every other file of dist/" "$(cut -d' ' -f3 "$DIST/SHA256SUMS" | sort | tr '\n' ' ')" \
    "$(ls "$DIST" | grep -vx SHA256SUMS | sort | tr '\n' ' ')"
t_ok "sha256sum -c SHA256SUMS" sh -c "cd '$DIST' && sha256sum -c --strict SHA256SUMS"
case $("$DIST/$B" --version 2>&1) in
"connect $V (libssh "*", tuned, static)") t_pass "$B is the tuned static build: $("$DIST/$B" --version)" ;;
*) t_fail "$B is the tuned static build" "--version: '$("$DIST/$B" --version 2>&1)'" ;;
esac
if command -v readelf >/dev/null 2>&1; then
	if readelf -SW "$DIST/$B" | grep -q '\.symtab' || readelf -lW "$DIST/$B" | grep -q INTERP; then
		t_fail "$B: stripped, no loader" "readelf finds .symtab or PT_INTERP"
	else
		t_pass "$B: stripped ($(wc -c < "$DIST/$B" | tr -d ' ') bytes), no program interpreter"
	fi
fi


# A file of another version in dist/ would be vouched for by SHA256SUMS: refused.
mkdir -p "$T/foreign" && echo old > "$T/foreign/connect-0.0.1-linux-x86_64"
if sh "$TOP/release/dist.sh" "$T/foreign" "$URL" 0.11.5 >"$T/foreign.log" 2>&1; then
	t_fail "release-dist refuses a file of another version in dist/" "it exited 0"
else
	t_eq "release-dist refuses a file of another version in dist/" \
	    "$(grep -c 'connect-0.0.1-linux-x86_64 is not of version' "$T/foreign.log")" 1
fi
if sh "$TOP/release/dist.sh" "$T/nourl" "" 0.11.5 >"$T/nourl.log" 2>&1; then
	t_fail "release-dist without RELEASE_URL is refused" "it exited 0"
else
	t_eq "release-dist without RELEASE_URL is refused, naming the variable" \
	    "$(grep -c 'make release RELEASE_URL=' "$T/nourl.log")" 1
fi

# --- the source tarball ----------------------------------------------------------------------
TGZ=$DIST/connect-$V.tar.gz
tar -tzf "$TGZ" > "$T/tar.list"
if git -C "$TOP" rev-parse HEAD >/dev/null 2>&1; then
	git -C "$TOP" ls-tree -r --name-only HEAD | sed "s|^|connect-$V/|" | sort > "$T/git.list"
	grep -v '/$' "$T/tar.list" | sort > "$T/tar.files"
	if cmp -s "$T/git.list" "$T/tar.files"; then
		t_pass "the tarball holds exactly the committed files ($(wc -l < "$T/tar.files" | tr -d ' ')), under connect-$V/"
	else
		t_fail "the tarball holds exactly the committed files" "$(diff "$T/git.list" "$T/tar.files" | head -n 3 | tr '\n' ' ')"
	fi
	sh "$TOP/release/tarball.sh" "$T/again" >/dev/null 2>&1
	t_eq "the tarball is the same bytes when made again (the formula's sha256 holds)" \
	    "$(sha256 "$T/again/connect-$V.tar.gz" 2>&1)" "$(sha256 "$TGZ")"
else
	t_skip "the tarball's files" "$TOP is not a git checkout"
fi
# Built where there is no git: a git on PATH that fails, and no .git above the copy.
mkdir -p "$T/src" "$T/nogit"
printf '#!/bin/sh\necho "git: not here" >&2\nexit 127\n' > "$T/nogit/git"
chmod 755 "$T/nogit/git"
if tar -xzf "$TGZ" -C "$T/src" && [ ! -e "$T/src/connect-$V/.git" ] &&
    (cd "$T/src/connect-$V" && PATH=$T/nogit:$PATH make) >"$T/src.log" 2>&1; then
	t_eq "the tarball builds with plain make, no git: connect --version" \
	    "$("$T/src/connect-$V/connect/connect" --version 2>&1 | cut -d' ' -f1-2)" "connect $V"
else
	t_fail "the tarball builds with plain make, no git" "$(grep -E 'error:|\*\*\*|not found' "$T/src.log" | head -n 3)"
	tail -n 20 "$T/src.log" | sed 's/^/  | /' >&2
fi

# --- install.sh, served on loopback ----------------------------------------------------------
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import http.server' 2>/dev/null; then
	t_skip "install.sh" "no python3 to serve dist/ (apt-get install python3)"
	t_done
fi
# Variants of dist/, each with its own flaw, beside it.
mk_variant() {
	rm -rf "$WWW/$1" && cp -a "$DIST" "$WWW/$1"
}
mk_variant tampered && printf 'x' >> "$WWW/tampered/$B"
mk_variant unlisted && grep -v " $B\$" "$DIST/SHA256SUMS" > "$WWW/unlisted/SHA256SUMS"
mk_variant norun && printf '#!/bin/sh\nexit 3\n' > "$WWW/norun/$B" &&
    (cd "$WWW/norun" && grep -v " $B\$" "$DIST/SHA256SUMS" > SHA256SUMS && sha256sum "$B" >> SHA256SUMS)
(cd "$WWW" && exec python3 -m http.server --bind 127.0.0.1 "$PORT") >"$T/http.log" 2>&1 &
t_track $!
if ! until_ok 20 curl -fsS -o /dev/null "$URL/SHA256SUMS" >/dev/null; then
	t_fail "serve dist/ on 127.0.0.1:$PORT" "python3 -m http.server: $(tail -n 2 "$T/http.log")"
	t_done
fi

# inst NAME CMD-ENV...: run `curl -fsSL $URL/install.sh | sh` under env CMD-ENV; output in $T/NAME.out,
# its exit status in $rc. HOME is $T/home-NAME; CONNECT_RELEASE_URL is unset unless given.
inst() {
	_in=$1
	shift
	mkdir -p "$T/home-$_in"
	curl -fsSL "$URL/install.sh" | env -u CONNECT_RELEASE_URL -u CONNECT_INSTALL_DIR \
	    -u CONNECT_UNAME_S -u CONNECT_UNAME_M HOME="$T/home-$_in" "$@" sh >"$T/$_in.out" 2>&1
	rc=$?
}

inst default
I=$T/home-default/.local/bin/connect
if [ "$rc" -eq 0 ] && [ -x "$I" ] && cmp -s "$I" "$DIST/$B"; then
	t_pass "curl URL/install.sh | sh: $B into ~/.local/bin, from the URL make release baked in"
else
	t_fail "curl URL/install.sh | sh" "exit $rc, $(tail -n 2 "$T/default.out" | tr '\n' ' ')"
fi
t_eq "the installed connect runs: --version" "$("$I" --version 2>&1)" "$("$DIST/$B" --version)"
t_eq "it says how to put ~/.local/bin on PATH, when it is not there" \
    "$(grep -c "is not on your PATH\|export PATH=\"$T/home-default/.local/bin:" "$T/default.out")" 2
t_eq "it prints the next command: connect init NAME --id ... / --id ..." \
    "$(grep -c "$I init my-studio --id\|$I --id 01hx" "$T/default.out")" 2

inst onpath CONNECT_INSTALL_DIR="$T/bin" CONNECT_RELEASE_URL="$URL" PATH="$T/bin:$PATH"
if [ "$rc" -eq 0 ] && cmp -s "$T/bin/connect" "$DIST/$B" && ! grep -q 'not on your PATH' "$T/onpath.out" &&
    grep -q '^  connect init my-studio --id' "$T/onpath.out"; then
	t_pass "CONNECT_INSTALL_DIR on PATH: installed there, no PATH hint, the next command as plain connect"
else
	t_fail "CONNECT_INSTALL_DIR on PATH" "exit $rc, $(tr '\n' ' ' < "$T/onpath.out")"
fi

inst mac CONNECT_INSTALL_DIR="$T/mac" CONNECT_UNAME_S=Darwin CONNECT_UNAME_M=arm64
if [ "$rc" -eq 0 ] && cmp -s "$T/mac/connect" "$DIST/connect-$V-macos-arm64"; then
	t_pass "Darwin arm64: connect-$V-macos-arm64"
else
	t_fail "Darwin arm64: connect-$V-macos-arm64" "exit $rc, $(tail -n 2 "$T/mac.out" | tr '\n' ' ')"
fi
inst amd64 CONNECT_INSTALL_DIR="$T/amd64" CONNECT_UNAME_M=amd64
t_eq "Linux amd64 (uname -m on some systems): $B" "$rc $(cmp "$T/amd64/connect" "$DIST/$B" 2>&1)" "0 "

# Only sha256sum's absence: shasum -a 256 (macOS has no sha256sum), with only these tools on PATH.
if command -v shasum >/dev/null 2>&1; then
	mkdir -p "$T/tools"
	for tool in sh curl awk cut mktemp chmod mkdir cp mv rm uname shasum cat env sed tr perl; do
		p=$(command -v "$tool" 2>/dev/null) && ln -sf "$p" "$T/tools/$tool"
	done
	inst shasum CONNECT_INSTALL_DIR="$T/shasum" PATH="$T/tools"
	if [ "$rc" -eq 0 ] && cmp -s "$T/shasum/connect" "$DIST/$B"; then
		t_pass "without sha256sum: checked with shasum -a 256, installed"
	else
		t_fail "without sha256sum: shasum -a 256" "exit $rc, $(tail -n 2 "$T/shasum.out" | tr '\n' ' ')"
	fi
else
	t_skip "without sha256sum: shasum -a 256" "no shasum (perl) here"
fi

# refused REASON NAME PATTERN CMD-ENV...: install.sh must exit non-zero, say PATTERN and "nothing
# was installed", and leave $T/keep/connect (a connect installed before) as it was.
mkdir -p "$T/keep" && echo 'the connect installed before' > "$T/keep/connect"
refused() {
	_rf_why=$1 _rf_name=$2 _rf_pat=$3
	shift 3
	inst "$_rf_name" CONNECT_INSTALL_DIR="$T/keep" "$@"
	if [ "$rc" -ne 0 ] && grep -q "$_rf_pat" "$T/$_rf_name.out" &&
	    grep -q 'nothing was installed' "$T/$_rf_name.out" &&
	    [ "$(cat "$T/keep/connect")" = 'the connect installed before' ] &&
	    [ "$(ls -A "$T/keep")" = connect ]; then
		t_pass "$_rf_why: refused, nothing installed or replaced"
	else
		t_fail "$_rf_why: refused, nothing installed" "exit $rc, $(tr '\n' ' ' < "$T/$_rf_name.out")," \
		    "left: $(ls -A "$T/keep" | tr '\n' ' ')"
	fi
}
refused "a tampered binary (SHA256SUMS unchanged)" tampered "checksum mismatch for $B" \
    CONNECT_RELEASE_URL="http://127.0.0.1:$PORT/tampered"
refused "a binary SHA256SUMS does not list" unlisted "SHA256SUMS lists no $B" \
    CONNECT_RELEASE_URL="http://127.0.0.1:$PORT/unlisted"
refused "a binary that does not run here" norun "$B does not run on this machine" \
    CONNECT_RELEASE_URL="http://127.0.0.1:$PORT/norun"
refused "no such file at the URL (linux-arm64 not in this dist/)" noarm "cannot download .*connect-$V-linux-arm64" \
    CONNECT_UNAME_M=aarch64
refused "an unknown OS" freebsd "no connect binary for the OS 'FreeBSD'" CONNECT_UNAME_S=FreeBSD
refused "an unknown CPU" riscv "no connect binary for the CPU 'riscv64'" CONNECT_UNAME_M=riscv64
refused "native Windows (MSYS/Git Bash)" windows "native Windows is not supported: install WSL2" \
    CONNECT_UNAME_S=MINGW64_NT-10.0-22631
refused "a release URL that answers 404" nourl "cannot download .*/SHA256SUMS" \
    CONNECT_RELEASE_URL="http://127.0.0.1:$PORT/nothing-here"

# --- connect.rb ------------------------------------------------------------------------------
RB=$DIST/connect.rb
t_eq "connect.rb: url is the tarball at RELEASE_URL" "$(sed -n 's/^  url "\(.*\)"$/\1/p' "$RB")" \
    "$URL/connect-$V.tar.gz"
t_eq "connect.rb: sha256 is the tarball's" "$(sed -n 's/^  sha256 "\(.*\)"$/\1/p' "$RB")" "$(sha256 "$TGZ")"
LV=$(sed -n 's/^LIBSSH_TUNED_VERSION = *//p' "$TOP/Makefile")
orig=$TOP/build/apt/src/libssh_$LV.orig.tar.xz
if [ -f "$orig" ]; then
	t_eq "connect.rb: the libssh resource is $LV's release tarball, by its sha256" \
	    "$(sed -n 's/^    sha256 "\(.*\)"$/\1/p' "$RB") $(sed -n 's|^    url ".*/\(libssh_[^/]*\)"$|\1|p' "$RB")" \
	    "$(sha256 "$orig") libssh_$LV.orig.tar.xz"
else
	t_fail "connect.rb: the libssh resource" "no $orig"
fi
if command -v ruby >/dev/null 2>&1; then
	t_eq "ruby -c connect.rb" "$(ruby -c "$RB" 2>&1)" "Syntax OK"
	# The formula's install and test blocks, run by tests/brew-stub.rb (the DSL without Homebrew)
	# on a fresh copy of the tarball: make tuned with the resource, then every file in its place.
	mkdir -p "$T/brew" && tar -xzf "$TGZ" -C "$T/brew"
	if ruby "$TOP/tests/brew-stub.rb" "$RB" "$T/brew/connect-$V" "$T/keg" "$TOP/build/apt/src" \
	    >"$T/brew.log" 2>&1; then
		t_pass "connect.rb's install and test blocks (tests/brew-stub.rb): make tuned from the tarball"
	else
		t_fail "connect.rb's install and test blocks" "$(grep -v '^cc ' "$T/brew.log" | tail -n 2 | tr '\n' ' ')"
	fi
	case $("$T/keg/bin/connect" --version 2>&1) in
	"connect $V (libssh $LV/"*", tuned)") t_pass "the formula's connect: $("$T/keg/bin/connect" --version)" ;;
	*) t_fail "the formula's connect is the tuned build" "'$("$T/keg/bin/connect" --version 2>&1)'" ;;
	esac
	t_eq "the formula installs the man page, completions, connect.sh and share/connect" \
	    "$(cd "$T/keg" 2>/dev/null && find . -type f | sort | tr '\n' ' ')" \
	    "./bin/connect ./bin/connect.sh ./etc/bash_completion.d/connect ./share/connect/agent-entrypoint.sh ./share/connect/ai.lightning.connect.plist ./share/connect/connect@.service ./share/connect/example.ini ./share/fish/vendor_completions.d/connect.fish ./share/man/man1/connect.1 ./share/zsh/site-functions/_connect "
else
	t_skip "ruby -c connect.rb" "no ruby (apt-get install ruby)"
fi

t_done
