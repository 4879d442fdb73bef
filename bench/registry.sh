# Sourced by the benchmarks that need a registry: Debian's docker-registry on a free loopback
# port, its storage under $work (which the caller makes and removes). start_registry (re)starts it
# empty; stop_registry stops it (call it from the caller's EXIT trap).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
registry_pid=
stop_registry() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    registry_pid=
  fi
}
start_registry() {
  stop_registry
  rm -rf "$work/registry"
  mkdir -p "$work/registry"
  cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YAML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return 0
    sleep 0.05
  done
  echo "the registry did not start:" >&2
  cat "$work/registry.log" >&2
  exit 1
}
