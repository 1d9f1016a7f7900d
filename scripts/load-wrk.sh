#!/usr/bin/env bash
# The ingest benchmark: wrk and './sluice load' against './sluice serve', 1 and 10 payloads per request.
#
#   scripts/load-wrk.sh [--duration 60s] [--durability always|never|interval:<ms>] [--connections 64]
#                       [--threads 2] [--payloads "1 10"] [--payload-bytes 100] [--port 18480]
#                       [--warmup 20s] [--sluice-warmup 5s, 15s with --rate] [--rate 0] [--no-sluice-load] [--no-wrk]
#                       [--serve-args "--object-sync none"]
#                       [--parts]
#
# Installs wrk from apt if it is missing (sudo only when not root), builds and starts the service on a temporary
# data directory with the filesystem store, and for each case first sends the same load with wrk for --warmup (default
# 20 s, not counted) and waits for its uploads: in a fresh service the JIT compilers take a quarter of the two cores
# for 20-30 s, and the ingest path alone measured 15k requests/s fresh against 23k warm. Then it runs wrk (closed
# loop, a Lua script POSTing unique JSON batches) for --duration, waits until every accepted payload is uploaded
# (GET /metrics: queue depth 0, nothing running or waiting to retry), then does the same with './sluice load
# --rate 0' (or --rate N: N requests/s offered open loop, each latency counted from its due time, so a service
# that cannot keep up shows in the percentiles and the errors). It prints requests/s, payloads/s, p50/p99 and the
# time the uploads needed after the run. Both generators share the cores with the service; wrk's latencies are
# closed-loop service times (wrk, unlike wrk2, does not correct for coordinated omission). --parts first measures
# the parts of the path with wrk, one payload per request: GET /health/live (HTTP alone), then POSTs whose payloads
# are due in 2030 ("runAt": HTTP, parsing and the durable journal, no upload), before the full runs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

serve_args=""
run_parts=0
parts_pid=""
duration=60s durability=always connections=64 threads=2 cases="1 10" payload_bytes=100 port=18480
run_wrk=1 run_sluice=1 sluice_warmup= warmup=20s rate=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --durability) durability=$2; shift 2 ;;
    --serve-args) serve_args=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --payloads) cases=$2; shift 2 ;;
    --payload-bytes) payload_bytes=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --sluice-warmup) sluice_warmup=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --no-sluice-load) run_sluice=0; shift ;;
    --no-wrk) run_wrk=0; shift ;;
    --parts) run_parts=1; shift ;;
    -h | --help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "load-wrk.sh: unknown option '$1'; try --help" >&2; exit 2 ;;
  esac
done
case "$duration" in *s) ;; *) echo "load-wrk.sh: --duration takes seconds, e.g. 60s" >&2; exit 2 ;; esac
# An open-loop generator in a fresh JVM falls behind its schedule while it compiles, and every late request carries
# that delay in its latency; 5 s did not cover it at 16,700 requests/s here (p99 0.6-1.0 s in its first seconds).
if [ -z "$sluice_warmup" ]; then
  if [ "$rate" != 0 ]; then sluice_warmup=15s; else sluice_warmup=5s; fi
fi
seconds=${duration%s}

if [ "$run_wrk" = 1 ] && ! command -v wrk >/dev/null; then
  echo "load-wrk.sh: installing wrk (apt-get install wrk)" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v curl >/dev/null || { echo "load-wrk.sh: needs curl" >&2; exit 2; }

"$root/sluice" --version >/dev/null # builds the service if needed

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-load.XXXXXX")
server_pid=
cleanup() {
  for pid in "$server_pid" "$parts_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  echo "load-wrk.sh: removing $work (one file per payload: this can take a while)" >&2
  rm -rf "$work"
}
# On ext4 without a journal (this machine), creating files for a minute or more after deleting many is ten
# times slower (the inode allocator skips recently deleted inodes one by one: measured 400 µs a file instead of
# 40 µs, for about two minutes after 100,000 files were deleted, up to five when the inode tables are dirty).
# A run after another's cleanup would measure that. So wait until a probe creates files at the normal speed.
wait_for_quiet_inodes() {
  local start=$SECONDS us
  while :; do
    us=$(python3 - "${TMPDIR:-/tmp}" <<'PY'
import os, sys, tempfile, time
d = tempfile.mkdtemp(prefix="sluice-load-probe.", dir=sys.argv[1])
t = time.perf_counter()
for i in range(300):
    with open(os.path.join(d, "%d.json" % i), "wb") as f:
        f.write(b"x" * 100)
t = time.perf_counter() - t
for i in range(300):
    os.unlink(os.path.join(d, "%d.json" % i))
os.rmdir(d)
print(int(t / 300 * 1e6))
PY
)
    if [ "$us" -lt 150 ]; then
      return
    fi
    if [ $((SECONDS - start)) -ge 600 ]; then
      echo "load-wrk.sh: file creation still takes $us µs a file after 10 minutes; measuring anyway" >&2
      return
    fi
    echo "load-wrk.sh: creating a file takes $us µs (recently deleted inodes); waiting for it to settle" >&2
    sleep 15
  done
}
wait_for_quiet_inodes
trap cleanup EXIT
url=http://127.0.0.1:$port

