#!/usr/bin/env bash
# Builds the Ceres Solver that the wheel links statically, and installs it into PREFIX.
#
#   packaging/build_ceres.sh PREFIX [ARCH]
#
# ARCH: "baseline" (default: the compiler's own target, x86-64 with SSE2 on amd64) or
# "x86-64-v3" (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE: -march=x86-64-v3), the Ceres of the
# wheel's second core (docs/design.md "CPU variants"). Never -march=native: the wheel runs
# on other machines.
#
# Debian's libceres.a is built with SuiteSparse (CHOLMOD, SPQR: GPL-2+), CXSparse (LGPL),
# LAPACK/BLAS (ATLAS, gfortran), glog and gflags, and pulls all of them into any program that
# links it. smplify solves dense normal equations with Eigen only (cpp/fitter.cc:
# DENSE_NORMAL_CHOLESKY), so the wheel links a Ceres built from the same Debian source package
# (2.1.0) without any of them: MINIGLOG (Ceres' own BSD logging), no gflags, no sparse or
# LAPACK back ends, C++ threads, no Schur specialisations (only bundle adjustment uses them).
# The result depends on nothing but libstdc++/libc, so the wheel carries no other library.
#
# The source comes through apt (`apt-get source`, checked against Debian's signed index) with
# a private apt state under the work directory: the machine's apt configuration is not touched.
# Needs: apt, g++, cmake >= 3.16, Eigen 3 headers (libeigen3-dev).
set -euo pipefail

prefix=${1:?usage: build_ceres.sh PREFIX [ARCH]}
case ${2:-baseline} in
  baseline) arch_flags="" ;;
  x86-64-v3) arch_flags="-march=x86-64-v3" ;;
  *) echo "build_ceres.sh: ARCH must be baseline or x86-64-v3, not '$2'" >&2; exit 2 ;;
esac
version=2.1.0+really2.1.0+dfsg-1
if [ -f "$prefix/lib/cmake/Ceres/CeresConfig.cmake" ]; then
  echo "Ceres already built in $prefix"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smplify-ceres.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src" "$work/sources.d"
# The machine's own apt sources, as source-package entries (deb -> deb-src).
sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$work/sources.list" 2>/dev/null || true
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$work/sources.d/$(basename "$f")"
done
for f in /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f" > "$work/sources.d/$(basename "$f")"
done
apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/sources.d"
             -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get -qq "${apt_private[@]}" update
(cd "$work/src" && apt-get -qq "${apt_private[@]}" source --download-only \
  "ceres-solver=$version")
tar -xf "$work"/src/ceres-solver_*.orig.tar.xz -C "$work/src"

cmake -S "$work/src/ceres-solver-2.1.0" -B "$work/build" -G Ninja -Wno-dev \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_FLAGS="$arch_flags" \
  -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF -DBUILD_EXAMPLES=OFF -DBUILD_BENCHMARKS=OFF \
  -DPROVIDE_UNINSTALL_TARGET=OFF -DMINIGLOG=ON -DGFLAGS=OFF -DSUITESPARSE=OFF \
  -DCXSPARSE=OFF -DEIGENSPARSE=OFF -DLAPACK=OFF -DCUDA=OFF -DSCHUR_SPECIALIZATIONS=OFF \
  -DCERES_THREADING_MODEL=CXX_THREADS
cmake --build "$work/build" --parallel "${CERES_JOBS:-2}"
cmake --install "$work/build"
