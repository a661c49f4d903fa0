#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the BLE VM (scripts/ble-vm run) as /payload/run: smpdfu over real BlueZ on both
# sides. The peripheral is smpdfu-target behind smpdfu-ble-peripheral (BlueZ's GATT server API)
# on one btvirt controller; the central is the smpdfu CLI on another. Prints one
# "RESULT <case> PASS|FAIL <detail>" line per case and "STATE <case> <image list --json>"; the
# host side (test_ble_vm.py) asserts on them. Waits are for lines in files, never for time.
P=/payload
export PATH=$P/bin:$PATH
set -- $(cat /run/ble-vm-adapters)
PA=$1 # peripheral
CA=$2 # central
T="--timeout 6"
echo "vm-test: peripheral $PA, central $CA"

# wait_line FILE TEXT: until FILE has a line with TEXT (bounded, for a broken run).
wait_line() {
  i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i+1))
    if [ $i -gt 600 ]; then
      echo "vm-test: no '$2' in $1"
      for f in /tmp/*.log /tmp/*.out; do echo "--- $f"; tail -15 "$f"; done
      echo "vm-test: done"; exit 1
    fi
    sleep 0.1
  done
}
result() { echo "RESULT $1 $2 $3"; }
state() { echo "STATE $1 $(smpdfu --conn "$CONN" $T image list --json 2>/tmp/state.err || cat /tmp/state.err)"; }

start_bluetoothd() {
  bluetoothd -n -E >/tmp/bluetoothd.log 2>&1 &
  BTD=$!
}
start_target() {
  smpdfu-target --udp 127.0.0.1:1337 --flash /tmp/flash.bin --factory $P/app-v1.bin --reset-delay-ms 0 \
    >/tmp/target.out 2>/tmp/target.log &
  TGT=$!
  wait_line /tmp/target.out ready
}
start_periph() {
  : >/tmp/periph.out
  smpdfu-ble-peripheral --adapter $PA --power $CA --device 127.0.0.1:1337 --name smpdfu-vm "$@" \
    >/tmp/periph.out 2>>/tmp/periph.log &
  PER=$!
  wait_line /tmp/periph.out ready
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

start_bluetoothd
echo "vm-test: starting the target"
start_target
echo "vm-test: starting the peripheral"
start_periph
ADDR=$(btmgmt --index "${PA#hci}" info | sed -n 's/^\taddr \([0-9A-F:]*\) .*/\1/p' | head -1)
echo "vm-test: peripheral address $ADDR, $(bluetoothd --version 2>/dev/null | sed 's/^/BlueZ /')"
CONN="ble:$ADDR,adapter=$CA,timeout=60"

# 1. scan: the peripheral advertises the SMP service.
out=$(SMPDFU_BLE_DEBUG=1 smpdfu ble scan --adapter $CA --count 1 --seconds 60 --json 2>/tmp/scan.err)
case "$out" in
  *"$ADDR"*) result scan PASS "$out" ;;
  *) result scan FAIL "$out $(sort -u /tmp/scan.err | head -5 | tr '\n' ' ')" ;;
esac

# 2. every device command over BLE (by address), with the link facts (-v).
ok=PASS; detail=""
for cmd in "os echo hello-ble" "os params" "os info" "os bootloader" "image slots" "image list"; do
  if ! o=$(smpdfu --conn "$CONN" $T -v $cmd 2>/tmp/cmd.err); then ok=FAIL; fi
  detail="$detail [$cmd: $(echo $o | head -c 120) $(grep '^ble:' /tmp/cmd.err)]"
done
result commands $ok "$detail"

# 3. the whole DFU by name: upload, list, test, reset (the link drops, smpdfu reconnects), confirm.
if smpdfu --conn "ble:smpdfu-vm,adapter=$CA,timeout=60" $T dfu $P/app-v2.bin >/tmp/dfu.out 2>/tmp/dfu.err; then
  result dfu PASS "$(tail -3 /tmp/dfu.out | tr '\n' ' ')"
else
  result dfu FAIL "$(tail -5 /tmp/dfu.err | tr '\n' ' ')"
fi
state dfu

# 4. the device disappears mid-upload: the link drops after 30 writes; smpdfu reconnects and resumes.
stop $PER
start_periph --drop-after-writes 30
if smpdfu --conn "$CONN" $T -v image upload $P/app-v3.bin >/tmp/up.out 2>/tmp/up.err \
   && grep -q 'dropping the link (--drop-after-writes)' /tmp/periph.log \
   && grep -q 'link re-established' /tmp/up.err; then
  result resume PASS "$(tail -1 /tmp/up.out) $(grep 'link re-established' /tmp/up.err)"
else
  result resume FAIL "$(tail -3 /tmp/up.err | tr '\n' ' ') $(tail -3 /tmp/periph.log | tr '\n' ' ')"
fi
state resume

# 5. a large image with several requests in flight.
stop $PER
start_periph
if smpdfu --conn "$CONN" $T image upload --window 4 $P/app-big.bin >/tmp/big.out 2>/tmp/big.err; then
  result large PASS "$(tail -1 /tmp/big.out)"
else
  result large FAIL "$(tail -3 /tmp/big.err | tr '\n' ' ')"
fi
state large

# 6. ATT MTU 23 (20-byte writes through BlueZ): state reads work, an upload is refused with a
# sentence, nothing sent. BlueZ 5.66 cannot negotiate 23 itself: ExchangeMTU below 48 in
# main.conf makes bluetoothd refuse every adapter (setsockopt(L2CAP_OPTIONS): EINVAL), so the
# central holds the link at 23 with ,mtu=23.
M23="ble:$ADDR,adapter=$CA,timeout=60,mtu=23"
smpdfu --conn "$M23" $T -v image list >/tmp/m23.list 2>/tmp/m23.lerr; lrc=$?
smpdfu --conn "$M23" $T image upload $P/app-v3.bin >/tmp/m23.out 2>/tmp/m23.err; urc=$?
if [ $lrc -eq 0 ] && [ $urc -eq 1 ] && grep -q 'ATT MTU is 23' /tmp/m23.err; then
  result mtu23 PASS "$(grep '^ble:' /tmp/m23.lerr) / $(cat /tmp/m23.err)"
else
  result mtu23 FAIL "list rc=$lrc upload rc=$urc $(cat /tmp/m23.lerr /tmp/m23.err | tr '\n' ' ')"
fi
state mtu23

stop $PER
stop $TGT
echo "vm-test: done"
exit 0
