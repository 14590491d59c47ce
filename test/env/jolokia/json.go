package jolokia

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// jobject is a JSON object as the agent builds it: json-simple's JSONObject,
// a java.util.HashMap, so its keys come out in HashMap iteration order
// (bucket by String.hashCode, then insertion order within a bucket).
type jobject struct {
	keys []string
	vals map[string]any
}

func newObject() *jobject { return &jobject{vals: map[string]any{}} }

// put sets k, keeping the first insertion's place when k is already there.
func (o *jobject) put(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *jobject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// order returns the keys as a java.util.HashMap of default capacity,
// filled in insertion order, iterates them.
func (o *jobject) order() []string {
	capacity := 16
	for float64(len(o.keys)) > 0.75*float64(capacity) {
		capacity *= 2
	}
	out := slices.Clone(o.keys)
	slices.SortStableFunc(out, func(a, b string) int {
		return bucket(a, capacity) - bucket(b, capacity)
	})
	return out
}

// bucket is HashMap's index for a String key in a table of n slots.
func bucket(s string, n int) int {
	h := javaHash(s)
	return int((h ^ (h >> 16)) & uint32(n-1))
}

// javaHash is String.hashCode over the UTF-16 code units of s.
func javaHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}

// objectFromMap copies a Go map into a jobject, inserting keys sorted.
func objectFromMap(m reflect.Value) *jobject {
	o := newObject()
	keys := m.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	for _, k := range keys {
		o.put(k.String(), m.MapIndex(k).Interface())
	}
	return o
}

// encodeJSON writes v as json-simple's toJSONString would.
func encodeJSON(v any) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(javaDoubleJSON(x, 64))
	case float32:
		b.WriteString(javaDoubleJSON(float64(x), 32))
	case *jobject:
		writeObject(b, x)
	case []any:
		writeArray(b, len(x), func(i int) any { return x[i] })
	case []string:
		writeArray(b, len(x), func(i int) any { return x[i] })
	default:
		writeReflect(b, reflect.ValueOf(v))
	}
}

func writeReflect(b *strings.Builder, rv reflect.Value) {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.String:
		writeString(b, rv.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.Slice, reflect.Array:
		writeArray(b, rv.Len(), func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		writeObject(b, objectFromMap(rv))
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			b.WriteString("null")
			return
		}
		writeJSON(b, rv.Elem().Interface())
	default:
		writeString(b, fmt.Sprint(rv.Interface()))
	}
}

func writeObject(b *strings.Builder, o *jobject) {
	b.WriteByte('{')
	for i, k := range o.order() {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		writeJSON(b, o.vals[k])
	}
	b.WriteByte('}')
}

func writeArray(b *strings.Builder, n int, at func(int) any) {
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(b, at(i))
	}
	b.WriteByte(']')
}

// writeString escapes as json-simple's JSONValue.escape: the usual
// backslash escapes, "/" as "\/", and U+0000-U+001F, U+007F-U+009F and
// U+2000-U+20FF as \uXXXX (upper-case hex); everything else as is.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '/':
			b.WriteString(`\/`)
		default:
			if r <= 0x1F || (r >= 0x7F && r <= 0x9F) || (r >= 0x2000 && r <= 0x20FF) {
				fmt.Fprintf(b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// javaDoubleJSON writes a double as json-simple does: NaN and infinities as
// null, the rest as Double.toString.
func javaDoubleJSON(f float64, bits int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	return javaDouble(f, bits)
}

// javaDouble is Double.toString (Float.toString for bits 32): plain
// notation with at least one decimal between 10^-3 and 10^7, else
// "d.dddE[-]n".
func javaDouble(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde±xx
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	if f >= 1e-3 && f < 1e7 {
		return sign + plainDecimal(digits, exp)
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}

// plainDecimal places the point in digits (d.ddd × 10^exp).
func plainDecimal(digits string, exp int) string {
	if exp < 0 {
		return "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return digits[:exp+1] + "." + digits[exp+1:]
}
