#!/usr/bin/env bash
# Runs the ReliableStore benchmark suite and renders its report.
#
#   benchmarks/run.sh [quick|full|smoke] [dir]
#   benchmarks/run.sh ratios zookeeper [rounds] [nodes]
#   benchmarks/run.sh ratios shapes [rounds] [nodes]
#   benchmarks/run.sh ratios embedded [rounds] [dir]
#
#   quick  every operation and peer at the sizes the report needs, 1 fork, 1 s iterations
#          (under 10 minutes on 2 cores); then profiles each missed target with JFR
#   full   every parameter combination, 2 forks, longer iterations (about an hour)
#   smoke  one short iteration of every benchmark, in process (what the JUnit SmokeTest runs)
#   ratios the targets of issue 14 (zookeeper: on `nodes`, default 1,3, servers; about 8 minutes per
#          round and ensemble size; writes benchmarks/results/zookeeper-ratios.md) or of issue 15
#          (embedded: files in `dir`; about 3 minutes per round; writes
#          benchmarks/results/embedded-ratios.md), each the median over `rounds` (default 5)
#          alternating forks of both sides, with its spread. shapes: what a save's multi costs
#          ZooKeeper in today's layout and in others, against setData, and a saveBatch(100)'s
#          beside the engine's own 100-setData multi (default 1 server; about 5 minutes per round;
#          writes benchmarks/results/shapes-ratios.md).
#   dir    where file-backed benchmarks write (registry, SQLite, append log); default java.io.tmpdir.
#          Put it on the disk you want measured.
#
# Output (quick/full): benchmarks/results/REPORT.md, benchmarks/results/chart.svg,
# benchmarks/results/raw/<mode>.json (JMH JSON) and benchmarks/results/profiles/<target>.md.
# smoke writes to benchmarks/target/smoke-results/ so it never replaces a real report.
# Hand-written readings of missed targets' profiles live in benchmarks/results/notes/<target>.md.
set -euo pipefail

mode="${1:-quick}"
dir="${2:-}"
case "$mode" in
  quick|full|smoke|ratios) ;;
  *) echo "usage: $0 [quick|full|smoke] [dir] | $0 ratios zookeeper|shapes [rounds] [nodes] | $0 ratios embedded [rounds] [dir]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jar="$here/target/benchmarks.jar"

# build when the jar is missing or older than any main source or pom of the reactor
if [ ! -f "$jar" ] || [ -n "$(find "$root" -path "$root/*/target" -prune -o \( -path '*/src/main/*' -o -name pom.xml \) -newer "$jar" -print -quit)" ]; then
  echo "building benchmarks.jar ..."
  (cd "$root" && mvn -B ${MVN_OFFLINE--o} -q package -pl benchmarks -am -DskipTests)
fi

if [ "$mode" = ratios ]; then
  RS_COMMIT="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  export RS_COMMIT
  start=$(date +%s)
  suite="${2:-zookeeper}"
  case "$suite" in
    zookeeper) where="${4:-1,3}" ;;
    shapes) where="${4:-1}" ;;
    embedded) where="${4:-}" ;;
    *) echo "usage: $0 ratios zookeeper [rounds] [nodes] | $0 ratios shapes [rounds] [nodes] | $0 ratios embedded [rounds] [dir]" >&2; exit 2 ;;
  esac
  java -cp "$jar" dev.reliablestore.benchmarks.suite.AlternatingRatios "$suite" "${3:-5}" "$where" "$here/results/$suite-ratios.md"
  echo "run.sh ratios $suite took $(( $(date +%s) - start )) s; report: $here/results/$suite-ratios.md"
  exit 0
fi

if [ "$mode" = smoke ]; then
  out="$here/target/smoke-results"
else
  out="$here/results"
fi
json="$out/raw/$mode.json"
mkdir -p "$out/raw"
RS_COMMIT="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- . 2>/dev/null || RS_COMMIT="$RS_COMMIT (with uncommitted changes)"
export RS_COMMIT

start=$(date +%s)
java -cp "$jar" dev.reliablestore.benchmarks.suite.SuiteMain run "$mode" "$json" $dir
if [ "$mode" != smoke ]; then
  rm -rf "$out/profiles"
  java -cp "$jar" dev.reliablestore.benchmarks.suite.SuiteMain profile "$json" "$out/profiles" $dir
fi
java -cp "$jar" dev.reliablestore.benchmarks.report.ReportMain "$json" "$out"
echo "run.sh $mode took $(( $(date +%s) - start )) s; report: $out/REPORT.md"
