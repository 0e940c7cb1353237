#!/usr/bin/env bash
# Checks the repaired wheel and the sdist as a user without Debian's Ceres meets them.
#
#   packaging/check_wheel.sh WHEEL SDIST VENV        (as root: it uses a mount namespace)
#
# 1. Installs WHEEL into a fresh venv VENV (nothing else but its PyPI dependencies).
# 2. ldd on each installed extension (the core for any x86-64, _core; for x86-64-v3,
#    _core_x86_64_v3, demanded on x86_64 only; the CPU query, _cpu): every library must be
#    one a manylinux wheel may take from the system (glibc, libm, libstdc++, libgcc_s) or
#    come from the venv itself.
#    Their instructions (objdump -d, binutils): _core and _cpu must hold no AVX/AVX2/FMA/BMI
#    instruction (no ymm/zmm register, no VEX mnemonic, no vfmadd..., no shlx, pdep, ...),
#    or a processor without them dies of SIGILL; _core_x86_64_v3 must hold ymm and FMA code,
#    or it was built without the flag. And _cpu's answer must match /proc/cpuinfo's flags,
#    so that a query that always says no (or yes) cannot pass.
# 3. In a private mount namespace (`unshare --mount`: the machine and its other users never
#    see it) hides Debian's Ceres and every library it links (libceres.so, glog, gflags,
#    SuiteSparse, BLAS/LAPACK, ...: each file covered by /dev/null, the Ceres headers and
#    CMake package by an empty tmpfs), checks that they no longer load, then
#       - runs packaging/smoke_test.py (import, fit the shipped example) from the venv, once
#         per variant of the core (SMPLIFY_CPU=baseline, and x86-64-v3 where this processor
#         runs it);
#       - builds SDIST with pip and expects it to stop with the CMake message naming Ceres.
set -euo pipefail

