//go:build !linux

package pullrequests

// limitChild: only Linux can cap another process; the child caps itself
// (ServeChild).
func limitChild(int, int64) {}
