#!/bin/bash
# Builds what the power-cut test boots: a Debian cloud kernel and an initramfs holding
# busybox, the virtio block and network drivers, the dfs binary under test with its shared
# libraries, and an /init that mounts the virtual disk (ext4) and runs dfs on it.
#
#   build_image.sh CACHE_DIR DFS_BINARY     prints "KERNEL INITRD" on its last line
#
# Installs what it needs from Debian (qemu-system-x86, busybox-static, e2fsprogs, cpio) and
# downloads the kernel package once into CACHE_DIR (extracted, never installed).
set -euo pipefail
CACHE=$1
DFS=$2
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"
flock 9

need=()
command -v qemu-system-x86_64 > /dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && dpkg -s busybox-static > /dev/null 2>&1 || need+=(busybox-static)
command -v mkfs.ext4 > /dev/null || need+=(e2fsprogs)
command -v cpio > /dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null 2>&1 ||
    { apt-get update -q > /dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null; }
fi

# The kernel: the package linux-image-cloud-amd64 depends on today. ext4 is built in; the
# virtio drivers are modules, loaded by /init in this order (each after what it uses).
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net"
if [ ! -f "$CACHE/kernel/vmlinuz" ]; then
  pkg=$(apt-cache depends --important linux-image-cloud-amd64 2> /dev/null |
    awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$pkg" ]; then
    apt-get update -q > /dev/null
    pkg=$(apt-cache depends --important linux-image-cloud-amd64 |
      awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  fi
  tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
  (cd "$tmp" && apt-get download -q "$pkg" > /dev/null)
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  ver=$(ls "$tmp/x/lib/modules" | head -n1)
  rm -rf "$CACHE/kernel.new" && mkdir -p "$CACHE/kernel.new/modules"
  for m in $MODULES; do
    f=$(find "$tmp/x/lib/modules/$ver" -name "$m.ko*" | head -n1)
    [ -n "$f" ] || { echo "build_image: module $m not in $pkg" >&2; exit 1; }
    case "$f" in
      *.ko) cp "$f" "$CACHE/kernel.new/modules/$m.ko" ;;
      *.xz) xz -dc "$f" > "$CACHE/kernel.new/modules/$m.ko" ;;
      *.zst) zstd -qdc "$f" > "$CACHE/kernel.new/modules/$m.ko" ;;
    esac
  done
  cp "$tmp/x/boot/vmlinuz-$ver" "$CACHE/kernel.new/vmlinuz"
  rm -rf "$tmp" "$CACHE/kernel"
  mv "$CACHE/kernel.new" "$CACHE/kernel"
fi

# The initramfs, rebuilt when dfs, /init or this script changes.
stamp=$( (sha256sum < "$DFS"; sha256sum < "$HERE/guest_init.sh"; sha256sum < "$0") | sha256sum | cut -c1-16)
INITRD=$CACHE/initrd-$stamp.cpio.gz
if [ ! -f "$INITRD" ]; then
  rm -f "$CACHE"/initrd-*.cpio.gz
  root=$(mktemp -d "$CACHE/tmp.XXXXXX")
  mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,data,lib/modules}
  cp /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
  done
  cp "$CACHE/kernel/modules/"*.ko "$root/lib/modules/"
  echo "$MODULES" > "$root/etc/modules"
  cp "$HERE/guest_init.sh" "$root/init"
  chmod 755 "$root/init"
  cp "$DFS" "$root/bin/dfs"
  # The shared libraries dfs loads, at the paths the dynamic loader looks in.
  ldd "$DFS" | awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0 | gzip -1) > "$INITRD.new"
  mv "$INITRD.new" "$INITRD"
  rm -rf "$root"
fi
echo "$CACHE/kernel/vmlinuz $INITRD"
