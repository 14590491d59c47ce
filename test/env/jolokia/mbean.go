package jolokia

import "fmt"

// MBean is one JMX MBean as the agent sees it. Values returned by Get and
// Invoke are what Jolokia serialises: string, bool, int/int64/float64,
// []string, map[string]string, map[string][]string, map[string]any, nil.
type MBean interface {
	// Attributes lists the attribute names, in MBeanInfo order (a read
	// without attribute returns all of them).
	Attributes() []string
	// Get returns the value of an attribute. An attribute that does not exist
	// is reported by the agent, not by Get: Get is called only for names that
	// Attributes lists. A *JMXError is reported as the agent reports
	// exceptions raised by the MBean.
	Get(attribute string) (any, error)
	// Operations lists the operations (several with one name when overloaded).
	Operations() []Operation
	// Invoke runs an operation with arguments already converted to the
	// declared parameter types (bool, int32, int64, string, []string).
	Invoke(op Operation, args []any) (any, error)
}

// Operation is one MBean operation signature.
type Operation struct {
	Name string
	// Params are the Java types of the parameters, as MBeanOperationInfo
	// lists them: "boolean", "int", "long", "java.lang.String",
	// "[Ljava.lang.String;".
	Params []string
	// Return is the Java return type, "void" for none.
	Return string
}

// Registry is the MBean server of one agent.
type Registry interface {
	// Lookup returns the MBean registered under a canonical or given name.
	Lookup(name string) (MBean, bool)
	// Names lists every registered MBean name.
	Names() []string
}

// JMXError is an exception thrown by an MBean; the agent reports it with
// Type as error_type and "<Type> : <Message>" as error, and status 403 for
// java.lang.SecurityException, 404 for javax.management's
// AttributeNotFoundException, InstanceNotFoundException and
// ReflectionException, 500 for anything else (java.lang.IllegalArgumentException
// included: 400 is for the agent's own argument errors; checked exceptions
// such as java.io.IOException too). An MBean error that is not a
// *JMXError is reported as a java.lang.RuntimeException.
type JMXError struct {
	Type    string // Java class, e.g. java.lang.UnsupportedOperationException
	Message string
}

func (e *JMXError) Error() string { return fmt.Sprintf("%s : %s", e.Type, e.Message) }

// Described is optionally implemented by an MBean to tell what a list
// request shows of it (its MBeanInfo): the Java class of the MBean and the
// Java type of an attribute ("" to infer it from the value).
type Described interface {
	ClassName() string
	AttributeType(attribute string) string
}
