#!/usr/bin/env bash
# Checks the symbols a shared libedgeformer exports: exactly the functions declared in
# edgeformer.h (EDGEFORMER_API), no other symbol (no C++ internals, no libstdc++ instances).
#
# Usage: bash scripts/check-exports.sh path/to/libedgeformer.so [path/to/edgeformer.h] [nm]
set -euo pipefail
lib=$1
header=${2:-$(dirname "${BASH_SOURCE[0]}")/../runtime/include/edgeformer.h}
nm=${3:-nm}
exported=$("$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' | sort -u)
declared=$(tr '\n' ' ' < "$header" | grep -o 'EDGEFORMER_API[^(;]*(' | grep -o 'edgeformer_[a-z_0-9]*[ ]*($' |
           tr -d ' (' | sort -u)
status=0
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [[ -n $extra ]]; then
  echo "exported but not in the header:"; echo "$extra" | head -20; status=1
fi
if [[ -n $missing ]]; then
  echo "declared in the header but not exported:"; echo "$missing"; status=1
fi
echo "$(echo "$exported" | wc -l) symbols exported, $(echo "$declared" | wc -l) declared"
exit $status
