package gitserver

// TB is the part of testing.TB this package uses. *testing.T, *testing.B
// and *testing.F satisfy it; so does the small runner of cmd/gitserve, which
// is why the constructors take TB rather than testing.TB.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
	TempDir() string
}
