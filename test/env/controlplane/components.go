package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringops/ringops/test/env/internal/proc"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The users of the static token file.
const (
	AdminUser             = "ringops-admin"
	controllerManagerUser = "system:kube-controller-manager"
)

// The controllers kube-controller-manager runs.
var controllers = []string{
	"clusterrole-aggregation-controller",
	"deployment-controller",
	"disruption-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"persistentvolume-binder-controller",
	"persistentvolume-protection-controller",
	"persistentvolumeclaim-protection-controller",
	"replicaset-controller",
	"root-ca-certificate-publisher-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"statefulset-controller",
}

// files are the paths of what prepare writes.
type files struct {
	ca, cert, key, saKey, saPub, tokens, kcmKubeconfig, etcdData string
}

// prepare writes certificates, keys, tokens and the controller manager's
// kubeconfig into Dir.
func (c *ControlPlane) prepare() error {
	dir := c.Dir
	c.files = files{
		ca: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "apiserver.crt"),
		key: filepath.Join(dir, "apiserver.key"), saKey: filepath.Join(dir, "sa.key"),
		saPub: filepath.Join(dir, "sa.pub"), tokens: filepath.Join(dir, "tokens.csv"),
		kcmKubeconfig: filepath.Join(dir, "controller-manager.kubeconfig"),
		etcdData:      filepath.Join(dir, "etcd"),
	}
	if err := mkdirs(dir, c.files.etcdData); err != nil {
		return err
	}
	ca, err := newCA(c.Name)
	if err != nil {
		return err
	}
	ip := net.ParseIP(c.opts.Address)
	serving, err := newServing(ca, "kube-apiserver", []net.IP{ip, net.IPv4(127, 0, 0, 1)},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"})
	if err != nil {
		return err
	}
	saKey, saPub, err := newServiceAccountKey()
	if err != nil {
		return err
	}
	if c.adminToken, err = newToken(); err != nil {
		return err
	}
	if c.kcmToken, err = newToken(); err != nil {
		return err
	}
	c.CA = ca.cert
	tokens := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n%s,%s,%s\n",
		c.adminToken, AdminUser, AdminUser, c.kcmToken, controllerManagerUser, controllerManagerUser)
	if err := writeFiles(map[string][]byte{
		c.files.ca: ca.cert, c.files.cert: serving.cert, c.files.key: serving.key,
		c.files.saKey: saKey, c.files.saPub: saPub, c.files.tokens: []byte(tokens),
	}); err != nil {
		return err
	}
	return c.writeKubeconfig(c.files.kcmKubeconfig, controllerManagerUser, c.kcmToken)
}

func (c *ControlPlane) writeKubeconfig(path, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.CA}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: user}
	cfg.CurrentContext = c.Name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return nil
}

func (c *ControlPlane) startProc(name, path string, args []string) (*proc.Process, error) {
	var env []string
	if c.opts.GOGC > 0 && name != Etcd {
		env = append(env, fmt.Sprintf("GOGC=%d", c.opts.GOGC))
	}
	return proc.Start(c.Name+"/"+name, filepath.Join(c.Dir, name+".log"), path, args, env)
}

func (c *ControlPlane) hostPort(port int) string {
	return net.JoinHostPort(c.opts.Address, fmt.Sprint(port))
}

func (c *ControlPlane) startEtcd() (*proc.Process, error) {
	client := "http://" + c.hostPort(EtcdClientPort)
	peer := "http://" + c.hostPort(EtcdPeerPort)
	return c.startProc(Etcd, c.opts.EtcdPath, []string{
		"--name=" + c.Name,
		"--data-dir=" + c.files.etcdData,
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=" + c.Name + "=" + peer,
		"--initial-cluster-state=new",
		fmt.Sprintf("--quota-backend-bytes=%d", c.opts.EtcdQuotaBytes),
		"--snapshot-count=5000",
		"--auto-compaction-mode=periodic", "--auto-compaction-retention=5m",
		"--logger=zap", "--log-level=warn",
	})
}

func (c *ControlPlane) startAPIServer() (*proc.Process, error) {
	return c.startProc(APIServer, filepath.Join(c.opts.BinDir, APIServer), []string{
		"--etcd-servers=http://" + c.hostPort(EtcdClientPort),
		"--bind-address=" + c.opts.Address,
		"--advertise-address=" + c.opts.Address,
		fmt.Sprintf("--secure-port=%d", APIServerPort),
		"--cert-dir=" + c.Dir,
		"--tls-cert-file=" + c.files.cert, "--tls-private-key-file=" + c.files.key,
		"--token-auth-file=" + c.files.tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc." + c.Name,
		"--service-account-key-file=" + c.files.saPub,
		"--service-account-signing-key-file=" + c.files.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		// Debian's etcd 3.4.23 lacks reliable watch progress requests
		// (needs 3.4.31+); a watch without resourceVersion would then wait
		// for a fresh watch cache that never comes and fail after 3s.
		"--feature-gates=WatchList=false",
		"--disable-admission-plugins=TaintNodesByCondition,ResourceQuota",
		"--allow-privileged=true",
		"--profiling=false",
		"--enable-garbage-collector=true",
	})
}

func (c *ControlPlane) startControllerManager() (*proc.Process, error) {
	return c.startProc(ControllerManager, filepath.Join(c.opts.BinDir, ControllerManager), []string{
		"--kubeconfig=" + c.files.kcmKubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + c.files.saKey,
		"--root-ca-file=" + c.files.ca,
		"--cluster-name=" + c.Name,
		"--leader-elect=false",
		"--bind-address=" + c.opts.Address,
		fmt.Sprintf("--secure-port=%d", ControllerManagerPort),
		"--cert-dir=" + c.Dir,
		"--profiling=false",
	})
}

func (c *ControlPlane) etcdReady(ctx context.Context) error {
	body, err := get(ctx, http.DefaultClient, "http://"+c.hostPort(EtcdClientPort)+"/health", "")
	if err != nil {
		return err
	}
	if !strings.Contains(body, `"health":"true"`) {
		return fmt.Errorf("etcd health: %s", body)
	}
	return nil
}

func (c *ControlPlane) apiServerReady(ctx context.Context) error {
	_, err := get(ctx, c.httpClient(), c.URL+"/readyz", c.adminToken)
	return err
}

// controllerManagerReady waits for the default ServiceAccount of namespace
// default, which the serviceaccount controller creates once it runs.
func (c *ControlPlane) controllerManagerReady(ctx context.Context) error {
	_, err := get(ctx, c.httpClient(), c.URL+"/api/v1/namespaces/default/serviceaccounts/default", c.adminToken)
	return err
}

// httpClient trusts the control plane's CA and keeps no idle connections,
// so that nothing is left open once the readiness checks are over.
func (c *ControlPlane) httpClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CA)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		DisableKeepAlives: true,
	}}
}

// get returns the body of a 200 answer to GET url.
func get(ctx context.Context, client *http.Client, url, token string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}
