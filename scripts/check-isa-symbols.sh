#!/usr/bin/env bash
# Every symbol that an ISA folder's object file defines with external (or weak) linkage must be in
# that ISA's namespace (platforms/x86/avx2/*.o: edgeformer::avx2::...). A helper from a shared
# header with external linkage (an `inline` function, which a Debug build emits as a weak symbol)
# would be compiled with the ISA's flags, and the linker may keep that copy for the baseline code
# that runs on any CPU. Run it on a Debug build, where nothing is inlined away.
#
# Usage: scripts/check-isa-symbols.sh BUILD_DIR [NM]. Prints "N passed, M failed" (one per object).
set -uo pipefail
build=$1
nm=${2:-nm}
passed=0
failed=0
objects=$(find "$build/platforms" -path '*edgeformer_platforms.dir/x86/*/*.o' -o -path '*edgeformer_platforms.dir/arm/*/*.o' | sort)
if [[ -z $objects ]]; then
  echo "no ISA object files under $build/platforms"
  echo "0 passed, 1 failed"
  exit 1
fi
for o in $objects; do
  isa=$(basename "$(dirname "$o")")
  [[ $isa == common ]] && continue
  # Mangled names: a function or object of namespace edgeformer::ISA starts with
  # _ZN[K]10edgeformer<length of ISA><ISA>.
  prefix="_ZNK?10edgeformer${#isa}${isa}"
  bad=$("$nm" --defined-only --extern-only "$o" | awk '{ print $3 }' | grep -Ev "^${prefix}" || true)
  if [[ -n $bad ]]; then
    echo "FAIL $o defines symbols outside edgeformer::$isa:"
    for symbol in $bad; do echo "    $(echo "$symbol" | c++filt)"; done
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
