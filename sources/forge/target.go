package forge

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kind is a forge product.
type Kind string

const (
	GitHub          Kind = "github"
	GitLab          Kind = "gitlab"
	Gitea           Kind = "gitea"
	Forgejo         Kind = "forgejo"
	BitbucketCloud  Kind = "bitbucket-cloud"
	BitbucketServer Kind = "bitbucket-server"
)

func (k Kind) String() string { return string(k) }

// Kinds lists the supported forges, sorted.
func Kinds() []Kind {
	ks := []Kind{GitHub, GitLab, Gitea, Forgejo, BitbucketCloud, BitbucketServer}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// ParseKind accepts a --forge value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if strings.EqualFold(s, string(k)) {
			return k, nil
		}
	}
	return "", fmt.Errorf("forge %q: unknown (one of %s)", s, kindList())
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// Target is one repository on one forge: where its status API is.
type Target struct {
	Kind Kind
	// APIURL is the base of the REST API, without a trailing slash:
	// "https://api.github.com", "https://ghe.example.com/api/v3",
	// "https://gitlab.com/api/v4", "https://gitea.example.com/api/v1",
	// "https://api.bitbucket.org/2.0", and for Bitbucket Server/Data
	// Center its base URL (with the context path, e.g.
	// "https://bitbucket.example.com/bitbucket").
	APIURL string
	// Owner is the GitHub/Gitea owner, the Bitbucket Cloud workspace or
	// the Bitbucket Server project key; for GitLab the namespace path
	// ("group/subgroup"), empty when Repo is a numeric project ID.
	Owner string
	// Repo is the repository name or slug (GitLab: project path or ID).
	Repo string
}

func (t Target) String() string {
	return fmt.Sprintf("%s %s (%s)", t.Kind, t.FullName(), t.APIURL)
}

// FullName is "owner/repo" (GitLab: the project path, or its ID).
func (t Target) FullName() string {
	if t.Owner == "" {
		return t.Repo
	}
	return t.Owner + "/" + t.Repo
}

// TargetOptions override what ResolveTarget derives from the repository URL.
type TargetOptions struct {
	// Kind is required for hosts other than github.com, gitlab.com and
	// bitbucket.org (--forge).
	Kind Kind
	// APIURL overrides the derived API base (--forge-api-url).
	APIURL string
	// Repository overrides the derived repository: "owner/repo", a GitLab
	// project path or numeric ID, "PROJECT/slug" on Bitbucket Server
	// (--forge-repository).
	Repository string
}

// publicHosts are the SaaS forges recognised from the URL alone.
var publicHosts = map[string]Target{
	"github.com":    {Kind: GitHub, APIURL: "https://api.github.com"},
	"gitlab.com":    {Kind: GitLab, APIURL: "https://gitlab.com/api/v4"},
	"bitbucket.org": {Kind: BitbucketCloud, APIURL: "https://api.bitbucket.org/2.0"},
}

// ResolveTarget derives the forge, its API and the repository from the
// repository URL ("https://host/owner/repo.git", "ssh://git@host/owner/repo",
// "git@host:owner/repo.git"); opts fill in or override what the URL cannot
// say. Self-hosted forges are assumed to serve their API over https on the
// same host (http only when the repository URL itself is http).
func ResolveTarget(repoURL string, opts TargetOptions) (Target, error) {
	loc, err := parseRepoURL(repoURL)
	if err != nil {
		return Target{}, err
	}
	shown := RedactURL(repoURL)
	t, err := deriveTarget(loc, opts.Kind)
	if err != nil {
		return Target{}, fmt.Errorf("forge for %s: %w", shown, err)
	}
	if opts.APIURL != "" {
		t.APIURL = strings.TrimRight(opts.APIURL, "/")
	}
	if opts.Repository != "" {
		t.Owner, t.Repo = splitRepository(t.Kind, opts.Repository)
	}
	if err := t.validate(); err != nil {
		return Target{}, fmt.Errorf("forge for %s: %w", shown, err)
	}
	return t, nil
}

// RedactURL returns u with any password replaced by "xxxxx" (u itself when
// it is no URL or holds none), for messages.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); !ok {
		return u
	}
	return p.Redacted()
}

// loopbackHost reports whether host (no port) is a loopback name or address.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (t Target) validate() error {
	var errs []error
	if u, err := url.Parse(t.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("API URL %q is not an http(s) URL (set --forge-api-url)", RedactURL(t.APIURL)))
	} else if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		errs = append(errs, fmt.Errorf("API URL %q is plain http: the forge token would cross the network in clear; use https (plain http is accepted for loopback addresses only)", RedactURL(t.APIURL)))
	}
	if t.Repo == "" || (t.Owner == "" && !(t.Kind == GitLab && isNumber(t.Repo))) {
		errs = append(errs, fmt.Errorf("repository %q is not owner/repo (set --forge-repository)", t.FullName()))
	}
	return errors.Join(errs...)
}

