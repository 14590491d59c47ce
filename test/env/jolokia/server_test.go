package jolokia

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestStoppedServerRefusesConnectionsAndRestartsOnTheSameAddress(t *testing.T) {
	s := NewServer(testRegistry(t), Options{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	addr := s.Addr()
	if r := do(t, addr, call{method: "GET", uri: "/jolokia/version"}); r.status != 200 {
		t.Fatalf("running server: HTTP %d %v", r.status, r.err)
	}
	if err := s.Start(""); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start: %v, want ErrRunning", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatalf("stopped server %s accepted a connection", addr)
	}
	if err := s.Start(""); err != nil {
		t.Fatalf("restart on %s: %v", addr, err)
	}
	if s.Addr() != addr || s.URL() != "http://"+addr+"/jolokia/" {
		t.Errorf("restarted on %s (%s), want %s", s.Addr(), s.URL(), addr)
	}
	if r := do(t, addr, call{method: "GET", uri: "/jolokia/version"}); r.status != 200 {
		t.Errorf("restarted server: HTTP %d %v", r.status, r.err)
	}
}

func TestStopCutsAnswersInProgress(t *testing.T) {
	s := NewServer(testRegistry(t), Options{Delay: time.Hour})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /jolokia/version HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(ioGuard))
	n, err := conn.Read(make([]byte, 1))
	if n != 0 || err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Errorf("read after Stop: %d bytes, %v; want the connection closed", n, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A delayed agent holds its answer: a client that gives up gets none, and
// once the delay is lifted answers flow again.
func TestDelayHoldsAnswersBack(t *testing.T) {
	h := NewHandler(testRegistry(t), Options{})
	h.SetDelay(time.Hour)
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/jolokia/version", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("delayed request: %v, want it still waiting when cancelled", err)
	}

	h.SetDelay(0)
	resp, err := http.Get(srv.URL + "/jolokia/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-entered
	if resp.StatusCode != 200 {
		t.Errorf("after SetDelay(0): HTTP %d", resp.StatusCode)
	}
}
