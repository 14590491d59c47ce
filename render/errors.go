package render

import (
	"errors"
	"fmt"
)

// Sentinel errors a caller can branch on with errors.Is. Each is wrapped in
// a *FileError (or a context-naming error) that says where it happened.
var (
	// ErrUnknownContext: no datacenter of the cluster lives in the context.
	ErrUnknownContext = errors.New("no datacenter in this context")
	// ErrRemoteReference: a Component refers to a URL or a git repository.
	ErrRemoteReference = errors.New("remote references are not allowed")
	// ErrEscapesComponent: a Component refers to a path outside its directory.
	ErrEscapesComponent = errors.New("path escapes the component directory")
	// ErrNotComponent: a region's kustomization is not a kind: Component.
	ErrNotComponent = errors.New("not a kustomize Component")
	// ErrUnsafeFile: a region file is a symlink leaving the repository, a
	// special file, or a symlink to a directory.
	ErrUnsafeFile = errors.New("not a regular file inside the repository")
	// ErrTooLarge: a region file, the number of files, their size or their
	// YAML nodes (aliases expanded) exceed Options.
	ErrTooLarge = errors.New("over the size limit")
	// ErrDeadline: a render took longer than Options.Timeout (the context's
	// cause; errors.Is(err, context.DeadlineExceeded) holds too).
	ErrDeadline = errors.New("render took longer than its deadline")
	// ErrUnsupported: a Component uses a kustomize feature ringops disables
	// (Helm charts, plugins).
	ErrUnsupported = errors.New("not supported")
	// ErrBuild: kustomize failed to build the region's overlay.
	ErrBuild = errors.New("kustomize build failed")
	// ErrNoTarget: a patch of a region Component selects no object.
	ErrNoTarget = errors.New("patch target not found")
	// ErrRenamed: a Component removed or renamed an object ringops generates.
	ErrRenamed = errors.New("generated object removed or renamed")
	// ErrForbidden: a Component added an object it may not (a kind not in
	// AllowedKinds, another namespace, a cluster-scoped kind, any
	// ownerReferences) or changed a protected field of a generated object
	// (guard.go).
	ErrForbidden = errors.New("not allowed in a region Component")
	// ErrReplicas: a Component changed the replicas of a StatefulSet, which
	// ringops sets from cluster.yaml, one node at a time.
	ErrReplicas = errors.New("replicas changed")
)

// FileError locates an error in the repository: the slash path of the file
// (relative to the filesystem given to Render) and, when known, the field of
// that file, e.g. "resources[2]".
type FileError struct {
	Path  string
	Field string
	Err   error
}

func (e *FileError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Path, e.Field, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

func fileErr(path, field string, err error) error {
	return &FileError{Path: path, Field: field, Err: err}
}
