#!/usr/bin/env bash
# One line per service: up/down, pid, address, version, log. Exit code 1 if any is down; the
# secured broker (start.sh --secure) is optional: "off" when it does not run does not count.
# Looks only (no lock, no start); "external" means it answers but was not started by these scripts.
#
# Usage: bash infra/status.sh
set -euo pipefail

case ${1:-} in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) printf 'livescope infra: error: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
esac

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

down=0
line() { printf '%-10s %-9s %-11s %-42s %-8s %s\n' "$@"; }
line service state pid address version log

# Kafka: up when our process lives and the port answers (start.sh's probe checked it is usable).
if pid=$(svc_pid kafka); then
  if port_open "$KAFKA_PORT"; then state=up; else state=starting down=1; fi
  line kafka "$state" "$pid" "$KAFKA_BROKERS" "$(svc_version "$pid")" "$KAFKA_LOG"
elif port_open "$KAFKA_PORT"; then
  line kafka up external "$KAFKA_BROKERS" "?" "(not started by these scripts: $(port_owner "$KAFKA_PORT" || true))"
else
  line kafka down - "$KAFKA_BROKERS" "$KAFKA_VERSION" "$KAFKA_LOG"
  down=1
fi

if pid=$(svc_pid kafka-secure); then
  if port_open "$SECURE_KAFKA_PORT"; then state=up; else state=starting down=1; fi
  line kafka-sec "$state" "$pid" "$SECURE_KAFKA_BROKERS (SASL_SSL)" "$(svc_version "$pid")" "$SECURE_KAFKA_LOG"
else
  line kafka-sec off - "$SECURE_KAFKA_BROKERS (SASL_SSL)" "$KAFKA_VERSION" "(optional: bash infra/start.sh --secure)"
fi

if pid=$(svc_pid registry); then
  if registry_ok; then state=up; else state=starting down=1; fi
  line registry "$state" "$pid" "$REGISTRY_URL" "$(svc_version "$pid")" "$REGISTRY_LOG"
elif registry_ok; then
  line registry up external "$REGISTRY_URL" "?" "(not started by these scripts)"
else
  line registry down - "$REGISTRY_URL" "$APICURIO_VERSION" "$REGISTRY_LOG"
  down=1
fi

if pg_ready; then
  mode=$(pg_mode)
  case $mode in
    private) pid=$(head -1 "$PG_PRIVATE_DIR/postmaster.pid" 2>/dev/null || echo '?') log=$PG_PRIVATE_LOG ;;
    system*)
      read -r _ _ _ _ _ datadir log < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p') || true
      pid=$(head -1 "${datadir:-/nonexistent}/postmaster.pid" 2>/dev/null || echo '?')
      ;;
    *) pid=external log="(not started by these scripts)" ;;
  esac
  line postgres "up" "${pid:-?}" "127.0.0.1:$PG_PORT (${mode%% *})" "$(pg_version)" "$log"
else
  line postgres down - "127.0.0.1:$PG_PORT" - "$(pg_private_exists && echo "$PG_PRIVATE_LOG" || echo -)"
  down=1
fi

exit "$down"