// repoLocation is a repository URL taken apart.
type repoLocation struct {
	scheme string // "https", "http" or "ssh"
	host   string // without port
	port   string
	path   string // without leading slash and ".git"
}

var scpLike = regexp.MustCompile(`^(?:[^@/]+@)?([^:/]+):(.+)$`)

func parseRepoURL(raw string) (repoLocation, error) {
	if raw == "" {
		return repoLocation{}, errors.New("forge: repository URL is empty")
	}
	if !strings.Contains(raw, "://") {
		m := scpLike.FindStringSubmatch(raw)
		if m == nil {
			return repoLocation{}, fmt.Errorf("forge: repository URL %q: not a URL nor user@host:path", raw)
		}
		return repoLocation{scheme: "ssh", host: m[1], path: cleanRepoPath(m[2])}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return repoLocation{}, fmt.Errorf("forge: repository URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https", "ssh", "git+ssh", "ssh+git":
	default:
		return repoLocation{}, fmt.Errorf("forge: repository URL %q: scheme %q not supported", u.Redacted(), u.Scheme)
	}
	scheme := u.Scheme
	if strings.Contains(scheme, "ssh") {
		scheme = "ssh"
	}
	return repoLocation{scheme: scheme, host: strings.ToLower(u.Hostname()), port: u.Port(), path: cleanRepoPath(u.Path)}, nil
}

func cleanRepoPath(p string) string {
	return strings.TrimSuffix(strings.Trim(p, "/"), ".git")
}

func deriveTarget(loc repoLocation, kind Kind) (Target, error) {
	if pub, ok := publicHosts[loc.host]; ok && (kind == "" || kind == pub.Kind) {
		t := pub
		t.Owner, t.Repo = splitRepository(t.Kind, loc.path)
		return t, nil
	}
	if kind == "" {
		return Target{}, fmt.Errorf("host %s is not a known forge: set --forge (%s)", loc.host, kindList())
	}
	if _, err := ParseKind(string(kind)); err != nil {
		return Target{}, err
	}
	base := loc.webBase()
	switch kind {
	case GitHub:
		t := Target{Kind: kind, APIURL: base + "/api/v3"}
		t.Owner, t.Repo = splitRepository(kind, loc.path)
		return t, nil
	case GitLab:
		t := Target{Kind: kind, APIURL: base + "/api/v4"}
		t.Owner, t.Repo = splitRepository(kind, loc.path)
		return t, nil
	case BitbucketServer:
		return bitbucketServerTarget(loc, base), nil
	default: // Gitea, Forgejo: a sub-path install keeps its prefix.
		prefix, owner, repo := splitLastTwo(loc.path)
		return Target{Kind: kind, APIURL: base + joinPrefix(prefix) + "/api/v1", Owner: owner, Repo: repo}, nil
	}
}

// webBase is the forge's web root as seen from the repository URL: the
// same scheme and port for http(s), https on the bare host for ssh.
func (l repoLocation) webBase() string {
	if l.scheme == "ssh" {
		return "https://" + l.host
	}
	if l.port != "" {
		return l.scheme + "://" + l.host + ":" + l.port
	}
	return l.scheme + "://" + l.host
}

// bitbucketServerTarget reads "<context>/scm/<PROJECT>/<slug>" (http
// clone URLs) or "<PROJECT>/<slug>" (ssh).
func bitbucketServerTarget(loc repoLocation, base string) Target {
	ctxPath, rest := "", loc.path
	p := "/" + loc.path
	if i := strings.LastIndex(p, "/scm/"); i >= 0 {
		ctxPath, rest = strings.Trim(p[:i], "/"), p[i+len("/scm/"):]
	}
	owner, repo := splitRepository(BitbucketServer, rest)
	return Target{Kind: BitbucketServer, APIURL: base + joinPrefix(ctxPath), Owner: owner, Repo: repo}
}

// splitRepository splits "owner/repo"; GitLab keeps nested groups in the
// owner and a bare number as a project ID.
func splitRepository(kind Kind, p string) (owner, repo string) {
	p = cleanRepoPath(p)
	if kind == GitLab {
		i := strings.LastIndex(p, "/")
		if i < 0 {
			return "", p
		}
		return p[:i], p[i+1:]
	}
	_, owner, repo = splitLastTwo(p)
	return owner, repo
}

// splitLastTwo splits "a/b/owner/repo" into "a/b", "owner", "repo".
func splitLastTwo(p string) (prefix, owner, repo string) {
	parts := strings.Split(p, "/")
	switch n := len(parts); {
	case n >= 2:
		return strings.Join(parts[:n-2], "/"), parts[n-2], parts[n-1]
	default:
		return "", "", p
	}
}

func joinPrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	return "/" + prefix
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
