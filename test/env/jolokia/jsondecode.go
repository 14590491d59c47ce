package jolokia

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// readerID imitates the identity hash in the agent's parse error text
// ("Invalid JSON request java.io.InputStreamReader@1b6d3586").
var readerID atomic.Uint32

// decodeBody parses a POST body as json-simple does into Java-like values:
// nil, bool, string, int64 (Long), float64 (Double), []any, *jobject.
func decodeBody(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err == nil {
		if _, extra := dec.Token(); !errors.Is(extra, io.EOF) {
			err = errors.New("trailing data")
		}
	}
	var je *javaErr
	if errors.As(err, &je) {
		return nil, je
	}
	if err != nil {
		id := readerID.Add(0x9e3779b1)
		return nil, newJavaErr(classIllegalArgument, fmt.Sprintf("Invalid JSON request java.io.InputStreamReader@%x", id|0x10000000))
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return decodeObject(dec)
		}
		if t == '[' {
			return decodeArray(dec)
		}
		return nil, errors.New("unexpected delimiter")
	case json.Number:
		return javaNumber(string(t))
	}
	return tok, nil // string, bool, nil
}

func decodeObject(dec *json.Decoder) (any, error) {
	o := newObject()
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		o.put(k.(string), v)
	}
	_, err := dec.Token() // '}'
	return o, err
}

func decodeArray(dec *json.Decoder) (any, error) {
	a := []any{}
	for dec.More() {
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
	_, err := dec.Token() // ']'
	return a, err
}

// javaNumber is json-simple's number: a Long unless it has a fraction or
// an exponent, then a Double; a Long out of range fails as Long.valueOf.
func javaNumber(s string) (any, error) {
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return f, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, numberFormat(s)
	}
	return n, nil
}

// numberFormat is NumberFormatException.forInputString.
func numberFormat(s string) *javaErr {
	return newJavaErr(classNumberFormat, `For input string: "`+s+`"`)
}
