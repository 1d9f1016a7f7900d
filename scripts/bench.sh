#!/usr/bin/env bash
# Builds sluice-bench against Jox 1.1.1 and runs Sluice's benchmarks side by side with their peers, then prints
# the ratios Sluice/peer. Results go to sluice-bench/results/ (git-ignored).
#
#   scripts/bench.sh [--quick|--full] [--no-build] [NAME ...] [-- JMH-OPTIONS ...]
#
# NAME: handoff, select, cancel, timer, pipeline, pipeline-io (JMH); footprint, lateness, pipeline-footprint,
# duel (Sluice's and Jox's channels in alternating rounds, HandoffDuel) (plain programs); go (Go's own channels
# and select on this machine, sluice-bench/go, for issue 2's "within 1.5x of Go"; installs golang-go from apt
# if there is no `go`; not part of all); schedule (issue 6:
# ScheduleBenchmark plus the schedulers' footprint and lateness; schedule-footprint and schedule-lateness alone);
# all (the default); or any other word, taken as a JMH benchmark regex. --quick: 1 fork, 3 warm-up and 5
# measured iterations of 1 s (good for a first look, not for the record). --full (the default): the iterations
# and forks written in each benchmark's annotations. Anything after -- goes to JMH as is (e.g. -- -prof gc, or
# -- -p capacity=16 -i 10, which also overrides --quick's own -f/-wi/-i/-w/-r).
#
# Jox 1.1.1's POM on Maven Central names a parent POM that Central lacks, so Maven cannot resolve it. Its jar has
# no runtime dependencies (only java.base), so this script downloads the jar from Central, checks it against the
# published SHA-1, installs it into the local repository with a generated POM (once), and builds with
# -Djox.version=1.1.1. The default build (./mvnw verify, CI) stays on Jox 1.0.1 and needs none of this.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/jdk.sh
. "$root/scripts/jdk.sh"
sluice_find_jdk
java=$JAVA_HOME/bin/java

JOX_VERSION=1.1.1
JOX_SHA1=b0beb888213c775a4c7b0771087751f94a3c4741
central=${MAVEN_CENTRAL_URL:-https://repo1.maven.org/maven2}

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0"; }

mode=full
build=1
names=()
jmh_extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; jmh_extra=("$@"); break ;;
    -*) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done
[ ${#names[@]} -gt 0 ] || names=(all)

regexes=()
run_footprint=0
run_lateness=0
run_pipeline_footprint=0
run_schedule_footprint=0
run_schedule_lateness=0
run_duel=0
run_go=0
for n in "${names[@]}"; do
  case $n in
    all) regexes+=(ChannelHandoffBenchmark SelectBenchmark ContextCancelBenchmark TimerBenchmark 'PipelineBenchmark\.' PipelineIoBenchmark ScheduleBenchmark)
      run_footprint=1; run_lateness=1; run_pipeline_footprint=1; run_schedule_footprint=1; run_schedule_lateness=1
      run_duel=1 ;;
    schedule | schedules | scheduler) regexes+=(ScheduleBenchmark); run_schedule_footprint=1; run_schedule_lateness=1 ;;
    schedule-footprint) run_schedule_footprint=1 ;;
    schedule-lateness) run_schedule_lateness=1 ;;
    pipeline | pipelines) regexes+=('PipelineBenchmark\.') ;;
    pipeline-io) regexes+=(PipelineIoBenchmark) ;;
    pipeline-footprint) run_pipeline_footprint=1 ;;
    handoff) regexes+=(ChannelHandoffBenchmark) ;;
    select) regexes+=(SelectBenchmark) ;;
    cancel) regexes+=(ContextCancelBenchmark) ;;
    timer | timers) regexes+=(TimerBenchmark) ;;
    footprint) run_footprint=1 ;;
    lateness) run_lateness=1 ;;
    duel) run_duel=1 ;;
    go) run_go=1 ;;
    *) regexes+=("$n") ;;
  esac
done

mvnw() { "$root/mvnw" "$@"; }

