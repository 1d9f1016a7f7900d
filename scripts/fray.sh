#!/usr/bin/env bash
# Runs the Fray tests (ChannelFrayTest: every interleaving Fray explores of send/receive/close/select on
# platform threads; TimerFrayTest: an afterFunc's lock-free stop racing a reset) on Fray's instrumented JDK.
# Fray's Maven plugin builds that JDK with
#   jlink --module-path=$JDK/jmods --add-modules=ALL-MODULE-PATH
# which needs a JDK that ships jmods/. Many JDK 25 builds (Temurin's among them) ship none and link from their
# own run-time image instead (JEP 493), where jlink refuses --module-path=jmods and the jdk.jlink module. For
# such a JDK this script hands Fray a stand-in JDK folder whose jlink drops the jmods path and names the
# image's modules (less jdk.jlink and jdk.jpackage) instead. Nothing is downloaded outside Maven Central.
#
#   scripts/fray.sh [extra Maven arguments]      (about 2 minutes; results in sluice-core/target)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/jdk.sh
. "$root/scripts/jdk.sh"
sluice_find_jdk

fray_jdk=$JAVA_HOME
if [ ! -d "$JAVA_HOME/jmods" ]; then
  fray_jdk=$root/sluice-core/target/fray-jdk-standin
  mkdir -p "$fray_jdk/bin"
  ln -sf "$JAVA_HOME/bin/java" "$fray_jdk/bin/java"
  modules=$("$JAVA_HOME/bin/java" --list-modules | sed 's/@.*//' | grep -vx -e jdk.jlink -e jdk.jpackage | paste -sd, -)
  cat > "$fray_jdk/bin/jlink" <<SHIM
#!/usr/bin/env bash
# Written by scripts/fray.sh: jlink for a JDK without jmods/ (JEP 493 run-time image linking).
args=()
for a in "\$@"; do
  case "\$a" in
    --module-path=*/jmods) ;;
    --add-modules=ALL-MODULE-PATH) args+=("--add-modules=$modules") ;;
    *) args+=("\$a") ;;
  esac
done
exec "$JAVA_HOME/bin/jlink" "\${args[@]}"
SHIM
  chmod +x "$fray_jdk/bin/jlink"
  echo "fray.sh: $JAVA_HOME has no jmods/; linking Fray's JDK from its run-time image" >&2
fi

cd "$root"
exec ./mvnw -B -Pfray -pl sluice-core verify -Dfray.jdk="$fray_jdk" -Dspotless.check.skip "$@"
