# Sourced by the integration tests (directly, or through a folder's common.sh): the
# environment checks, PY, a work directory removed at exit, and server_pids: every process
# a test adds there is continued (a test may have paused it with SIGSTOP), sent SIGTERM and
# waited for at exit.
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
: "${DCM_SOURCE_DIR:?DCM_SOURCE_DIR must point at the source tree}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
server_pids=()

cleanup() {
    for p in "${server_pids[@]}"; do
        kill -CONT "$p" 2>/dev/null || true
        kill "$p" 2>/dev/null || true
    done
    for p in "${server_pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
