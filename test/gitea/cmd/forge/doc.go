// Command forge runs a real Gitea on 127.0.0.1 for people, as the forge of
// the local GitOps loop that `make demo` shows: a repository the daemon
// (`ringops run`) polls, webhooks that make it poll at once, commit statuses
// that show its progress.
//
//	forge up       -dir D                  # start Gitea, create the repository; write D/env
//	forge seed     -dir D -from clusters-example   # commit a directory to main; print the hash
//	forge push     -dir D -message M       # commit the working copy D/work; print the hash
//	forge hook     -dir D -url http://127.0.0.1:PORT/hooks/gitea   # push webhook, signed
//	forge statuses -dir D -sha H [-watch] [-wait-summary success -timeout 10m]
//	forge port                             # print a free TCP port on 127.0.0.1
//	forge down     -dir D                  # stop Gitea, remove D
//
// up sets Gitea up in D/gitea (sqlite, one admin user "ringops" and its
// access token), starts it in a session of its own so that it outlives the
// command (pid in D/gitea.pid, log in D/gitea/web.log), creates the
// repository ringops/clusters (public unless -private), and writes:
//
//	D/token           the access token (mode 0600): git over HTTP, statuses, webhooks
//	D/webhook-secret  the secret webhooks are signed with (mode 0600)
//	D/env             shell lines: GITEA_URL, REPO_URL, FORGE_API_URL,
//	                  FORGE_REPOSITORY, GIT_USERNAME, TOKEN_FILE,
//	                  WEBHOOK_SECRET_FILE, WORK_DIR (printed by up as well)
//	D/work            the working copy seed and push commit from
//
// Secrets are only ever written to those files, never printed. statuses
// prints the latest status of each context, sorted by context; -watch
// prints the table again each time it changes; -wait-summary returns once
// the summary context ("ringops") reaches that state, and fails when it
// reaches another final state or on -timeout, printing the last table.
//
// Gitea comes from ${RINGOPS_GITEA_DIR}, else from the cache that
// test/tools/gitea/build.sh fills (10-15 minutes cold). Test-only tooling:
// never part of the ringops binary.
package main
