package casskop

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/ringops/ringops/schemas"
)

// rackConfig is the configuration CassKop gave one rack: spec.config,
// then its datacenter's, then its own, the last value winning.
type rackConfig struct {
	where string // "dc1/rack1" (in <context>)
	cfg   map[string]any
}

func (c *conv) rackConfigs() []rackConfig {
	var out []rackConfig
	for _, rg := range c.r.regions {
		cc := rg.cc
		for _, d := range cc.Spec.Topology.DC {
			racks := d.Rack
			if len(racks) == 0 {
				racks = []rack{{Name: "rack1"}}
			}
			for _, rk := range racks {
				eff := map[string]any{}
				mergeConfig(eff, cc.Spec.Config)
				mergeConfig(eff, d.Config)
				mergeConfig(eff, rk.Config)
				if d.NumTokens != nil && c.r.version == groupV1alpha1 {
					mergeConfig(eff, map[string]any{"cassandra-yaml": map[string]any{"num_tokens": int(*d.NumTokens)}})
				}
				out = append(out, rackConfig{where: d.Name + "/" + rk.Name, cfg: eff})
			}
		}
	}
	return out
}

// mergeConfig merges src over dst: mappings key by key, anything else
// replaced (a zero value too).
func mergeConfig(dst, src map[string]any) { mergeMaps(dst, src, true) }

// config carries the config-builder sections every rack agrees on:
// cassandra-yaml as it is, jvm-options as JVM flags; and CassKop's heap
// (a quarter of the memory limit) unless the options set one.
func (c *conv) config() {
	racks := c.rackConfigs()
	sections := map[string]bool{}
	for _, rc := range racks {
		for k := range rc.cfg {
			sections[k] = true
		}
	}
	cfg := &schemas.Config{}
	jvm := map[string]any{}
	for _, sec := range slices.Sorted(maps.Keys(sections)) {
		agreed := c.agreed(racks, sec)
		switch sec {
		case "cassandra-yaml":
			if v, ok := agreed["auto_bootstrap"]; ok && v != true {
				c.f.warn("spec.config.cassandra-yaml.auto_bootstrap", fmt.Sprintf("%v: not carried; ringops bootstraps every new node", v), "")
				delete(agreed, "auto_bootstrap")
			}
			if len(agreed) > 0 {
				cfg.CassandraYAML = agreed
				c.comment("spec.config.cassandra-yaml", "from the config.cassandra-yaml of spec, datacenters and racks (the same in every rack)")
			}
		case "jvm-options", "jvm-server-options":
			maps.Copy(jvm, agreed)
		default:
			c.f.warn("spec.config."+sec, "a config-builder section ringops does not render: not carried", "carry what matters into spec.config.cassandra-yaml or spec.config.jvm-options")
		}
	}
	cfg.JVMOptions = c.jvmFlags(jvm)
	if len(cfg.JVMOptions) > 0 {
		c.comment("spec.config.jvm-options", "from config.jvm-options and CassKop's heap sizing (a quarter of the memory limit)")
	}
	if _, ok := sections["cassandra-yaml"]; !ok || cfg.CassandraYAML["num_tokens"] == nil {
		c.f.note("spec.config.cassandra-yaml.num_tokens", "not set: new nodes get the image's default (256 on 3.11, 16 on 4.0 and later); running nodes keep their tokens",
			"set num_tokens to what nodetool ring shows your nodes own, so that new nodes match")
	}
	if cfg.CassandraYAML != nil || cfg.JVMOptions != nil {
		c.spec.Spec.Config = cfg
	}
}

// agreed returns the keys of section sec whose value every rack shares;
// the others are reported.
func (c *conv) agreed(racks []rackConfig, sec string) map[string]any {
	keys := map[string]bool{}
	for _, rc := range racks {
		if m, ok := rc.cfg[sec].(map[string]any); ok {
			for k := range m {
				keys[k] = true
			}
		}
	}
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		var vals []string
		var v0 any
		same := true
		for i, rc := range racks {
			m, _ := rc.cfg[sec].(map[string]any)
			v, ok := m[k]
			if i == 0 {
				v0 = v
			}
			if !ok || !reflect.DeepEqual(v, v0) {
				same = false
			}
			vals = append(vals, fmt.Sprintf("%s: %v", rc.where, display(v, ok)))
		}
		if same {
			out[k] = v0
			continue
		}
		c.f.warn("config."+sec+"."+k, "differs between racks ("+strings.Join(vals, ", ")+"): not carried; ringops has one configuration per cluster",
			"choose one value and set it in spec.config, or keep the racks' own through a region's Component")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func display(v any, ok bool) string {
	if !ok {
		return "unset"
	}
	return fmt.Sprint(v)
}

// jvmFlags turns config-builder jvm-options into JVM flags.
func (c *conv) jvmFlags(opts map[string]any) []string {
	var flags []string
	flag := map[string]string{"initial_heap_size": "-Xms", "max_heap_size": "-Xmx", "heap_size_young_generation": "-Xmn", "max_direct_memory": "-XX:MaxDirectMemorySize="}
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v := fmt.Sprint(opts[k])
		if f, ok := flag[k]; ok {
			flags = append(flags, f+v)
			continue
		}
		c.f.warn("config.jvm-options."+k, v+": a config-builder option ringops does not translate: not carried",
			"write the JVM flag it stands for into spec.config.jvm-options")
	}
	if _, ok := opts["max_heap_size"]; !ok {
		flags = append(c.heap(), flags...)
	}
	return flags
}

// heap is CassKop's heap: max = memory limit / 4, initial = max / 4;
// 2048M and 512M without a limit. Nothing when datacenters differ.
func (c *conv) heap() []string {
	limits := map[string]bool{}
	var mem string
	for _, d := range c.spec.Spec.Datacenters {
		r := d.Resources
		if r == nil {
			r = c.spec.Spec.Resources
		}
		mem = ""
		if r != nil {
			mem = r.Limits["memory"]
		}
		limits[mem] = true
	}
	if len(c.spec.Spec.Datacenters) == 0 && c.spec.Spec.Resources != nil {
		mem = c.spec.Spec.Resources.Limits["memory"]
		limits[mem] = true
	}
	if len(limits) > 1 {
		c.f.warn("spec.resources", "the datacenters' memory limits differ, so did CassKop's heap sizes (a quarter of the limit): the heap is not carried",
			"set -Xmx and -Xms in spec.config.jvm-options")
		return nil
	}
	maxMB, initMB := int64(2048), int64(512)
	if mem != "" {
		q, err := resource.ParseQuantity(mem)
		if err != nil {
			return nil
		}
		maxMB = q.Value() / 4 / (1 << 20)
		initMB = maxMB / 4
	}
	if maxMB < 1 || initMB < 1 {
		return nil
	}
	return []string{fmt.Sprintf("-Xms%dM", initMB), fmt.Sprintf("-Xmx%dM", maxMB)}
}
