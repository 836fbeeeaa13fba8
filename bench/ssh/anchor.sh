#!/usr/bin/env bash
# The ssh anchor of the benchmark suite: what a user does today for a
# delegated call is ssh with a key restricted to a forced command. This
# script runs a throwaway sshd on 127.0.0.1 (its own host key, config and
# authorized_keys in DIR; a client key restricted to command="cat", which
# echoes stdin) and a ControlMaster connection to it. bench/run times the
# calls itself; `time` does it here for a person.
#
#   anchor.sh start DIR [PORT]   install openssh-server if missing, start sshd
#                                and the master, write DIR/ssh_config with
#                                hosts "cold" (no multiplexing) and "master"
#   anchor.sh stop DIR           stop the master and sshd, by PID
#   anchor.sh time DIR [RUNS]    median of RUNS calls of each kind (start first)
#
# Loopback only. Runs with no stdin (CI). Needs root only to install.
set -euo pipefail

die() { echo "anchor: error: $*" >&2; exit 1; }

SSHD=/usr/sbin/sshd

install_sshd() {
	[ -x "$SSHD" ] && return 0
	[ "$(id -u)" = 0 ] || die "openssh-server is not installed and this is not root"
	echo "anchor: installing openssh-server" >&2
	# Keep the package from starting the system's own sshd (port 22, all
	# interfaces): policy-rc.d refuses service starts while we install.
	local policy=/usr/sbin/policy-rc.d created=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	local ok=""
	if timeout 300 apt-get install -y -q --no-install-recommends openssh-server </dev/null >&2; then
		ok=1
	elif timeout 300 apt-get update -q </dev/null >&2 &&
		timeout 300 apt-get install -y -q --no-install-recommends openssh-server </dev/null >&2; then
		ok=1
	fi
	[ -n "$created" ] && rm -f "$policy"
	[ -n "$ok" ] && [ -x "$SSHD" ] || die "could not install openssh-server"
}

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

start() {
	local dir=$1 port=${2:-}
	install_sshd
	command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || die "ssh or ssh-keygen missing (openssh-client)"
	[ -n "$port" ] || port=$(free_port)
	mkdir -p "$dir" && chmod 700 "$dir"
	dir=$(cd "$dir" && pwd)
	[ "$(id -u)" = 0 ] && mkdir -p /run/sshd && chmod 755 /run/sshd # privilege separation directory
	rm -f "$dir"/host_ed25519* "$dir"/client_ed25519*
	ssh-keygen -q -t ed25519 -N '' -C anchor-host -f "$dir/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C anchor-client -f "$dir/client_ed25519"
	echo "restrict,command=\"cat\" $(cat "$dir/client_ed25519.pub")" >"$dir/authorized_keys"
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >"$dir/known_hosts"
	local user
	user=$(id -un)
	cat >"$dir/sshd_config" <<-CONF
		ListenAddress 127.0.0.1:$port
		HostKey $dir/host_ed25519
		PidFile $dir/sshd.pid
		AuthorizedKeysFile $dir/authorized_keys
		AuthenticationMethods publickey
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin forced-commands-only
		AllowUsers $user
		StrictModes no
		UsePAM no
		UseDNS no
		PrintMotd no
		PrintLastLog no
		MaxStartups 100
		LogLevel ERROR
	CONF
	cat >"$dir/ssh_config" <<-CONF
		Host cold
		  ControlMaster no
		  ControlPath none
		Host master
		  ControlMaster no
		  ControlPath $dir/cm.sock
		Host *
		  HostName 127.0.0.1
		  Port $port
		  User $user
		  IdentityFile $dir/client_ed25519
		  IdentitiesOnly yes
		  UserKnownHostsFile $dir/known_hosts
		  GlobalKnownHostsFile /dev/null
		  StrictHostKeyChecking yes
		  UpdateHostKeys no
		  BatchMode yes
		  RequestTTY no
		  ForwardAgent no
		  ForwardX11 no
		  LogLevel ERROR
	CONF
	rm -f "$dir/sshd.pid" "$dir/cm.sock"
	"$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null || die "sshd did not start: $(tail -3 "$dir/sshd.log" 2>/dev/null)"
	for _ in $(seq 100); do
		[ -s "$dir/sshd.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.05
	done
	[ -s "$dir/sshd.pid" ] || die "sshd wrote no pid file: $(tail -3 "$dir/sshd.log" 2>/dev/null)"
	# The master: authenticates once, then serves calls through cm.sock.
	ssh -F "$dir/ssh_config" -o ControlMaster=yes -o ControlPersist=no -N -f master </dev/null >"$dir/master.log" 2>&1 ||
		die "ssh master did not start: $(tail -3 "$dir/master.log")"
	local check
	check=$(ssh -F "$dir/ssh_config" -O check master 2>&1) || die "ssh master not running: $check"
	echo "$check" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' >"$dir/master.pid"
	[ "$(echo hello | ssh -F "$dir/ssh_config" cold)" = hello ] || die "cold call did not echo"
	[ "$(echo hello | ssh -F "$dir/ssh_config" master)" = hello ] || die "call through the master did not echo"
	echo "anchor: sshd pid $(cat "$dir/sshd.pid") on 127.0.0.1:$port, master pid $(cat "$dir/master.pid")" >&2
}

stop() {
	local dir=$1 pid
	[ -d "$dir" ] || return 0
	if [ -S "$dir/cm.sock" ]; then
		ssh -F "$dir/ssh_config" -O exit master >/dev/null 2>&1 || true
	fi
	for f in master.pid sshd.pid; do
		pid=$(cat "$dir/$f" 2>/dev/null || true)
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/$f"
	done
}

median_ms() { sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1e6}'; }

time_calls() {
	local dir=$1 runs=${2:-20} host t0 t1
	for host in cold master; do
		for i in $(seq $((runs + 2))); do
			t0=$(date +%s%N)
			echo 0123456789 | ssh -F "$dir/ssh_config" "$host" >/dev/null
			t1=$(date +%s%N)
			[ "$i" -gt 2 ] && echo $((t1 - t0))
		done | median_ms | xargs printf "ssh %-6s median %s ms over $runs calls\n" "$host"
	done
}

case "${1:-}" in
start) [ $# -ge 2 ] || die "usage: anchor.sh start DIR [PORT]"; start "$2" "${3:-}" ;;
stop) [ $# -ge 2 ] || die "usage: anchor.sh stop DIR"; stop "$2" ;;
time) [ $# -ge 2 ] || die "usage: anchor.sh time DIR [RUNS]"; time_calls "$2" "${3:-20}" ;;
*) die "usage: anchor.sh start|stop|time DIR" ;;
esac
