#!/usr/bin/env bash
# Stops what infra/start.sh started: the Apicurio Registry, the Kafka broker (and the secured one,
# when it runs) and, if start.sh had
# to create one, the private PostgreSQL cluster (SIGTERM, a bounded wait, then SIGKILL).
# Never stops the machine's own PostgreSQL, nor services started by someone else (docker compose).
# Deletes nothing: topics, offsets, schemas and downloads stay for the next start.
#
# Usage: bash infra/stop.sh [--all]
#   --all   the same, then lists what is kept on disk and how to reset it
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

ALL=0
for arg in "$@"; do
  case $arg in
    --all) ALL=1 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'livescope infra: error: unknown option %s (try --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(now_ms)
take_lock

registry_stop
if svc_pid kafka-secure >/dev/null; then kafka_secure_stop; fi
kafka_stop --term

if pg_private_running; then
  pg_private_stop
elif pg_ready; then
  mode=$(pg_mode)
  if [[ $mode == system* ]]; then
    say "PostgreSQL: the system cluster ${mode#system } keeps running (it is the machine's, not ours)"
  else
    say "PostgreSQL: the server on 127.0.0.1:$PG_PORT keeps running (not started by these scripts)"
  fi
fi
port_open "$KAFKA_PORT" && say "note: something still listens on $KAFKA_BROKERS ($(port_owner "$KAFKA_PORT" || true)); it was not started by these scripts"
registry_ok && say "note: a schema registry still answers at $REGISTRY_URL; it was not started by these scripts"
rm -f "$RUN_DIR/infra.env"

if [[ $ALL == 1 ]]; then
  echo "Nothing was deleted. Kept in $LS_HOME:"
  for d in "$LS_HOME"/kafka-data "$SECURE_KAFKA_DATA" "$SECURE_DIR" "$LS_HOME"/pg "$LS_HOME"/kafka-[0-9]* "$LS_HOME"/apicurio-[0-9]* "$M2_REPO" "$LOG_DIR"; do
    [[ -e $d ]] || continue
    case $d in
      */kafka-data) what="topics, messages and committed offsets (reset: delete it and $KAFKA_CLUSTER_ID_FILE)" ;;
      "$SECURE_KAFKA_DATA") what="the secured broker's topics, users and ACLs (reset: delete it and $SECURE_DIR/users.applied)" ;;
      "$SECURE_DIR") what="the secured broker's CA, certificate and user passwords (reset: delete it with the data above)" ;;
      */pg) what="the private PostgreSQL cluster: databases ${PG_DATABASES[*]} (reset: delete it)" ;;
      */kafka-[0-9]*) what="Kafka jars (re-downloaded when deleted)" ;;
      */apicurio-[0-9]*) what="Apicurio Registry distribution (re-downloaded when deleted)" ;;
      "$M2_REPO") what="Maven's download cache (safe to delete)" ;;
      *) what="logs" ;;
    esac
    printf '  %-6s %-50s %s\n' "$(du -sh "$d" 2>/dev/null | cut -f1)" "$d" "$what"
  done
  if ! pg_private_exists; then
    echo "  Schemas live in database $REGISTRY_DB and worker state in ${PG_DATABASES[0]} of the PostgreSQL on 127.0.0.1:$PG_PORT (reset: dropdb -h 127.0.0.1 -U $PG_USER <name>; start.sh recreates them)."
  fi
  echo "  Full reset: bash infra/stop.sh && rm -rf '$LS_HOME' (next start downloads again)."
fi
echo "livescope infra stopped in $(since_s "$T0") s"
