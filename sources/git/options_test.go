package git

import (
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	for raw, want := range map[string]struct {
		protocol, user, host, path string
		port                       int
	}{
		"git@github.com:org/repo.git":              {"ssh", "git", "github.com", "org/repo.git", 22},
		"root@127.0.0.1:/srv/git/repo.git":         {"ssh", "root", "127.0.0.1", "/srv/git/repo.git", 22},
		"ssh://git@host.example:2222/org/repo.git": {"ssh", "git", "host.example", "/org/repo.git", 2222},
		"https://gitlab.example/group/repo.git":    {"https", "", "gitlab.example", "/group/repo.git", 0},
	} {
		ep, err := parseEndpoint(raw)
		if err != nil {
			t.Errorf("parseEndpoint(%q): %v", raw, err)
			continue
		}
		got := struct {
			protocol, user, host, path string
			port                       int
		}{ep.Protocol, ep.User, ep.Host, ep.Path, ep.Port}
		if got != want {
			t.Errorf("parseEndpoint(%q) = %+v, want %+v", raw, got, want)
		}
	}
}

func TestOptionsAreValidated(t *testing.T) {
	sshAuth := AuthOptions{SSHKeyFile: "/k", KnownHostsFile: "/kh"}
	cases := []struct {
		name string
		url  string
		auth AuthOptions
		want string // substring of the error; "" means valid
	}{
		{"ssh ok", "git@host:org/repo.git", sshAuth, ""},
		{"ssh without key", "ssh://git@host/repo.git", AuthOptions{KnownHostsFile: "/kh"}, "SSH key"},
		{"ssh without known_hosts", "ssh://git@host/repo.git", AuthOptions{SSHKeyFile: "/k"}, "known_hosts"},
		{"ssh key on https", "https://host/repo.git", sshAuth, "for ssh URLs"},
		{"token over plain http", "http://git.example/repo.git", AuthOptions{TokenFile: "/t"}, "plain http"},
		{"token over loopback http", "http://127.0.0.1:8080/repo.git", AuthOptions{TokenFile: "/t"}, ""},
		{"password in URL", "https://u:hunter2@host/repo.git", AuthOptions{}, "password"},
		{"unsupported protocol", "file:///srv/repo.git", AuthOptions{}, "not supported"},
		{"no URL", "", AuthOptions{}, "URL is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			o.URL, o.Auth = c.url, c.auth
			_, err := NewPoller(o)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("NewPoller: %v, want ok", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("NewPoller: %v, want an error saying %q", err, c.want)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Errorf("error %q carries the password", err)
			}
		})
	}
	o := DefaultOptions()
	o.URL, o.Interval = "https://host/repo.git", 0
	if _, err := NewPoller(o); err == nil || !strings.Contains(err.Error(), "interval") {
		t.Errorf("zero interval: %v, want an error naming the interval", err)
	}
}

func TestRevisionString(t *testing.T) {
	for rev, want := range map[Revision]string{
		{Ref: "refs/heads/main", Hash: "abc"}:      "main@sha1:abc",
		{Ref: "refs/tags/v1.2.0", Hash: "abc"}:     "v1.2.0@sha1:abc",
		{Ref: "refs/pull/7/head", Hash: "abc"}:     "refs/pull/7/head@sha1:abc",
		{Ref: "refs/heads/feature/x", Hash: "abc"}: "feature/x@sha1:abc",
		{}: "",
	} {
		if got := rev.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", rev, got, want)
		}
	}
	o := DefaultOptions()
	if got := o.ref(); got != "refs/heads/main" {
		t.Errorf("default ref = %q", got)
	}
	o.Tag = "v1"
	if got := o.ref(); got != "refs/tags/v1" {
		t.Errorf("tag ref = %q, want the tag to win over the branch", got)
	}
}

func TestAuthFromEnv(t *testing.T) {
	t.Setenv(EnvSSHKeyFile, "/keys/id")
	t.Setenv(EnvKnownHostsFile, "/keys/known_hosts")
	t.Setenv(EnvToken, "tok-hunter2")
	t.Setenv(EnvBearer, "true")
	a := AuthFromEnv()
	want := AuthOptions{SSHKeyFile: "/keys/id", KnownHostsFile: "/keys/known_hosts", TokenEnv: EnvToken, Bearer: true}
	if a != want {
		t.Errorf("AuthFromEnv() = %+v, want %+v", a, want)
	}
	if s := a.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "token-env="+EnvToken) {
		t.Errorf("String() = %q: want the variable's name, never the token", s)
	}
}
