#!/bin/sh
# t-completion.sh: conf/connect.bash-completion, driven the way bash drives it (COMP_WORDS,
# COMP_CWORD, then the function), with profiles and a running tunnel in temporary directories.
. "$(dirname "$0")/lib.sh"
t_init completion

if ! command -v bash >/dev/null 2>&1; then
	t_skip "bash completion" "bash is not installed"
	t_done
fi
mkdir -p "$T/cfg/connect" "$T/run/connect" "$T/files"
: >"$T/cfg/connect/alpha.ini"
: >"$T/cfg/connect/beta-studio.ini"
: >"$T/run/connect/gamma.pid"	# a running tunnel without a profile
: >"$T/files/prof1.ini"

# comp WORDS...: the completions for the command line WORDS (the last one is being completed),
# sorted, on one line.
comp() {
	XDG_CONFIG_HOME=$T/cfg XDG_RUNTIME_DIR=$T/run bash --norc -c '
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_connect
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
	    sh "$TOP/conf/connect.bash-completion" "$@"
}

check() {	# check WANT WORDS...
	_want=$1
	shift
	_got=$(comp "$@")
	if [ "$_got" = "$_want" ]; then
		t_pass "completion of '$*': $_want"
	else
		t_fail "completion of '$*'" "want '$_want', got '$_got'"
	fi
}

check "status stop " connect st
check "alpha beta-studio check env help init list share status stop up " connect ""
check "--all --help alpha beta-studio gamma " connect stop ""
check "--help --json gamma " connect status ""
check "--json " connect status --j
check "--force " connect init x --f
check "alpha " connect -v -F x check a
check "$T/files/prof1.ini " connect -F "$T/files/pr"
check "--background " connect --back
check "check " connect help ch
check "env " connect e
check "alpha " connect env a
if bash --norc -c ". '$TOP/conf/connect.bash-completion'; complete -p connect" 2>/dev/null |
    grep -q "_connect connect"; then
	t_pass "complete -F _connect connect is registered"
else
	t_fail "completion registered" "$(bash --norc -c ". '$TOP/conf/connect.bash-completion'; complete -p connect" 2>&1)"
fi
# zsh and fish: their files parse; fish's, driven by fish itself, offers the commands and the
# names connect knows (connect list --names: profiles, ssh config aliases, running tunnels).
mkdir -p "$T/bin" && ln -sf "$CONNECT" "$T/bin/connect"
if command -v zsh >/dev/null 2>&1; then
	if zsh -n "$TOP/conf/connect.zsh-completion" 2>"$T/zsh.err"; then
		t_pass "zsh completion parses"
	else
		t_fail "zsh completion" "$(cat "$T/zsh.err")"
	fi
else
	t_skip "zsh completion" "zsh is not installed (apt-get install zsh)"
fi
if command -v fish >/dev/null 2>&1; then
	got=$(XDG_CONFIG_HOME=$T/cfg XDG_RUNTIME_DIR=$T/run PATH="$T/bin:$PATH" fish --no-config -c \
	    "source '$TOP/conf/connect.fish'; complete -C 'connect '" 2>&1 | cut -f1 | sort | tr '\n' ' ')
	if echo " $got" | grep -q " status " && echo " $got" | grep -q " share " &&
	    echo " $got" | grep -q " alpha " && echo " $got" | grep -q " beta-studio "; then
		t_pass "fish completion offers the commands and the profiles"
	else
		t_fail "fish completion" "got '$got'"
	fi
else
	t_skip "fish completion" "fish is not installed (apt-get install fish)"
fi

t_done
