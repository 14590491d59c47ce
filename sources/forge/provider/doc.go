// Package provider turns the repository URL and the --forge flags into the
// forge.Client of the right forge, and lists the forges' webhooks for the
// /hooks/<forge> endpoints. It is the one package that knows every forge
// subpackage, so that forge itself knows none: each forge is one line of
// its table (kinds, status client, webhook).
package provider
