package render

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The Jolokia agent init container's script runs here with the machine's
// sh, and its options file is loaded by the real Jolokia JVM agent when a
// JVM and the agent jar are at hand.

func initContainer(t *testing.T, sts *appsv1.StatefulSet, name string) *corev1.Container {
	t.Helper()
	for i, c := range sts.Spec.Template.Spec.InitContainers {
		if c.Name == name {
			return &sts.Spec.Template.Spec.InitContainers[i]
		}
	}
	return nil
}

func envVar(sts *appsv1.StatefulSet, name string) (corev1.EnvVar, bool) {
	for _, e := range sts.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

// agentPod is a pod's file system for the agent's init container: the
// agent image's /jolokia, the emptyDir, the credentials Secret's files and
// the TLS Secret's.
type agentPod struct {
	image, agent, secret, tls string
}

func newAgentPod(t *testing.T, user, password string) agentPod {
	t.Helper()
	dir := t.TempDir()
	p := agentPod{image: filepath.Join(dir, "image"), agent: filepath.Join(dir, "agent"), secret: filepath.Join(dir, "secret"),
		tls: filepath.Join(dir, "tls")}
	for _, d := range []string{p.image, p.agent, p.secret, p.tls} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(p.image, "jolokia-agent.jar"), []byte("jar"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(p.secret, "username"), []byte(user), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(p.secret, "password"), []byte(password+"\n"), 0o644))
	return p
}

// run runs the init container's command with the pod's paths mapped to
// the test's directories.
func (p agentPod) run(c *corev1.Container) ([]byte, error) {
	local := strings.NewReplacer(jolokiaAgentDir, p.agent, "/jolokia/", p.image+"/", jolokiaCredentialsDir, p.secret, jolokiaTLSDir, p.tls)
	args := make([]string, len(c.Command))
	for i, a := range c.Command {
		args[i] = local.Replace(a)
	}
	return exec.Command(args[0], args[1:]...).CombinedOutput()
}

func (p agentPod) config() string { return filepath.Join(p.agent, "jolokia-agent.properties") }

// readProperties reads a Java properties file as java.util.Properties does
// for what the script writes: comments, key=value, \\ and "\ " escapes.
func readProperties(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		require.True(t, ok, "line %q has no =", line)
		raw = strings.TrimLeft(raw, " \t")
		var v strings.Builder
		for i := 0; i < len(raw); i++ {
			if raw[i] == '\\' {
				require.Less(t, i+1, len(raw), "line %q ends with a lone backslash (a continuation)", line)
				i++
			}
			v.WriteByte(raw[i])
		}
		out[key] = v.String()
	}
	require.NoError(t, sc.Err())
	return out
}

