#!/bin/bash
# coe-swarm-prune GRACE_SECONDS: removes the swarm's node entries that never became nodes.
#
# A joining daemon asks the swarm's CA for a certificate, and the CA records a new node (with a
# new ID) for every request. When a request times out (a loaded manager, docker's 20 s join
# timeout) the daemon asks again, and the entry of the first request stays behind for good: no
# hostname, status unknown, listed as a manager when the token was a manager's. Installed as
# /usr/local/sbin/coe-swarm-prune on the managers; coe-swarm-prune.timer runs it every 30 s
# and the bootstrap once. Only the Raft leader acts, so two managers never race.
#
# An entry is removed only when it has never reported a hostname (a node does so on its first
# session, seconds after its certificate), is not a Raft member, is not this node and is older
# than GRACE_SECONDS. `docker node rm` without --force refuses it should it have become ready.
set -Eeuo pipefail

readonly ENTRY_FORMAT='{{.ID}} {{.CreatedAt.Unix}} {{.Status.State}} {{if .ManagerStatus}}member{{else}}none{{end}} {{.Description.Hostname}}'

# say MSG...: one line for the journal (the unit keeps them at notice) or the terminal.
say() {
    printf 'coe-swarm-prune: %s\n' "$*" >&2
}

# is_leader: succeed when this daemon is a manager with the control plane and leads Raft.
is_leader() {
    local control leader
    control="$(docker info --format '{{.Swarm.ControlAvailable}}')"
    [[ "${control}" == true ]] || return 1
    leader="$(docker node inspect --format \
        '{{if .ManagerStatus}}{{.ManagerStatus.Leader}}{{end}}' self)"
    [[ "${leader}" == true ]]
}

# prune GRACE: one pass over the node entries.
prune() {
    local grace="$1" self now entries ids id created state member hostname found_self=false
    local status=0
    self="$(docker info --format '{{.Swarm.NodeID}}')"
    now="$(date +%s)"
    mapfile -t ids < <(docker node ls --quiet)
    entries="$(docker node inspect --format "${ENTRY_FORMAT}" "${ids[@]}")"
    while read -r id created state member hostname; do
        [[ -n "${id}" ]] || continue
        if [[ "${id}" == "${self}" ]]; then
            # This node has a session: were the fields read wrong, nothing else can be trusted.
            [[ -n "${hostname}" && "${state}" == ready ]] || {
                say "this node's own entry reads '${created} ${state} ${member} ${hostname}'"
                return 1
            }
            found_self=true
            continue
        fi
        [[ -z "${hostname}" ]] || continue
        [[ "${created}" =~ ^[0-9]+$ ]] || { say "entry ${id}: bad creation time '${created}'"; return 1; }
        ((now - created >= grace)) || continue
        if [[ "${member}" != none ]]; then
            say "entry ${id} never reported a hostname but is a Raft member;" \
                "demote and remove it by hand if its server is gone"
            continue
        fi
        if docker node rm "${id}" >/dev/null; then
            say "removed entry ${id} (${state}, created $((now - created))s ago, never a node):" \
                "left by a join whose certificate request timed out"
        else
            status=1
        fi
    done <<<"${entries}"
    [[ "${found_self}" == true ]] || { say "this node (${self}) is not among the entries"; return 1; }
    return "${status}"
}

main() {
    [[ "$#" -eq 1 && "$1" =~ ^[0-9]+$ ]] || {
        say "usage: coe-swarm-prune GRACE_SECONDS"
        return 2
    }
    # Workers, locked managers and followers have nothing to do.
    is_leader || return 0
    prune "$1"
}

main "$@"
