#!/usr/bin/env bash
# Gateway benchmark, in one run on loopback (inside the shared bench's loopback-only
# network namespace): the shared mock upstream called directly, Warden in front of it
# (class personal_data: redaction and audit on; answers do not wait for their record,
# durable, the default: each answer waits for its audit record; then again with
# wait_for_audit = false, records following within one group commit), and LiteLLM proxy in front of it, with
# wrk at concurrency 1, 16 and 64. Prints requests/s, p50/p99 and the ratios.
#
# usage: bench/gateway.sh [DURATION_S]     env: WARDEN_SHARED (default ../shared), CONCS, PEERS=0 (no LiteLLM),
#   REPEAT (default 1): run the direct and Warden rows that many times, alternating, and
#   print the median of each figure (this machine's loopback timings are noisy)
# Installs the peers on first use (../shared/bench/setup_peers.sh: LiteLLM, wrk).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${WARDEN_SHARED:-$repo/../shared}"
bench="$shared/bench"
dur="${1:-10}"
read -r -a concs <<< "${CONCS:-1 16 64}"
export WARDEN_PEERS="${WARDEN_PEERS:-$HOME/.cache/warden-peers}"
work="$(mktemp -d)"
results="$work/results.txt"

# PEERS=0 skips the peer systems (LiteLLM): the direct and Warden rows only.
if [ "${PEERS:-1}" = 0 ]; then
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
else
  [ -x "$WARDEN_PEERS/venv/bin/litellm" ] && command -v wrk >/dev/null || bash "$bench/setup_peers.sh" >/dev/null
fi
mock="$(bash "$bench/mock_upstream/build.sh")"
(cd "$repo" && cargo build --release -q -p warden)
warden="$repo/target/release/warden"

source "$bench/netns.sh"
source "$repo/bench/lib.sh"
ns_start
cleanup() {
  for p in "$work"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
  ns_stop
}
trap cleanup EXIT

ns_bg "$work/mock.log" "$work/mock.pid" "$mock" --addr 127.0.0.1:18080
cat > "$work/warden.toml" <<TOML
[[gateway.providers]]
name = "mock-upstream"
base_url = "http://127.0.0.1:18080/v1"
region = "eu-west"
external = true
models = ["mock-model", "mock-echo", "mock-embed"]
TOML
boot="bench-bootstrap-token-0123456789abcdef"
# (WARDEN_PEERS belongs to the bench scripts; the server refuses unknown WARDEN_* variables.)
ns_bg "$work/warden.log" "$work/warden.pid" env -u WARDEN_PEERS -u WARDEN_SHARED WARDEN_BOOTSTRAP_TOKEN="$boot" WARDEN_LOG=warn \
  "$warden" serve --listen 127.0.0.1:18470 --data-dir "$work/data" --config "$work/warden.toml"
for _ in $(seq 1 100); do ns_exec curl -sf -o /dev/null 127.0.0.1:18470/readyz && break; sleep 0.1; done

# An administrator with TOTP, a project, a service and its personal_data gateway key.
cli() { ns_exec env -u WARDEN_PEERS -u WARDEN_SHARED WARDEN_CONFIG_DIR="$work/cli" "$warden" "$@"; }
key="$(warden_gateway_key http://127.0.0.1:18470 "$boot" bench)"
# The request carries personal data; check that it leaves masked.
ns_exec curl -s 127.0.0.1:18470/v1/chat/completions -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"mock-echo","messages":[{"role":"user","content":"Customer Maria Garcia (maria.garcia@example.com, SSN 536-22-8174)"}]}' \
  > "$work/check.json"
echo "warden check (answer restored from placeholders): $(cat "$work/check.json" | head -c 300)"

export RESULTS="$results"
# wrk at each concurrency against Warden, with the server's CPU time per call (user +
# system, all threads) beside each row: the figure to drive down.
# usage: warden_rows LABEL PIDFILE
warden_rows() {
  local label="$1" pid c c0 c1 n
  pid="$(cat "$2")"
  for c in "${concs[@]}"; do
    c0=$("$bench/cpu_of.sh" "$pid")
    WRK_MODEL=mock-model WRK_KEY="$key" ns_exec "$bench/gateway/run_wrk.sh" http://127.0.0.1:18470 chat "$label" "$dur" "$c" >/dev/null
    c1=$("$bench/cpu_of.sh" "$pid")
    n=$(grep "^SUMMARY label=${label}_chat_c${c} " "$results" | tail -1 | grep -o 'requests=[0-9]*' | cut -d= -f2)
    echo "CPU label=${label}_chat_c${c} us_per_req=$(python3 -c "print(round(1e6 * ($c1 - $c0) / max(${n:-0}, 1), 1))")" >> "$results"
  done
}
for r in $(seq 1 "${REPEAT:-1}"); do
  WRK_MODEL=mock-model ns_exec "$bench/gateway/run_wrk.sh" http://127.0.0.1:18080 chat "direct$r" "$dur" "${concs[@]}" >/dev/null
  warden_rows "warden$r" "$work/warden.pid"
