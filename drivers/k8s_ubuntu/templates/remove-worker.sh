# Runs on the first master before a worker's server is deleted. NODE and TIMEOUT are set by
# the caller. A drain that cannot finish in time does not block the removal: the node is
# going away either way, and a stuck delete would block every later update.
export KUBECONFIG=/etc/kubernetes/admin.conf
if kubectl get node "$NODE" >/dev/null 2>&1; then
  if ! kubectl drain "$NODE" --ignore-daemonsets --delete-emptydir-data \
      --timeout="${TIMEOUT}s"; then
    echo "coe: drain of $NODE did not finish within ${TIMEOUT}s; removing it anyway" >&2
  fi
  kubectl delete node "$NODE" --ignore-not-found
else
  echo "coe: $NODE is not a node of this cluster; nothing to drain" >&2
fi
