// Package gitea runs a real Gitea server on loopback for tests: the binary
// built from the code.gitea.io/gitea module by test/tools/gitea/build.sh
// (cached under ${RINGOPS_CACHE:-$HOME/.cache/ringops}/gitea/<version>/),
// with a generated app.ini (sqlite, INSTALL_LOCK, running as root allowed,
// offline, no mailer, no SSH, webhooks allowed to loopback), one admin user
// and its access token created through Gitea's own CLI, and helpers to
// create repositories, push commits over HTTP with git, read commit
// statuses back and register push webhooks. The server is stopped when the
// test ends; Stop and Start in between simulate a forge that goes down.
package gitea
