#!/usr/bin/env bash
# Installs the real data the acceptance tests need: Fashion-MNIST from the Debian package
# dataset-fashion-mnist, which puts the four IDX files under /usr/share/datasets/fashion-mnist.
# Idempotent: does nothing when the files are there. Otherwise runs apt-get (as root, or through sudo),
# refreshing the package lists only when apt does not know the package yet.
set -euo pipefail
dir=/usr/share/datasets/fashion-mnist
package=dataset-fashion-mnist
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

have_all() {
  local f
  for f in "${files[@]}"; do
    [ -s "$dir/$f" ] || return 1
  done
}

if have_all; then
  echo "data: Fashion-MNIST found in $dir"
  exit 0
fi

fail() {
  echo "data: error: $*" >&2
  echo "data: the tests need Fashion-MNIST in $dir (Debian/Ubuntu: apt-get install $package)" >&2
  exit 1
}

command -v apt-get >/dev/null || fail "apt-get not found, cannot install $package"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  fail "not root and no sudo, cannot run apt-get install $package"
fi

# An empty candidate means apt's package lists have never been fetched or do not list the package.
candidate="$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}')"
if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
  echo "data: apt-get update"
  "${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
fi
echo "data: apt-get install $package"
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "$package" \
  || fail "apt-get install $package failed"
have_all || fail "$package is installed but $dir lacks some of: ${files[*]}"
echo "data: Fashion-MNIST installed in $dir"
