#!/usr/bin/env bash
# Measures the regression gate on this machine (docs/statistics.md quotes its output):
# A/A (the same commit on both sides), A/B with about 10 % and about 5 % less throughput,
# interleaved so that whatever the machine does hits all three alike. Each trial is one CI-preset
# `cargo xtask compare --quick` against HEAD; the builds are warm after the first.
# The slowdown knob stretches the stages' work, about 80 % of the CPU per message here, so
# `--inject-slowdown 13` and `6.5` are what take about 10 % and 5 % off the throughput; the
# summary's change column shows what each trial actually saw.
# Usage: benches/gate_trials.sh [TRIALS] [OUT_DIR]   (default 20 trials; about 2 min each)
set -euo pipefail
trials="${1:-20}"
out="${2:-target/perfgate/gate-trials}"
mkdir -p "$out"
summary="$out/summary.tsv"
printf 'kind\ttrial\tseconds\tgate\tcpu_per_msg_verdict\tcpu_per_msg_change_pct\tci_low_pct\tci_high_pct\tthroughput_verdict\tthroughput_change_pct\tregressed\timproved\n' > "$summary"
trial() {
  local kind="$1" i="$2"; shift 2
  local json="$out/$kind-$i.json" start end
  start=$(date +%s.%N)
  cargo xtask compare --base HEAD --quick --json "$json" "$@" > "$out/$kind-$i.log" 2>&1 || true
  end=$(date +%s.%N)
  # Every round's figures, for a post-mortem of any surprising verdict.
  cp target/perfgate/compare/samples.json "$out/$kind-$i.samples.json" 2>/dev/null || true
  python3 - "$json" "$kind" "$i" "$start" "$end" >> "$summary" <<'PY'
import json, sys
path, kind, i, start, end = sys.argv[1:]
try:
    v = json.load(open(path))
    by_id = {m["id"]: m for m in v["metrics"]}
    c, t = by_id["cpu.cpu_ns_per_message"], by_id["cpu.messages_per_second"]
    pct = lambda r: "" if r is None else f"{(r - 1) * 100:.2f}"
    ids = lambda verdict: ",".join(x["id"] for x in v["metrics"] if x["verdict"] == verdict) or "-"
    print(f'{kind}\t{i}\t{float(end) - float(start):.0f}\t{v["overall"]}\t{c["verdict"]}\t{pct(c["ratio"])}\t{pct(c["ci_low"])}\t{pct(c["ci_high"])}\t{t["verdict"]}\t{pct(t["ratio"])}\t{ids("regressed")}\t{ids("improved")}')
except Exception as error:  # a failed trial is a row too
    print(f"{kind}\t{i}\t{float(end) - float(start):.0f}\terror\t{error}\t\t\t")
PY
  tail -1 "$summary"
}
for i in $(seq 1 "$trials"); do
  trial aa "$i"
  trial ab10 "$i" --candidate-args "--inject-slowdown 13"
  if (( i % 5 == 1 )); then trial ab5 "$i" --candidate-args "--inject-slowdown 6.5"; fi
done
echo "summary: $summary"
