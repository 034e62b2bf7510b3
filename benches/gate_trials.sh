#!/usr/bin/env bash
# Measures the regression gate on this machine (docs/statistics.md quotes its output):
# A/A (the same commit on both sides), A/B with about 10 % and about 5 % less throughput,
# interleaved so that whatever the machine does hits all three alike. Each trial is one CI-preset
# `cargo xtask compare --quick` against HEAD; the builds are warm after the first.
# The slowdown knob stretches the stages' work, about 80 % of the CPU per message here, so
# `--inject-slowdown 13` and `6.5` are what take about 10 % and 5 % off the throughput; the
# summary's change column shows what each trial actually saw.
# Usage: benches/gate_trials.sh [TRIALS] [OUT_DIR] [timed|instructions]
#   timed (default): the CI preset as above; about 3 min a trial.
#   instructions: the instruction-count gate alone (`compare --instructions only`): A/A, and the
#   candidate doing 2 % and 1 % more CPU work, injected exactly in instructions
#   (`--inject-instructions N`, N from a count of the base's instructions per message first).
set -euo pipefail
trials="${1:-20}"
out="${2:-target/perfgate/gate-trials}"
mode="${3:-timed}"
mkdir -p "$out"
summary="$out/summary.tsv"
if [[ "$mode" == instructions ]]; then
  cargo xtask instructions --out "$out/base-count.json" > "$out/base-count.log" 2>&1
  per_message=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["instructions_per_message"])' "$out/base-count.json")
  n2=$(python3 -c "print(round(0.02 * $per_message))")
  n1=$(python3 -c "print(round(0.01 * $per_message))")
  echo "base: $per_message instructions per message; 2 % = $n2, 1 % = $n1"
  printf 'kind\ttrial\tseconds\tgate\tinstructions_verdict\tinstructions_change_pct\tinstructions_gate\tcycles_verdict\tcycles_change_pct\tcycles_gate\n' > "$summary"
  itrial() {
    local kind="$1" i="$2"; shift 2
    local json="$out/$kind-$i.json" start end
    start=$(date +%s.%N)
    cargo xtask compare --base HEAD --instructions only --json "$json" "$@" > "$out/$kind-$i.log" 2>&1 || true
    end=$(date +%s.%N)
    python3 - "$json" "$kind" "$i" "$start" "$end" >> "$summary" <<'PY'
import json, sys
path, kind, i, start, end = sys.argv[1:]
try:
    v = json.load(open(path))
    by_id = {m["id"]: m for m in v["metrics"]}
    i_, c = by_id["cpu.instructions_per_message"], by_id["cpu.estimated_cycles_per_message"]
    pct = lambda m: "" if m["change_pct"] is None else f'{m["change_pct"]:.3f}'
    print(f'{kind}\t{i}\t{float(end) - float(start):.0f}\t{v["overall"]}\t{i_["verdict"]}\t{pct(i_)}\t{i_["gate"]}\t{c["verdict"]}\t{pct(c)}\t{c["gate"]}')
except Exception as error:  # a failed trial is a row too
    print(f"{kind}\t{i}\t{float(end) - float(start):.0f}\terror\t{error}")
PY
    tail -1 "$summary"
  }
  for i in $(seq 1 "$trials"); do
    itrial aa "$i"
    itrial ab2 "$i" --candidate-args "--inject-instructions $n2"
    itrial ab1 "$i" --candidate-args "--inject-instructions $n1"
  done
  echo "summary: $summary"
  exit 0
fi
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
