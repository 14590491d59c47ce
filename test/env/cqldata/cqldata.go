// Package cqldata checks rollouts with data: it writes rows into real
// Cassandra nodes over CQL (the Apache Cassandra Go driver) and reads them
// back, datacenter by datacenter, at the consistency a check needs, and runs
// a writer that counts failed writes while a rollout goes on. Test-only.
//
// A keyspace of the checks has one table, rows (id int PRIMARY KEY, v
// text); row i holds "v<i>". Reads at LOCAL_ONE through coordinators of one
// datacenter only answer what that datacenter's replicas hold, so a node
// that joined without its data shows up as missing rows.
package cqldata

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Session is a CQL session bound to one datacenter: its coordinators are
// that datacenter's nodes only.
type Session struct {
	DC string
	s  *gocql.Session
}

// Dial connects to the nodes at hosts (IP addresses; port 9042) of
// datacenter dc; only dc's nodes coordinate its queries. It sends no
// credentials: for nodes with AllowAllAuthenticator.
func Dial(dc string, hosts ...string) (*Session, error) {
	return DialAs(dc, "", "", hosts...)
}

// DialAs is Dial logging in as user with password (PasswordAuthenticator,
// e.g. the role of ringops' Secret <cluster>-cql); user "": none.
func DialAs(dc, user, password string, hosts ...string) (*Session, error) {
	c := gocql.NewCluster(hosts...)
	if user != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: password}
	}
	c.Port = 9042
	c.Timeout = 10 * time.Second
	c.ConnectTimeout = 10 * time.Second
	c.ProtoVersion = 4
	c.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(dc)
	c.HostFilter = gocql.DataCenterHostFilter(dc)
	c.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 3}
	c.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 100, Interval: time.Second}
	s, err := c.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("cql %s %v: %w", dc, hosts, err)
	}
	return &Session{DC: dc, s: s}, nil
}

// Close closes the session.
func (s *Session) Close() { s.s.Close() }

// CreateKeyspace creates keyspace ks (NetworkTopologyStrategy with the
// factors given per datacenter) and its table, if they do not exist, and
// waits for schema agreement.
func (s *Session) CreateKeyspace(ctx context.Context, ks string, rf map[string]int) error {
	var parts []string
	for _, dc := range slices.Sorted(maps.Keys(rf)) {
		parts = append(parts, fmt.Sprintf("'%s': %d", dc, rf[dc]))
	}
	stmts := []string{
		fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'NetworkTopologyStrategy', %s}", ks, strings.Join(parts, ", ")),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.rows (id int PRIMARY KEY, v text)", ks),
	}
	for _, q := range stmts {
		if err := s.s.Query(q).Consistency(gocql.All).ExecContext(ctx); err != nil {
			return fmt.Errorf("cql %s: %s: %w", s.DC, q, err)
		}
	}
	return s.s.AwaitSchemaAgreement(ctx)
}

// Write writes rows [from, to) of ks at consistency cl.
func (s *Session) Write(ctx context.Context, ks string, from, to int, cl gocql.Consistency) error {
	for i := from; i < to; i++ {
		// Idempotent (the same row, the same value): the driver may retry it
		// on the next coordinator, as a production client marks such writes.
		q := s.s.Query(fmt.Sprintf("INSERT INTO %s.rows (id, v) VALUES (?, ?)", ks), i, fmt.Sprintf("v%d", i)).
			Consistency(cl).Idempotent(true)
		if err := q.ExecContext(ctx); err != nil {
			return fmt.Errorf("cql %s: write row %d of %s at %s: %w", s.DC, i, ks, cl, err)
		}
	}
	return nil
}

