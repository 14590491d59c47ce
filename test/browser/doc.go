// Package browser drives the daemon's status page in headless Chromium
// (Debian's chromium, through the Chrome DevTools Protocol with
// chromedp) during a rollout in the local world (test/env). It is a
// module of its own, so that ringops' go.mod never carries chromedp; the
// Makefile's test target runs it (about a minute, most of it the world's
// control plane and the two revisions' rollouts).
package browser
