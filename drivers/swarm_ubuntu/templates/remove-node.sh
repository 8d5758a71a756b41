# Runs on the first manager before a node's server is deleted. NODE and TIMEOUT are set by the
# caller. The node is drained (its tasks are rescheduled elsewhere), demoted when it is a
# manager (so it leaves Raft and the remaining managers keep quorum), then removed from the
# swarm. A drain that cannot finish in time does not block the removal: the node is going away
# either way, and a stuck delete would block every later update.
# Node names are matched exactly: docker's name filter matches prefixes (worker-1, worker-10),
# and a replaced node leaves an entry with the same name behind.
# The list is retried: just after a demotion the managers may have no leader for a moment,
# and a failed listing read as empty would skip the removal (the first manager would stay in
# its swarm after pulumi destroy).
tries=0
until listing="$(docker node ls --format '{{.ID}} {{.Hostname}}')"; do
  tries=$((tries + 1))
  if ((tries >= 24)); then
    if [[ "$NODE" == "$(hostname)" ]]; then
      docker swarm leave --force >/dev/null
      echo "coe: $NODE, the first manager, left the swarm with the cluster" >&2
    else
      echo "coe: cannot list the swarm's nodes; remove $NODE from the swarm by hand" >&2
    fi
    exit 0
  fi
  sleep 5
done
mapfile -t ids < <(awk -v node="$NODE" '$2 == node { print $1 }' <<<"$listing")
if ((${#ids[@]} == 0)); then
  echo "coe: $NODE is not a node of this swarm; nothing to drain" >&2
  exit 0
fi
# The first manager only goes with the whole cluster (pulumi destroy): nothing to move to.
if [[ " ${ids[*]} " == *" $(docker info --format '{{.Swarm.NodeID}}') "* ]]; then
  docker swarm leave --force >/dev/null
  echo "coe: $NODE, the first manager, left the swarm with the cluster" >&2
  exit 0
fi
for id in "${ids[@]}"; do
  docker node update --availability drain "$id" >/dev/null
done
deadline=$((SECONDS + TIMEOUT))
for id in "${ids[@]}"; do
  while docker node ps "$id" --format '{{.CurrentState}}' | grep -q '^Running'; do
    if ((SECONDS >= deadline)); then
      echo "coe: drain of $NODE did not finish within ${TIMEOUT}s; removing it anyway" >&2
      break 2
    fi
    sleep 5
  done
done
for id in "${ids[@]}"; do
  if [[ "$(docker node inspect --format '{{.Spec.Role}}' "$id")" == manager ]]; then
    docker node demote "$id" >/dev/null
  fi
  # A demoted manager leaves Raft asynchronously, and only then can it be removed.
  tries=0
  until docker node rm --force "$id" >/dev/null; do
    tries=$((tries + 1))
    if ((tries >= 24)); then
      echo "coe: could not remove $NODE ($id) from the swarm; remove it by hand" >&2
      break
    fi
    sleep 5
  done
done
echo "coe: $NODE is out of the swarm" >&2
