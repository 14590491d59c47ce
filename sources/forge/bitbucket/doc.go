// Package bitbucket posts build statuses to Bitbucket Cloud (POST
// /2.0/repositories/{workspace}/{slug}/commit/{sha}/statuses/build) and
// Bitbucket Server / Data Center 7.4+ (POST
// {base}/rest/api/latest/projects/{key}/repos/{slug}/commits/{sha}/builds).
// A status is keyed by the SHA-1 of its context (40 characters, within
// both products' limits) so that a new state replaces the old one; the
// context is its name, the url is required (the repository's page when
// the status has none). Auth is a Bearer access token, or basic auth with
// a username. A 429 waits for Retry-After, or a minute when there is none.
package bitbucket
