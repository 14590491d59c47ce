package render

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
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
// agent image's /jolokia, the emptyDir and the Secret's files.
type agentPod struct {
	image, agent, secret string
}

func newAgentPod(t *testing.T, user, password string) agentPod {
	t.Helper()
	dir := t.TempDir()
	p := agentPod{image: filepath.Join(dir, "image"), agent: filepath.Join(dir, "agent"), secret: filepath.Join(dir, "secret")}
	for _, d := range []string{p.image, p.agent, p.secret} {
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
	local := strings.NewReplacer(jolokiaAgentDir, p.agent, "/jolokia/", p.image+"/", jolokiaCredentialsDir, p.secret)
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
	assert.Equal(t, "-Xmx1G -javaagent:/opt/jolokia/jolokia-agent.jar=config=/opt/jolokia/jolokia-agent.properties", opts.Value,
		"the agent's options, the password among them, are not on the command line")
	_, hasUser := envVar(sts, "JOLOKIA_USER")
	assert.True(t, hasUser, "the readiness probe reads the credentials from the environment")

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

func TestAgentWithoutCredentials(t *testing.T) {
	needTools(t, "sh", "cp", "chmod", "cat", "mv")
	sts := renderOne(t, "")
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

func TestAgentImageNone(t *testing.T) {
	sts := renderOne(t, "  jolokia: {agentImage: none, credentialsSecret: jolokia-auth}\n")
	assert.Nil(t, initContainer(t, sts, "jolokia-agent"))
	for _, v := range sts.Spec.Template.Spec.Volumes {
		assert.NotContains(t, []string{volumeJolokia, volumeJolokiaCredentials}, v.Name)
	}
	_, hasOpts := envVar(sts, "JVM_EXTRA_OPTS")
	assert.False(t, hasOpts, "the image runs its own agent: no -javaagent")
	_, hasUser := envVar(sts, "JOLOKIA_USER")
	assert.True(t, hasUser, "the image's agent and the probe still get the credentials")
}

// agentJar finds the Jolokia 2.6.0 JVM agent: $JOLOKIA_AGENT_JAR, or
// Maven's local repository.
func agentJar(t *testing.T) string {
	t.Helper()
	home, _ := os.UserHomeDir()
	for _, p := range []string{os.Getenv("JOLOKIA_AGENT_JAR"),
		filepath.Join(home, ".m2/repository/org/jolokia/jolokia-agent-jvm/2.6.0/jolokia-agent-jvm-2.6.0-javaagent.jar")} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("no Jolokia agent jar (set JOLOKIA_AGENT_JAR)")
	return ""
}

// TestAgentOptionsOnTheRealAgent starts a JVM with the real Jolokia agent
// and the options file the init container writes: the agent listens on the
// port, asks for the credentials, and serves a request while another one
// is stuck (its executor is concurrent; the default executor=single, the
// control, is not).
func TestAgentOptionsOnTheRealAgent(t *testing.T) {
	needTools(t, "java", "javac", "sh", "cp", "chmod", "cat", "sed", "mv", "printf")
	jar := agentJar(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	const user, password = "ringops", `pa\ss word`
	sts := renderOne(t, "  jolokia: {port: "+strconv.Itoa(port)+", credentialsSecret: jolokia-auth}\n")
	p := newAgentPod(t, user, password)
	require.NoError(t, os.Remove(filepath.Join(p.image, "jolokia-agent.jar")))
	data, err := os.ReadFile(jar)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(p.image, "jolokia-agent.jar"), data, 0o644))
	out, err := p.run(initContainer(t, sts, "jolokia-agent"))
	require.NoError(t, err, "%s", out)
	opts, _ := envVar(sts, "JVM_EXTRA_OPTS")
	javaagent := strings.NewReplacer(jolokiaAgentDir, p.agent).Replace(opts.Value)

	t.Run("ringops options", func(t *testing.T) {
		base := startAgentJVM(t, javaagent, port)
		get := func(u, pw string) int {
			req, _ := http.NewRequest(http.MethodGet, base+"version", nil)
			if u != "" {
				req.SetBasicAuth(u, pw)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		assert.Equal(t, http.StatusUnauthorized, get("", ""))
		assert.Equal(t, http.StatusUnauthorized, get(user, "wrong"))
		assert.Equal(t, http.StatusOK, get(user, password))
		assert.True(t, servesWhileStuck(t, port, user, password), "a stuck request blocks the agent")
	})
	t.Run("control: the agent's default executor", func(t *testing.T) {
		props, err := os.ReadFile(p.config())
		require.NoError(t, err)
		single := filepath.Join(p.agent, "single.properties")
		require.NoError(t, os.WriteFile(single, []byte(strings.Replace(string(props), "executor=fixed", "executor=single", 1)), 0o644))
		startAgentJVM(t, strings.Replace(javaagent, p.config(), single, 1), port)
		assert.False(t, servesWhileStuck(t, port, user, password), "executor=single served a request while another was stuck")
	})
}

// startAgentJVM runs an idle JVM with the agent and returns the agent's
// URL once it answers; the JVM is killed when the test ends.
func startAgentJVM(t *testing.T, javaagent string, port int) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "Idle.java")
	require.NoError(t, os.WriteFile(src, []byte("public class Idle { public static void main(String[] a) throws Exception { Thread.sleep(600000); } }\n"), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "java", "-Xmx64m", "-XX:TieredStopAtLevel=1", javaagent, src)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d/jolokia/", port)
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
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
