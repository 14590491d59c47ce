package main

import (
	"errors"
	"fmt"
	"github.com/ringops/ringops/sources/forge"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// bindSettings completes the flags not given on the command line, first
// from the environment (RINGOPS_<FLAG>, upper case, dashes as
// underscores: --leader-elect is RINGOPS_LEADER_ELECT), then from the
// config file (YAML, keys named as the flags: `repo: https://...`). The
// command line wins over the environment, which wins over the file.
// Repeatable flags take a YAML list or a comma-separated string.
func bindSettings(fs *pflag.FlagSet, configFile string) error {
	file := map[string]any{}
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return fmt.Errorf("--config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("--config %s: %w", configFile, err)
		}
		var unknown []string
		for k := range file {
			if fs.Lookup(k) == nil || k == "config" {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fmt.Errorf("--config %s: unknown settings %s (the keys are the flags of `ringops run --help`, without the dashes)", configFile, strings.Join(unknown, ", "))
		}
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" {
			return
		}
		env := "RINGOPS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			return
		}
		v, ok := file[f.Name]
		if !ok {
			return
		}
		if err := fs.Set(f.Name, settingString(v)); err != nil {
			errs = append(errs, fmt.Errorf("--config %s: %s: %w", configFile, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// settingString is a YAML value as a flag value.
func settingString(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// printSettings prints every setting of fs as YAML, sorted by name. The
// settings hold file paths, never secrets.
func printSettings(w io.Writer, fs *pflag.FlagSet) error {
	out := map[string]any{}
	fs.VisitAll(func(f *pflag.Flag) {
		switch f.Name {
		case "help", "print-config", "config":
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			out[f.Name] = sv.GetSlice()
			return
		}
		out[f.Name] = forge.RedactURL(f.Value.String())
	})
	b, err := yaml.Marshal(out)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
