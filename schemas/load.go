package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest cluster spec Load and Parse accept (1 MiB); a
// real one is a few kilobytes.
const MaxFileSize = 1 << 20

// Load reads and parses the cluster spec at path (see Parse). It refuses
// anything but a regular file (symbolic links included: a link could point
// outside the repository) and files over MaxFileSize, with an ErrorList;
// I/O errors are returned wrapped, so errors.Is(err, fs.ErrNotExist) works.
func Load(path string) (*CassandraCluster, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, ioError(path, err)
	}
	if err := checkFileInfo(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, ioError(path, err)
	}
	defer f.Close()
	// The file may have been replaced since Lstat: check what was opened.
	if opened, err := f.Stat(); err != nil {
		return nil, ioError(path, err)
	} else if !os.SameFile(fi, opened) {
		return nil, fileError(path, "changed while being read; try again")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, ioError(path, err)
	}
	return Parse(path, data)
}

// checkFileInfo refuses non-regular and oversized files.
func checkFileInfo(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fileError(path, "is a symbolic link; ringops reads only regular files (a link could point outside the repository): replace it with the file itself")
	case fi.IsDir():
		return fileError(path, "is a directory; expected the cluster spec file (e.g. clusters/<name>/cluster.yaml)")
	case !fi.Mode().IsRegular():
		return fileError(path, "is not a regular file (%s); expected a YAML file", fi.Mode().Type())
	case fi.Size() > MaxFileSize:
		return tooLarge(path, fi.Size())
	}
	return nil
}

// ioError wraps an I/O error with the file name, without repeating it.
func ioError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// fileError is a problem of the whole file.
func fileError(file, format string, args ...any) ErrorList {
	return ErrorList{{File: file, Message: fmt.Sprintf(format, args...)}}
}

func tooLarge(file string, size int64) ErrorList {
	return fileError(file, "file is %d bytes, over the limit of %d bytes (1 MiB); a cluster spec is a few kilobytes", size, MaxFileSize)
}

// Parse reads a cluster spec (one YAML document, kind CassandraCluster),
// checks it against the types, defaults it and validates it. file names the
// spec in error messages (e.g. clusters/orders/cluster.yaml).
//
// Every problem is reported at once, as an ErrorList: YAML syntax, unknown
// fields (with the nearest valid name), duplicate keys, wrong types, then
// the rules of Validate. Anchors and aliases are allowed within MaxNodes
// and MaxDepth. On success the returned cluster is defaulted and remembers
// the position of its fields, so that later errors (ValidateChange) point
// at lines of the file.
func Parse(file string, data []byte) (c *CassandraCluster, err error) {
	defer func() {
		if r := recover(); r != nil { // a bug, never the user's fault
			c, err = nil, fileError(file, "internal error while reading the spec: %v (please report this with the file)", r)
		}
	}()
	if errs := checkText(file, data); errs != nil {
		return nil, errs
	}
	root, errs := parseYAML(file, data)
	if errs != nil {
		return nil, errs
	}
	src := &source{file: file, pos: map[string]position{"": {root.Line, root.Column}}}
	if root.Kind != yaml.MappingNode {
		return nil, ErrorList{{File: file, Line: root.Line, Column: root.Column,
			Message: fmt.Sprintf("expected a mapping (a CassandraCluster with apiVersion: %s), got %s", APIVersion, describe(root))}}
	}
	c = &CassandraCluster{src: src}
	d := newDecoder(src)
	d.decode(root, reflect.ValueOf(c).Elem(), "", 0)
	if d.aborted {
		return nil, d.errs.sorted()
	}
	if idErrs, foreign := c.identityErrors(); foreign {
		return nil, idErrs.sorted()
	}
	c.Default()
	all := append(d.errs, withoutTypeErrors(c.Validate(), d.typeErrs)...)
	if len(all) > 0 {
		return nil, capped(all.sorted())
	}
	return c, nil
}

// capped keeps the first maxDecodeErrors errors of a sorted list and says
// how many were left out.
func capped(l ErrorList) ErrorList {
	if len(l) <= maxDecodeErrors {
		return l
	}
	last := l[maxDecodeErrors-1]
	return append(l[:maxDecodeErrors:maxDecodeErrors], &FieldError{File: last.File, Line: last.Line,
		Message: fmt.Sprintf("and %d more errors; fix these first", len(l)-maxDecodeErrors)})
}

// withoutTypeErrors leaves out validation errors at or under a field whose
// value had the wrong type: they would only repeat the type error.
func withoutTypeErrors(errs ErrorList, typeErrs []string) ErrorList {
	var out ErrorList
next:
	for _, e := range errs {
		for _, p := range typeErrs {
			if e.Field == p || strings.HasPrefix(e.Field, p+".") || strings.HasPrefix(e.Field, p+"[") {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// checkText refuses what is not a small UTF-8 text file, before the YAML
// parser sees it.
func checkText(file string, data []byte) ErrorList {
	if len(data) > MaxFileSize {
		return tooLarge(file, int64(len(data)))
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return textError(file, line, col, "not UTF-8 text: byte 0x%02x", data[i])
		case isControl(r):
			return textError(file, line, col, "not a text file: control character %U", r)
		case isLineBreak(r) && !(r == '\r' && i+1 < len(data) && data[i+1] == '\n'):
			line, col = line+1, 0
		}
		i += size
		col++
	}
	return nil
}

func textError(file string, line, col int, format string, args ...any) ErrorList {
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(" at column %d; expected a CassandraCluster in YAML (apiVersion: %s)", col, APIVersion)
	return ErrorList{{File: file, Line: line, Column: col, Message: msg}}
}

// isLineBreak reports the runes YAML counts as line breaks (\r\n counts
// once).
func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// isControl reports runes YAML does not allow in a document.
func isControl(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r == 0xfffe || r == 0xffff:
		return true
	}
	return false
}

// parseYAML parses the one document of data and returns its root node.
func parseYAML(file string, data []byte) (root *yaml.Node, errs ErrorList) {
	defer func() {
		if r := recover(); r != nil {
			root, errs = nil, fileError(file, "cannot be parsed as YAML (%v)", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && isEmptyDocument(&doc)) {
		return nil, fileError(file, "file is empty; expected a CassandraCluster (apiVersion: %s)", APIVersion)
	}
	if err != nil {
		return nil, syntaxError(file, data, err)
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return doc.Content[0], nil
		case err != nil:
			return nil, syntaxError(file, data, err)
		case !isEmptyDocument(&next):
			return nil, ErrorList{{File: file, Line: next.Line, Column: next.Column,
				Message: "a second YAML document starts here; a cluster spec file holds exactly one CassandraCluster: move the other document to its own file"}}
		}
	}
}

// isEmptyDocument reports a document with nothing in it (e.g. a lone ---).
func isEmptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" && n.Style == 0
}

var (
	yamlLineError     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlUnknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// syntaxError turns a yaml.v3 error into a FieldError with a line.
func syntaxError(file string, data []byte, err error) ErrorList {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return ErrorList{{File: file, Line: line, Message: "invalid YAML: " + m[2]}}
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(msg); m != nil {
		// yaml.v3 does not say where: find the first use of the alias.
		line := 0
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(data[:i], []byte("\n")) + 1
		}
		return ErrorList{{File: file, Line: line, Message: fmt.Sprintf("invalid YAML: alias *%s refers to no anchor; define &%s before using it", m[1], m[1])}}
	}
	return fileError(file, "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}
