#!/bin/sh
# /init of the power-cut test's VM (busybox): loads the virtio drivers, mounts the virtual
# disk at /data (ext4, made by the host), brings up the network the host forwards a port
# into, and runs dfs on the disk, logging to the console. The host ends the VM by killing
# QEMU: a power cut, with whatever sat in this kernel's page cache lost.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /etc/modules); do
  insmod "/lib/modules/$m.ko" || echo "powercut: insmod $m failed"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /data || { echo "powercut: cannot mount /dev/vda"; poweroff -f; }
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
cat > /etc/dfs.yaml <<CONF
listen: 0.0.0.0
port: 2049
data_dir: /data/dfs
rpcbind_register: false
password_cost: minimal
reactor_threads: 2
api: {enabled: false}
metrics: {enabled: false}
nfs: {grace_period: 0}
shares:
  - path: /export
    root_squash: false
CONF
echo "powercut: starting dfs"
export ASAN_OPTIONS=detect_leaks=0
/bin/dfs --config /etc/dfs.yaml
echo "powercut: dfs exited with $?"
poweroff -f
