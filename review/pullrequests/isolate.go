package pullrequests

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/review"
)

// Isolated plans each head in a child process: this binary's hidden
// subcommand (cmd/ringops: `ringops check-pull-request`), which calls
// ServeChild. The child's data segment is capped (RLIMIT_DATA, set by the
// child before it reads its input, and by the parent on Linux) and its
// Go heap limited below it (debug.SetMemoryLimit); it is killed at
// Timeout. A child that runs out of memory, time or input crashes alone:
// the head is refused with ErrLimits, the daemon goes on.
type Isolated struct {
	// Command is the child's argv: the binary and its subcommand.
	Command []string
	// MemoryLimit caps the child's memory, in bytes. Default 1 GiB (a
	// plan at the spec's bounds needs about 200 MiB).
	MemoryLimit int64
	// Timeout bounds one plan. Default 2 minutes.
	Timeout time.Duration
	// MaxInput bounds the files sent to the child (both trees below the
	// root), in bytes. Default 256 MiB.
	MaxInput int64
}

// Defaults of Isolated.
const (
	DefaultChildMemoryLimit = 1 << 30
	DefaultChildTimeout     = 2 * time.Minute
	DefaultChildMaxInput    = 256 << 20
)

// childMemoryEnv passes the memory limit to the child.
const childMemoryEnv = "RINGOPS_CHECK_MEMORY_LIMIT"

// childRequest opens the child's input, before the files of both trees.
type childRequest struct {
	Root string `json:"root"`
	// ManageKeyspaces is PlanRequest.ManageKeyspaces.
	ManageKeyspaces bool            `json:"manageKeyspaces,omitempty"`
	Base            review.Revision `json:"base"`
	Head            review.Revision `json:"head"`
}

// childResponse is the child's output.
type childResponse struct {
	Result *PlanResult `json:"result,omitempty"`
	Error  string      `json:"error,omitempty"`
	Limits bool        `json:"limits,omitempty"` // Error is ErrLimits
}

func (p Isolated) withDefaults() Isolated {
	if p.MemoryLimit <= 0 {
		p.MemoryLimit = DefaultChildMemoryLimit
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultChildTimeout
	}
	if p.MaxInput <= 0 {
		p.MaxInput = DefaultChildMaxInput
	}
	return p
}

// Plan runs the child, sends it both trees and reads its verdict.
func (p Isolated) Plan(ctx context.Context, req PlanRequest) (PlanResult, error) {
	p = p.withDefaults()
	if len(p.Command) == 0 {
		return PlanResult{}, errors.New("isolated planner: no command")
	}
	var input bytes.Buffer
	if err := writeRequest(&input, req, p.MaxInput); err != nil {
		return PlanResult{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, p.Command[0], p.Command[1:]...)
	cmd.Env = append(os.Environ(), childMemoryEnv+"="+strconv.FormatInt(p.MemoryLimit, 10), "GOMEMLIMIT=", "GOGC=")
	cmd.Stdin = &input
	var stdout, stderr capBuffer
	stdout.max, stderr.max = 1<<20, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return PlanResult{}, fmt.Errorf("isolated planner: start: %w", err)
	}
	limitChild(cmd.Process.Pid, p.MemoryLimit)
	err := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return PlanResult{}, ctx.Err()
	case cctx.Err() != nil:
		return PlanResult{}, fmt.Errorf("%w: took longer than %s", ErrLimits, p.Timeout)
	case err != nil:
		return PlanResult{}, fmt.Errorf("%w: the check crashed (%v, memory limit %d MiB): %s", ErrLimits, err, p.MemoryLimit>>20, lastLine(stderr.String()))
	}
	var resp childResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return PlanResult{}, fmt.Errorf("isolated planner: unreadable answer: %w", err)
	}
	switch {
	case resp.Limits:
		return PlanResult{}, fmt.Errorf("%w: %s", ErrLimits, resp.Error)
	case resp.Error != "":
		return PlanResult{}, errors.New(resp.Error)
	case resp.Result == nil:
		return PlanResult{}, errors.New("isolated planner: empty answer")
	}
	return *resp.Result, nil
}

