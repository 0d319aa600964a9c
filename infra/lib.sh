# shellcheck shell=bash
# Shared by start.sh, stop.sh, status.sh and ctl.sh: settings, logging, process and port helpers,
# and the start/stop logic of each service. Sourcing it defines things and starts nothing.
#
# Everything downloaded or written lives under $LIVESCOPE_HOME (default ~/.cache/livescope):
#   m2/                  Maven's local repository used for the downloads
#   kafka-<ver>/libs     Kafka's jars          apicurio-<ver>/   the unpacked registry
#   kafka-data/          the broker's log dirs  kafka-cluster-id  the id it was formatted with
#   kafka-secure-data/   the secured broker's log dirs (start.sh --secure)  kafka-secure-cluster-id
#   secure/              its CA, certificate, keys and one password file per user (all 0600 but ca.pem)
#   pg/                  a private PostgreSQL cluster (only when the machine has none running)
#   conf/ logs/ run/     generated configs, logs, pid files and stamps

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$INFRA_DIR")

LS_HOME=${LIVESCOPE_HOME:-$HOME/.cache/livescope}
[[ -n $LS_HOME && $LS_HOME != / ]] || { echo "livescope infra: error: LIVESCOPE_HOME='$LS_HOME' must be a folder of its own" >&2; exit 1; }
LOG_DIR=$LS_HOME/logs
RUN_DIR=$LS_HOME/run
CONF_DIR=$LS_HOME/conf
M2_REPO=${LIVESCOPE_MAVEN_REPO:-$LS_HOME/m2}
# Pinned so a download is reproducible; already in most Maven caches.
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
FETCH_TIMEOUT_S=${LIVESCOPE_FETCH_TIMEOUT_S:-1200}

QUIET=${QUIET:-0}

# ---------------------------------------------------------------------------------------------
# Output. Progress goes to stdout and is silenced by --quiet; problems always go to stderr.

say() { if [[ $QUIET != 1 ]]; then printf '%s\n' "$*"; fi; }
warn() { printf 'livescope infra: warning: %s\n' "$*" >&2; }
die() { printf 'livescope infra: error: %s\n' "$*" >&2; exit 1; }

# Milliseconds since the epoch, for the timings the scripts print.
now_ms() { date +%s%3N; }
since_s() { local t0=$1; awk -v d="$(($(now_ms) - t0))" 'BEGIN { printf "%.1f", d / 1000 }'; }

# Prints the last lines of a log, indented, to stderr: the context of a failure.
log_tail() {
  local file=$1 n=${2:-25}
  [[ -f $file ]] || return 0
  printf '  --- last %s lines of %s ---\n' "$n" "$file" >&2
  tail -n "$n" "$file" | sed 's/^/  | /' >&2
}

# ---------------------------------------------------------------------------------------------
# Settings: defaults from services.json (the one list shared with docker-compose.yml and its
# test), overridable by environment variables that are validated here, once.

command -v node >/dev/null 2>&1 || die "node is not on PATH: the infra scripts need Node.js 20+ (and 'npm install' at the repository root)"

# shellcheck disable=SC1090
source <(node - "$INFRA_DIR/services.json" <<'EOF'
const all = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const s = all.services;
const z = all.secured.kafka;
const q = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;
const out = [];
const set = (k, v) => out.push(`${k}=${q(v)}`);
const arr = (k, o) => out.push(`${k}=(${Object.entries(o).map(([n, v]) => q(`${n}=${v}`)).join(' ')})`);
set('DEFAULT_KAFKA_VERSION', s.kafka.version);
set('KAFKA_PORT', s.kafka.ports[0]);
set('KAFKA_CONTROLLER_PORT', s.kafka.internalPorts.controller);
set('LOG4J_VERSION', s.kafka.log4jVersion);
set('SLF4J_VERSION', s.kafka.slf4jVersion);
set('DEFAULT_KAFKA_HEAP', s.kafka.heap);
arr('KAFKA_BROKER_CONFIG', s.kafka.brokerConfig);
set('DEFAULT_APICURIO_VERSION', s.registry.version);
set('REGISTRY_PORT', s.registry.ports[0]);
set('REGISTRY_MGMT_PORT', s.registry.internalPorts.management);
set('REGISTRY_MIN_JAVA', s.registry.minJava);
set('DEFAULT_REGISTRY_HEAP', s.registry.heap);
set('REGISTRY_DB', s.registry.database);
arr('REGISTRY_CONFIG', s.registry.config);
set('SECURE_KAFKA_PORT', z.ports[0]);
set('SECURE_KAFKA_CONTROLLER_PORT', z.internalPorts.controller);
set('DEFAULT_SECURE_KAFKA_HEAP', z.heap);
set('SECURE_SUPER_USER', z.superUser);
set('SECURE_SCRAM_ITERATIONS', z.scramIterations);
set('SECURE_CA_DAYS', z.caValidityDays);
set('SECURE_CERT_DAYS', z.certValidityDays);
out.push(`SECURE_USERS=(${z.users.map(q).join(' ')})`);
arr('SECURE_KAFKA_BROKER_CONFIG', { ...s.kafka.brokerConfig, ...z.brokerConfig });
set('DEFAULT_PG_PORT', s.postgres.ports[0]);
set('PG_USER', s.postgres.user);
out.push(`PG_DATABASES=(${s.postgres.databases.map(q).join(' ')})`);
console.log(out.join('\n'));
EOF
)

KAFKA_VERSION=${LIVESCOPE_KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}
APICURIO_VERSION=${LIVESCOPE_APICURIO_VERSION:-$DEFAULT_APICURIO_VERSION}
KAFKA_HEAP=${LIVESCOPE_KAFKA_HEAP:-$DEFAULT_KAFKA_HEAP}
SECURE_KAFKA_HEAP=${LIVESCOPE_SECURE_KAFKA_HEAP:-$DEFAULT_SECURE_KAFKA_HEAP}
REGISTRY_HEAP=${LIVESCOPE_REGISTRY_HEAP:-$DEFAULT_REGISTRY_HEAP}
PG_PORT=${LIVESCOPE_PG_PORT:-$DEFAULT_PG_PORT}

