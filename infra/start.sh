#!/usr/bin/env bash
# Starts livescope's local infrastructure as plain processes on 127.0.0.1, without Docker:
#   PostgreSQL        127.0.0.1:5432  the machine's server, else its stopped cluster, else a private one
#   Apache Kafka      127.0.0.1:9092  KRaft, one combined broker + controller (controller on :9093)
#   Apicurio Registry 127.0.0.1:8081  Confluent-compatible API at /apis/ccompat/v7, stored in PostgreSQL
# then creates or repairs the topics of @livescope/contracts. With --secure, also a second broker as
# users secure theirs (docs/infra.md, "The secured broker"):
#   Apache Kafka      127.0.0.1:9094  SASL_SSL (SCRAM-SHA-512, local CA), ACLs (controller on :9095)
#
# Idempotent: what already runs is kept (a second call returns at once). A Kafka or registry that
# answers on its port but was not started here (docker compose, say) is used as it is.
# Downloads and data live in ${LIVESCOPE_HOME:-~/.cache/livescope}; see docs/infra.md.
#
# Usage: bash infra/start.sh [--secure] [--quiet]
#   --secure  also start the secured broker: TLS with a CA made here ($LIVESCOPE_HOME/secure/ca.pem),
#             one SCRAM user per role with its password in $LIVESCOPE_HOME/secure/<user>.password,
#             the ACLs of infra/aclPlan.ts. `npm start` and the tests keep using the plain broker
#             (test/secured-broker.e2e.test.ts excepted).
#             (bash infra/ctl.sh secure-start starts it alone.)
#   --quiet   print only problems and one final line
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

QUIET=0 SECURE=0
for arg in "$@"; do
  case $arg in
    -q | --quiet) QUIET=1 ;;
    --secure) SECURE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'livescope infra: error: unknown option %s (try --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(now_ms)
take_lock

# --- What runs already? ---------------------------------------------------------------------
kafka_pid="" kafka_external=0 kafka_ready_known=0
if kafka_pid=$(svc_pid kafka); then
  running_version=$(svc_version "$kafka_pid")
  if [[ $running_version != "$KAFKA_VERSION" ]]; then
    warn "Kafka $running_version is running but LIVESCOPE_KAFKA_VERSION asks for $KAFKA_VERSION; keeping $running_version (switch with: bash infra/ctl.sh kafka-restart)"
  fi
  if [[ -f $RUN_DIR/kafka.ready && $(<"$RUN_DIR/kafka.ready") == "$kafka_pid" ]] && port_open "$KAFKA_PORT"; then
    kafka_ready_known=1
  fi
elif port_open "$KAFKA_PORT"; then
  kafka_external=1
  say "Kafka: something already listens on $KAFKA_BROKERS ($(port_owner "$KAFKA_PORT" || true)), not started by these scripts; checking it is a usable Kafka"
fi

registry_pid="" registry_external=0 registry_up=0
if registry_pid=$(svc_pid registry); then
  registry_ok && registry_up=1
elif registry_ok; then
  registry_external=1 registry_up=1
  say "Apicurio Registry: a schema registry already answers at $REGISTRY_URL, not started by these scripts; using it"
elif port_open "$REGISTRY_PORT"; then
  die "port $REGISTRY_PORT on 127.0.0.1 is taken by $(port_owner "$REGISTRY_PORT" || echo 'another process'), which does not answer as a schema registry at $REGISTRY_URL; stop it and retry"
fi

# --- Downloads (first run only), checked before anything starts ------------------------------
if [[ -z $kafka_pid && $kafka_external == 0 ]]; then
  kafka_java >/dev/null
  kafka_fetch
fi
if [[ -z $registry_pid && $registry_external == 0 ]]; then
  registry_java >/dev/null
  apicurio_fetch
fi

# --- PostgreSQL ---------------------------------------------------------------------------------
pg_ensure
pg_ensure_databases

# --- Launch what is missing; Kafka and the registry start side by side -------------------------
if [[ -z $kafka_pid && $kafka_external == 0 ]]; then
  kafka_launch
  kafka_pid=$(<"$RUN_DIR/kafka.pid")
fi
if [[ -z $registry_pid && $registry_external == 0 ]]; then
  registry_launch
  registry_pid=$(<"$RUN_DIR/registry.pid")
fi

# --- Wait until usable ---------------------------------------------------------------------------
if [[ $kafka_ready_known == 0 ]]; then kafka_wait_ready "$kafka_pid"; fi
provision_topics "$kafka_pid"
if [[ $registry_up == 0 ]]; then registry_wait_ready "$registry_pid"; fi

write_infra_env

# --- The secured broker, on request -------------------------------------------------------------
if [[ $SECURE == 1 ]]; then kafka_secure_start; fi

# --- One final line --------------------------------------------------------------------------------
describe() { if [[ -n $2 ]]; then echo "pid $2"; else echo "external"; fi; }
kafka_v=$KAFKA_VERSION
[[ -n $kafka_pid ]] && kafka_v=$(svc_version "$kafka_pid")
registry_v=$APICURIO_VERSION
[[ -n $registry_pid ]] && registry_v=$(svc_version "$registry_pid")
pg_m=$(pg_mode)
printf 'livescope infra up in %s s: Kafka %s %s (%s), Apicurio Registry %s %s (%s), PostgreSQL %s 127.0.0.1:%s (%s)\n' \
  "$(since_s "$T0")" "$kafka_v" "$KAFKA_BROKERS" "$(describe kafka "$kafka_pid")" \
  "$registry_v" "$REGISTRY_URL" "$(describe registry "$registry_pid")" \
  "$(pg_version)" "$PG_PORT" "${pg_m%% *}"
if [[ $SECURE == 1 ]]; then
  printf 'secured Kafka %s SASL_SSL (pid %s; CA %s; users %s; connect with: eval "$(bash infra/ctl.sh secure-env <user>)")\n' \
    "$SECURE_KAFKA_BROKERS" "$(svc_pid kafka-secure || echo '?')" "$SECURE_DIR/ca.pem" "${SECURE_USERS[*]}"
fi
