#!/usr/bin/env bash
# Redaction quality, printed per type: `warden redact --jsonl` over the development
# corpus (bench/pii/devcorpus.py, this repository's own templates) and over the
# shared synthetic corpus (../shared/bench/pii/gen_corpus.py), both scored by the
# shared scorer (../shared/bench/pii/score.py: exact and overlapping spans, and the
# leak rate, the share of personal-data characters left unredacted).
#
# usage: bench/pii/score.sh [DOCS]      env: WARDEN_SHARED (default ../shared),
#   PYTHON (a python with `faker`; default: the repository's .venv, made if missing),
#   THRESHOLD (low, medium or high: the least confidence redacted; default medium)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${WARDEN_SHARED:-$repo/../shared}"
docs="${1:-3000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${PYTHON:-$repo/.venv/bin/python}"
if ! "$python" -c "import faker" 2>/dev/null; then
  python3 -m venv "$repo/.venv" && "$repo/.venv/bin/pip" install -q --disable-pip-version-check "faker>=30"
  python="$repo/.venv/bin/python"
fi
[ -f "$shared/bench/pii/score.py" ] || { echo "the shared scorer is not at $shared/bench/pii/score.py (set WARDEN_SHARED)" >&2; exit 2; }
(cd "$repo" && cargo build --release -q -p warden)
warden="$repo/target/release/warden"

"$python" "$repo/bench/pii/devcorpus.py" --out "$work/dev.jsonl" --docs "$docs" 2>/dev/null
"$python" "$shared/bench/pii/gen_corpus.py" --out "$work/shared.jsonl" 2>/dev/null
for corpus in dev shared; do
  "$warden" redact --jsonl "$work/$corpus.jsonl" --threshold "${THRESHOLD:-medium}" --out "$work/$corpus.pred.jsonl"
  echo "## $corpus corpus ($(wc -l < "$work/$corpus.jsonl") documents)"
  "$python" "$shared/bench/pii/score.py" --gold "$work/$corpus.jsonl" --pred "$work/$corpus.pred.jsonl"
  echo
done
