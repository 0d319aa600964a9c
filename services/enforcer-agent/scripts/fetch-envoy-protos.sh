#!/usr/bin/env bash
# Fetches Envoy's published API definitions (the .proto files of the Maven Central artifact
# io.envoyproxy.controlplane:api) through Maven, the way infra/ fetches the Kafka jars, and unpacks
# them under $LIVESCOPE_HOME (default ~/.cache/livescope)/envoy-api-<version>. Nothing is vendored.
# Prints the folder. Idempotent: a complete folder (stamp .complete) is kept.
set -euo pipefail
VERSION=${LIVESCOPE_ENVOY_API_VERSION:-1.0.49}
LS_HOME=${LIVESCOPE_HOME:-$HOME/.cache/livescope}
DEST=${1:-$LS_HOME/envoy-api-$VERSION}
M2_REPO=${LIVESCOPE_MAVEN_REPO:-$LS_HOME/m2}
PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
if [[ -f $DEST/.complete && -f $DEST/envoy/service/auth/v3/external_auth.proto ]]; then
  printf '%s\n' "$DEST"
  exit 0
fi
command -v mvn >/dev/null 2>&1 || { echo "livescope-enforcer: mvn (Apache Maven) is not on PATH; it downloads Envoy's API definitions from Maven Central (Debian: apt-get install maven)" >&2; exit 1; }
mkdir -p "$M2_REPO" "$LS_HOME/logs"
tmp="$DEST.tmp.$$"
# Maven run outside a project writes its unpack markers under ./${project.basedir}: run it in a
# scratch folder of its own, not in the caller's working directory (the repository).
work="$DEST.work.$$"
rm -rf "$tmp" "$work"
mkdir -p "$work"
trap 'rm -rf "$tmp" "$work"' EXIT
echo "livescope-enforcer: fetching io.envoyproxy.controlplane:api:$VERSION (Envoy's .proto files) from Maven Central" >&2
if ! (cd "$work" && timeout "${LIVESCOPE_FETCH_TIMEOUT_S:-600}" mvn -B -q -Dmaven.repo.local="$M2_REPO" "$PLUGIN:unpack" \
  -Dartifact="io.envoyproxy.controlplane:api:$VERSION:jar" -DoutputDirectory="$tmp" -Dmdep.unpack.includes='**/*.proto' \
  >>"$LS_HOME/logs/fetch.log" 2>&1); then
  tail -20 "$LS_HOME/logs/fetch.log" >&2
  echo "livescope-enforcer: downloading Envoy's API definitions failed; log: $LS_HOME/logs/fetch.log" >&2
  exit 1
fi
[[ -f $tmp/envoy/service/auth/v3/external_auth.proto ]] || { echo "livescope-enforcer: the artifact has no envoy/service/auth/v3/external_auth.proto" >&2; exit 1; }
rm -rf "$DEST"
mv "$tmp" "$DEST"
printf '%s\n' "$VERSION" >"$DEST/.complete"
printf '%s\n' "$DEST"
