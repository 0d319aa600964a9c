#!/usr/bin/env bash
# Restarts only the Kafka broker and waits until it is usable again (for chaos tests).
# Same as: bash infra/ctl.sh kafka-restart [--kill] [--quiet]
#   --kill   stop it with SIGKILL (a crash) instead of a controlled shutdown
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/ctl.sh" kafka-restart "$@"
