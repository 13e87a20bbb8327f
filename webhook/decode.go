package webhook

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
)

// decodeObject decodes the raw object of a review into obj, a fresh typed
// object of the route's kind. It decodes the way the universal deserializer
// (admission.Decoder) does for a typed object, with sigs.k8s.io/json,
// case-sensitive and preserving integers, but without first reading the
// whole document once more just to find its apiVersion and kind: the route
// fixes the type. A document that names another kind is rejected, as the
// deserializer does; a missing apiVersion or kind means the route's, as the
// deserializer's defaulting does (the object's TypeMeta is left as sent). (This decode was a third of a review's
// cost in BenchmarkReview*; see bench/RESULTS.md.)
func decodeObject(raw []byte, obj runtime.Object, gvk schema.GroupVersionKind) error {
	if len(raw) == 0 {
		return errors.New("there is no content to decode")
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, obj); err != nil {
		return err
	}
	got := obj.GetObjectKind().GroupVersionKind()
	if (got.Kind != "" && got.Kind != gvk.Kind) || (got.Version != "" && got.GroupVersion() != gvk.GroupVersion()) {
		return fmt.Errorf("the object is a %s, this path admits %s", got, gvk)
	}
	return nil
}
