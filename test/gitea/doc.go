// Package gitea runs a real Gitea server on loopback for tests: the binary
// built from the code.gitea.io/gitea module by test/tools/gitea/build.sh
// (cached under ${RINGOPS_CACHE:-$HOME/.cache/ringops}/gitea/<version>/),
// with a generated app.ini (sqlite, INSTALL_LOCK, running as root allowed,
// offline, no mailer, no SSH, webhooks allowed to loopback), one admin user
// and its access token created through Gitea's own CLI, and helpers to
// create repositories, push commits over HTTP with git, read commit
// statuses back and register push webhooks. The server is stopped when the
// test ends; Stop and Start in between simulate a forge that goes down.
//
// Programs (test/gitea/cmd/forge, behind make demo) use the same server
// without a testing.TB: New sets one up in a directory, StartDetached runs
// it in a session of its own so that it outlives the program, Instance and
// Attach find it again from another process, StopDetached stops it (only
// if the pid is still that server's); CreateRepository, CommitAll,
// WaitForCommit, CommitStatuses, LatestStatuses and AddWebhook return
// errors where the test helpers fail the test.
package gitea
