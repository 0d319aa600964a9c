#!/usr/bin/env bash
# Controls single services, for chaos tests and debugging. Each command returns when the service
# is usable again (bounded waits) or fails with a message; commands are serialised with start.sh
# and stop.sh through one lock.
#
# Usage: bash infra/ctl.sh <command> [--quiet]
#   kafka-restart [--kill]  stop Kafka (SIGTERM; --kill: SIGKILL, a crash) and start it, wait until usable
#   kafka-stop [--kill]     stop Kafka only (the broker this repository's scripts started)
#   kafka-start             start Kafka only and wait until usable (provisions topics too)
#   registry-restart        restart the Apicurio Registry (schemas survive: they are in PostgreSQL)
#   registry-stop | registry-start
#   pg-restart              restart PostgreSQL: the system cluster with pg_ctlcluster, the private one
#                           with pg_ctl (fast mode: clients are disconnected)
#   provision               create or repair the topics now (start.sh does it once per broker start)
#   secure-start            start the secured broker alone (SASL_SSL on 127.0.0.1:9094, see start.sh --secure)
#                           and make sure its users, topics and ACLs exist
#   secure-stop [--kill] | secure-restart [--kill]
#   secure-provision        apply its topics and the ACL plan of the default prefix again
#   secure-env [user]       print the variables that connect a livescope process to it as <user>
#                           (default scope-worker): eval "$(bash infra/ctl.sh secure-env enforcer)"
#   kafka-run <class> [args] run a Kafka tool on the broker's classpath, logging warnings to stderr, e.g.
#                           kafka-run org.apache.kafka.tools.ProducerPerformance --topic t --num-records 1000 ...
#   env                     print the connection settings as shell assignments:
#                           eval "$(bash infra/ctl.sh env)"  or  set -a; . <(bash infra/ctl.sh env)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

cmd=${1:-}
[[ -n $cmd ]] || { usage >&2; exit 2; }
shift
if [[ $cmd == secure-env ]]; then
  # shellcheck source=lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  [[ $# -le 1 ]] || die "secure-env takes one user name"
  secure_env "${1:-}" | sed "s/^/export /"
  exit 0
fi
if [[ $cmd == kafka-run ]]; then
  # shellcheck source=lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  [[ $# -ge 1 ]] || die "kafka-run needs a main class, e.g. org.apache.kafka.tools.ProducerPerformance"
  [[ -f $KAFKA_DIR/.complete ]] || kafka_fetch # never refetch under a running broker
  ensure_dirs
  kafka_tools_log4j
  exec "$(kafka_java)" -Xmx512m -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.xml" -cp "$KAFKA_DIR/libs/*" "$@"
fi
QUIET=0 KILL=""
for arg in "$@"; do
  case $arg in
    -q | --quiet) QUIET=1 ;;
    --kill) KILL=--kill ;;
    *) printf 'livescope infra: error: unknown option %s for %s (try --help)\n' "$arg" "$cmd" >&2; exit 2 ;;
  esac
done

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Starting Kafka alone: like start.sh, but touching nothing else.
kafka_start_alone() {
  local pid
  if pid=$(svc_pid kafka); then
    say "Kafka: already running (pid $pid)"
  else
    port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by $(port_owner "$KAFKA_PORT" || echo 'another process'), not by a Kafka these scripts started"
    kafka_fetch
    kafka_launch
    pid=$(<"$RUN_DIR/kafka.pid")
  fi
  kafka_wait_ready "$pid"
  provision_topics "$pid"
  write_infra_env
}

registry_start_alone() {
  local pid
  if pid=$(svc_pid registry); then
    say "Apicurio Registry: already running (pid $pid)"
  else
    apicurio_fetch
    pg_ready || die "PostgreSQL is not running on 127.0.0.1:$PG_PORT; the registry stores its schemas there (run infra/start.sh)"
    pg_ensure_databases
    registry_launch
    pid=$(<"$RUN_DIR/registry.pid")
  fi
  registry_wait_ready "$pid"
}

T0=$(now_ms)
case $cmd in
  -h | --help) usage; exit 0 ;;
  env) infra_env | sed "s/^/export /"; exit 0 ;;
  kafka-restart) take_lock; kafka_stop "$KILL"; kafka_start_alone ;;
  kafka-stop) take_lock; kafka_stop "$KILL" ;;
  kafka-start) take_lock; kafka_start_alone ;;
  registry-restart) take_lock; registry_stop; registry_start_alone ;;
  registry-stop) take_lock; registry_stop ;;
  registry-start) take_lock; registry_start_alone ;;
  pg-restart) take_lock; pg_restart ;;
  secure-start) take_lock; kafka_secure_start ;;
  secure-stop) take_lock; kafka_secure_stop "$KILL" ;;
  secure-restart) take_lock; kafka_secure_stop "$KILL"; kafka_secure_start ;;
  secure-provision)
    take_lock
    pid=$(svc_pid kafka-secure) || die "the secured broker is not running (bash infra/ctl.sh secure-start)"
    rm -f "$RUN_DIR/secure-provision.stamp"
    kafka_secure_provision "$pid"
    ;;
  provision)
    take_lock
    port_open "$KAFKA_PORT" || die "Kafka is not running on $KAFKA_BROKERS (run infra/start.sh)"
    rm -f "$RUN_DIR/topics.stamp"
    provision_topics "$(svc_pid kafka || true)"
    ;;
  *) printf 'livescope infra: error: unknown command %s\n' "$cmd" >&2; usage >&2; exit 2 ;;
esac
say "$cmd: done in $(since_s "$T0") s"
