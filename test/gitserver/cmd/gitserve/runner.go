package main

import (
	"fmt"
	"io"
	"os"
)

// runner lets gitserver's constructors, written for tests, run in a
// command: Fatalf and Skipf end run with an error (through recover), and
// the cleanups run, last first, when run returns. Only run's goroutine may
// call Fatalf or Skipf.
type runner struct {
	dir      string
	log      io.Writer
	cleanups []func()
	failed   bool
}

// failure is what Fatalf and Skipf panic with.
type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func (r *runner) Helper()                 {}
func (r *runner) Cleanup(f func())        { r.cleanups = append(r.cleanups, f) }
func (r *runner) Failed() bool            { return r.failed }
func (r *runner) Logf(f string, a ...any) { fmt.Fprintf(r.log, "gitserve: "+f+"\n", a...) }

func (r *runner) Fatalf(format string, args ...any) {
	r.failed = true
	panic(failure{fmt.Sprintf(format, args...)})
}

func (r *runner) Skipf(format string, args ...any) { r.Fatalf(format, args...) }

func (r *runner) TempDir() string {
	d, err := os.MkdirTemp(r.dir, "tmp-")
	if err != nil {
		r.Fatalf("temp dir: %v", err)
	}
	r.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// recover turns a Fatalf or Skipf into *err; other panics go on.
func (r *runner) recover(err *error) {
	if p := recover(); p != nil {
		f, ok := p.(failure)
		if !ok {
			panic(p)
		}
		*err = f
	}
}

// cleanup runs the cleanups, last registered first.
func (r *runner) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}
