package schemas

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // window time zones validate the same on every machine

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ringops/ringops/internal/contract"
)

// imageReference is the docker reference grammar (distribution/reference):
// [registry[:port]/]path[:tag][@sha256:digest], the path in lower case.
var imageReference = func() *regexp.Regexp {
	const (
		alnum       = `[a-z0-9]+`
		separator   = `(?:[._]|__|-+)`
		pathComp    = alnum + `(?:` + separator + alnum + `)*`
		domainComp  = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		domainName  = domainComp + `(?:\.` + domainComp + `)*`
		ipv6        = `\[[a-fA-F0-9:]+\]`
		domain      = `(?:` + domainName + `|` + ipv6 + `)(?::[0-9]+)?`
		name        = `(?:` + domain + `/)?` + pathComp + `(?:/` + pathComp + `)*`
		tag         = `[\w][\w.-]{0,127}`
		digest      = `sha256:[a-f0-9]{64}`
		fullPattern = `^` + name + `(?::` + tag + `)?(?:@` + digest + `)?$`
	)
	return regexp.MustCompile(fullPattern)
}()

// maxImageName is the longest repository name (without tag and digest).
const maxImageName = 255

func (v *validator) image(field, ref string, required bool) {
	if ref == "" {
		if required {
			v.add(field, "required: the Cassandra image, e.g. cassandra:4.1.5")
		}
		return
	}
	if !imageReference.MatchString(ref) {
		hint := ""
		if strings.ToLower(ref) != ref && imageReference.MatchString(strings.ToLower(ref)) {
			hint = " (the path must be lower case)"
		}
		v.add(field, "%q is not a valid image reference%s: expected [registry[:port]/]path[:tag][@sha256:<64 hex digits>], e.g. cassandra:4.1.5", truncate(ref, 80), hint)
		return
	}
	name, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	if len(name) > maxImageName {
		v.add(field, "image name is %d characters, over the limit of %d", len(name), maxImageName)
	}
}

// enum checks value against the enum tag of the field json-named name in
// the struct type of zero.
func (v *validator) enum(field, value string, zero any, name string) {
	info := structInfoOf(reflect.TypeOf(zero))
	allowed := info.fields[info.byName[name]].enum
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.add(field, "%q is not one of %s", value, strings.Join(allowed, ", "))
}

// resourceNames are the container resources a spec may set, besides
// hugepages-<size>.
var resourceNames = map[string]bool{"cpu": true, "memory": true, "ephemeral-storage": true}

func (v *validator) resources(field string, r *Resources) {
	if r == nil {
		return
	}
	req := v.quantities(field+".requests", r.Requests)
	lim := v.quantities(field+".limits", r.Limits)
	for _, name := range sortedKeys(req) {
		if l, ok := lim[name]; ok && req[name].Cmp(*l) > 0 {
			v.add(keyPath(field+".requests", name), "request %s is above the limit %s; lower the request or raise the limit", r.Requests[name], r.Limits[name])
		}
	}
}

// quantities parses a resource list, reporting bad names and values.
func (v *validator) quantities(field string, list map[string]string) map[string]*resource.Quantity {
	out := map[string]*resource.Quantity{}
	for _, name := range sortedKeys(list) {
		p := keyPath(field, name)
		if !isResourceName(name) {
			v.add(p, "unknown resource %q; expected cpu, memory, ephemeral-storage or hugepages-<page size> (e.g. hugepages-2Mi)", name)
			continue
		}
		q, err := resource.ParseQuantity(list[name])
		switch {
		case err != nil:
			v.add(p, "%q is not a quantity; write e.g. 8Gi, 500m or \"2\"", truncate(list[name], 40))
		case q.Sign() < 0:
			v.add(p, "%s is negative", list[name])
		default:
			out[name] = &q
		}
	}
	return out
}

func isResourceName(name string) bool {
	if resourceNames[name] {
		return true
	}
	size, ok := strings.CutPrefix(name, "hugepages-")
	if !ok {
		return false
	}
	q, err := resource.ParseQuantity(size)
	return err == nil && q.Sign() > 0
}

