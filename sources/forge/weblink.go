package forge

import "strings"

// CommitPlaceholder stands for the commit's hash in CommitURLTemplate's
// result.
const CommitPlaceholder = "{sha}"

// CommitURLTemplate is the web page of a commit of the repository at
// repoURL on its forge, with CommitPlaceholder where the hash goes
// ("https://github.com/acme/db/commit/{sha}"); kind names the forge when
// the host is not a public one. "" when the forge cannot be told, or the
// URL is not one of a forge.
func CommitURLTemplate(repoURL string, kind Kind) string {
	loc, err := parseRepoURL(repoURL)
	if err != nil || loc.path == "" {
		return ""
	}
	if pub, ok := publicHosts[loc.host]; ok && kind == "" {
		kind = pub.Kind
	}
	base := loc.webBase()
	if _, ok := publicHosts[loc.host]; ok {
		base = "https://" + loc.host
	}
	switch kind {
	case GitHub, Gitea, Forgejo:
		return base + "/" + loc.path + "/commit/" + CommitPlaceholder
	case GitLab:
		return base + "/" + loc.path + "/-/commit/" + CommitPlaceholder
	case BitbucketCloud:
		return base + "/" + loc.path + "/commits/" + CommitPlaceholder
	case BitbucketServer:
		t := bitbucketServerTarget(loc, base)
		return t.APIURL + "/projects/" + t.Owner + "/repos/" + t.Repo + "/commits/" + CommitPlaceholder
	}
	return ""
}

// CommitURL fills a CommitURLTemplate with a hash ("" for an empty template).
func CommitURL(template, sha string) string {
	if template == "" {
		return ""
	}
	return strings.ReplaceAll(template, CommitPlaceholder, sha)
}
