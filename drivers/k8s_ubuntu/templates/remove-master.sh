# Runs on a departing master before its server is deleted. NODE and TIMEOUT are set by the
# caller. kubeadm reset removes this master's etcd member, so the remaining members keep
# quorum; the node object is deleted through the other masters afterwards.
admin=/root/coe-admin.conf
cp /etc/kubernetes/admin.conf "$admin"
export KUBECONFIG="$admin"
if ! kubectl drain "$NODE" --ignore-daemonsets --delete-emptydir-data --timeout="${TIMEOUT}s"; then
  echo "coe: drain of $NODE did not finish within ${TIMEOUT}s; removing it anyway" >&2
fi
kubeadm reset -f
kubectl delete node "$NODE" --ignore-not-found
rm -f "$admin"
