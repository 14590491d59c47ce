// Package proc runs the child processes of the local world (etcd,
// kube-apiserver, kube-controller-manager). Every child runs in its own
// process group and gets SIGKILL when the thread that started it dies
// (Pdeathsig), so nothing outlives a crashed test; its output goes to a log
// file. Stop sends SIGTERM to the group, then SIGKILL after a grace period,
// and waits for the child to be reaped.
package proc
