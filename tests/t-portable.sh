#!/bin/sh
# t-portable.sh: the build works beyond this Debian box. Many users build on a Mac, where `make` is
# GNU make 3.81 and `cc` is clang; BSD make is the other make a Makefile meets.
#   - the Makefile uses only what GNU make 3.81 and BSD make share (a textual check: 3.81 itself is
#     not in Debian);
#   - bmake builds connect from a copy of the sources (when bmake is installed);
#   - clang builds connect with the project's warnings and -Werror (when clang is installed).
. "$(dirname "$0")/lib.sh"
t_init portable

# --- the Makefile: no construct outside the common subset. Comments are left out first.
# != and $(shell) (make 4.0 / GNU only), GNU functions, GNU and BSD conditionals, % pattern rules,
# and the automatic variables only GNU sets outside suffix rules ($^ $+).
bad=$(sed -e '/^[[:space:]]*#/d' "$TOP/Makefile" | grep -nE \
    '!=|\$\((shell|wildcard|patsubst|subst|filter|filter-out|foreach|call|if|eval|addprefix|addsuffix|notdir|basename) |^[[:space:]]*(ifeq|ifneq|ifdef|ifndef|endif|else|-?include)([[:space:]]|$)|^\.(if|ifdef|ifndef|else|endif|include|for)|^[^[:space:]#]*%[^=]*:|\$\^|\$\+')
if [ -z "$bad" ]; then
	t_pass "Makefile: only what GNU make 3.81 and BSD make both read"
else
	t_fail "Makefile: outside the GNU make 3.81 / BSD make subset" "$(printf '%s\n' "$bad" | head -n 3)"
fi

# copy_tree DIR: the sources `make all` needs, without any object built here.
copy_tree() {
	mkdir -p "$1/lib" "$1/connect"
	cp "$TOP/Makefile" "$TOP/connect.sh.in" "$1/" &&
	    cp "$TOP"/lib/*.c "$TOP"/lib/*.h "$TOP"/lib/*.sh "$1/lib/" && rm -f "$1/lib/inih-abi.h" &&
	    cp "$TOP"/connect/*.c "$TOP"/connect/*.h "$1/connect/"
}

# build_with NAME DIR CMD...: in a fresh copy at DIR, CMD must build connect/connect, which must run.
build_with() {
	_bw_name=$1 _bw_dir=$2
	shift 2
	if ! copy_tree "$_bw_dir"; then
		t_fail "$_bw_name" "cannot copy the sources to $_bw_dir"
		return
	fi
	if (cd "$_bw_dir" && "$@") >"$_bw_dir.log" 2>&1 && [ -x "$_bw_dir/connect/connect" ] &&
	    "$_bw_dir/connect/connect" --version >/dev/null 2>&1 && [ -x "$_bw_dir/connect.sh" ]; then
		t_pass "$_bw_name"
	else
		t_fail "$_bw_name" "$(grep -E 'error:|not found|No rule|\*\*\*' "$_bw_dir.log" | head -n 3)"
		tail -n 20 "$_bw_dir.log" | sed 's/^/  | /' >&2
	fi
}

if command -v bmake >/dev/null 2>&1; then
	build_with "BSD make (bmake) builds connect from the Makefile" "$T/bmake" bmake all
else
	t_skip "BSD make builds connect" "bmake is not installed (apt-get install bmake)"
fi

if command -v clang >/dev/null 2>&1; then
	build_with "clang (the compiler of macOS) builds connect with the warnings as errors" \
	    "$T/clang" make CC=clang all
else
	t_skip "clang builds connect" "clang is not installed (apt-get install clang)"
fi

# --- make install, then make uninstall: every file back out, nothing else touched.
d=$T/destdir
if (cd "$TOP" && make install DESTDIR="$d" PREFIX=/usr/local >"$T/install.log" 2>&1); then
	n=$(find "$d" -type f | wc -l)
	mkdir -p "$d/usr/local/bin" && echo mine >"$d/usr/local/bin/other-tool"
	(cd "$TOP" && make uninstall DESTDIR="$d" PREFIX=/usr/local >>"$T/install.log" 2>&1)
	left=$(find "$d" -type f | sed "s|^$d||")
	if [ "$n" -ge 10 ] && [ "$left" = /usr/local/bin/other-tool ]; then
		t_pass "make install puts $n files in place; make uninstall takes exactly those out"
	else
		t_fail "make uninstall" "installed $n files; left: $left"
	fi
else
	t_fail "make install" "$(tail -n 3 "$T/install.log")"
fi

t_done
