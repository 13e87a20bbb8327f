package webhook

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

func namespace(name, mode string) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mode != "" {
		ns.Labels = map[string]string{sticky.LabelMode: mode}
	}
	return ns
}

// countingReader counts GETs and can fail them.
func countingReader(gets *int, fail error, objs ...client.Object) client.Reader {
	return fake.NewClientBuilder().WithScheme(NewScheme()).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			*gets++
			if fail != nil {
				return fail
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("the request path never lists")
		},
	}).Build()
}

func TestCacheModes(t *testing.T) {
	var cacheGets, apiGets int
	synced := true
	m := &CacheModes{
		Cache:  countingReader(&cacheGets, nil, namespace("cached", "enforce"), namespace("bare", "")),
		API:    countingReader(&apiGets, nil, namespace("cached", "audit"), namespace("new", "audit")),
		Synced: func() bool { return synced },
	}
	ctx := context.Background()

	v, found, err := m.ModeLabel(ctx, "cached")
	require.NoError(t, err)
	assert.Equal(t, "enforce", v, "read from the cache")
	assert.True(t, found)
	assert.Equal(t, 0, apiGets)

	_, found, err = m.ModeLabel(ctx, "bare")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Equal(t, 0, apiGets)

	v, found, err = m.ModeLabel(ctx, "new")
	require.NoError(t, err)
	assert.Equal(t, "audit", v, "not cached yet: one GET")
	assert.True(t, found)
	assert.Equal(t, 1, apiGets)

	_, found, err = m.ModeLabel(ctx, "gone")
	require.NoError(t, err)
	assert.False(t, found)

	synced = false
	cacheGets, apiGets = 0, 0
	v, _, err = m.ModeLabel(ctx, "cached")
	require.NoError(t, err)
	assert.Equal(t, "audit", v, "cache not synced: the API answers")
	assert.Equal(t, 0, cacheGets)
	assert.Equal(t, 1, apiGets)

	m.API = countingReader(&apiGets, errors.New("connection refused"))
	_, _, err = m.ModeLabel(ctx, "cached")
	assert.ErrorContains(t, err, "connection refused")
}