done
# The same with answers not waiting for their audit record (wait_for_audit = false).
kill "$(cat "$work/warden.pid")"; sleep 1
printf '[gateway]\nwait_for_audit = false\n\n' | cat - "$work/warden.toml" > "$work/warden-async.toml"
ns_bg "$work/warden2.log" "$work/warden2.pid" env -u WARDEN_PEERS -u WARDEN_SHARED WARDEN_LOG=warn \
  "$warden" serve --listen 127.0.0.1:18470 --data-dir "$work/data" --config "$work/warden-async.toml"
for _ in $(seq 1 100); do ns_exec curl -sf -o /dev/null 127.0.0.1:18470/readyz && break; sleep 0.1; done
warden_rows wardenwait "$work/warden2.pid"
if [ "${PEERS:-1}" != 0 ]; then
  bash "$bench/gateway/bench_litellm.sh" plain 1 chat "$dur" "${concs[@]}" >/dev/null 2>&1 || echo "LiteLLM run failed"
fi

# The floor of a durable answer: one fsync per group commit. Measured here, on the disk
# that holds the server's data, as SQLite's write-ahead log meets it: a small append
# then fdatasync, 2,000 times.
python3 - "$work/data/fsync-floor.bin" >> "$results" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
lat = []
for _ in range(2000):
    t = time.perf_counter()
    os.write(fd, b"x" * 4096)
    os.fdatasync(fd)
    lat.append((time.perf_counter() - t) * 1000)
os.close(fd)
os.unlink(sys.argv[1])
lat.sort()
print("FSYNC p50_ms=%.3f p99_ms=%.3f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)]))
PY

python3 - "$results" "${concs[@]}" <<'PY'
import re, sys
import statistics
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"SUMMARY label=(\S+) .*rps=([\d.]+) p50_ms=([\d.]+) p90_ms=[\d.]+ p99_ms=([\d.]+)", line)
    if m:
        # direct2_chat_c1 -> direct_chat_c1: repeated runs of one row.
        label = re.sub(r"^(direct|warden)\d+_", r"\1_", m.group(1))
        runs.setdefault(label, []).append(tuple(float(x) for x in m.group(2, 3, 4)))
# Each figure's median over the repeats.
rows = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in runs.items()}
cpus = {}
for line in open(sys.argv[1]):
    m = re.match(r"CPU label=(\S+) us_per_req=([\d.]+)", line)
    if m:
        cpus.setdefault(re.sub(r"^(warden)\d+_", r"\1_", m.group(1)), []).append(float(m.group(2)))
cpu = {k: statistics.median(v) for k, v in cpus.items()}
floor = None
for line in open(sys.argv[1]):
    m = re.match(r"FSYNC p50_ms=([\d.]+) p99_ms=([\d.]+)", line)
    if m:
        floor = (float(m.group(1)), float(m.group(2)))
print("runs per row: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(runs.items())))
if floor:
    print("fsync floor (4 KiB append + fdatasync, same disk): p50 %.3f ms, p99 %.3f ms" % floor)
print("%-6s %-32s %10s %9s %9s %14s" % ("conc", "system", "req/s", "p50 ms", "p99 ms", "cpu us/call"))
for c in sys.argv[2:]:
    d = rows.get(f"direct_chat_c{c}"); w = rows.get(f"warden_chat_c{c}"); l = rows.get(f"litellm_plain_w1_chat_c{c}")
    a = rows.get(f"wardenwait_chat_c{c}")
    for key, name, r in ((f"direct_chat_c{c}", "mock upstream, direct", d),
                         (f"warden_chat_c{c}", "warden (redact+audit, durable)", w),
                         (f"wardenwait_chat_c{c}", "warden, audit not awaited", a),
                         (f"litellm_plain_w1_chat_c{c}", "litellm proxy, 1 worker", l)):
        if r:
            used = "%14.1f" % cpu[key] if key in cpu else "%14s" % "-"
            print("%-6s %-32s %10.0f %9.3f %9.3f %s" % (c, name, *r, used))
    if d and w:
        print("%-6s warden added p50 %.3f ms, p99 %.3f ms; throughput %.2fx of direct" % (c, w[1] - d[1], w[2] - d[2], w[0] / d[0]))
    if d and a:
        print("%-6s warden (audit not awaited) added p50 %.3f ms, p99 %.3f ms" % (c, a[1] - d[1], a[2] - d[2]))
    if w and a:
        # What waiting for the record costs, against one fsync: the goal is p99 within
        # 1.5 ms (c=1) and 5 ms (c=16) over the mock, and c=64 within 10% of not waiting.
        line = "%-6s durable vs not awaited: throughput %.2fx, p99 +%.3f ms" % (c, w[0] / a[0], w[2] - a[2])
        if floor:
            line += " (%.1f fsync p99s)" % ((w[2] - a[2]) / floor[1] if floor[1] > 0 else 0)
        print(line)
    if w and l:
        print("%-6s warden / litellm throughput: %.1fx" % (c, w[0] / l[0]))
PY
