// Package gitserver owns the real Git servers on loopback that ringops'
// tests talk to: sources/git's tests and the daemon's end-to-end tests
// (test/e2e) share this one implementation. It depends on nothing of
// ringops, so any package's tests can import it.
//
// What it runs, all from Debian packages (scripts/setup.sh installs them):
//
//   - Repo: a bare repository plus a working clone, driven with the git CLI
//     (write files, copy a directory tree in, commit, push, force-push,
//     reset to an older commit, delete the branch, push any ref such as
//     refs/pull/1/head). Pushes use the local file transport, so they never
//     show in a server's counters.
//   - HTTPServer: git http-backend through net/http/cgi on 127.0.0.1 and a
//     random port, with counters of ref advertisements (GET info/refs),
//     fetches (POST git-upload-pack), pushes and 401s (Counts); optional
//     basic auth with a token, HTTPS with a CA made for the server (CAFile),
//     pushes over HTTP; Stop and Start simulate a server that goes down and
//     comes back on the same URL.
//   - SSHServer: Debian's sshd on a loopback port with a generated host key,
//     a generated authorized client key (KeyFile), a known_hosts file for
//     clients (KnownHostsFile), a count of accepted logins; URL(repo.Bare)
//     is the repository's ssh:// URL.
//
// Every constructor takes the test (TB, which *testing.T and *testing.B
// satisfy), skips it when the needed binary is not installed, and stops
// what it started with t.Cleanup:
//
//	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
//	r.CopyDir("../../clusters-example", "")
//	first := r.CommitAndPush("example", nil)
//	srv := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
//	// ... point the daemon at srv.URL() ...
//	before := srv.Counts()
//	// ... one no-op poll ...
//	if d := srv.Counts().Sub(before); d.RefAdvertisements != 1 || d.Fetches != 0 { ... }
//
// The command cmd/gitserve serves a repository the same way outside tests
// (for `make demo`'s no-forge path):
//
//	gitserve -dir D -seed clusters-example [-branch main] [-pidfile F]
//
// creates the bare repository D/repo.git and the working clone D/work,
// commits the seed directory as the first commit, serves it with git
// http-backend on 127.0.0.1 (pushes over HTTP allowed), prints
//
//	url=http://127.0.0.1:PORT/git/repo.git
//	work=D/work
//
// on stdout, writes its pid to F (default D/gitserve.pid, removed on exit)
// and serves until SIGTERM or SIGINT. Commit in D/work and `git push`
// (origin is the bare repository) to publish a new revision.
package gitserver
