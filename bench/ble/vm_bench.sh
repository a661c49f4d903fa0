#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the BLE VM as /payload/run: uploads through real BlueZ on both sides with
# window 1 and 4, printing "BENCH <window> <smpdfu --json output>" lines.
P=/payload
export PATH=$P/bin:$PATH
set -- $(cat /run/ble-vm-adapters)
PA=$1; CA=$2
wait_line() {
  i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i+1)); [ $i -gt 600 ] && { echo "BENCH error no '$2' in $1"; tail /tmp/*.log; exit 1; }
    sleep 0.1
  done
}
bluetoothd -n -E >/tmp/bluetoothd.log 2>&1 &
for w in 1 4; do
  rm -f /tmp/flash.bin
  smpdfu-target -q --udp 127.0.0.1:1337 --flash /tmp/flash.bin --factory $P/app-v1.bin --slot-size 2M \
    --buf-size 384 --buf-count 4 >/tmp/target.out 2>/tmp/target.log &
  TGT=$!
  wait_line /tmp/target.out ready
  : >/tmp/periph.out
  smpdfu-ble-peripheral --adapter $PA --power $CA --device 127.0.0.1:1337 >/tmp/periph.out 2>>/tmp/periph.log &
  PER=$!
  wait_line /tmp/periph.out ready
  ADDR=$(btmgmt --index "${PA#hci}" info | sed -n 's/^\taddr \([0-9A-F:]*\) .*/\1/p' | head -1)
  echo "BENCH $w $(smpdfu --json --timeout 6 --conn "ble:$ADDR,adapter=$CA,timeout=60" image upload --window $w $P/app-big.bin 2>&1 | tr '\n' ' ')"
  kill $PER $TGT; wait $PER $TGT 2>/dev/null
done
exit 0
