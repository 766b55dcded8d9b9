#!/usr/bin/env bash
# make-arm64-sysroot.sh - prepare everything needed to cross-build edgeformer
# for aarch64 Linux on a Debian 12 (bookworm) amd64 host and to run the result
# under qemu-user.
#
# Usage: bash toolchains/make-arm64-sysroot.sh [<sysroot-dir>]
#        (default: <repo>/build/arm64-sysroot)
#
# Then: cmake -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#       [-DEDGEFORMER_ARM64_SYSROOT=<sysroot-dir>]
#
# What it does (every step is skipped if already done):
#   1. dpkg --add-architecture arm64
#   2. apt-get update, only if no arm64 package lists exist yet
#   3. apt-get install libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 (real
#      multiarch packages, so the host has /lib/ld-linux-aarch64.so.1 and plain
#      `qemu-aarch64 ./prog` works; `qemu-aarch64 -L /usr/aarch64-linux-gnu`
#      is known to hang at the first pthread_create)
#   4. apt-get download the arm64 .debs of XNNPACK, pthreadpool, cpuinfo and
#      flatbuffers (dev + runtime) into a cache dir (<sysroot-dir>.debs, or
#      $EDGEFORMER_ARM64_DEB_CACHE) and `dpkg -x` them into <sysroot-dir>.
#      These cannot be apt-installed: libxnnpack-dev is not Multi-Arch and
#      conflicts with the amd64 one.
#   5. sanity checks: every symlink resolves inside the sysroot and every
#      DT_NEEDED of the sysroot's shared libraries is found.
# A stamp file <sysroot-dir>/.edgeformer-sysroot-stamp records the package
# versions; the sysroot is rebuilt only when they change.
#
# Needs root (or sudo) for steps 1-3 only. Network: Debian mirrors only.
set -euo pipefail

log() { printf '[arm64-sysroot] %s\n' "$*" >&2; }
die() { printf '[arm64-sysroot] ERROR: %s\n' "$*" >&2; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "${script_dir}/.." && pwd)

