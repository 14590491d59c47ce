package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

const usage = `usage: sandbox <command> [flags]

commands:
  up      start the local world (detached; -foreground to stay attached)
  status  tell whether it runs, print kubeconfig and contexts
  stats   print the resident memory of its processes
  nodetool POD ARGS...  run nodetool against a real node (-real)
  down    stop it and remove its directory
`

var errUsage = errors.New(strings.TrimSpace(usage))

// config is what the flags of every command set.
type config struct {
	dir        string
	regions    []string
	nodes      int
	bootstrap  time.Duration
	real       bool
	foreground bool
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd, args := args[0], args[1:]
	if cmd == "nodetool" {
		return nodetool(args, out)
	}
	cfg, err := parseFlags(cmd, args)
	if err != nil {
		return err
	}
	switch cmd {
	case "up":
		if cfg.foreground {
			return serve(cfg, out)
		}
		return up(cfg, out)
	case "serve":
		return serve(cfg, out)
	case "status":
		return status(cfg, out)
	case "stats":
		return stats(cfg, out)
	case "down":
		return down(cfg, out)
	}
	return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
}

func parseFlags(cmd string, args []string) (config, error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	cfg := config{}
	var regions string
	fs.StringVar(&cfg.dir, "dir", filepath.Join(os.TempDir(), "ringops-sandbox"), "sandbox directory")
	fs.StringVar(&regions, "regions", "eu-west,us-east,ap-south", "comma-separated regions, one control plane each")
	fs.IntVar(&cfg.nodes, "nodes", 0, "nodes per region (default 9, or 3 with -real)")
	fs.DurationVar(&cfg.bootstrap, "bootstrap", 5*time.Second, "time a new Cassandra node stays JOINING")
	fs.BoolVar(&cfg.real, "real", false, "run real Cassandra 5.0 nodes (one JVM per pod) instead of the simulator")
	fs.BoolVar(&cfg.foreground, "foreground", false, "up: run in this process until interrupted")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	for _, r := range strings.Split(regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			cfg.regions = append(cfg.regions, r)
		}
	}
	return cfg, nil
}

// Paths inside the sandbox directory.
func (c config) path(name string) string { return filepath.Join(c.dir, name) }

const (
	fileKubeconfig = "kubeconfig"
	filePid        = "sandbox.pid"
	fileReady      = "ready"
	fileLog        = "sandbox.log"
	dirWorld       = "world"
)
