package cassandra

import (
	"fmt"
	"strings"
	"unicode"
)

// The statements a simulated node understands:
//
//	SELECT * | col [, col]... FROM [ks.]table [WHERE col = <literal or ?> [AND ...]] [LIMIT n] [ALLOW FILTERING]
//	ALTER KEYSPACE [IF EXISTS] ks WITH replication = {...} [AND durable_writes = bool]
//	CREATE KEYSPACE [IF NOT EXISTS] ks WITH replication = {...} [AND durable_writes = bool]
//	USE ks
//
// Identifiers are lower-cased unless double-quoted, as CQL does.

// token kinds.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokQuoted // "identifier"
	tokString // 'literal'
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string
	pos  int // 0-based offset in the statement
}

// cqlError is an ERROR frame: a code and Cassandra's message.
type cqlError struct {
	code int
	msg  string
	// keyspace and table are the extra fields of ALREADY_EXISTS.
	keyspace, table string
	// id is the extra field of UNPREPARED.
	id []byte
}

func (e *cqlError) Error() string { return fmt.Sprintf("error 0x%04x: %s", e.code, e.msg) }

func syntaxErr(format string, args ...any) *cqlError {
	return &cqlError{code: errSyntax, msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *cqlError {
	return &cqlError{code: errInvalid, msg: fmt.Sprintf(format, args...)}
}

// lex splits a statement into tokens.
func lex(q string) ([]token, *cqlError) {
	var out []token
	for i := 0; i < len(q); {
		c := rune(q[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '-' && strings.HasPrefix(q[i:], "--"), c == '/' && strings.HasPrefix(q[i:], "//"):
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '\'' || c == '"':
			text, end, ok := quoted(q, i)
			if !ok {
				return nil, syntaxErr("line 1:%d mismatched character '<EOF>'", len(q))
			}
			kind := tokString
			if c == '"' {
				kind = tokQuoted
			}
			out = append(out, token{kind: kind, text: text, pos: i})
			i = end
		case c == '_' || unicode.IsLetter(c):
			j := i
			for j < len(q) && (q[j] == '_' || unicode.IsLetter(rune(q[j])) || unicode.IsDigit(rune(q[j]))) {
				j++
			}
			out = append(out, token{kind: tokIdent, text: q[i:j], pos: i})
			i = j
		case unicode.IsDigit(c) || (c == '-' && i+1 < len(q) && unicode.IsDigit(rune(q[i+1]))):
			j := i + 1
			for j < len(q) && (unicode.IsDigit(rune(q[j])) || q[j] == '.') {
				j++
			}
			out = append(out, token{kind: tokNumber, text: q[i:j], pos: i})
			i = j
		case strings.ContainsRune("*,=.{}:()?;[]<>", c):
			out = append(out, token{kind: tokPunct, text: string(c), pos: i})
			i++
		default:
			return nil, syntaxErr("line 1:%d no viable alternative at character '%c'", i, c)
		}
	}
	return append(out, token{kind: tokEOF, pos: len(q)}), nil
}

// quoted reads a quoted string or identifier starting at q[i]; a doubled
// quote stands for itself.
func quoted(q string, i int) (text string, end int, ok bool) {
	quote := q[i]
	var b strings.Builder
	for j := i + 1; j < len(q); j++ {
		if q[j] != quote {
			b.WriteByte(q[j])
			continue
		}
		if j+1 < len(q) && q[j+1] == quote {
			b.WriteByte(quote)
			j++
			continue
		}
		return b.String(), j + 1, true
	}
	return "", 0, false
}

// parser walks the tokens of one statement.
type parser struct {
	toks []token
	i    int
	// binds counts the bind markers (?) seen so far.
	binds int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// keyword consumes the keyword word (any case) if it is next.
func (p *parser) keyword(word string) bool {
	if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, word) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(word string) *cqlError {
	if !p.keyword(word) {
		return p.unexpected(word)
	}
	return nil
}

func (p *parser) punct(s string) bool {
	if t := p.peek(); t.kind == tokPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) *cqlError {
	if !p.punct(s) {
		return p.unexpected("'" + s + "'")
	}
	return nil
}

func (p *parser) unexpected(want string) *cqlError {
	t := p.peek()
	if t.kind == tokEOF {
		return syntaxErr("line 1:%d mismatched input '<EOF>' expecting %s", t.pos, want)
	}
	return syntaxErr("line 1:%d mismatched input '%s' expecting %s", t.pos, t.text, want)
}

// ident reads an identifier: lower-cased when bare, as written when quoted.
func (p *parser) ident(what string) (string, *cqlError) {
	switch t := p.peek(); t.kind {
	case tokIdent:
		p.i++
		return strings.ToLower(t.text), nil
	case tokQuoted:
		p.i++
		return t.text, nil
	}
	return "", p.unexpected(what)
}

// end accepts an optional ';' and requires the end of the statement.
func (p *parser) end() *cqlError {
	p.punct(";")
	if t := p.peek(); t.kind != tokEOF {
		return syntaxErr("line 1:%d extraneous input '%s' expecting <EOF>", t.pos, t.text)
	}
	return nil
}

// statement is a parsed statement.
type statement interface{ bindCount() int }

// condition is col = value in a WHERE clause; bind >= 0 for a marker.
type condition struct {
	col     string
	literal string
	bind    int
}

type selectStmt struct {
	keyspace, table string
	cols            []string // nil for *
	where           []condition
	limit           int
	filtering       bool
	binds           int
}

type keyspaceStmt struct {
	create       bool // CREATE, else ALTER
	keyspace     string
	ifClause     bool // IF NOT EXISTS (CREATE), IF EXISTS (ALTER)
	replication  map[string]string
	durable      *bool
	unknownProps []string
}

type useStmt struct{ keyspace string }

func (s *selectStmt) bindCount() int   { return s.binds }
func (s *keyspaceStmt) bindCount() int { return 0 }
func (s *useStmt) bindCount() int      { return 0 }

// parseStatement parses one statement of the supported forms.
func parseStatement(q string) (statement, *cqlError) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	switch {
	case p.keyword("SELECT"):
		return p.selectStmt()
	case p.keyword("ALTER"):
		if p.keyword("ROLE") {
			return p.roleStmt("ALTER")
		}
		if err := p.expectKeyword("KEYSPACE"); err != nil {
			return nil, unsupported(q)
		}
		return p.keyspaceStmt(false)
	case p.keyword("CREATE"):
		if p.keyword("ROLE") {
			return p.roleStmt("CREATE")
		}
		if !p.keyword("KEYSPACE") && !p.keyword("SCHEMA") {
			return nil, unsupported(q)
		}
		return p.keyspaceStmt(true)
	case p.keyword("DROP"):
		if !p.keyword("ROLE") {
			return nil, unsupported(q)
		}
		return p.roleStmt("DROP")
	case p.keyword("USE"):
		ks, err := p.ident("a keyspace name")
		if err != nil {
			return nil, err
		}
		return &useStmt{keyspace: ks}, p.end()
	}
	return nil, unsupported(q)
}

// unsupported: a statement the simulation does not run. Cassandra would;
// the error says it is the simulator that refuses.
func unsupported(q string) *cqlError {
	return invalid("the simulated node runs only SELECT, ALTER KEYSPACE, CREATE KEYSPACE, USE and CREATE, ALTER and DROP ROLE; not: %s", truncateText(q, 80))
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (p *parser) selectStmt() (statement, *cqlError) {
	s := &selectStmt{}
	if !p.punct("*") {
		for {
			c, err := p.ident("a column name")
			if err != nil {
				return nil, err
			}
			if p.peek().kind == tokPunct && p.peek().text == "(" {
				return nil, invalid("the simulated node selects columns only, not functions (%s)", c)
			}
			s.cols = append(s.cols, c)
			if !p.punct(",") {
				break
			}
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	name, err := p.ident("a table name")
	if err != nil {
		return nil, err
	}
	s.table = name
	if p.punct(".") {
		s.keyspace = name
		if s.table, err = p.ident("a table name"); err != nil {
			return nil, err
		}
	}
	if p.keyword("WHERE") {
		if err := p.where(s); err != nil {
			return nil, err
		}
	}
	if p.keyword("LIMIT") {
		t := p.next()
		if t.kind != tokNumber {
			return nil, syntaxErr("line 1:%d mismatched input '%s' expecting INTEGER", t.pos, t.text)
		}
		fmt.Sscan(t.text, &s.limit)
		if s.limit <= 0 {
			// SelectStatement: checked when the statement runs (5.0.9 answers
			// Invalid "LIMIT must be strictly positive", seen on a real node).
			return nil, invalid("LIMIT must be strictly positive")
		}
	}
	if p.keyword("ALLOW") {
		if err := p.expectKeyword("FILTERING"); err != nil {
			return nil, err
		}
		s.filtering = true
	}
	s.binds = p.binds
	return s, p.end()
}

func (p *parser) where(s *selectStmt) *cqlError {
	for {
		col, err := p.ident("a column name")
		if err != nil {
			return err
		}
		if err := p.expectPunct("="); err != nil {
			return invalid("the simulated node restricts columns with = only")
		}
		c := condition{col: col, bind: -1}
		switch t := p.next(); {
		case t.kind == tokPunct && t.text == "?":
			c.bind = p.binds
			p.binds++
		case t.kind == tokString || t.kind == tokNumber:
			c.literal = t.text
		default:
			return syntaxErr("line 1:%d no viable alternative at input '%s'", t.pos, t.text)
		}
		s.where = append(s.where, c)
		if !p.keyword("AND") {
			return nil
		}
	}
}

func (p *parser) keyspaceStmt(create bool) (statement, *cqlError) {
	s := &keyspaceStmt{create: create}
	if p.keyword("IF") {
		if create {
			if err := p.expectKeyword("NOT"); err != nil {
				return nil, err
			}
		}
		if err := p.expectKeyword("EXISTS"); err != nil {
			return nil, err
		}
		s.ifClause = true
	}
	ks, err := p.ident("a keyspace name")
	if err != nil {
		return nil, err
	}
	s.keyspace = ks
	if err := p.expectKeyword("WITH"); err != nil {
		return nil, err
	}
	for {
		if err := p.property(s); err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			break
		}
	}
	return s, p.end()
}

// property reads name = value of a keyspace's WITH clause.
func (p *parser) property(s *keyspaceStmt) *cqlError {
	name, err := p.ident("a property name")
	if err != nil {
		return err
	}
	if err := p.expectPunct("="); err != nil {
		return err
	}
	switch name {
	case "replication":
		m, err := p.mapLiteral()
		if err != nil {
			return err
		}
		s.replication = m
	case "durable_writes":
		t := p.next()
		v := strings.ToLower(t.text)
		if v != "true" && v != "false" {
			return &cqlError{code: errSyntax, msg: fmt.Sprintf("Invalid boolean value %s for 'durable_writes' property", t.text)}
		}
		b := v == "true"
		s.durable = &b
	default:
		p.next()
		s.unknownProps = append(s.unknownProps, name)
	}
	return nil
}

// mapLiteral reads {'key': value, ...}; values are strings, numbers or
// booleans, kept as their text.
func (p *parser) mapLiteral() (map[string]string, *cqlError) {
	if err := p.expectPunct("{"); err != nil {
		return nil, err
	}
	m := map[string]string{}
	if p.punct("}") {
		return m, nil
	}
	for {
		k := p.next()
		if k.kind != tokString {
			return nil, syntaxErr("line 1:%d mismatched input '%s' expecting STRING_LITERAL", k.pos, k.text)
		}
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		v := p.next()
		if v.kind != tokString && v.kind != tokNumber && v.kind != tokIdent {
			return nil, syntaxErr("line 1:%d no viable alternative at input '%s'", v.pos, v.text)
		}
		m[k.text] = v.text
		if p.punct("}") {
			return m, nil
		}
		if err := p.expectPunct(","); err != nil {
			return nil, err
		}
	}
}