func TestAgentInjectedByDefault(t *testing.T) {
	needTools(t, "sh", "cp", "chmod", "cat", "sed", "mv", "printf")
	const user, password = "ringops", ` s3cr\t=#!:x\`
	sts := renderOne(t, "  jolokia: {port: 8799, credentialsSecret: jolokia-auth}\n  config: {jvm-options: [-Xmx1G]}\n")
	c := initContainer(t, sts, "jolokia-agent")
	require.NotNil(t, c, "the official cassandra image has no agent: ringops injects it by default")
	assert.Equal(t, "ghcr.io/ringops/jolokia-agent:2.6.0", c.Image)

	opts, _ := envVar(sts, "JVM_EXTRA_OPTS")
	assert.Equal(t, "-Xmx1G "+ResetBootstrapProgress+" -javaagent:/opt/jolokia/jolokia-agent.jar=config=/opt/jolokia/jolokia-agent.properties", opts.Value,
		"the agent's options, the password among them, are not on the command line")
	for _, name := range []string{"JOLOKIA_USER", "JOLOKIA_PASSWORD"} {
		_, ok := envVar(sts, name)
		assert.False(t, ok, "%s: the injected agent and the probe read the options file; env is seen by every process of the container", name)
	}

	p := newAgentPod(t, user, password)
	out, err := p.run(c)
	require.NoError(t, err, "%s", out)
	st, err := os.Stat(filepath.Join(p.agent, "jolokia-agent.jar"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "Cassandra's user reads the jar")
	assert.Equal(t, map[string]string{
		"host": "0.0.0.0", "port": "8799", "executor": "fixed", "threadNr": strconv.Itoa(jolokiaAgentThreads),
		"discoveryEnabled": "false", "user": user, "password": password,
	}, readProperties(t, p.config()))

	// A password the agent would read otherwise (ISO-8859-1) fails the pod
	// at its start, with the reason, and leaves no options file.
	p = newAgentPod(t, user, "pässword")
	out, err = p.run(c)
	assert.Error(t, err)
	assert.Contains(t, string(out), "printable ASCII")
	_, err = os.Stat(p.config())
	assert.True(t, os.IsNotExist(err), "no options file after a failure")
}

// TestAgentAuthenticatesByDefault: without spec.jolokia.credentialsSecret
// the agent asks for the credentials of the Secret ringops keeps,
// <cluster>-jolokia; it was open before.
func TestAgentAuthenticatesByDefault(t *testing.T) {
	needTools(t, "sh", "cp", "chmod", "cat", "sed", "mv", "printf")
	sts := renderOne(t, "")
	c := initContainer(t, sts, "jolokia-agent")
	require.NotNil(t, c)
	var secret string
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name == volumeJolokiaCredentials {
			secret = v.Secret.SecretName
		}
	}
	assert.Equal(t, "orders-jolokia", secret, "the Secret ringops keeps")
	assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: volumeJolokiaCredentials, MountPath: jolokiaCredentialsDir, ReadOnly: true})
	for _, m := range sts.Spec.Template.Spec.Containers[0].VolumeMounts {
		assert.NotEqual(t, volumeJolokiaCredentials, m.Name, "the Secret is mounted in the init container only")
	}
	p := newAgentPod(t, "ringops-1f2e", "Zx9-random")
	out, err := p.run(c)
	require.NoError(t, err, "%s", out)
	props := readProperties(t, p.config())
	assert.Equal(t, "ringops-1f2e", props["user"])
	assert.Equal(t, "Zx9-random", props["password"])
}

// TestAgentWithoutAuthentication: credentialsSecret none is the only way
// to an open agent.
func TestAgentWithoutAuthentication(t *testing.T) {
	needTools(t, "sh", "cp", "chmod", "cat", "mv")
	sts := renderOne(t, "  jolokia: {credentialsSecret: none}\n")
	c := initContainer(t, sts, "jolokia-agent")
	require.NotNil(t, c)
	for _, m := range c.VolumeMounts {
		assert.NotEqual(t, volumeJolokiaCredentials, m.Name)
	}
	p := newAgentPod(t, "", "")
	out, err := p.run(c)
	require.NoError(t, err, "%s", out)
	props := readProperties(t, p.config())
	assert.Equal(t, "8778", props["port"])
	assert.NotContains(t, props, "user")
	assert.NotContains(t, props, "password")
}

// TestAgentTLS: the certificate's Secret is mounted in the init container
// only, copied next to the jar, and named in the options; a second agent
// listens in plain HTTP on the loopback for the probe.
func TestAgentTLS(t *testing.T) {
	needTools(t, "sh", "cp", "chmod", "cat", "sed", "mv", "printf")
	sts := renderOne(t, "  jolokia: {port: 8800, tls: {secret: jolokia-tls, keyAlgorithm: EC}}\n")
	c := initContainer(t, sts, "jolokia-agent")
	require.NotNil(t, c)
	assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: volumeJolokiaTLS, MountPath: jolokiaTLSDir, ReadOnly: true})
	for _, m := range sts.Spec.Template.Spec.Containers[0].VolumeMounts {
		assert.NotEqual(t, volumeJolokiaTLS, m.Name)
	}
	opts, _ := envVar(sts, "JVM_EXTRA_OPTS")
	assert.Equal(t, ResetBootstrapProgress+" -javaagent:/opt/jolokia/jolokia-agent.jar=config=/opt/jolokia/jolokia-agent.properties "+
		"-javaagent:/opt/jolokia/jolokia-agent.jar=config=/opt/jolokia/jolokia-agent.properties,host=127.0.0.1,port=8801,protocol=http", opts.Value)
	assert.Contains(t, sts.Spec.Template.Spec.Containers[0].ReadinessProbe.Exec.Command[2], "/dev/tcp/127.0.0.1/8801\n")

	p := newAgentPod(t, "u", "p")
	require.NoError(t, os.WriteFile(filepath.Join(p.tls, "tls.crt"), []byte("CERT"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(p.tls, "tls.key"), []byte("KEY"), 0o600))
	out, err := p.run(c)
	require.NoError(t, err, "%s", out)
	props := readProperties(t, p.config())
	assert.Equal(t, "https", props["protocol"])
	assert.Equal(t, filepath.Join(p.agent, "tls.crt"), props["serverCert"], "/opt/jolokia/tls.crt in the pod")
	assert.Equal(t, filepath.Join(p.agent, "tls.key"), props["serverKey"])
	assert.Equal(t, "EC", props["serverKeyAlgorithm"])
	key, err := os.ReadFile(filepath.Join(p.agent, "tls.key"))
	require.NoError(t, err)
	assert.Equal(t, "KEY", string(key))
}

func TestAgentImageNone(t *testing.T) {
	sts := renderOne(t, "  jolokia: {agentImage: none, credentialsSecret: jolokia-auth}\n")
	assert.Nil(t, initContainer(t, sts, "jolokia-agent"))
	for _, v := range sts.Spec.Template.Spec.Volumes {
		assert.NotContains(t, []string{volumeJolokia, volumeJolokiaCredentials}, v.Name)
	}
	opts, _ := envVar(sts, "JVM_EXTRA_OPTS")
	assert.Equal(t, ResetBootstrapProgress, opts.Value, "the image runs its own agent: no -javaagent")
	_, hasUser := envVar(sts, "JOLOKIA_USER")
	assert.True(t, hasUser, "the image's agent and the probe still get the credentials")
}

// agentJar finds the Jolokia 2.6.0 JVM agent: $JOLOKIA_AGENT_JAR, Maven's
// local repository, or the local world's cache (test/env/realcassandra).
func agentJar(t *testing.T) string {
	t.Helper()
	home, _ := os.UserHomeDir()
	for _, p := range []string{os.Getenv("JOLOKIA_AGENT_JAR"),
		filepath.Join(home, ".m2/repository/org/jolokia/jolokia-agent-jvm/2.6.0/jolokia-agent-jvm-2.6.0-javaagent.jar"),
		filepath.Join(home, ".cache/ringops/cassandra/5.0.9/jolokia/jolokia-agent.jar")} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("no Jolokia agent jar (set JOLOKIA_AGENT_JAR)")
	return ""
}

// realAgentPod runs the rendered init container with the real agent jar in
// the image's place; it returns the pod's files and JVM_EXTRA_OPTS with
// the pod's paths mapped to them.
func realAgentPod(t *testing.T, sts *appsv1.StatefulSet, user, password string, tlsFiles map[string][]byte) (agentPod, string) {
	t.Helper()
	p := newAgentPod(t, user, password)
	data, err := os.ReadFile(agentJar(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(p.image, "jolokia-agent.jar"), data, 0o644))
	for name, b := range tlsFiles {
		require.NoError(t, os.WriteFile(filepath.Join(p.tls, name), b, 0o600))
	}
	out, err := p.run(initContainer(t, sts, "jolokia-agent"))
	require.NoError(t, err, "%s", out)
	opts, _ := envVar(sts, "JVM_EXTRA_OPTS")
	return p, strings.NewReplacer(jolokiaAgentDir, p.agent).Replace(opts.Value)
}

// runProbe runs the rendered readiness probe with the pod's paths mapped,
// in an environment without any JOLOKIA_ variable, until it passes or for
// 20 s (the idle program registers its MBean after the agents start).
func runProbe(sts *appsv1.StatefulSet, p agentPod) ([]byte, error) {
	probe := sts.Spec.Template.Spec.Containers[0].ReadinessProbe.Exec.Command
	deadline := time.Now().Add(20 * time.Second)
	for {
		cmd := exec.Command(probe[0], probe[1], strings.NewReplacer(jolokiaAgentDir, p.agent).Replace(probe[2]))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			return out, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// status is the HTTP status of a GET of the agent's version.
func status(t *testing.T, client *http.Client, url, user, password string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"version", nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAgentOptionsOnTheRealAgent starts a JVM with the real Jolokia 2.6.0
// agent, the options file the init container writes and JVM_EXTRA_OPTS:
// by default (no credentialsSecret) the agent refuses a read without the
// credentials (401; it served it before), serves one with them, and the
// rendered readiness probe, which finds them in the options file, passes;
// it serves a request while another one is stuck (its executor is
// concurrent; the default executor=single, the control, is not). With
// spec.jolokia.tls it speaks HTTPS with the certificate of the Secret, and
// the probe passes through the plain-HTTP loopback listener.
func TestAgentOptionsOnTheRealAgent(t *testing.T) {
	needTools(t, "java", "javac", "bash", "sh", "cp", "chmod", "cat", "sed", "mv", "printf", "base64", "tr", "grep")
	const user, password = "ringops", `pa\ss word`
	port := freePorts(t, 1)
	sts := renderOne(t, "  jolokia: {port: "+strconv.Itoa(port)+"}\n")
	p, javaagent := realAgentPod(t, sts, user, password, nil)

	t.Run("ringops options", func(t *testing.T) {
		base := startAgentJVM(t, javaagent, "http", port)
		assert.Equal(t, http.StatusUnauthorized, status(t, http.DefaultClient, base, "", ""), "a read without credentials is refused")
		assert.Equal(t, http.StatusUnauthorized, status(t, http.DefaultClient, base, user, "wrong"))
		assert.Equal(t, http.StatusOK, status(t, http.DefaultClient, base, user, password))
		out, err := runProbe(sts, p)
		assert.NoError(t, err, "the readiness probe reads the credentials from the options file: %s", out)
		assert.True(t, servesWhileStuck(t, port, user, password), "a stuck request blocks the agent")
	})
	t.Run("control: the agent's default executor", func(t *testing.T) {
		props, err := os.ReadFile(p.config())
		require.NoError(t, err)
		single := filepath.Join(p.agent, "single.properties")
		require.NoError(t, os.WriteFile(single, []byte(strings.Replace(string(props), "executor=fixed", "executor=single", 1)), 0o644))
		startAgentJVM(t, strings.Replace(javaagent, p.config(), single, 1), "http", port)
		assert.False(t, servesWhileStuck(t, port, user, password), "executor=single served a request while another was stuck")
	})
	t.Run("https", func(t *testing.T) {
		port := freePorts(t, 2)
		ca, files := testCertificate(t)
		sts := renderOne(t, "  jolokia: {port: "+strconv.Itoa(port)+", tls: {secret: jolokia-tls}}\n")
		p, javaagent := realAgentPod(t, sts, user, password, files)
		base := startAgentJVM(t, javaagent, "https", port)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca, MinVersion: tls.VersionTLS12}}}
		assert.Equal(t, http.StatusUnauthorized, status(t, client, base, "", ""), "a read without credentials is refused")
		assert.Equal(t, http.StatusOK, status(t, client, base, user, password), "served over HTTPS, the certificate checked against the CA")
		_, err := http.Get(strings.Replace(base, "https:", "http:", 1) + "version")
		assert.Error(t, err, "no plain HTTP on the agent's port")
		local := fmt.Sprintf("http://127.0.0.1:%d/jolokia/", port+1)
		assert.Equal(t, http.StatusUnauthorized, status(t, http.DefaultClient, local, "", ""), "the loopback listener asks for the credentials too")
		out, err := runProbe(sts, p)
		assert.NoError(t, err, "the readiness probe reads the loopback listener: %s", out)
	})
}

// freePorts finds n consecutive free ports on 127.0.0.1 and returns the first.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		first := ln.Addr().(*net.TCPAddr).Port
		free := true
		for i := 1; i < n && free; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", first+i))
			if free = err == nil; free {
				l.Close()
			}
		}
		ln.Close()
		if free && first+n-1 <= 65535 {
			return first
		}
	}
	t.Fatal("no free ports")
	return 0
}

// testCertificate is a CA and, signed by it, the agent's certificate for
// 127.0.0.1 with its RSA key in PKCS#1 (what cert-manager writes by
// default), as the files of a kubernetes.io/tls Secret.
func testCertificate(t *testing.T) (*x509.CertPool, map[string][]byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "cassandra"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}
}

// idleJVM is an idle program holding Cassandra's StorageService MBean as
// the readiness probe reads it: NORMAL, serving CQL.
const idleJVM = `import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

public class Idle {
    public interface StorageServiceMBean {
        String getOperationMode();
        boolean isNativeTransportRunning();
    }
    public static class StorageService implements StorageServiceMBean {
        public String getOperationMode() { return "NORMAL"; }
        public boolean isNativeTransportRunning() { return true; }
    }
    public static void main(String[] a) throws Exception {
        ManagementFactory.getPlatformMBeanServer().registerMBean(new StorageService(),
            new ObjectName("org.apache.cassandra.db:type=StorageService"));
        Thread.sleep(600000);
    }
}
`

// startAgentJVM runs an idle JVM with the agent and returns the agent's
// URL once it answers; the JVM is killed when the test ends.
func startAgentJVM(t *testing.T, javaagent, scheme string, port int) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "Idle.java")
	require.NoError(t, os.WriteFile(src, []byte(idleJVM), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"-Xmx64m", "-XX:TieredStopAtLevel=1"}, strings.Fields(javaagent)...)
	cmd := exec.CommandContext(ctx, "java", append(args, src)...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base := fmt.Sprintf("%s://127.0.0.1:%d/jolokia/", scheme, port)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
			cancel()
			_ = cmd.Wait()
			t.Fatalf("the agent never listened on %d: %s", port, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// servesWhileStuck holds a request whose headers never end, then reports
// whether another request is answered within a few seconds.
func servesWhileStuck(t *testing.T, port int, user, password string) bool {
	t.Helper()
	stuck, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err)
	defer stuck.Close()
	_, err = io.WriteString(stuck, "GET /jolokia/version HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the agent picks it up
	client := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/jolokia/version", port), nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