func (v *validator) storage() {
	s := v.c.Spec.Storage
	if s.Size == "" {
		v.add("spec.storage.size", "required: the size of each node's data volume, e.g. 100Gi")
	} else if q, err := resource.ParseQuantity(s.Size); err != nil {
		v.add("spec.storage.size", "%q is not a quantity; write e.g. 100Gi", truncate(s.Size, 40))
	} else if q.Sign() <= 0 {
		v.add("spec.storage.size", "%s must be more than zero", s.Size)
	}
	if s.StorageClassName != "" {
		v.subdomain("spec.storage.storageClassName", s.StorageClassName, "StorageClass name")
	}
}

func (v *validator) config() {
	cfg := v.c.Spec.Config
	if cfg == nil {
		return
	}
	if val, ok := cfg.CassandraYAML["auto_bootstrap"]; ok && val != true {
		v.add("spec.config.cassandra-yaml.auto_bootstrap", "%s turns bootstrap off: %s", truncate(fmt.Sprint(val), 40), noAutoBootstrap)
	}
	for i, opt := range cfg.JVMOptions {
		p := fmt.Sprintf("spec.config.jvm-options[%d]", i)
		switch {
		case !strings.HasPrefix(opt, "-") || strings.TrimSpace(opt) != opt:
			v.add(p, "%q is not a JVM option: options start with '-', one per list item, e.g. -Xmx8G", truncate(opt, 40))
		case disablesBootstrap(opt):
			v.add(p, "%s turns bootstrap off (any value but true does): %s", truncate(opt, 60), noAutoBootstrap)
		}
	}
}

// noAutoBootstrap says why auto_bootstrap must stay true: Cassandra then
// skips the bootstrap of every new node (StorageService.shouldBootstrap),
// as it does for a seed, and the node joins NORMAL owning token ranges
// while holding none of their data; the ring looks healthy.
const noAutoBootstrap = "each new node would join owning token ranges but none of their data, and the ring would look healthy; " +
	"remove it (ringops bootstraps every new node, Cassandra's default)"

// bootstrapOption is the word of an environment value (JVM_OPTS,
// JVM_EXTRA_OPTS: the image's cassandra-env.sh passes them to the JVM)
// that turns auto_bootstrap off, "" if none.
func bootstrapOption(val string) string {
	for _, w := range strings.Fields(val) {
		if disablesBootstrap(w) {
			return w
		}
	}
	return ""
}

// disablesBootstrap reports a JVM option that turns auto_bootstrap off:
// Cassandra reads -Dcassandra.auto_bootstrap over cassandra.yaml, and
// any value but "true" (in any case), or none, is false.
func disablesBootstrap(opt string) bool {
	const prop = "-Dcassandra.auto_bootstrap"
	if opt == prop {
		return true
	}
	val, ok := strings.CutPrefix(opt, prop+"=")
	return ok && !strings.EqualFold(val, "true")
}

func (v *validator) jolokia() {
	j := v.c.Spec.Jolokia
	if j == nil {
		return
	}
	if j.Port != nil && (*j.Port < 1 || *j.Port > 65535) {
		v.add("spec.jolokia.port", "%d is not a port; use 1 to 65535 (default %d)", *j.Port, DefaultJolokiaPort)
	}
	if j.CredentialsSecret != "" && j.CredentialsSecret != JolokiaCredentialsNone {
		v.subdomain("spec.jolokia.credentialsSecret", j.CredentialsSecret, "Secret name")
	}
	if len(j.Rotate) > maxRotateToken || strings.ContainsFunc(j.Rotate, func(r rune) bool { return r < ' ' || r > '~' }) {
		v.add("spec.jolokia.rotate", "%q: use at most %d printable ASCII characters, e.g. a date", truncate(j.Rotate, 80), maxRotateToken)
	}
	if j.AgentImage != JolokiaAgentNone {
		v.image("spec.jolokia.agentImage", j.AgentImage, false)
	}
	v.jolokiaTLS(j)
	v.jolokiaNetworkPolicy(j.NetworkPolicy)
}

