# Sourced by ./mvnw, ./sluice and the scripts under scripts/: finds a JDK whose feature release is at least
# SLUICE_JDK_FEATURE (25) and exports JAVA_HOME to it.
#
# Order: $JAVA_HOME if it is new enough; the `java` on PATH; macOS's /usr/libexec/java_home; then the usual
# install places (Debian/Ubuntu /usr/lib/jvm, RHEL /usr/java, /opt, SDKMAN, IntelliJ's ~/.jdks, asdf,
# /Library/Java/JavaVirtualMachines). The first match wins, newest first
# within a place. Set JAVA_HOME yourself to choose a particular JDK.

SLUICE_JDK_FEATURE=${SLUICE_JDK_FEATURE:-25}

# Prints the feature release (17, 21, 25 ...) of the JDK at $1, or nothing when $1 holds no JDK.
sluice_jdk_feature() {
  local home=$1 v
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "${v:-}" ]; then
    v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  fi
  [ -n "${v:-}" ] && echo "$v"
}

sluice_jdk_ok() {
  local f
  f=$(sluice_jdk_feature "$1") || return 1
  [ -n "$f" ] && [ "$f" -ge "$SLUICE_JDK_FEATURE" ]
}

sluice_find_jdk() {
  local candidate too_old=
  if [ -n "${JAVA_HOME:-}" ] && sluice_jdk_ok "$JAVA_HOME"; then
    return 0
  fi
  [ -n "${JAVA_HOME:-}" ] && too_old=$JAVA_HOME
  if command -v java >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if sluice_jdk_ok "$candidate"; then
      export JAVA_HOME=$candidate
      [ -n "$too_old" ] && echo "note: JAVA_HOME=$too_old is older than JDK $SLUICE_JDK_FEATURE; using $candidate" >&2
      return 0
    fi
  fi
  # macOS keeps a registry of its JDKs; ask it first.
  if [ -x /usr/libexec/java_home ]; then
    candidate=$(/usr/libexec/java_home -v "$SLUICE_JDK_FEATURE+" 2>/dev/null || true)
    if [ -n "$candidate" ] && sluice_jdk_ok "$candidate"; then
      export JAVA_HOME=$candidate
      [ -n "$too_old" ] && echo "note: JAVA_HOME=$too_old is older than JDK $SLUICE_JDK_FEATURE; using $candidate" >&2
      return 0
    fi
  fi
  for candidate in $(ls -d /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
      "$HOME"/.jdks/* "$HOME"/.asdf/installs/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home 2>/dev/null \
      | sort -rV); do
    if sluice_jdk_ok "$candidate"; then
      export JAVA_HOME=$candidate
      [ -n "$too_old" ] && echo "note: JAVA_HOME=$too_old is older than JDK $SLUICE_JDK_FEATURE; using $candidate" >&2
      return 0
    fi
  done
  {
    echo "error: Sluice needs a JDK $SLUICE_JDK_FEATURE or newer and found none."
    [ -n "${JAVA_HOME:-}" ] && echo "  JAVA_HOME=$JAVA_HOME is JDK $(sluice_jdk_feature "$JAVA_HOME" || echo '?')."
    echo "  Looked at JAVA_HOME, the java on PATH, macOS's java_home, /usr/lib/jvm, /usr/java, /opt, ~/.sdkman, ~/.jdks,"
    echo "  ~/.asdf and /Library/Java/JavaVirtualMachines."
    echo "  Install one (e.g. 'apt-get install temurin-25-jdk' from Adoptium, or 'sdk install java 25-tem')"
    echo "  and/or point JAVA_HOME at it."
  } >&2
  return 1
}