// ServeChild is the child's side of Isolated: it caps its own memory
// (RLIMIT_DATA and the Go heap limit, from the parent's setting) before
// reading anything, reads the request and both trees from in, plans with
// a render.Renderer, and writes its verdict to out. Only an error writing
// the answer is returned.
func ServeChild(ctx context.Context, in io.Reader, out io.Writer) error {
	if limit, err := strconv.ParseInt(os.Getenv(childMemoryEnv), 10, 64); err == nil && limit > 0 {
		lim := &syscall.Rlimit{Cur: uint64(limit), Max: uint64(limit)}
		_ = syscall.Setrlimit(syscall.RLIMIT_DATA, lim) // lowering is always allowed; the parent sets it too on Linux
		debug.SetMemoryLimit(limit / 4 * 3)
	}
	resp := serve(ctx, in)
	return json.NewEncoder(out).Encode(resp)
}

func serve(ctx context.Context, in io.Reader) childResponse {
	req, err := readRequest(in, DefaultChildMaxInput)
	if err != nil {
		return childResponse{Error: err.Error(), Limits: errors.Is(err, ErrLimits)}
	}
	res, err := InProcess{Renderer: render.New(render.DefaultOptions())}.Plan(ctx, req)
	if err != nil {
		return childResponse{Error: err.Error(), Limits: errors.Is(err, render.ErrDeadline)}
	}
	return childResponse{Result: &res}
}

// writeRequest writes the request and the files below the root of both
// trees (regular files and symlinks) as a tar stream.
func writeRequest(w io.Writer, req PlanRequest, max int64) error {
	tw := tar.NewWriter(w)
	head, err := json.Marshal(childRequest{Root: req.Root, ManageKeyspaces: req.ManageKeyspaces, Base: req.Base.Revision, Head: req.Head.Revision})
	if err != nil {
		return err
	}
	if err := writeEntry(tw, "request.json", head); err != nil {
		return err
	}
	size := int64(len(head))
	for _, side := range []struct {
		name string
		fsys fs.FS
	}{{"base", req.Base.FS}, {"head", req.Head.FS}} {
		if side.fsys == nil {
			continue
		}
		if err := writeTree(tw, side.name, side.fsys, req.Root, &size, max); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeTree(tw *tar.Writer, prefix string, fsys fs.FS, root string, size *int64, max int64) error {
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Name: prefix + "/" + p, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777})
		case !d.Type().IsRegular():
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if *size += int64(len(data)); *size > max {
			return fmt.Errorf("%w: the files below %s are over %d MiB", ErrLimits, root, max>>20)
		}
		return writeEntry(tw, prefix+"/"+p, data)
	})
	if errors.Is(err, fs.ErrNotExist) && root != "." {
		return nil // no clusters directory on this side
	}
	return err
}

func writeEntry(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// readRequest reads what writeRequest wrote into two in-memory trees.
func readRequest(r io.Reader, max int64) (PlanRequest, error) {
	tr := tar.NewReader(io.LimitReader(r, max+1<<20))
	trees := map[string]fstest.MapFS{"base": {}, "head": {}}
	var req PlanRequest
	var cr childRequest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return req, fmt.Errorf("read request: %w", err)
		}
		if h.Name == "request.json" {
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&cr); err != nil {
				return req, fmt.Errorf("read request: %w", err)
			}
			continue
		}
		side, p, ok := strings.Cut(h.Name, "/")
		tree, known := trees[side]
		if !ok || !known || !fs.ValidPath(p) {
			return req, fmt.Errorf("read request: unexpected entry %q", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeSymlink:
			tree[p] = &fstest.MapFile{Data: []byte(h.Linkname), Mode: fs.ModeSymlink | 0o777}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				return req, fmt.Errorf("read request: %s: %w", h.Name, err)
			}
			tree[p] = &fstest.MapFile{Data: data, Mode: 0o644}
		}
	}
	req.Root, req.ManageKeyspaces = cr.Root, cr.ManageKeyspaces
	req.Base = review.Tree{Revision: cr.Base, FS: trees["base"]}
	req.Head = review.Tree{Revision: cr.Head, FS: trees["head"]}
	return req, nil
}

// capBuffer keeps the first max bytes written to it and drops the rest.
type capBuffer struct {
	bytes.Buffer
	max int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// lastLine is the first line of the child's stderr that says why it
// died (the Go runtime's "fatal error: ..."), else its first line,
// bounded.
func lastLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "runtime: out of memory") {
			return truncate(line, 200)
		}
	}
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return truncate(line, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
