package jolokia

import (
	"testing"
)

// The Go twins of the MBeans in testdata/harness/Harness.java: same names,
// attributes, Java types and values, so the real agent and the Handler must
// give the same answers.

const (
	storageServiceName  = "org.apache.cassandra.db:type=StorageService"
	storageProxyName    = "org.apache.cassandra.db:type=StorageProxy"
	failureDetectorName = "org.apache.cassandra.net:type=FailureDetector"
	faultyName          = "ringops.test:type=Faulty,name=one"
)

// testBean is an MBean made of attribute getters and operations.
type testBean struct {
	class string
	attrs []testAttr
	ops   []testOp
}

type testAttr struct {
	name, javaType string
	get            func() (any, error)
}

type testOp struct {
	Operation
	call func(args []any) (any, error)
}

var (
	_ MBean     = (*testBean)(nil)
	_ Described = (*testBean)(nil)
)

func (b *testBean) Attributes() []string {
	out := make([]string, len(b.attrs))
	for i, a := range b.attrs {
		out[i] = a.name
	}
	return out
}

func (b *testBean) Get(name string) (any, error) {
	for _, a := range b.attrs {
		if a.name == name {
			return a.get()
		}
	}
	return nil, &JMXError{Type: "javax.management.AttributeNotFoundException", Message: name}
}

func (b *testBean) Operations() []Operation {
	out := make([]Operation, len(b.ops))
	for i, o := range b.ops {
		out[i] = o.Operation
	}
	return out
}

func (b *testBean) Invoke(op Operation, args []any) (any, error) {
	for _, o := range b.ops {
		if o.Name == op.Name && len(o.Params) == len(op.Params) && o.Return == op.Return {
			return o.call(args)
		}
	}
	return nil, &JMXError{Type: "javax.management.ReflectionException", Message: op.Name}
}

func (b *testBean) ClassName() string { return b.class }

func (b *testBean) AttributeType(name string) string {
	for _, a := range b.attrs {
		if a.name == name {
			return a.javaType
		}
	}
	return ""
}

func value(v any) func() (any, error) { return func() (any, error) { return v, nil } }

func failing(class, msg string) func() (any, error) {
	return func() (any, error) { return nil, &JMXError{Type: class, Message: msg} }
}

const (
	javaList   = "java.util.List"
	javaMap    = "java.util.Map"
	javaString = "java.lang.String"
	stringArr  = "[Ljava.lang.String;"
)

func storageService() *testBean {
	return &testBean{
		class: "Harness$StorageService",
		attrs: []testAttr{
			{"LiveNodes", javaList, value([]string{"10.0.0.1", "10.0.0.2", "10.0.0.3"})},
			{"UnreachableNodes", javaList, value([]string{"10.0.0.4"})},
			{"JoiningNodes", javaList, value([]string{})},
			{"LeavingNodes", javaList, value([]string{})},
			{"MovingNodes", javaList, value([]string{})},
			{"OperationMode", javaString, value("NORMAL")},
			{"ReleaseVersion", javaString, value("4.1.5")},
			{"HostIdMap", javaMap, value(map[string]string{
				"10.0.0.1": "6d194555-f6eb-41d0-c000-000000000001",
				"10.0.0.2": "6d194555-f6eb-41d0-c000-000000000002",
				"10.0.0.3": "6d194555-f6eb-41d0-c000-000000000003",
				"10.0.0.4": "6d194555-f6eb-41d0-c000-000000000004",
			})},
			{"Keyspaces", javaList, value([]string{"system", "system_schema", "orders"})},
		},
		ops: []testOp{
			{Operation{"decommission", []string{"boolean"}, "void"}, decommission},
			{Operation{"forceKeyspaceCleanup", []string{"int", javaString, stringArr}, "int"}, func(a []any) (any, error) {
				if a[2] == nil {
					return nil, npeArray("<parameter3>")
				}
				return 100*a[0].(int32) + int32(len(a[2].([]string))), nil
			}},
			{Operation{"forceKeyspaceCleanup", []string{javaString, stringArr}, "int"}, func(a []any) (any, error) {
				if a[1] == nil {
					return nil, npeArray("<parameter2>")
				}
				return int32(len(a[1].([]string))), nil
			}},
			{Operation{"drain", nil, "void"}, func([]any) (any, error) {
				return nil, &JMXError{Type: "java.io.IOException", Message: "drain interrupted"}
			}},
		},
	}
}

func decommission(a []any) (any, error) {
	if !a[0].(bool) {
		return nil, &JMXError{Type: "java.lang.UnsupportedOperationException",
			Message: "Not enough live nodes to maintain replication factor in keyspace orders (RF = 3, N = 3). Perform a forceful decommission to ignore."}
	}
	return nil, nil
}

// npeArray is what the JVM says when a varargs parameter is null.
func npeArray(param string) error {
	return &JMXError{Type: "java.lang.NullPointerException", Message: `Cannot read the array length because "` + param + `" is null`}
}

func storageProxy() *testBean {
	return &testBean{
		class: "Harness$StorageProxy",
		attrs: []testAttr{{"SchemaVersions", javaMap, value(map[string][]string{
			"59adb24e-f3cd-3e02-97f0-5b395827453f": {"10.0.0.1", "10.0.0.2", "10.0.0.3"},
			"UNREACHABLE":                          {"10.0.0.4"},
		})}},
	}
}

func failureDetector() *testBean {
	return &testBean{
		class: "Harness$FailureDetector",
		attrs: []testAttr{
			{"SimpleStates", javaMap, value(map[string]string{
				"/10.0.0.1": "UP", "/10.0.0.2": "UP", "/10.0.0.3": "UP", "/10.0.0.4": "DOWN",
			})},
			{"DownEndpointCount", "int", value(int32(1))},
		},
	}
}

func faulty() *testBean {
	return &testBean{
		class: "Harness$Faulty",
		attrs: []testAttr{
			{"Broken", javaString, failing("java.lang.IllegalStateException", "gossip not settled")},
			{"Checked", javaString, failing("java.io.IOException", "disk gone")},
			{"Load", "long", value(int64(1234567890123))},
			{"Enabled", "boolean", value(true)},
		},
		ops: []testOp{
			{Operation{"echo", []string{javaString}, javaString}, func(a []any) (any, error) { return a[0], nil }},
			{Operation{"add", []string{"long", "int"}, "long"}, func(a []any) (any, error) {
				return a[0].(int64) + int64(a[1].(int32)), nil
			}},
		},
	}
}

// testRegistry holds the four MBeans the harness registers.
func testRegistry(t testing.TB) *MapRegistry {
	t.Helper()
	reg := NewMapRegistry()
	for name, mb := range map[string]MBean{
		storageServiceName:  storageService(),
		storageProxyName:    storageProxy(),
		failureDetectorName: failureDetector(),
		faultyName:          faulty(),
	} {
		if err := reg.Register(name, mb); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}
