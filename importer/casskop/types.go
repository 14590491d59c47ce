package casskop

// The CassKop API as the importer reads it: the fields of
// db.orange.com_cassandraclusters.yaml (Orange's v2.1.0 CRD, versions v2
// and v1alpha1) and the fork's additions (cscetbon/casskop: envVars,
// keyspaceCleanupThreads, jmxConfiguration). Decoded from JSON after the
// MultiCasskop merge, so the json tags are CassKop's field names.

const (
	groupV2       = "db.orange.com/v2"
	groupV1alpha1 = "db.orange.com/v1alpha1"

	kindCassandraCluster = "CassandraCluster"
	kindMultiCasskop     = "MultiCasskop"
)

type object struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
}

type objectMeta struct {
	Name         string            `json:"name"`
	GenerateName string            `json:"generateName"`
	UID          string            `json:"uid"`
	Generation   any               `json:"generation"`
	Version      string            `json:"resourceVersion"`
	Created      any               `json:"creationTimestamp"`
	Finalizers   []any             `json:"finalizers"`
	Managed      []any             `json:"managedFields"`
	Owners       []any             `json:"ownerReferences"`
	Namespace    string            `json:"namespace"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
}

// cassandraCluster is a CassandraCluster of either version.
type cassandraCluster struct {
	object
	Spec   ccSpec   `json:"spec"`
	Status ccStatus `json:"status"`
}

// ccStatus: the seed list, and the rest of CassKop's status, not read.
type ccStatus struct {
	SeedList []string `json:"seedlist"`
	Rest     any      `json:"phase"`
	Action   any      `json:"lastClusterAction"`
	Status   any      `json:"lastClusterActionStatus"`
	Nodes    any      `json:"cassandraNodeStatus"`
	Racks    any      `json:"cassandraRackStatus"`
	Sub      any      `json:"initializingSubPhase"`
}

type localObjectReference struct {
	Name string `json:"name"`
}

type resources struct {
	Requests map[string]any `json:"requests"`
	Limits   map[string]any `json:"limits"`
}

type ccSpec struct {
	NodesPerRacks          *int32                `json:"nodesPerRacks"`
	CassandraImage         string                `json:"cassandraImage"`
	ImagePullPolicy        string                `json:"imagepullpolicy"`
	BootstrapImage         string                `json:"bootstrapImage"`
	ConfigBuilderImage     string                `json:"configBuilderImage"`
	InitContainerImage     string                `json:"initContainerImage"`
	InitContainerCmd       string                `json:"initContainerCmd"`
	ServerVersion          string                `json:"serverVersion"`
	ServerType             string                `json:"serverType"`
	Config                 map[string]any        `json:"config"`
	ConfigMapName          string                `json:"configMapName"`
	Resources              *resources            `json:"resources"`
	RunAsUser              *int64                `json:"runAsUser"`
	FSGroup                *int64                `json:"fsGroup"`
	ReadOnlyRootFilesystem *bool                 `json:"readOnlyRootFilesystem"`
	HardAntiAffinity       bool                  `json:"hardAntiAffinity"`
	Pod                    *podPolicy            `json:"pod"`
	Service                *servicePolicy        `json:"service"`
	DataCapacity           string                `json:"dataCapacity"`
	DataStorageClass       string                `json:"dataStorageClass"`
	StorageConfigs         []any                 `json:"storageConfigs"`
	SidecarConfigs         []any                 `json:"sidecarConfigs"`
	BackRestSidecar        map[string]any        `json:"backRestSidecar"`
	DeletePVC              bool                  `json:"deletePVC"`
	AutoPilot              bool                  `json:"autoPilot"`
	AutoUpdateSeedList     bool                  `json:"autoUpdateSeedList"`
	UnlockNextOperation    bool                  `json:"unlockNextOperation"`
	NoCheckStsAreEqual     bool                  `json:"noCheckStsAreEqual"`
	Debug                  bool                  `json:"debug"`
	GCStdout               bool                  `json:"gcStdout"`
	MaxPodUnavailable      *int32                `json:"maxPodUnavailable"`
	RestartCountBefore     int32                 `json:"restartCountBeforePodDeletion"`
	ImagePullSecret        *localObjectReference `json:"imagePullSecret"`
	ImageJolokiaSecret     *localObjectReference `json:"imageJolokiaSecret"`
	ServiceAccountName     string                `json:"serviceAccountName"`
	ShareProcessNamespace  *bool                 `json:"shareProcessNamespace"`
	EnvVars                []envVar              `json:"envVars"`
	KeyspaceCleanupThreads *int32                `json:"keyspaceCleanupThreads"`
	JMXConfiguration       map[string]any        `json:"jmxConfiguration"`
	Topology               topology              `json:"topology"`
	// CassKop's probe settings (probeFields), reported as not carried.
	LivenessFailureThreshold     any `json:"livenessFailureThreshold"`
	LivenessHealthCheckPeriod    any `json:"livenessHealthCheckPeriod"`
	LivenessHealthCheckTimeout   any `json:"livenessHealthCheckTimeout"`
	LivenessInitialDelaySeconds  any `json:"livenessInitialDelaySeconds"`
	LivenessSuccessThreshold     any `json:"livenessSuccessThreshold"`
	ReadinessFailureThreshold    any `json:"readinessFailureThreshold"`
	ReadinessHealthCheckPeriod   any `json:"readinessHealthCheckPeriod"`
	ReadinessHealthCheckTimeout  any `json:"readinessHealthCheckTimeout"`
	ReadinessInitialDelaySeconds any `json:"readinessInitialDelaySeconds"`
	ReadinessSuccessThreshold    any `json:"readinessSuccessThreshold"`
}

type podPolicy struct {
	Annotations map[string]string `json:"annotations"`
	Tolerations []any             `json:"tolerations"`
}

type servicePolicy struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type envVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom any    `json:"valueFrom"`
}

type topology struct {
	DC []dc `json:"dc"`
}

type dc struct {
	Name             string            `json:"name"`
	Labels           map[string]string `json:"labels"`
	Config           map[string]any    `json:"config"`
	Rack             []rack            `json:"rack"`
	NodesPerRacks    *int32            `json:"nodesPerRacks"`
	NumTokens        *int32            `json:"numTokens"`
	DataCapacity     string            `json:"dataCapacity"`
	DataStorageClass string            `json:"dataStorageClass"`
	Resources        *resources        `json:"resources"`
}

type rack struct {
	Name             string            `json:"name"`
	Labels           map[string]string `json:"labels"`
	Config           map[string]any    `json:"config"`
	RollingRestart   bool              `json:"rollingRestart"`
	RollingPartition int32             `json:"rollingPartition"`
}

// CassKop's defaults (api/v2/cassandracluster_types.go, CheckDefaults).
const (
	defaultImage          = "cassandra:3.11.10"
	defaultPullPolicy     = "Always"
	defaultServiceAccount = "cassandra-cluster-node"
	defaultRunAsUser      = 999
	defaultFSGroup        = 1
	defaultBootstrapImage = "orangeopensource/cassandra-bootstrap:0.1.9"
)

// known lists the fields each version's CRD declares, per level; a field
// not listed was pruned by the API server (CassKop never saw it).
var known = map[string]map[string][]string{
	groupV2: {
		"spec": {"autoPilot", "autoUpdateSeedList", "backRestSidecar", "bootstrapImage", "cassandraImage", "config",
			"configBuilderImage", "configMapName", "dataCapacity", "dataStorageClass", "debug", "deletePVC", "fsGroup",
			"hardAntiAffinity", "imageJolokiaSecret", "imagePullSecret", "imagepullpolicy", "livenessFailureThreshold",
			"livenessHealthCheckPeriod", "livenessHealthCheckTimeout", "livenessInitialDelaySeconds", "livenessSuccessThreshold",
			"maxPodUnavailable", "noCheckStsAreEqual", "nodesPerRacks", "pod", "readOnlyRootFilesystem",
			"readinessFailureThreshold", "readinessHealthCheckPeriod", "readinessHealthCheckTimeout",
			"readinessInitialDelaySeconds", "readinessSuccessThreshold", "resources", "restartCountBeforePodDeletion",
			"runAsUser", "serverType", "serverVersion", "service", "serviceAccountName", "shareProcessNamespace",
			"sidecarConfigs", "storageConfigs", "topology", "unlockNextOperation",
			// the fork's (cscetbon/casskop)
			"envVars", "keyspaceCleanupThreads", "jmxConfiguration"},
		"dc":   {"config", "dataCapacity", "dataStorageClass", "labels", "name", "nodesPerRacks", "rack", "resources"},
		"rack": {"config", "labels", "name", "rollingPartition", "rollingRestart"},
	},
	groupV1alpha1: {
		"spec": {"autoPilot", "autoUpdateSeedList", "backRestSidecar", "bootstrapImage", "cassandraImage", "configMapName",
			"dataCapacity", "dataStorageClass", "debug", "deletePVC", "fsGroup", "gcStdout", "hardAntiAffinity",
			"imageJolokiaSecret", "imagePullSecret", "imagepullpolicy", "initContainerCmd", "initContainerImage",
			"livenessFailureThreshold", "livenessHealthCheckPeriod", "livenessHealthCheckTimeout",
			"livenessInitialDelaySeconds", "livenessSuccessThreshold", "maxPodUnavailable", "noCheckStsAreEqual",
			"nodesPerRacks", "pod", "readOnlyRootFilesystem", "readinessFailureThreshold", "readinessHealthCheckPeriod",
			"readinessHealthCheckTimeout", "readinessInitialDelaySeconds", "readinessSuccessThreshold", "resources",
			"restartCountBeforePodDeletion", "runAsUser", "service", "serviceAccountName", "shareProcessNamespace",
			"sidecarConfigs", "storageConfigs", "topology", "unlockNextOperation"},
		"dc":   {"dataCapacity", "dataStorageClass", "labels", "name", "nodesPerRacks", "numTokens", "rack", "resources"},
		"rack": {"labels", "name", "rollingPartition", "rollingRestart"},
	},
}

// probeFields are CassKop's probe settings: ringops renders its own probes.
var probeFields = []string{"livenessFailureThreshold", "livenessHealthCheckPeriod", "livenessHealthCheckTimeout",
	"livenessInitialDelaySeconds", "livenessSuccessThreshold", "readinessFailureThreshold", "readinessHealthCheckPeriod",
	"readinessHealthCheckTimeout", "readinessInitialDelaySeconds", "readinessSuccessThreshold"}

// pointerFields are the spec fields CassKop declares as pointers: a
// MultiCasskop override's 0 or false sets them (mergo overrides with any
// non-nil pointer); any other field's zero value leaves the base's.
var pointerFields = map[string]bool{
	"readOnlyRootFilesystem": true, "shareProcessNamespace": true, "runAsUser": true, "fsGroup": true,
	"livenessFailureThreshold": true, "livenessHealthCheckPeriod": true, "livenessHealthCheckTimeout": true,
	"livenessInitialDelaySeconds": true, "livenessSuccessThreshold": true, "readinessFailureThreshold": true,
	"readinessHealthCheckPeriod": true, "readinessHealthCheckTimeout": true, "readinessInitialDelaySeconds": true,
	"readinessSuccessThreshold": true, "keyspaceCleanupThreads": true,
}
