package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/ringops/ringops/test/env"
)

// serve runs the world in this process until SIGINT or SIGTERM.
func serve(cfg config, out io.Writer) error {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return fmt.Errorf("sandbox %s: %w", cfg.dir, err)
	}
	if pid, ok := runningPid(cfg); ok && pid != os.Getpid() {
		return fmt.Errorf("sandbox already runs (pid %d); stop it with: sandbox down", pid)
	}
	if err := os.WriteFile(cfg.path(filePid), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("sandbox: pid file: %w", err)
	}
	defer func() { _ = os.Remove(cfg.path(filePid)) }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	w, err := env.StartWorld(ctx, worldOptions(cfg))
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	if err := publish(cfg, w); err != nil {
		return err
	}
	printInfo(out, cfg)
	<-ctx.Done()
	_, _ = fmt.Fprintln(out, "sandbox: stopping")
	_ = os.Remove(cfg.path(fileReady))
	return w.Stop()
}

func worldOptions(cfg config) env.Options {
	opts := env.DefaultOptions()
	if cfg.real {
		opts = env.RealOptions()
	}
	opts.Regions = cfg.regions
	if cfg.nodes > 0 {
		opts.NodesPerRegion = cfg.nodes
	}
	opts.Dir = cfg.path(dirWorld)
	opts.Cassandra.BootstrapTime = cfg.bootstrap
	return opts
}

// publish copies the kubeconfig to its fixed path and marks the sandbox ready.
func publish(cfg config, w *env.World) error {
	data, err := os.ReadFile(w.Kubeconfig)
	if err != nil {
		return fmt.Errorf("sandbox: kubeconfig: %w", err)
	}
	if err := os.WriteFile(cfg.path(fileKubeconfig), data, 0o600); err != nil {
		return fmt.Errorf("sandbox: kubeconfig: %w", err)
	}
	var regions []string
	for _, r := range w.Regions() {
		regions = append(regions, r.Name)
	}
	return os.WriteFile(cfg.path(fileReady), []byte(strings.Join(regions, ",")+"\n"), 0o644)
}

// printInfo tells people how to use the sandbox.
func printInfo(out io.Writer, cfg config) {
	regions := cfg.regions
	if data, err := os.ReadFile(cfg.path(fileReady)); err == nil {
		regions = strings.Split(strings.TrimSpace(string(data)), ",")
	}
	kc := cfg.path(fileKubeconfig)
	_, _ = fmt.Fprintf(out, `ringops sandbox is up: %d regions, one real control plane each.
  kubeconfig: %s
  contexts:   %s
  try:        kubectl --kubeconfig %s get pods -A --context %s
              export KUBECONFIG=%s; kubectl config get-contexts
  logs:       %s, %s/<region>/*.log
  memory:     go run ./test/env/cmd/sandbox stats
  stop:       go run ./test/env/cmd/sandbox down
`, len(regions), kc, strings.Join(regions, " "), kc, regions[0], kc,
		cfg.path(fileLog), cfg.path(dirWorld))
}
