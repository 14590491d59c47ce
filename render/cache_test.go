package render

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheRemembersRenders(t *testing.T) {
	r := New(DefaultOptions())
	fsys := regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "commonAnnotations: {region: eu}\n",
	})
	c := ordersCluster(t)
	render := func() *Manifests {
		m, err := r.Render(context.Background(), fsys, "clusters/orders", c, "eu-west")
		require.NoError(t, err)
		return m
	}
	before := builds.Load()
	first := render()
	want := string(first.YAML())
	built := make([]any, len(first.Objects))
	for i, u := range first.Objects {
		built[i] = u.DeepCopy().Object
	}
	first.Objects[0].SetName("modified-by-the-caller")
	second := render()
	assert.Equal(t, int64(1), builds.Load()-before, "the second render is remembered")
	assert.Equal(t, want, string(second.YAML()), "what a caller does to its objects does not reach the cache")
	remembered := make([]any, len(second.Objects))
	for i, u := range second.Objects {
		remembered[i] = u.Object
	}
	assert.Equal(t, built, remembered, "a remembered render is the built one, value for value and type for type (int64, not float64)")

	fsys[regionFile].Data = []byte(componentHeader + "commonAnnotations: {region: europe}\n")
	assert.Contains(t, string(render().YAML()), "region: europe", "a changed Component file is rendered again")
	assert.Equal(t, int64(2), builds.Load()-before)

	c.Spec.Image = "cassandra:4.1.6"
	assert.Contains(t, string(render().YAML()), "cassandra:4.1.6", "a changed spec is rendered again")
	assert.Equal(t, int64(3), builds.Load()-before)
}

func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	r := New(Options{CacheEntries: 1})
	c := ordersCluster(t)
	render := func(kc string) {
		_, err := r.Render(context.Background(), regionFS(nil), "clusters/orders", c, kc)
		require.NoError(t, err)
	}
	before := builds.Load()
	render("eu-west")
	render("eu-west")
	render("us-east") // evicts eu-west
	render("eu-west")
	assert.Equal(t, int64(3), builds.Load()-before)
}

func TestCacheDisabled(t *testing.T) {
	r := New(Options{CacheEntries: -1})
	before := builds.Load()
	for range 2 {
		_, err := r.Render(context.Background(), regionFS(nil), "clusters/orders", ordersCluster(t), "eu-west")
		require.NoError(t, err)
	}
	assert.Equal(t, int64(2), builds.Load()-before)
}
