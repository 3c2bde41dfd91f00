#!/usr/bin/env bash
# Soak: Warden's memory and ledger under sustained load, measured in one run (a command,
# not a timed test). Three phases against a release build on 127.0.0.1, with the
# built-in mock provider (no upstream to install):
#   1. gateway soak: wrk at concurrency 16 on /v1/chat/completions with a personal_data
#      key (redaction and audit on) for DURATION seconds; RSS is sampled every INTERVAL s
#      and printed with the requests served so far and the growth per 100,000 requests
#      (flat means bounded; the first sample after warm-up is the baseline);
#   2. bogus-token flood: wrk -c32 for FLOOD seconds with `Bearer wdn_bogus_token`;
#      prints ledger entries added (and per second), database growth and RSS, next to the
#      configured ceiling (refusals_per_interval per refusal_interval_seconds, plus one
#      summary);
#   3. embeddings flood: 8 concurrent clients sending 100,000 inputs each (the
#      adversarial test's request), 10 times; prints RSS before, at peak and after.
#
# usage: bench/soak.sh [DURATION_S] [INTERVAL_S] [FLOOD_S]   (defaults 120 10 20)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dur="${1:-120}"; every="${2:-10}"; flood="${3:-20}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
(cd "$repo" && cargo build --release -q -p warden)
warden="$repo/target/release/warden"
work="$(mktemp -d)"; port=18471; url="http://127.0.0.1:$port"
boot="soak-bootstrap-token-0123456789abcdef"
cleanup() { [ -f "$work/warden.pid" ] && kill "$(cat "$work/warden.pid")" 2>/dev/null || true; }
trap cleanup EXIT

WARDEN_BOOTSTRAP_TOKEN="$boot" WARDEN_LOG=warn "$warden" serve --listen "127.0.0.1:$port" --data-dir "$work/data" \
  > "$work/warden.log" 2>&1 &
echo $! > "$work/warden.pid"; wpid="$(cat "$work/warden.pid")"
for _ in $(seq 1 100); do curl -sf -o /dev/null "$url/readyz" && break; sleep 0.1; done

rss() { awk '/^VmRSS:/{printf "%.1f", $2/1024}' "/proc/$wpid/status"; }
hwm() { awk '/^VmHWM:/{printf "%.1f", $2/1024}' "/proc/$wpid/status"; }
ledger() { curl -sf -H "authorization: Bearer $boot" "$url/api/v1/audit/checkpoint" | sed -n 2p; }
dbsize() { du -sk "$work/data/warden.db"* | awk '{s+=$1} END {printf "%.1f", s/1024}'; }

# An administrator with TOTP (its confirmation gives the session changes need), a
# project, a service and its personal_data gateway key.
cli() { WARDEN_CONFIG_DIR="$work/cli" "$warden" "$@"; }
source "$repo/bench/lib.sh"
key="$(warden_gateway_key "$url" "$boot" soak)"

cat > "$work/chat.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"model":"mock","messages":[{"role":"user","content":"Customer Maria Garcia (maria.garcia@example.com, SSN 536-22-8174) disputes a charge."}]}'
LUA

echo "== 1. gateway soak: ${dur}s at concurrency 16, RSS every ${every}s"
printf "%8s %12s %10s %22s\n" "t (s)" "requests" "RSS (MiB)" "MiB per 100k requests"
wrk -t2 -c16 -d"${dur}s" -s "$work/chat.lua" -H "authorization: Bearer $key" "$url/v1/chat/completions" \
  > "$work/wrk-soak.txt" 2>&1 &
wrk_pid=$!
start_ledger="$(ledger)"; base_rss=""; base_req=""
for t in $(seq "$every" "$every" "$dur"); do
  sleep "$every"
  n=$(( $(ledger) - start_ledger ))
  r="$(rss)"
  if [ -z "$base_rss" ]; then
    base_rss="$r"; base_req="$n"; per="(baseline)"
  else
    per="$(python3 -c "print('%.2f' % ((($r) - ($base_rss)) / max(1, $n - $base_req) * 100000))")"
  fi
  printf "%8s %12s %10s %22s\n" "$t" "$n" "$r" "$per"
done
wait "$wrk_pid" || true
grep -E "Requests/sec" "$work/wrk-soak.txt" || true

echo "== 2. bogus-token flood: ${flood}s at concurrency 32 on /api/v1/whoami"
before="$(ledger)"; db0="$(dbsize)"; rss0="$(rss)"
wrk -t2 -c32 -d"${flood}s" -H "authorization: Bearer wdn_bogus_token" "$url/api/v1/whoami" > "$work/wrk-flood.txt" 2>&1 || true
sleep 1
after="$(ledger)"
refused="$(awk '/requests in/{print $1}' "$work/wrk-flood.txt")"
echo "refused requests: $refused ($(grep -E 'Requests/sec' "$work/wrk-flood.txt" | awk '{print $2}')/s)"
echo "ledger entries added: $((after - before)) ($(python3 -c "print('%.1f' % (($after - $before) / $flood))")/s, reads of the checkpoint included; ceiling: refusals_per_interval (200) per refusal_interval_seconds (60) + 1 summary)"
echo "database: ${db0} -> $(dbsize) MiB; RSS: ${rss0} -> $(rss) MiB"

echo "== 3. embeddings flood: 8 clients x 10 requests of 100,000 inputs"
python3 -c 'import json; print(json.dumps({"model": "mock", "input": ["a"] * 100000}))' > "$work/emb.json"
rss_before="$(rss)"
clients=()
for c in $(seq 1 8); do
  ( for _ in $(seq 1 10); do
      curl -s -o /dev/null -w "%{http_code}\n" -H "authorization: Bearer $key" -H 'content-type: application/json' \
        --data-binary @"$work/emb.json" "$url/v1/embeddings"
    done ) > "$work/emb-$c.txt" &
  clients+=("$!")
done
peak="$rss_before"
running() { for p in "${clients[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do r="$(rss)"; peak="$(python3 -c "print(max($peak, $r))")"; sleep 0.05; done
wait "${clients[@]}"
echo "statuses: $(cat "$work"/emb-*.txt | sort | uniq -c | tr '\n' ' ')"
echo "RSS: before ${rss_before} MiB, peak ${peak} MiB, after $(rss) MiB (high-water mark $(hwm) MiB)"
