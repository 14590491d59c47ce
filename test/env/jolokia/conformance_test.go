package jolokia

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The real agent: Debian's libjolokia-core-java (Jolokia 1.7.1) and
// libjson-simple-java, driven by testdata/harness/Harness.java.
const (
	jolokiaCoreJar = "/usr/share/java/jolokia-core.jar"
	jsonSimpleJar  = "/usr/share/java/json-simple.jar"
)

const (
	testUser     = "cassandra-ops"
	testPassword = "s3cret-for-tests"
)

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// requireJVM skips when the real agent cannot run here.
func requireJVM(t *testing.T) (java string) {
	t.Helper()
	for _, tool := range []string{"java", "javac"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("conformance needs a JDK (%s not found: %v); install openjdk-17-jdk-headless", tool, err)
		}
	}
	for _, jar := range []string{jolokiaCoreJar, jsonSimpleJar} {
		if _, err := os.Stat(jar); err != nil {
			t.Skipf("conformance needs %s: apt-get install -y libjolokia-core-java libjson-simple-java (%v)", jar, err)
		}
	}
	java, _ = exec.LookPath("java")
	return java
}

// compileHarness builds Harness.java into a temporary directory.
func compileHarness(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("testdata", "harness", "Harness.java"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("javac", "-nowarn", "-cp", jolokiaCoreJar+":"+jsonSimpleJar, "-d", dir, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac Harness.java: %v\n%s", err, out)
	}
	return dir
}

// startHarness runs the real agent and returns its address; it is stopped
// (stdin closed, then killed if need be) when the test ends.
func startHarness(t *testing.T, java, classes, user, pass string) string {
	t.Helper()
	cmd := exec.Command(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx96m",
		"-cp", strings.Join([]string{classes, jolokiaCoreJar, jsonSimpleJar}, ":"), "Harness")
	cmd.Env = append(os.Environ(), "JOLOKIA_HARNESS_USER="+user, "JOLOKIA_HARNESS_PASSWORD="+pass)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start harness: %v", err)
	}
	t.Cleanup(func() { stopHarness(cmd, stdin) })
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(strings.TrimPrefix(line, "PORT "))
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("harness printed no port; stderr:\n%s", stderr.String())
		}
		return "127.0.0.1:" + p
	case <-time.After(ioGuard):
		t.Fatalf("harness did not start; stderr:\n%s", stderr.String())
	}
	return ""
}

