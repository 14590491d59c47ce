package forge

import "testing"

func TestCommitURLTemplate(t *testing.T) {
	for _, tc := range []struct {
		repo string
		kind Kind
		want string
	}{
		{"https://github.com/acme/db.git", "", "https://github.com/acme/db/commit/{sha}"},
		{"git@github.com:acme/db.git", "", "https://github.com/acme/db/commit/{sha}"},
		{"ssh://git@gitlab.com/group/sub/db.git", "", "https://gitlab.com/group/sub/db/-/commit/{sha}"},
		{"https://bitbucket.org/ws/db.git", "", "https://bitbucket.org/ws/db/commits/{sha}"},
		{"http://127.0.0.1:3000/git/acme/db.git", Gitea, "http://127.0.0.1:3000/git/acme/db/commit/{sha}"},
		{"https://bb.example.com/ctx/scm/PRJ/db.git", BitbucketServer, "https://bb.example.com/ctx/projects/PRJ/repos/db/commits/{sha}"},
		{"https://git.example.com/acme/db.git", "", ""},
		{"not a url", "", ""},
	} {
		if got := CommitURLTemplate(tc.repo, tc.kind); got != tc.want {
			t.Errorf("CommitURLTemplate(%q, %q) = %q, want %q", tc.repo, tc.kind, got, tc.want)
		}
	}
	if got := CommitURL("https://github.com/a/b/commit/{sha}", "abc"); got != "https://github.com/a/b/commit/abc" {
		t.Errorf("CommitURL = %q", got)
	}
}
