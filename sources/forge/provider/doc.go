// Package provider turns the repository URL and the --forge flags into the
// forge.Client of the right forge (it is the one package that knows every
// forge subpackage, so that forge itself knows none).
package provider