func stopHarness(cmd *exec.Cmd, stdin io.Closer) {
	_ = stdin.Close() // the harness exits at end of input
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// startSimulator serves the Go twins of the harness MBeans.
func startSimulator(t testing.TB, opts Options) string {
	t.Helper()
	s := NewServer(testRegistry(t), opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s.Addr()
}

// conformanceCase is one request sent to both agents.
type conformanceCase struct {
	name string
	call call
	auth bool // against the agents with basic auth on
	drop bool // the real agent closes the connection without answering
}

func get(name, uri string) conformanceCase {
	return conformanceCase{name: name, call: call{method: "GET", uri: uri}}
}

func post(name, uri, body string) conformanceCase {
	return conformanceCase{name: name, call: call{method: "POST", uri: uri, body: body}}
}

func withAuth(c conformanceCase, header map[string]string) conformanceCase {
	c.auth, c.call.header = true, header
	return c
}

// TestConformance asks the real Jolokia 1.7.1 agent and the simulator the
// same questions and requires the same answers, field by field.
func TestConformance(t *testing.T) {
	java := requireJVM(t)
	classes := compileHarness(t)
	real := map[bool]string{
		false: startHarness(t, java, classes, "", ""),
		true:  startHarness(t, java, classes, testUser, testPassword),
	}
	sim := map[bool]string{
		false: startSimulator(t, Options{}),
		true:  startSimulator(t, Options{User: testUser, Password: testPassword}),
	}
	checkHarnessServes(t, real[false])
	for _, c := range conformanceCases() {
		t.Run(c.name, func(t *testing.T) {
			want := do(t, real[c.auth], c.call)
			if (want.err != nil) != c.drop {
				t.Fatalf("real agent: connection error %v, expected dropped=%v", want.err, c.drop)
			}
			got := do(t, sim[c.auth], c.call)
			if diffs := diffReplies(want, got); len(diffs) > 0 {
				t.Errorf("%s %s: the simulator differs from the real agent:\n  %s\nreal body:      %s\nsimulator body: %s",
					c.call.method, c.call.uri, strings.Join(diffs, "\n  "), want.body, got.body)
			}
		})
	}
}

// checkHarnessServes makes sure the comparison has substance: the real
// agent answers a health read with the harness's values.
func checkHarnessServes(t *testing.T, addr string) {
	t.Helper()
	r := do(t, addr, call{method: "GET", uri: "/jolokia/read/" + storageServiceName + "/OperationMode"})
	n, err := parseJSON(r.body)
	if err != nil || n.get("value").String() != `"NORMAL"` || n.get("status").String() != "200" {
		t.Fatalf("real agent does not serve the harness MBeans: HTTP %d %s (%v)", r.status, r.body, err)
	}
}

const (
	ss     = "/jolokia/read/" + storageServiceName
	ssExec = "/jolokia/exec/" + storageServiceName
	echo   = "/jolokia/exec/" + faultyName + "/echo"
	cleanS = ssExec + "/forceKeyspaceCleanup(java.lang.String,%5BLjava.lang.String;)"
	cleanI = ssExec + "/forceKeyspaceCleanup(int,java.lang.String,%5BLjava.lang.String;)"
)

func conformanceCases() []conformanceCase {
	var cs []conformanceCase
	for _, group := range [][]conformanceCase{getReads(), getExecs(), getOthers(), postReads(), postExecs(), postErrors(), httpCases(), authCases()} {
		cs = append(cs, group...)
	}
	return cs
}

func getReads() []conformanceCase {
	return []conformanceCase{
		get("read single", ss+"/LiveNodes"),
		get("read two attributes", ss+"/LiveNodes,OperationMode"),
		get("read all attributes", ss),
		get("read all attributes by wildcard", ss+"/*"),
		get("read failure detector", "/jolokia/read/"+failureDetectorName),
		get("read schema versions", "/jolokia/read/"+storageProxyName+"/SchemaVersions"),
		get("read map key", ss+"/HostIdMap/10.0.0.1"),
		get("read missing map key", ss+"/HostIdMap/10.0.0.9"),
		get("read list index", ss+"/LiveNodes/1"),
		get("read list index out of range", ss+"/LiveNodes/7"),
		get("read path into a string", ss+"/OperationMode/x"),
		get("read wildcard path", "/jolokia/read/"+storageProxyName+"/SchemaVersions/*/0"),
		get("read path ending in wildcard", ss+"/OperationMode/*"),
		get("read two attributes with path", ss+"/LiveNodes,OperationMode/0"),
		get("read unknown attribute", ss+"/Nope"),
		get("read unknown MBean", "/jolokia/read/org.apache.cassandra.db:type=Nope/LiveNodes"),
		get("read unknown MBean, keys unsorted", "/jolokia/read/ringops.test:type=Nope,name=one/x"),
		get("read keys in any order", "/jolokia/read/ringops.test:name=one,type=Faulty/Load,Enabled"),
		get("read runtime exception", "/jolokia/read/"+faultyName+"/Broken"),
		get("read checked exception", "/jolokia/read/"+faultyName+"/Checked"),
		get("read all with a throwing getter", "/jolokia/read/"+faultyName),
		get("read all ignoring errors", "/jolokia/read/"+faultyName+"?ignoreErrors=true"),
		get("read some ignoring errors", "/jolokia/read/"+faultyName+"/Broken,Load,Nope,Checked?ignoreErrors=true"),
		get("read pattern, one attribute", "/jolokia/read/org.apache.cassandra.db:*/OperationMode"),
		get("read pattern, two attributes", "/jolokia/read/org.apache.cassandra.*:*/OperationMode,SchemaVersions"),
		get("read pattern, all attributes", "/jolokia/read/org.apache.cassandra.db:*"),
		get("read pattern, no MBean", "/jolokia/read/nothing:*"),
		get("read pattern, no attribute", "/jolokia/read/org.apache.cassandra.db:*/Nope"),
		get("read pattern, value wildcard", "/jolokia/read/org.apache.cassandra.db:type=Storage*/OperationMode"),
		get("read without canonical naming", "/jolokia/read/"+faultyName+"/Load?canonicalNaming=false"),
		get("read pattern without canonical naming", "/jolokia/read/ringops.test:*/Load?canonicalNaming=false"),
		get("read upper-case type", "/jolokia/READ/"+storageServiceName+"/OperationMode"),
		get("read through p=", "/jolokia/?p=/read/"+storageServiceName+"/OperationMode"),
		get("read through p=, encoded", "/jolokia/?p=%2Fread%2F"+storageServiceName+"%2FLiveNodes"),
		get("path wins over p=", "/jolokia/version?p=/read/"+storageServiceName+"/OperationMode"),
		get("read pattern with a throwing getter", "/jolokia/read/ringops.test:*"),
		get("read pattern ignoring errors", "/jolokia/read/ringops.test:*?ignoreErrors=true"),
	}
}

func getExecs() []conformanceCase {
	return []conformanceCase{
		get("exec decommission", ssExec+"/decommission/true"),
		get("exec decommission throwing", ssExec+"/decommission/false"),
		get("exec boolean from any text", ssExec+"/decommission/yes"),
		get("exec without arguments", ssExec+"/decommission"),
		get("exec with too many arguments", ssExec+"/decommission/true/1"),
		get("exec overloaded without signature", ssExec+"/forceKeyspaceCleanup/orders"),
		get("exec overloaded with signature", cleanS+"/orders/a,b"),
		get("exec other overload", cleanI+"/2/orders/a,b,c"),
		get("exec bad int", cleanI+"/x/orders/a"),
		get("exec empty array", cleanS+"/orders/%22%22"),
		get("exec null array", cleanS+"/orders/%5Bnull%5D"),
		get("exec array of brackets", cleanS+"/orders/%5B%5D"),
		get("exec missing varargs", cleanS+"/orders"),
		get("exec unknown signature", ssExec+"/forceKeyspaceCleanup(java.lang.String)/orders"),
		get("exec unknown operation", ssExec+"/nope"),
		get("exec unknown operation, keys unsorted", "/jolokia/exec/"+faultyName+"/nope"),
		get("exec wrong signature, keys unsorted", "/jolokia/exec/"+faultyName+"/echo(int)/1"),
		get("exec checked exception", ssExec+"/drain"),
		get("exec empty signature", ssExec+"/drain()"),
		get("exec unknown MBean", "/jolokia/exec/org.apache.cassandra.db:type=Nope/x"),
		get("exec on a pattern", "/jolokia/exec/org.apache.cassandra.db:*/decommission/true"),
		get("exec escaped slash and bang", echo+"/a!/b!!c!"),
		get("exec wildcard argument is null", echo+"/*"),
		get("exec null argument", echo+"/%5Bnull%5D"),
		get("exec empty string argument", echo+"/%22%22"),
		get("exec empty path element", echo+"/a//b"),
		get("exec encoded slash", echo+"/a%2Fb"),
		get("exec trailing escaped slash", echo+"/a!//"),
		get("exec trailing slash, zero arguments", echo+"/"),
		get("exec long and int", "/jolokia/exec/"+faultyName+"/add/12345678901/2"),
		get("exec int overflow", "/jolokia/exec/"+faultyName+"/add/1/99999999999"),
		get("exec decimal for long", "/jolokia/exec/"+faultyName+"/add/1.5/2"),
	}
}

func getOthers() []conformanceCase {
	return []conformanceCase{
		get("version", "/jolokia/version"),
		get("version with extra path", "/jolokia/version/extra/stuff"),
		get("root is version", "/jolokia/"),
		get("unknown type", "/jolokia/bogus/x"),
		get("notification type", "/jolokia/regnotif/x"),
		get("read without MBean", "/jolokia/read"),
		get("read with empty MBean", "/jolokia/read/"),
		get("object name without colon", "/jolokia/read/nocolon"),
		get("object name with duplicate key", "/jolokia/read/d:k=v,k=w"),
		get("object name without value", "/jolokia/read/d:k"),
		get("search", "/jolokia/search/org.apache.cassandra.*:*"),
		get("search value wildcard", "/jolokia/search/org.apache.cassandra.db:type=Storage*"),
		get("search nothing", "/jolokia/search/nothing:*"),
		get("search exact name", "/jolokia/search/"+faultyName),
		get("search canonical", "/jolokia/search/ringops.test:*"),
		get("search not canonical", "/jolokia/search/ringops.test:*?canonicalNaming=false"),
		get("write read-only attribute", "/jolokia/write/"+storageServiceName+"/OperationMode/X"),
		get("write unknown attribute", "/jolokia/write/"+storageServiceName+"/Nope/X"),
		get("list MBean", "/jolokia/list/org.apache.cassandra.net/type=FailureDetector"),
		get("list domain", "/jolokia/list/ringops.test"),
		get("list overloaded operation", "/jolokia/list/org.apache.cassandra.db/type=StorageService/op/forceKeyspaceCleanup"),
		get("list attribute", "/jolokia/list/org.apache.cassandra.db/type=StorageService/attr/LiveNodes"),
		get("list unknown domain", "/jolokia/list/nothing"),
		get("list too deep", "/jolokia/list/org.apache.cassandra.db/type=StorageService/attr/LiveNodes/type"),
		get("list unknown attribute", "/jolokia/list/org.apache.cassandra.db/type=StorageService/attr/Nope"),
		get("no stack trace", ss+"/Nope?includeStackTrace=false"),
		get("stack trace of runtime only, checked", ss+"/Nope?includeStackTrace=runtime"),
		get("stack trace of runtime only, runtime", "/jolokia/read/"+faultyName+"/Broken?includeStackTrace=runtime"),
		get("serialized exception", ss+"/Nope?serializeException=true&includeStackTrace=false"),
		get("serialized MBean exception", "/jolokia/read/"+faultyName+"/Broken?serializeException=true"),
		get("JSON mime type", ss+"/OperationMode?mimeType=application/json"),
		get("unknown mime type", ss+"/OperationMode?mimeType=text/html"),
		get("JSONP callback", ss+"/OperationMode?callback=onHealth"),
		get("invalid callback", ss+"/OperationMode?callback=foo-bar"),
		get("parameter without value", ss+"/OperationMode?includeStackTrace"),
		get("top-level error ignores includeStackTrace", "/jolokia/bogus?includeStackTrace=false"),
	}
}

const (
	ssJSON = `"mbean":"` + storageServiceName + `"`
	fJSON  = `"mbean":"` + faultyName + `"`
)

func postReads() []conformanceCase {
	health := `{"type":"read",` + ssJSON + `,"attribute":"%s"}`
	var bulk []string
	for _, a := range []string{"LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes", "MovingNodes", "OperationMode", "HostIdMap"} {
		bulk = append(bulk, strings.Replace(health, "%s", a, 1))
	}
	bulk = append(bulk, `{"type":"read","mbean":"`+storageProxyName+`","attribute":"SchemaVersions"}`)
	return []conformanceCase{
		post("post read, upper-case type", "/jolokia/", `{"type":"READ",`+ssJSON+`,"attribute":"OperationMode"}`),
		post("post read, list of attributes", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":["OperationMode","LiveNodes"]}`),
		post("post read, list of one", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":["OperationMode"]}`),
		post("post read, empty list", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":[]}`),
		post("post read, null attribute", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":null}`),
		post("post read, list of null", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":[null]}`),
		post("post read, comma string", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"LiveNodes,OperationMode"}`),
		post("post read, star is a name", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"*"}`),
		post("post read, list with unknown", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":["OperationMode","Nope"]}`),
		post("post read, path", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"HostIdMap","path":"10.0.0.1"}`),
		post("post read, empty path", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"OperationMode","path":""}`),
		post("post read, go_jolokia target", "/jolokia/", `{"type":"READ",`+ssJSON+`,"path":"","attribute":"OperationMode","target":{"url":"","password":"","user":""}}`),
		post("post read, target url", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"OperationMode","target":{"url":"service:jmx:rmi:///jndi/rmi://127.0.0.1:7199/jmxrmi"}}`),
		post("post read, target without url", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"OperationMode","target":{}}`),
		post("post read, config", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":"Nope","config":{"includeStackTrace":false}}`),
		post("post read, query parameter", "/jolokia/?includeStackTrace=false", `{"type":"read",`+ssJSON+`,"attribute":"Nope"}`),
		post("post bulk health read", "/jolokia/", "["+strings.Join(bulk, ",")+"]"),
		post("post bulk with failures", "/jolokia/", `[{"type":"read",`+ssJSON+`,"attribute":"OperationMode"},{"type":"read",`+ssJSON+
			`,"attribute":"Nope"},{"type":"read","mbean":"org.apache.cassandra.db:type=Nope","attribute":"X"},{"type":"exec",`+ssJSON+
			`,"operation":"decommission","arguments":[false]},{"type":"version"}]`),
		post("post bulk with ignoreErrors in config", "/jolokia/", `[{"type":"read",`+fJSON+`,"config":{"ignoreErrors":true}}]`),
		post("post bulk with ignoreErrors in query", "/jolokia/?ignoreErrors=true", `[{"type":"read",`+fJSON+`}]`),
		post("post bulk with a request without MBean", "/jolokia/", `[{"type":"read",`+ssJSON+`,"attribute":"OperationMode"},{"type":"read"}]`),
		post("post bulk with a non-object", "/jolokia/", `[1]`),
		post("post empty bulk", "/jolokia/", `[]`),
		post("post bulk with an uncaught agent error", "/jolokia/", `[{"type":"read",`+ssJSON+`,"attribute":"OperationMode"},`+
			`{"type":"read",`+ssJSON+`,"attribute":["LiveNodes","OperationMode"],"path":"0"}]`),
		post("post write", "/jolokia/", `{"type":"write",`+ssJSON+`,"attribute":"OperationMode","value":"DRAINED"}`),
		post("post search", "/jolokia/", `{"type":"search","mbean":"org.apache.cassandra.*:*"}`),
		post("post version", "/jolokia/", `{"type":"version"}`),
		post("post list", "/jolokia/", `{"type":"list","path":"org.apache.cassandra.db/type=StorageProxy"}`),
		post("post object name quoted value", "/jolokia/", `{"type":"search","mbean":"d:k=\"q,x\""}`),
		post("post object name pattern keys", "/jolokia/", `{"type":"search","mbean":"d:*,k=v"}`),
	}
}

func postExecs() []conformanceCase {
	exec := func(rest string) string { return `{"type":"exec",` + ssJSON + `,` + rest + `}` }
	fexec := func(args string) string {
		return `{"type":"exec",` + fJSON + `,"operation":"echo","arguments":` + args + `}`
	}
	return []conformanceCase{
		post("post exec decommission", "/jolokia/", exec(`"operation":"decommission","arguments":[true]`)),
		post("post exec decommission throwing", "/jolokia/", exec(`"operation":"decommission","arguments":[false]`)),
		post("post exec boolean as string", "/jolokia/", exec(`"operation":"decommission","arguments":["true"]`)),
		post("post exec boolean as number", "/jolokia/", exec(`"operation":"decommission","arguments":[1]`)),
		post("post exec null for primitive", "/jolokia/", exec(`"operation":"decommission","arguments":[null]`)),
		post("post exec without arguments", "/jolokia/", exec(`"operation":"decommission"`)),
		post("post exec empty arguments", "/jolokia/", exec(`"operation":"decommission","arguments":[]`)),
		post("post exec arguments not a list", "/jolokia/", exec(`"operation":"decommission","arguments":true`)),
		post("post exec with signature", "/jolokia/", exec(`"operation":"decommission(boolean)","arguments":[true]`)),
		post("post exec without operation", "/jolokia/", exec(`"arguments":[true]`)),
		post("post exec overloaded", "/jolokia/", exec(`"operation":"forceKeyspaceCleanup","arguments":["orders"]`)),
		post("post exec array argument", "/jolokia/", exec(`"operation":"forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)","arguments":["orders",["a","b","c"]]`)),
		post("post exec array from string", "/jolokia/", exec(`"operation":"forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)","arguments":["orders","a,b"]`)),
		post("post exec array with null", "/jolokia/", exec(`"operation":"forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)","arguments":["orders",[1,null]]`)),
		post("post exec signature with spaces", "/jolokia/", exec(`"operation":"forceKeyspaceCleanup(java.lang.String, [Ljava.lang.String;)","arguments":["orders",[]]`)),
		post("post exec double to string", "/jolokia/", fexec(`[2.50]`)),
		post("post exec big double to string", "/jolokia/", fexec(`[1e20]`)),
		post("post exec object to string", "/jolokia/", fexec(`[{"a":[1,"x/y"]}]`)),
		post("post exec escapes", "/jolokia/", fexec(`["\u00e9\u2028\u0001\u007f/\"\\\b\f\n\r\t\ud83d\ude00 <>&"]`)),
		post("post exec long overflow", "/jolokia/", fexec(`[12345678901234567890]`)),
		post("post exec long and int from mixed", "/jolokia/", `{"type":"exec",`+fJSON+`,"operation":"add","arguments":["5",6]}`),
		post("post exec null for int", "/jolokia/", `{"type":"exec",`+fJSON+`,"operation":"add","arguments":[null,6]}`),
	}
}

func postErrors() []conformanceCase {
	return []conformanceCase{
		post("bad JSON", "/jolokia/", `{bad json`),
		post("empty body", "/jolokia/", ``),
		post("JSON number", "/jolokia/", `42`),
		post("no type", "/jolokia/", `{}`),
		post("unknown type", "/jolokia/", `{"type":"bogus"}`),
		post("post notification type", "/jolokia/", `{"type":"remnotif"}`),
		post("type not a string", "/jolokia/", `{"type":5}`),
		post("no MBean", "/jolokia/", `{"type":"read"}`),
		post("MBean not a string", "/jolokia/", `{"type":"read","mbean":5}`),
		post("bad MBean name", "/jolokia/", `{"type":"read","mbean":"nocolon"}`),
		post("attribute not a string", "/jolokia/", `{"type":"read",`+ssJSON+`,"attribute":5}`),
		post("top-level error ignores config", "/jolokia/?includeStackTrace=false&serializeException=true", `{"type":"bogus"}`),
	}
}

func httpCases() []conformanceCase {
	return []conformanceCase{
		{name: "PUT", call: call{method: "PUT", uri: "/jolokia/version"}},
		{name: "DELETE", call: call{method: "DELETE", uri: "/jolokia/version"}},
		{name: "HEAD", call: call{method: "HEAD", uri: "/jolokia/version"}},
		{name: "OPTIONS", call: call{method: "OPTIONS", uri: "/jolokia/version"}},
		{name: "OPTIONS with origin", call: call{method: "OPTIONS", uri: "/jolokia/version",
			header: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Headers": "authorization"}}},
		{name: "GET with origin", call: call{method: "GET", uri: "/jolokia/version", header: map[string]string{"Origin": "http://ui.example"}}},
		{name: "GET with null origin", call: call{method: "GET", uri: "/jolokia/version", header: map[string]string{"Origin": "null"}}},
		get("outside the context", "/other"),
		get("context without slash", "/jolokia"),
		get("URI the JDK refuses", "/jolokia/read/a[b"),
		get("URI with a quote", `/jolokia/exec/`+faultyName+`/echo/"x"`),
	}
}

func authCases() []conformanceCase {
	v := get("", "/jolokia/version")
	named := func(name string, c conformanceCase) conformanceCase { c.name = name; return c }
	right := basicAuth(testUser, testPassword)
	return []conformanceCase{
		named("auth: none", withAuth(v, nil)),
		named("auth: right", withAuth(v, map[string]string{"Authorization": right})),
		named("auth: wrong password", withAuth(v, map[string]string{"Authorization": basicAuth(testUser, "nope")})),
		named("auth: wrong user", withAuth(v, map[string]string{"Authorization": basicAuth("root", testPassword)})),
		named("auth: bearer", withAuth(v, map[string]string{"Authorization": "Bearer abc"})),
		named("auth: lower-case scheme", withAuth(v, map[string]string{"Authorization": "basic " + right[6:]})),
		named("auth: scheme alone", withAuth(v, map[string]string{"Authorization": "Basic"})),
		named("auth: alternate header", withAuth(v, map[string]string{"X-jolokia-authorization": right})),
		named("auth: alternate header, wrong", withAuth(v, map[string]string{"X-jolokia-authorization": basicAuth(testUser, "x")})),
		named("auth: POST without", withAuth(post("", "/jolokia/", `{"type":"version"}`), nil)),
		named("auth: POST bulk with", withAuth(post("", "/jolokia/", `[{"type":"read",`+ssJSON+`,"attribute":"LiveNodes"}]`),
			map[string]string{"Authorization": right})),
		named("auth: OPTIONS without", withAuth(conformanceCase{call: call{method: "OPTIONS", uri: "/jolokia/"}}, nil)),
		named("auth: outside the context", withAuth(get("", "/other"), nil)),
		{name: "auth: not base64", auth: true, drop: true, call: call{method: "GET", uri: "/jolokia/version",
			header: map[string]string{"Authorization": "Basic !!!"}}},
		{name: "auth: no colon", auth: true, drop: true, call: call{method: "GET", uri: "/jolokia/version",
			header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser))}}},
	}
}
