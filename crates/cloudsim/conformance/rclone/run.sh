#!/usr/bin/env bash
# rclone conformance suite: Debian's rclone, unmodified, against cloudsim
# serving HTTPS under the providers' real host names.
#
#   bash crates/cloudsim/conformance/rclone/run.sh [--only drive,onedrive,dropbox] [--files N]
#
# Needs root (for the namespaces), rclone (`apt-get install rclone`),
# python3, and `unshare` and `ip` (util-linux, iproute2). Builds cloudsim
# in release mode, then runs suite.py inside its own mount and network
# namespaces: there the loopback interface is brought up, a hosts file
# mapping the real host names to 127.0.0.1 is bind-mounted over
# /etc/hosts, and cloudsim listens on 127.0.0.1:443. Neither the machine's
# /etc/hosts nor its network is touched, and nothing outside can reach
# that cloudsim. Ends with one line `N passed, M failed`; exits non-zero
# on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"

fail_summary() {
    echo "rclone conformance: $1" >&2
    echo "0 passed, 1 failed"
    exit 1
}

[[ $(id -u) -eq 0 ]] || fail_summary "must run as root (it makes mount and network namespaces)"
for tool in rclone unshare ip python3; do
    command -v "$tool" >/dev/null || fail_summary "$tool not found (rclone: apt-get install rclone)"
done

echo "== building cloudsim" >&2
(cd "$repo" && cargo build --quiet -p cloudsim --release) || fail_summary "cargo build failed"
target="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$target" = /* ]] || target="$repo/$target"
bin="$target/release/cloudsim"
[[ -x "$bin" ]] || fail_summary "no binary at $bin"

echo "== $(rclone version | head -n1)" >&2
# --propagation private (unshare's default) keeps the bind mount inside.
exec unshare --mount --net --propagation private -- \
    python3 "$here/suite.py" --cloudsim "$bin" "$@"
