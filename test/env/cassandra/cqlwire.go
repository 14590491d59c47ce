package cassandra

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// The CQL native protocol, version 4 (doc/native_protocol_v4.spec of
// Cassandra): frames and their primitive types. Only what the simulated
// server reads and writes is here.

// cqlProtocol is the one protocol version the simulated server speaks.
const cqlProtocol = 4

// Opcodes (native_protocol_v4.spec section 2.4).
const (
	opError         byte = 0x00
	opStartup       byte = 0x01
	opReady         byte = 0x02
	opAuthenticate  byte = 0x03
	opOptions       byte = 0x05
	opSupported     byte = 0x06
	opQuery         byte = 0x07
	opResult        byte = 0x08
	opPrepare       byte = 0x09
	opExecute       byte = 0x0A
	opRegister      byte = 0x0B
	opBatch         byte = 0x0D
	opAuthChallenge byte = 0x0E
	opAuthResponse  byte = 0x0F
	opAuthSuccess   byte = 0x10
)

// Frame header flags (section 2.2).
const (
	flagCompression   byte = 0x01
	flagTracing       byte = 0x02
	flagCustomPayload byte = 0x04
	flagWarning       byte = 0x08
)

// Error codes (section 9), as Cassandra's ExceptionCode.
const (
	errServer         = 0x0000
	errProtocol       = 0x000A
	errBadCredentials = 0x0100
	errSyntax         = 0x2000
	errUnauthorized   = 0x2100
	errInvalid        = 0x2200
	errConfig         = 0x2300
	errAlreadyExists  = 0x2400
	errUnprepared     = 0x2500
)

// maxFrameBody bounds a request body: the driver's requests to a simulated
// node are a few hundred bytes.
const maxFrameBody = 1 << 20

// frame is one protocol frame.
type frame struct {
	version byte // with the direction bit: 0x04 request, 0x84 response
	flags   byte
	stream  int16
	op      byte
	body    []byte
}

// errFrameTooLarge: a request body over maxFrameBody.
var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one frame; its body is left unparsed.
func readFrame(r io.Reader) (frame, error) {
	var h [9]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, err
	}
	f := frame{version: h[0], flags: h[1], stream: int16(binary.BigEndian.Uint16(h[2:4])), op: h[4]}
	n := binary.BigEndian.Uint32(h[5:9])
	if n > maxFrameBody {
		return f, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	f.body = make([]byte, n)
	if _, err := io.ReadFull(r, f.body); err != nil {
		return f, err
	}
	return f, nil
}

// encode is the frame on the wire.
func (f frame) encode() []byte {
	out := make([]byte, 9, 9+len(f.body))
	out[0], out[1], out[4] = f.version, f.flags, f.op
	binary.BigEndian.PutUint16(out[2:4], uint16(f.stream))
	binary.BigEndian.PutUint32(out[5:9], uint32(len(f.body)))
	return append(out, f.body...)
}

// reader decodes a frame body; the first error sticks and later reads
// return zero values.
type reader struct {
	b   []byte
	err error
}

var errShortBody = errors.New("message body too short")

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShortBody
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) short() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) int() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) long() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *reader) string() string { return string(r.take(int(r.short()))) }

func (r *reader) longString() string { return string(r.take(int(r.int()))) }

// bytes reads [bytes]; ok is false for a null (negative length).
func (r *reader) bytes() (b []byte, ok bool) {
	n := r.int()
	if n < 0 {
		return nil, false
	}
	return r.take(int(n)), true
}

func (r *reader) shortBytes() []byte { return r.take(int(r.short())) }

func (r *reader) stringMap() map[string]string {
	n := int(r.short())
	m := make(map[string]string, min(n, 64))
	for i := 0; i < n && r.err == nil; i++ {
		k := r.string()
		m[k] = r.string()
	}
	return m
}

// bytesMap skips a [bytes map] (a custom payload).
func (r *reader) bytesMap() {
	n := int(r.short())
	for i := 0; i < n && r.err == nil; i++ {
		r.string()
		r.bytes()
	}
}

// writer encodes a frame body.
type writer struct{ b []byte }

func (w *writer) short(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }

func (w *writer) int(v int32) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }

func (w *writer) string(s string) {
	w.short(uint16(min(len(s), math.MaxUint16)))
	w.b = append(w.b, s[:min(len(s), math.MaxUint16)]...)
}

// bytes writes [bytes]; nil is a null.
func (w *writer) bytes(b []byte) {
	if b == nil {
		w.int(-1)
		return
	}
	w.int(int32(len(b)))
	w.b = append(w.b, b...)
}

