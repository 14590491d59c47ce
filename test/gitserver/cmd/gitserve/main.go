// Command gitserve serves a Git repository over HTTP on loopback with git
// http-backend, the way the tests' gitserver.HTTPServer does, for the demo's
// no-forge path:
//
//	gitserve -dir D -seed clusters-example [-branch main] [-addr 127.0.0.1:0] [-pidfile F]
//
// It creates the bare repository D/repo.git and its working clone D/work,
// commits the seed directory as the first commit, prints url=<clone URL>
// and work=<working clone> on stdout, writes its pid to F (default
// D/gitserve.pid) and serves, pushes over HTTP allowed, until SIGTERM or
// SIGINT. See the package doc of test/gitserver.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/ringops/ringops/test/gitserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gitserve: %v\n", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	dir, seed, branch, addr, pidFile string
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("gitserve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dir, "dir", "", "directory for the bare repository (repo.git) and the working clone (work); required")
	fs.StringVar(&c.seed, "seed", "", "directory whose tree becomes the first commit; required")
	fs.StringVar(&c.branch, "branch", "main", "the repository's branch")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0: a free one)")
	fs.StringVar(&c.pidFile, "pidfile", "", "pid file (default DIR/gitserve.pid)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.dir == "" || c.seed == "" {
		return c, errors.New("-dir and -seed are required")
	}
	if c.pidFile == "" {
		c.pidFile = filepath.Join(c.dir, "gitserve.pid")
	}
	return c, validate(c)
}

func validate(c config) error {
	if info, err := os.Stat(c.seed); err != nil || !info.IsDir() {
		return fmt.Errorf("seed %s: not a directory (%v)", c.seed, err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "repo.git")); err == nil {
		return fmt.Errorf("dir %s: repo.git exists already; remove it or choose another -dir", c.dir)
	}
	host, _, err := net.SplitHostPort(c.addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("addr %s: want a loopback host:port", c.addr)
	}
	return nil
}

// run serves until ctx ends; everything it started is stopped and the pid
// file removed when it returns.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	rt := &runner{dir: c.dir, log: stderr}
	defer rt.cleanup()
	defer rt.recover(&err)

	r := gitserver.NewRepo(rt, gitserver.RepoOptions{Dir: c.dir, Name: "repo.git", Branch: c.branch})
	r.CopyDir(c.seed, "")
	r.CommitAndPush("seed: "+filepath.Base(filepath.Clean(c.seed)), nil)
	o := gitserver.DefaultHTTPOptions()
	o.Addr, o.AllowPush = c.addr, true
	srv := gitserver.NewHTTP(rt, r, o)
	if err := os.WriteFile(c.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	rt.Cleanup(func() { _ = os.Remove(c.pidFile) })
	fmt.Fprintf(stdout, "url=%s\nwork=%s\n", srv.URL(), r.Work)

	<-ctx.Done()
	n := srv.Counts()
	fmt.Fprintf(stderr, "gitserve: served %d ref advertisements, %d fetches, %d pushes\n",
		n.RefAdvertisements, n.Fetches, n.Pushes)
	return nil
}
