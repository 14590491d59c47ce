// Package gitea posts commit statuses to Gitea and Forgejo through POST
// /api/v1/repos/{owner}/{repo}/statuses/{sha} with "Authorization: token",
// and reads the combined status back for dedupe. States are Gitea's own
// (pending, success, failure, error; a superseded revision is an error).
// Its end-to-end tests run against a real Gitea built from
// code.gitea.io/gitea (test/gitea).
package gitea