// Missing reads rows [from, to) of ks one by one at consistency cl (eight
// reads in flight) and returns those that are not there (or hold a wrong
// value), sorted, and the first read error.
func (s *Session) Missing(ctx context.Context, ks string, from, to int, cl gocql.Consistency) ([]int, error) {
	var (
		mu       sync.Mutex
		missing  []int
		firstErr error
	)
	eachRow(from, to, func(i int) bool {
		var v string
		err := s.s.Query(fmt.Sprintf("SELECT v FROM %s.rows WHERE id = ?", ks), i).Consistency(cl).Idempotent(true).ScanContext(ctx, &v)
		if err == nil && v == fmt.Sprintf("v%d", i) {
			return true
		}
		mu.Lock()
		defer mu.Unlock()
		missing = append(missing, i)
		if err != nil && !errors.Is(err, gocql.ErrNotFound) && firstErr == nil {
			firstErr = fmt.Errorf("cql %s: read row %d of %s at %s: %w", s.DC, i, ks, cl, err)
		}
		return true
	})
	slices.Sort(missing)
	return missing, firstErr
}

// eachRow calls f for rows [from, to), eight at a time, until f returns
// false.
func eachRow(from, to int, f func(i int) bool) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = from
		stop bool
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		i := next
		next++
		return i, i < to && !stop
	}
	for range 8 {
		wg.Go(func() {
			for i, ok := take(); ok; i, ok = take() {
				if !f(i) {
					mu.Lock()
					stop = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// Fill writes rows [from, to) of ks with values of size bytes each (eight
// writes in flight) at consistency cl: data enough that a node's load is
// mostly its rows, not its system tables. The values are random letters,
// which no sstable compression shrinks much: a repeated letter compressed
// to almost nothing, and a node's load was then mostly its system tables
// after all. Fill's rows are not those Missing checks: fill a keyspace of
// their own.
func (s *Session) Fill(ctx context.Context, ks string, from, to, size int, cl gocql.Consistency) error {
	var (
		mu       sync.Mutex
		firstErr error
	)
	eachRow(from, to, func(i int) bool {
		q := s.s.Query(fmt.Sprintf("INSERT INTO %s.rows (id, v) VALUES (?, ?)", ks), i, letters(i, size)).Consistency(cl).Idempotent(true)
		err := q.ExecContext(ctx)
		if err == nil {
			return true
		}
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = fmt.Errorf("cql %s: fill row %d of %s at %s: %w", s.DC, i, ks, cl, err)
		}
		return false
	})
	return firstErr
}

// Writer writes rows continuously, one at a time, until stopped, counting
// the writes that failed after the driver's retries.
type Writer struct {
	s        *Session
	ks       string
	cl       gocql.Consistency
	next     int
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []string
	cancel   context.CancelFunc
	done     chan struct{}
}

// StartWriter writes rows of ks from row `from` on at consistency cl, in
// the background.
func (s *Session) StartWriter(ks string, from int, cl gocql.Consistency) *Writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{s: s, ks: ks, cl: cl, next: from, cancel: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	for ctx.Err() == nil {
		err := w.s.Write(ctx, w.ks, w.next, w.next+1, w.cl)
		switch {
		case err == nil:
			w.ok.Add(1)
			w.next++
		case ctx.Err() != nil:
		default:
			w.fail.Add(1)
			w.mu.Lock()
			if len(w.errs) < 10 {
				w.errs = append(w.errs, time.Now().Format("15:04:05.000")+" "+err.Error())
			}
			w.mu.Unlock()
			w.next++
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Stop stops the writer and returns how many writes succeeded and failed,
// the first failures' errors, and the end of the rows written (exclusive).
func (w *Writer) Stop() (ok, failed int64, errs []string, end int) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ok.Load(), w.fail.Load(), append([]string(nil), w.errs...), w.next
}

// Exec runs one statement at consistency ALL (schema changes: ALTER
// KEYSPACE, ALTER TABLE) and waits for schema agreement.
func (s *Session) Exec(ctx context.Context, stmt string) error {
	if err := s.s.Query(stmt).Consistency(gocql.All).ExecContext(ctx); err != nil {
		return fmt.Errorf("cql %s: %s: %w", s.DC, stmt, err)
	}
	return s.s.AwaitSchemaAgreement(ctx)
}

// letters are size random letters, the same for the same row.
func letters(row, size int) string {
	r := rand.New(rand.NewPCG(uint64(row), 0x72696e676f7073))
	b := make([]byte, size)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}