# Installs Jox $JOX_VERSION into the local Maven repository with a parent-less POM, unless already there.
install_jox() {
  local repo dir jar pom tmp actual
  repo=$(mvnw -q -N help:evaluate -Dexpression=settings.localRepository -DforceStdout)
  dir=$repo/com/softwaremill/jox/channels/$JOX_VERSION
  jar=$dir/channels-$JOX_VERSION.jar
  pom=$dir/channels-$JOX_VERSION.pom
  if [ -f "$jar" ] && [ -f "$pom" ] && ! grep -q '<parent>' "$pom" \
      && [ "$(sha1sum "$jar" | cut -d' ' -f1)" = "$JOX_SHA1" ]; then
    return 0
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "bench.sh: installing Jox $JOX_VERSION (jar from Maven Central, generated POM) into $repo" >&2
  curl -fsSL --retry 3 -o "$tmp/channels.jar" "$central/com/softwaremill/jox/channels/$JOX_VERSION/channels-$JOX_VERSION.jar"
  curl -fsSL --retry 3 -o "$tmp/channels.jar.sha1" "$central/com/softwaremill/jox/channels/$JOX_VERSION/channels-$JOX_VERSION.jar.sha1"
  actual=$(sha1sum "$tmp/channels.jar" | cut -d' ' -f1)
  if [ "$actual" != "$(cut -c1-40 "$tmp/channels.jar.sha1")" ] || [ "$actual" != "$JOX_SHA1" ]; then
    echo "bench.sh: checksum mismatch for channels-$JOX_VERSION.jar: got $actual, want $JOX_SHA1" >&2
    return 1
  fi
  mvnw -q -N install:install-file -Dfile="$tmp/channels.jar" -DgroupId=com.softwaremill.jox \
    -DartifactId=channels -Dversion="$JOX_VERSION" -Dpackaging=jar -DgeneratePom=true
}

jar=$root/sluice-bench/target/benchmarks.jar
if [ $build = 1 ]; then
  install_jox
  echo "bench.sh: building sluice-bench with Jox $JOX_VERSION" >&2
  mvnw -q -pl sluice-bench -am package -DskipTests -Djox.version="$JOX_VERSION"
fi
[ -f "$jar" ] || { echo "bench.sh: $jar is missing; run without --no-build" >&2; exit 1; }

results=$root/sluice-bench/results
mkdir -p "$results"
stamp=$(date +%Y%m%d-%H%M%S)-$mode
echo "bench.sh: JDK $("$java" -version 2>&1 | head -1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee "$results/$stamp-env.txt"
# Hand-offs between cores cost several times more in some minutes than in others on a shared virtual machine:
# say which state this run found (HostProbe's Javadoc).
"$java" -cp "$jar" io.sluice.bench.HostProbe | tee -a "$results/$stamp-env.txt"

if [ ${#regexes[@]} -gt 0 ]; then
  quick=()
  if [ $mode = quick ]; then # 1 fork, 3 warm-up and 5 measured iterations of 1 s, unless given after --
    set -- -f 1 -wi 3 -i 5 -w 1s -r 1s
    while [ $# -gt 0 ]; do
      case " ${jmh_extra[*]} " in
        *" $1 "*) ;;
        *) quick+=("$1" "$2") ;;
      esac
      shift 2
    done
  fi
  "$java" -cp "$jar" io.sluice.bench.BenchRunner "${regexes[@]}" "${quick[@]}" \
    -rf json -rff "$results/$stamp-jmh.json" "${jmh_extra[@]}" 2>&1 | tee "$results/$stamp-jmh.txt"
fi
if [ $run_duel = 1 ]; then
  "$java" -cp "$jar" io.sluice.bench.HandoffDuel 2>&1 | tee "$results/$stamp-duel.txt"
fi
if [ $run_go = 1 ]; then
  if ! command -v go >/dev/null; then
    echo "bench.sh: installing Go (apt-get install golang-go)" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
    fi
  fi
  (cd "$root/sluice-bench/go" && go run .) 2>&1 | tee "$results/$stamp-go.txt"
fi
if [ $run_footprint = 1 ]; then
  "$java" -XX:+UseSerialGC -Xms4g -Xmx4g -cp "$jar" io.sluice.bench.TimerFootprint 2>&1 \
    | tee "$results/$stamp-footprint.txt"
fi
if [ $run_lateness = 1 ]; then
  "$java" -Xmx2g -cp "$jar" io.sluice.bench.TimerLateness 2>&1 | tee "$results/$stamp-lateness.txt"
fi
if [ $run_schedule_footprint = 1 ]; then
  "$java" -XX:+UseSerialGC -Xms4g -Xmx4g -cp "$jar" io.sluice.bench.TimerFootprint schedulers 2>&1 \
    | tee "$results/$stamp-schedule-footprint.txt"
fi
if [ $run_schedule_lateness = 1 ]; then
  "$java" -Xmx2g -cp "$jar" io.sluice.bench.TimerLateness schedulers 2>&1 | tee "$results/$stamp-schedule-lateness.txt"
fi
if [ $run_pipeline_footprint = 1 ]; then
  # 10, 100 and 300 million items through a 32 MB heap: what a run keeps alive stays flat as the input grows.
  "$java" -Xmx32m -XX:+UseSerialGC -cp "$jar" io.sluice.bench.PipelineFootprint 2>&1 \
    | tee "$results/$stamp-pipeline-footprint.txt"
fi
echo "bench.sh: results in $results/$stamp-*" >&2
