package jolokia

// HealthRequests returns the bulk of one health read, with the optional
// LoadMap read when load is set: what ReadView posts to every node. The
// conformance test of test/env posts it to a real and a simulated node and
// compares their answers.
func HealthRequests(load bool) []Request {
	if load {
		return append([]Request(nil), healthRequests...)
	}
	return append([]Request(nil), healthRequests[:1]...)
}