// maxRotateToken bounds spec.jolokia.rotate and spec.cql.rotate (annotation
// values).
const maxRotateToken = 128

func (v *validator) rollout() {
	r := v.c.Spec.Rollout
	if r == nil {
		return
	}
	if d, ok := v.duration("spec.rollout.healthTimeout", r.HealthTimeout); ok && d <= 0 {
		v.add("spec.rollout.healthTimeout", "%s must be more than zero (default %s)", r.HealthTimeout, DefaultHealthTimeout)
	}
	if d, ok := v.duration("spec.rollout.settle", r.Settle); ok && d < 0 {
		v.add("spec.rollout.settle", "%s is negative; use 0s for no pause", r.Settle)
	}
	for i, w := range r.Windows {
		v.window(fmt.Sprintf("spec.rollout.windows[%d]", i), w)
	}
}

// duration parses a Go duration, reporting an unreadable one.
func (v *validator) duration(field, s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil {
		v.add(field, "%q is not a duration; write a Go duration such as 30m, 1h30m or 10s", truncate(s, 40))
		return 0, false
	}
	return d, true
}

// scheduleEpoch is the fixed instant from which a window must open at
// least once (robfig/cron looks five years ahead), so that the result does
// not depend on the day validation runs.
var scheduleEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (v *validator) window(p string, w Window) {
	switch {
	case w.Schedule == "":
		v.add(p+".schedule", "required: a cron expression of when the window opens, e.g. \"0 1 * * *\" or \"@daily\"")
	case strings.HasPrefix(w.Schedule, "TZ=") || strings.HasPrefix(w.Schedule, "CRON_TZ="):
		v.add(p+".schedule", "%q sets a time zone inside the schedule; use the window's timeZone field instead", truncate(w.Schedule, 60))
	default:
		v.schedule(p+".schedule", w.Schedule)
	}
	if w.Duration == "" {
		v.add(p+".duration", "required: how long the window stays open, e.g. 4h")
	} else if d, ok := v.duration(p+".duration", w.Duration); ok && d <= 0 {
		v.add(p+".duration", "%s must be more than zero", w.Duration)
	}
	switch _, err := time.LoadLocation(w.TimeZone); {
	case w.TimeZone == "":
	case w.TimeZone == "Local":
		v.add(p+".timeZone", "\"Local\" depends on the machine ringops runs on; name an IANA time zone such as Europe/Paris, or leave it out for UTC")
	case err != nil:
		v.add(p+".timeZone", "%q is not an IANA time zone; use e.g. Europe/Paris, America/New_York or UTC", truncate(w.TimeZone, 60))
	}
}

func (v *validator) schedule(field, spec string) {
	sched, err := ParseSchedule(spec)
	if err != nil {
		v.add(field, "%q is not a cron schedule (%v); use 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 1 * * *\", or a descriptor such as @daily", truncate(spec, 60), err)
		return
	}
	if sched.Next(scheduleEpoch).IsZero() {
		v.add(field, "%q never opens (no such date); check the day of month and month", spec)
	}
}

// ParseSchedule parses a change window's schedule, a 5-field cron
// expression or descriptor, turning a panic of the cron parser into an
// error: what validation accepts is what the planner reads.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

func (v *validator) pod() {
	p := v.c.Spec.Pod
	if p == nil {
		return
	}
	v.labels("spec.pod.labels", p.Labels)
	v.annotations("spec.pod.annotations", p.Annotations)
	if p.ServiceAccountName != "" {
		v.subdomain("spec.pod.serviceAccountName", p.ServiceAccountName, "ServiceAccount name")
	}
	if t := p.TerminationGracePeriodSeconds; t != nil && *t < 0 {
		v.add("spec.pod.terminationGracePeriodSeconds", "%d is negative; at least 0 (default %d)", *t, DefaultTerminationGracePeriod)
	}
}

