package jolokia

import (
	"strconv"
	"strings"
)

// javaToString is String.valueOf of a parsed JSON value.
func javaToString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return javaDouble(x, 64)
	}
	return encodeJSON(v)
}

// primitives are the Java types that cannot take null.
var primitives = map[string]bool{
	"boolean": true, "int": true, "long": true, "short": true, "byte": true,
	"double": true, "float": true, "char": true,
}

// convertArg is StringToObjectConverter.prepareValue for the parameter
// types an MBean here declares: a value of the right Java class passes, a
// list for an array converts element by element, anything else goes through
// its string form.
func convertArg(javaType string, v any) (any, error) {
	if v == nil {
		if primitives[javaType] {
			return nil, newJavaErrNoMsg(classIllegalArgument)
		}
		return nil, nil
	}
	switch javaType {
	case "[Ljava.lang.String;":
		return stringArray(v), nil
	case "java.lang.String":
		return javaToString(v), nil
	case "boolean", "java.lang.Boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return strings.EqualFold(javaToString(v), "true"), nil
	case "int", "java.lang.Integer":
		return parseInt(javaToString(v), 32)
	case "long", "java.lang.Long":
		if n, ok := v.(int64); ok {
			return n, nil
		}
		return parseInt(javaToString(v), 64)
	case "double", "java.lang.Double":
		if f, ok := v.(float64); ok {
			return f, nil
		}
		return parseDouble(javaToString(v))
	}
	return v, nil
}

// stringArray converts to String[]: a JSON list element by element (a null
// element becomes ""), a string split on unescaped commas.
func stringArray(v any) []string {
	if list, ok := v.([]any); ok {
		out := make([]string, len(list))
		for i, x := range list {
			if x != nil {
				out[i] = javaToString(x)
			}
		}
		return out
	}
	parts := splitEscaped(javaToString(v), '\\', ',')
	if parts == nil {
		parts = []string{}
	}
	return parts
}

// parseInt is Integer.parseInt (bits 32) or Long.parseLong (bits 64).
func parseInt(s string, bits int) (any, error) {
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return nil, numberFormat(s)
	}
	return sized(n, bits), nil
}

func sized(n int64, bits int) any {
	if bits == 32 {
		return int32(n)
	}
	return n
}

// parseDouble is Double.parseDouble for the plain decimal forms.
func parseDouble(s string) (any, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		if s == "" {
			return nil, newJavaErr(classNumberFormat, "empty String")
		}
		return nil, newJavaErr(classNumberFormat, `For input string: "`+s+`"`)
	}
	return f, nil
}
