// Package github posts commit statuses to GitHub and GitHub Enterprise
// Server through the REST API: POST /repos/{owner}/{repo}/statuses/{sha}
// with a Bearer token, the versioned media type and X-GitHub-Api-Version,
// and reads the combined status (the newest status per context) back for
// dedupe. It tells GitHub's primary rate limit (403/429 with
// x-ratelimit-remaining 0 and x-ratelimit-reset) and secondary limits
// (retry-after, or a documented minute) from a plain 403, so the Queue
// waits as told. Descriptions are at most 140 characters; a superseded
// revision is shown as an error.
package github
