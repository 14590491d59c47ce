package pullrequests

import "golang.org/x/sys/unix"

// limitChild caps the data segment of the child pid (RLIMIT_DATA, which
// counts the Go heap's anonymous mappings) from the parent, before the
// child reads any input: the child sets it too, this holds even if it
// did not.
func limitChild(pid int, bytes int64) {
	lim := &unix.Rlimit{Cur: uint64(bytes), Max: uint64(bytes)}
	_ = unix.Prlimit(pid, unix.RLIMIT_DATA, lim, nil) // the child sets it itself too
}
