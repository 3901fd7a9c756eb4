# libssh/debsrc.sh: Debian source packages without touching /etc/apt; sourced by libssh/build.sh
# and libssh/openssl.sh (which set BUILD, and define die CODE MESSAGE...).
#
# A private apt state under $BUILD/apt: deb-src entries for bullseye, bookworm, trixie and sid on
# the mirror this machine's own apt sources name, so a normal user can run it too. apt checks the
# files it fetches against the archive's signed Sources index.

# The Debian mirror this machine uses: the first URI of its apt sources that is not a security one.
debsrc_mirror() {
	{
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }'
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
	} | grep -v security | head -n 1
}

# debsrc_unpack PACKAGE PREFIX DEST [ELSE]: unpack into DEST, with Debian's own patches applied, the newest
# source package of PACKAGE whose version starts with PREFIX ("0.11.5-": that release, any Debian
# revision; "3.5.": that series) and whose files the mirror serves: a version the Sources index
# names but the pool no longer holds is passed over for the next newest. Prints the version taken
# as DEBSRC_VERSION. Exits through die: 69 nothing to be had (ELSE, if given, ends the message of
# a machine without a Debian mirror: what to do instead), 70 dpkg-source failed.
debsrc_unpack() {
	_ds_pkg=$1 _ds_prefix=$2 _ds_dest=$3 _ds_else=${4:+: $4}
	_ds_apt=$BUILD/apt
	_ds_mirror=$(debsrc_mirror)
	[ -n "$_ds_mirror" ] || die 69 "no Debian mirror found in /etc/apt/sources.list*$_ds_else"
	_ds_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r $_ds_keyring ] || die 69 "needs $_ds_keyring (apt-get install debian-archive-keyring)"
	mkdir -p "$_ds_apt/lists/partial" "$_ds_apt/cache/archives/partial" "$_ds_apt/src"
	: > "$_ds_apt/sources.list"
	for _ds_suite in bullseye bookworm trixie sid; do
		echo "deb-src [signed-by=$_ds_keyring] $_ds_mirror $_ds_suite main" >> "$_ds_apt/sources.list"
	done
	set -- -o Dir::Etc::SourceList="$_ds_apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
	    -o Dir::State::Lists="$_ds_apt/lists" -o Dir::Cache="$_ds_apt/cache" -o Debug::NoLocking=1 \
	    -o APT::Sandbox::User="$(id -un)"
	# One update a day is plenty: the lists are 40 MB.
	if [ -z "$(find "$_ds_apt/lists" -name '*Sources*' -mtime -1 2>/dev/null | head -n 1)" ]; then
		apt-get "$@" -qq update || die 69 "apt-get update of the deb-src lists failed ($_ds_mirror)"
	fi
	# Newest first: by the numbers of the upstream version, then by the whole string.
	_ds_versions=$(apt-cache "$@" showsrc "$_ds_pkg" 2>/dev/null | awk -v p="$_ds_prefix" \
	    '$1 == "Version:" && index($2, p) == 1 { print $2 }' | sort -u |
	    sort -t. -k1,1nr -k2,2nr -k3,3nr -k3r)
	[ -n "$_ds_versions" ] || die 69 "Debian has no source package of $_ds_pkg $_ds_prefix* on" \
	    "$_ds_mirror (have:$(apt-cache "$@" showsrc "$_ds_pkg" 2>/dev/null | awk '$1 == "Version:" { printf " %s", $2 }'))"
	DEBSRC_VERSION=
	for _ds_v in $_ds_versions; do
		if (cd "$_ds_apt/src" && apt-get "$@" -qq source --download-only "$_ds_pkg=$_ds_v" >/dev/null 2>&1); then
			DEBSRC_VERSION=$_ds_v
			break
		fi
		echo "$_ds_pkg $_ds_v: not served by $_ds_mirror, trying an older one" >&2
	done
	[ -n "$DEBSRC_VERSION" ] || die 69 "apt-get source $_ds_pkg failed for every version of $_ds_prefix*"
	echo "$_ds_pkg: Debian source package $DEBSRC_VERSION"
	# dpkg-source would also check the uploader's signature, for which this machine has no keyring
	# (debian-keyring): it only warns.
	dpkg-source -x "$_ds_apt/src/${_ds_pkg}_$(echo "$DEBSRC_VERSION" | sed 's/^[0-9]*://').dsc" "$_ds_dest" \
	    >"$_ds_dest.dpkg-source.log" 2>&1 ||
	    { cat "$_ds_dest.dpkg-source.log" >&2; die 70 "dpkg-source -x $_ds_pkg failed"; }
}