// reservedEnv are the variables ringops sets itself, with where from.
var reservedEnv = map[string]string{
	"CASSANDRA_CLUSTER_NAME":    "from metadata.name or spec.cassandraClusterName",
	"CASSANDRA_DC":              "from the datacenter's name",
	"CASSANDRA_RACK":            "from the rack's name",
	"CASSANDRA_SEEDS":           "from spec.seedsPerDatacenter",
	"CASSANDRA_ENDPOINT_SNITCH": "to GossipingPropertyFileSnitch",
	"JOLOKIA_USER":              "from spec.jolokia.credentialsSecret",
	"JOLOKIA_PASSWORD":          "from spec.jolokia.credentialsSecret",
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) env() {
	for _, name := range sortedKeys(v.c.Spec.Env) {
		p := keyPath("spec.env", name)
		if from, ok := reservedEnv[name]; ok {
			v.add(p, "%s is set by ringops (%s); remove it", name, from)
		} else if !envName.MatchString(name) {
			v.add(p, "%q is not a valid variable name: use letters, digits and '_', not starting with a digit", truncate(name, 40))
		} else if opt := bootstrapOption(v.c.Spec.Env[name]); opt != "" {
			v.add(p, "%s turns bootstrap off (any value but true does): %s", truncate(opt, 60), noAutoBootstrap)
		}
	}
}

func (v *validator) labels(field string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		p := keyPath(field, k)
		switch {
		case contract.Reserved(k):
			v.add(p, "label %s is set by ringops (its selectors depend on it); remove it", k)
		case len(validation.IsQualifiedName(k)) > 0:
			v.add(p, "%q is not a valid label key: %s", truncate(k, 80), k8sMessage(validation.IsQualifiedName(k)))
		case len(validation.IsValidLabelValue(labels[k])) > 0:
			v.add(p, "%q is not a valid label value: %s", truncate(labels[k], 80), k8sMessage(validation.IsValidLabelValue(labels[k])))
		}
	}
}

func (v *validator) annotations(field string, annotations map[string]string) {
	for _, k := range sortedKeys(annotations) {
		p := keyPath(field, k)
		switch {
		case strings.HasPrefix(k, contract.Prefix):
			v.add(p, "annotations under %s are set by ringops; remove it", contract.Prefix)
		case len(validation.IsQualifiedName(strings.ToLower(k))) > 0:
			v.add(p, "%q is not a valid annotation key: %s", truncate(k, 80), k8sMessage(validation.IsQualifiedName(strings.ToLower(k))))
		}
	}
}

// maxDNSDomain keeps seed names <pod>.<dnsDomain> within 253 characters
// for pod names of up to 63.
const maxDNSDomain = 253 - 64

func (v *validator) dnsDomain(field, domain string) {
	if msgs := validation.IsDNS1123Subdomain(domain); len(msgs) > 0 {
		v.add(field, "%q is not a valid DNS domain: %s", truncate(domain, 80), k8sMessage(msgs))
	} else if len(domain) > maxDNSDomain {
		v.add(field, "%q is %d characters; seed names <pod>.<dnsDomain> must stay within 253, so at most %d", truncate(domain, 80), len(domain), maxDNSDomain)
	}
}

func (v *validator) subdomain(field, name, what string) {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		v.add(field, "%q is not a valid %s: %s", truncate(name, 80), what, k8sMessage(msgs))
	}
}

var regexNote = regexp.MustCompile(`,? ?regex used for validation is '[^']*'`)

// k8sMessage joins apimachinery's validation messages, without the regular
// expressions they quote.
func k8sMessage(msgs []string) string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		m = regexNote.ReplaceAllString(m, "")
		m = strings.ReplaceAll(m, " ()", "")
		out[i] = strings.ReplaceAll(m, ",  or ", " or ")
	}
	return strings.Join(out, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