# shellcheck disable=SC2086 # --serve-args is split into flags on purpose
"$root/sluice" serve --port "$port" --data-dir "$work/data" --durability "$durability" $serve_args \
  >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  curl -fs "$url/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "load-wrk.sh: the service did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
curl -fs "$url/health/ready" >/dev/null || { echo "load-wrk.sh: the service is not ready after 60 s" >&2; exit 1; }

# A metric's value from /metrics (0 if absent).
metric() { curl -fs "$url/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { printf "%d\n", v + 0 }'; }

# Waits until every accepted payload is uploaded; prints the seconds that took.
drain() {
  local start end
  start=$(date +%s.%N)
  while :; do
    if [ "$(metric sluice_queue_depth)" = 0 ] && [ "$(metric sluice_jobs_running)" = 0 ] \
        && [ "$(metric sluice_jobs_retry_wait)" = 0 ]; then
      break
    fi
    sleep 0.1
  done
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

cat >"$work/batch.lua" <<'LUA'
-- POSTs {"payloads": [...]} with PAYLOADS unique JSON objects of about PAYLOAD_BYTES bytes each.
local n = tonumber(os.getenv("PAYLOADS") or "1")
local size = tonumber(os.getenv("PAYLOAD_BYTES") or "100")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  pad = string.rep("x", math.max(0, size - 48))
  run_at = os.getenv("RUN_AT") and ('"runAt":"' .. os.getenv("RUN_AT") .. '",') or ""
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, n do
    parts[i] = string.format('{"t":%d,"seq":%d,"n":%d,"pad":"%s"}', tid, counter, i, pad)
  end
  return wrk.format("POST", "/v1/payloads", headers, '{' .. run_at .. '"payloads":[' .. table.concat(parts, ",") .. ']}')
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
LUA

results=()
if [ "$run_parts" = 1 ]; then
  # A service of its own: payloads due in 2030 stay queued, and the full runs below must start from an empty queue.
  echo "== parts: GET /health/live, then POSTs of payloads due in 2030 (no upload), on a second service" >&2
  parts_url=http://127.0.0.1:$((port + 1))
  # shellcheck disable=SC2086
  "$root/sluice" serve --port $((port + 1)) --data-dir "$work/parts" --durability "$durability" \
    --queue-capacity 100000000 $serve_args >"$work/parts.log" 2>&1 &
  parts_pid=$!
  for _ in $(seq 1 600); do curl -fs "$parts_url/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  if [ "${warmup%s}" != 0 ]; then
    PAYLOADS=1 RUN_AT=2030-01-01T00:00:00Z PAYLOAD_BYTES=$payload_bytes wrk -t "$threads" -c "$connections" \
      -d "$warmup" -s "$work/batch.lua" "$parts_url" >"$work/wrk-warmup-parts.txt"
  fi
  line=$(wrk -t "$threads" -c "$connections" -d "$duration" --latency "$parts_url/health/live" \
    | tee "$work/wrk-live.txt" | awk '/Requests\/sec/ { r = $2 } / 99%/ { p = $2 } END { print r, p }')
  results+=("$(printf "%-12s %4s %12s %12s %10s %10s %8s %8s" "wrk-live" - "${line% *}" - - "${line#* }" - -)")
  PAYLOADS=1 RUN_AT=2030-01-01T00:00:00Z PAYLOAD_BYTES=$payload_bytes wrk -t "$threads" -c "$connections" \
    -d "$duration" --latency -s "$work/batch.lua" "$parts_url" >"$work/wrk-later.txt"
  kill "$parts_pid" 2>/dev/null; wait "$parts_pid" 2>/dev/null || true
  eval "$(grep '^RESULT' "$work/wrk-later.txt" | sed 's/^RESULT //')"
  results+=("$(awk -v r="$requests" -v d="$duration_us" -v e="$non2xx" -v p50="$p50_us" -v p99="$p99_us" 'BEGIN {
    printf "%-12s %4d %12.0f %12.0f %10.2f %10.2f %8d %8s", "wrk-runAt", 1, r / (d / 1e6), (r - e) / (d / 1e6),
      p50 / 1000, p99 / 1000, e, "-" }')")
fi
echo "load-wrk.sh: durability $durability, $duration per run, $connections connections, payloads of $payload_bytes bytes;" \
  "service log in $work/serve.log; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for n in $cases; do
  if [ "${warmup%s}" != 0 ]; then # for either generator's run
    echo "== wrk: $n payload(s) per request, $warmup of warm-up (not counted), then its uploads" >&2
    PAYLOADS=$n PAYLOAD_BYTES=$payload_bytes wrk -t "$threads" -c "$connections" -d "$warmup" \
      -s "$work/batch.lua" "$url" >"$work/wrk-warmup-$n.txt"
    echo "   warm-up uploads finished $(drain) s after it" >&2
  fi
  if [ "$run_wrk" = 1 ]; then
    echo "== wrk: $n payload(s) per request" >&2
    before=$(metric sluice_payloads_accepted_total)
    PAYLOADS=$n PAYLOAD_BYTES=$payload_bytes wrk -t "$threads" -c "$connections" -d "$duration" --latency \
      -s "$work/batch.lua" "$url" | tee "$work/wrk-$n.txt" >&2
    upload=$(drain)
    accepted=$(($(metric sluice_payloads_accepted_total) - before))
    line=$(grep '^RESULT' "$work/wrk-$n.txt")
    # shellcheck disable=SC2086
    eval "${line#RESULT }"
    results+=("$(awk -v tool=wrk -v n="$n" -v r="$requests" -v d="$duration_us" -v e="$non2xx" -v s="$socket_errors" \
      -v p50="$p50_us" -v p99="$p99_us" -v acc="$accepted" -v up="$upload" 'BEGIN {
        printf "%-12s %4d %12.0f %12.0f %10.2f %10.2f %8d %8s", tool, n, r / (d / 1e6), acc / (d / 1e6),
          p50 / 1000, p99 / 1000, e + s, up }')")
  fi
  if [ "$run_sluice" = 1 ]; then
    echo "== ./sluice load: $n payload(s) per request, rate $rate (0: as fast as it goes)" >&2
    before=$(metric sluice_payloads_accepted_total)
    "$root/sluice" load --url "$url" --rate "$rate" --connections "$connections" --payloads-per-request "$n" \
      --payload-bytes "$payload_bytes" --duration "$duration" --warmup "$sluice_warmup" --progress lines --max-error-rate 100 --json \
      >"$work/sluice-$n.json"
    upload=$(drain)
    accepted=$(($(metric sluice_payloads_accepted_total) - before))
    results+=("$(python3 - "$work/sluice-$n.json" "$n" "$accepted" "$upload" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
n, accepted, upload = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# The service's count includes the warmup; the summary's own payloads (202s x n) leave it out.
expected = (s["payloads"] + s["warmupRequests"] * n) if s["failed"] == 0 else None
note = "" if expected is None or expected == accepted else "  (service accepted %d, expected %d)" % (accepted, expected)
if s.get("warmupSkipped"):
    note += "  (%d warmup requests overdue at the start of the run, not sent)" % s["warmupSkipped"]
print("%-12s %4d %12.0f %12.0f %10.2f %10.2f %8d %8s%s" % ("sluice-load", n, s["requestsPerSecond"],
      s["payloadsPerSecond"], s["latencyMs"]["p50"], s["latencyMs"]["p99"], s["failed"], upload, note))
PY
)")
  fi
done

echo
echo "durability $durability${serve_args:+, serve $serve_args}, $duration per run, $connections connections, $(nproc) cores (generator and service share them)"
printf "%-12s %4s %12s %12s %10s %10s %8s %8s\n" generator p/req "requests/s" "payloads/s" "p50 ms" "p99 ms" errors "upload s"
printf "%s\n" "${results[@]}"
echo "payloads/s: wrk's are what the service accepted during the run (sluice_payloads_accepted_total), sluice load's"
echo "are its 202s x payloads per request after a $sluice_warmup warmup (checked against the service's count);"
echo "'upload s' is how long the uploads still needed after the run ended (the goal: at most 5 s)."
[ "$run_parts" = 0 ] || echo "wrk-live: GET /health/live (p99 only); wrk-runAt: POSTs of payloads due in 2030, journaled, not uploaded (their payloads/s: 2xx only)."
