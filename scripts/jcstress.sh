#!/usr/bin/env bash
# Runs the jcstress tests of the channel's races (module sluice-jcstress: close against trySend, trySend
# against tryReceive, close against close with an error) on JDK 25. jcstress forks its own JVMs and tries
# each race millions of times; it exits non-zero when an outcome marked FORBIDDEN was seen.
#
#   scripts/jcstress.sh [jcstress arguments]     (default -m quick: about 2 minutes on 2 cores;
#                                                 -m default for the thorough run; -h for the rest)
# The HTML report is written to sluice-jcstress/target/results/index.html.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/jdk.sh
. "$root/scripts/jdk.sh"
sluice_find_jdk

cd "$root"
./mvnw -B -q -Pjcstress -pl sluice-jcstress -am package -DskipTests -Dspotless.check.skip
cd sluice-jcstress/target
if [ $# -eq 0 ]; then
  set -- -m quick
fi
exec "$JAVA_HOME/bin/java" -jar jcstress.jar "$@"
