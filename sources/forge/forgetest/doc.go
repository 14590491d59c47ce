// Package forgetest holds what the forge clients' tests share: a Clock that
// moves only when told (so rate-limit waits, backoff and throttle windows
// are inspected, never slept), and a loopback Server that plays a recorded
// Contract — request/response pairs taken from a forge's public API
// documentation — and fails the test on any request that differs from the
// contract.
package forgetest