sysroot=${1:-${repo_root}/build/arm64-sysroot}
mkdir -p "$(dirname "$sysroot")"
sysroot=$(cd "$(dirname "$sysroot")" && pwd)/$(basename "$sysroot")
case "$sysroot" in
  / | /usr | /usr/* | /lib* | /etc* | /bin* | /sbin* | /var | /home | "$HOME")
    die "refusing to use '$sysroot' as sysroot" ;;
esac
deb_cache=${EDGEFORMER_ARM64_DEB_CACHE:-${sysroot}.debs}
stamp="${sysroot}/.edgeformer-sysroot-stamp"
multiarch=aarch64-linux-gnu
libdir="${sysroot}/usr/lib/${multiarch}"

# Installed for real (multiarch, Multi-Arch: same) so qemu can run binaries.
runtime_pkgs=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
# Unpacked into the sysroot. Closure of the -dev packages' Depends, minus
# libc6/libgcc-s1/libstdc++6 (the cross toolchain provides those at link time)
# and minus flatbuffers-compiler-dev/flatbuffers-compiler (arm64 flatc, not
# wanted: use the host flatc; its FlatcTargets.cmake would point at an arm64
# binary, and FlatBuffersConfig.cmake includes it only OPTIONALly).
sysroot_pkgs=(
  libxnnpack-dev libxnnpack0
  libpthreadpool-dev libpthreadpool0
  libcpuinfo-dev libcpuinfo0
  libflatbuffers-dev libflatbuffers2
)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "need root or sudo for dpkg/apt-get"
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# Run a command with its output captured; show the output only if it fails.
quiet() {
  local out rc=0
  out=$(mktemp)
  "$@" >"$out" 2>&1 || rc=$?
  if ((rc)); then
    cat "$out" >&2
    rm -f "$out"
    die "failed ($rc): $*"
  fi
  rm -f "$out"
}

# --- 1. arm64 dpkg architecture ---------------------------------------------
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "dpkg --add-architecture arm64"
  "${SUDO[@]}" dpkg --add-architecture arm64
fi

# --- 2. arm64 package lists -------------------------------------------------
have_arm64_lists() {
  compgen -G '/var/lib/apt/lists/*_binary-arm64_Packages*' >/dev/null &&
    apt-cache show libxnnpack0:arm64 >/dev/null 2>&1
}
if ! have_arm64_lists; then
  log "apt-get update (no arm64 package lists yet)"
  quiet "${SUDO[@]}" apt-get update
  have_arm64_lists || die "still no arm64 package lists after apt-get update"
fi

# --- 3. arm64 C/C++ runtime, installed for real -----------------------------
missing=()
for p in "${runtime_pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $st == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  quiet "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- 4. download + unpack the sysroot packages ------------------------------
# One apt-cache call for all candidates (each call costs ~1 s).
declare -A version=()
while read -r pkg ver; do
  version[$pkg]=$ver
done < <(apt-cache policy "${sysroot_pkgs[@]/%/:arm64}" |
  awk '/^[^ ].*:$/ {p=$1; sub(/:arm64:$/, "", p); sub(/:$/, "", p)}
       /^  Candidate:/ {print p, $2}')
manifest=""
for p in "${sysroot_pkgs[@]}"; do
  v=${version[$p]:-}
  [[ -n $v && $v != "(none)" ]] || die "no arm64 candidate for $p"
  manifest+="$p:arm64=$v"$'\n'
done
manifest+="script-format=1"
deb_of() { local v=${version[$1]}; printf '%s/%s_%s_arm64.deb' "$deb_cache" "$1" "${v//:/%3a}"; }

if [[ -f $stamp && $(cat "$stamp") == "$manifest" ]]; then
  log "sysroot up to date: $sysroot"
else
  mkdir -p "$deb_cache"
  todo=()
  for p in "${sysroot_pkgs[@]}"; do
    # .deb file names encode ':' in epochs as %3a
    [[ -s $(deb_of "$p") ]] || todo+=("$p:arm64=${version[$p]}")
  done
  if ((${#todo[@]})); then
    log "apt-get download ${todo[*]} -> $deb_cache"
    # apt-get download writes to the cwd; as root it prints a harmless
    # "unsandboxed" notice, silence it via APT::Sandbox::User=root.
    (cd "$deb_cache" && quiet apt-get download -o APT::Sandbox::User=root "${todo[@]}")
  fi

  if [[ -e $sysroot ]]; then
    # Only wipe a directory we created ourselves (or an empty one).
    if [[ -f $stamp || -z $(ls -A "$sysroot") ]]; then
      rm -rf "$sysroot"
    else
      die "$sysroot exists and was not made by this script; remove it or pick another dir"
    fi
  fi
  tmp="${sysroot}.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  for p in "${sysroot_pkgs[@]}"; do
    deb=$(deb_of "$p")
    [[ -f $deb ]] || die "missing $deb"
    log "dpkg -x $(basename "$deb")"
    dpkg -x "$deb" "$tmp"
  done
  rm -rf "$tmp/usr/share/doc" "$tmp/usr/share/lintian"

  # Absolute symlinks (if any) would point into the host; make them relative
  # to the sysroot.
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    if [[ $target == /* ]]; then
      rel=$(realpath -m --relative-to="$(dirname "$link")" "$tmp$target")
      log "fix absolute symlink ${link#"$tmp"} -> $target"
      ln -sfn "$rel" "$link"
    fi
  done < <(find "$tmp" -type l -print0)
  mv "$tmp" "$sysroot"
  trap - EXIT

  # --- 5. sanity checks -----------------------------------------------------
  while IFS= read -r -d '' link; do
    [[ -e $link ]] || die "dangling symlink: $link -> $(readlink "$link")"
  done < <(find "$sysroot" -type l -print0)
  for lib in XNNPACK cpuinfo pthreadpool flatbuffers; do
    [[ -e $libdir/lib$lib.so ]] || die "missing $libdir/lib$lib.so"
  done
  for h in xnnpack.h cpuinfo.h pthreadpool.h flatbuffers/flatbuffers.h; do
    [[ -f $sysroot/usr/include/$h ]] || die "missing $sysroot/usr/include/$h"
  done
  readelf_bin=$(command -v ${multiarch}-readelf || command -v readelf || true)
  if [[ -n $readelf_bin ]]; then
    for so in "$libdir"/*.so.*; do
      [[ -L $so ]] && continue
      while read -r needed; do
        found=""
        for d in "$libdir" /usr/${multiarch}/lib /lib/${multiarch} /usr/lib/${multiarch}; do
          [[ -e $d/$needed ]] && { found=$d; break; }
        done
        [[ -n $found ]] || die "$(basename "$so") needs $needed, not found"
      done < <("$readelf_bin" -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    done
  fi

  printf '%s' "$manifest" >"$stamp"
  log "sysroot ready: $sysroot"
fi
printf '%s\n' "$sysroot"
