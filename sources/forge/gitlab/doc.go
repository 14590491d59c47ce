// Package gitlab posts commit statuses to GitLab (gitlab.com and
// self-managed) through POST /projects/:id/statuses/:sha, the project
// addressed by its numeric ID or URL-encoded path, with PRIVATE-TOKEN.
// States map to GitLab's job states: a rollout under way is running,
// then success, failed or canceled (superseded). GitLab cannot move a
// status to the state it is in: its 400 "Cannot transition status via
// :run from :running" means the state is already shown (ErrAlreadyPosted);
// so the description of a running status is the one of its first step
// until the state changes. 429 answers carry RateLimit-Reset and
// Retry-After; 409 (a concurrent update) is retried.
package gitlab