wheel=$(realpath "${1:?usage: check_wheel.sh WHEEL SDIST VENV}")
sdist=$(realpath "${2:?usage: check_wheel.sh WHEEL SDIST VENV}")
venv=${3:?usage: check_wheel.sh WHEEL SDIST VENV}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
# What auditwheel's manylinux policies let a wheel take from the system.
system_libs='^(linux-vdso|ld-linux-x86-64|libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt)\.so\.[0-9]+$'
scratch=$(mktemp -d "${TMPDIR:-/tmp}/smplify-wheel-check.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "== fresh venv $venv with $(basename "$wheel")"
rm -rf "$venv"
"$python" -m venv "$venv"
venv=$(realpath "$venv")
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
# The package's files, found without importing it (an import loads one variant of the core).
package=$(cd "$scratch" && "$venv/bin/python" -c \
  'import importlib.util as u; print(u.find_spec("smplify").submodule_search_locations[0])')
modules="_core _cpu"
if [ "$(uname -m)" = x86_64 ]; then modules="_core _core_x86_64_v3 _cpu"; fi
if ! command -v objdump > /dev/null; then
  echo "FAILED: objdump not found (Debian: apt-get install binutils; gcc brings it)"; exit 1
fi
# "ymm fma vex bmi": counts of instructions with a ymm/zmm operand, FMA, any VEX mnemonic
# (v..., but verr/verw), BMI1/BMI2/LZCNT/MOVBE (tzcnt is left out: it runs as bsf anywhere).
isa_counts() {
  objdump -d --no-show-raw-insn "$1" | awk -F'\t' '
    NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ {
      split($2, word, " "); m = word[1]
      if ($2 ~ /%[yz]mm[0-9]/) ymm++
      if (m ~ /^vf(n)?m(add|sub)/) fma++
      if (m ~ /^v/ && m !~ /^ver[rw]$/) vex++
      if (m ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|lzcnt|movbe)$/) bmi++
    }
    END { printf "%d %d %d %d\n", ymm, fma, vex, bmi }'
}
for module in $modules; do
  ext=$(ls "$package/$module".*.so 2>/dev/null | head -1)
  if [ -z "$ext" ]; then echo "FAILED: the wheel has no smplify.$module"; exit 1; fi
  echo "== ldd $ext"
  ldd "$ext" | tee "$scratch/ldd.txt"
  # Fields: name [=> path] (address). A bundled library resolves inside the venv.
  bad=$(awk -v ok="$system_libs" -v venv="$venv/" '
    { name = $1; sub(".*/", "", name); path = ($2 == "=>") ? $3 : $1 }
    /not found/ || (name !~ ok && index(path, venv) != 1) { print }' "$scratch/ldd.txt")
  if [ -n "$bad" ]; then
    echo "FAILED: smplify.$module needs libraries from outside the wheel:"; echo "$bad"; exit 1
  fi
  read -r ymm fma vex bmi < <(isa_counts "$ext")
  echo "objdump: $ymm ymm/zmm, $fma FMA, $vex VEX, $bmi BMI/LZCNT/MOVBE instructions"
  if [ "$module" = _core_x86_64_v3 ]; then
    if [ "$ymm" -eq 0 ] || [ "$fma" -eq 0 ]; then
      echo "FAILED: smplify.$module has no AVX2/FMA code: not built for x86-64-v3"; exit 1
    fi
  elif [ $((ymm + fma + vex + bmi)) -ne 0 ]; then
    echo "FAILED: smplify.$module (for any x86-64) holds AVX/FMA/BMI instructions"; exit 1
  fi
done
echo "ldd: only glibc/libstdc++/libgcc_s from the system, the rest from the wheel"
variants=baseline
cpu_says=no
if (cd "$scratch" && "$venv/bin/python" -c \
      'import sys; from smplify import _cpu; sys.exit(not _cpu.supports_x86_64_v3())'); then
  cpu_says=yes
fi
if [ "$(uname -m)" = x86_64 ]; then
  # What x86-64-v3 needs, in /proc/cpuinfo's names (with x86-64-v2's; LZCNT is abm). Linux
  # lists avx only where the OS enabled its state, as _cpu's query also asks.
  cpuinfo_says=yes
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  for flag in cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe; do
    if [[ $flags != *" $flag "* ]]; then cpuinfo_says=no; fi
  done
  if [ "$cpu_says" != "$cpuinfo_says" ]; then
    echo "FAILED: smplify._cpu says x86-64-v3=$cpu_says, /proc/cpuinfo says $cpuinfo_says"; exit 1
  fi
  echo "_cpu: x86-64-v3=$cpu_says, as /proc/cpuinfo says"
fi
if [ "$cpu_says" = yes ]; then
  variants="baseline x86-64-v3"
else
  echo "(this processor does not run x86-64-v3: the smoke test runs the baseline only)"
fi

# Debian's Ceres and its link closure, as real files (bind mounts follow symlinks).
hide_files=()
if ceres_so=$(ls /usr/lib/*-linux-gnu/libceres.so.* 2>/dev/null | head -1); then
  while read -r lib; do hide_files+=("$(realpath "$lib")"); done < <(
    { echo "$ceres_so"; ldd "$ceres_so" | awk '$2 == "=>" { print $3 }'; } |
    while read -r lib; do
      name=$(basename "$lib"); [[ $name =~ $system_libs ]] || echo "$lib"; done)
fi
hide_dirs=()
for dir in /usr/include/ceres /usr/lib/*-linux-gnu/cmake/Ceres; do
  if [ -d "$dir" ]; then hide_dirs+=("$dir"); fi
done
for file in /usr/lib/*-linux-gnu/libceres.a; do
  if [ -f "$file" ]; then hide_files+=("$file"); fi
done
printf '%s\n' "${hide_files[@]}" "${hide_dirs[@]}" > "$scratch/hidden.txt"
echo "== hiding $(wc -l < "$scratch/hidden.txt") Debian files of Ceres and its dependencies" \
  "in a private mount namespace:"
sed 's/^/   /' "$scratch/hidden.txt"

cp "$here/smoke_test.py" "$scratch/"
cat > "$scratch/hidden_run.sh" <<EOF
set -euo pipefail
for file in $(printf '%q ' "${hide_files[@]}"); do mount --bind /dev/null "\$file"; done
for dir in $(printf '%q ' "${hide_dirs[@]}"); do mount -t tmpfs -o ro,size=4k none "\$dir"; done
# The hiding must work, or what follows proves nothing.
"$venv/bin/python" - $(printf '%q ' "${hide_files[@]}") <<'PY'
import ctypes, sys
loaded = []
for path in (p for p in sys.argv[1:] if ".so" in p):
    try:
        ctypes.CDLL(path)
        loaded.append(path)
    except OSError:
        pass
if loaded:
    sys.exit(f"FAILED: still loadable after hiding: {loaded}")
print(f"hidden: none of the {sum('.so' in p for p in sys.argv[1:])} Debian libraries loads")
PY
cd "$scratch"
for variant in $variants; do
  echo "== smoke test with Debian's Ceres hidden, SMPLIFY_CPU=\$variant"
  SMPLIFY_CPU=\$variant "$venv/bin/python" smoke_test.py
done
echo "== pip install of the sdist with Debian's Ceres hidden (must stop, naming Ceres)"
if "$venv/bin/python" -m pip install --no-deps --disable-pip-version-check "$sdist" \
     > sdist.log 2>&1; then
  echo "FAILED: the sdist built without Ceres"; exit 1
fi
# (CMake's message formatting puts two spaces after the full stop.)
if ! grep -Eq "Ceres Solver not found\. +On Debian/Ubuntu: apt-get install libceres-dev" sdist.log
then
  echo "FAILED: the sdist build failed without the Ceres message:"; tail -30 sdist.log; exit 1
fi
grep -m1 "Ceres Solver not found" sdist.log | sed "s/^ *//"
EOF
if ! unshare --mount --propagation private true 2>/dev/null; then
  echo "FAILED: cannot make a private mount namespace (unshare --mount needs root)"; exit 1
fi
unshare --mount --propagation private bash "$scratch/hidden_run.sh"
echo "wheel check: ok"
