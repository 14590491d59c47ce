package main

import (
	"errors"
	"slices"
	"sync"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// errProxyCredentials: the API server's pod proxy removes the
// Authorization header, and does not check an agent's certificate.
var errProxyCredentials = errors.New("--via proxy: the API server's pod proxy cannot carry Jolokia credentials (it removes the Authorization header) nor check an agent's certificate; use --via direct, or spec.jolokia.credentialsSecret: none without tls")

// proxyRefused tells why c's agents cannot be reached through the pod
// proxy: they ask for credentials (the default) or serve HTTPS.
func proxyRefused(c *schemas.CassandraCluster, credentialsFile string) error {
	secret, _ := render.JolokiaCredentials(c)
	if secret != "" || credentialsFile != "" || (c.Spec.Jolokia != nil && c.Spec.Jolokia.TLS != nil) {
		return errProxyCredentials
	}
	return nil
}

// jolokiaRouter is the way to c's agents: the pod proxy, or direct with
// the credentials of c's Secret in each region (or of credentialsFile)
// and HTTPS as its spec says. The SecretRouter is nil with the proxy.
func jolokiaRouter(clients *kube.Clients, c *schemas.CassandraCluster, via, credentialsFile string, warn func(error)) (jolokia.Router, *reconciler.SecretRouter, error) {
	if via == "proxy" {
		if err := proxyRefused(c, credentialsFile); err != nil {
			return nil, nil, &usageError{err}
		}
		p, err := jolokia.NewPodProxy(clients.Configs())
		return p, nil, err
	}
	opts := reconciler.SecretRouterOptions{Warn: warn}
	if credentialsFile != "" {
		cr, err := jolokia.CredentialsFromFile(credentialsFile)
		if err != nil {
			return nil, nil, err
		}
		opts.Credentials = &cr
	}
	r := reconciler.NewSecretRouter(clients, opts)
	r.SetCluster(c)
	return r, r, nil
}

// secretKeeper keeps the agents' Secret ringops owns, telling the router
// (when there is one) of each new password at once.
func secretKeeper(clients *kube.Clients, manager *kube.Manager, r *reconciler.SecretRouter) *reconciler.JolokiaSecrets {
	var opts reconciler.JolokiaSecretsOptions
	if r != nil {
		opts.Changed = r.Forget
	}
	return reconciler.NewJolokiaSecrets(clients, manager, opts)
}

// warnings collects the warnings of concurrent reads, each once.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := err.Error(); !slices.Contains(w.list, s) {
		w.list = append(w.list, s)
	}
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.list)
}
