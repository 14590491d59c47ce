// Package httpapi is the HTTP plumbing the forge clients share: JSON
// requests with a bounded answer, transport failures marked transient, and
// non-2xx answers turned into *forge.APIError with the forge's message and
// its retry hints (Retry-After, epoch reset headers).
package httpapi
