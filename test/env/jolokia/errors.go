package jolokia

import (
	"errors"
	"strings"
)

// Java exception classes the agent reports.
const (
	classIllegalArgument   = "java.lang.IllegalArgumentException"
	classNumberFormat      = "java.lang.NumberFormatException"
	classClassCast         = "java.lang.ClassCastException"
	classNullPointer       = "java.lang.NullPointerException"
	classSecurity          = "java.lang.SecurityException"
	classInstanceNotFound  = "javax.management.InstanceNotFoundException"
	classAttributeNotFound = "javax.management.AttributeNotFoundException"
	classMBeanException    = "javax.management.MBeanException"
	classRuntimeMBean      = "javax.management.RuntimeMBeanException"
)

// javaErr is an exception as the agent reports it: its class, its message
// (hasMsg false when getMessage() is null), the Jolokia status, and whether
// it is a checked exception (includeStackTrace=runtime leaves those out).
type javaErr struct {
	class   string
	msg     string
	hasMsg  bool
	status  int
	checked bool
	// fromMBean: thrown by the MBean, which JMX wraps in RuntimeMBeanException
	// (or MBeanException when checked); the ignoreErrors text names the wrapper.
	fromMBean bool
}

func (e *javaErr) Error() string { return e.errorText() }

// newJavaErr is an exception raised by the agent itself.
func newJavaErr(class, msg string) *javaErr {
	return &javaErr{class: class, msg: msg, hasMsg: true, status: statusOf(class), checked: isChecked(class)}
}

// newJavaErrNoMsg is an exception with a null message.
func newJavaErrNoMsg(class string) *javaErr {
	e := newJavaErr(class, "")
	e.hasMsg = false
	return e
}

// mbeanErr turns an error returned by an MBean into what the agent reports:
// a *JMXError keeps its class; anything else becomes a RuntimeException.
func mbeanErr(err error) *javaErr {
	var je *JMXError
	if !errors.As(err, &je) {
		je = &JMXError{Type: "java.lang.RuntimeException", Message: err.Error()}
	}
	e := newJavaErr(je.Type, je.Message)
	switch {
	case e.checked && !strings.HasPrefix(je.Type, "javax.management."):
		e.status = 500 // wrapped in an MBeanException: an internal error
	case isIllegalArgument(je.Type):
		// Thrown by the MBean, unwrapped from its RuntimeMBeanException
		// and caught as any Throwable: 500, not the 400 of the agent's own
		// argument errors (Jolokia 2.6.0 BaseRequestHandler.executeRequest;
		// a real 5.0 node refusing rebuild from an unknown datacenter
		// answers 500 java.lang.IllegalArgumentException: test/env's
		// TestSimulatorConformsOnRebuild).
		e.status = 500
	}
	e.fromMBean = true
	return e
}

// escapes tells whether the agent lets the exception out of the request
// it was raised in (HttpRequestHandler.executeRequest catches only some):
// then it answers for the whole HTTP request, bulk included, without echo.
func (e *javaErr) escapes() bool {
	if e.fromMBean {
		return false // RuntimeMBeanException or MBeanException: caught
	}
	switch e.class {
	case classInstanceNotFound, classAttributeNotFound, "javax.management.ReflectionException",
		classMBeanException, "java.lang.UnsupportedOperationException", "java.io.IOException", classSecurity:
		return false
	}
	return !isIllegalArgument(e.class)
}

// errorText is the "error" field: "<class> : <message>".
func (e *javaErr) errorText() string {
	if !e.hasMsg {
		return e.class
	}
	return e.class + " : " + e.msg
}

// toString is Throwable.toString(): "<class>: <message>".
func (e *javaErr) toString() string {
	if !e.hasMsg {
		return e.class
	}
	return e.class + ": " + e.msg
}

// stacktrace is what printStackTrace writes; the frames are the simulator's.
func (e *javaErr) stacktrace() string {
	return e.toString() + "\n\tat ringops.test.env.jolokia.Handler.serve(Simulated)\n"
}

// ignoredText is the value ignoreErrors puts in place of a failing
// attribute: "ERROR: <message> (class <class>)" of the exception JMX threw.
func (e *javaErr) ignoredText() string {
	if !e.fromMBean {
		return "ERROR: " + e.msg + " (class " + e.class + ")"
	}
	wrapper := classRuntimeMBean
	if e.checked {
		wrapper = classMBeanException
	}
	return "ERROR: " + e.toString() + " (class " + wrapper + ")"
}

// errorValue is what serializeException=true adds as error_value.
func (e *javaErr) errorValue() *jobject {
	o := newObject()
	var msg any
	if e.hasMsg {
		msg = e.msg
	}
	o.put("message", msg)
	o.put("localizedMessage", msg)
	o.put("cause", nil)
	o.put("suppressed", []any{})
	return o
}

// statusOf maps an exception class to the Jolokia status the agent gives it.
func statusOf(class string) int {
	switch {
	case isIllegalArgument(class):
		return 400
	case class == classSecurity:
		return 403
	case class == classInstanceNotFound, class == classAttributeNotFound,
		class == "javax.management.ReflectionException":
		return 404
	}
	return 500
}

func isIllegalArgument(class string) bool {
	switch class {
	case classIllegalArgument, classNumberFormat,
		"java.util.regex.PatternSyntaxException",
		"java.nio.charset.IllegalCharsetNameException",
		"java.nio.charset.UnsupportedCharsetException",
		"java.util.IllegalFormatException":
		return true
	}
	return false
}

// isChecked tells whether a class is a checked exception (not a
// java.lang.RuntimeException); unknown classes count as runtime ones.
func isChecked(class string) bool {
	switch class {
	case "java.lang.Exception", "java.io.IOException", "java.lang.InterruptedException",
		"java.util.concurrent.ExecutionException", "java.util.concurrent.TimeoutException",
		"java.io.FileNotFoundException":
		return true
	}
	if strings.HasPrefix(class, "javax.management.") {
		switch class {
		case "javax.management.RuntimeOperationsException", classRuntimeMBean,
			"javax.management.RuntimeErrorException", "javax.management.JMRuntimeException":
			return false
		}
		return true
	}
	return false
}
