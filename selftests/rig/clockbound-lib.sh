#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# clockbound-lib.sh: AWS ClockBound 2.0.2's C client library
# (clock-bound-ffi: libclockbound.a and clockbound.h), built offline from
# its source with Debian 13's Rust toolchain and packaged crates, into
# build/clockbound/. The guests' bounded_time reads the segment and the
# VMClock page through it, as a database on AWS does.
#
# The source is not part of this project: it is taken from CLOCKBOUND_SRC,
# or from the vendored copy beside the checkout (../shared/vendor/
# aws-clock-bound-2.0.2, or /work/shared/vendor/...). Without it, this
# prints "clockbound-lib: 0 passed, 0 failed, 1 skipped" and exits 0; the
# guests then read the segment with their own reader only.
#
# The three crates (clock-bound-shm, -vmclock, -ffi) are copied to
# build/clockbound/src with a workspace manifest of their own (upstream's
# names crates that are not in the copy) and cargo's source replacement to
# Debian's registry (/usr/share/cargo/registry). One change, in
# clockbound/nix-0.29.patch: Debian 13 packages nix 0.29, not the 0.26 the
# manifests ask for; its mmap/munmap take a BorrowedFd and a NonNull, and
# its fs and mman features are no longer default. The patch touches only
# the segment writers (compiled in, unused by the clients); the readers
# are as upstream wrote them.
#
# Built in a Debian 13 root of its own (suite-root.sh, RIG_ROOT_NAME=
# clockbound-trixie) so that it can run while the DKMS matrix prepares the
# suites' roots. About two minutes the first time (debootstrap, 190 MB of
# packages, cargo), seconds when cached.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
OUT=$TOP/build/clockbound
# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME=clockbound-lib
. "$RIG/lib.sh"

src=
for d in "${CLOCKBOUND_SRC:-}" "$TOP/../shared/vendor/aws-clock-bound-2.0.2" \
	 /work/shared/vendor/aws-clock-bound-2.0.2; do
	if [[ -n $d && -f $d/clock-bound-ffi/Cargo.toml ]]; then
		src=$(cd "$d" && pwd)
		break
	fi
done
if [[ -z $src ]]; then
	log "AWS ClockBound 2.0.2's source not found (set CLOCKBOUND_SRC)"
	echo "clockbound-lib: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

pkgs=(cargo rustc librust-libc-dev librust-libc+extra-traits-dev
      librust-nix-dev librust-nix+feature-dev librust-nix+time-dev
      librust-errno-dev librust-byteorder-dev librust-tracing-dev
      librust-tracing-subscriber-dev librust-tracing-subscriber+std-dev
      librust-tracing-subscriber+fmt-dev librust-tracing-subscriber+json-dev
      librust-tempfile-dev)
root=$(RIG_ROOT_NAME=clockbound-trixie "$RIG/suite-root.sh" trixie "${pkgs[@]}")

log "from $src"
rm -rf "$OUT"
mkdir -p "$OUT/src/.cargo" "$OUT/include"
for c in clock-bound-shm clock-bound-vmclock clock-bound-ffi; do
	cp -a "$src/$c" "$OUT/src/"
done
chmod -R u+w "$OUT/src"
cat >"$OUT/src/Cargo.toml" <<'EOF'
[workspace]
members = ["clock-bound-shm", "clock-bound-vmclock", "clock-bound-ffi"]
resolver = "2"

[workspace.package]
authors = ["the aws/clock-bound authors"]
categories = ["date-and-time"]
edition = "2021"
exclude = []
keywords = ["aws", "ntp", "ec2", "time"]
publish = false
repository = "https://github.com/aws/clock-bound"
version = "2.0.2"
EOF
cat >"$OUT/src/.cargo/config.toml" <<'EOF'
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
EOF
patch -s -d "$OUT/src" -p1 <"$RIG/clockbound/nix-0.29.patch"
if ! "$RIG/in-suite.sh" "$root" --bind "$OUT" -- \
	sh -ec "cd '$OUT/src' && CARGO_HOME='$OUT/cargo-home' cargo build --release --offline -p clock-bound-ffi" \
	>"$OUT/cargo.log" 2>&1; then
	cat "$OUT/cargo.log" >&2
	echo "clockbound-lib: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
cp "$OUT/src/target/release/libclockbound.a" "$OUT/"
cp "$src/clock-bound-ffi/include/clockbound.h" "$OUT/include/"
log "libclockbound.a ($(du -h "$OUT/libclockbound.a" | cut -f1)), $(grep -c '^name = ' "$OUT/src/Cargo.lock") crates, rustc $("$RIG/in-suite.sh" "$root" -- rustc --version | cut -d' ' -f2)"
echo "clockbound-lib: 1 passed, 0 failed, 0 skipped"