[[ $KAFKA_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "LIVESCOPE_KAFKA_VERSION='$KAFKA_VERSION' is not a version like 4.1.1"
[[ ${KAFKA_VERSION%%.*} -ge 4 ]] || die "LIVESCOPE_KAFKA_VERSION='$KAFKA_VERSION': these scripts run Kafka 4.x or newer (KRaft only)"
[[ $APICURIO_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+(\.Final)?$ ]] || die "LIVESCOPE_APICURIO_VERSION='$APICURIO_VERSION' is not a version like 3.3.3"
[[ $KAFKA_HEAP =~ ^[0-9]+[mMgG]$ ]] || die "LIVESCOPE_KAFKA_HEAP='$KAFKA_HEAP' is not a heap size like 1g or 768m"
[[ $SECURE_KAFKA_HEAP =~ ^[0-9]+[mMgG]$ ]] || die "LIVESCOPE_SECURE_KAFKA_HEAP='$SECURE_KAFKA_HEAP' is not a heap size like 768m"
[[ $REGISTRY_HEAP =~ ^[0-9]+[mMgG]$ ]] || die "LIVESCOPE_REGISTRY_HEAP='$REGISTRY_HEAP' is not a heap size like 512m"
if ! [[ $PG_PORT =~ ^[0-9]+$ ]] || ((PG_PORT < 1 || PG_PORT > 65535)); then die "LIVESCOPE_PG_PORT='$PG_PORT' is not a TCP port"; fi
[[ $FETCH_TIMEOUT_S =~ ^[0-9]+$ ]] || die "LIVESCOPE_FETCH_TIMEOUT_S='$FETCH_TIMEOUT_S' is not a number of seconds"

KAFKA_DIR=$LS_HOME/kafka-$KAFKA_VERSION
KAFKA_DATA=$LS_HOME/kafka-data
KAFKA_CLUSTER_ID_FILE=$LS_HOME/kafka-cluster-id
# shellcheck disable=SC2153 # KAFKA_PORT and friends come from services.json above.
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
APICURIO_DIR=$LS_HOME/apicurio-$APICURIO_VERSION
REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7
PG_PRIVATE_DIR=$LS_HOME/pg
PG_URL=${LIVESCOPE_PG_URL:-postgres://$PG_USER@127.0.0.1:$PG_PORT/livescope}

KAFKA_LOG=$LOG_DIR/kafka.log
KAFKA_OUT=$LOG_DIR/kafka.stdout.log

# The secured broker (start.sh --secure): its own ports, data, cluster id, logs; secrets in SECURE_DIR.
SECURE_DIR=$LS_HOME/secure
SECURE_KAFKA_DATA=$LS_HOME/kafka-secure-data
SECURE_KAFKA_CLUSTER_ID_FILE=$LS_HOME/kafka-secure-cluster-id
# shellcheck disable=SC2153 # SECURE_KAFKA_PORT comes from services.json above.
SECURE_KAFKA_BROKERS=127.0.0.1:$SECURE_KAFKA_PORT
SECURE_KAFKA_LOG=$LOG_DIR/kafka-secure.log
SECURE_KAFKA_OUT=$LOG_DIR/kafka-secure.stdout.log
REGISTRY_LOG=$LOG_DIR/registry.log
PG_PRIVATE_LOG=$LOG_DIR/postgres.log

# Bounds of every wait, in seconds.
KAFKA_PORT_TIMEOUT_S=${LIVESCOPE_KAFKA_PORT_TIMEOUT_S:-60}
KAFKA_READY_TIMEOUT_S=${LIVESCOPE_KAFKA_READY_TIMEOUT_S:-90}
REGISTRY_READY_TIMEOUT_S=${LIVESCOPE_REGISTRY_READY_TIMEOUT_S:-120}
PG_READY_TIMEOUT_S=${LIVESCOPE_PG_READY_TIMEOUT_S:-60}
STOP_TIMEOUT_S=${LIVESCOPE_STOP_TIMEOUT_S:-60}

ensure_dirs() { mkdir -p "$LOG_DIR" "$RUN_DIR" "$CONF_DIR"; }

# One start/stop/ctl at a time: integration tests, chaos tests and people share these services.
# The lock fd (9) is closed for every daemon started, or the daemon would hold the lock forever.
take_lock() {
  ensure_dirs
  exec 9>"$RUN_DIR/infra.lock"
  if ! flock -n 9; then
    say "waiting for another infra script to finish (lock $RUN_DIR/infra.lock, up to 15 min)..."
    flock -w 900 9 || die "another infra script held $RUN_DIR/infra.lock for 15 minutes; is one stuck? (see 'ps aux | grep infra/')"
  fi
}

# ---------------------------------------------------------------------------------------------
# Ports, processes, waits.

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Who listens on a port, for error messages ("pid 123 (java)") — empty if unknown.
port_owner() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -1 | sed 's/users:((//; s/))//' || true; }

# Our JVMs carry -Dlivescope.service=<name>, so a pid file is trusted only if the process it
# names is still ours (a pid can be reused after a reboot or a crash).
svc_pid() {
  local name=$1 f="$RUN_DIR/$1.pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  if [[ $pid =~ ^[0-9]+$ ]] && ps -p "$pid" -o args= 2>/dev/null | grep -q -- "-Dlivescope.service=$name "; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$f" "$RUN_DIR/$name.ready"
  return 1
}

# The pid of a JVM just launched with setsid. setsid execs in place (so $! is the JVM) unless the
# caller runs with job control, where it forks: then the JVM is found by its markers.
launched_pid() {
  local name=$1 pid=$2 found
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if ps -p "$pid" -o args= 2>/dev/null | grep -q -- "-Dlivescope.service=$name "; then
      printf '%s\n' "$pid"
      return
    fi
    found=$(pgrep -f -- "-Dlivescope.service=$name -Dlivescope.version=[^ ]* -Dlivescope.home=$LS_HOME " | head -1 || true)
    if [[ -n $found ]]; then
      printf '%s\n' "$found"
      return
    fi
    sleep 0.1
  done
  printf '%s\n' "$pid"
}

# The version a running service of ours was started with.
svc_version() { ps -p "$1" -o args= 2>/dev/null | grep -o -- '-Dlivescope.version=[^ ]*' | cut -d= -f2; }

# wait_until <seconds> <pid or ""> <command...>: polls the command every 0.5 s until it succeeds.
# Returns 1 on timeout and 2 as soon as the given process has exited.
wait_until() {
  local limit=$1 pid=$2
  shift 2
  local deadline=$(($(date +%s) + limit))
  until "$@"; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    (($(date +%s) < deadline)) || return 1
    sleep 0.5
  done
}

# stop_pid <name> <pid> <seconds> [--kill]: SIGTERM (or SIGKILL at once), a bounded wait, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 limit=$3 mode=${4:-}
  if [[ $mode == --kill ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  if ! wait_until "$limit" "" not_alive "$pid"; then
    warn "$name (pid $pid) did not stop within ${limit}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 15 "" not_alive "$pid" || die "$name (pid $pid) survived SIGKILL for 15 s"
  fi
}
# A zombie (an exited child not reaped yet) counts as stopped.
not_alive() { ! kill -0 "$1" 2>/dev/null || [[ $(ps -p "$1" -o stat= 2>/dev/null) == Z* ]]; }

# Keeps a log from growing without bound across restarts: one previous generation is kept.
rotate_log() {
  local f=$1
  if [[ -f $f ]] && (($(stat -c %s "$f") > 20 * 1024 * 1024)); then mv -f "$f" "$f.1"; fi
}

# ---------------------------------------------------------------------------------------------
# Java.

# The major version of a java binary: from its home's `release` file (no JVM start), else -version.
java_major() {
  local bin=$1 home v=""
  home=$(dirname "$(dirname "$(readlink -f "$bin")")")
  if [[ -f $home/release ]]; then v=$(sed -n 's/^JAVA_VERSION="\([0-9.]*\).*/\1/p' "$home/release"); fi
  [[ -n $v ]] || v=$("$bin" -version 2>&1 | sed -n 's/.* version "\([0-9.]*\).*/\1/p' | head -1)
  [[ $v == 1.* ]] && v=${v#1.}
  printf '%s\n' "${v%%.*}"
}

# find_java <min major> <env var name>: the env var's JAVA_HOME, else `java` on PATH when new
# enough, else the newest JDK under /usr/lib/jvm (Debian, Ubuntu) or macOS's JavaVirtualMachines.
find_java() {
  local min=$1 var=$2 home=${!2:-} bin best="" best_v=0 v
  if [[ -n $home ]]; then
    [[ -x $home/bin/java ]] || die "$var=$home has no bin/java"
    v=$(java_major "$home/bin/java")
    ((v >= min)) || die "$var=$home is Java $v; Java $min or newer is needed"
    printf '%s\n' "$home/bin/java"
    return
  fi
  if bin=$(command -v java 2>/dev/null) && v=$(java_major "$bin") && ((v >= min)); then
    printf '%s\n' "$bin"
    return
  fi
  for bin in /usr/lib/jvm/*/bin/java /Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java; do
    [[ -x $bin ]] || continue
    v=$(java_major "$bin") || continue
    if ((v >= min && v > best_v)); then best=$bin best_v=$v; fi
  done
  [[ -n $best ]] || return 1
  printf '%s\n' "$best"
}

# ---------------------------------------------------------------------------------------------
# Downloads, through Maven from Maven Central, into $M2_REPO; progress lines every 10 s.

dir_mb() { du -sm "$1" 2>/dev/null | cut -f1 || echo 0; }

# run_fetch <label> <command...>
run_fetch() {
  local label=$1
  shift
  command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) is not on PATH; it downloads $label from Maven Central. Install it (Debian/Ubuntu: apt-get install maven; macOS: brew install maven)"
  mkdir -p "$M2_REPO"
  local base t0 pid rc=0 fetch_log="$LOG_DIR/fetch.log" n=0
  base=$(dir_mb "$M2_REPO")
  t0=$(now_ms)
  printf '=== %s: %s\n' "$(date -Is)" "$*" >>"$fetch_log"
  timeout "$FETCH_TIMEOUT_S" "$@" >>"$fetch_log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    n=$((n + 1))
    if ((n % 10 == 0)); then say "  ... $label: $(($(dir_mb "$M2_REPO") - base)) MB downloaded, ${n}s"; fi
  done
  wait "$pid" || rc=$?
  if ((rc == 124)); then
    die "downloading $label took more than ${FETCH_TIMEOUT_S}s (LIVESCOPE_FETCH_TIMEOUT_S); is Maven Central reachable? Log: $fetch_log"
  elif ((rc != 0)); then
    log_tail "$fetch_log" 30
    die "downloading $label with Maven failed (exit $rc); log: $fetch_log"
  fi
  say "  $label: done in $(since_s "$t0") s ($(($(dir_mb "$M2_REPO") - base)) MB new in $M2_REPO)"
}

# ---------------------------------------------------------------------------------------------
# Kafka.

# The jars are fetched again when the generated pom changes (a version or a dependency): the stamp
# in .complete is the pom's hash.
kafka_fetch() {
  local pom sum
  pom=$(kafka_pom)
  sum=$(sha256sum <<<"$pom" | cut -c1-16)
  [[ -f $KAFKA_DIR/.complete && $(<"$KAFKA_DIR/.complete") == "$sum" ]] && return 0
  mkdir -p "$KAFKA_DIR"
  printf '%s\n' "$pom" >"$KAFKA_DIR/pom.xml"
  say "Kafka $KAFKA_VERSION: fetching the broker's jars from Maven Central (~55 MB, first run only)"
  rm -rf "$KAFKA_DIR/libs.tmp"
  run_fetch "Kafka $KAFKA_VERSION jars" mvn -B -q -f "$KAFKA_DIR/pom.xml" -Dmaven.repo.local="$M2_REPO" \
    "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$KAFKA_DIR/libs.tmp"
  ls "$KAFKA_DIR"/libs.tmp/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "Maven finished but $KAFKA_DIR/libs.tmp has no kafka_2.13-$KAFKA_VERSION.jar"
  rm -rf "$KAFKA_DIR/libs"
  mv "$KAFKA_DIR/libs.tmp" "$KAFKA_DIR/libs"
  printf '%s\n' "$sum" >"$KAFKA_DIR/.complete"
}

kafka_pom() {
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by livescope infra/lib.sh: the runtime jars of one Kafka broker, nothing else. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>livescope.infra</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <!-- Kafka's pom brings slf4j-api 1.7, which does not see the slf4j2 binding: the broker would log nothing. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
}

kafka_java() {
  find_java 17 LIVESCOPE_KAFKA_JAVA_HOME ||
    die "Kafka $KAFKA_VERSION needs Java 17 or newer and none was found (PATH, /usr/lib/jvm). Install one (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set LIVESCOPE_KAFKA_JAVA_HOME"
}

kafka_write_config() {
  ensure_dirs
  {
    echo "# Generated by livescope infra/lib.sh at each start; edit infra/services.json instead."
    printf '%s\n' "${KAFKA_BROKER_CONFIG[@]}"
    echo "controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT"
    echo "listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT"
    echo "log.dirs=$KAFKA_DATA"
  } >"$CONF_DIR/server.properties"
  kafka_write_log4j "$CONF_DIR/kafka-log4j2.xml" kafka.log
}

# kafka_write_log4j <file> <log name>: a log4j2 config writing to ${kafka.logs.dir}/<log name>.
kafka_write_log4j() {
  local file=$1 name=$2
  # Tests create and delete topics by the hundred; each one logs dozens of INFO lines from the
  # controller and the log layer. Those loggers are at WARN unless LIVESCOPE_KAFKA_LOG_VERBOSE=1.
  local chatty=WARN
  [[ ${LIVESCOPE_KAFKA_LOG_VERBOSE:-0} == 1 ]] && chatty=INFO
  cat >"$file" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by livescope infra/lib.sh: the broker logs to \${sys:kafka.logs.dir}/$name. -->
<Configuration status="warn" name="livescope-kafka">
  <Appenders>
    <RollingFile name="file" fileName="\${sys:kafka.logs.dir}/$name" filePattern="\${sys:kafka.logs.dir}/$name.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="4"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="file"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="$chatty"/>
    <Logger name="kafka.cluster.Partition" level="$chatty"/>
    <Logger name="kafka.log.LogManager" level="$chatty"/>
    <Logger name="kafka.server.metadata.DynamicConfigPublisher" level="$chatty"/>
    <Logger name="org.apache.kafka.controller.ReplicationControlManager" level="$chatty"/>
    <Logger name="org.apache.kafka.controller.ConfigurationControlManager" level="$chatty"/>
    <Logger name="org.apache.kafka.controller.PartitionChangeBuilder" level="$chatty"/>
    <Logger name="org.apache.kafka.storage.internals.log" level="$chatty"/>
  </Loggers>
</Configuration>
EOF
}

# Formats the storage once. The cluster id is kept in $KAFKA_CLUSTER_ID_FILE (and in the data's
# meta.properties), so a data folder is only ever formatted with the id it will keep.
kafka_format() {
  [[ -f $KAFKA_DATA/meta.properties ]] && return 0
  local java id out
  java=$(kafka_java)
  if [[ -s $KAFKA_CLUSTER_ID_FILE ]]; then
    id=$(<"$KAFKA_CLUSTER_ID_FILE")
  else
    id=$("$java" -cp "$KAFKA_DIR/libs/*" -Dlog4j2.configurationFile="$CONF_DIR/kafka-log4j2.xml" -Dkafka.logs.dir="$LOG_DIR" \
      kafka.tools.StorageTool random-uuid 2>>"$KAFKA_OUT" | tail -1)
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka.tools.StorageTool random-uuid printed '$id', not a cluster id; see $KAFKA_OUT"
    printf '%s\n' "$id" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  mkdir -p "$KAFKA_DATA"
  # A static quorum (controller.quorum.voters) formats without --standalone; --standalone is for
  # a KIP-853 dynamic quorum (controller.quorum.bootstrap.servers), which this setup does not use.
  if ! out=$("$java" -cp "$KAFKA_DIR/libs/*" -Dlog4j2.configurationFile="$CONF_DIR/kafka-log4j2.xml" -Dkafka.logs.dir="$LOG_DIR" \
    kafka.tools.StorageTool format -t "$id" -c "$CONF_DIR/server.properties" 2>&1); then
    printf '%s\n' "$out" >>"$KAFKA_OUT"
    die "formatting Kafka storage in $KAFKA_DATA failed: $(tail -3 <<<"$out")"
  fi
  say "Kafka: formatted $KAFKA_DATA (cluster id $id)"
}

# Starts the broker in the background (own session, so a Ctrl-C in the caller's terminal does not
# reach it) and returns at once; kafka_wait_ready waits.
kafka_launch() {
  local java pid
  java=$(kafka_java)
  kafka_write_config
  kafka_format
  if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT on 127.0.0.1 is taken by $(port_owner "$KAFKA_PORT")$(port_owner "$KAFKA_CONTROLLER_PORT"), which is not a Kafka these scripts started or could use; stop it and retry"
  fi
  rotate_log "$KAFKA_OUT"
  printf '=== %s: starting Kafka %s\n' "$(date -Is)" "$KAFKA_VERSION" >>"$KAFKA_OUT"
  setsid "$java" -Xmx"$KAFKA_HEAP" -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlivescope.service=kafka -Dlivescope.version="$KAFKA_VERSION" -Dlivescope.home="$LS_HOME" \
    -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$CONF_DIR/kafka-log4j2.xml" \
    -cp "$KAFKA_DIR/libs/*" kafka.Kafka "$CONF_DIR/server.properties" \
    </dev/null >>"$KAFKA_OUT" 2>&1 9>&- &
  pid=$(launched_pid kafka $!)
  printf '%s\n' "$pid" >"$RUN_DIR/kafka.pid"
  rm -f "$RUN_DIR/kafka.ready"
  say "Kafka $KAFKA_VERSION: started (pid $pid, Java $(java_major "$java"), heap $KAFKA_HEAP), log $KAFKA_LOG"
}

# Runs an infra TypeScript tool against the plain broker: a TLS/SASL connection the caller's
# environment may hold (eval "$(ctl.sh secure-env ...)") does not apply to it.
tsx_run() {
  (
    unset_kafka_security_env
    tsx_exec "$@"
  )
}

tsx_exec() {
  local tsx=$REPO_DIR/node_modules/.bin/tsx
  [[ -x $tsx ]] || die "$tsx is missing: run 'npm install' at the repository root first"
  [[ -d $REPO_DIR/node_modules/kafkajs ]] || die "kafkajs is not installed: run 'npm install' at the repository root first"
  (cd "$INFRA_DIR" && "$tsx" --conditions=livescope-source "$@")
}

unset_kafka_security_env() {
  local v
  for v in $(compgen -e | grep -E '^LIVESCOPE_KAFKA_(SSL|SASL)' || true); do unset "$v"; done
}

# Ready = the port answers and a client can create a topic, produce, consume in a group and commit
# (the group and transaction coordinators load for a few seconds after a first start).
kafka_wait_ready() {
  local pid=${1:-} t0 rc=0
  t0=$(now_ms)
  wait_until "$KAFKA_PORT_TIMEOUT_S" "$pid" port_open "$KAFKA_PORT" || rc=$?
  if ((rc == 2)); then
    log_tail "$KAFKA_LOG"
    log_tail "$KAFKA_OUT" 10
    rm -f "$RUN_DIR/kafka.pid"
    die "Kafka exited during start-up; logs: $KAFKA_LOG, $KAFKA_OUT"
  elif ((rc == 1)); then
    log_tail "$KAFKA_LOG"
    die "Kafka did not listen on $KAFKA_BROKERS within ${KAFKA_PORT_TIMEOUT_S}s (LIVESCOPE_KAFKA_PORT_TIMEOUT_S); log: $KAFKA_LOG"
  fi
  local quiet_flag=()
  [[ $QUIET == 1 ]] && quiet_flag=(--quiet)
  if ! tsx_run kafka-ready.ts --brokers "$KAFKA_BROKERS" --timeout-ms "$((KAFKA_READY_TIMEOUT_S * 1000))" "${quiet_flag[@]}"; then
    if [[ -z $pid ]]; then
      die "$(port_owner "$KAFKA_PORT" || true) listens on $KAFKA_BROKERS, was not started by these scripts, and does not work as a Kafka broker within ${KAFKA_READY_TIMEOUT_S}s (LIVESCOPE_KAFKA_READY_TIMEOUT_S); stop it, or fix it, and retry"
    fi
    log_tail "$KAFKA_LOG" 15
    die "Kafka listens on $KAFKA_BROKERS but is not usable within ${KAFKA_READY_TIMEOUT_S}s (LIVESCOPE_KAFKA_READY_TIMEOUT_S); log: $KAFKA_LOG"
  fi
  [[ -n $pid ]] && printf '%s\n' "$pid" >"$RUN_DIR/kafka.ready"
  say "Kafka: ready on $KAFKA_BROKERS after $(since_s "$t0") s"
}

kafka_stop() {
  local mode=${1:-} pid
  if pid=$(svc_pid kafka); then
    say "Kafka: stopping pid $pid$([[ $mode == --kill ]] && echo ' with SIGKILL')"
    stop_pid Kafka "$pid" "$STOP_TIMEOUT_S" "$mode"
    rm -f "$RUN_DIR/kafka.pid" "$RUN_DIR/kafka.ready" "$RUN_DIR/topics.stamp"
    say "Kafka: stopped"
  else
    say "Kafka: not running (no live pid in $RUN_DIR/kafka.pid)"
  fi
}

# Topic provisioning is skipped when it already ran against this very broker process with the
# same topic list, partition count and provisioning code.
topics_stamp() {
  local pid=$1
  printf '%s:%s\n' "$pid" "$(cat "$REPO_DIR/packages/contracts/src/topics.ts" "$INFRA_DIR/provision-topics.ts" "$INFRA_DIR/topicPlan.ts" 2>/dev/null |
    { cat; printf 'partitions=%s' "${LIVESCOPE_PARTITIONS:-}"; } | sha256sum | cut -c1-16)"
}

provision_topics() {
  local pid=${1:-} stamp="" quiet_flag=()
  [[ -n $pid ]] && stamp=$(topics_stamp "$pid")
  if [[ -n $stamp && -f $RUN_DIR/topics.stamp && $(<"$RUN_DIR/topics.stamp") == "$stamp" ]]; then
    say "Topics: provisioned earlier against this broker; nothing to do"
    return 0
  fi
  [[ $QUIET == 1 ]] && quiet_flag=(--quiet)
  tsx_run provision-topics.ts --brokers "$KAFKA_BROKERS" "${quiet_flag[@]}" || die "topic provisioning failed (see above)"
  [[ -n $stamp ]] && printf '%s\n' "$stamp" >"$RUN_DIR/topics.stamp"
  return 0
}

# ---------------------------------------------------------------------------------------------
# The secured broker (start.sh --secure, ctl.sh secure-*): a second KRaft node on its own ports and
# data, as users secure theirs. Clients and the inter-broker listener: SASL_SSL with SCRAM-SHA-512;
# the controller listener: SASL_SSL with PLAIN (Kafka does not support SCRAM on the controller
# listener, KAFKA-15513), both as the admin user, the only super user of the StandardAuthorizer.
# Certificates come from a local CA made with openssl; one random password per user. Everything
# secret is mode 0600 in $SECURE_DIR (the folder 0700).

secure_password_file() { printf '%s/%s.password\n' "$SECURE_DIR" "$1"; }
secure_password() { tr -d '\n' <"$(secure_password_file "$1")"; }

secure_need_openssl() {
  command -v openssl >/dev/null 2>&1 || die "openssl is not on PATH; it makes the secured broker's CA and certificate (Debian/Ubuntu: apt-get install openssl)"
}

secure_ensure_dir() {
  ensure_dirs
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
}

# One random password per user (192 bits, hex: nothing to quote in JAAS or SCRAM configs), created
# once and kept; their modes are repaired at every start.
secure_ensure_passwords() {
  local u f
  for u in "${SECURE_USERS[@]}"; do
    f=$(secure_password_file "$u")
    if [[ ! -s $f ]]; then
      (umask 077 && openssl rand -hex 24 >"$f") || die "could not write $f"
      say "Secured Kafka: new password for user '$u' in $f"
    fi
    chmod 600 "$f"
  done
}

# cert_valid <pem> <seconds>: the certificate exists and is still valid that long from now.
cert_valid() { [[ -s $1 ]] && openssl x509 -noout -checkend "$2" -in "$1" >/dev/null 2>&1; }

# The local CA and the broker's certificate (SAN localhost and 127.0.0.1), made again only when
# missing or within 7 days of expiry, or (the certificate) not signed by the current CA.
# Sets SECURE_CERTS_RENEWED=1 when it made any.
secure_ensure_certs() {
  local d=$SECURE_DIR week=$((7 * 86400)) tmp
  SECURE_CERTS_RENEWED=0
  if ! cert_valid "$d/ca.pem" "$week" || [[ ! -s $d/ca.key ]]; then
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days "$SECURE_CA_DAYS" \
      -subj "/CN=livescope local CA $(hostname -s 2>/dev/null || echo host) $(date +%Y%m%d)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1) ||
      die "openssl could not create the CA in $d"
    chmod 644 "$d/ca.pem"
    rm -f "$d/broker.pem"
    SECURE_CERTS_RENEWED=1
    say "Secured Kafka: created a local CA, valid $SECURE_CA_DAYS days: $d/ca.pem"
  fi
  if ! cert_valid "$d/broker.pem" "$week" || [[ ! -s $d/broker.key || ! -s $d/broker.keystore.pem ]] ||
    ! openssl verify -CAfile "$d/ca.pem" "$d/broker.pem" >/dev/null 2>&1; then
    tmp=$(mktemp -d "$d/.csr.XXXXXX")
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth,clientAuth" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" >"$tmp/ext.cnf"
    (umask 077 &&
      openssl req -newkey rsa:2048 -nodes -keyout "$d/broker.key" -out "$tmp/broker.csr" -subj "/CN=localhost" >/dev/null 2>&1 &&
      openssl x509 -req -in "$tmp/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days "$SECURE_CERT_DAYS" -extfile "$tmp/ext.cnf" -out "$d/broker.pem" >/dev/null 2>&1 &&
      cat "$d/broker.key" "$d/broker.pem" "$d/ca.pem" >"$d/broker.keystore.pem") ||
      { rm -rf "$tmp"; die "openssl could not create the broker certificate in $d"; }
    rm -rf "$tmp"
    chmod 644 "$d/broker.pem"
    SECURE_CERTS_RENEWED=1
    say "Secured Kafka: broker certificate for localhost/127.0.0.1, valid $SECURE_CERT_DAYS days: $d/broker.pem"
  fi
  chmod 600 "$d/ca.key" "$d/broker.key" "$d/broker.keystore.pem"
}

# The broker's server.properties (holds the admin password: 0600) and the admin's client
# properties for Kafka's Java tools (kafka-configs, kafka-acls: --command-config).
kafka_secure_write_config() {
  local pw admin=$SECURE_SUPER_USER
  pw=$(secure_password "$admin")
  ensure_dirs
  (
    umask 077
    {
      echo "# Generated by livescope infra/lib.sh at each start of the secured broker; edit infra/services.json instead."
      echo "# Holds the admin password (JAAS): keep it 0600."
      printf '%s\n' "${SECURE_KAFKA_BROKER_CONFIG[@]}"
      echo "controller.quorum.voters=1@127.0.0.1:$SECURE_KAFKA_CONTROLLER_PORT"
      echo "listeners=BROKER://127.0.0.1:$SECURE_KAFKA_PORT,CONTROLLER://127.0.0.1:$SECURE_KAFKA_CONTROLLER_PORT"
      echo "advertised.listeners=BROKER://127.0.0.1:$SECURE_KAFKA_PORT"
      echo "super.users=User:$admin"
      echo "ssl.keystore.location=$SECURE_DIR/broker.keystore.pem"
      echo "ssl.truststore.location=$SECURE_DIR/ca.pem"
      echo "listener.name.broker.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$admin\" password=\"$pw\";"
      echo "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$admin\" password=\"$pw\" user_$admin=\"$pw\";"
      echo "log.dirs=$SECURE_KAFKA_DATA"
    } >"$CONF_DIR/server-secure.properties"
    {
      echo "# Kafka Java tools as the secured broker's admin: --bootstrap-server $SECURE_KAFKA_BROKERS --command-config $SECURE_DIR/admin.properties"
      echo "security.protocol=SASL_SSL"
      echo "sasl.mechanism=SCRAM-SHA-512"
      echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$admin\" password=\"$pw\";"
      echo "ssl.truststore.type=PEM"
      echo "ssl.truststore.location=$SECURE_DIR/ca.pem"
    } >"$SECURE_DIR/admin.properties"
  )
  kafka_write_log4j "$CONF_DIR/kafka-secure-log4j2.xml" kafka-secure.log
}

# The admin's SCRAM credential must exist before the broker starts (it authenticates to itself
# with it), so it is written at format time (KIP-900: kafka-storage format --add-scram). The other
# users are created over the admin API once the broker runs (kafka_secure_users).
kafka_secure_format() {
  [[ -f $SECURE_KAFKA_DATA/meta.properties ]] && return 0
  local java id out
  java=$(kafka_java)
  if [[ -s $SECURE_KAFKA_CLUSTER_ID_FILE ]]; then
    id=$(<"$SECURE_KAFKA_CLUSTER_ID_FILE")
  else
    id=$("$java" -cp "$KAFKA_DIR/libs/*" -Dlog4j2.configurationFile="$CONF_DIR/kafka-secure-log4j2.xml" -Dkafka.logs.dir="$LOG_DIR" \
      kafka.tools.StorageTool random-uuid 2>>"$SECURE_KAFKA_OUT" | tail -1)
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka.tools.StorageTool random-uuid printed '$id', not a cluster id; see $SECURE_KAFKA_OUT"
    printf '%s\n' "$id" >"$SECURE_KAFKA_CLUSTER_ID_FILE"
  fi
  mkdir -p "$SECURE_KAFKA_DATA"
  # The admin password is on this one command line for the second the format takes (StorageTool
  # has no file option for it); every later credential goes through a 0600 file.
  if ! out=$("$java" -cp "$KAFKA_DIR/libs/*" -Dlog4j2.configurationFile="$CONF_DIR/kafka-secure-log4j2.xml" -Dkafka.logs.dir="$LOG_DIR" \
    kafka.tools.StorageTool format -t "$id" -c "$CONF_DIR/server-secure.properties" \
    --add-scram "SCRAM-SHA-512=[name=$SECURE_SUPER_USER,iterations=$SECURE_SCRAM_ITERATIONS,password=$(secure_password "$SECURE_SUPER_USER")]" 2>&1); then
    printf '%s\n' "$out" >>"$SECURE_KAFKA_OUT"
    die "formatting the secured broker's storage in $SECURE_KAFKA_DATA failed: $(tail -3 <<<"$out")"
  fi
  secure_user_stamp "$SECURE_SUPER_USER" >"$SECURE_DIR/users.applied"
  chmod 600 "$SECURE_DIR/users.applied"
  say "Secured Kafka: formatted $SECURE_KAFKA_DATA (cluster id $id) with the SCRAM credential of '$SECURE_SUPER_USER'"
}

# "<user> <hash>": the credential of a user as applied to this very data folder (its directory.id),
# so a new password, or a reset data folder, applies the credential again.
secure_user_stamp() {
  local u=$1 dir_id
  dir_id=$(sed -n 's/^directory.id=//p' "$SECURE_KAFKA_DATA/meta.properties" 2>/dev/null)
  printf '%s %s\n' "$u" "$(printf '%s:%s:%s' "$dir_id" "$u" "$(secure_password "$u")" | sha256sum | cut -c1-32)"
}

kafka_secure_launch() {
  local java pid
  java=$(kafka_java)
  kafka_secure_write_config
  kafka_secure_format
  if ! grep -qxF "$(secure_user_stamp "$SECURE_SUPER_USER")" "$SECURE_DIR/users.applied" 2>/dev/null; then
    die "$(secure_password_file "$SECURE_SUPER_USER") is not the password the secured broker's data was formatted with; restore it, or reset the secured broker: bash infra/ctl.sh secure-stop && rm -rf '$SECURE_KAFKA_DATA' '$SECURE_DIR/users.applied'"
  fi
  if port_open "$SECURE_KAFKA_PORT" || port_open "$SECURE_KAFKA_CONTROLLER_PORT"; then
    die "port $SECURE_KAFKA_PORT or $SECURE_KAFKA_CONTROLLER_PORT on 127.0.0.1 is taken by $(port_owner "$SECURE_KAFKA_PORT")$(port_owner "$SECURE_KAFKA_CONTROLLER_PORT"), not by a secured broker these scripts started; stop it and retry"
  fi
  rotate_log "$SECURE_KAFKA_OUT"
  printf '=== %s: starting the secured Kafka %s\n' "$(date -Is)" "$KAFKA_VERSION" >>"$SECURE_KAFKA_OUT"
  setsid "$java" -Xmx"$SECURE_KAFKA_HEAP" -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlivescope.service=kafka-secure -Dlivescope.version="$KAFKA_VERSION" -Dlivescope.home="$LS_HOME" \
    -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$CONF_DIR/kafka-secure-log4j2.xml" \
    -cp "$KAFKA_DIR/libs/*" kafka.Kafka "$CONF_DIR/server-secure.properties" \
    </dev/null >>"$SECURE_KAFKA_OUT" 2>&1 9>&- &
  pid=$(launched_pid kafka-secure $!)
  printf '%s\n' "$pid" >"$RUN_DIR/kafka-secure.pid"
  rm -f "$RUN_DIR/kafka-secure.ready" "$RUN_DIR/secure-provision.stamp"
  say "Secured Kafka $KAFKA_VERSION: started (pid $pid, Java $(java_major "$java"), heap $SECURE_KAFKA_HEAP), SASL_SSL on $SECURE_KAFKA_BROKERS, log $SECURE_KAFKA_LOG"
}

# Runs an infra TypeScript tool against the secured broker as its admin.
secure_tsx_run() {
  (
    unset_kafka_security_env
    export LIVESCOPE_KAFKA_BROKERS=$SECURE_KAFKA_BROKERS LIVESCOPE_KAFKA_SSL=true LIVESCOPE_KAFKA_SSL_CA_FILE=$SECURE_DIR/ca.pem \
      LIVESCOPE_KAFKA_SASL_MECHANISM=scram-sha-512 LIVESCOPE_KAFKA_SASL_USERNAME=$SECURE_SUPER_USER \
      LIVESCOPE_KAFKA_SASL_PASSWORD_FILE="$(secure_password_file "$SECURE_SUPER_USER")"
    tsx_exec "$@"
  )
}

# Ready = the TLS port answers and the admin can create a topic, produce, consume in a group,
# commit, and commit a transaction (its markers go over the inter-broker SCRAM listener).
kafka_secure_wait_ready() {
  local pid=$1 t0 rc=0 quiet_flag=()
  t0=$(now_ms)
  wait_until "$KAFKA_PORT_TIMEOUT_S" "$pid" port_open "$SECURE_KAFKA_PORT" || rc=$?
  if ((rc != 0)); then
    log_tail "$SECURE_KAFKA_LOG"
    log_tail "$SECURE_KAFKA_OUT" 10
    ((rc == 2)) && rm -f "$RUN_DIR/kafka-secure.pid"
    die "the secured Kafka $( ((rc == 2)) && echo 'exited during start-up' || echo "did not listen on $SECURE_KAFKA_BROKERS within ${KAFKA_PORT_TIMEOUT_S}s"); logs: $SECURE_KAFKA_LOG, $SECURE_KAFKA_OUT"
  fi
  [[ $QUIET == 1 ]] && quiet_flag=(--quiet)
  if ! secure_tsx_run kafka-ready.ts --transactions --timeout-ms "$((KAFKA_READY_TIMEOUT_S * 1000))" "${quiet_flag[@]}"; then
    log_tail "$SECURE_KAFKA_LOG" 15
    die "the secured Kafka listens on $SECURE_KAFKA_BROKERS but is not usable as '$SECURE_SUPER_USER' within ${KAFKA_READY_TIMEOUT_S}s; log: $SECURE_KAFKA_LOG"
  fi
  printf '%s\n' "$pid" >"$RUN_DIR/kafka-secure.ready"
  say "Secured Kafka: ready on $SECURE_KAFKA_BROKERS after $(since_s "$t0") s"
}

# Creates (or updates) the SCRAM credential of every user whose password is not applied to this
# data folder yet, with Kafka's own tool (kafka-configs) reading it from a 0600 file. One JVM per
# user, in parallel; on later starts nothing is left to do.
kafka_secure_users() {
  local u java todo=() pids=() i rc=0 tmp
  for u in "${SECURE_USERS[@]}"; do
    [[ $u == "$SECURE_SUPER_USER" ]] && continue
    grep -qxF "$(secure_user_stamp "$u")" "$SECURE_DIR/users.applied" 2>/dev/null || todo+=("$u")
  done
  ((${#todo[@]} > 0)) || return 0
  java=$(kafka_java)
  kafka_tools_log4j
  tmp=$(mktemp -d "$SECURE_DIR/.scram.XXXXXX")
  for u in "${todo[@]}"; do
    (umask 077 && printf 'SCRAM-SHA-512=iterations=%s,password=%s\n' "$SECURE_SCRAM_ITERATIONS" "$(secure_password "$u")" >"$tmp/$u.properties")
    "$java" -Xmx256m -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.xml" -cp "$KAFKA_DIR/libs/*" kafka.admin.ConfigCommand \
      --bootstrap-server "$SECURE_KAFKA_BROKERS" --command-config "$SECURE_DIR/admin.properties" \
      --alter --add-config-file "$tmp/$u.properties" --entity-type users --entity-name "$u" >"$tmp/$u.log" 2>&1 9>&- &
    pids+=($!)
  done
  for i in "${!todo[@]}"; do
    if wait "${pids[$i]}"; then
      secure_user_stamp "${todo[$i]}" >>"$SECURE_DIR/users.applied"
    else
      rc=1
      warn "creating the SCRAM user '${todo[$i]}' failed: $(tail -3 "$tmp/${todo[$i]}.log")"
    fi
  done
  rm -rf "$tmp"
  ((rc == 0)) || die "some SCRAM users could not be created on $SECURE_KAFKA_BROKERS (see above)"
  say "Secured Kafka: SCRAM-SHA-512 users created: ${todo[*]}"
}

kafka_tools_log4j() {
  cat >"$CONF_DIR/tools-log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn" name="livescope-kafka-tools">
  <Appenders><Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers><Root level="WARN"><AppenderRef ref="stderr"/></Root></Loggers>
</Configuration>
EOF
}

# Topics and the ACL plan of the default prefix (aclPlan.ts), once per broker process and code version.
kafka_secure_provision() {
  local pid=$1 stamp quiet_flag=()
  stamp="$pid:$(cat "$REPO_DIR/packages/contracts/src/topics.ts" "$INFRA_DIR/provision-topics.ts" "$INFRA_DIR/topicPlan.ts" "$INFRA_DIR/aclPlan.ts" "$INFRA_DIR/provision-acls.ts" 2>/dev/null |
    { cat; printf 'partitions=%s' "${LIVESCOPE_PARTITIONS:-}"; } | sha256sum | cut -c1-16)"
  if [[ -f $RUN_DIR/secure-provision.stamp && $(<"$RUN_DIR/secure-provision.stamp") == "$stamp" ]]; then
    say "Secured Kafka: topics and ACLs provisioned earlier against this broker; nothing to do"
    return 0
  fi
  [[ $QUIET == 1 ]] && quiet_flag=(--quiet)
  secure_tsx_run provision-topics.ts "${quiet_flag[@]}" || die "topic provisioning on the secured broker failed (see above)"
  secure_tsx_run provision-acls.ts "${quiet_flag[@]}" || die "ACL provisioning on the secured broker failed (see above)"
  printf '%s\n' "$stamp" >"$RUN_DIR/secure-provision.stamp"
}

# Starts (or keeps) the secured broker, then makes sure its users, topics and ACLs exist. Idempotent.
kafka_secure_start() {
  local pid
  secure_need_openssl
  if pid=$(svc_pid kafka-secure); then
    if ! cert_valid "$SECURE_DIR/broker.pem" 0; then
      warn "the secured broker's certificate $SECURE_DIR/broker.pem has expired; renew it with: bash infra/ctl.sh secure-restart"
    fi
    if ! [[ -f $RUN_DIR/kafka-secure.ready && $(<"$RUN_DIR/kafka-secure.ready") == "$pid" ]] || ! port_open "$SECURE_KAFKA_PORT"; then
      kafka_secure_wait_ready "$pid"
    fi
  else
    if port_open "$SECURE_KAFKA_PORT"; then
      die "port $SECURE_KAFKA_PORT is taken by $(port_owner "$SECURE_KAFKA_PORT" || echo 'another process'), not by a secured broker these scripts started"
    fi
    kafka_java >/dev/null
    kafka_fetch
    secure_ensure_dir
    secure_ensure_passwords
    secure_ensure_certs
    [[ $SECURE_CERTS_RENEWED == 1 ]] && say "Secured Kafka: clients must trust $SECURE_DIR/ca.pem (LIVESCOPE_KAFKA_SSL_CA_FILE)"
    kafka_secure_launch
    pid=$(<"$RUN_DIR/kafka-secure.pid")
    kafka_secure_wait_ready "$pid"
  fi
  kafka_secure_users
  kafka_secure_provision "$pid"
}

kafka_secure_stop() {
  local mode=${1:-} pid
  if pid=$(svc_pid kafka-secure); then
    say "Secured Kafka: stopping pid $pid$([[ $mode == --kill ]] && echo ' with SIGKILL')"
    stop_pid "Secured Kafka" "$pid" "$STOP_TIMEOUT_S" "$mode"
    rm -f "$RUN_DIR/kafka-secure.pid" "$RUN_DIR/kafka-secure.ready" "$RUN_DIR/secure-provision.stamp"
    say "Secured Kafka: stopped"
  else
    say "Secured Kafka: not running (no live pid in $RUN_DIR/kafka-secure.pid)"
  fi
}

# The variables that connect a livescope process to the secured broker as <user> (default the
# scope worker), the password read from its file.
secure_env() {
  local u=${1:-scope-worker} known=0 x
  for x in "${SECURE_USERS[@]}"; do [[ $x == "$u" ]] && known=1; done
  ((known)) || die "no secured-broker user '$u'; one of: ${SECURE_USERS[*]}"
  cat <<EOF
LIVESCOPE_KAFKA_BROKERS=$SECURE_KAFKA_BROKERS
LIVESCOPE_KAFKA_SSL=true
LIVESCOPE_KAFKA_SSL_CA_FILE=$SECURE_DIR/ca.pem
LIVESCOPE_KAFKA_SASL_MECHANISM=scram-sha-512
LIVESCOPE_KAFKA_SASL_USERNAME=$u
LIVESCOPE_KAFKA_SASL_PASSWORD_FILE=$(secure_password_file "$u")
EOF
}

# ---------------------------------------------------------------------------------------------
# Apicurio Registry.

apicurio_fetch() {
  [[ -f $APICURIO_DIR/.complete ]] && return 0
  local tmp=$APICURIO_DIR.tmp tgz
  rm -rf "$tmp"
  mkdir -p "$tmp/dl"
  cat >"$tmp/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by livescope infra/lib.sh: the Apicurio Registry distribution, without its build deps. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>livescope.infra</groupId>
  <artifactId>apicurio-runtime</artifactId>
  <version>$APICURIO_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>$APICURIO_VERSION</version>
      <type>tar.gz</type><classifier>all</classifier>
      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>
    </dependency>
  </dependencies>
</project>
EOF
  say "Apicurio Registry $APICURIO_VERSION: fetching the distribution from Maven Central (~160 MB, first run only)"
  run_fetch "Apicurio Registry $APICURIO_VERSION" mvn -B -q -f "$tmp/pom.xml" -Dmaven.repo.local="$M2_REPO" \
    "$DEPENDENCY_PLUGIN:copy-dependencies" -DexcludeTransitive=true -DoutputDirectory="$tmp/dl"
  tgz=$(find "$tmp/dl" -name 'apicurio-registry-app-*.tar.gz' | head -1)
  [[ -n $tgz ]] || die "Maven finished but no apicurio-registry-app tar.gz is in $tmp/dl"
  say "  unpacking $(basename "$tgz")"
  tar -xzf "$tgz" -C "$tmp" || die "unpacking $tgz failed (disk full? df -h $LS_HOME)"
  rm -rf "$tmp/dl" "$tmp/pom.xml"
  local jar
  jar=$(find "$tmp" -name quarkus-run.jar | head -1)
  [[ -n $jar ]] || die "the Apicurio distribution has no quarkus-run.jar (layout changed?); see $tmp"
  rm -rf "$APICURIO_DIR"
  mv "$tmp" "$APICURIO_DIR"
  touch "$APICURIO_DIR/.complete"
}

apicurio_jar() {
  local jar
  jar=$(find -L "$APICURIO_DIR" -maxdepth 3 -name quarkus-run.jar | head -1)
  [[ -n $jar ]] || die "no quarkus-run.jar under $APICURIO_DIR; delete that folder to fetch it again"
  printf '%s\n' "$jar"
}

registry_java() {
  find_java "$REGISTRY_MIN_JAVA" LIVESCOPE_REGISTRY_JAVA_HOME ||
    die "Apicurio Registry $APICURIO_VERSION needs Java $REGISTRY_MIN_JAVA or newer, and none was found (PATH, /usr/lib/jvm/*). Install one (Debian/Ubuntu: apt-get install openjdk-21-jre-headless, or Temurin 21/25 from adoptium.net) or point LIVESCOPE_REGISTRY_JAVA_HOME at it"
}

registry_ok() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$REGISTRY_URL/subjects" 2>/dev/null) == 200 ]]
}

registry_launch() {
  local java jar pid flags=() kv
  java=$(registry_java)
  jar=$(apicurio_jar)
  local p
  for p in "$REGISTRY_PORT" "$REGISTRY_MGMT_PORT"; do
    if port_open "$p"; then
      die "port $p on 127.0.0.1 (Apicurio Registry's $([[ $p == "$REGISTRY_PORT" ]] && echo API || echo management) port) is taken by $(port_owner "$p" || echo 'another process'); stop it and retry"
    fi
  done
  for kv in "${REGISTRY_CONFIG[@]}"; do flags+=("-D$kv"); done
  rotate_log "$REGISTRY_LOG"
  printf '=== %s: starting Apicurio Registry %s\n' "$(date -Is)" "$APICURIO_VERSION" >>"$REGISTRY_LOG"
  # The working directory is the distribution, so nothing Quarkus writes lands in the caller's folder.
  (
    cd "$APICURIO_DIR" || exit 1
    exec setsid "$java" -Xmx"$REGISTRY_HEAP" -XX:+ExitOnOutOfMemoryError \
      -Dlivescope.service=registry -Dlivescope.version="$APICURIO_VERSION" -Dlivescope.home="$LS_HOME" \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
      -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MGMT_PORT" \
      "${flags[@]}" \
      -Dapicurio.datasource.url="jdbc:postgresql://127.0.0.1:$PG_PORT/$REGISTRY_DB" \
      -Dapicurio.datasource.password="${PGPASSWORD:-}" \
      -jar "$jar" </dev/null >>"$REGISTRY_LOG" 2>&1
  ) 9>&- &
  pid=$(launched_pid registry $!)
  printf '%s\n' "$pid" >"$RUN_DIR/registry.pid"
  say "Apicurio Registry $APICURIO_VERSION: started (pid $pid, Java $(java_major "$java"), heap $REGISTRY_HEAP, storage PostgreSQL $REGISTRY_DB), log $REGISTRY_LOG"
}

registry_wait_ready() {
  local pid=${1:-} t0 rc=0
  t0=$(now_ms)
  wait_until "$REGISTRY_READY_TIMEOUT_S" "$pid" registry_ok || rc=$?
  if ((rc == 2)); then
    log_tail "$REGISTRY_LOG"
    rm -f "$RUN_DIR/registry.pid"
    die "Apicurio Registry exited during start-up; log: $REGISTRY_LOG"
  elif ((rc == 1)); then
    log_tail "$REGISTRY_LOG"
    die "Apicurio Registry did not answer 200 at $REGISTRY_URL/subjects within ${REGISTRY_READY_TIMEOUT_S}s (LIVESCOPE_REGISTRY_READY_TIMEOUT_S); log: $REGISTRY_LOG"
  fi
  say "Apicurio Registry: ready at $REGISTRY_URL after $(since_s "$t0") s"
}

registry_stop() {
  local pid
  if pid=$(svc_pid registry); then
    say "Apicurio Registry: stopping pid $pid"
    stop_pid "Apicurio Registry" "$pid" "$STOP_TIMEOUT_S"
    rm -f "$RUN_DIR/registry.pid"
    say "Apicurio Registry: stopped"
  else
    say "Apicurio Registry: not running (no live pid in $RUN_DIR/registry.pid)"
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL: the machine's server if it answers, else its stopped system cluster, else a private
# cluster in $PG_PRIVATE_DIR.

pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 3
  else
    port_open "$PG_PORT"
  fi
}

# The directory of initdb/pg_ctl: LIVESCOPE_PG_BIN, PATH, else the newest /usr/lib/postgresql/*/bin.
pg_bindir() {
  local d
  if [[ -n ${LIVESCOPE_PG_BIN:-} ]]; then
    [[ -x $LIVESCOPE_PG_BIN/initdb ]] || die "LIVESCOPE_PG_BIN=$LIVESCOPE_PG_BIN has no initdb"
    printf '%s\n' "$LIVESCOPE_PG_BIN"
    return
  fi
  if d=$(command -v initdb 2>/dev/null) && [[ -x $(dirname "$d")/pg_ctl ]]; then
    dirname "$d"
    return
  fi
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
      printf '%s\n' "$d"
      return
    fi
  done
  return 1
}

# The Debian system cluster on $PG_PORT as "<version> <name>", if pg_lsclusters knows one.
pg_system_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; found = 1; exit } END { exit !found }'
}

pg_private_exists() { [[ -f $PG_PRIVATE_DIR/PG_VERSION ]]; }

# initdb and pg_ctl refuse to run as root: as root they run as the 'postgres' user, which must
# then be able to reach $PG_PRIVATE_DIR.
pg_as_owner() {
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "running as root, and there is no 'postgres' user to own a private PostgreSQL cluster; run as a normal user"
    runuser -u postgres -- "$@" 9>&-
  else
    "$@" 9>&-
  fi
}

pg_private_ctl() {
  local bindir
  bindir=$(pg_bindir) || die "the private cluster in $PG_PRIVATE_DIR needs pg_ctl, and none was found; set LIVESCOPE_PG_BIN"
  pg_as_owner "$bindir/pg_ctl" -D "$PG_PRIVATE_DIR" -l "$PG_PRIVATE_LOG" "$@"
}

pg_private_running() { pg_private_exists && pg_private_ctl status >/dev/null 2>&1; }

pg_private_init() {
  local bindir=$1
  say "PostgreSQL: creating a private cluster in $PG_PRIVATE_DIR (port $PG_PORT, trust auth, 127.0.0.1 only)"
  mkdir -p "$PG_PRIVATE_DIR"
  chmod 700 "$PG_PRIVATE_DIR"
  touch "$PG_PRIVATE_LOG"
  if ((EUID == 0)); then
    chown postgres "$PG_PRIVATE_DIR" "$PG_PRIVATE_LOG" 2>/dev/null || true
    runuser -u postgres -- test -w "$PG_PRIVATE_DIR" ||
      die "initdb cannot run as root, and user 'postgres' cannot reach $PG_PRIVATE_DIR (a parent folder such as /root is private). Run as a normal user, or set LIVESCOPE_HOME to a folder it can reach (e.g. /var/tmp/livescope)"
  fi
  pg_as_owner "$bindir/initdb" -D "$PG_PRIVATE_DIR" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >>"$PG_PRIVATE_LOG" 2>&1 ||
    { log_tail "$PG_PRIVATE_LOG"; die "initdb failed; log: $PG_PRIVATE_LOG"; }
  cat >>"$PG_PRIVATE_DIR/postgresql.conf" <<EOF

# livescope infra: loopback only, TCP only (no socket folder to share), room for test pools.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 200
EOF
}

pg_ensure() {
  if pg_ready; then return 0; fi
  ensure_dirs
  local bindir cluster
  if pg_private_exists; then
    say "PostgreSQL: starting the private cluster in $PG_PRIVATE_DIR"
    pg_private_ctl -w -t "$PG_READY_TIMEOUT_S" start >/dev/null || { log_tail "$PG_PRIVATE_LOG"; die "the private PostgreSQL cluster did not start; log: $PG_PRIVATE_LOG"; }
  elif command -v pg_ctlcluster >/dev/null 2>&1 && cluster=$(pg_system_cluster); then
    say "PostgreSQL: the system cluster $cluster on port $PG_PORT is stopped; starting it"
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $cluster start 9>&- ||
      die "'pg_ctlcluster --skip-systemctl-redirect $cluster start' failed (try it as root, or start PostgreSQL yourself)"
  elif bindir=$(pg_bindir); then
    pg_private_init "$bindir"
    pg_private_ctl -w -t "$PG_READY_TIMEOUT_S" start >/dev/null || { log_tail "$PG_PRIVATE_LOG"; die "the private PostgreSQL cluster did not start; log: $PG_PRIVATE_LOG"; }
  else
    die "PostgreSQL is not running on 127.0.0.1:$PG_PORT and no server binaries (initdb, pg_ctl) were found. Install PostgreSQL 13+ (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15), start your own on that port, set LIVESCOPE_PG_PORT, or use docker-compose.yml"
  fi
  wait_until "$PG_READY_TIMEOUT_S" "" pg_ready || die "PostgreSQL did not accept connections on 127.0.0.1:$PG_PORT within ${PG_READY_TIMEOUT_S}s (LIVESCOPE_PG_READY_TIMEOUT_S)"
}

psql_admin() {
  psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -c "$1"
}

pg_ensure_databases() {
  command -v psql >/dev/null 2>&1 || die "psql is not on PATH; it creates the databases (Debian/Ubuntu: apt-get install postgresql-client)"
  local db exists err
  for db in "${PG_DATABASES[@]}"; do
    if ! exists=$(psql_admin "select 1 from pg_database where datname = '$db'" 2>&1); then
      die "cannot connect to PostgreSQL at 127.0.0.1:$PG_PORT as '$PG_USER' ($exists). The scripts expect trust auth for local TCP, or PGPASSWORD set"
    fi
    if [[ $exists != 1 ]]; then
      err=$(psql_admin "create database \"$db\" owner \"$PG_USER\"" 2>&1) || die "creating database $db failed: $err"
      say "PostgreSQL: created database $db"
    fi
  done
}

# "private", "system <ver> <name>" or "external": who runs the server on $PG_PORT.
pg_mode() {
  local c
  if pg_private_running; then
    echo private
  elif c=$(pg_system_cluster) && pg_ready; then
    echo "system $c"
  else
    echo external
  fi
}

pg_version() {
  psql -X -t -A -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -c 'show server_version' 2>/dev/null | cut -d' ' -f1
}

pg_restart() {
  local mode t0
  t0=$(now_ms)
  pg_ready || die "PostgreSQL is not running on 127.0.0.1:$PG_PORT; nothing to restart (start.sh starts it)"
  mode=$(pg_mode)
  case $mode in
    private)
      say "PostgreSQL: restarting the private cluster in $PG_PRIVATE_DIR"
      pg_private_ctl -w -t "$PG_READY_TIMEOUT_S" -m fast restart >/dev/null || { log_tail "$PG_PRIVATE_LOG"; die "pg_ctl restart failed; log: $PG_PRIVATE_LOG"; }
      ;;
    system*)
      say "PostgreSQL: restarting the system cluster ${mode#system }"
      # shellcheck disable=SC2086
      pg_ctlcluster --skip-systemctl-redirect ${mode#system } restart 9>&- ||
        die "'pg_ctlcluster --skip-systemctl-redirect ${mode#system } restart' failed (it needs root or the cluster owner)"
      ;;
    *) die "the PostgreSQL on 127.0.0.1:$PG_PORT was not started by these scripts nor is a local system cluster; restart it yourself" ;;
  esac
  wait_until "$PG_READY_TIMEOUT_S" "" pg_ready || die "PostgreSQL did not come back within ${PG_READY_TIMEOUT_S}s"
  # The registry keeps pooled connections; it is usable again once it answers (it checks each
  # connection before use, so this is normally at once).
  if svc_pid registry >/dev/null; then
    wait_until 30 "" registry_ok || warn "Apicurio Registry did not answer 200 within 30 s of the PostgreSQL restart; log: $REGISTRY_LOG"
  fi
  say "PostgreSQL: back after $(since_s "$t0") s"
}

pg_private_stop() {
  if pg_private_running; then
    say "PostgreSQL: stopping the private cluster in $PG_PRIVATE_DIR"
    pg_private_ctl -w -t "$STOP_TIMEOUT_S" -m fast stop >/dev/null || die "pg_ctl stop failed; log: $PG_PRIVATE_LOG"
    say "PostgreSQL: stopped"
  fi
}

# ---------------------------------------------------------------------------------------------
# The environment the rest of the project reads (benchmarks record LIVESCOPE_KAFKA_VERSION).

infra_env() {
  local kv=$KAFKA_VERSION av=$APICURIO_VERSION pid
  if pid=$(svc_pid kafka); then kv=$(svc_version "$pid"); fi
  if pid=$(svc_pid registry); then av=$(svc_version "$pid"); fi
  cat <<EOF
LIVESCOPE_KAFKA_VERSION=$kv
LIVESCOPE_APICURIO_VERSION=$av
LIVESCOPE_KAFKA_BROKERS=$KAFKA_BROKERS
LIVESCOPE_REGISTRY_URL=$REGISTRY_URL
LIVESCOPE_PG_URL=$PG_URL
LIVESCOPE_HOME=$LS_HOME
EOF
}

write_infra_env() { infra_env >"$RUN_DIR/infra.env"; }
