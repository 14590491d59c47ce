package kube

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrUnknownContext: a context is neither in the kubeconfig nor the
// in-cluster context.
var ErrUnknownContext = errors.New("no such kube context")

// Options say where client configurations come from.
type Options struct {
	// Kubeconfig is the kubeconfig file; "" uses $KUBECONFIG (a list of
	// files), else ~/.kube/config.
	Kubeconfig string
	// InClusterContext is the context served by the in-cluster
	// configuration (the service account of the pod ringops runs in) when
	// the kubeconfig does not define it; "" for none.
	InClusterContext string
	// QPS and Burst limit each context's client.
	QPS   float32
	Burst int
	// Timeout bounds each API request.
	Timeout time.Duration
	// UserAgent identifies ringops to the API servers.
	UserAgent string
}

// DefaultOptions: 20 requests per second (bursts of 40) per context, 30 s
// per request.
func DefaultOptions() Options {
	return Options{QPS: 20, Burst: 40, Timeout: 30 * time.Second, UserAgent: "ringops"}
}

// Clients holds one client per kube context. It is safe for concurrent use.
type Clients struct {
	contexts []string
	configs  map[string]*rest.Config
	sets     map[string]kubernetes.Interface
}

// NewClients builds a client for each context (duplicates are ignored).
func NewClients(contexts []string, opts Options) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if opts.Kubeconfig != "" {
		rules.ExplicitPath = opts.Kubeconfig
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	configs := map[string]*rest.Config{}
	for _, name := range contexts {
		cfg, err := contextConfig(raw, rules, name, opts)
		if err != nil {
			return nil, err
		}
		configs[name] = applyOptions(cfg, opts)
	}
	return NewClientsFromConfigs(configs)
}

func contextConfig(raw *clientcmdapi.Config, rules clientcmd.ClientConfigLoader, name string, opts Options) (*rest.Config, error) {
	if _, ok := raw.Contexts[name]; ok {
		cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, name, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("context %s: %w", name, err)
		}
		return cfg, nil
	}
	if name != "" && name == opts.InClusterContext {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("context %s: in-cluster config: %w", name, err)
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("context %s: %w in the kubeconfig (%s)", name, ErrUnknownContext, kubeconfigNames(rules))
}

func kubeconfigNames(rules clientcmd.ClientConfigLoader) string {
	if r, ok := rules.(*clientcmd.ClientConfigLoadingRules); ok {
		if r.ExplicitPath != "" {
			return r.ExplicitPath
		}
		if len(r.Precedence) > 0 {
			return fmt.Sprint(r.Precedence)
		}
	}
	return "none found"
}

func applyOptions(cfg *rest.Config, opts Options) *rest.Config {
	d := DefaultOptions()
	cfg.QPS, cfg.Burst, cfg.Timeout, cfg.UserAgent = d.QPS, d.Burst, d.Timeout, d.UserAgent
	if opts.QPS > 0 {
		cfg.QPS = opts.QPS
	}
	if opts.Burst > 0 {
		cfg.Burst = opts.Burst
	}
	if opts.Timeout > 0 {
		cfg.Timeout = opts.Timeout
	}
	if opts.UserAgent != "" {
		cfg.UserAgent = opts.UserAgent
	}
	return cfg
}

// NewClientsFromConfigs builds clients from ready configurations, keyed by
// context (tests, or a caller with its own loading).
func NewClientsFromConfigs(configs map[string]*rest.Config) (*Clients, error) {
	c := &Clients{configs: map[string]*rest.Config{}, sets: map[string]kubernetes.Interface{}}
	for name, cfg := range configs {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("context %s: %w", name, err)
		}
		c.contexts = append(c.contexts, name)
		c.configs[name] = cfg
		c.sets[name] = cs
	}
	slices.Sort(c.contexts)
	return c, nil
}

// Contexts lists the contexts, sorted.
func (c *Clients) Contexts() []string { return slices.Clone(c.contexts) }

// Config returns a copy of a context's client configuration.
func (c *Clients) Config(context string) (*rest.Config, error) {
	cfg, ok := c.configs[context]
	if !ok {
		return nil, fmt.Errorf("context %s: %w", context, ErrUnknownContext)
	}
	return rest.CopyConfig(cfg), nil
}

// Configs returns a copy of every context's configuration.
func (c *Clients) Configs() map[string]*rest.Config {
	out := make(map[string]*rest.Config, len(c.configs))
	for name, cfg := range c.configs {
		out[name] = rest.CopyConfig(cfg)
	}
	return out
}

// Clientset returns a context's clientset.
func (c *Clients) Clientset(context string) (kubernetes.Interface, error) {
	cs, ok := c.sets[context]
	if !ok {
		return nil, fmt.Errorf("context %s: %w", context, ErrUnknownContext)
	}
	return cs, nil
}

// KubeconfigContexts lists the contexts of the kubeconfig (opts.Kubeconfig,
// else $KUBECONFIG, else ~/.kube/config), plus opts.InClusterContext,
// sorted, and the kubeconfig's current context. A missing kubeconfig is
// no context, not an error, when an in-cluster context is given.
func KubeconfigContexts(opts Options) (contexts []string, current string, err error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if opts.Kubeconfig != "" {
		rules.ExplicitPath = opts.Kubeconfig
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	for name := range raw.Contexts {
		contexts = append(contexts, name)
	}
	if opts.InClusterContext != "" && !slices.Contains(contexts, opts.InClusterContext) {
		contexts = append(contexts, opts.InClusterContext)
	}
	slices.Sort(contexts)
	return contexts, raw.CurrentContext, nil
}