func (w *writer) shortBytes(b []byte) {
	w.short(uint16(len(b)))
	w.b = append(w.b, b...)
}

func (w *writer) stringList(l []string) {
	w.short(uint16(len(l)))
	for _, s := range l {
		w.string(s)
	}
}

func (w *writer) stringMultimap(m map[string][]string) {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	w.short(uint16(len(keys)))
	for _, k := range keys {
		w.string(k)
		w.stringList(m[k])
	}
}

// CQL types (section 4.2.5.2) of the columns the server returns.
const (
	typeBigint    uint16 = 0x0002
	typeBlob      uint16 = 0x0003
	typeBoolean   uint16 = 0x0004
	typeDouble    uint16 = 0x0007
	typeInt       uint16 = 0x0009
	typeTimestamp uint16 = 0x000B
	typeUUID      uint16 = 0x000C
	typeVarchar   uint16 = 0x000D
	typeTimeUUID  uint16 = 0x000F
	typeInet      uint16 = 0x0010
	typeList      uint16 = 0x0020
	typeMap       uint16 = 0x0021
	typeSet       uint16 = 0x0022
)

// cqlType is a column type: a primitive, or a collection of elems.
type cqlType struct {
	id    uint16
	elems []cqlType
}

var (
	tText      = cqlType{id: typeVarchar}
	tInt       = cqlType{id: typeInt}
	tBool      = cqlType{id: typeBoolean}
	tDouble    = cqlType{id: typeDouble}
	tBlob      = cqlType{id: typeBlob}
	tUUID      = cqlType{id: typeUUID}
	tInet      = cqlType{id: typeInet}
	tTimestamp = cqlType{id: typeTimestamp}
)

func setOf(t cqlType) cqlType    { return cqlType{id: typeSet, elems: []cqlType{t}} }
func listOf(t cqlType) cqlType   { return cqlType{id: typeList, elems: []cqlType{t}} }
func mapOf(k, v cqlType) cqlType { return cqlType{id: typeMap, elems: []cqlType{k, v}} }

// typ writes a type [option]: its id, then its element types.
func (w *writer) typ(t cqlType) {
	w.short(t.id)
	for _, e := range t.elems {
		w.typ(e)
	}
}

// value encodes v, a Go value of the column's type, as the cell's bytes;
// nil (or a nil map or slice) is a null cell.
func (t cqlType) value(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	switch t.id {
	case typeVarchar:
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case typeInt:
		if i, ok := v.(int); ok {
			return binary.BigEndian.AppendUint32(nil, uint32(int32(i))), nil
		}
	case typeBigint, typeTimestamp:
		if i, ok := v.(int64); ok {
			return binary.BigEndian.AppendUint64(nil, uint64(i)), nil
		}
	case typeBoolean:
		if b, ok := v.(bool); ok {
			if b {
				return []byte{1}, nil
			}
			return []byte{0}, nil
		}
	case typeDouble:
		if f, ok := v.(float64); ok {
			return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)), nil
		}
	case typeBlob:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case typeUUID, typeTimeUUID:
		if s, ok := v.(string); ok {
			return parseUUID(s)
		}
	case typeInet:
		if s, ok := v.(string); ok {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			return a.AsSlice(), nil
		}
	case typeSet, typeList:
		if l, ok := v.([]string); ok {
			return t.collection(len(l), func(w *writer) error {
				for _, s := range l {
					b, err := t.elems[0].value(s)
					if err != nil {
						return err
					}
					w.bytes(b)
				}
				return nil
			})
		}
	case typeMap:
		if m, ok := v.(map[string]string); ok {
			return t.collection(len(m), func(w *writer) error {
				for _, k := range slices.Sorted(mapKeys(m)) {
					kb, err := t.elems[0].value(k)
					if err != nil {
						return err
					}
					vb, err := t.elems[1].value(m[k])
					if err != nil {
						return err
					}
					w.bytes(kb)
					w.bytes(vb)
				}
				return nil
			})
		}
	}
	return nil, fmt.Errorf("value %v (%T) does not fit CQL type 0x%04x", v, v, t.id)
}

// collection encodes a list, set or map of n elements written by f.
func (t cqlType) collection(n int, f func(w *writer) error) ([]byte, error) {
	w := &writer{}
	w.int(int32(n))
	if err := f(w); err != nil {
		return nil, err
	}
	if w.b == nil {
		w.b = []byte{}
	}
	return w.b, nil
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// parseUUID reads the 16 bytes of a UUID in its textual form.
func parseUUID(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return nil, fmt.Errorf("invalid UUID %q", s)
	}
	return b, nil
}
